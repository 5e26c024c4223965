"""The private iCalendar feed, parsed by an independent parser (icalendar), and its revocation."""

from __future__ import annotations

import datetime

from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from guanxi.engagement import services
from guanxi.engagement.models import CalendarFeed, CareTask


def test_feed_lists_my_visits_and_greetings_and_can_be_rotated_and_revoked(world):
    o = world.org
    at = timezone.make_aware(
        datetime.datetime.combine(timezone.localdate() + datetime.timedelta(days=2), datetime.time(14, 30))
    )
    plan = services.create_plan(
        actor=o.rep1a,
        customer_id=world.A.pk,
        data={"scheduled_at": at, "place": "客户会议室", "purpose": "季度回顾"},
    )
    services.create_plan(actor=o.rep2a, customer_id=world.B.pk, data={"scheduled_at": at})  # someone else's
    CareTask.objects.create(
        customer=world.A,
        contact=world.A1,
        occasion="birthday",
        title="生日",
        occurs_on=timezone.localdate() + datetime.timedelta(days=3),
        key="b",
        assignee=o.rep1a,
    )
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(o.rep1a)
    assert c.post(reverse("engagement:calendar"), {"action": "create"}).status_code == 302
    token = CalendarFeed.objects.get(user=o.rep1a).token
    page = c.get(reverse("engagement:calendar")).content.decode()
    assert token in page

    anon = Client()
    resp = anon.get(reverse("engagement:calendar_feed", args=[token]))
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(resp.content)
    events = {str(e["uid"]): e for e in cal.walk("VEVENT")}
    ev = events[f"plan-{plan.pk}@testserver"]
    assert world.A.name in str(ev["summary"]) and str(ev["location"]) == "客户会议室"
    assert ev.decoded("dtstart") == at and "季度回顾" in str(ev["description"])
    care = [e for uid, e in events.items() if uid.startswith("care-")]
    assert len(care) == 1 and care[0].decoded("dtstart") == timezone.localdate() + datetime.timedelta(days=3)
    assert world.B.name not in resp.content.decode()

    # replaced: the old link stops working; revoked: no link works
    c.post(reverse("engagement:calendar"), {"action": "rotate"})
    new = CalendarFeed.objects.get(user=o.rep1a).token
    assert new != token
    assert anon.get(reverse("engagement:calendar_feed", args=[token])).status_code == 404
    assert anon.get(reverse("engagement:calendar_feed", args=[new])).status_code == 200
    c.post(reverse("engagement:calendar"), {"action": "revoke"})
    assert anon.get(reverse("engagement:calendar_feed", args=[new])).status_code == 404
    assert anon.get(reverse("engagement:calendar_feed", args=["nonsense"])).status_code == 404
