"""Every read of visits, plans, cadence, care and summaries. Each starts from ``org.access.scope``."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from guanxi.core.errors import NotFound
from guanxi.customers import selectors as customer_selectors
from guanxi.customers.models import Contact, Customer
from guanxi.org.access import can, covered_user_ids, scope
from guanxi.org.models import Role, User

from . import cadence, carecal, services
from .models import (
    OPEN_STATES,
    CadenceOverride,
    CadencePolicy,
    CalendarFeed,
    CareSettings,
    CareState,
    CareTask,
    CustomerEngagement,
    DailySummary,
    Gift,
    MessageTemplate,
    Occasion,
    PlanState,
    Visit,
    VisitPlan,
)


def _sweep() -> None:
    """Plans whose day has passed become missed when a list is read (the sweep command does it too)."""
    services.mark_missed(timezone.localdate())


def _day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    return start, start + datetime.timedelta(days=1)


# --- plans and visits -----------------------------------------------------------------------------


def plans(
    user: User,
    *,
    mine: bool = False,
    state: str = "",
    customer_id: int | None = None,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
) -> QuerySet:
    _sweep()
    qs = scope(user, VisitPlan.objects.all(), "view").select_related("customer", "assignee")
    if mine:
        qs = qs.filter(assignee=user)
    if state == "open":
        qs = qs.filter(state__in=OPEN_STATES)
    elif state in PlanState.values:
        qs = qs.filter(state=state)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if start:
        qs = qs.filter(scheduled_at__gte=_day_bounds(start)[0])
    if end:
        qs = qs.filter(scheduled_at__lt=_day_bounds(end)[1])
    return qs.order_by("scheduled_at", "id")


def get_plan(user: User, plan_id: int) -> VisitPlan:
    _sweep()
    obj = (
        scope(user, VisitPlan.objects.all(), "view").select_related("customer", "assignee").filter(pk=plan_id)
    )
    plan = obj.prefetch_related("contacts").first()
    if plan is None:
        raise NotFound()
    return plan


def plan_history(user: User, plan_id: int) -> list:
    """The plan's state changes (who and when), oldest first."""
    plan = get_plan(user, plan_id)
    out = []
    for h in plan.history.select_related("state_changed_by", "history_user").order_by(
        "history_date", "history_id"
    ):
        if not out or out[-1].state != h.state:
            out.append(h)
    return out


def visits(user: User, *, customer_id: int | None = None, mine: bool = False) -> QuerySet:
    qs = scope(user, Visit.objects.all(), "view").select_related("customer", "recorded_by", "plan")
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if mine:
        qs = qs.filter(recorded_by=user)
    return qs.order_by("-visited_on", "-id")


def get_visit(user: User, visit_id: int) -> Visit:
    visit = visits(user).prefetch_related("contacts").filter(pk=visit_id).first()
    if visit is None:
        raise NotFound()
    return visit


def can_change_customer(user: User, customer: Customer) -> bool:
    return can(user, customer, "change")


def customer_for_change(user: User, customer_id: int) -> Customer:
    customer = customer_selectors.get_customer(user, customer_id)
    return customer


def contacts_for(user: User, customer_id: int) -> list[Contact]:
    return customer_selectors.contacts_of(user, customer_id)


def assignee_choices(user: User, customer: Customer) -> list[User]:
    """People who may be assigned a visit of ``customer``: whoever may change the customer."""
    candidates = User.objects.filter(
        Q(pk=customer.owner_id)
        | Q(pk__in=customer.account_team.values("pk"))
        | Q(pk=user.pk)
        | Q(department_id=customer.department_id, role=Role.MANAGER),
        is_active=True,
    ).order_by("username")
    return [u for u in candidates if can(u, customer, "change")]


# --- the target list (明确回访对象) -----------------------------------------------------------------

TARGET_FILTERS = ("due", "last_before", "never")


@dataclass
class TargetRow:
    customer: Customer
    last_contact_on: datetime.date | None
    due_on: datetime.date | None
    next_plan: VisitPlan | None
    contacts_total: int = 0

    @property
    def overdue(self) -> bool:
        return bool(self.due_on and self.due_on <= timezone.localdate())


@dataclass
class TargetPage:
    rows: list[TargetRow]
    count: int
    limit: int
    offset: int
    filters: dict[str, str] = field(default_factory=dict)

    @property
    def has_next(self) -> bool:
        return self.offset + self.limit < self.count


