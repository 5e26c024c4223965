/* Guanxi analytics: the charts (Apache ECharts, vendored) and the run form's threshold presets.
   Data comes from <script type="application/json"> elements written by the server (json_script),
   so the pages carry no inline code. Every page still works without this file: the tables hold
   the same figures. */
(function () {
  "use strict";

  var CLASS_COLORS = { A: "#2b8a3e", B: "#e0a100", C: "#adb5bd" };
  var charts = [];

  function data(id) {
    var el = document.getElementById(id);
    if (!el) return null;
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }

  function pct(v) { return (Math.round(v * 10) / 10) + "%"; }

  function pareto(el) {
    var d = data("chart-pareto");
    if (!d || !window.echarts) return;
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    var marks = [];
    if (d.cutA != null) marks.push({ yAxis: d.cutA, name: d.t.cutA, label: { formatter: d.t.cutA + " " + d.cutA + "%" }, lineStyle: { color: CLASS_COLORS.A } });
    if (d.cutB != null) marks.push({ yAxis: d.cutB, name: d.t.cutB, label: { formatter: d.t.cutB + " " + d.cutB + "%" }, lineStyle: { color: "#b37f00" } });
    chart.setOption({
      animation: false,
      grid: { left: 48, right: 56, top: 36, bottom: 46 },
      legend: { top: 0, data: [d.t.bar, d.t.line] },
      tooltip: {
        trigger: "axis",
        axisPointer: { type: "shadow" },
        formatter: function (items) {
          var i = items[0].dataIndex;
          var head = d.byRank ? "#" + d.labels[i] : d.t.x + ": " + d.labels[i] + "%";
          return head + " (" + d.classes[i] + ")<br>" + d.t.bar + ": " + pct(d.bars[i]) + "<br>" + d.t.line + ": " + pct(d.line[i]);
        }
      },
      xAxis: {
        type: "category",
        data: d.labels.map(function (l) { return d.byRank ? String(l) : l + "%"; }),
        name: d.t.x, nameLocation: "middle", nameGap: 28,
        axisLabel: { interval: "auto", hideOverlap: true }
      },
      yAxis: [
        { type: "value", name: d.t.y, axisLabel: { formatter: "{value}%" }, splitLine: { lineStyle: { type: "dashed" } } },
        { type: "value", name: d.t.y2, min: 0, max: 100, axisLabel: { formatter: "{value}%" }, splitLine: { show: false } }
      ],
      series: [
        {
          name: d.t.bar, type: "bar", barCategoryGap: "15%",
          data: d.bars.map(function (v, i) { return { value: v, itemStyle: { color: CLASS_COLORS[d.classes[i]] || CLASS_COLORS.C } }; })
        },
        {
          name: d.t.line, type: "line", yAxisIndex: 1, smooth: false, symbol: d.labels.length > 30 ? "none" : "circle",
          data: d.line, lineStyle: { width: 2, color: "#1c64f2" }, itemStyle: { color: "#1c64f2" },
          markLine: { silent: true, symbol: "none", lineStyle: { type: "dashed", width: 1.5 }, label: { position: "insideEndBottom" }, data: marks }
        }
      ]
    });
    charts.push(chart);
  }

  var compact = (function () {
    try { return new Intl.NumberFormat(document.documentElement.lang || "zh-Hans", { notation: "compact" }); }
    catch (e) { return { format: function (v) { return String(v); } }; }
  })();

  function groups(el) {
    var d = data("chart-groups");
    if (!d || !window.echarts) return;
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    var labels = d.labels.slice().reverse();
    var values = d.values.slice().reverse();
    chart.setOption({
      animation: false,
      grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: function (v) { return "¥" + Number(v).toLocaleString(); } },
      xAxis: { type: "value", axisLabel: { formatter: function (v) { return compact.format(v); } } },
      yAxis: { type: "category", data: labels, axisLabel: { width: 140, overflow: "truncate" } },
      series: [{ name: d.t.value, type: "bar", data: values, itemStyle: { color: "#1c64f2" }, barMaxWidth: 22 }]
    });
    charts.push(chart);
  }

  function presets() {
    var form = document.querySelector("form[data-presets]");
    if (!form) return;
    var table = {};
    form.getAttribute("data-presets").split(";").forEach(function (p) {
      var parts = p.split(":");
      table[parts[0]] = parts[1] ? [parts[1], parts[2]] : null;
    });
    var select = form.querySelector("select[name=preset]");
    var a = form.querySelector("input[name=abc_a]");
    var b = form.querySelector("input[name=abc_b]");
    if (!select || !a || !b) return;
    function apply() {
      var v = table[select.value];
      if (v) { a.value = v[0]; b.value = v[1]; }
      a.readOnly = b.readOnly = !!v;
    }
    select.addEventListener("change", apply);
    apply();
  }

  function init() {
    document.querySelectorAll("[data-chart=pareto]").forEach(pareto);
    document.querySelectorAll("[data-chart=groups]").forEach(groups);
    presets();
  }

  document.addEventListener("DOMContentLoaded", init);
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
