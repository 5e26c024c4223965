"""REST API of visits, plans, cadence, care and Today (/api/v1/). Each user sees their own scope."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone
from ninja import Field, Router, Schema, Status

from guanxi.today.registry import sections_for

from . import selectors, services

router = Router(tags=["engagement"])


class PlanIn(Schema):
    customer_id: int
    scheduled_at: datetime.datetime
    method: str = "in_person"
    place: str = ""
    category: str = "routine"
    trigger: str = "periodic"
    purpose: str = ""
    content: str = ""
    assignee_id: int | None = None
    contact_ids: list[int] = Field(default_factory=list)


class PlanPatch(Schema):
    version: int
    scheduled_at: datetime.datetime | None = None
    method: str | None = None
    place: str | None = None
    category: str | None = None
    trigger: str | None = None
    purpose: str | None = None
    content: str | None = None
    assignee_id: int | None = None
    contact_ids: list[int] | None = None


class PlanOut(Schema):
    id: int
    customer_id: int
    customer_name: str = Field(..., alias="customer.name")
    scheduled_at: datetime.datetime
    method: str
    place: str
    category: str
    trigger: str
    purpose: str
    content: str
    assignee_id: int
    state: str
    state_changed_by_id: int | None
    state_changed_at: datetime.datetime | None
    state_note: str
    follows_id: int | None
    version: int


class StateIn(Schema):
    to: str
    note: str = ""
    version: int | None = None


class VisitIn(Schema):
    customer_id: int | None = None
    plan_id: int | None = None
    form: str = "in_person"
    method: str | None = None
    category: str | None = None
    direction: str = "outbound"
    visited_on: datetime.date
    place: str = ""
    scheduled_arrival: datetime.datetime | None = None
    actual_arrival: datetime.datetime | None = None
    contact_ids: list[int] | None = None
    received_by: str = ""
    their_seniority: str = ""
    our_people: str = ""
    our_seniority: str = ""
    content: str
    deal_progress: str = ""
    feedback: str = ""
    product_usage: str = ""
    service_satisfaction: int | None = None
    opinion_of_us: str = ""
    continuation: str = ""
    follow_ups: str = ""
    next_visit_on: datetime.date | None = None


class VisitOut(Schema):
    id: int
    customer_id: int
    plan_id: int | None
    form: str
    method: str
    category: str
    direction: str
    visited_on: datetime.date
    place: str
    scheduled_arrival: datetime.datetime | None
    actual_arrival: datetime.datetime | None
    received_by: str
    their_seniority: str
    our_people: str
    our_seniority: str
    content: str
    deal_progress: str
    feedback: str
    product_usage: str
    service_satisfaction: int | None
    opinion_of_us: str
    continuation: str
    follow_ups: str
    next_visit_on: datetime.date | None
    recorded_by_id: int


class RequirementIO(Schema):
    kind: str
    count: int
    period_days: int


class PolicyIn(Schema):
    requirements: list[RequirementIO]
    max_contacts_30d: int | None = None
    service_plan: str | None = None
    active: bool = True


class PolicyOut(Schema):
    id: int
    dimension: str
    value: str
    active: bool
    max_contacts_30d: int
    service_plan: str
    requirements: list[RequirementIO]

    @staticmethod
    def resolve_requirements(obj):
        return [
            RequirementIO(kind=r.kind, count=r.count, period_days=r.period_days)
            for r in obj.requirements.all()
        ]


class OverrideIn(Schema):
    period_scale_pct: int = 100
    max_contacts_30d: int | None = None
    reason: str = ""


class RequirementStatusOut(Schema):
    kind: str
    count: int
    period_days: int
    in_window: int
    last: datetime.date | None
    due_on: datetime.date
    met: bool


class CadenceOut(Schema):
    customer_id: int
    policy: str | None
    period_scale_pct: int
    last_contact_on: datetime.date | None
    due_on: datetime.date | None
    overdue: bool
    contacts_30d: int
    max_contacts_30d: int | None
    over_maintained: bool
    requirements: list[RequirementStatusOut]


class OverdueOut(Schema):
    customer_id: int
    name: str
    owner_id: int
    last_contact_on: datetime.date | None
    due_on: datetime.date | None


class OccasionOut(Schema):
    day: datetime.date
    occasion: str
    title: str
    customer_id: int | None
    contact_id: int | None


class CareTaskOut(Schema):
    id: int
    customer_id: int
    contact_id: int | None
    occasion: str
    title: str
    occurs_on: datetime.date
    assignee_id: int
    state: str
    message: str


class CareCloseIn(Schema):
    state: str = "done"
    message: str = ""


class GiftIn(Schema):
    customer_id: int
    contact_id: int | None = None
    task_id: int | None = None
    given_on: datetime.date
    description: str
    value: Decimal | None = None
    occasion: str = ""


class GiftOut(Schema):
    id: int
    customer_id: int
    contact_id: int | None
    task_id: int | None
    given_on: datetime.date
    description: str
    value: Decimal | None
    occasion: str
    given_by_id: int


class SummaryIn(Schema):
    text: str
    problems: str = ""
    tomorrow: str = ""
    day: datetime.date | None = None


class SummaryOut(Schema):
    id: int
    user_id: int
    day: datetime.date
    text: str
    problems: str
    tomorrow: str


class TodaySectionOut(Schema):
    key: str
    title: str
    count: int
    link: str | None


def _plan(request, plan_id: int):
    return selectors.get_plan(request.auth, plan_id)


# --- plans ----------------------------------------------------------------------------------------


@router.get("/plans", response=list[PlanOut])
def list_plans(
    request,
    mine: bool = True,
    state: str = "open",
    customer_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
):
    limit = max(1, min(limit, 500))
    return list(
        selectors.plans(request.auth, mine=mine, state=state, customer_id=customer_id)[
            offset : offset + limit
        ]
    )


@router.post("/plans", response={201: PlanOut})
def create_plan(request, payload: PlanIn):
    data = payload.dict()
    data["assignee"] = data.pop("assignee_id")
    data["contacts"] = data.pop("contact_ids")
    plan = services.create_plan(actor=request.auth, customer_id=data.pop("customer_id"), data=data)
    return Status(201, _plan(request, plan.pk))


@router.get("/plans/{plan_id}", response=PlanOut)
def get_plan(request, plan_id: int):
    return _plan(request, plan_id)


@router.patch("/plans/{plan_id}", response=PlanOut)
def update_plan(request, plan_id: int, payload: PlanPatch):
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    if "assignee_id" in data:
        data["assignee"] = data.pop("assignee_id")
    if "contact_ids" in data:
        data["contacts"] = data.pop("contact_ids")
    services.update_plan(actor=request.auth, plan_id=plan_id, version=version, data=data)
    return _plan(request, plan_id)


@router.post("/plans/{plan_id}/state", response=PlanOut)
def set_plan_state(request, plan_id: int, payload: StateIn):
    services.transition_plan(
        actor=request.auth, plan_id=plan_id, to=payload.to, note=payload.note, version=payload.version
    )
    return _plan(request, plan_id)


# --- visits ---------------------------------------------------------------------------------------


@router.get("/visits", response=list[VisitOut])
def list_visits(
    request, customer_id: int | None = None, mine: bool = False, limit: int = 100, offset: int = 0
):
    limit = max(1, min(limit, 500))
    return list(selectors.visits(request.auth, customer_id=customer_id, mine=mine)[offset : offset + limit])


@router.post("/visits", response={201: VisitOut})
def record_visit(request, payload: VisitIn):
    data = payload.dict(exclude_unset=True)
    customer_id = data.pop("customer_id", None)
    plan_id = data.pop("plan_id", None)
    if "contact_ids" in data:
        data["contacts"] = data.pop("contact_ids") or []
    data.setdefault("visited_on", payload.visited_on)
    data.setdefault("content", payload.content)
    visit = services.record_visit(actor=request.auth, customer_id=customer_id, plan_id=plan_id, data=data)
    return Status(201, selectors.get_visit(request.auth, visit.pk))


@router.get("/visits/{visit_id}", response=VisitOut)
def get_visit(request, visit_id: int):
    return selectors.get_visit(request.auth, visit_id)


# --- cadence --------------------------------------------------------------------------------------


@router.get("/cadence/policies", response=list[PolicyOut])
def list_policies(request):
    return selectors.policies(request.auth)


@router.put("/cadence/policies/{dimension}/{value}", response=PolicyOut)
def save_policy(request, dimension: str, value: str, payload: PolicyIn):
    policy = services.save_policy(
        actor=request.auth,
        dimension=dimension,
        value=value,
        requirements=[r.dict() for r in payload.requirements],
        max_contacts_30d=payload.max_contacts_30d,
        service_plan=payload.service_plan,
        active=payload.active,
    )
    return policy


def _cadence_out(status) -> dict:
    return {
        "customer_id": status.customer.pk,
        "policy": f"{status.policy.dimension}:{status.policy.value}" if status.policy else None,
        "period_scale_pct": status.override.period_scale_pct if status.override else 100,
        "last_contact_on": status.last_contact_on,
        "due_on": status.due_on,
        "overdue": status.overdue,
        "contacts_30d": status.contacts_30d,
        "max_contacts_30d": status.max_contacts_30d,
        "over_maintained": status.over_maintained,
        "requirements": [
            {
                "kind": s.requirement.kind,
                "count": s.requirement.count,
                "period_days": s.period_days,
                "in_window": s.in_window,
                "last": s.last,
                "due_on": s.due_on,
                "met": s.met,
            }
            for s in status.statuses
        ],
    }


@router.get("/customers/{customer_id}/cadence", response=CadenceOut)
def customer_cadence(request, customer_id: int):
    return _cadence_out(selectors.cadence_status(request.auth, customer_id))


@router.put("/customers/{customer_id}/cadence", response=CadenceOut)
def set_customer_cadence(request, customer_id: int, payload: OverrideIn):
    services.set_override(actor=request.auth, customer_id=customer_id, **payload.dict())
    return _cadence_out(selectors.cadence_status(request.auth, customer_id))


@router.get("/cadence/overdue", response=list[OverdueOut])
def overdue(request, limit: int = 100, offset: int = 0):
    limit = max(1, min(limit, 500))
    rows = selectors.overdue_customers(request.auth)[offset : offset + limit]
    return [
        {
            "customer_id": c.pk,
            "name": c.name,
            "owner_id": c.owner_id,
            "last_contact_on": c.engagement.last_contact_on,
            "due_on": c.engagement.cadence_due_on,
        }
        for c in rows
    ]


# --- care -----------------------------------------------------------------------------------------


@router.get("/care/upcoming", response=list[OccasionOut])
def upcoming(request, days: int = 7):
    days = max(0, min(days, 366))
    return [
        {
            "day": u.day,
            "occasion": u.occasion,
            "title": u.title,
            "customer_id": u.customer.pk if u.customer else None,
            "contact_id": u.contact.pk if u.contact else None,
        }
        for u in selectors.upcoming_occasions(request.auth, days=days)
    ]


@router.get("/care/tasks", response=list[CareTaskOut])
def care_tasks(request, state: str = "open"):
    services.generate_care_tasks(customers=selectors.care_scope(request.auth))
    return list(selectors.care_tasks(request.auth, state=state)[:500])


@router.post("/care/tasks/{task_id}/close", response=CareTaskOut)
def close_care_task(request, task_id: int, payload: CareCloseIn):
    selectors.get_care_task(request.auth, task_id)
    return services.close_care_task(
        actor=request.auth, task_id=task_id, state=payload.state, message=payload.message
    )


class CareSettingsOut(Schema):
    days_ahead: int
    festival_tiers: list[str]


class CareSettingsPatch(Schema):
    days_ahead: int | None = None
    festival_tiers: list[str] | None = None


class TemplateOut(Schema):
    id: int
    occasion: str
    kind: str = Field(..., alias="channel")
    language: str
    body: str
    active: bool


class TemplateIn(Schema):
    occasion: str
    kind: str = "message"
    language: str
    body: str
    active: bool = True


class TemplatePatch(Schema):
    occasion: str | None = None
    kind: str | None = None
    language: str | None = None
    body: str | None = None
    active: bool | None = None


def _template_data(payload) -> dict:
    data = payload.dict(exclude_unset=True)
    if "kind" in data:
        data["channel"] = data.pop("kind")
    return data


@router.get("/care/settings", response=CareSettingsOut)
def get_care_settings(request):
    return selectors.care_settings()


@router.patch("/care/settings", response=CareSettingsOut)
def update_care_settings(request, payload: CareSettingsPatch):
    return services.update_care_settings(actor=request.auth, data=payload.dict(exclude_unset=True))


@router.get("/care/templates", response=list[TemplateOut])
def list_templates(request, occasion: str = "", inactive: bool = False):
    return selectors.message_templates(request.auth, occasion, inactive=inactive)


@router.post("/care/templates", response={201: TemplateOut})
def create_template(request, payload: TemplateIn):
    data = _template_data(payload)
    data.update({k: v for k, v in (("channel", payload.kind), ("active", payload.active)) if k not in data})
    return Status(201, services.save_message_template(actor=request.auth, data=data))


@router.patch("/care/templates/{template_id}", response=TemplateOut)
def update_template(request, template_id: int, payload: TemplatePatch):
    selectors.get_message_template(request.auth, template_id)
    return services.save_message_template(
        actor=request.auth, template_id=template_id, data=_template_data(payload)
    )


@router.get("/gifts", response=list[GiftOut])
def list_gifts(request, customer_id: int | None = None):
    return list(selectors.gifts(request.auth, customer_id=customer_id)[:500])


@router.post("/gifts", response={201: GiftOut})
def record_gift(request, payload: GiftIn):
    data = payload.dict()
    data["contact"] = data.pop("contact_id")
    data["task"] = data.pop("task_id")
    return Status(
        201, services.record_gift(actor=request.auth, customer_id=data.pop("customer_id"), data=data)
    )


# --- today and the work summary -------------------------------------------------------------------


@router.get("/today", response=list[TodaySectionOut])
def today(request):
    return [
        {"key": s.key, "title": str(s.title), "count": s.count, "link": s.link}
        for s in sections_for(request.auth)
    ]


@router.get("/summaries", response=list[SummaryOut])
def list_summaries(request, team: bool = False, days: int = 14):
    return list(selectors.daily_summaries(request.auth, team=team, days=max(0, min(days, 366)))[:500])


@router.put("/summaries/today", response=SummaryOut)
def write_summary(request, payload: SummaryIn):
    return services.save_daily_summary(
        actor=request.auth,
        day=payload.day or timezone.localdate(),
        text=payload.text,
        problems=payload.problems,
        tomorrow=payload.tomorrow,
    )