def targets(
    user: User, *, q: str = "", filters: dict[str, Any] | None = None, limit: int = 50, offset: int = 0
) -> TargetPage:
    """Customers to choose revisit targets from: the customer list's filters plus cadence due, last
    contact before a date and never contacted; the most overdue first."""
    filters = dict(filters or {})
    today = timezone.localdate()
    qs = customer_selectors.customer_queryset(user, q=q, filters=filters)
    used = {k: str(v) for k, v in filters.items() if v not in (None, "")}
    if filters.get("due"):
        qs = qs.filter(
            engagement__cadence_due_on__lte=today + datetime.timedelta(days=int(filters.get("within") or 0))
        )
    if filters.get("last_before"):
        try:
            before = datetime.date.fromisoformat(str(filters["last_before"]))
            qs = qs.filter(
                Q(engagement__last_contact_on__lt=before) | Q(engagement__last_contact_on__isnull=True)
            )
        except ValueError:
            used.pop("last_before", None)
    if filters.get("never"):
        qs = qs.filter(Q(engagement__last_contact_on__isnull=True) | Q(engagement__isnull=True))
    from django.db.models import F

    qs = qs.order_by(F("engagement__cadence_due_on").asc(nulls_last=True), "name", "id")
    limit = max(1, min(int(limit), 200))
    offset = max(0, int(offset))
    count = qs.count()
    items = list(qs.select_related("owner", "engagement")[offset : offset + limit])
    ids = [c.pk for c in items]
    nxt: dict[int, VisitPlan] = {}
    for p in VisitPlan.objects.filter(customer_id__in=ids, state__in=OPEN_STATES).order_by("scheduled_at"):
        nxt.setdefault(p.customer_id, p)
    rows = []
    for c in items:
        e = getattr(c, "engagement", None) if _has_engagement(c) else None
        rows.append(
            TargetRow(
                c,
                e.last_contact_on if e else None,
                e.cadence_due_on if e else None,
                nxt.get(c.pk),
                e.contacts_total if e else 0,
            )
        )
    return TargetPage(rows, count, limit, offset, used)


def _has_engagement(customer: Customer) -> bool:
    try:
        customer.engagement  # noqa: B018
    except CustomerEngagement.DoesNotExist:
        return False
    return True


# --- cadence (C6) ---------------------------------------------------------------------------------


def policies(user: User) -> list[CadencePolicy]:
    return list(scope(user, CadencePolicy.objects.all(), "view").prefetch_related("requirements"))


@dataclass
class CadenceStatus:
    customer: Customer
    policy: CadencePolicy | None
    override: CadenceOverride | None
    statuses: list[cadence.RequirementStatus]
    last_contact_on: datetime.date | None
    due_on: datetime.date | None
    contacts_30d: int
    max_contacts_30d: int | None
    recent_visits: list[Visit]
    contacts_total: int = 0

    @property
    def overdue(self) -> bool:
        return bool(self.due_on and self.due_on <= timezone.localdate())

    @property
    def over_maintained(self) -> bool:
        return bool(self.max_contacts_30d and self.contacts_30d > self.max_contacts_30d)


def cadence_status(user: User, customer_id: int, as_of: datetime.date | None = None) -> CadenceStatus:
    customer = customer_selectors.get_customer(user, customer_id)
    as_of = as_of or timezone.localdate()
    summary = CustomerEngagement.objects.filter(customer=customer).first()
    recent = summary.recent if summary else {}
    policy = services.policy_for(customer)
    override = CadenceOverride.objects.filter(customer=customer).first()
    scale = override.period_scale_pct if override else 100
    since = timezone.localtime(customer.created_at).date()
    statuses = cadence.evaluate(services.requirements_of(policy), recent, as_of, since, scale)
    maximum = (override.max_contacts_30d if override and override.max_contacts_30d else None) or (
        policy.max_contacts_30d if policy else cadence.DEFAULT_MAX_CONTACTS_30D
    )
    return CadenceStatus(
        customer=customer,
        policy=policy,
        override=override,
        statuses=statuses,
        last_contact_on=summary.last_contact_on if summary else None,
        due_on=cadence.due_on(statuses),
        contacts_30d=cadence.contacts_in_30_days(recent, as_of),
        max_contacts_30d=maximum,
        recent_visits=list(visits(user, customer_id=customer.pk)[:5]),
        contacts_total=summary.contacts_total if summary else 0,
    )


