"""Satisfaction surveys (C9) and service quality figures (C8): writes and reads.

A campaign sends one personal link per contact of the chosen customers (the primary contact, or
the first one, when a customer has several); a link is answered once and expires. NPS is the share
of promoters (9–10) minus the share of detractors (0–6), in points from −100 to 100; a detractor's
answer opens a follow-up complaint automatically.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core.errors import Forbidden, NotFound, ValidationFailed
from guanxi.customers.models import Contact, Customer
from guanxi.org.access import scope
from guanxi.org.models import Role, User

from .models import Evaluation, Kind, Segment, State, SurveyCampaign, SurveyInvitation, Ticket

DIMENSIONS = ("product_quality", "service_response", "value_for_money", "cooperation")
CAMPAIGN_ROLES = (Role.ADMIN, Role.MANAGER)


def dimension_labels() -> dict[str, str]:
    return {d: str(SurveyInvitation._meta.get_field(d).verbose_name) for d in DIMENSIONS}


# --- writes ---------------------------------------------------------------------------------------


def may_run_campaigns(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_admin or user.role in CAMPAIGN_ROLES))


def may_send_links(user) -> bool:
    """Who sees the unanswered personal links (a link lets its holder answer as the customer): not
    the read-only roles (auditor, analyst)."""
    return bool(
        user
        and user.is_authenticated
        and (user.is_admin or user.role in (Role.MANAGER, Role.ACCOUNT_MANAGER, Role.SERVICE_AGENT))
    )


def create_campaign(*, actor: User, name: str, segment: str, days: Any = 30) -> SurveyCampaign:
    if not may_run_campaigns(actor):
        raise Forbidden(_("Only managers and administrators run survey campaigns."))
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()[:200]
    if not name:
        errors["name"] = [_("Name the campaign, e.g. 2026 Q4 key accounts.")]
    if segment not in Segment.values:
        errors["segment"] = [_("Choose the customers.")]
    try:
        days = int(days)
        if not 1 <= days <= 365:
            raise ValueError
    except (TypeError, ValueError):
        errors["days"] = [_("Enter a number of days from 1 to 365.")]
    if errors:
        raise ValidationFailed(errors)
    customers = scope(actor, Customer.objects.all(), "view")
    if segment == Segment.KEY_ACCOUNTS:
        customers = customers.filter(is_key_account=True)
    customers = list(customers.order_by("pk"))
    if not customers:
        raise ValidationFailed.one("segment", _("No customer in this selection."))
    with transaction.atomic():
        campaign = SurveyCampaign.objects.create(
            name=name,
            segment=segment,
            created_by=actor,
            expires_at=timezone.now() + datetime.timedelta(days=days),
        )
        contacts: dict[int, list[Contact]] = defaultdict(list)
        for ct in Contact.objects.filter(customer__in=customers).order_by("-is_primary", "pk"):
            contacts[ct.customer_id].append(ct)
        SurveyInvitation.objects.bulk_create(
            [
                SurveyInvitation(campaign=campaign, customer=c, contact=ct)
                for c in customers
                for ct in contacts[c.pk]
            ]
            + [SurveyInvitation(campaign=campaign, customer=c) for c in customers if not contacts[c.pk]]
        )
    return campaign


def invitation_by_token(token: str) -> SurveyInvitation:
    inv = (
        SurveyInvitation.objects.select_related("campaign", "customer", "contact").filter(token=token).first()
        if token
        else None
    )
    if inv is None:
        raise NotFound()
    return inv


def _score(data, name: str, low: int, high: int, errors, required: bool = True) -> int | None:
    raw = data.get(name)
    if raw in (None, ""):
        if required:
            errors[name] = [_("Choose a score.")]
        return None
    try:
        v = int(raw)
        if not low <= v <= high:
            raise ValueError
    except (TypeError, ValueError):
        errors[name] = [_("Choose a score from %(low)s to %(high)s.") % {"low": low, "high": high}]
        return None
    return v


def answer(*, token: str, data: dict[str, Any]) -> SurveyInvitation:
    """The customer's answer through the personal link: once, before it expires. A detractor
    (0–6) opens a follow-up complaint assigned to the customer service department."""
    errors: dict[str, list[str]] = {}
    values = {"nps": _score(data, "nps", 0, 10, errors), "overall": _score(data, "overall", 0, 100, errors)}
    for d in DIMENSIONS:
        values[d] = _score(data, d, 1, 5, errors)
    comment = str(data.get("comment") or "").strip()[:5000]
    with transaction.atomic():
        inv = SurveyInvitation.objects.select_for_update().filter(token=token).first()
        if inv is None:
            raise NotFound()
        if inv.answered_at:
            raise ValidationFailed.one("__all__", _("This survey has already been answered. Thank you!"))
        if inv.campaign.expires_at <= timezone.now():
            raise ValidationFailed.one("__all__", _("This survey link has expired."))
        if errors:
            raise ValidationFailed(errors)
        for k, v in values.items():
            setattr(inv, k, v)
        inv.comment = comment
        inv.answered_at = timezone.now()
        if inv.nps <= 6:
            inv.follow_up = _follow_up(inv)
        inv.save()
    return inv


def _follow_up(inv: SurveyInvitation) -> Ticket | None:
    from . import services

    department = services.service_department()
    if department is None:
        return None
    who = inv.contact.name if inv.contact else ""
    text = _("Survey %(c)s: likelihood to recommend %(n)s/10, overall %(o)s/100.") % {
        "c": inv.campaign.name,
        "n": inv.nps,
        "o": inv.overall,
    }
    if inv.comment:
        text += "\n" + inv.comment
    ticket = Ticket(
        kind=Kind.COMPLAINT,
        channel="web_form",
        customer=inv.customer,
        contact=inv.contact,
        reporter_name=who,
        subject=_("Follow-up of a detractor's survey answer")[:200],
        description=text,
        severity="high",
        cause="other",
        department=department,
        created_at=timezone.now(),
    )
    return services._open(ticket, None, by_customer=True)


# --- reads ----------------------------------------------------------------------------------------


def campaigns(user) -> list[SurveyCampaign]:
    return list(scope(user, SurveyCampaign.objects.all(), "view").select_related("created_by"))


def get_campaign(user, campaign_id: int) -> SurveyCampaign:
    c = scope(user, SurveyCampaign.objects.filter(pk=campaign_id), "view").first()
    if c is None:
        raise NotFound()
    return c


def invitations(user, campaign_id: int):
    """The personal links the user may see (those of customers in their scope)."""
    return scope(user, SurveyInvitation.objects.filter(campaign_id=campaign_id), "view").select_related(
        "customer", "contact", "follow_up"
    )


def nps(scores: list[int]) -> int | None:
    if not scores:
        return None
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return round(100 * (promoters - detractors) / len(scores))


@dataclass
class Figures:
    label: str
    answers: int = 0
    nps: int | None = None
    overall: float | None = None
    dims: dict[str, float | None] = field(default_factory=dict)

    @property
    def bar(self) -> int:
        """Width (0–100) of the chart's bar: NPS from −100 to 100 mapped onto 0–100."""
        return 50 if self.nps is None else (self.nps + 100) // 2


