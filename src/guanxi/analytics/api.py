"""REST API of customer analytics (/api/v1/analytics/…): runs, the ABC table, the RFM segments, the
churn warning list and its win-back action, best and slow sellers, the main customer groups, and a
customer's latest scores. Thin: parse, call a selector or a service, answer. Every list is
restricted to the caller's scope by the selectors."""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status

from guanxi.core.errors import Forbidden, NotFound

from . import selectors, services
from .models import AnalyticsRun, CustomerScore

router = Router(tags=["analytics"])


# --- schemas --------------------------------------------------------------------------------------


class RunOut(Schema):
    id: int
    kind: str
    state: str
    as_of: datetime.date
    until: datetime.date | None
    abc_by: str
    abc_a: float
    abc_b: float
    period_days: int
    trigger: str
    requested_by_id: int | None
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None
    seconds: float | None
    # company-wide figures: null for account managers (rules.py)
    customers: int | None = None
    figures: dict[str, Any] | None = None
    error: str | None = None


class RunPage(Schema):
    items: list[RunOut]
    count: int


class RunIn(Schema):
    as_of: str | None = None
    abc_by: str = "revenue"
    abc_a: float | str = 0.8
    abc_b: float | str = 0.95
    period_days: int | str = 365


class ScoreOut(Schema):
    run_id: int
    as_of: datetime.date
    customer_id: int
    customer_name: str
    owner_id: int
    owner_name: str
    is_key_account: bool
    abc_class: str
    abc_rank: int | None
    abc_value: float
    abc_share: float
    abc_cumulative: float
    recency_days: int | None
    last_purchase: datetime.date | None
    frequency: int
    monetary: float | None
    r_score: int
    f_score: int
    m_score: int
    rfm_segment: str
    rfm_segment_label: str
    p_alive: float | None
    expected_30: float | None
    expected_90: float | None
    expected_365: float | None
    expected_spend: float | None
    clv: float | None
    churn_risk: float
    churn_reasons: list[str]
    churn_reason_labels: list[str]
    winback_plan_id: int | None = None


class ScorePage(Schema):
    run_id: int | None
    as_of: datetime.date | None
    items: list[ScoreOut]
    count: int


class ClassOut(Schema):
    cls: str
    customers: int
    value: float
    customer_share: float
    value_share: float


class AbcPage(ScorePage):
    classes: list[ClassOut]
    abc_by: str | None
    abc_a: float | None
    abc_b: float | None


class SegmentOut(Schema):
    code: str
    label: str
    customers: int
    value: float
    clv: float
    customer_share: float
    value_share: float


class RfmPage(ScorePage):
    segments: list[SegmentOut]


class ProductOut(Schema):
    id: int
    code: str
    name: str
    category: str
    active: bool
    revenue: float
    quantity: float
    lines: int
    prev_revenue: float
    growth_pct: float | None
    share_pct: float


class ProductPage(Schema):
    start: datetime.date
    end: datetime.date
    items: list[ProductOut]
    count: int


class GroupOut(Schema):
    key: str
    label: str
    customers: int
    value: float
    share_pct: float
    a_customers: int
    at_risk: int
    clv: float


class GroupPage(Schema):
    run_id: int | None
    by: str
    items: list[GroupOut]
    count: int


class WinbackOut(Schema):
    plan_id: int
    customer_id: int
    assignee_id: int
    scheduled_at: datetime.datetime
    trigger: str
    state: str
    purpose: str
    created: bool


# --- helpers ---------------------------------------------------------------------------------------


def _run_out(user, run: AnalyticsRun) -> dict[str, Any]:
    company = selectors.reads_company_figures(user)
    return {
        **{f: getattr(run, f) for f in RunOut.model_fields if hasattr(run, f)},
        "customers": run.customers if company else None,
        "figures": run.figures if company else None,
        "error": run.error if company else None,
    }


