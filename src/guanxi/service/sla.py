"""SLA clocks (C8): the seeds' defaults — an ordinary issue is answered within 24 calendar hours,
a complex one gets a plan within 3 working days — configurable per type and severity as calendar
or working time (SlaPolicy), on the working day of ServiceSettings and the official calendar."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from .models import ClockUnit, ManualDay, ManualYear, ServiceSettings, SlaPolicy
from .worktime import WorkCalendar, library_knows

DEFAULT_RESPONSE = (24, ClockUnit.CALENDAR_HOURS)
DEFAULT_PLAN = (3, ClockUnit.WORKING_DAYS)


def work_calendar() -> WorkCalendar:
    s = ServiceSettings.load()
    return WorkCalendar(
        start=s.workday_start,
        end=s.workday_end,
        manual_days=dict(ManualDay.objects.values_list("date", "is_workday")),
        manual_years=set(ManualYear.objects.filter(complete=True).values_list("year", flat=True)),
    )


def policy_for(kind: str, severity: str) -> tuple[tuple[int, str], tuple[int, str]]:
    p = SlaPolicy.objects.filter(kind=kind, severity=severity).first()
    if p is None:
        return DEFAULT_RESPONSE, DEFAULT_PLAN
    return (p.response_amount, p.response_unit), (p.plan_amount, p.plan_unit)


def add_clock(cal: WorkCalendar, start: datetime.datetime, amount: int, unit: str) -> datetime.datetime:
    """``start`` (aware) plus ``amount`` of ``unit``; an aware result."""
    if unit == ClockUnit.CALENDAR_HOURS:
        return start + datetime.timedelta(hours=amount)
    local = timezone.localtime(start).replace(tzinfo=None, microsecond=0)
    if unit == ClockUnit.WORKING_HOURS:
        due = cal.add(local, datetime.timedelta(hours=amount))
    else:
        due = cal.add_working_days(local, amount)
    return timezone.make_aware(due)


@dataclass
class Clocks:
    response_due: datetime.datetime
    plan_due: datetime.datetime
    note: str
    fallback: bool


def describe(amount: int, unit: str) -> str:
    return f"{amount} {ClockUnit(unit).label}"


def clocks_for(kind: str, severity: str, start: datetime.datetime) -> Clocks:
    cal = work_calendar()
    (ra, ru), (pa, pu) = policy_for(kind, severity)
    response_due = add_clock(cal, start, ra, ru)
    plan_due = add_clock(cal, start, pa, pu)
    note = _("first response within %(r)s; plan within %(p)s") % {
        "r": describe(ra, ru),
        "p": describe(pa, pu),
    }
    fallback = bool(cal.unknown_years)
    if fallback:
        years = ", ".join(str(y) for y in sorted(cal.unknown_years))
        note += "; " + _(
            "the holiday calendar does not know %(years)s yet: weekends only were counted as days off"
        ) % {"years": years}
    return Clocks(response_due, plan_due, note[:300], fallback)


def unknown_years(years) -> list[int]:
    """Those of ``years`` neither the library nor an administrator's entry knows."""
    manual = set(ManualYear.objects.filter(complete=True).values_list("year", flat=True))
    return [y for y in years if y not in manual and not library_knows(y)]
