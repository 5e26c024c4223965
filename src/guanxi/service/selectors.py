"""Every read of the service desk. Each starts from ``org.access.scope``."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from guanxi.core.errors import NotFound
from guanxi.customers.models import Customer
from guanxi.org.access import scope
from guanxi.org.models import Department, Role, User

from .models import (
    Attachment,
    Kind,
    ManualDay,
    ManualYear,
    PublicLink,
    ServiceSettings,
    Severity,
    SlaPolicy,
    State,
    Ticket,
    TicketEvent,
)

OPEN_STATES = (State.NEW, State.ACKNOWLEDGED, State.IN_PROGRESS)
NEAR = datetime.timedelta(hours=4)
FILTERS = ("kind", "state", "severity", "department", "assignee", "customer", "breached")


def breached_q(now: datetime.datetime) -> Q:
    """Tickets that broke a clock: stopped late, or still running past due."""
    response = Q(acknowledged_at__isnull=True, response_due__lt=now) | Q(
        acknowledged_at__isnull=False, acknowledged_at__gt=F("response_due")
    )
    plan = (
        Q(started_at__isnull=True, resolved_at__isnull=True, plan_due__lt=now)
        | Q(started_at__isnull=False, started_at__gt=F("plan_due"))
        | Q(started_at__isnull=True, resolved_at__isnull=False, resolved_at__gt=F("plan_due"))
    )
    promise = Q(promised_reply_at__isnull=False) & (
        Q(resolved_at__isnull=True, promised_reply_at__lt=now)
        | Q(resolved_at__isnull=False, resolved_at__gt=F("promised_reply_at"))
    )
    reopen = Q(reopen_due__isnull=False) & (
        Q(resolved_at__isnull=True, reopen_due__lt=now) | Q(resolved_at__gt=F("reopen_due"))
    )
    return response | plan | promise | reopen


def current_breach_q(now: datetime.datetime) -> Q:
    """Tickets whose current cycle broke a clock: the first cycle's clocks until a reopen, then
    only the reopened cycle's plan clock (what escalation and Today act on)."""
    first = Q(reopen_due__isnull=True) & breached_q(now)
    reopened = Q(reopen_due__isnull=False) & (
        Q(resolved_at__isnull=True, reopen_due__lt=now) | Q(resolved_at__gt=F("reopen_due"))
    )
    return first | reopened


def near_q(now: datetime.datetime) -> Q:
    """Open tickets with a running clock due within the next few hours."""
    soon = now + NEAR
    return (
        Q(acknowledged_at__isnull=True, response_due__gte=now, response_due__lte=soon)
        | Q(started_at__isnull=True, resolved_at__isnull=True, plan_due__gte=now, plan_due__lte=soon)
        | Q(resolved_at__isnull=True, promised_reply_at__gte=now, promised_reply_at__lte=soon)
        | Q(resolved_at__isnull=True, reopen_due__gte=now, reopen_due__lte=soon)
    )


@dataclass
class Page:
    items: list[Any]
    count: int
    limit: int
    offset: int
    filters: dict[str, str]

    @property
    def has_next(self) -> bool:
        return self.offset + self.limit < self.count

    @property
    def has_prev(self) -> bool:
        return self.offset > 0


def ticket_queryset(user: User, action: str = "view") -> QuerySet:
    return scope(user, Ticket.objects.all(), action).select_related(
        "customer", "contact", "department", "assignee"
    )


def ticket_list(
    user: User, *, filters: dict[str, Any] | None = None, limit: int = 50, offset: int = 0
) -> Page:
    filters = {k: str(v) for k, v in (filters or {}).items() if k in FILTERS and v not in (None, "")}
    qs = ticket_queryset(user)
    if filters.get("kind") in Kind.values:
        qs = qs.filter(kind=filters["kind"])
    state = filters.get("state")
    if state == "open":
        qs = qs.filter(state__in=OPEN_STATES)
    elif state in State.values:
        qs = qs.filter(state=state)
    if filters.get("severity") in Severity.values:
        qs = qs.filter(severity=filters["severity"])
    for name in ("department", "assignee", "customer"):
        value = filters.get(name)
        if value == "none" and name == "assignee":
            qs = qs.filter(assignee__isnull=True)
        elif value and value.isdigit():
            qs = qs.filter(**{f"{name}_id": int(value)})
    if filters.get("breached") in ("1", "true", "yes"):
        qs = qs.filter(breached_q(timezone.now()))
    limit = max(1, min(int(limit), 200))
    offset = max(0, int(offset))
    count = qs.count()
    return Page(
        list(qs.order_by("-created_at", "-id")[offset : offset + limit]), count, limit, offset, filters
    )


