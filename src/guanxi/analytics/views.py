"""Web pages of customer analytics (C4): the overview with its runs, the ABC table with the Pareto
chart, the RFM segment grid, the churn warning list with its win-back action, best and slow
sellers, the main customer groups, XLSX exports and the analytics box of the customer card.

Thin: parse the request, call a selector (read) or a service (write), render. Service agents
have no analytics pages (403); records out of scope answer 404.
"""

from __future__ import annotations

import datetime
import json
import tempfile
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from guanxi.core import services as core_services
from guanxi.core.errors import Forbidden, NotFound, ValidationFailed
from guanxi.core.forms import apply_errors
from guanxi.customers import choices as cc

from . import selectors, services
from .forms import PRESETS, ExportForm, RunForm
from .math.churn import REASONS
from .math.rfm import SEGMENTS
from .models import RunState

NAV = "analytics"


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true" and not request.headers.get(
        "HX-History-Restore-Request"
    )


def _user(request):
    """The signed-in user, if the analytics pages are for them (not for service agents)."""
    if not selectors.may_see_analytics(request.user):
        raise PermissionDenied
    return request.user


def _run(request):
    try:
        return selectors.resolve_run(request.user, request.GET.get("run"))
    except NotFound:
        raise Http404()


def _tabs(active: str, user) -> list[dict[str, Any]]:
    tabs = [
        ("index", _("Overview"), "bi-speedometer2"),
        ("abc", _("ABC analysis"), "bi-bar-chart-line"),
        ("rfm", _("RFM segments"), "bi-grid-3x3-gap"),
        ("churn", _("Churn warning"), "bi-exclamation-triangle"),
        ("groups", _("Customer groups"), "bi-diagram-2"),
        ("products", _("Best and slow sellers"), "bi-box-seam"),
    ]
    return [{"name": n, "label": label, "icon": icon, "active": n == active} for n, label, icon in tabs]


def _acts_on_customers(user) -> bool:
    """Whether the user changes customers at all (proposes key accounts, plans win-back visits);
    each action still checks the customer itself."""
    return user.is_admin or user.role in ("manager", "account_manager")


def _base(request, active: str, run=None, **extra) -> dict[str, Any]:
    return {
        "nav_active": NAV,
        "tabs": _tabs(active, request.user),
        "run": run,
        "company": selectors.reads_company_figures(request.user),
        "can_export": selectors.can_export(request.user),
        "can_propose": _acts_on_customers(request.user),
        "can_winback": _acts_on_customers(request.user),
        "basis_label": selectors.abc_basis_label(run),
        **extra,
    }


def _pager(page) -> dict[str, Any]:
    return {
        "page": page,
        "first_row": page.offset + 1 if page.count else 0,
        "last_row": page.offset + len(page.items),
        "prev_offset": max(0, page.offset - page.limit),
        "next_offset": page.offset + page.limit,
        "last_offset": (page.page_count - 1) * page.limit,
    }


def _export_url(what: str, request, drop: Iterable[str] = ("offset",)) -> str:
    params = {k: v for k, v in request.GET.items() if k not in drop and v != ""}
    return reverse("analytics:export", args=[what]) + ("?" + urlencode(params) if params else "")


def _render_list(request, template: str, partial: str, ctx: dict[str, Any]):
    if _is_htmx(request) and request.headers.get("HX-Target") == "list":
        return render(request, partial, ctx)
    return render(request, template, ctx)


# --- overview and runs ----------------------------------------------------------------------------


@login_required
@vary_on_headers("HX-Request", "HX-Target")
def index(request):
    user = _user(request)
    may_start = selectors.may_start_run(user)
    form = None
    if request.method == "POST":
        if not may_start:
            raise PermissionDenied
        form = RunForm(request.POST)
        if form.is_valid():
            try:
                run = services.start_run(actor=user, data=form.run_data(), trigger="ui")
            except ValidationFailed as e:
                apply_errors(form, e)
            except Forbidden:
                raise PermissionDenied
            else:
                messages.success(
                    request,
                    _("Analysis as of %(date)s queued; the page updates when it is done.")
                    % {"date": run.as_of.isoformat()},
                )
                return redirect("analytics:index")
    elif may_start:
        form = RunForm()
    if _is_htmx(request) and request.headers.get("HX-Target") == "runs":
        ctx = _runs_context(request)
        response = render(request, "analytics/_runs.html", ctx)
        if not ctx["runs_busy"]:
            response["HX-Refresh"] = "true"  # only a page with a run under way polls: show its results
        return response
    run = selectors.latest_run(user)
    backtest = selectors.latest_backtest(user)
    ctx = _base(
        request,
        "index",
        run,
        form=form,
        presets=[{"key": k, "a": a, "b": b} for k, a, b, _label in PRESETS],
        params=selectors.run_parameters(run) if run else None,
        classes=selectors.abc_summary(user, run),
        segments=selectors.rfm_counts(user, run),
        top_churn=selectors.top_churn(user, run, n=10),
        at_risk=selectors.at_risk_count(user, run),
        counted=selectors.counted_customers(user, run),
        a_not_key=selectors.a_not_key_count(user, run) if run else 0,
        backtest=selectors.backtest_figures(backtest),
        **_runs_context(request),
    )
    return render(
        request, "analytics/index.html", ctx, status=422 if form is not None and form.errors else 200
    )