def _score_out(run: AnalyticsRun, s: CustomerScore) -> dict[str, Any]:
    winback = getattr(s, "winback", None)
    return {
        "run_id": run.pk,
        "as_of": run.as_of,
        "customer_id": s.customer_id,
        "customer_name": s.customer.name,
        "owner_id": s.customer.owner_id,
        "owner_name": str(s.customer.owner),
        "is_key_account": s.customer.is_key_account,
        **{
            f: getattr(s, f)
            for f in (
                "abc_class",
                "abc_rank",
                "abc_value",
                "abc_share",
                "abc_cumulative",
                "recency_days",
                "last_purchase",
                "frequency",
                "monetary",
                "r_score",
                "f_score",
                "m_score",
                "rfm_segment",
                "p_alive",
                "expected_30",
                "expected_90",
                "expected_365",
                "expected_spend",
                "clv",
                "churn_risk",
            )
        },  # fmt: skip
        "rfm_segment_label": s.segment_label,
        "churn_reasons": s.reason_codes,
        "churn_reason_labels": s.reasons,
        "winback_plan_id": winback.pk if winback else None,
    }


def _page_out(run, page) -> dict[str, Any]:
    return {
        "run_id": run.pk if run else None,
        "as_of": run.as_of if run else None,
        "items": [_score_out(run, s) for s in page.items],
        "count": page.count,
    }


def _analytics_user(request):
    user = request.auth
    if not selectors.may_see_analytics(user):
        raise Forbidden()
    return user


# --- runs ------------------------------------------------------------------------------------------


@router.get("/analytics/runs", response=RunPage)
def list_runs(request: HttpRequest, kind: str = "", limit: int = 50, offset: int = 0):
    """Analytics runs, newest first. Fitted parameters and totals (`figures`) only for those who
    read company figures (administrators, managers, analysts, auditors)."""
    qs = selectors.runs(request.auth, kind=kind)
    limit, offset = selectors.bounds(limit, offset)
    return {"items": [_run_out(request.auth, r) for r in qs[offset : offset + limit]], "count": qs.count()}


@router.get("/analytics/runs/{run_id}", response=RunOut)
def get_run(request: HttpRequest, run_id: int):
    return _run_out(request.auth, selectors.get_run(request.auth, run_id))


@router.post("/analytics/runs", response={201: RunOut})
def start_run(request: HttpRequest, payload: RunIn):
    """Start a run as of a date (default today): ABC by `revenue` or `profit` with the cumulative
    shares `abc_a` < `abc_b` in (0, 1] (0.8/0.95 by default; the seeds' rule: 0.7/0.9). Queued for
    the background worker; poll `GET /analytics/runs/{id}` for its state."""
    run = services.start_run(actor=request.auth, data=payload.dict(), trigger="api")
    return Status(201, _run_out(request.auth, run))


# --- lists -----------------------------------------------------------------------------------------


@router.get("/analytics/abc", response=AbcPage)
def abc(request: HttpRequest, run_id: int | None = None, cls: str = "", not_key: bool = False,
        owner: int | None = None, sort: str = "rank", limit: int = 50, offset: int = 0):  # fmt: skip
    """The ABC table (ABC分析表): customers ranked by value with share and cumulative share;
    `not_key=true` lists the A customers who are not key accounts yet."""
    user = _analytics_user(request)
    run = selectors.resolve_run(user, run_id)
    page = selectors.abc_list(user, run, cls=cls, not_key=not_key, owner=owner, sort=sort, limit=limit,
                              offset=offset)  # fmt: skip
    return {
        **_page_out(run, page),
        "classes": selectors.abc_summary(user, run),
        "abc_by": run.abc_by if run else None,
        "abc_a": run.abc_a if run else None,
        "abc_b": run.abc_b if run else None,
    }