def overdue_customers(user: User, *, as_of: datetime.date | None = None) -> QuerySet:
    """Customers past their cadence that are ``user``'s concern: a rep's own (and those covered as
    deputy), a manager's department's, everyone's for an administrator."""
    as_of = as_of or timezone.localdate()
    qs = scope(user, Customer.objects.all(), "view").filter(engagement__cadence_due_on__lte=as_of)
    if user.is_admin:
        pass
    elif user.role == Role.MANAGER:
        qs = qs.filter(department_id=user.department_id) if user.department_id else qs.filter(owner=user)
    else:
        qs = qs.filter(owner_id__in=covered_user_ids(user))
    return qs.select_related("owner", "engagement").order_by("engagement__cadence_due_on", "name", "id")


def over_maintained(user: User, as_of: datetime.date | None = None) -> list[tuple[Customer, int, int]]:
    """A user's customers contacted more often in 30 days than their maximum allows (过度维护)."""
    as_of = as_of or timezone.localdate()
    start = as_of - datetime.timedelta(days=30)
    qs = scope(user, Customer.objects.all(), "view").filter(engagement__last_contact_on__gt=start)
    if not user.is_admin:
        qs = (
            qs.filter(owner_id__in=covered_user_ids(user))
            if user.role != Role.MANAGER
            else qs.filter(department_id=user.department_id)
        )
    customers = list(qs.select_related("engagement")[:500])
    # the policies and overrides read once (not per customer); same choice as services.policy_for
    active = {
        (p.dimension, p.value): p
        for p in CadencePolicy.objects.filter(active=True).prefetch_related("requirements")
    }
    overrides = {
        o.customer_id: o for o in CadenceOverride.objects.filter(customer__in=[c.pk for c in customers])
    }
    out = []
    for c in customers:
        n = cadence.contacts_in_30_days(c.engagement.recent, as_of)
        candidates = (active.get((d, getattr(c, d))) for d in ("strategic_type", "maintenance_tier"))
        policy = next((p for p in candidates if p is not None and p.requirements.all()), None)
        maximum = policy.max_contacts_30d if policy else cadence.DEFAULT_MAX_CONTACTS_30D
        override = overrides.get(c.pk)
        if override and override.max_contacts_30d:
            maximum = override.max_contacts_30d
        if n > maximum:
            out.append((c, n, maximum))
    return out


# --- Today ----------------------------------------------------------------------------------------


def due_plans(user: User, day: datetime.date, days: int = 2) -> QuerySet:
    start, _end = _day_bounds(day)
    end = start + datetime.timedelta(days=days)
    return plans(user, mine=True, state="open").filter(scheduled_at__gte=start, scheduled_at__lt=end)


def missed_plans(user: User, *, since_days: int = 30) -> QuerySet:
    since = timezone.localdate() - datetime.timedelta(days=since_days)
    return plans(user, mine=True, state=PlanState.MISSED, start=since).order_by("-scheduled_at", "-id")


# --- the end-of-day summary -----------------------------------------------------------------------


def daily_summaries(user: User, *, team: bool = False, days: int = 14) -> QuerySet:
    since = timezone.localdate() - datetime.timedelta(days=days)
    qs = scope(user, DailySummary.objects.all(), "view").select_related("user").filter(day__gte=since)
    if not team:
        qs = qs.filter(user=user)
    else:
        qs = qs.exclude(user=user)
    return qs.order_by("-day", "user__username")


def todays_summary(user: User) -> DailySummary | None:
    return DailySummary.objects.filter(user=user, day=timezone.localdate()).first()


def reads_team_summaries(user: User) -> bool:
    return user.is_admin or user.role in (Role.MANAGER, Role.AUDITOR)


# --- care (C7) ------------------------------------------------------------------------------------


@dataclass
class Upcoming:
    day: datetime.date
    occasion: str
    title: str
    customer: Customer
    contact: Contact | None

    @property
    def days_left(self) -> int:
        return (self.day - timezone.localdate()).days


