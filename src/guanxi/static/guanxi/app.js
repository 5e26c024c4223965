/* Guanxi: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  // A thin progress bar while htmx requests run.
  document.addEventListener("htmx:beforeRequest", function () {
    var bar = document.getElementById("gx-progress");
    if (bar) bar.classList.add("htmx-request");
  });
  document.addEventListener("htmx:afterRequest", function () {
    var bar = document.getElementById("gx-progress");
    if (bar) bar.classList.remove("htmx-request");
  });

  // GET requests leave out empty parameters, so filter URLs stay short and shareable.
  document.addEventListener("htmx:configRequest", function (e) {
    var fd = e.detail.formData;
    if (!fd || String(e.detail.verb).toLowerCase() !== "get") return;
    var keys = [];
    fd.forEach(function (v, k) { if (keys.indexOf(k) < 0) keys.push(k); });
    keys.forEach(function (k) {
      var kept = fd.getAll(k).filter(function (v) { return v !== ""; });
      fd.delete(k);
      kept.forEach(function (v) { fd.append(k, v); });
    });
  });

  // "/" focuses the global search box (unless typing in a field).
  document.addEventListener("keydown", function (e) {
    if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    var box = document.querySelector(".gx-search input");
    if (box) { e.preventDefault(); box.focus(); box.select(); }
  });

  // Confirm dangerous actions (forms with data-confirm).
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var msg = form && form.getAttribute && form.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) e.preventDefault();
  }, true);

  // Copy buttons (data-copy="#selector").
  document.addEventListener("click", function (e) {
    var btn = e.target.closest && e.target.closest("[data-copy]");
    if (!btn) return;
    var src = document.querySelector(btn.getAttribute("data-copy"));
    if (src && navigator.clipboard) {
      navigator.clipboard.writeText(src.textContent.trim()).then(function () {
        var old = btn.innerHTML;
        btn.innerHTML = '<i class="bi bi-check2"></i>';
        setTimeout(function () { btn.innerHTML = old; }, 1200);
      });
    }
  });

  // On a phone the filter panel starts closed (the chips above the table show what is in use).
  function closeOnPhone(root) {
    if (window.matchMedia("(max-width: 767.98px)").matches) {
      (root || document).querySelectorAll("details[data-close-on-phone]").forEach(function (d) { d.open = false; });
    }
  }
  document.addEventListener("DOMContentLoaded", function () { closeOnPhone(document); });
  document.addEventListener("htmx:afterSettle", function (e) {
    var t = e.detail && e.detail.target;
    if (t && t.id === "customer-panel") closeOnPhone(document);
  });

  // The first field with an error gets the focus after a failed submit.
  document.addEventListener("DOMContentLoaded", function () {
    var bad = document.querySelector("form .is-invalid");
    if (bad && bad.focus) { bad.focus({ preventScroll: false }); }
  });
})();