def _runs_context(request) -> dict[str, Any]:
    runs = list(selectors.runs(request.user)[:15])
    return {
        "runs": runs,
        "runs_busy": any(r.state in (RunState.QUEUED, RunState.RUNNING) for r in runs),
        "company": selectors.reads_company_figures(request.user),
    }


@login_required
def run_detail(request, pk: int):
    user = _user(request)
    try:
        run = selectors.get_run(user, pk)
    except NotFound:
        raise Http404()
    company = selectors.reads_company_figures(user)
    ctx = _base(
        request,
        "index",
        run,
        shown=run,
        params=selectors.run_parameters(run) if company else None,
        backtest=selectors.backtest_figures(run) if company else None,
        figures_json=json.dumps(run.figures, ensure_ascii=False, indent=2, default=str) if company else "",
    )
    return render(request, "analytics/run_detail.html", ctx)


# --- ABC --------------------------------------------------------------------------------------------


@login_required
@vary_on_headers("HX-Request", "HX-Target")
def abc(request):
    user = _user(request)
    run = _run(request)
    g = request.GET
    cls = g.get("cls", "")
    not_key = g.get("not_key") == "1"
    page = selectors.abc_list(
        user, run, cls=cls, not_key=not_key, owner=g.get("owner"), sort=g.get("sort", "rank"),
        limit=g.get("limit", 50), offset=g.get("offset", 0),
    )  # fmt: skip
    ctx = _base(
        request,
        "abc",
        run,
        cls=cls,
        not_key=not_key,
        owner=g.get("owner", ""),
        owners=selectors.owner_choices(user, run),
        classes=selectors.abc_summary(user, run),
        a_not_key=selectors.a_not_key_count(user, run),
        export_url=_export_url("abc", request),
        **_pager(page),
    )
    if not (_is_htmx(request) and request.headers.get("HX-Target") == "list"):
        pareto = selectors.pareto(user, run)
        ctx["pareto"] = pareto
        ctx["chart"] = _pareto_chart(pareto)
    return _render_list(request, "analytics/abc.html", "analytics/_abc_list.html", ctx)


def _pareto_chart(p: dict[str, Any]) -> dict[str, Any]:
    """What the page's script hands to ECharts (labels translated here, numbers from the selector)."""
    return {
        "labels": p["labels"],
        "bars": p["bars"],
        "line": p["line"],
        "classes": p["classes"],
        "cutA": round(100 * p["cut_a"], 1) if p.get("cut_a") else None,
        "cutB": round(100 * p["cut_b"], 1) if p.get("cut_b") else None,
        "byRank": p.get("by_rank", True),
        "t": {
            "bar": _("Share of value"),
            "line": _("Cumulative share"),
            "x": _("Customers by rank")
            if p.get("by_rank", True)
            else _("Top customers (share of all customers, %)"),
            "y": _("Share of value (%)"),
            "y2": _("Cumulative (%)"),
            "cutA": _("A ends"),
            "cutB": _("B ends"),
        },
    }


# --- RFM --------------------------------------------------------------------------------------------


@login_required
@vary_on_headers("HX-Request", "HX-Target")
def rfm(request):
    user = _user(request)
    run = _run(request)
    g = request.GET
    segment = g.get("segment", "")
    if segment not in SEGMENTS:
        segment = ""
    page = selectors.rfm_list(
        user, run, segment=segment, owner=g.get("owner"), sort=g.get("sort", "-value"),
        limit=g.get("limit", 50), offset=g.get("offset", 0),
    )  # fmt: skip
    ctx = _base(
        request,
        "rfm",
        run,
        segment=segment,
        segment_label=selectors.segment_label(segment),
        owner=g.get("owner", ""),
        owners=selectors.owner_choices(user, run),
        export_url=_export_url("rfm", request),
        **_pager(page),
    )
    if not (_is_htmx(request) and request.headers.get("HX-Target") == "list"):
        ctx["grid"] = selectors.rfm_grid(user, run)
    return _render_list(request, "analytics/rfm.html", "analytics/_rfm_list.html", ctx)


