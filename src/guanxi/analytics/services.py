"""Writes of the analytics surfaces: starting a run (the computation itself is runs.py) and the
win-back task of the churn warning list (流失挽回)."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.errors import Forbidden, NotFound, ValidationFailed
from guanxi.customers.models import Customer
from guanxi.org.access import scope
from guanxi.org.models import User

from . import selectors
from .models import AnalyticsRun, CustomerScore

WINBACK_HOUR = 10


# --- runs ------------------------------------------------------------------------------------------


def start_run(*, actor: User, data: dict[str, Any], trigger: str = "ui") -> AnalyticsRun:
    """Queue an analytics run as of a date (administrators, managers and analysts; runs.py checks
    the role and the parameters). Class B must reach further than class A: equal thresholds would
    leave class B empty."""
    from . import runs

    if not runs.may_run(actor):
        raise Forbidden(_("Only administrators, managers and analysts start analytics runs."))
    params = {k: data[k] for k in ("as_of", "abc_by", "abc_a", "abc_b", "period_days") if k in data}
    try:
        equal = float(params.get("abc_a", 0.8)) >= float(params.get("abc_b", 0.95))
    except (TypeError, ValueError):
        equal = False  # runs.py names the field that is not a number
    if equal:
        raise ValidationFailed.one("abc_b", _("Class B must reach a larger cumulative share than class A."))
    return runs.request_run(actor=actor, trigger=trigger, **params)


# --- win-back (流失挽回) -----------------------------------------------------------------------------


def next_working_day(after: datetime.date) -> datetime.date:
    """The first working day after ``after`` on the company's calendar (法定节假日 and 调休)."""
    from guanxi.service.sla import work_calendar

    cal = work_calendar()
    day = after + datetime.timedelta(days=1)
    for _i in range(60):
        if cal.is_workday(day):
            return day
        day += datetime.timedelta(days=1)
    return after + datetime.timedelta(days=1)


def winback_purpose(score: CustomerScore | None) -> str:
    if score is None:
        return _(
            "Win-back (流失挽回): find out why the customer stopped buying and what would bring them back."
        )
    reasons = selectors.reasons_of(score.churn_reasons)
    text = _("Win-back (流失挽回): churn risk %(risk)s of 100.") % {"risk": round(score.churn_risk)}
    if reasons:
        text += " " + _("Reasons: %(reasons)s.") % {"reasons": _(", ").join(reasons)}
    return text + " " + _("Find out what would bring them back.")


def create_winback(*, actor: User, customer_id: Any) -> tuple[Any, bool]:
    """Create the win-back task of a customer at risk: a visit plan with the trigger win-back,
    assigned to the customer's account manager on the next working day, its purpose naming the
    reasons of the latest churn warning. While one is open, asking again returns it (created: False).
    """
    from guanxi.engagement import services as engagement
    from guanxi.engagement.models import OPEN_STATES, Trigger, VisitPlan

    from . import runs

    try:
        customer_id = int(customer_id)
    except (TypeError, ValueError):
        raise NotFound()
    with transaction.atomic():
        if not scope(actor, Customer.objects.filter(pk=customer_id), "view").exists():
            raise NotFound()
        customer = scope(actor, Customer.objects.filter(pk=customer_id), "change").select_related("owner")
        customer = customer.select_for_update(of=("self",)).first()
        if customer is None:
            raise Forbidden(_("Only the account team, managers and administrators plan win-back visits."))
        existing = (
            VisitPlan.objects.filter(customer=customer, trigger=Trigger.WIN_BACK, state__in=OPEN_STATES)
            .order_by("scheduled_at", "id")
            .first()
        )
        if existing is not None:
            return existing, False
        run = runs.latest_run()
        score = CustomerScore.objects.filter(run=run, customer=customer).first() if run else None
        day = next_working_day(timezone.localdate())
        at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(WINBACK_HOUR)))
        assignee = customer.owner if customer.owner.is_active else actor
        plan = engagement.create_plan(
            actor=actor,
            customer_id=customer.pk,
            data={
                "scheduled_at": at,
                "assignee": assignee.pk,
                "trigger": Trigger.WIN_BACK,
                "method": "phone",
                "purpose": winback_purpose(score),
            },
        )
        return plan, True
