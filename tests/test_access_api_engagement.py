"""The access matrix of the engagement API (/api/v1/ plans, visits, cadence, care, gifts, today,
summaries) for every role of tests/test_access_api.py."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from guanxi.engagement import services
from guanxi.engagement.models import (
    CadenceOverride,
    CadencePolicy,
    CareSettings,
    CareTask,
    CustomerEngagement,
    DailySummary,
    Gift,
    MessageTemplate,
    Visit,
    VisitPlan,
)
from test_access_api import (
    CHANGE,
    PERSONAL,
    ROLES,
    VISIBLE_CUSTOMERS,
    Ctx,
    _short,
    api_operations,
    expect_404_without_name,
    fill,
    get_ok,
    rolled_back,
    user_of,
)

P = "/api/v1"


def state() -> dict[str, Any]:
    def rows(qs):
        return list(qs.order_by("pk").values())

    return {
        "plans": rows(VisitPlan.objects.all()),
        "visits": rows(Visit.objects.all()),
        "gifts": rows(Gift.objects.all()),
        "tasks": rows(CareTask.objects.all()),
        "overrides": rows(CadenceOverride.objects.all()),
        "summaries": rows(CustomerEngagement.objects.all()),
        "policies": rows(CadencePolicy.objects.all()),
        "daily": rows(DailySummary.objects.all()),
        "care_settings": rows(CareSettings.objects.all()),
        "templates": rows(MessageTemplate.objects.all()),
    }


def ewrite(ctx: Ctx, method: str, path: str, body: Any, what: str, *, key: str, ok=(200, 201)) -> None:
    """A write on customer ``key``'s record, rolled back: allowed for the account team, managers and
    administrators; 403 for other roles that see it; 404 (naming nothing) outside the scope."""
    visible = key in VISIBLE_CUSTOMERS[ctx.role]
    before = state()
    with rolled_back():
        resp = ctx.api.request(method, path, json=body)
        after = state()
    name = ctx.w.customers[key].name
    if not visible:
        expect_404_without_name(ctx, resp, what, name)
    elif ctx.role in CHANGE:
        ctx.check(resp.status_code in ok, f"{what}: expected {ok}, got {_short(resp)}")
        return
    else:
        ctx.check(resp.status_code == 403, f"{what}: expected 403, got {_short(resp)}")
    ctx.check(before == after, f"{what}: a refused write changed the database")


def _ids_in(ctx: Ctx, items: list[dict], what: str, field: str = "customer_id") -> None:
    allowed = {ctx.w.customers[k].pk for k in VISIBLE_CUSTOMERS[ctx.role]}
    for item in items:
        ctx.check(item[field] in allowed, f"{what}: out-of-scope customer {item[field]} listed")


def h_list(ctx: Ctx, method: str, path: str) -> None:
    params = {"mine": "false", "state": "all"} if path.endswith("/plans") else {}
    data = get_ok(ctx, path, f"GET {path}", params)
    if data is None:
        return
    _ids_in(ctx, data, f"GET {path}")
    if path.endswith(("/plans", "/visits", "/gifts")):
        got = {i["customer_id"] for i in data}
        expected = {ctx.w.customers[k].pk for k in VISIBLE_CUSTOMERS[ctx.role]}
        ctx.check(got == expected, f"GET {path}: customers {sorted(got)} != {sorted(expected)}")


def h_post_per_customer(ctx: Ctx, method: str, path: str) -> None:
    today = timezone.localdate()
    for key, c in ctx.w.customers.items():
        if path.endswith("/plans"):
            body = {
                "customer_id": c.pk,
                "scheduled_at": f"{today + datetime.timedelta(days=3)}T10:00:00+08:00",
            }
        elif path.endswith("/visits"):
            body = {"customer_id": c.pk, "visited_on": str(today), "content": "回访"}
        else:
            body = {"customer_id": c.pk, "given_on": str(today), "description": "礼盒"}
        ewrite(ctx, method, path, body, f"POST {path} ({key})", key=key, ok=(201,))


def _record(ctx: Ctx, key: str, kind: str):
    c = ctx.w.customers[key]
    return {
        "plan_id": VisitPlan.objects.filter(customer=c).first(),
        "visit_id": Visit.objects.filter(customer=c).first(),
        "task_id": CareTask.objects.filter(customer=c).first(),
        "customer_id": c,
    }[kind]


def _param(path: str) -> str:
    for p in ("plan_id", "visit_id", "task_id", "customer_id"):
        if "{" + p + "}" in path:
            return p
    raise AssertionError(path)


def h_get_record(ctx: Ctx, method: str, path: str) -> None:
    p = _param(path)
    for key, c in ctx.w.customers.items():
        url = fill(path, **{p: _record(ctx, key, p).pk})
        resp = ctx.api.get(url)
        if key in VISIBLE_CUSTOMERS[ctx.role]:
            ctx.check(resp.status_code == 200, f"GET {url} ({key}): {_short(resp)}")
        else:
            expect_404_without_name(ctx, resp, f"GET {url} ({key})", c.name)


def h_write_record(ctx: Ctx, method: str, path: str) -> None:
    p = _param(path)
    for key in ctx.w.customers:
        rec = _record(ctx, key, p)
        url = fill(path, **{p: rec.pk})
        if path.endswith("/state"):
            body = {"to": "confirmed"}
        elif path.endswith("/close"):
            body = {"state": "done", "message": "已祝福"}
        elif path.endswith("/cadence"):
            body = {"period_scale_pct": 50, "reason": "重点跟进"}
        else:
            body = {"version": rec.version, "place": "会议室"}
        ewrite(ctx, method, url, body, f"{method.upper()} {url} ({key})", key=key, ok=(200,))


def h_policies(ctx: Ctx, method: str, path: str) -> None:
    data = get_ok(ctx, path, "GET policies")
    if data is not None:
        ctx.check(len(data) == CadencePolicy.objects.count(), "GET policies: every role reads the policies")


def h_put_policy(ctx: Ctx, method: str, path: str) -> None:
    url = fill(path, dimension="strategic_type", value="breakthrough")
    before = state()
    with rolled_back():
        resp = ctx.api.put(url, {"requirements": [{"kind": "contact", "count": 1, "period_days": 10}]})
        after = state()
    if ctx.role == "admin":
        ctx.check(resp.status_code == 200, f"PUT policy: {_short(resp)}")
    else:
        ctx.check(
            resp.status_code == 403 and before == after, f"PUT policy: expected 403, got {_short(resp)}"
        )


def h_upcoming(ctx: Ctx, method: str, path: str) -> None:
    data = get_ok(ctx, path, "GET care/upcoming", {"days": 30})
    if data is None:
        return
    persons = [i for i in data if i["contact_id"]]
    if ctx.role not in PERSONAL:
        ctx.check(not persons, "GET care/upcoming: personal dates shown to a role without personal access")
    _ids_in(ctx, persons, "GET care/upcoming")


def h_own(ctx: Ctx, method: str, path: str) -> None:
    data = get_ok(ctx, path, f"GET {path}")
    if data is not None and path.endswith("/care/tasks"):
        ctx.check(all(i["assignee_id"] == ctx.user.pk for i in data), "GET care/tasks: someone else's task")
        _ids_in(ctx, data, "GET care/tasks")
    if data is not None and path.endswith("/summaries"):
        ctx.check(all(i["user_id"] == ctx.user.pk for i in data), "GET summaries: someone else's summary")


def h_write_summary(ctx: Ctx, method: str, path: str) -> None:
    with rolled_back():
        resp = ctx.api.put(path, {"text": "今日工作总结"})
    ctx.check(resp.status_code == 200, f"PUT summaries/today: {_short(resp)}")


def h_care_settings(ctx: Ctx, method: str, path: str) -> None:
    """Everyone signed in reads the care settings; only administrators change them."""
    if method == "get":
        data = get_ok(ctx, path, "GET care/settings")
        if data is not None:
            ctx.check(data["days_ahead"] == CareSettings.load().days_ahead, "GET care/settings: wrong value")
        return
    _admin_write(ctx, method, path, {"days_ahead": 21, "festival_tiers": ["core"]}, ok=200)
    if ctx.role == "admin":
        with rolled_back():
            resp = ctx.api.patch(path, {"days_ahead": 61})
        ctx.check(
            resp.status_code == 422 and "days_ahead" in resp.json().get("errors", {}),
            f"PATCH care/settings (61 days): expected 422 naming days_ahead, got {_short(resp)}",
        )


def _admin_write(ctx: Ctx, method: str, path: str, body: Any, *, ok: int) -> None:
    before = state()
    with rolled_back():
        resp = ctx.api.request(method, path, json=body)
        after = state()
    what = f"{method.upper()} {path}"
    if ctx.role == "admin":
        ctx.check(resp.status_code == ok, f"{what}: expected {ok}, got {_short(resp)}")
    else:
        ctx.check(resp.status_code == 403, f"{what}: expected 403, got {_short(resp)}")
        ctx.check(before == after, f"{what}: a refused write changed the database")


def h_templates(ctx: Ctx, method: str, path: str) -> None:
    if method == "get":
        data = get_ok(ctx, path, "GET care/templates")
        if data is not None:
            active = MessageTemplate.objects.filter(active=True).count()
            ctx.check(len(data) == active, "GET care/templates: every role reads the active templates")
        return
    body = {"occasion": "birthday", "kind": "card", "language": "en", "body": "Happy birthday, {name}!"}
    _admin_write(ctx, method, path, body, ok=201)
    if ctx.role == "admin":
        with rolled_back():
            resp = ctx.api.post(path, {**body, "body": "Hi {nobody}"})
        ctx.check(
            resp.status_code == 422 and "body" in resp.json().get("errors", {}),
            f"POST care/templates (bad placeholder): expected 422, got {_short(resp)}",
        )


def h_patch_template(ctx: Ctx, method: str, path: str) -> None:
    template = MessageTemplate.objects.order_by("pk").first()
    _admin_write(ctx, method, fill(path, template_id=template.pk), {"active": False}, ok=200)
    with rolled_back():
        resp = ctx.api.patch(fill(path, template_id=999999), {"active": False})
    ctx.check(resp.status_code == 404, f"PATCH care/templates/999999: expected 404, got {_short(resp)}")


OPERATIONS: dict[tuple[str, str], Callable[[Ctx, str, str], None]] = {
    ("get", f"{P}/plans"): h_list,
    ("post", f"{P}/plans"): h_post_per_customer,
    ("get", f"{P}/plans/{{plan_id}}"): h_get_record,
    ("patch", f"{P}/plans/{{plan_id}}"): h_write_record,
    ("post", f"{P}/plans/{{plan_id}}/state"): h_write_record,
    ("get", f"{P}/visits"): h_list,
    ("post", f"{P}/visits"): h_post_per_customer,
    ("get", f"{P}/visits/{{visit_id}}"): h_get_record,
    ("get", f"{P}/cadence/policies"): h_policies,
    ("put", f"{P}/cadence/policies/{{dimension}}/{{value}}"): h_put_policy,
    ("get", f"{P}/customers/{{customer_id}}/cadence"): h_get_record,
    ("put", f"{P}/customers/{{customer_id}}/cadence"): h_write_record,
    ("get", f"{P}/cadence/overdue"): h_list,
    ("get", f"{P}/care/upcoming"): h_upcoming,
    ("get", f"{P}/care/tasks"): h_own,
    ("post", f"{P}/care/tasks/{{task_id}}/close"): h_write_record,
    ("get", f"{P}/care/settings"): h_care_settings,
    ("patch", f"{P}/care/settings"): h_care_settings,
    ("get", f"{P}/care/templates"): h_templates,
    ("post", f"{P}/care/templates"): h_templates,
    ("patch", f"{P}/care/templates/{{template_id}}"): h_patch_template,
    ("get", f"{P}/gifts"): h_list,
    ("post", f"{P}/gifts"): h_post_per_customer,
    ("get", f"{P}/today"): h_own,
    ("get", f"{P}/summaries"): h_own,
    ("put", f"{P}/summaries/today"): h_write_summary,
}


@pytest.fixture
def engagement_world(world):
    o = world.org
    today = timezone.localdate()
    for key, c in world.customers.items():
        at = timezone.make_aware(
            datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time(10))
        )
        services.create_plan(
            actor=o.admin, customer_id=c.pk, data={"scheduled_at": at, "assignee": c.owner_id}
        )
        services.record_visit(actor=o.admin, customer_id=c.pk, data={"visited_on": today, "content": "回访"})
        services.record_gift(actor=o.admin, customer_id=c.pk, data={"given_on": today, "description": "礼盒"})
        CareTask.objects.create(
            customer=c,
            occasion="festival",
            title="中秋节",
            occurs_on=today,
            key=f"festival:{key}",
            assignee=c.owner,
        )
    for u in (o.rep1a, o.rep2a, o.manager1):
        services.save_daily_summary(actor=u, text=f"{u.username} 的总结")
    return world


@pytest.mark.parametrize("role", ROLES)
def test_engagement_access_matrix(role, engagement_world, api_as):
    world = engagement_world
    user = user_of(world.org, role)
    ctx = Ctx(role=role, user=user, api=api_as(user), w=world)
    walked = 0
    for method, path in api_operations(api_as(world.org.admin)):
        handler = OPERATIONS.get((method, path))
        if handler is not None:
            handler(ctx, method, path)
            walked += 1
    assert walked == len(OPERATIONS)
    assert not ctx.failures, "\n".join(ctx.failures)