def _figures(label: str, rows: list[SurveyInvitation]) -> Figures:
    def avg(name):
        vals = [getattr(r, name) for r in rows if getattr(r, name) is not None]
        return round(sum(vals) / len(vals), 1) if vals else None

    return Figures(
        label=label,
        answers=len(rows),
        nps=nps([r.nps for r in rows]),
        overall=avg("overall"),
        dims={d: avg(d) for d in DIMENSIONS},
    )


def results(user, campaign_id: int | None = None) -> dict[str, list[Figures] | Figures]:
    """NPS and dimension averages in total, per period, segment, owner and (rows the user may see)
    per customer."""
    qs = scope(user, SurveyInvitation.objects.filter(answered_at__isnull=False), "aggregate").select_related(
        "campaign", "customer", "customer__owner"
    )
    if campaign_id:
        qs = qs.filter(campaign_id=campaign_id)
    rows = list(qs)
    visible = set(
        scope(user, Customer.objects.filter(pk__in={r.customer_id for r in rows}), "view").values_list(
            "pk", flat=True
        )
    )

    def grouped(key, label, subset=None) -> list[Figures]:
        groups: dict[Any, list] = defaultdict(list)
        for r in rows if subset is None else subset:
            groups[key(r)].append(r)
        return sorted((_figures(label(k, g), g) for k, g in groups.items()), key=lambda f: f.label)

    seg_label = {
        True: str(gettext_lazy("Key accounts (大客户)")),
        False: str(gettext_lazy("Other customers")),
    }
    return {
        "total": _figures(str(gettext_lazy("All answers")), rows),
        "period": grouped(lambda r: r.campaign.period, lambda k, g: k),
        "segment": grouped(lambda r: r.customer.is_key_account, lambda k, g: seg_label[k]),
        "owner": grouped(lambda r: r.customer.owner_id, lambda k, g: str(g[0].customer.owner)),
        # customers by name only for the rows the user may see (analysts: aggregates only)
        "customer": grouped(
            lambda r: r.customer_id,
            lambda k, g: g[0].customer.name,
            [r for r in rows if r.customer_id in visible],
        ),
    }


