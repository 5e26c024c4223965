"""The access matrix of the analytics API (/api/v1/analytics/…, /customers/{id}/scores) for every
role of tests/test_access_api.py. Scores follow the customer's finance (analytics/rules.py):
service agents see none (403 on the lists, which are not for them), analysts company customers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from guanxi.analytics.models import AnalyticsRun
from guanxi.engagement.models import VisitPlan
from test_access_api import (
    CHANGE,
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
from test_analytics_ui import make_scores

P = "/api/v1"
# role → the customers whose scores it sees
SCORES = {
    "admin": {"A", "I", "C", "B"},
    "manager": {"A", "I", "C"},
    "owner": {"A", "I"},
    "deputy": {"A", "I", "C"},
    "team_member": {"A"},
    "service": set(),
    "analyst": {"A", "C", "B"},
    "auditor": {"A", "I", "C", "B"},
}
COMPANY_FIGURES = {"admin", "manager", "analyst", "auditor"}
START_RUNS = {"admin", "manager", "analyst"}
PRODUCT_FIGURES = {"admin", "manager", "analyst", "auditor"}


def state() -> dict[str, Any]:
    return {
        "runs": list(AnalyticsRun.objects.order_by("pk").values()),
        "plans": list(VisitPlan.objects.order_by("pk").values()),
    }


def h_runs(ctx: Ctx, method: str, path: str) -> None:
    data = get_ok(ctx, path, "GET analytics/runs")
    if data is None:
        return
    expected = 0 if ctx.role == "service" else 1
    ctx.check(data["count"] == expected, f"GET analytics/runs: {data['count']} runs, expected {expected}")
    for item in data["items"]:
        shown = item["figures"] is not None
        ctx.check(shown == (ctx.role in COMPANY_FIGURES), f"GET analytics/runs: figures shown={shown}")


def h_run(ctx: Ctx, method: str, path: str) -> None:
    run = AnalyticsRun.objects.get()
    resp = ctx.api.get(fill(path, run_id=run.pk))
    if ctx.role == "service":
        ctx.check(resp.status_code == 404, f"GET run: expected 404, got {_short(resp)}")
    else:
        ctx.check(resp.status_code == 200, f"GET run: {_short(resp)}")
    resp = ctx.api.get(fill(path, run_id=999999))
    ctx.check(resp.status_code == 404, f"GET run 999999: {_short(resp)}")


def h_start_run(ctx: Ctx, method: str, path: str) -> None:
    before = state()
    with rolled_back():
        resp = ctx.api.post(path, {"abc_a": 0.8, "abc_b": 0.95})
        after = state()
    if ctx.role in START_RUNS:
        ctx.check(resp.status_code == 201, f"POST runs: expected 201, got {_short(resp)}")
    else:
        ctx.check(resp.status_code == 403, f"POST runs: expected 403, got {_short(resp)}")
        ctx.check(before == after, "POST runs: a refused write changed the database")


def h_list(ctx: Ctx, method: str, path: str) -> None:
    params = {"min_risk": 0, "limit": 200} if path.endswith("/churn") else {"limit": 200}
    resp = ctx.api.get(path, params)
    if ctx.role == "service":
        ctx.check(resp.status_code == 403, f"GET {path}: expected 403, got {_short(resp)}")
        return
    if not ctx.check(resp.status_code == 200, f"GET {path}: {_short(resp)}"):
        return
    data = resp.json()
    got = {i["customer_id"] for i in data["items"]}
    expected = {ctx.w.customers[k].pk for k in SCORES[ctx.role]}
    ctx.check(got == expected, f"GET {path}: customers {sorted(got)} != {sorted(expected)}")
    for k, c in ctx.w.customers.items():
        if k not in SCORES[ctx.role]:
            ctx.check(c.name not in resp.content.decode(), f"GET {path}: names out-of-scope {c.name}")


def h_aggregate(ctx: Ctx, method: str, path: str) -> None:
    resp = ctx.api.get(path)
    if ctx.role == "service":
        ctx.check(resp.status_code == 403, f"GET {path}: expected 403, got {_short(resp)}")
        return
    if not ctx.check(resp.status_code == 200, f"GET {path}: {_short(resp)}"):
        return
    if path.endswith("/groups"):
        counted = sum(g["customers"] for g in resp.json()["items"])
        expected = 4 if ctx.role == "analyst" else len(SCORES[ctx.role])  # analysts count every customer
        ctx.check(counted == expected, f"GET groups: {counted} customers counted, expected {expected}")
    else:
        visible = resp.json()["count"] > 0
        ctx.check(visible == (ctx.role in PRODUCT_FIGURES), f"GET products: visible={visible}")


def h_scores(ctx: Ctx, method: str, path: str) -> None:
    for key, c in ctx.w.customers.items():
        url = fill(path, customer_id=c.pk)
        resp = ctx.api.get(url)
        if key not in VISIBLE_CUSTOMERS[ctx.role]:
            expect_404_without_name(ctx, resp, f"GET {url} ({key})", c.name)
        elif key in SCORES[ctx.role]:
            ctx.check(resp.status_code == 200, f"GET {url} ({key}): {_short(resp)}")
        else:
            ctx.check(resp.status_code == 403, f"GET {url} ({key}): expected 403, got {_short(resp)}")


def h_winback(ctx: Ctx, method: str, path: str) -> None:
    for key, c in ctx.w.customers.items():
        url = fill(path, customer_id=c.pk)
        before = state()
        with rolled_back():
            resp = ctx.api.post(url)
            after = state()
        if key not in VISIBLE_CUSTOMERS[ctx.role]:
            expect_404_without_name(ctx, resp, f"POST {url} ({key})", c.name)
        elif ctx.role in CHANGE:
            ctx.check(resp.status_code == 201, f"POST {url} ({key}): expected 201, got {_short(resp)}")
            continue
        else:
            ctx.check(resp.status_code == 403, f"POST {url} ({key}): expected 403, got {_short(resp)}")
        ctx.check(before == after, f"POST {url} ({key}): a refused write changed the database")


OPERATIONS: dict[tuple[str, str], Callable[[Ctx, str, str], None]] = {
    ("get", f"{P}/analytics/runs"): h_runs,
    ("post", f"{P}/analytics/runs"): h_start_run,
    ("get", f"{P}/analytics/runs/{{run_id}}"): h_run,
    ("get", f"{P}/analytics/abc"): h_list,
    ("get", f"{P}/analytics/rfm"): h_list,
    ("get", f"{P}/analytics/churn"): h_list,
    ("post", f"{P}/analytics/churn/{{customer_id}}/winback"): h_winback,
    ("get", f"{P}/analytics/products"): h_aggregate,
    ("get", f"{P}/analytics/groups"): h_aggregate,
    ("get", f"{P}/customers/{{customer_id}}/scores"): h_scores,
}


@pytest.fixture
def analytics_world(world):
    from guanxi.sales import services as sales

    make_scores(world)
    p = sales.create_product(actor=world.org.admin, data={"name": "球阀 DN50"})
    sales.create_order(actor=world.org.admin, customer_id=world.A.pk,
                       data={"lines": [{"product": p.pk, "amount": 900}]})  # fmt: skip
    return world


@pytest.mark.parametrize("role", ROLES)
def test_analytics_access_matrix(role, analytics_world, api_as):
    world = analytics_world
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
