"""The engagement app's sections of Today (每日工作计划): visits due, missed visits, overdue cadence,
birthdays and festivals of the next 7 days, and the end-of-day work summary."""

import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.today.registry import Section

from . import selectors


def visits_due_section(user):
    today = timezone.localdate()
    qs = selectors.due_plans(user, today, days=2)
    items = list(qs[:20])
    if not items:
        return None
    tomorrow = today + datetime.timedelta(days=1)
    return Section(
        key="visits_due",
        title=_("Visits today and tomorrow"),
        template="engagement/today_visits.html",
        items=items,
        count=qs.count(),
        order=10,
        link=reverse("engagement:plans"),
        extra={"today": today, "tomorrow": tomorrow},
    )


def missed_section(user):
    qs = selectors.missed_plans(user)
    items = list(qs[:10])
    if not items:
        return None
    return Section(
        key="visits_missed",
        title=_("Missed visits"),
        template="engagement/today_missed.html",
        items=items,
        count=qs.count(),
        order=15,
        link=reverse("engagement:plans") + "?state=missed",
    )


def overdue_section(user):
    qs = selectors.overdue_customers(user)
    items = list(qs[:10])
    if not items:
        return None
    return Section(
        key="cadence_overdue",
        title=_("Customers past their cadence"),
        template="engagement/today_overdue.html",
        items=items,
        count=qs.count(),
        order=20,
        link=reverse("engagement:overdue"),
        extra={"today": timezone.localdate()},
    )


def care_section(user):
    items = selectors.upcoming_occasions(user, days=7)
    if not any(i.customer for i in items):
        return None  # festivals alone are for everyone's calendar, not a task list
    return Section(
        key="care",
        title=_("Birthdays and festivals in the next 7 days"),
        template="engagement/today_care.html",
        items=items[:15],
        count=len(items),
        order=30,
        link=reverse("engagement:care"),
    )


def summary_section(user):
    mine = selectors.todays_summary(user)
    team = (
        list(selectors.daily_summaries(user, team=True, days=1)[:10])
        if selectors.reads_team_summaries(user)
        else []
    )
    return Section(
        key="work_summary",
        title=_("End-of-day summary (工作总结)"),
        template="engagement/today_summary.html",
        items=team,
        count=len(team) if team else (0 if mine else 1),
        order=90,
        link=reverse("engagement:summary"),
        extra={"mine": mine},
    )