def upcoming_occasions(user: User, *, days: int = 7, as_of: datetime.date | None = None) -> list[Upcoming]:
    """Birthdays, anniversaries and festivals of the next ``days`` days among the user's own
    customers (computed for the year in question; personal fields only where the user may see them)."""
    as_of = as_of or timezone.localdate()
    end = as_of + datetime.timedelta(days=days)
    mine = scope(user, Customer.objects.all(), "view_personal").filter(owner_id__in=covered_user_ids(user))
    contacts = scope(user, Contact.objects.all(), "view_personal").filter(customer__in=mine.values("pk"))
    contacts = contacts.filter(Q(birthday_month__isnull=False) | ~Q(anniversaries="")).select_related(
        "customer"
    )
    out = []
    for contact in contacts[:2000]:
        for occ in carecal.contact_occasions(contact, as_of, end):
            out.append(Upcoming(occ.day, occ.occasion, occ.title, contact.customer, contact))
    for occ in carecal.festival_occasions(as_of, end):
        out.append(Upcoming(occ.day, occ.occasion, occ.title, None, None))
    return sorted(out, key=lambda u: (u.day, u.occasion, u.customer.name if u.customer else ""))


def care_tasks(
    user: User, *, mine: bool = True, state: str = "open", customer_id: int | None = None
) -> QuerySet:
    qs = scope(user, CareTask.objects.all(), "view").select_related("customer", "contact", "assignee")
    # birthdays and anniversaries are personal data: only where the user may see personal fields
    personal = scope(user, CareTask.objects.all(), "view_personal").values("pk")
    qs = qs.filter(~Q(occasion__in=(Occasion.BIRTHDAY, Occasion.ANNIVERSARY)) | Q(pk__in=personal))
    if mine:
        qs = qs.filter(assignee=user)
    if state in CareState.values:
        qs = qs.filter(state=state)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    return qs.order_by("occurs_on", "id")


def get_care_task(user: User, task_id: int) -> CareTask:
    task = care_tasks(user, mine=False, state="").filter(pk=task_id).first()
    if task is None:
        raise NotFound()
    return task


def message_templates(user: User, occasion: str = "", *, inactive: bool = False) -> list[MessageTemplate]:
    """The greeting templates (active ones only unless ``inactive``)."""
    qs = scope(user, MessageTemplate.objects.all(), "view")
    if not inactive:
        qs = qs.filter(active=True)
    if occasion:
        qs = qs.filter(occasion=occasion)
    return list(qs)


def render_message(template: MessageTemplate, task: CareTask, sender: User) -> str:
    values = {
        "name": task.contact.name if task.contact else task.customer.name,
        "customer": task.customer.name,
        "occasion": task.title,
        "sender": str(sender),
    }
    try:
        return template.body.format(**values)
    except (KeyError, IndexError, ValueError):
        return template.body


def gifts(user: User, *, customer_id: int | None = None) -> QuerySet:
    qs = scope(user, Gift.objects.all(), "view").select_related("customer", "contact", "given_by")
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    return qs.order_by("-given_on", "-id")


def gift_history(user: User, gift_id: int) -> list:
    gift = gifts(user).filter(pk=gift_id).first()
    if gift is None:
        raise NotFound()
    return list(gift.history.select_related("history_user").order_by("history_date"))


def care_settings() -> CareSettings:
    return CareSettings.load()


def get_message_template(user: User, template_id: int) -> MessageTemplate:
    template = scope(user, MessageTemplate.objects.filter(pk=template_id), "view").first()
    if template is None:
        raise NotFound()
    return template


def calendar_feed(user: User) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=user).first()


def care_scope(user: User) -> QuerySet:
    """The customers whose greeting tasks ``user`` looks after (own and covered as deputy)."""
    return scope(user, Customer.objects.all(), "change").filter(owner_id__in=covered_user_ids(user))


# --- the pre-visit brief --------------------------------------------------------------------------


@dataclass
class Brief:
    customer: Customer
    status: CadenceStatus
    contacts: list[Contact]
    personal: bool
    visits: list[Visit]
    plans: list[VisitPlan]
    tickets: list[Any]
    revenue: list[Any]


def open_tickets(user: User, customer_id: int) -> list[Any]:
    """Open tickets and complaints of the customer when the service desk is installed."""
    from django.apps import apps

    if not apps.is_installed("guanxi.service"):
        return []
    try:
        from guanxi.service import selectors as service_selectors

        tickets = service_selectors.tickets_of_customer(user, customer_id)
    except Exception:  # noqa: BLE001 - the brief never fails because of another app
        return []
    return [t for t in tickets if getattr(t, "state", "") != "closed"][:20]