# --- service quality figures ----------------------------------------------------------------------


def quality_definitions() -> list[tuple[str, str]]:
    return [
        (
            _("Satisfaction"),
            _(
                "Average overall score (0–100) of the survey answers in the period from the customers "
                "whose tickets the agent or department handled."
            ),
        ),
        (
            _("Resolution rate"),
            _(
                "Tickets opened in the period that are resolved or closed, divided by all tickets "
                "opened in the period."
            ),
        ),
        (
            _("First-response on-time rate"),
            _(
                "Tickets acknowledged by their first-response deadline, divided by "
                "the tickets whose first-response clock has stopped or expired."
            ),
        ),
        (
            _("Plan on-time rate"),
            _(
                "Tickets given a plan (work started) by their plan deadline, divided by the "
                "tickets whose plan clock has stopped or expired."
            ),
        ),
        (_("Suggestion adoption rate"), _("Suggestions adopted, divided by the suggestions evaluated.")),
    ]


def quarter_bounds(period: str) -> tuple[datetime.datetime, datetime.datetime]:
    year, q = int(period[:4]), int(period[-1])
    start = datetime.datetime(year, 3 * (q - 1) + 1, 1)
    end = datetime.datetime(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1)
    return timezone.make_aware(start), timezone.make_aware(end)


def current_period() -> str:
    d = timezone.localdate()
    return f"{d.year}Q{(d.month - 1) // 3 + 1}"


@dataclass
class Quality:
    label: str
    tickets: int
    satisfaction: float | None
    resolution: int | None
    response_on_time: int | None
    plan_on_time: int | None
    adoption: int | None


def _rate(num: int, den: int) -> int | None:
    return round(100 * num / den) if den else None


def quality(user, period: str) -> dict[str, list[Quality]]:
    start, end = quarter_bounds(period)
    now = timezone.now()
    tickets = list(
        scope(
            user, Ticket.objects.filter(created_at__gte=start, created_at__lt=end), "aggregate"
        ).select_related("assignee", "department")
    )
    answers = scope(
        user, SurveyInvitation.objects.filter(answered_at__gte=start, answered_at__lt=end), "aggregate"
    )
    overall_by_customer: dict[int, list[int]] = defaultdict(list)
    for cid, score in answers.values_list("customer_id", "overall"):
        overall_by_customer[cid].append(score)

    def figures(label: str, ts: list[Ticket]) -> Quality:
        scores = [s for cid in {t.customer_id for t in ts} for s in overall_by_customer.get(cid, [])]
        resp = [t for t in ts if t.acknowledged_at or t.response_due <= now]
        plan = [t for t in ts if t.started_at or t.plan_due <= now]
        evaluated = [t for t in ts if t.kind == Kind.SUGGESTION and t.evaluation]
        return Quality(
            label=label,
            tickets=len(ts),
            satisfaction=round(sum(scores) / len(scores), 1) if scores else None,
            resolution=_rate(sum(1 for t in ts if t.state in (State.RESOLVED, State.CLOSED)), len(ts)),
            response_on_time=_rate(
                sum(1 for t in resp if t.acknowledged_at and t.acknowledged_at <= t.response_due), len(resp)
            ),
            plan_on_time=_rate(
                sum(1 for t in plan if t.started_at and t.started_at <= t.plan_due), len(plan)
            ),
            adoption=_rate(sum(1 for t in evaluated if t.evaluation == Evaluation.ADOPTED), len(evaluated)),
        )

    by_agent: dict[Any, list] = defaultdict(list)
    by_dept: dict[Any, list] = defaultdict(list)
    for t in tickets:
        by_agent[t.assignee].append(t)
        by_dept[t.department].append(t)
    unassigned = str(gettext_lazy("Unassigned"))
    return {
        "total": [figures(str(gettext_lazy("All tickets")), tickets)],
        "agent": sorted(
            (figures(str(a) if a else unassigned, ts) for a, ts in by_agent.items()), key=lambda q: q.label
        ),
        "department": sorted((figures(str(d), ts) for d, ts in by_dept.items()), key=lambda q: q.label),
    }