# --- churn warning and win-back ---------------------------------------------------------------------


@login_required
@vary_on_headers("HX-Request", "HX-Target")
def churn(request):
    user = _user(request)
    run = _run(request)
    g = request.GET
    reason = g.get("reason", "")
    page = selectors.churn_list(
        user, run, owner=g.get("owner"), min_risk=g.get("min_risk", selectors.DEFAULT_MIN_RISK),
        reason=reason, sort=g.get("sort", "-risk"), limit=g.get("limit", 50), offset=g.get("offset", 0),
    )  # fmt: skip
    ctx = _base(
        request,
        "churn",
        run,
        owner=g.get("owner", ""),
        owners=selectors.owner_choices(user, run),
        min_risk=int(float(page.filters["min_risk"])),
        reason=reason if reason in REASONS else "",
        reasons=[(code, selectors.REASON_LABELS[code]) for code in REASONS],
        export_url=_export_url("churn", request),
        **_pager(page),
    )
    return _render_list(request, "analytics/churn.html", "analytics/_churn_list.html", ctx)


@login_required
@require_POST
def winback(request, customer_pk: int):
    user = _user(request)
    try:
        plan, created = services.create_winback(actor=user, customer_id=customer_pk)
    except NotFound:
        raise Http404()
    except Forbidden:
        raise PermissionDenied
    if _is_htmx(request):
        _run_, score = selectors.churn_score(user, customer_pk)
        if score is None:  # no warning in the latest run: answer with the plan alone
            return HttpResponse('<span class="text-success small">' + _("Win-back task created.") + "</span>")
        ctx = {"s": score, "just_created": created, "can_winback": True}
        return render(request, "analytics/_churn_row.html", ctx)
    if created:
        messages.success(request, _("Win-back task created for %(owner)s.") % {"owner": plan.assignee})
    else:
        messages.info(request, _("A win-back task is already open for this customer."))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=False):
        back = reverse("analytics:churn")
    return redirect(back)


# --- best and slow sellers -------------------------------------------------------------------------


@login_required
@vary_on_headers("HX-Request", "HX-Target")
def products(request):
    user = _user(request)
    g = request.GET
    mode = "slow" if g.get("mode") == "slow" else "best"
    per = selectors.period(g.get("end"), g.get("months", 12))
    visible = selectors.products_visible(user)
    page = selectors.products(
        user, per=per, mode=mode, category=g.get("category"), sort=g.get("sort", ""),
        limit=g.get("limit", 50), offset=g.get("offset", 0),
    )  # fmt: skip
    ctx = _base(
        request,
        "products",
        None,
        mode=mode,
        per=per,
        months=per.months,
        end=per.last_month.strftime("%Y-%m"),
        visible=visible,
        category=g.get("category", ""),
        categories=selectors.product_categories(user) if visible else [],
        can_export=selectors.can_export_products(user),
        export_url=_export_url("products", request),
        **_pager(page),
    )
    return _render_list(request, "analytics/products.html", "analytics/_products_list.html", ctx)


# --- main customer groups --------------------------------------------------------------------------


@login_required
def groups(request):
    user = _user(request)
    run = _run(request)
    by = request.GET.get("by", "industry")
    page = selectors.groups(user, run, by=by, sort=request.GET.get("sort", "-value"))
    by = page.filters["by"]
    ctx = _base(
        request,
        "groups",
        run,
        by=by,
        groupings=list(selectors.GROUPINGS.items()),
        page=page,
        chart={
            "labels": [r["label"] for r in page.items[:12]],
            "values": [round(r["value"], 2) for r in page.items[:12]],
            "customers": [r["customers"] for r in page.items[:12]],
            "t": {"value": selectors.abc_basis_label(run), "customers": _("Customers")},
        },
        export_url=_export_url("groups", request),
    )
    return render(request, "analytics/groups.html", ctx)


# --- exports (a stated purpose, logged) -------------------------------------------------------------


def _fmt_date(d) -> Any:
    return d if isinstance(d, datetime.date) else ""


def _owner(s) -> str:
    return str(s.customer.owner)


