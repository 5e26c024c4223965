"""Every read of the analytics surfaces (C4): runs, the ABC table and its Pareto curve, the RFM
segment grid, the churn warning list, best and slow sellers and the main customer groups.

Each read starts from ``org.access.scope`` (rules.py decides who sees what):

- a per-customer list (ABC, RFM drill-down, churn) reads the scores with the action ``view``: a
  score follows its customer's finance, so an account manager sees their own book, a manager the
  department's, an analyst company customers, a service agent nothing;
- a figure over many customers (class counts, the Pareto curve, the segment grid, the groups)
  reads them with ``aggregate``: analysts count every customer, the others their own scope;
- an export reads them with ``export``; products with the rule of ``sales.ProductMonth``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db.models import Case, Count, F, FloatField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.core.errors import NotFound
from guanxi.customers import choices as cc
from guanxi.customers.models import Customer
from guanxi.org.access import covered_user_ids, scope
from guanxi.org.models import Role, User

from .math.churn import REASONS, reason_codes
from .math.rfm import SEGMENTS
from .models import AbcBasis, AnalyticsRun, CustomerScore, RunKind, RunState, derive

MAX_LIMIT = 200
EXPORT_CAP = 200_000
DEFAULT_MIN_RISK = 50  # the churn list starts at this risk score
AT_RISK = DEFAULT_MIN_RISK  # "at risk": the list, Today and the groups count from this score on

# --- vocabulary shown to people (the math speaks in codes) ----------------------------------------

REASON_LABELS: dict[str, Any] = {
    "low_p_alive": _("Probably stopped buying"),
    "overdue_rhythm": _("Overdue for their usual rhythm"),
    "falling_revenue": _("Falling revenue"),
    "open_complaints": _("Open complaints"),
    "low_satisfaction": _("Low satisfaction"),
    "overdue_receivables": _("Overdue receivables"),
}

SEGMENT_LABELS: dict[str, Any] = {
    "important_value": _("Key value customers"),
    "important_develop": _("Key customers to develop"),
    "important_keep": _("Key customers to keep"),
    "important_retain": _("Key customers to win back"),
    "general_value": _("General value customers"),
    "general_develop": _("General customers to develop"),
    "general_keep": _("General customers to keep"),
    "general_retain": _("General customers to win back"),
}
SEGMENT_HINTS: dict[str, Any] = {
    "important_value": _("Recent, frequent, high spend: look after them personally."),
    "important_develop": _("Recent and high spend, but seldom: raise the frequency."),
    "important_keep": _("Frequent and high spend, but not lately: get in touch before they drift."),
    "important_retain": _("High spend, neither recent nor frequent: win them back."),
    "general_value": _("Recent and frequent, low spend: grow the basket."),
    "general_develop": _("Recent, seldom, low spend: new or occasional buyers."),
    "general_keep": _("Frequent but not lately, low spend: a reminder may do."),
    "general_retain": _("Neither recent, frequent nor big: low priority."),
}
ABC_LABELS = {"A": _("Class A"), "B": _("Class B"), "C": _("Class C")}


def reasons_of(mask: int) -> list[str]:
    """The churn reasons of a bit mask, in words (in the active language)."""
    return [str(REASON_LABELS.get(code, code)) for code in reason_codes(mask or 0)]


def segment_label(code: str) -> str:
    return str(SEGMENT_LABELS.get(code, code)) if code else ""


# --- who may do what with runs -------------------------------------------------------------------


def reads_company_figures(user: User) -> bool:
    """Company-wide figures of a run (fitted parameters, totals, back-tests) are for administrators,
    managers, analysts and auditors (rules.py); account managers see the run's date and state."""
    return bool(user and user.is_authenticated and (user.is_admin or user.role in COMPANY_FIGURE_ROLES))


COMPANY_FIGURE_ROLES = (Role.MANAGER, Role.ANALYST, Role.AUDITOR)
RUN_STARTERS = (Role.MANAGER, Role.ANALYST)


def may_start_run(user: User) -> bool:
    """Administrators, managers and analysts may start a run (it reads every customer)."""
    return bool(user and user.is_authenticated and (user.is_admin or user.role in RUN_STARTERS))


def may_see_analytics(user: User) -> bool:
    """Whether the analytics pages are for ``user`` at all (service agents: no)."""
    return not scope(user, AnalyticsRun.objects.all(), "view").query.is_empty()


def can_export(user: User) -> bool:
    return not scope(user, CustomerScore.objects.all(), "export").query.is_empty()


def can_export_products(user: User) -> bool:
    from guanxi.sales.models import ProductMonth

    return not scope(user, ProductMonth.objects.all(), "export").query.is_empty()


# --- runs ------------------------------------------------------------------------------------------


def runs(user: User, *, kind: str = "") -> QuerySet:
    qs = scope(user, AnalyticsRun.objects.all(), "view").select_related("requested_by")
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-created_at", "-id")


def get_run(user: User, run_id: Any) -> AnalyticsRun:
    try:
        run_id = int(run_id)
    except (TypeError, ValueError):
        raise NotFound()
    run = runs(user).filter(pk=run_id).first()
    if run is None:
        raise NotFound()
    return run


def latest_run(user: User, kind: str = RunKind.RUN) -> AnalyticsRun | None:
    """The newest finished run ``user`` may see (None before the first one)."""
    return (
        scope(user, AnalyticsRun.objects.all(), "view")
        .filter(kind=kind, state=RunState.DONE)
        .order_by("-finished_at", "-id")
        .first()
    )


