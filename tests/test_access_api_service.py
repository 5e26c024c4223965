"""The access matrix of the service desk's API (/api/v1/tickets…), walked for every role of
tests/test_access_api.py: reads list exactly the tickets in scope, out-of-scope tickets answer
404 without their contents, refused writes change nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from guanxi.service import services
from guanxi.service.models import Ticket, TicketEvent
from test_access_api import ROLES, VISIBLE_CUSTOMERS, Ctx, _short, api_operations, fill, rolled_back, user_of

P = "/api/v1"
SEES = {
    "admin": "AICB",
    "manager": "AIC",
    "owner": "AI",
    "deputy": "AIC",
    "team_member": "A",
    "service": "AICB",
    "analyst": "",
    "auditor": "AICB",
}
WORKS = {**SEES, "auditor": ""}
OPENS = {"admin", "manager", "owner", "deputy", "team_member", "service"}


@pytest.fixture(autouse=True)
def _restore_language():
    """Requests activate the language they ask for; restore the previous one afterwards so that
    later test modules do not inherit it."""
    from django.utils.translation import trans_real

    before = getattr(trans_real._active, "value", None)
    try:
        yield
    finally:
        if before is None:
            if hasattr(trans_real._active, "value"):
                del trans_real._active.value
        else:
            trans_real._active.value = before


def state() -> list:
    return [list(Ticket.objects.order_by("pk").values()), list(TicketEvent.objects.order_by("pk").values())]


def tickets_of(ctx: Ctx) -> dict[str, Ticket]:
    return {t.subject.split("-")[1]: t for t in Ticket.objects.all()}


def h_list(ctx: Ctx, method: str, path: str) -> None:
    resp = ctx.api.get(path, {"limit": 200})
    if not ctx.check(resp.status_code == 200, f"list: {_short(resp)}"):
        return
    got = {i["id"] for i in resp.json()["items"]}
    want = {t.pk for k, t in tickets_of(ctx).items() if k in SEES[ctx.role]}
    ctx.check(got == want, f"list: got {sorted(got)}, want {sorted(want)}")


def h_get(ctx: Ctx, method: str, path: str) -> None:
    for key, t in tickets_of(ctx).items():
        resp = ctx.api.get(fill(path, ticket_id=t.pk))
        if key in SEES[ctx.role]:
            ctx.check(resp.status_code == 200, f"get {key}: {_short(resp)}")
        else:
            ctx.check(
                resp.status_code == 404 and t.subject not in resp.content.decode(),
                f"get {key}: {_short(resp)}",
            )


def _write(
    ctx: Ctx, what: str, method: str, path: str, body: dict, allowed: bool, visible: bool, ok: tuple[int, ...]
) -> None:
    before = state()
    with rolled_back():
        resp = ctx.api.request(method, path, json=body)
    if allowed:
        ctx.check(resp.status_code in ok, f"{what}: expected {ok}, got {_short(resp)}")
        return
    expected = 403 if visible else 404
    ctx.check(resp.status_code == expected, f"{what}: expected {expected}, got {_short(resp)}")
    ctx.check(state() == before, f"{what}: a refused write changed the tickets")


def h_create(ctx: Ctx, method: str, path: str) -> None:
    for key, cust in ctx.w.customers.items():
        body = {
            "kind": "inquiry",
            "channel": "email",
            "customer_id": cust.pk,
            "subject": "新咨询",
            "description": "内容",
        }
        before = state()
        with rolled_back():
            resp = ctx.api.post(path, body)
        if ctx.role not in OPENS:
            ctx.check(resp.status_code == 403, f"create {key}: {_short(resp)}")
            ctx.check(state() == before, f"create {key}: refused create changed the tickets")
        elif key in SEES[ctx.role] or ctx.role in ("admin", "service"):
            ctx.check(resp.status_code == 201, f"create {key}: {_short(resp)}")
        else:
            ctx.check(
                resp.status_code == 422 and cust.name not in resp.content.decode(),
                f"create {key}: {_short(resp)}",
            )
            ctx.check(state() == before, f"create {key}: refused create changed the tickets")


def h_transition(ctx: Ctx, method: str, path: str) -> None:
    for key, t in tickets_of(ctx).items():
        _write(
            ctx,
            f"transition {key}",
            method,
            fill(path, ticket_id=t.pk),
            {"action": "acknowledge", "version": t.version},
            key in WORKS[ctx.role],
            key in SEES[ctx.role],
            (200,),
        )


def h_transfer(ctx: Ctx, method: str, path: str) -> None:
    o = ctx.w.org
    for key, t in tickets_of(ctx).items():
        body = {"version": t.version, "department_id": o.sales1.pk, "assignee_id": o.rep1b.pk, "note": "转交"}
        _write(
            ctx,
            f"transfer {key}",
            method,
            fill(path, ticket_id=t.pk),
            body,
            key in WORKS[ctx.role],
            key in SEES[ctx.role],
            (200,),
        )


def h_surveys(ctx: Ctx, method: str, path: str) -> None:
    from guanxi.service import surveys
    from guanxi.service.models import SurveyInvitation

    campaign = surveys.create_campaign(actor=ctx.w.org.admin, name="调查", segment="all")
    for inv in SurveyInvitation.objects.filter(campaign=campaign):
        surveys.answer(
            token=inv.token,
            data={
                "nps": 9,
                "overall": 90,
                "product_quality": 5,
                "service_response": 5,
                "value_for_money": 5,
                "cooperation": 5,
            },
        )
    resp = ctx.api.get(fill(path, survey_id=campaign.pk))
    if not ctx.check(resp.status_code == 200, f"{path}: {_short(resp)}"):
        return
    if "{survey_id}" in path:
        body = resp.json()
        ctx.check(
            body["total"]["answers"] == len(SEES[ctx.role]) or ctx.role == "analyst",
            f"survey totals: {body['total']}",
        )
        names = {f["label"] for f in body["per_customer"]}
        visible = {c.name for k, c in ctx.w.customers.items() if k in VISIBLE_CUSTOMERS[ctx.role]}
        ctx.check(names <= visible, f"survey lists customers outside scope: {names - visible}")
        resp = ctx.api.get(fill(path, survey_id=campaign.pk + 1000))
        ctx.check(resp.status_code == 404, f"unknown survey: {_short(resp)}")
    else:
        ctx.check(resp.json()["count"] >= 1, "survey list is empty")


OPERATIONS: dict[tuple[str, str], Callable[[Ctx, str, str], None]] = {
    ("get", f"{P}/tickets"): h_list,
    ("post", f"{P}/tickets"): h_create,
    ("get", f"{P}/tickets/{{ticket_id}}"): h_get,
    ("post", f"{P}/tickets/{{ticket_id}}/transition"): h_transition,
    ("post", f"{P}/tickets/{{ticket_id}}/transfer"): h_transfer,
    ("get", f"{P}/surveys"): h_surveys,
    ("get", f"{P}/surveys/{{survey_id}}"): h_surveys,
}


@pytest.fixture
def desk(world):
    for key, cust in world.customers.items():
        services.create_ticket(
            actor=world.org.admin,
            data={
                "kind": "complaint",
                "channel": "hotline",
                "customer_id": cust.pk,
                "subject": f"工单-{key}-主题",
                "description": "说明",
                "cause": "billing",
                "expectation": "更正",
            },
        )


def test_every_ticket_operation_is_walked(world, api_as):
    ops = {
        op
        for op in api_operations(api_as(world.org.admin))
        if op[1].startswith((f"{P}/tickets", f"{P}/surveys"))
    }
    assert ops == set(OPERATIONS)


@pytest.mark.parametrize("role", ROLES)
def test_ticket_access_matrix(role, world, desk, api_as):
    user = user_of(world.org, role)
    ctx = Ctx(role=role, user=user, api=api_as(user), w=world)
    for (method, path), handler in OPERATIONS.items():
        handler(ctx, method, path)
    assert not ctx.failures, "\n".join(ctx.failures)