@router.get("/analytics/rfm", response=RfmPage)
def rfm(request: HttpRequest, run_id: int | None = None, segment: str = "", owner: int | None = None,
        sort: str = "-value", limit: int = 50, offset: int = 0):  # fmt: skip
    """The RFM segments (counts and value per segment) and the customers of one `segment`."""
    user = _analytics_user(request)
    run = selectors.resolve_run(user, run_id)
    page = selectors.rfm_list(user, run, segment=segment, owner=owner, sort=sort, limit=limit, offset=offset)
    return {**_page_out(run, page), "segments": selectors.rfm_counts(user, run)}


@router.get("/analytics/churn", response=ScorePage)
def churn(request: HttpRequest, run_id: int | None = None, owner: int | None = None,
          min_risk: float = selectors.DEFAULT_MIN_RISK, reason: str = "", mine: bool = False,
          sort: str = "-risk", limit: int = 50, offset: int = 0):  # fmt: skip
    """The churn warning list (流失预警): customers at or above `min_risk` (0..100), riskiest first,
    with the reasons and the open win-back task if there is one."""
    user = _analytics_user(request)
    run = selectors.resolve_run(user, run_id)
    page = selectors.churn_list(user, run, owner=owner, min_risk=min_risk, reason=reason, mine=mine,
                                sort=sort, limit=limit, offset=offset)  # fmt: skip
    return _page_out(run, page)


@router.post("/analytics/churn/{customer_id}/winback", response={200: WinbackOut, 201: WinbackOut})
def winback(request: HttpRequest, customer_id: int):
    """Create the win-back task (a visit plan, trigger `win_back`, for the account manager on the
    next working day). While one is open the same plan is returned (200) instead of a second."""
    plan, created = services.create_winback(actor=request.auth, customer_id=customer_id)
    body = {
        "plan_id": plan.pk,
        "customer_id": plan.customer_id,
        "assignee_id": plan.assignee_id,
        "scheduled_at": plan.scheduled_at,
        "trigger": plan.trigger,
        "state": plan.state,
        "purpose": plan.purpose,
        "created": created,
    }
    return Status(201 if created else 200, body)


@router.get("/analytics/products", response=ProductPage)
def products(request: HttpRequest, end: str = "", months: int = 12, mode: str = "best",
             category: int | None = None, sort: str = "", limit: int = 50, offset: int = 0):  # fmt: skip
    """Best (`mode=best`) or slow (`mode=slow`: the weakest first, products without sales
    included) sellers over `months` months ending with `end` (YYYY-MM), with growth against the
    months before. Company-wide: managers, analysts, auditors and administrators."""
    user = _analytics_user(request)
    per = selectors.period(end, months)
    page = selectors.products(user, per=per, mode=mode, category=category, sort=sort, limit=limit,
                              offset=offset)  # fmt: skip
    items = [
        {**r, "growth_pct": r["growth"], "share_pct": r["share"]}
        for r in page.items
    ]  # fmt: skip
    return {"start": per.start, "end": per.last_month, "items": items, "count": page.count}


@router.get("/analytics/groups", response=GroupPage)
def groups(request: HttpRequest, by: str = "industry", run_id: int | None = None, sort: str = "-value"):
    """Main customer groups by `industry`, `province`, `employees` or `revenue` band: customers,
    value in the period, share, A customers and customers at risk."""
    user = _analytics_user(request)
    run = selectors.resolve_run(user, run_id)
    page = selectors.groups(user, run, by=by, sort=sort)
    items = [{**r, "share_pct": r["share"]} for r in page.items]
    return {"run_id": run.pk if run else None, "by": page.filters["by"], "items": items, "count": page.count}


@router.get("/customers/{customer_id}/scores", response=ScoreOut, tags=["customers"])
def customer_scores(request: HttpRequest, customer_id: int):
    """The customer's results in the latest run. 404 outside the caller's scope or when the run
    has no score for the customer; 403 for callers who see the customer but not its figures."""
    _customer, run, score, allowed = selectors.customer_scores(request.auth, customer_id)
    if not allowed:
        raise Forbidden()
    if score is None:
        raise NotFound()
    return _score_out(run, score)