def resolve_run(user: User, run_id: Any = None) -> AnalyticsRun | None:
    """The run a page shows: the one asked for (if done and visible) or else the latest."""
    if run_id not in (None, ""):
        run = get_run(user, run_id)
        if run.state != RunState.DONE or run.kind != RunKind.RUN:
            raise NotFound()
        return run
    return latest_run(user)


def latest_backtest(user: User) -> AnalyticsRun | None:
    if not reads_company_figures(user):
        return None
    return latest_run(user, RunKind.BACKTEST)


def run_parameters(run: AnalyticsRun | None) -> dict[str, Any]:
    """The fitted BG/NBD (r, alpha, a, b) and Gamma-Gamma (p, q, v) parameters of a run, a line
    in plain words about what they mean, and the message when a model could not be fitted."""
    figures = (run.figures or {}) if run else {}
    bg = figures.get("bgnbd") or {}
    gg = figures.get("gammagamma") or {}
    out: dict[str, Any] = {"time_unit": figures.get("time_unit", "days"), "bg_error": "", "gg_error": ""}
    for name in ("r", "alpha", "a", "b", "log_likelihood"):
        out[name] = bg.get(name)
    out["bg_log_likelihood"] = bg.get("log_likelihood")
    for name in ("p", "q", "v"):
        out[name] = gg.get(name)
    out["gg_log_likelihood"] = gg.get("log_likelihood")
    if "error" in bg:
        out["bg_error"] = bg.get("message") or bg["error"]
    if "error" in gg:
        out["gg_error"] = gg.get("message") or gg["error"]
    out["fitted"] = all(isinstance(out[k], int | float) for k in ("r", "alpha", "a", "b"))
    out["gg_fitted"] = all(isinstance(out[k], int | float) for k in ("p", "q", "v"))
    if out["fitted"] and out["r"] > 0:
        out["interval_days"] = out["alpha"] / out["r"]  # mean of 1/λ's scale: a typical gap
        out["dropout_pct"] = 100 * out["a"] / (out["a"] + out["b"]) if out["a"] + out["b"] > 0 else None
    if out["gg_fitted"] and out["q"] > 1:
        out["mean_spend"] = out["p"] * out["v"] / (out["q"] - 1)
    return out


def backtest_figures(run: AnalyticsRun | None) -> dict[str, Any] | None:
    """Predicted vs actual repeat purchases, errors and the AUCs of a back-test (None without)."""
    if run is None:
        return None
    bt = (run.figures or {}).get("backtest")
    if not isinstance(bt, dict):
        return None
    until = bt.get("until")
    try:
        until = datetime.date.fromisoformat(until) if isinstance(until, str) else run.until
    except ValueError:
        until = run.until
    return {**bt, "until": until, "as_of": run.as_of, "run": run}


# --- scores ----------------------------------------------------------------------------------------


def scores(user: User, run: AnalyticsRun | None, action: str = "view") -> QuerySet:
    if run is None:
        return CustomerScore.objects.none()
    return scope(user, CustomerScore.objects.filter(run=run), action)


# --- a million scores per run ----------------------------------------------------------------------
#
# A run's rows are written in customer order with one index, (run, customer) (see models.py), so
# a filtered or sorted read of a company-wide scope scans the run (≈ 0.3 s at a million rows on
# SQLite) while an account manager's or a department's scope is read through that index. Hence:
# counts over everything come from the figures the run stored, lists read the ids of one page from
# the scores table alone and then load those rows, and aggregates are cached per run (a done run
# never changes): for a company-wide scope for a day, for a narrower one per user for minutes.

AGGREGATE_TTL_ALL = 24 * 3600
AGGREGATE_TTL_USER = 300
CUSTOMER_FACTS_TTL = 600  # aggregates that read the customers' current attributes (groups)


def unrestricted(user: User, action: str) -> bool:
    """Whether ``user``'s scope for ``action`` is every score (administrators, auditors, analysts'
    aggregates): the run's stored totals then answer for it."""
    qs = scope(user, CustomerScore.objects.all(), action)
    return not qs.query.is_empty() and not qs.query.where.children


def _cached(user: User, run: AnalyticsRun, action: str, name: str, compute, *, params=(), ttl_all=None):
    """``compute()`` for this run, scope and parameters, from the cache when it was done before.
    Values are plain numbers and codes (labels are added per request, in the user's language)."""
    everyone = unrestricted(user, action)
    who = "all" if everyone else f"u{user.pk}:{timezone.localdate().isoformat()}"
    key = ":".join(["gx-analytics", str(run.pk), name, action, who, *(str(p) for p in params)])
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, (ttl_all or AGGREGATE_TTL_ALL) if everyone else AGGREGATE_TTL_USER)
    return value