def _score_rows(qs, run, columns) -> Iterable[list[Any]]:
    for s in selectors.export_rows(run, qs):
        yield [fn(s) for _label, fn in columns]


ABC_COLUMNS: list[tuple[Any, Callable]] = [
    (gettext_lazy("Rank"), lambda s: s.abc_rank),
    (gettext_lazy("Customer code"), lambda s: s.customer.code or ""),
    (gettext_lazy("Customer"), lambda s: s.customer.name),
    (gettext_lazy("Account manager"), _owner),
    (gettext_lazy("ABC class"), lambda s: s.abc_class),
    (gettext_lazy("Value in the period (CNY)"), lambda s: s.abc_value),
    (gettext_lazy("Share (%)"), lambda s: round(100 * s.abc_share, 4)),
    (gettext_lazy("Cumulative share (%)"), lambda s: round(100 * s.abc_cumulative, 4)),
    (gettext_lazy("Key account"), lambda s: _("Yes") if s.customer.is_key_account else _("No")),
]
RFM_COLUMNS: list[tuple[Any, Callable]] = [
    (gettext_lazy("Customer code"), lambda s: s.customer.code or ""),
    (gettext_lazy("Customer"), lambda s: s.customer.name),
    (gettext_lazy("Account manager"), _owner),
    (gettext_lazy("RFM segment"), lambda s: s.segment_label),
    ("R", lambda s: s.r_score),
    ("F", lambda s: s.f_score),
    ("M", lambda s: s.m_score),
    (gettext_lazy("Days since last purchase"), lambda s: s.recency_days),
    (gettext_lazy("Last purchase"), lambda s: _fmt_date(s.last_purchase)),
    (gettext_lazy("Repeat purchases"), lambda s: s.frequency),
    (gettext_lazy("Mean repeat purchase (CNY)"), lambda s: s.monetary),
    (gettext_lazy("Value in the period (CNY)"), lambda s: s.abc_value),
    (gettext_lazy("Probability alive"), lambda s: s.p_alive),
    (gettext_lazy("Customer lifetime value, 12 months (CNY)"), lambda s: s.clv),
]
CHURN_COLUMNS: list[tuple[Any, Callable]] = [
    (gettext_lazy("Customer code"), lambda s: s.customer.code or ""),
    (gettext_lazy("Customer"), lambda s: s.customer.name),
    (gettext_lazy("Account manager"), _owner),
    (gettext_lazy("Churn risk"), lambda s: round(s.churn_risk, 1)),
    (gettext_lazy("Reasons"), lambda s: "; ".join(s.reasons)),
    (gettext_lazy("Last purchase"), lambda s: _fmt_date(s.last_purchase)),
    (gettext_lazy("Days since last purchase"), lambda s: s.recency_days),
    (gettext_lazy("Probability alive"), lambda s: s.p_alive),
    (gettext_lazy("Expected purchases, 90 days"), lambda s: s.expected_90),
    (gettext_lazy("Customer lifetime value, 12 months (CNY)"), lambda s: s.clv),
    (gettext_lazy("ABC class"), lambda s: s.abc_class),
]
PRODUCT_COLUMNS: list[tuple[Any, Callable]] = [
    (gettext_lazy("Product code"), lambda r: r["code"]),
    (gettext_lazy("Product"), lambda r: r["name"]),
    (gettext_lazy("Category"), lambda r: r["category"]),
    (gettext_lazy("Revenue (CNY)"), lambda r: r["revenue"]),
    (gettext_lazy("Quantity"), lambda r: r["quantity"]),
    (gettext_lazy("Order lines"), lambda r: r["lines"]),
    (gettext_lazy("Previous period (CNY)"), lambda r: r["prev_revenue"]),
    (gettext_lazy("Growth (%)"), lambda r: round(r["growth"], 2) if r["growth"] is not None else ""),
    (gettext_lazy("Share (%)"), lambda r: round(r["share"], 4)),
]
GROUP_COLUMNS: list[tuple[Any, Callable]] = [
    (gettext_lazy("Group"), lambda r: r["label"]),
    (gettext_lazy("Customers"), lambda r: r["customers"]),
    (gettext_lazy("Value in the period (CNY)"), lambda r: r["value"]),
    (gettext_lazy("Share (%)"), lambda r: round(r["share"], 4)),
    (gettext_lazy("A customers"), lambda r: r["a_customers"]),
    (gettext_lazy("At risk of churning"), lambda r: r["at_risk"]),
    (gettext_lazy("Customer lifetime value, 12 months (CNY)"), lambda r: r["clv"]),
]
EXPORTS = {
    "abc": gettext_lazy("ABC analysis"),
    "rfm": gettext_lazy("RFM segments"),
    "churn": gettext_lazy("Churn warning list"),
    "products": gettext_lazy("Best and slow sellers"),
    "groups": gettext_lazy("Main customer groups"),
}
FILTER_KEYS = {
    "abc": ("run", "cls", "not_key", "owner", "sort"),
    "rfm": ("run", "segment", "owner", "sort"),
    "churn": ("run", "owner", "min_risk", "reason", "sort"),
    "products": ("mode", "end", "months", "category", "sort"),
    "groups": ("run", "by", "sort"),
}