def get_ticket(user: User, ticket_id: int, action: str = "view") -> Ticket:
    t = (
        ticket_queryset(user, action)
        .select_related("created_by", "outcome_sent_by")
        .filter(pk=ticket_id)
        .first()
    )
    if t is None:
        raise NotFound()
    return t


def can_change(user: User, ticket: Ticket) -> bool:
    return scope(user, Ticket.objects.filter(pk=ticket.pk), "change").exists()


def timeline(user: User, ticket_id: int) -> list[TicketEvent]:
    return list(
        scope(user, TicketEvent.objects.filter(ticket_id=ticket_id), "view").select_related(
            "actor", "from_department", "to_department", "to_assignee"
        )
    )


def attachments(user: User, ticket_id: int) -> list[Attachment]:
    return list(
        scope(user, Attachment.objects.filter(ticket_id=ticket_id), "view").select_related("uploaded_by")
    )


def get_attachment(user: User, attachment_id: int) -> Attachment:
    att = scope(user, Attachment.objects.filter(pk=attachment_id), "view").first()
    if att is None:
        raise NotFound()
    return att


def customer_for_tickets(user: User, customer_id: int) -> Customer:
    """The customer whose tickets are shown on its card (404 outside the user's scope)."""
    c = scope(user, Customer.objects.filter(pk=customer_id), "view").first()
    if c is None:
        raise NotFound()
    return c


def tickets_of_customer(user: User, customer_id: int) -> list[Ticket]:
    return list(ticket_queryset(user).filter(customer_id=customer_id).prefetch_related("attachments")[:200])


def complaints_of_customer(user: User, customer_id: int) -> list[Ticket]:
    return [t for t in tickets_of_customer(user, customer_id) if t.kind == Kind.COMPLAINT]


def may_open_tickets(user: User) -> bool:
    return bool(
        user.is_authenticated
        and (user.is_admin or user.role in (Role.SERVICE_AGENT, Role.MANAGER, Role.ACCOUNT_MANAGER))
    )


def customers_for_new_ticket(user: User) -> QuerySet:
    return scope(user, Customer.objects.all(), "view").only("pk", "name").order_by("name")


def contacts_for(user: User, customer_id: int):
    from guanxi.customers.models import Contact

    return scope(user, Contact.objects.filter(customer_id=customer_id), "view").only("pk", "name", "title")


def departments() -> QuerySet:
    return Department.objects.all().order_by("name")


def assignable_users() -> QuerySet:
    return (
        User.objects.filter(is_active=True, department__isnull=False)
        .select_related("department")
        .order_by("department__name", "username")
    )


def public_link_of(user: User, customer_id: int) -> PublicLink | None:
    if not scope(user, Customer.objects.filter(pk=customer_id), "view").exists():
        return None
    return PublicLink.objects.filter(customer_id=customer_id).first()


def ticket_by_token(token: str) -> Ticket:
    t = Ticket.objects.select_related("customer").filter(public_token=token).first() if token else None
    if t is None:
        raise NotFound()
    return t


def public_customer(token: str) -> Customer:
    link = PublicLink.objects.select_related("customer").filter(token=token).first() if token else None
    if link is None:
        raise NotFound()
    return link.customer


def customer_events(ticket: Ticket) -> list[TicketEvent]:
    """What the customer sees on their personal link: the transitions, not internal notes."""
    return list(ticket.events.filter(type__in=("created", "transition")).order_by("at", "id"))


def today_tickets(user: User, now: datetime.datetime | None = None) -> tuple[list[Ticket], int]:
    """Tickets near their deadline or breached for ``user``: assigned to them; for a manager also
    those of their department (escalations); for a service agent also unassigned ones."""
    now = now or timezone.now()
    mine = Q(assignee=user)
    if user.role == Role.MANAGER and user.department_id:
        mine |= Q(department_id=user.department_id) | Q(assignee__department_id=user.department_id)
    if user.role == Role.SERVICE_AGENT or user.is_admin:
        mine |= Q(assignee__isnull=True)
    qs = ticket_queryset(user).filter(mine, state__in=OPEN_STATES).filter(current_breach_q(now) | near_q(now))
    return list(qs.order_by("response_due", "plan_due")[:10]), qs.count()


# --- administration ---------------------------------------------------------------------------------


def policies() -> dict[tuple[str, str], SlaPolicy]:
    return {(p.kind, p.severity): p for p in SlaPolicy.objects.all()}


def service_settings() -> ServiceSettings:
    return ServiceSettings.load()


def manual_days(year: int | None = None) -> QuerySet:
    qs = ManualDay.objects.all()
    return qs.filter(date__year=year) if year else qs


def manual_years() -> QuerySet:
    return ManualYear.objects.all()
