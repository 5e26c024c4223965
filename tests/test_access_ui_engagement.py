"""The access matrix of the engagement pages (visits, plans, cadence, care, work summary) for every
role: out-of-scope customers' records answer 404 and never show up in a list; visible records the
role may not change answer 403; refused writes change nothing."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from guanxi.engagement import services
from guanxi.engagement.models import (
    CadencePolicy,
    CareSettings,
    CareTask,
    Gift,
    MessageTemplate,
    Visit,
    VisitPlan,
)
from test_access_ui import VISIBLE, _users

COVERED_PAGES = {
    "engagement:targets",
    "engagement:plans",
    "engagement:plan_create",
    "engagement:plan_detail",
    "engagement:plan_edit",
    "engagement:plan_transition",
    "engagement:visit_create",
    "engagement:visit_detail",
    "engagement:customer_visits",
    "engagement:customer_cadence",
    "engagement:cadence",
    "engagement:policy_edit",
    "engagement:overdue",
    "engagement:summary",
    "engagement:care",
    "engagement:care_task",
    "engagement:care_settings",
    "engagement:care_template_create",
    "engagement:care_template_edit",
    "engagement:gift_create",
    "engagement:brief",
    "engagement:calendar",
    "engagement:calendar_feed",
    "engagement:followups",
}
PLAIN = ["targets", "plans", "cadence", "overdue", "summary", "care", "calendar", "followups"]
# role → may change the customers it sees (the account team, managers, administrators)
CHANGES = {"admin", "manager1", "manager2", "rep1a", "rep1b", "rep2a", "rep2b"}
ROLES = list(VISIBLE)


@pytest.fixture
def records(world):
    """A plan due tomorrow, a visit, a greeting task and a gift for each of A, I, C, B."""
    o = world.org
    out = {}
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    for key, c in world.customers.items():
        at = timezone.make_aware(datetime.datetime.combine(tomorrow, datetime.time(10)))
        plan = services.create_plan(
            actor=o.admin, customer_id=c.pk, data={"scheduled_at": at, "assignee": c.owner_id}
        )
        visit = services.record_visit(
            actor=o.admin,
            customer_id=c.pk,
            data={"visited_on": timezone.localdate() - datetime.timedelta(days=50), "content": "回访"},
        )
        task = CareTask.objects.create(
            customer=c,
            occasion="festival",
            title="中秋节",
            occurs_on=tomorrow,
            key=f"festival:{key}",
            assignee=c.owner,
        )
        gift = services.record_gift(
            actor=o.admin, customer_id=c.pk, data={"given_on": timezone.localdate(), "description": "礼盒"}
        )
        out[key] = {"plan": plan, "visit": visit, "task": task, "gift": gift}
    return out


def _client(user) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(user)
    return c


def _pages(key, customer, rec):
    return [
        reverse("engagement:customer_visits", args=[customer.pk]),
        reverse("engagement:customer_cadence", args=[customer.pk]),
        reverse("engagement:brief", args=[customer.pk]),
        reverse("engagement:brief", args=[customer.pk]) + "?print=1",
        reverse("engagement:plan_detail", args=[rec["plan"].pk]),
        reverse("engagement:plan_edit", args=[rec["plan"].pk]),
        reverse("engagement:visit_detail", args=[rec["visit"].pk]),
        reverse("engagement:care_task", args=[rec["task"].pk]),
        reverse("engagement:plan_create") + f"?customer={customer.pk}",
        reverse("engagement:visit_create") + f"?customer={customer.pk}",
        reverse("engagement:visit_create") + f"?plan={rec['plan'].pk}",
        reverse("engagement:gift_create") + f"?customer={customer.pk}",
    ]


@pytest.mark.parametrize("role", ROLES)
def test_record_pages_answer_404_outside_scope_and_403_without_change(world, records, role):
    user = _users(world)[role]
    client = _client(user)
    visible, _personal = VISIBLE[role]
    for key, customer in world.customers.items():
        for url in _pages(key, customer, records[key]):
            resp = client.get(url)
            if key not in visible:
                assert resp.status_code == 404, (role, url, resp.status_code)
                assert customer.name not in resp.content.decode()
            elif role in CHANGES or ("/new/" not in url and "/edit/" not in url):
                assert resp.status_code == 200, (role, url, resp.status_code)
            else:
                assert resp.status_code == 403, (role, url, resp.status_code)


@pytest.mark.parametrize("role", ROLES)
def test_lists_never_show_out_of_scope_customers(world, records, role):
    user = _users(world)[role]
    client = _client(user)
    visible, _personal = VISIBLE[role]
    hidden = [c for k, c in world.customers.items() if k not in visible]
    urls = [reverse(f"engagement:{n}") for n in PLAIN]
    urls += [
        reverse("engagement:plans") + "?mine=0&state=all",
        reverse("engagement:targets") + "?due=1",
        reverse("today:index"),
    ]
    for url in urls:
        resp = client.get(url)
        assert resp.status_code == 200, (role, url, resp.status_code)
        body = resp.content.decode()
        for c in hidden:
            assert c.name not in body, (role, url, c.name)
    body = client.get(reverse("engagement:plans") + "?mine=0&state=all").content.decode()
    for k in visible:
        assert world.customers[k].name in body, (role, k)


@pytest.mark.parametrize("role", ROLES)
def test_writes_outside_scope_change_nothing(world, records, role):
    user = _users(world)[role]
    client = _client(user)
    visible, _personal = VISIBLE[role]
    before = (
        list(VisitPlan.objects.order_by("pk").values()),
        Visit.objects.count(),
        Gift.objects.count(),
        list(CareTask.objects.order_by("pk").values("pk", "state")),
    )
    for key, customer in world.customers.items():
        rec = records[key]
        posts = [
            (reverse("engagement:plan_transition", args=[rec["plan"].pk]), {"to": "cancelled"}),
            (
                reverse("engagement:plan_edit", args=[rec["plan"].pk]),
                {
                    "scheduled_at": "2030-01-01T10:00",
                    "method": "phone",
                    "category": "routine",
                    "trigger": "periodic",
                    "assignee": customer.owner_id,
                },
            ),
            (
                reverse("engagement:plan_create"),
                {
                    "customer": customer.pk,
                    "scheduled_at": "2030-01-01T10:00",
                    "method": "phone",
                    "category": "routine",
                    "trigger": "periodic",
                    "assignee": user.pk,
                },
            ),
            (
                reverse("engagement:visit_create"),
                {
                    "customer": customer.pk,
                    "form": "in_person",
                    "visited_on": timezone.localdate().isoformat(),
                    "method": "phone",
                    "category": "routine",
                    "direction": "outbound",
                    "content": "x",
                },
            ),
            (
                reverse("engagement:customer_cadence", args=[customer.pk]),
                {"period_scale_pct": 50, "reason": "x"},
            ),
            (reverse("engagement:care_task", args=[rec["task"].pk]), {"state": "done", "message": "x"}),
            (
                reverse("engagement:gift_create"),
                {"customer": customer.pk, "given_on": "2025-01-01", "description": "x"},
            ),
        ]
        for url, data in posts:
            resp = client.post(url, data)
            if key not in visible:
                assert resp.status_code == 404, (role, url, resp.status_code)
            elif role not in CHANGES:
                assert resp.status_code == 403, (role, url, resp.status_code)
    if role not in CHANGES:
        after = (
            list(VisitPlan.objects.order_by("pk").values()),
            Visit.objects.count(),
            Gift.objects.count(),
            list(CareTask.objects.order_by("pk").values("pk", "state")),
        )
        assert before == after, role


@pytest.mark.parametrize("role", ROLES)
def test_only_administrators_edit_cadence_policies(world, role):
    user = _users(world)[role]
    client = _client(user)
    policy = CadencePolicy.objects.get(dimension="strategic_type", value="breakthrough")
    url = reverse("engagement:policy_edit", args=[policy.pk])
    resp = client.get(url)
    assert resp.status_code == (200 if role == "admin" else 403), role
    resp = client.post(
        url, {"max_contacts_30d": 3, "active": "on", "req-TOTAL_FORMS": 0, "req-INITIAL_FORMS": 0}
    )
    policy.refresh_from_db()
    if role == "admin":
        assert resp.status_code == 302 and policy.max_contacts_30d == 3 and not policy.requirements.exists()
    else:
        assert resp.status_code == 403 and policy.max_contacts_30d == 8


@pytest.mark.parametrize("role", ROLES)
def test_brief_shows_personal_notes_only_to_the_account_team(world, records, role):
    client = _client(_users(world)[role])
    visible, personal = VISIBLE[role]
    if "A" not in visible:
        return
    for url in (
        reverse("engagement:brief", args=[world.A.pk]),
        reverse("engagement:brief", args=[world.A.pk]) + "?print=1",
    ):
        body = client.get(url).content.decode()
        assert world.A.name in body and "回访" in body  # the last visit
        assert ("围棋和钓鱼" in body) == ("A" in personal), (role, url)
        assert (world.A1.name in body) == (role != "analyst"), (role, url)


@pytest.mark.parametrize("role", ROLES)
def test_calendar_feed_shows_only_the_owners_own_visits(world, records, role):
    user = _users(world)[role]
    client = _client(user)
    client.post(reverse("engagement:calendar"), {"action": "create"})
    from guanxi.engagement.models import CalendarFeed

    token = CalendarFeed.objects.get(user=user).token
    body = Client().get(reverse("engagement:calendar_feed", args=[token])).content.decode()
    own = {k for k, c in world.customers.items() if c.owner_id == user.pk}
    for key, c in world.customers.items():
        assert (c.name in body) == (key in own), (role, key)
    assert Client().get(reverse("engagement:calendar_feed", args=["x" * 43])).status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_only_administrators_see_and_change_care_settings_and_templates(world, role):
    """The care settings pages answer 404 to everyone but administrators; refused posts change nothing."""
    user = _users(world)[role]
    client = _client(user)
    template = MessageTemplate.objects.order_by("pk").first()
    admin = role == "admin"
    care = client.get(reverse("engagement:care")).content.decode()
    assert (reverse("engagement:care_settings") in care) == admin, role
    pages = [
        reverse("engagement:care_settings"),
        reverse("engagement:care_template_create"),
        reverse("engagement:care_template_edit", args=[template.pk]),
    ]
    for url in pages:
        resp = client.get(url)
        assert resp.status_code == (200 if admin else 404), (role, url, resp.status_code)
    assert client.get(reverse("engagement:care_template_edit", args=[999999])).status_code == 404
    before = (
        list(CareSettings.objects.values()),
        list(MessageTemplate.objects.order_by("pk").values()),
    )
    body = {"occasion": "birthday", "channel": "card", "language": "en", "body": "Happy birthday, {name}!"}
    posts = [
        (pages[0], {"days_ahead": 30, "festival_tiers": ["core"]}),
        (pages[1], {**body, "active": "on"}),
        (pages[2], {**body, "active": ""}),
    ]
    for url, data in posts:
        resp = client.post(url, data)
        assert resp.status_code == (302 if admin else 404), (role, url, resp.status_code)
    after = (
        list(CareSettings.objects.values()),
        list(MessageTemplate.objects.order_by("pk").values()),
    )
    if admin:
        assert CareSettings.load().days_ahead == 30
        template.refresh_from_db()
        assert not template.active and template.body == "Happy birthday, {name}!"
        assert MessageTemplate.objects.filter(channel="card", language="en", active=True).exists()
    else:
        assert before == after, role
