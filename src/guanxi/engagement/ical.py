"""A user's private iCalendar feed (RFC 5545) of visits and greeting tasks, for Outlook, Google
Calendar and phones: reached by a secret URL that the user can rotate or revoke."""

from __future__ import annotations

import datetime

from django.utils import timezone
from icalendar import Calendar, Event


def build(user, plans, tasks, host: str = "guanxi") -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Guanxi CRM//engagement//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"Guanxi · {user}")
    cal.add("x-wr-timezone", timezone.get_current_timezone_name())
    now = timezone.now()
    for plan in plans:
        ev = Event()
        ev.add("uid", f"plan-{plan.pk}@{host}")
        ev.add("dtstamp", now)
        ev.add("dtstart", plan.scheduled_at)
        ev.add("dtend", plan.scheduled_at + datetime.timedelta(hours=1))
        ev.add("summary", f"{plan.get_method_display()}: {plan.customer.name}")
        if plan.place:
            ev.add("location", plan.place)
        ev.add("description", "\n".join(x for x in (plan.purpose, plan.content) if x))
        ev.add("status", {"confirmed": "CONFIRMED", "cancelled": "CANCELLED"}.get(plan.state, "TENTATIVE"))
        ev.add("sequence", plan.version)
        cal.add_component(ev)
    for task in tasks:
        ev = Event()
        ev.add("uid", f"care-{task.pk}@{host}")
        ev.add("dtstamp", now)
        ev.add("dtstart", task.occurs_on)
        ev.add("dtend", task.occurs_on + datetime.timedelta(days=1))
        who = task.contact.name if task.contact else task.customer.name
        ev.add("summary", f"{task.get_occasion_display()}: {who} · {task.title}")
        ev.add("description", task.customer.name)
        ev.add("transp", "TRANSPARENT")
        cal.add_component(ev)
    return cal.to_ical()
