"""Visits and revisits (C5): plans, the state flow, records, the next plan, missed plans, the target
list, the card, Today and the API conventions."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

import factories
from guanxi.engagement import selectors, services
from guanxi.engagement.models import CustomerEngagement, PlanState, Visit, VisitPlan
from guanxi.today.registry import sections_for


def at(days: int, hour: int = 10) -> datetime.datetime:
    day = timezone.localdate() + datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 0)))


def plan(user, customer, days: int = 1, **data):
    return services.create_plan(actor=user, customer_id=customer.pk, data={"scheduled_at": at(days), **data})


def test_plan_state_flow_only_allows_its_transitions_and_records_who_and_when(world):
    o = world.org
    p = plan(o.rep1a, world.A, contacts=[world.A1.pk], purpose="了解使用情况")
    assert p.state == PlanState.PLANNED and p.assignee == o.rep1a
    p = services.transition_plan(actor=o.rep1a, plan_id=p.pk, to="confirmed", version=p.version)
    assert (p.state, p.state_changed_by, p.version) == ("confirmed", o.rep1a, 2)
    assert p.state_changed_at is not None
    with pytest.raises(services.ValidationFailed):
        services.transition_plan(actor=o.rep1a, plan_id=p.pk, to="planned")
    with pytest.raises(services.ValidationFailed):
        services.transition_plan(actor=o.rep1a, plan_id=p.pk, to="done")  # done only by recording it
    with pytest.raises(services.Conflict):
        services.transition_plan(actor=o.rep1a, plan_id=p.pk, to="cancelled", version=1)
    p = services.transition_plan(actor=o.rep1a, plan_id=p.pk, to="cancelled", note="客户出差")
    with pytest.raises(services.ValidationFailed):
        services.transition_plan(actor=o.rep1a, plan_id=p.pk, to="confirmed")
    assert [h.state for h in selectors.plan_history(o.rep1a, p.pk)] == ["planned", "confirmed", "cancelled"]
    # outside the customer's scope: not found; visible but not changeable: forbidden
    with pytest.raises(services.NotFound):
        plan(o.rep2a, world.A)
    with pytest.raises(services.Forbidden):
        plan(o.service, world.A)
    with pytest.raises(services.ValidationFailed) as e:
        plan(o.rep1a, world.A, contacts=[world.B1.pk])
    assert "contacts" in e.value.errors
    with pytest.raises(services.ValidationFailed) as e:
        plan(o.rep1a, world.A, assignee=o.rep2a.pk)
    assert "assignee" in e.value.errors


def test_recording_a_visit_closes_the_plan_creates_the_next_and_keeps_last_contact(world):
    o = world.org
    p = plan(o.rep1a, world.A, days=0, method="in_person", place="客户会议室", contacts=[world.A1.pk])
    today = timezone.localdate()
    visit = services.record_visit(
        actor=o.rep1a,
        plan_id=p.pk,
        data={
            "visited_on": today,
            "actual_arrival": at(0, 10) + datetime.timedelta(minutes=12),
            "content": "回顾季度供货",
            "received_by": "采购部",
            "their_seniority": "总监",
            "our_people": "张伟",
            "our_seniority": "大客户经理",
            "deal_progress": "续约谈判中",
            "feedback": "满意",
            "product_usage": "稳定",
            "service_satisfaction": 4,
            "opinion_of_us": "专业",
            "continuation": "high",
            "follow_ups": "下周寄送样品",
            "next_visit_on": today + datetime.timedelta(days=30),
        },
    )
    p.refresh_from_db()
    assert p.state == "done" and visit.plan_id == p.pk
    assert visit.scheduled_arrival == p.scheduled_at and visit.late_minutes == 12 and visit.on_time is False
    assert visit.place == "客户会议室" and [c.pk for c in visit.contacts.all()] == [world.A1.pk]
    nxt = VisitPlan.objects.get(follows=visit)
    assert timezone.localtime(nxt.scheduled_at).date() == today + datetime.timedelta(days=30)
    assert nxt.state == "planned" and nxt.assignee == o.rep1a and nxt.purpose == "下周寄送样品"
    summary = CustomerEngagement.objects.get(customer=world.A)
    assert summary.last_contact_on == today and summary.contacts_total == 1
    # an older phone revisit does not move the last contact back; the phone form drops in-person fields
    phone = services.record_visit(
        actor=o.rep1a,
        customer_id=world.A.pk,
        data={
            "form": "phone",
            "visited_on": today - datetime.timedelta(days=3),
            "content": "电话回访",
            "place": "x",
        },
    )
    assert phone.method == "phone" and phone.place == ""
    summary.refresh_from_db()
    assert summary.last_contact_on == today and summary.contacts_total == 2
    with pytest.raises(services.ValidationFailed):
        services.record_visit(actor=o.rep1a, plan_id=p.pk, data={"visited_on": today, "content": "again"})
    with pytest.raises(services.ValidationFailed) as e:
        services.record_visit(
            actor=o.rep1a,
            customer_id=world.A.pk,
            data={"visited_on": today + datetime.timedelta(days=1), "content": "x", "next_visit_on": today},
        )
    assert {"visited_on"} <= set(e.value.errors)
    with pytest.raises(services.ValidationFailed) as e:
        services.record_visit(
            actor=o.rep1a, customer_id=world.A.pk, data={"visited_on": today, "content": ""}
        )
    assert "content" in e.value.errors


def test_a_plan_past_its_day_becomes_missed_by_the_sweep_and_lazily(world):
    o = world.org
    old = plan(o.rep1a, world.A, days=-2)
    yesterday = plan(o.rep1a, world.I, days=-1)
    today_plan = plan(o.rep1a, world.A, days=0, hour=None) if False else plan(o.rep1a, world.A, days=0)
    out = StringIO()
    call_command(
        "engagement", "sweep", as_of=str(timezone.localdate() - datetime.timedelta(days=1)), stdout=out
    )
    assert "missed plans: 1" in out.getvalue()
    assert VisitPlan.objects.get(pk=old.pk).state == "missed"
    assert VisitPlan.objects.get(pk=yesterday.pk).state == "planned"
    # reading a list applies it too
    missed = list(selectors.missed_plans(o.rep1a))
    assert {p.pk for p in missed} == {old.pk, yesterday.pk}
    assert VisitPlan.objects.get(pk=today_plan.pk).state == "planned"
    m = VisitPlan.objects.get(pk=old.pk)
    assert m.state_changed_by is None and m.state_note
    # missed shows up for the owner on Today, not for someone else
    keys = {s.key for s in sections_for(o.rep1a)}
    assert {"visits_missed", "visits_due"} <= keys
    assert "visits_missed" not in {s.key for s in sections_for(o.rep2a)}


def test_target_list_filters_by_classification_cadence_and_last_contact(world):
    o = world.org
    factories.update_customer(o.admin, world.A, maintenance_tier="important")
    factories.update_customer(o.admin, world.C, maintenance_tier="important")
    services.record_visit(
        actor=o.rep1a,
        customer_id=world.A.pk,
        data={"visited_on": timezone.localdate() - datetime.timedelta(days=40), "content": "x"},
    )
    services.record_visit(
        actor=o.rep1b,
        customer_id=world.C.pk,
        data={"visited_on": timezone.localdate() - datetime.timedelta(days=3), "content": "x"},
    )

    def names(user, **filters):
        return [r.customer.name for r in selectors.targets(user, filters=filters).rows]

    assert names(o.manager1, maintenance_tier="important") == [
        world.A.name,
        world.C.name,
    ]  # most overdue first
    assert names(o.manager1, maintenance_tier="important", due="1") == [world.A.name]
    before = (timezone.localdate() - datetime.timedelta(days=10)).isoformat()
    assert set(names(o.manager1, last_before=before)) == {world.A.name, world.I.name}
    assert names(o.manager1, never="1") == [world.I.name]
    assert names(o.rep2a) == [world.B.name]


def test_card_panel_today_and_summary_pages(world):
    o = world.org
    p = plan(o.rep1a, world.A, days=1)
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(o.rep1a)
    card = c.get(reverse("customers:detail", args=[world.A.pk])).content.decode()
    assert reverse("engagement:customer_visits", args=[world.A.pk]) in card
    panel = c.get(reverse("engagement:customer_visits", args=[world.A.pk])).content.decode()
    assert reverse("engagement:plan_detail", args=[p.pk]) in panel
    today = c.get(reverse("today:index")).content.decode()
    assert "Visits today and tomorrow" in today and world.A.name in today
    assert "End-of-day summary" in today
    r = c.post(
        reverse("engagement:summary"), {"text": "拜访两家客户", "problems": "", "tomorrow": "电话回访"}
    )
    assert r.status_code == 302
    m = Client(HTTP_ACCEPT_LANGUAGE="en")
    m.force_login(o.manager1)
    assert "拜访两家客户" in m.get(reverse("engagement:summary")).content.decode()
    other = Client(HTTP_ACCEPT_LANGUAGE="en")
    other.force_login(o.manager2)
    assert "拜访两家客户" not in other.get(reverse("engagement:summary")).content.decode()
    assert "read by your manager" in c.get(reverse("engagement:summary")).content.decode()
    # the plan/record pages by form
    r = c.post(
        reverse("engagement:visit_create"),
        {
            "plan": p.pk,
            "form": "in_person",
            "visited_on": timezone.localdate().isoformat(),
            "method": "in_person",
            "category": "routine",
            "direction": "outbound",
            "content": "面谈",
            "next_visit_on": "",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    assert Visit.objects.get(plan=p).content == "面谈"


def test_api_conventions(world, api_as):
    o = world.org
    api = api_as(o.rep1a)
    r = api.post(
        "/plans", {"customer_id": world.A.pk, "scheduled_at": at(2).isoformat(), "contact_ids": [world.A1.pk]}
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["state"] == "planned" and body["customer_name"] == world.A.name
    pid = body["id"]
    assert api.post("/plans", {"customer_id": world.A.pk}).status_code == 422
    r = api.post("/plans", {"customer_id": world.A.pk, "scheduled_at": at(2).isoformat(), "method": "pigeon"})
    assert r.status_code == 422 and "method" in r.json()["errors"]
    assert (
        api.post("/plans", {"customer_id": world.B.pk, "scheduled_at": at(2).isoformat()}).status_code == 404
    )
    assert api.get(f"/plans/{pid}").status_code == 200
    assert api_as(o.rep2a).get(f"/plans/{pid}").status_code == 404
    assert api.patch(f"/plans/{pid}", {"version": 9, "place": "x"}).status_code == 409
    assert api.patch(f"/plans/{pid}", {"version": 1, "place": "会议室"}).json()["place"] == "会议室"
    assert api.post(f"/plans/{pid}/state", {"to": "planned"}).status_code == 422
    assert api.post(f"/plans/{pid}/state", {"to": "confirmed"}).json()["state"] == "confirmed"
    r = api.post(
        "/visits",
        {
            "plan_id": pid,
            "visited_on": str(timezone.localdate()),
            "content": "面谈",
            "next_visit_on": str(timezone.localdate() + datetime.timedelta(days=14)),
        },
    )
    assert r.status_code == 201, r.content
    assert api.get(f"/plans/{pid}").json()["state"] == "done"
    plans = api.get("/plans").json()
    assert [p["follows_id"] for p in plans] == [r.json()["id"]]
    assert api.get(f"/customers/{world.A.pk}/cadence").json()["last_contact_on"] == str(timezone.localdate())
    assert api_as(o.rep2a).get(f"/customers/{world.A.pk}/cadence").status_code == 404
    keys = [s["key"] for s in api.get("/today").json()]
    assert "work_summary" in keys
    assert api.put("/summaries/today", {"text": ""}).status_code == 422
    assert api.put("/summaries/today", {"text": "完成两次回访"}).status_code == 200
    assert [s["text"] for s in api_as(o.manager1).get("/summaries", {"team": "true"}).json()] == [
        "完成两次回访"
    ]