@dataclass
class Page:
    items: list[Any]
    count: int
    limit: int
    offset: int
    sort: str = ""
    descending: bool = False
    filters: dict[str, str] = field(default_factory=dict)
    count_exact: bool = True

    @property
    def has_next(self) -> bool:
        return self.offset + self.limit < self.count

    @property
    def has_previous(self) -> bool:
        return self.offset > 0

    @property
    def page_number(self) -> int:
        return self.offset // self.limit + 1

    @property
    def page_count(self) -> int:
        return max(1, -(-self.count // self.limit))


def bounds(limit: Any, offset: Any) -> tuple[int, int]:
    try:
        limit = min(MAX_LIMIT, max(1, int(limit)))
    except (TypeError, ValueError):
        limit = 50
    try:
        offset = max(0, int(offset))
    except (TypeError, ValueError):
        offset = 0
    return limit, offset


def _flip(f: str) -> str:
    return f[1:] if f.startswith("-") else "-" + f


def _sorted(qs: QuerySet, sorts: dict[str, tuple[str, ...]], sort: str, default: str):
    key = (sort or default).lstrip("-")
    if key not in sorts:
        sort, key = default, default.lstrip("-")
    descending = (sort or default).startswith("-")
    order = [(_flip(f) if descending else f) for f in sorts[key]]
    tie = "-id" if order[0].startswith("-") else "id"
    return qs.order_by(*order, tie), key, descending


def _page(
    qs: QuerySet, sorts, sort: str, default: str, limit: Any, offset: Any, filters=None, count=None
) -> Page:
    """One page: the ids in order from the scores table alone (no join unless the sort needs
    one), then those rows with their customer and owner. ``count``: a known total, else counted."""
    limit, offset = bounds(limit, offset)
    qs, key, descending = _sorted(qs, sorts, sort, default)
    ids = list(qs.values_list("id", flat=True)[offset : offset + limit])
    rows = CustomerScore.objects.filter(pk__in=ids).select_related("customer", "customer__owner").in_bulk()
    items = [rows[i] for i in ids if i in rows]
    total = count if count is not None else (offset + len(ids) if len(ids) < limit and (ids or not offset)
                                             else qs.count())  # fmt: skip
    return Page(items, total, limit, offset, key, descending, filters or {})


def decorate(run: AnalyticsRun, items: list[CustomerScore]) -> list[CustomerScore]:
    """Words for the codes, the dates behind the day counts, and the figures derived from the
    run's fitted models (expected purchases and spend; see ``models.derive``)."""
    for s in items:
        s.run = run
        s.reasons = reasons_of(s.churn_reasons)
        s.reason_codes = reason_codes(s.churn_reasons or 0)
        s.segment_label = segment_label(s.rfm_segment)
        s.last_purchase = (
            run.as_of - datetime.timedelta(days=s.recency_days) if s.recency_days is not None else None
        )
    derive(run, items)
    return items


def _with_customer(qs: QuerySet) -> QuerySet:
    return qs.select_related("customer", "customer__owner")


def _owner_filter(qs: QuerySet, owner: Any) -> QuerySet:
    try:
        owner = int(owner)
    except (TypeError, ValueError):
        return qs
    return qs.filter(customer__owner_id=owner)


def owner_choices(user: User, run: AnalyticsRun | None) -> list[User]:
    """The account managers whose customers ``user`` sees in the run (the owner filter)."""
    if run is None:
        return []

    def compute():
        return list(scores(user, run).values_list("customer__owner_id", flat=True).distinct())

    ids = _cached(user, run, "view", "owners", compute, ttl_all=CUSTOMER_FACTS_TTL)
    return list(User.objects.filter(pk__in=ids).order_by("username"))


# --- ABC (ABC分析表) ----------------------------------------------------------------------------------

ABC_SORTS = {
    "rank": ("abc_rank",),
    "name": ("customer__name",),
    "class": ("abc_class", "abc_rank"),
    # by value, share or cumulative share is by rank (largest value = rank 1), read the other way
    "value": ("-abc_rank",),
    "share": ("-abc_rank",),
    "cumulative": ("abc_rank",),
    "owner": ("customer__owner__username", "abc_rank"),
}


def abc_queryset(
    user: User, run: AnalyticsRun | None, *, cls: str = "", not_key: bool = False, owner: Any = None,
    action: str = "view",
) -> QuerySet:  # fmt: skip
    qs = scores(user, run, action)
    if cls in ("A", "B", "C"):
        qs = qs.filter(abc_class=cls)
    if not_key:
        qs = qs.filter(abc_class="A", customer__is_key_account=False)
    return _owner_filter(qs, owner)


def abc_list(
    user: User, run: AnalyticsRun | None, *, cls: str = "", not_key: bool = False, owner: Any = None,
    sort: str = "rank", limit: Any = 50, offset: Any = 0,
) -> Page:  # fmt: skip
    qs = abc_queryset(user, run, cls=cls, not_key=not_key, owner=owner)
    filters = {"cls": cls, "not_key": "1" if not_key else "", "owner": str(owner or "")}
    count = None
    if run is not None and not not_key and not owner and unrestricted(user, "view"):
        classes = _figure_classes(run)
        if classes is not None:
            count = (
                classes[cls]["customers"] if cls in classes else sum(c["customers"] for c in classes.values())
            )
    page = _page(qs, ABC_SORTS, sort, "rank", limit, offset, filters, count=count)
    if run is not None:
        decorate(run, page.items)
    return page


def _figure_classes(run: AnalyticsRun) -> dict[str, dict] | None:
    classes = ((run.figures or {}).get("abc") or {}).get("classes")
    if isinstance(classes, dict) and all(isinstance(classes.get(c), dict) for c in "ABC"):
        return classes
    return None


def abc_summary(user: User, run: AnalyticsRun | None) -> list[dict[str, Any]]:
    """Customers and value per class over the customers ``user`` may count."""
    if run is None:
        rows: dict[str, dict] = {}
    elif unrestricted(user, "aggregate") and _figure_classes(run) is not None:
        rows = _figure_classes(run)
    else:

        def compute():
            qs = scores(user, run, "aggregate").values("abc_class")
            agg = qs.annotate(customers=Count("id"), value=Coalesce(Sum("abc_value"), 0.0))
            return {r["abc_class"]: {"customers": r["customers"], "value": r["value"]} for r in agg}

        rows = _cached(user, run, "aggregate", "abc_summary", compute)
    total_customers = sum(r["customers"] for r in rows.values()) or 0
    total_value = sum(max(0.0, r["value"] or 0.0) for r in rows.values())
    out = []
    for cls in ("A", "B", "C"):
        r = rows.get(cls, {"customers": 0, "value": 0.0})
        out.append(
            {
                "cls": cls,
                "label": str(ABC_LABELS[cls]),
                "customers": r["customers"],
                "value": r["value"] or 0.0,
                "customer_share": (r["customers"] / total_customers) if total_customers else 0.0,
                "value_share": (max(0.0, r["value"] or 0.0) / total_value) if total_value else 0.0,
            }
        )
    for r in out:
        r["customer_pct"], r["value_pct"] = 100 * r["customer_share"], 100 * r["value_share"]
    return out


def a_not_key_count(user: User, run: AnalyticsRun | None) -> int:
    if run is None:
        return 0
    count = lambda: abc_queryset(user, run, not_key=True).count()  # noqa: E731
    return _cached(user, run, "view", "a_not_key", count, ttl_all=60)


PARETO_BUCKETS = 50
PARETO_READ_MAX = 300_000  # a company-wide scope beyond this is sampled from the stored shares


def pareto(user: User, run: AnalyticsRun | None, buckets: int = PARETO_BUCKETS) -> dict[str, Any]:
    if run is None:
        return _pareto(user, run, buckets)
    return _cached(user, run, "aggregate", "pareto", lambda: _pareto(user, run, buckets), params=(buckets,))


def _pareto(user: User, run: AnalyticsRun | None, buckets: int = PARETO_BUCKETS) -> dict[str, Any]:
    """The Pareto chart of the customers ``user`` may count: customers in rank order grouped into
    at most ``buckets`` equal slices; each slice's share of the value (bars) and the cumulative
    share at its end (line), with the run's A and B cut lines. Slices, never names: an aggregate
    may cover customers the user may not see one by one.

    The cumulative share is that of the customers counted (an account manager's curve is their
    own book's); at a million customers in a company-wide scope it is read at the slice ends from
    the shares the run stored instead of summing every row again."""
    import numpy as np

    out = {"labels": [], "bars": [], "line": [], "classes": [], "n": 0, "by_rank": True, "sampled": False,
           "cut_a": run.abc_a if run else None, "cut_b": run.abc_b if run else None}  # fmt: skip
    if run is None:
        return out
    qs = scores(user, run, "aggregate").filter(abc_value__gt=0)
    n = qs.count()
    if n == 0:
        return out
    edges = np.unique(np.round(np.linspace(0, n, min(buckets, n) + 1)).astype(np.int64))
    if n > PARETO_READ_MAX and unrestricted(user, "aggregate"):
        everyone = CustomerScore.objects.filter(run=run, abc_value__gt=0)
        # ranks 1..n are exactly the customers counted: read the slice ends only
        got = dict(
            (rank, (cum, cls))
            for rank, cum, cls in everyone.filter(abc_rank__in=[int(e) for e in edges[1:]]).values_list(
                "abc_rank", "abc_cumulative", "abc_class"
            )
        )
        at_edges = np.array([0.0] + [got.get(int(e), (1.0, "C"))[0] for e in edges[1:]])
        ends = [got.get(int(e), (1.0, "C"))[1] for e in edges[1:]]
        out["sampled"] = True
    else:
        rows = list(qs.order_by("abc_rank", "id").values_list("abc_value", "abc_class"))
        values = np.fromiter((r[0] for r in rows), dtype=float, count=len(rows))
        cum = np.concatenate([[0.0], np.cumsum(values)])
        at_edges = cum[edges] / (cum[-1] or 1.0)
        ends = [rows[int(e) - 1][1] for e in edges[1:]]
    out["by_rank"] = len(edges) - 1 == n
    for i in range(1, len(edges)):
        hi = int(edges[i])
        out["labels"].append(hi if out["by_rank"] else round(100.0 * hi / n, 1))
        out["bars"].append(round(100.0 * float(at_edges[i] - at_edges[i - 1]), 2))
        out["line"].append(round(100.0 * float(at_edges[i]), 2))
    out["classes"] = ends
    out["n"] = n
    return out


# --- RFM -------------------------------------------------------------------------------------------

RFM_SORTS = {
    "value": ("abc_value",),
    "name": ("customer__name",),
    "recency": ("recency_days",),
    "frequency": ("frequency",),
    "monetary": ("monetary",),
    "rfm": ("rfm_code",),
    "p_alive": ("p_alive",),
    "clv": ("clv",),
}
# the grid: rows = monetary high / low (重要 / 一般); columns = recency and frequency high / low
GRID_ROWS = [("important", _("High spend (重要)")), ("general", _("Low spend (一般)"))]
GRID_COLUMNS = [
    ("value", _("Recent and frequent (价值)")),
    ("develop", _("Recent, not frequent (发展)")),
    ("keep", _("Frequent, not recent (保持)")),
    ("retain", _("Neither (挽留)")),
]


def rfm_grid(user: User, run: AnalyticsRun | None) -> dict[str, Any]:
    """Customers, value and mean R/F/M per segment, laid out as the 2 × 4 grid."""

    def compute():
        qs = scores(user, run, "aggregate").values("rfm_segment_no")
        agg = qs.annotate(
            customers=Count("id"), value=Coalesce(Sum("abc_value"), 0.0), clv=Coalesce(Sum("clv"), 0.0)
        )
        return {
            (SEGMENTS[r["rfm_segment_no"]] if r["rfm_segment_no"] is not None else ""): {
                k: r[k] for k in ("customers", "value", "clv")
            }
            for r in agg
        }

    every = _cached(user, run, "aggregate", "rfm_grid", compute) if run is not None else {}
    agg = {k: v for k, v in every.items() if k}
    total_customers = sum(r["customers"] for r in agg.values())
    total_value = sum(max(0.0, r["value"]) for r in agg.values())
    rows = []
    for row_key, row_label in GRID_ROWS:
        cells = []
        for col_key, _col_label in GRID_COLUMNS:
            code = f"{row_key}_{col_key}"
            r = agg.get(code, {"customers": 0, "value": 0.0, "clv": 0.0})
            cells.append(
                {
                    "code": code,
                    "label": segment_label(code),
                    "hint": str(SEGMENT_HINTS.get(code, "")),
                    "customers": r["customers"],
                    "value": r["value"],
                    "clv": r["clv"],
                    "customer_share": r["customers"] / total_customers if total_customers else 0.0,
                    "value_share": max(0.0, r["value"]) / total_value if total_value else 0.0,
                }
            )
            cells[-1]["customer_pct"] = 100 * cells[-1]["customer_share"]
            cells[-1]["value_pct"] = 100 * cells[-1]["value_share"]
        rows.append({"key": row_key, "label": str(row_label), "cells": cells})
    unscored = every.get("", {}).get("customers", 0)
    return {
        "rows": rows,
        "columns": [str(label) for _k, label in GRID_COLUMNS],
        "customers": total_customers,
        "value": total_value,
        "unscored": unscored,
    }


def rfm_counts(user: User, run: AnalyticsRun | None) -> list[dict[str, Any]]:
    """Customers per segment in SEGMENTS order (the overview)."""
    grid = rfm_grid(user, run)
    cells = {c["code"]: c for row in grid["rows"] for c in row["cells"]}
    return [cells[code] for code in SEGMENTS if code in cells]


def rfm_queryset(user: User, run, *, segment: str = "", owner: Any = None, action: str = "view") -> QuerySet:
    qs = scores(user, run, action).filter(rfm_segment_no__isnull=False)
    if segment in SEGMENTS:
        qs = qs.filter(rfm_segment_no=SEGMENTS.index(segment))
    return _owner_filter(qs, owner)


def rfm_list(
    user: User, run: AnalyticsRun | None, *, segment: str = "", owner: Any = None, sort: str = "-value",
    limit: Any = 50, offset: Any = 0,
) -> Page:  # fmt: skip
    qs = rfm_queryset(user, run, segment=segment, owner=owner)
    filters = {"segment": segment, "owner": str(owner or "")}
    count = None
    stored = ((run.figures or {}).get("rfm") if run is not None else None) or None
    if isinstance(stored, dict) and not owner and unrestricted(user, "view"):
        count = stored.get(segment, 0) if segment in SEGMENTS else sum(stored.values())
    page = _page(qs, RFM_SORTS, sort, "-value", limit, offset, filters, count=count)
    if run is not None:
        decorate(run, page.items)
    return page


# --- churn early warning (流失预警) -------------------------------------------------------------------

CHURN_SORTS = {
    "risk": ("churn_risk",),
    "name": ("customer__name",),
    "owner": ("customer__owner__username", "-churn_risk"),
    "p_alive": ("p_alive",),
    "recency": ("recency_days",),
    "value": ("abc_value",),
    "clv": ("clv",),
}


def _min_risk(value: Any) -> float:
    try:
        return min(100.0, max(0.0, float(value)))
    except (TypeError, ValueError):
        return float(DEFAULT_MIN_RISK)


def churn_queryset(
    user: User, run: AnalyticsRun | None, *, owner: Any = None, min_risk: Any = DEFAULT_MIN_RISK,
    reason: str = "", mine: bool = False, action: str = "view",
) -> QuerySet:  # fmt: skip
    qs = scores(user, run, action).filter(churn_risk__gte=_min_risk(min_risk))
    if reason in REASONS:
        bit = 1 << REASONS.index(reason)
        qs = qs.annotate(reason_bit=F("churn_reasons").bitand(bit)).filter(reason_bit__gt=0)
    if mine:
        qs = qs.filter(customer__owner_id__in=covered_user_ids(user))
    return _owner_filter(qs, owner)


def churn_list(
    user: User, run: AnalyticsRun | None, *, owner: Any = None, min_risk: Any = DEFAULT_MIN_RISK,
    reason: str = "", mine: bool = False, sort: str = "-risk", limit: Any = 50, offset: Any = 0,
) -> Page:  # fmt: skip
    qs = churn_queryset(user, run, owner=owner, min_risk=min_risk, reason=reason, mine=mine)
    filters = {"owner": str(owner or ""), "min_risk": str(_min_risk(min_risk)), "reason": reason}
    count = None
    stored = ((run.figures or {}).get("churn") or {}).get("at_risk") if run is not None else None
    plain = not owner and reason not in REASONS and not mine and _min_risk(min_risk) == 50
    if isinstance(stored, int) and plain and unrestricted(user, "view"):
        count = stored  # runs.py counts risk >= 50
    page = _page(qs, CHURN_SORTS, sort, "-risk", limit, offset, filters, count=count)
    if run is not None:
        decorate(run, page.items)
        plans = open_winbacks(user, [s.customer_id for s in page.items])
        for s in page.items:
            s.winback = plans.get(s.customer_id)
    return page


def open_winbacks(user: User, customer_ids: list[int]) -> dict[int, Any]:
    """The open win-back plan (流失挽回) of each of these customers that ``user`` may see."""
    from guanxi.engagement.models import OPEN_STATES, Trigger, VisitPlan

    if not customer_ids:
        return {}
    qs = (
        scope(user, VisitPlan.objects.all(), "view")
        .filter(customer_id__in=customer_ids, trigger=Trigger.WIN_BACK, state__in=OPEN_STATES)
        .select_related("assignee")
        .order_by("scheduled_at", "id")
    )
    out: dict[int, Any] = {}
    for plan in qs:
        out.setdefault(plan.customer_id, plan)
    return out


def churn_score(user: User, customer_id: int) -> tuple[AnalyticsRun | None, CustomerScore | None]:
    """The latest churn score of one customer (the win-back row after its task was created)."""
    run = latest_run(user)
    score = _with_customer(scores(user, run)).filter(customer_id=customer_id).first()
    if score is not None:
        decorate(run, [score])
        score.winback = open_winbacks(user, [customer_id]).get(customer_id)
    return run, score


OWNED_MAX = 20_000


def at_risk_for_owner(user: User, run: AnalyticsRun | None, min_risk: float = AT_RISK) -> QuerySet:
    """The user's own customers (and those of whom they deputise for) at risk, with no win-back
    task open yet: what Today shows. Read through the user's own customers (``view_finance``,
    which is exactly the rule of a score, rules.py), so Today never scans a million-row run."""
    from guanxi.engagement.models import OPEN_STATES, Trigger, VisitPlan

    if run is None:
        return CustomerScore.objects.none()
    owned = scope(user, Customer.objects.filter(owner_id__in=covered_user_ids(user)), "view_finance")
    ids = list(owned.values_list("pk", flat=True)[:OWNED_MAX])
    if not ids:
        return CustomerScore.objects.none()
    open_ids = VisitPlan.objects.filter(
        customer_id__in=ids, trigger=Trigger.WIN_BACK, state__in=OPEN_STATES
    ).values_list("customer_id", flat=True)
    return (
        CustomerScore.objects.filter(run=run, customer_id__in=ids, churn_risk__gte=_min_risk(min_risk))
        .exclude(customer_id__in=list(open_ids))
        .select_related("customer", "customer__owner")
        .order_by("-churn_risk", "id")
    )


# --- exports ---------------------------------------------------------------------------------------


def export_scores(user: User, run: AnalyticsRun | None, what: str, f: dict[str, str]) -> QuerySet:
    """The scores of one list (``abc``, ``rfm`` or ``churn``) with its filters and sort, read with
    the action ``export``."""
    if what == "abc":
        qs = abc_queryset(user, run, cls=f.get("cls", ""), not_key=f.get("not_key") == "1",
                          owner=f.get("owner"), action="export")  # fmt: skip
        return _sorted(qs, ABC_SORTS, f.get("sort", "rank"), "rank")[0]
    if what == "rfm":
        qs = rfm_queryset(user, run, segment=f.get("segment", ""), owner=f.get("owner"), action="export")
        return _sorted(qs, RFM_SORTS, f.get("sort", "-value"), "-value")[0]
    qs = churn_queryset(user, run, owner=f.get("owner"), min_risk=f.get("min_risk", DEFAULT_MIN_RISK),
                        reason=f.get("reason", ""), action="export")  # fmt: skip
    return _sorted(qs, CHURN_SORTS, f.get("sort", "-risk"), "-risk")[0]


def export_rows(run: AnalyticsRun, qs: QuerySet, cap: int = EXPORT_CAP):
    """The rows of an export file, streamed in chunks with their customer, at most ``cap``."""
    chunk: list[CustomerScore] = []
    for s in _with_customer(qs)[:cap].iterator(chunk_size=2000):
        chunk.append(s)
        if len(chunk) == 2000:
            yield from decorate(run, chunk)
            chunk = []
    yield from decorate(run, chunk)


# --- customer card ---------------------------------------------------------------------------------


def customer_scores(
    user: User, customer_id: int
) -> tuple[Customer, AnalyticsRun | None, CustomerScore | None, bool]:
    """The customer's scores in the latest run: (customer, run, score, allowed). NotFound when the
    customer itself is out of scope; ``allowed`` is False when the user sees the customer but not
    its figures (a score follows the customer's finance, rules.py), and the score is then None."""
    customer = scope(user, Customer.objects.all(), "view").filter(pk=customer_id).first()
    if customer is None:
        raise NotFound()
    allowed = may_see_analytics(user) and (
        scope(user, Customer.objects.filter(pk=customer_id), "view_finance").exists()
    )
    if not allowed:
        return customer, None, None, False
    run = latest_run(user)
    score = scores(user, run).filter(customer_id=customer_id).first()
    if score is not None:
        score.customer = customer
        decorate(run, [score])
    return customer, run, score, True


# --- best and slow sellers -------------------------------------------------------------------------


def _month(d: datetime.date) -> datetime.date:
    return d.replace(day=1)


def _add_months(d: datetime.date, n: int) -> datetime.date:
    y, m = divmod(d.year * 12 + (d.month - 1) + n, 12)
    return datetime.date(y, m + 1, 1)


@dataclass
class Period:
    start: datetime.date  # first month, inclusive
    end: datetime.date  # first month after the period
    prev_start: datetime.date
    months: int

    @property
    def last_month(self) -> datetime.date:
        return _add_months(self.end, -1)


def period(end_month: Any = None, months: Any = 12) -> Period:
    """``months`` whole months ending with ``end_month`` (YYYY-MM; default this month)."""
    try:
        months = min(36, max(1, int(months)))
    except (TypeError, ValueError):
        months = 12
    last = None
    if isinstance(end_month, datetime.date):
        last = _month(end_month)
    elif end_month:
        try:
            last = datetime.datetime.strptime(str(end_month)[:7], "%Y-%m").date()
        except ValueError:
            last = None
    last = last or _month(timezone.localdate())
    end = _add_months(last, 1)
    start = _add_months(end, -months)
    return Period(start=start, end=end, prev_start=_add_months(start, -months), months=months)


PRODUCT_SORTS = {"revenue", "quantity", "growth", "name", "category", "prev_revenue", "share"}


def products(
    user: User, *, per: Period, mode: str = "best", category: Any = None, sort: str = "",
    limit: Any = 50, offset: Any = 0,
) -> Page:  # fmt: skip
    """Products ranked by revenue over the period, with quantity and growth against the period
    before. ``mode='slow'``: the weakest first, products on sale without any sale included."""
    rows, key, descending = sorted_products(user, per=per, mode=mode, category=category, sort=sort)
    limit, offset = bounds(limit, offset)
    return Page(rows[offset : offset + limit], len(rows), limit, offset, key, descending, {"mode": mode})


def sorted_products(
    user: User, *, per: Period, mode: str = "best", category: Any = None, sort: str = "", action: str = "view"
) -> tuple[list[dict], str, bool]:
    rows = product_rows(user, per=per, mode=mode, category=category, action=action)
    default = "-revenue" if mode == "best" else "revenue"
    sort = sort or default
    key = sort.lstrip("-")
    if key not in PRODUCT_SORTS:
        sort, key = default, default.lstrip("-")
    descending = sort.startswith("-")
    rows.sort(key=lambda r: r["name"])
    if key in ("name", "category"):
        rows.sort(key=lambda r: r[key] or "", reverse=descending)
    else:  # rows without a figure (no growth: nothing sold before) always last
        known = [r for r in rows if r[key] is not None]
        unknown = [r for r in rows if r[key] is None]
        known.sort(key=lambda r: r[key], reverse=descending)
        rows = known + unknown
    return rows, key, descending


def product_rows(
    user: User, *, per: Period, mode: str = "best", category: Any = None, action: str = "view"
) -> list[dict]:
    from guanxi.sales.models import Product, ProductMonth

    months = scope(user, ProductMonth.objects.all(), action)
    if months.query.is_empty():
        return []
    cur = {
        r["product_id"]: r
        for r in months.filter(month__gte=per.start, month__lt=per.end)
        .values("product_id")
        .annotate(revenue=Sum("revenue"), quantity=Sum("quantity"), lines=Sum("lines"))
    }
    prev = {
        r["product_id"]: r["revenue"]
        for r in months.filter(month__gte=per.prev_start, month__lt=per.start)
        .values("product_id")
        .annotate(revenue=Sum("revenue"))
    }
    catalogue = scope(user, Product.objects.all(), "view").select_related("category")
    try:
        category = int(category) if category not in (None, "") else None
    except (TypeError, ValueError):
        category = None
    if category:
        catalogue = catalogue.filter(Q(category_id=category) | Q(category__parent_id=category))
    if mode == "best":
        catalogue = catalogue.filter(pk__in=list(cur))
    else:
        catalogue = catalogue.filter(Q(active=True) | Q(pk__in=list(cur)))
    total = sum(float(r["revenue"] or 0) for r in cur.values()) or 0.0
    out = []
    for p in catalogue:
        c = cur.get(p.pk, {})
        revenue = float(c.get("revenue") or 0)
        before = float(prev.get(p.pk) or 0)
        out.append(
            {
                "product": p,
                "id": p.pk,
                "code": p.code or "",
                "name": p.name,
                "category": p.category.name if p.category else "",
                "active": p.active,
                "revenue": revenue,
                "quantity": float(c.get("quantity") or 0),
                "lines": int(c.get("lines") or 0),
                "prev_revenue": before,
                "growth": (revenue - before) / before * 100.0 if before > 0 else None,
                "share": revenue / total * 100.0 if total else 0.0,
                "no_sales": revenue == 0 and not c,
            }
        )
    return out


def product_categories(user: User) -> QuerySet:
    from guanxi.sales.models import ProductCategory

    return scope(user, ProductCategory.objects.all(), "view").order_by("name")


def products_visible(user: User) -> bool:
    from guanxi.sales.models import ProductMonth

    return not scope(user, ProductMonth.objects.all(), "view").query.is_empty()


# --- main customer groups (主要客户群) ---------------------------------------------------------------

EMPLOYEE_BANDS = [  # (upper bound exclusive, code, label)
    (20, "e1", _("Fewer than 20 employees")),
    (300, "e2", _("20–299 employees")),
    (1000, "e3", _("300–999 employees")),
    (None, "e4", _("1,000 employees or more")),
]
REVENUE_BANDS = [
    (10_000_000, "r1", _("Annual revenue under ¥10 million")),
    (100_000_000, "r2", _("¥10–100 million")),
    (1_000_000_000, "r3", _("¥100 million – ¥1 billion")),
    (None, "r4", _("¥1 billion or more")),
]
GROUPINGS = {
    "industry": _("Industry"),
    "province": _("Region (province)"),
    "employees": _("Size by employees"),
    "revenue": _("Size by annual revenue"),
}
GROUP_SORTS = {"value", "customers", "a_customers", "label", "share", "at_risk"}


def _band(field_name: str, bands) -> Case:
    whens = []
    for upper, code, _label in bands:
        if upper is None:
            whens.append(When(**{f"customer__{field_name}__isnull": False}, then=Value(code)))
        else:
            whens.append(When(**{f"customer__{field_name}__lt": upper}, then=Value(code)))
    return Case(*whens, default=Value(""))


def groups(user: User, run: AnalyticsRun | None, *, by: str = "industry", sort: str = "-value") -> Page:
    """Customers, value in the period, share, A-class count and customers at risk per group."""
    if by not in GROUPINGS:
        by = "industry"
    qs = scores(user, run, "aggregate")
    if by == "industry":
        key_expr, labels = F("customer__industry"), dict(cc.Industry.choices)
    elif by == "province":
        key_expr, labels = F("customer__province"), {}
    elif by == "employees":
        key_expr, labels = _band("employees", EMPLOYEE_BANDS), {c: lbl for _u, c, lbl in EMPLOYEE_BANDS}
    else:
        key_expr, labels = _band("annual_revenue", REVENUE_BANDS), {c: lbl for _u, c, lbl in REVENUE_BANDS}

    def compute():
        data = (
            qs.annotate(group=key_expr)
            .values("group")
            .annotate(
                customers=Count("id"),
                value=Coalesce(Sum("abc_value"), 0.0, output_field=FloatField()),
                a_customers=Count("id", filter=Q(abc_class="A")),
                at_risk=Count("id", filter=Q(churn_risk__gte=AT_RISK)),
                clv=Coalesce(Sum("clv"), 0.0, output_field=FloatField()),
            )
        )
        return [dict(r) for r in data]

    if run is None:
        rows = []
    else:
        rows = [dict(r) for r in _cached(user, run, "aggregate", "groups", compute, params=(by,),
                                          ttl_all=CUSTOMER_FACTS_TTL)]  # fmt: skip
    total = sum(max(0.0, r["value"]) for r in rows) or 0.0
    total_customers = sum(r["customers"] for r in rows) or 0
    order = [code for _u, code, _l in (EMPLOYEE_BANDS if by == "employees" else REVENUE_BANDS)]
    for r in rows:
        r["key"] = r["group"] or ""
        r["label"] = str(labels.get(r["group"], r["group"])) if r["group"] else str(_("Not recorded"))
        r["share"] = max(0.0, r["value"]) / total * 100.0 if total else 0.0
        r["share_frac"] = r["share"] / 100.0
        r["customer_share"] = r["customers"] / total_customers * 100.0 if total_customers else 0.0
        r["band_order"] = order.index(r["group"]) if r["group"] in order else len(order)
    key = sort.lstrip("-") if sort else "value"
    if key not in GROUP_SORTS:
        sort, key = "-value", "value"
    descending = sort.startswith("-")
    if key == "label" and by in ("employees", "revenue"):
        rows.sort(key=lambda r: r["band_order"], reverse=descending)
    elif key == "label":
        rows.sort(key=lambda r: r["label"], reverse=descending)
    else:
        rows.sort(key=lambda r: (r[key], r["label"]), reverse=descending)
    return Page(rows, len(rows), max(1, len(rows)), 0, key, descending, {"by": by})


# --- overview --------------------------------------------------------------------------------------


def counted_customers(user: User, run: AnalyticsRun | None) -> int:
    if run is None:
        return 0
    if unrestricted(user, "aggregate"):
        return run.customers
    return _cached(user, run, "aggregate", "counted", lambda: scores(user, run, "aggregate").count())


def at_risk_count(user: User, run: AnalyticsRun | None) -> int:
    if run is None:
        return 0
    stored = ((run.figures or {}).get("churn") or {}).get("at_risk")
    if isinstance(stored, int) and AT_RISK == 50 and unrestricted(user, "view"):
        return stored  # runs.py counts risk >= 50
    return _cached(user, run, "view", "at_risk", lambda: churn_queryset(user, run).count(), params=(AT_RISK,))


def top_churn(user: User, run: AnalyticsRun | None, n: int = 10) -> list[CustomerScore]:
    if run is None:
        return []

    def compute():
        qs = scores(user, run).filter(churn_risk__gt=0).order_by("-churn_risk", "-id")
        return list(qs.values_list("id", flat=True)[:n])

    ids = _cached(user, run, "view", "top_churn", compute, params=(n,))
    rows = _with_customer(CustomerScore.objects.filter(pk__in=ids)).in_bulk()
    return decorate(run, [rows[i] for i in ids if i in rows])


def abc_basis_label(run: AnalyticsRun | None) -> str:
    if run is None or run.abc_by == AbcBasis.REVENUE:
        return str(_("Revenue in the period"))
    return str(_("Profit in the period"))
