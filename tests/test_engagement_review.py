"""Regression tests from the pre-release review of the engagement app."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from guanxi.engagement import selectors
from guanxi.engagement.models import CareTask


def _client(user) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(user)
    return c


@pytest.fixture
def birthday_task(world):
    day = timezone.localdate() + datetime.timedelta(days=3)
    return CareTask.objects.create(
        customer=world.A,
        contact=world.A1,
        occasion="birthday",
        title="Birthday",
        occurs_on=day,
        key=f"birthday:{world.A1.pk}:{day}",
        assignee=world.A.owner,
    )


@pytest.mark.parametrize("role", ["service", "auditor", "analyst"])
def test_birthday_task_is_hidden_from_roles_without_personal_access(world, birthday_task, role):
    user = getattr(world.org, role)
    resp = _client(user).get(reverse("engagement:care_task", args=[birthday_task.pk]))
    assert resp.status_code == 404
    assert birthday_task not in selectors.care_tasks(user, mine=False, state="")


@pytest.mark.parametrize("role", ["rep1a", "rep2b", "manager1", "admin"])
def test_birthday_task_is_shown_to_the_account_team_managers_and_admins(world, birthday_task, role):
    user = getattr(world.org, role)
    resp = _client(user).get(reverse("engagement:care_task", args=[birthday_task.pk]))
    assert resp.status_code == 200


def test_open_greeting_follows_the_customer_to_its_new_owner(world, birthday_task):
    import factories

    o = world.org
    factories.update_customer(o.admin, world.A, owner=o.rep2a)
    birthday_task.refresh_from_db()
    assert birthday_task.assignee_id == o.rep2a.pk
    assert birthday_task in selectors.care_tasks(o.rep2a)


def test_over_maintained_reads_policies_once_not_per_customer(world, django_assert_max_num_queries):
    import factories
    from guanxi.engagement import services

    o = world.org
    today = timezone.localdate()
    customers = [
        factories.make_customer(o.admin, name=f"测试客户{i}有限公司", owner=o.rep1a, maintenance_tier="core")
        for i in range(6)
    ]
    for c in customers:
        for d in range(3):
            services.record_visit(
                actor=o.admin,
                customer_id=c.pk,
                data={"visited_on": today - datetime.timedelta(days=d + 1), "content": "回访"},
            )
    services.set_override(
        actor=o.admin, customer_id=customers[0].pk, period_scale_pct=100, max_contacts_30d=2
    )
    with django_assert_max_num_queries(8):
        rows = selectors.over_maintained(o.manager1)
    assert [(c.pk, n, m) for c, n, m in rows] == [(customers[0].pk, 3, 2)]


def test_a_policy_cannot_ask_for_more_contacts_than_the_summary_keeps(world):
    from guanxi.core.errors import ValidationFailed
    from guanxi.engagement import cadence, services

    with pytest.raises(ValidationFailed) as exc:
        services.save_policy(
            actor=world.org.admin,
            dimension="maintenance_tier",
            value="core",
            requirements=[{"kind": "contact", "count": cadence.KEEP + 1, "period_days": 365}],
        )
    assert "requirements" in exc.value.errors


def test_lunar_birthdays_of_many_contacts_are_converted_once_per_date(monkeypatch):
    """Today converts every contact's lunar birthday; the (slow) conversion is not repeated for
    contacts sharing a date."""
    from guanxi.engagement import carecal

    getattr(carecal.lunar_to_solar, "cache_clear", lambda: None)()
    calls = []
    real = carecal.LunarYear.fromYear

    def counting(year):
        calls.append(year)
        return real(year)

    monkeypatch.setattr(carecal.LunarYear, "fromYear", counting)
    start, end = datetime.date(2026, 11, 23), datetime.date(2026, 11, 30)
    for _contact in range(300):
        carecal.between(start, end, lambda y: carecal.birthday_on("lunar", 10, 5, False, y))
    assert len(calls) <= 4
    getattr(carecal.lunar_to_solar, "cache_clear", lambda: None)()


def test_gifts_appear_in_the_auditors_trail(world, api_as):
    """C7: gifts given are recorded and appear in the audit trail."""
    import datetime

    from guanxi.engagement.models import Gift

    gift = Gift.objects.create(
        customer=world.A,
        given_on=datetime.date(2026, 11, 20),
        description="中秋月饼礼盒",
        given_by=world.org.rep1a,
    )
    items = api_as(world.org.auditor).get("audit", {"model": "gift"}).json()["items"]
    assert [(e["model"], e["object_id"], e["object_name"]) for e in items] == [
        ("gift", gift.pk, "中秋月饼礼盒")
    ]
    assert api_as(world.org.rep1a).get("audit").status_code == 404
