"""A reopened ticket starts a new cycle (C8): a new plan clock from the reopen moment on the
ticket's policy, escalation possible again, on Today when due; the first cycle's figures stay."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from guanxi.service import selectors, services, sla, surveys
from guanxi.service.models import SlaPolicy, Ticket, TicketEvent
from test_service import ticket_data


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def _step(t: Ticket, action: str, actor, note: str = "x") -> Ticket:
    t.refresh_from_db()
    return services.transition(actor=actor, ticket_id=t.pk, action=action, version=t.version, note=note)


def _resolved(world, **kw) -> Ticket:
    agent = world.org.service
    t = services.create_ticket(actor=agent, data=ticket_data(world, assignee_id=agent.pk, **kw))
    for action in ("acknowledge", "start", "resolve"):
        t = _step(t, action, agent)
    return t


def _age(t: Ticket, hours: int) -> None:
    """Move the reopened cycle ``hours`` into the past."""
    delta = datetime.timedelta(hours=hours)
    Ticket.objects.filter(pk=t.pk).update(reopened_at=t.reopened_at - delta, reopen_due=t.reopen_due - delta)
    t.refresh_from_db()


def test_a_reopen_starts_a_new_plan_clock_on_the_tickets_policy(world):
    SlaPolicy.objects.create(
        kind="complaint", severity="high", response_amount=2, response_unit="calendar_hours",
        plan_amount=8, plan_unit="calendar_hours",
    )  # fmt: skip
    t = _resolved(world)
    first = (t.response_due, t.plan_due, t.acknowledged_at, t.started_at)
    before = timezone.now()
    t = _step(t, "reopen", world.org.service, "客户仍不满意")
    assert t.reopened_at >= before
    assert t.reopen_due == t.reopened_at + datetime.timedelta(hours=8)
    assert t.reopen_due == sla.clocks_for("complaint", "high", t.reopened_at).plan_due
    # the first cycle stays as it was
    assert (t.response_due, t.plan_due, t.acknowledged_at, t.started_at) == first
    assert t.next_due == t.reopen_due and t.breaches() == []
    note = TicketEvent.objects.filter(ticket=t, type="note").last()
    assert (
        "新的方案期限" in note.note
        and timezone.localtime(t.reopen_due).strftime("%Y-%m-%d %H:%M") in note.note
    )
    from django.test import Client
    from django.urls import reverse

    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(world.org.service)
    assert "Plan due after the reopen" in c.get(reverse("service:detail", args=[t.pk])).content.decode()
    # resolving again stops the new clock
    t = _step(t, "resolve", world.org.service)
    assert t.next_due is None and t.breaches() == []


def test_a_reopened_ticket_past_its_new_deadline_breaches_escalates_again_and_shows_on_today(world):
    o = world.org
    t = _resolved(world)
    Ticket.objects.filter(pk=t.pk).update(escalated_at=timezone.now() - datetime.timedelta(days=5))
    t = _step(t, "reopen", o.service, "仍有问题")
    assert t.escalated_at is None
    assert services.escalate_breaches() == 0  # the new clock is running
    assert selectors.today_tickets(o.service)[1] == 0
    _age(t, 24 * 10)
    assert t.breaches() == ["reopen"] and t.breached
    assert selectors.ticket_list(o.service, filters={"breached": "1"}).count == 1
    items, count = selectors.today_tickets(o.service)
    assert count == 1 and items[0].pk == t.pk
    assert services.escalate_breaches() == 1
    assert services.escalate_breaches() == 0  # once per cycle
    assert TicketEvent.objects.filter(ticket=t, type="escalation").count() == 1
    # a customer's reopen through the personal link does the same
    t = _step(t, "resolve", o.service)
    assert t.breaches() == ["reopen"]  # resolved late: stays on the record
    services.customer_answer(token=t.public_token, confirm=False, note="还是不行")
    t.refresh_from_db()
    assert t.reopen_count == 2 and t.escalated_at is None and t.reopen_due > timezone.now()
    assert t.breaches() == []


def test_a_first_cycle_breach_does_not_escalate_a_reopened_ticket_at_once(world):
    t = _resolved(world)
    past = timezone.now() - datetime.timedelta(days=10)
    Ticket.objects.filter(pk=t.pk).update(
        response_due=past, plan_due=past, escalated_at=past + datetime.timedelta(hours=1)
    )
    t = _step(t, "reopen", world.org.service, "仍有问题")
    assert "response" in t.breaches() and "plan" in t.breaches()  # history
    assert services.escalate_breaches() == 0
    assert selectors.today_tickets(world.org.service)[1] == 0


def test_the_plan_on_time_rate_counts_each_ticket_once_on_its_first_cycle(world):
    o = world.org
    t = _resolved(world)
    q = surveys.quality(o.service, surveys.current_period())["total"][0]
    assert (q.tickets, q.plan_on_time, q.resolution) == (1, 100, 100)
    t = _step(t, "reopen", o.service, "仍有问题")
    _age(t, 24 * 10)  # the reopened cycle is late
    q = surveys.quality(o.service, surveys.current_period())["total"][0]
    assert (q.tickets, q.plan_on_time) == (1, 100)  # not counted twice, first cycle unchanged
    assert q.resolution == 0