def brief(user: User, customer_id: int) -> Brief:
    """The pre-visit brief assembled from the card: basics, key people (personal notes where the
    user may see them), recent revenue, open tickets and complaints, the last visits and what was
    promised in them, and the visits planned."""
    status = cadence_status(user, customer_id)
    customer = status.customer
    personal = bool(customer_selectors.personal_access(user, [customer.pk]))
    return Brief(
        customer=customer,
        status=status,
        contacts=customer_selectors.contacts_of(user, customer.pk)
        if scope(user, Contact.objects.filter(customer=customer), "view").exists()
        else [],
        personal=personal,
        visits=list(visits(user, customer_id=customer.pk)[:5]),
        plans=list(plans(user, customer_id=customer.pk, state="open")[:5]),
        tickets=open_tickets(user, customer.pk),
        revenue=customer_selectors.revenue_history(user, customer.pk, months=6),
    )


def feed_owner(token: str) -> User:
    """The user of a calendar feed token (404 for an unknown or revoked one)."""
    feed = CalendarFeed.objects.select_related("user").filter(token=token).first() if token else None
    if feed is None or not feed.user.is_active:
        raise NotFound()
    return feed.user


def feed_items(user: User) -> tuple[list[VisitPlan], list[CareTask]]:
    """The user's visits (open, done or missed, from 60 days back) and open greeting tasks."""
    since = timezone.localdate() - datetime.timedelta(days=60)
    ps = list(plans(user, mine=True, state="", start=since).exclude(state="cancelled")[:1000])
    ts = list(care_tasks(user, state="open")[:500])
    return ps, ts


# --- follow-up counts (跟进次数) -------------------------------------------------------------------

# the seeds: 2% of deals close at the 1st follow-up, 3% at the 2nd, 5% at the 3rd, 10% at the 4th,
# 80% at the 5th to the 11th
FOLLOWUP_BUCKETS = [
    ("1", 1, 1, 2),
    ("2", 2, 2, 3),
    ("3", 3, 3, 5),
    ("4", 4, 4, 10),
    ("5–11", 5, 11, 80),
    ("12+", 12, 10_000, 0),
]
STALL_DAYS = 30


@dataclass
class FollowupReport:
    buckets: list[dict]
    wins: int
    dropped: list[tuple[Customer, int, datetime.date | None]]
    stalled: list[tuple[Customer, int, datetime.date | None]]
    mine_only: bool


def followups(user: User, *, as_of: datetime.date | None = None) -> FollowupReport:
    """Wins by the follow-up at which they came, and active prospects dropped after the first
    follow-up or stalled before the fourth (no contact for STALL_DAYS days)."""
    from guanxi.customers.models import ClassificationChange

    as_of = as_of or timezone.localdate()
    base = scope(user, Customer.objects.all(), "view")
    mine_only = not (user.is_admin or user.role in (Role.MANAGER, Role.ANALYST, Role.AUDITOR))
    if mine_only:
        base = base.filter(owner_id__in=covered_user_ids(user))
    won_at: dict[int, datetime.datetime] = {}
    changes = ClassificationChange.objects.filter(customer__in=base.values("pk")).filter(
        Q(field="deal_state", new_value="won") | Q(field="lifecycle_stage", new_value="signed")
    )
    for cid, at in changes.order_by("changed_at").values_list("customer_id", "changed_at"):
        won_at.setdefault(cid, at)
    counts: dict[int, int] = {}
    for cid, day in Visit.objects.filter(customer_id__in=list(won_at)).values_list(
        "customer_id", "visited_on"
    ):
        if day <= timezone.localtime(won_at[cid]).date():
            counts[cid] = counts.get(cid, 0) + 1
    buckets = []
    wins = [n for cid, n in ((cid, counts.get(cid, 0)) for cid in won_at) if n > 0]
    for label, lo, hi, seed_pct in FOLLOWUP_BUCKETS:
        n = sum(1 for x in wins if lo <= x <= hi)
        buckets.append(
            {"label": label, "wins": n, "pct": (n * 100 / len(wins)) if wins else 0, "seed_pct": seed_pct}
        )
    stale = as_of - datetime.timedelta(days=STALL_DAYS)
    prospects = (
        base.filter(lifecycle_stage__in=["potential", "intent"])
        .exclude(deal_state="won")
        .filter(
            engagement__contacts_total__gte=1,
            engagement__contacts_total__lte=3,
            engagement__last_contact_on__lt=stale,
        )
        .select_related("owner", "engagement")
        .order_by("engagement__last_contact_on")[:200]
    )
    dropped, stalled = [], []
    for c in prospects:
        row = (c, c.engagement.contacts_total, c.engagement.last_contact_on)
        (dropped if c.engagement.contacts_total == 1 else stalled).append(row)
    return FollowupReport(buckets, len(wins), dropped, stalled, mine_only)
