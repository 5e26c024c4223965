"""REST endpoints of the service desk: /tickets (list, create, detail, transition, transfer)."""

from __future__ import annotations

import datetime

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from . import selectors, services

router = Router()


class EventOut(Schema):
    id: int
    type: str
    from_state: str
    to_state: str
    from_department_id: int | None
    to_department_id: int | None
    to_assignee_id: int | None
    actor_id: int | None
    by_customer: bool
    note: str
    at: datetime.datetime


class TicketItem(Schema):
    id: int
    number: str
    kind: str
    channel: str
    customer_id: int
    customer_name: str
    contact_id: int | None
    subject: str
    severity: str
    cause: str
    state: str
    department_id: int
    assignee_id: int | None
    response_due: datetime.datetime
    plan_due: datetime.datetime
    promised_reply_at: datetime.datetime | None
    breaches: list[str]
    created_at: datetime.datetime
    version: int

    @staticmethod
    def resolve_customer_name(obj) -> str:
        return obj.customer.name

    @staticmethod
    def resolve_breaches(obj) -> list[str]:
        return obj.breaches()


class TicketOut(TicketItem):
    description: str
    reporter_name: str
    occurred_at: datetime.datetime | None
    impact_scope: str
    expectation: str
    course_of_events: str
    customer_position: str
    dispute: str
    dispute_outcome: str
    evaluation: str
    evaluation_reason: str
    outcome_message: str
    outcome_sent_at: datetime.datetime | None
    plan: str
    resolution: str
    acknowledged_at: datetime.datetime | None
    started_at: datetime.datetime | None
    resolved_at: datetime.datetime | None
    closed_at: datetime.datetime | None
    reopen_count: int
    reopened_at: datetime.datetime | None
    reopen_due: datetime.datetime | None
    reply_language: str
    sla_note: str
    sla_fallback: bool
    escalated_at: datetime.datetime | None
    events: list[EventOut]

    @staticmethod
    def resolve_events(obj, context) -> list:
        return selectors.timeline(context["request"].auth, obj.pk)


class TicketPage(Schema):
    items: list[TicketItem]
    count: int


class TicketFilters(Schema):
    kind: str | None = None
    state: str | None = None
    severity: str | None = None
    department: int | None = None
    assignee: str | None = None
    customer: int | None = None
    breached: bool | None = None


class TicketCreate(Schema):
    kind: str
    channel: str
    customer_id: int
    contact_id: int | None = None
    subject: str
    description: str
    severity: str = "normal"
    occurred_at: datetime.datetime | None = None
    impact_scope: str = ""
    expectation: str = ""
    cause: str = ""
    promised_reply_at: datetime.datetime | None = None
    reply_language: str = "zh-hans"
    department_id: int | None = None
    assignee_id: int | None = None


class TransitionIn(Schema):
    action: str
    version: int
    note: str = ""


class TransferIn(Schema):
    version: int
    department_id: int
    assignee_id: int | None = None
    note: str = ""


@router.get("/tickets", response=TicketPage, tags=["tickets"])
def list_tickets(request: HttpRequest, filters: Query[TicketFilters], limit: int = 50, offset: int = 0):
    """Tickets in the caller's scope, newest first; `state=open` for every open one; `breached=true`
    for those that broke a clock."""
    data = filters.dict(exclude_none=True)
    if "breached" in data:
        data["breached"] = "1" if data["breached"] else ""
    page = selectors.ticket_list(request.auth, filters=data, limit=limit, offset=offset)
    return {"items": page.items, "count": page.count}


@router.post("/tickets", response={201: TicketOut}, tags=["tickets"])
def create_ticket(request: HttpRequest, payload: TicketCreate):
    ticket = services.create_ticket(actor=request.auth, data=payload.dict())
    return Status(201, selectors.get_ticket(request.auth, ticket.pk))


@router.get("/tickets/{ticket_id}", response=TicketOut, tags=["tickets"])
def get_ticket(request: HttpRequest, ticket_id: int):
    return selectors.get_ticket(request.auth, ticket_id)


@router.post("/tickets/{ticket_id}/transition", response=TicketOut, tags=["tickets"])
def transition(request: HttpRequest, ticket_id: int, payload: TransitionIn):
    """`action`: acknowledge, start (note = the plan), resolve (note = the resolution), close (the
    customer confirmed), reopen (note = why). A transition the state does not allow answers 422;
    a stale `version` answers 409."""
    services.transition(
        actor=request.auth,
        ticket_id=ticket_id,
        action=payload.action,
        version=payload.version,
        note=payload.note,
    )
    return selectors.get_ticket(request.auth, ticket_id)


@router.post("/tickets/{ticket_id}/transfer", response=TicketOut, tags=["tickets"])
def transfer(request: HttpRequest, ticket_id: int, payload: TransferIn):
    """Hand the ticket to another department (and assignee); recorded on its timeline."""
    services.transfer(
        actor=request.auth,
        ticket_id=ticket_id,
        version=payload.version,
        department_id=payload.department_id,
        assignee_id=payload.assignee_id,
        note=payload.note,
    )
    return selectors.get_ticket(request.auth, ticket_id)


# --- satisfaction surveys (C9) --------------------------------------------------------------------


class SurveyFigures(Schema):
    label: str
    answers: int
    nps: int | None
    overall: float | None
    dims: dict[str, float | None]


class SurveyItem(Schema):
    id: int
    name: str
    segment: str
    period: str
    expires_at: datetime.datetime
    created_at: datetime.datetime


class SurveyPage(Schema):
    items: list[SurveyItem]
    count: int


class SurveyOut(SurveyItem):
    total: SurveyFigures
    per_customer: list[SurveyFigures]
    per_owner: list[SurveyFigures]
    per_segment: list[SurveyFigures]


@router.get("/surveys", response=SurveyPage, tags=["surveys"])
def list_surveys(request: HttpRequest):
    """Survey campaigns, newest first."""
    from . import surveys

    items = surveys.campaigns(request.auth)
    return {"items": items, "count": len(items)}


@router.get("/surveys/{survey_id}", response=SurveyOut, tags=["surveys"])
def get_survey(request: HttpRequest, survey_id: int):
    """A campaign's results: NPS (−100…100), overall (0–100) and dimension averages (1–5), in
    total and per customer (those in the caller's scope), owner and segment."""
    from . import surveys

    campaign = surveys.get_campaign(request.auth, survey_id)
    r = surveys.results(request.auth, survey_id)
    return {
        "id": campaign.pk,
        "name": campaign.name,
        "segment": campaign.segment,
        "period": campaign.period,
        "expires_at": campaign.expires_at,
        "created_at": campaign.created_at,
        "total": r["total"],
        "per_customer": r["customer"],
        "per_owner": r["owner"],
        "per_segment": r["segment"],
    }