def _export_rows(user, what: str, f: dict[str, str]) -> tuple[list[Any], Iterable[list[Any]], int]:
    """Headings, rows and the number of rows of one export, read with the action ``export``."""
    if what == "products":
        per = selectors.period(f.get("end"), f.get("months", 12))
        mode = "slow" if f.get("mode") == "slow" else "best"
        rows, _k, _d = selectors.sorted_products(
            user, per=per, mode=mode, category=f.get("category"), sort=f.get("sort", ""), action="export"
        )
        return (
            [c[0] for c in PRODUCT_COLUMNS],
            ([fn(r) for _l, fn in PRODUCT_COLUMNS] for r in rows),
            len(rows),
        )
    try:
        run = selectors.resolve_run(user, f.get("run"))
    except NotFound:
        raise Http404()
    if what == "groups":
        page = selectors.groups(user, run, by=f.get("by", "industry"), sort=f.get("sort", "-value"))
        rows = page.items if selectors.can_export(user) else []
        return [c[0] for c in GROUP_COLUMNS], ([fn(r) for _l, fn in GROUP_COLUMNS] for r in rows), len(rows)
    qs = selectors.export_scores(user, run, what, f)
    columns = {"abc": ABC_COLUMNS, "rfm": RFM_COLUMNS, "churn": CHURN_COLUMNS}[what]
    count = min(qs.count(), selectors.EXPORT_CAP)
    return [c[0] for c in columns], _score_rows(qs, run, columns), count


def _xlsx(title: str, headings: list[Any], rows: Iterable[list[Any]]) -> tuple[Any, int]:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=str(title)[:31])
    ws.append([str(h) for h in headings])
    n = 0
    for row in rows:
        ws.append(row)
        n += 1
    out = tempfile.TemporaryFile()
    wb.save(out)
    out.seek(0)
    return out, n


@login_required
def export(request, what: str):
    user = _user(request)
    if what not in EXPORTS:
        raise Http404()
    allowed = selectors.can_export_products(user) if what == "products" else selectors.can_export(user)
    if not allowed:
        raise PermissionDenied
    source = request.POST if request.method == "POST" else request.GET
    filters = {k: source[k].strip() for k in FILTER_KEYS[what] if source.get(k, "").strip()}
    form = ExportForm(request.POST or None)
    headings, rows, count = _export_rows(user, what, filters)
    if request.method == "POST" and form.is_valid():
        out, written = _xlsx(str(EXPORTS[what]), headings, rows)
        try:
            core_services.log_export(
                actor=user,
                what=f"analytics:{what}",
                filters=filters,
                purpose=form.cleaned_data["purpose"],
                row_count=written,
            )
        except ValidationFailed as e:
            out.close()
            apply_errors(form, e)
        else:
            stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
            return FileResponse(
                out,
                as_attachment=True,
                filename=f"guanxi-{what}-{stamp}.xlsx",
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
    back = reverse(f"analytics:{what}") + ("?" + urlencode(filters) if filters else "")
    ctx = {
        "nav_active": NAV,
        "form": form,
        "what": what,
        "title": EXPORTS[what],
        "filters": filters,
        "count": count,
        "cap": selectors.EXPORT_CAP,
        "back_url": back,
    }
    return render(request, "analytics/export.html", ctx, status=422 if form.errors else 200)


# --- the customer card's analytics box ---------------------------------------------------------------


@login_required
def customer_box(request, pk: int):
    """The card section (loaded by htmx): empty for users who may not see the customer's figures."""
    try:
        customer, run, score, allowed = selectors.customer_scores(request.user, pk)
    except NotFound:
        raise Http404()
    if not allowed:
        return HttpResponse("")
    ctx = {
        "customer": customer,
        "run": run,
        "s": score,
        "industry_label": dict(cc.Industry.choices).get(customer.industry, ""),
    }
    return render(request, "analytics/_customer_box.html", ctx)
