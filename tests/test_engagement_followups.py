"""Follow-up counts (C5): wins by the follow-up at which they came, dropped and stalled prospects."""

from __future__ import annotations

import datetime

from django.test import Client
from django.urls import reverse
from django.utils import timezone

import factories
from guanxi.engagement import selectors, services


def _visits(user, customer, days_ago: list[int]):
    for d in days_ago:
        services.record_visit(
            actor=user,
            customer_id=customer.pk,
            data={"visited_on": timezone.localdate() - datetime.timedelta(days=d), "content": "跟进"},
        )


def test_wins_by_follow_up_and_flags(world):
    o = world.org
    # A: six follow-ups, then won
    _visits(o.rep1a, world.A, [60, 50, 40, 30, 20, 10])
    factories.update_customer(o.admin, world.A, deal_state="won")
    _visits(o.rep1a, world.A, [1])  # after the win: not counted
    # I: one follow-up 40 days ago, still a prospect → dropped; C: two, 35 days ago → stalled
    _visits(o.rep1a, world.I, [40])
    _visits(o.rep1b, world.C, [50, 35])
    report = selectors.followups(o.manager1)
    by = {b["label"]: b for b in report.buckets}
    assert report.wins == 1 and by["5–11"]["wins"] == 1 and by["5–11"]["pct"] == 100 and by["1"]["wins"] == 0
    assert by["5–11"]["seed_pct"] == 80
    assert [c.pk for c, _n, _d in report.dropped] == [world.I.pk]
    assert [(c.pk, n) for c, n, _d in report.stalled] == [(world.C.pk, 2)]
    mine = selectors.followups(o.rep1a)
    assert mine.mine_only and [c.pk for c, _n, _d in mine.stalled] == []
    assert selectors.followups(o.rep2a).wins == 0
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(o.manager1)
    body = c.get(reverse("engagement:followups")).content.decode()
    assert "Wins by follow-up number" in body and world.I.name in body and world.C.name in body
    panel = c.get(reverse("engagement:customer_visits", args=[world.A.pk])).content.decode()
    assert "Follow-ups: <strong>7</strong>" in panel
