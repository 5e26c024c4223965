"""The access matrix of the REST API, built from the OpenAPI document.

Every operation the API publishes is walked for every role: list and detail reads, and every write
(POST/PATCH/PUT/DELETE) on an in-scope record and on each out-of-scope one. An operation the
matrix does not know how to exercise fails ``test_matrix_knows_every_operation``, so a new
endpoint has to join the matrix before it can ship.

The world (conftest.world): A (rep1a's company, account team rep2b), I (rep1a's individual
customer), C (rep1b's company), B (rep2a's company, other department); contacts A1, C1, B1; rep1b
deputises for rep1a; a revenue reason is owed for every customer.
"""

from __future__ import annotations

import contextlib
import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from guanxi.customers.models import (
    ClassificationChange,
    Contact,
    Customer,
    RevenueFigure,
    RevenueReasonRequest,
)
from guanxi.org.models import Department, Deputy, Team, User

ROLES = ["admin", "manager", "owner", "deputy", "team_member", "service", "analyst", "auditor"]

VISIBLE_CUSTOMERS = {
    "admin": {"A", "I", "C", "B"},
    "manager": {"A", "I", "C"},  # manager1: Sales 1
    "owner": {"A", "I"},  # rep1a
    "deputy": {"A", "I", "C"},  # rep1b: own C, plus rep1a's while covering
    "team_member": {"A"},  # rep2b: on A's account team only (not B, though in B's department)
    "service": {"A", "I", "C", "B"},
    "analyst": {"A", "C", "B"},  # companies only
    "auditor": {"A", "I", "C", "B"},
}
VISIBLE_CONTACTS = {
    "admin": {"A1", "C1", "B1"},
    "manager": {"A1", "C1"},
    "owner": {"A1"},
    "deputy": {"A1", "C1"},
    "team_member": {"A1"},
    "service": {"A1", "C1", "B1"},
    "analyst": set(),
    "auditor": {"A1", "C1", "B1"},
}
PERSONAL = {"admin", "manager", "owner", "deputy", "team_member"}
CHANGE = {"admin", "manager", "owner", "deputy", "team_member"}
DELETE_CUSTOMER = {"admin", "manager", "owner", "deputy"}
AUDIT = {"admin", "auditor"}
ORG_ADMIN = {"admin"}
ADD_DEPUTY = {"admin", "manager"}
CONTACT_OF = {"A1": "A", "C1": "C", "B1": "B"}

# the personal fields conftest.PERSONAL_A1 fills in for A1, as the API answers them
PERSONAL_SAMPLE = {
    "interests": "围棋和钓鱼",
    "family": "已婚，一个女儿",
    "birthday_month": 8,
    "birth_year": 1975,
}


def user_of(org, role: str) -> User:
    return {
        "admin": org.admin, "manager": org.manager1, "owner": org.rep1a, "deputy": org.rep1b,
        "team_member": org.rep2b, "service": org.service, "analyst": org.analyst, "auditor": org.auditor,
    }[role]  # fmt: skip


# --- database state, to prove that a refused write changed nothing ---------------------------------


def db_state() -> dict[str, Any]:
    def rows(qs):
        return list(qs.order_by("pk").values())

    return {
        "customers": rows(Customer.objects.all()),
        "contacts": rows(Contact.objects.all()),
        "account_team": rows(Customer.account_team.through.objects.all()),
        "tags": rows(Customer.tags.through.objects.all()),
        "revenue": rows(RevenueFigure.objects.all()),
        "reasons": rows(RevenueReasonRequest.objects.all()),
        "history": (Customer.history.count(), Contact.history.count()),
        "classification": ClassificationChange.objects.count(),
        "users": list(
            User.objects.order_by("pk").values(
                "pk", "display_name", "role", "department_id", "team_id", "is_active"
            )
        ),
        "departments": rows(Department.objects.all()),
        "teams": rows(Team.objects.all()),
        "deputies": rows(Deputy.objects.all()),
    }


@contextlib.contextmanager
def rolled_back():
    """Run a request inside a savepoint that is always rolled back, so the walk can go on."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


# --- the walk --------------------------------------------------------------------------------------


@dataclass
class Ctx:
    role: str
    user: User
    api: Any
    w: Any
    failures: list[str] = field(default_factory=list)

    def fail(self, msg: str) -> None:
        self.failures.append(f"[{self.role}] {msg}")

    def check(self, cond: bool, msg: str) -> bool:
        if not cond:
            self.fail(msg)
        return cond

    # scope helpers
    def customers_in(self) -> list[str]:
        return sorted(VISIBLE_CUSTOMERS[self.role])

    def customers_out(self) -> list[str]:
        return sorted(set(self.w.customers) - VISIBLE_CUSTOMERS[self.role])

    def contacts_in(self) -> list[str]:
        return sorted(VISIBLE_CONTACTS[self.role])

    def contacts_out(self) -> list[str]:
        return sorted(set(self.w.contacts) - VISIBLE_CONTACTS[self.role])

    def reason_of(self, key: str) -> RevenueReasonRequest:
        return RevenueReasonRequest.objects.get(customer=self.w.customers[key], period_start="2024-02-01")


def fill(path: str, **ids: int) -> str:
    for name, value in ids.items():
        path = path.replace("{" + name + "}", str(value))
    return path


def _short(resp) -> str:
    return f"{resp.status_code} {resp.content[:200].decode(errors='replace')}"


def expect_404_without_name(ctx: Ctx, resp, what: str, name: str) -> None:
    ctx.check(resp.status_code == 404, f"{what}: expected 404, got {_short(resp)}")
    ctx.check(name not in resp.content.decode(errors="replace"), f"{what}: the answer names {name!r}")


def check_contact_item(ctx: Ctx, item: dict, what: str) -> None:
    key = next((k for k, c in ctx.w.contacts.items() if c.pk == item["id"]), None)
    ctx.check(key in VISIBLE_CONTACTS[ctx.role], f"{what}: out-of-scope contact {item.get('name')!r} listed")
    if ctx.role in PERSONAL:
        ctx.check(item.get("personal_visible") is True, f"{what}: personal_visible should be true")
        if key == "A1":
            for f, v in PERSONAL_SAMPLE.items():
                ctx.check(
                    item.get(f) == v, f"{what}: personal field {f} should be {v!r}, got {item.get(f)!r}"
                )
    else:
        ctx.check(item.get("personal_visible") is False, f"{what}: personal_visible should be false")
        for f in Contact.PERSONAL_FIELDS:
            ctx.check(item.get(f) is None, f"{what}: personal field {f} should be null, got {item.get(f)!r}")
        # and the values themselves appear nowhere in the answer
        for v in ("围棋和钓鱼", "已婚，一个女儿", "瑜伽"):
            ctx.check(v not in str(item), f"{what}: personal value {v!r} leaked")


def get_ok(ctx: Ctx, path: str, what: str, params=None):
    resp = ctx.api.get(path, params)
    if ctx.check(resp.status_code == 200, f"{what}: expected 200, got {_short(resp)}"):
        return resp.json()
    return None


def write(ctx: Ctx, method: str, path: str, body: Any, what: str, *, allowed: bool, ok: tuple[int, ...],
          out_name: str | None = None, params: dict | None = None,
          refused: tuple[int, ...] = (403, 404)) -> None:  # fmt: skip
    """One write, rolled back afterwards; refused writes must leave the database as it was."""
    before = db_state()
    with rolled_back():
        resp = ctx.api.request(method, path, json=body, params=params)
        after = db_state()
    if out_name is not None:
        expect_404_without_name(ctx, resp, what, out_name)
    elif allowed:
        ctx.check(resp.status_code in ok, f"{what}: expected {ok}, got {_short(resp)}")
        return
    else:
        ctx.check(resp.status_code in refused, f"{what}: expected a refusal {refused}, got {_short(resp)}")
    if before != after:
        changed = [k for k in before if before[k] != after[k]]
        ctx.fail(f"{what}: refused write changed {changed}")


# --- handlers: one per operation of the API --------------------------------------------------------


def h_list_customers(ctx: Ctx, method: str, path: str) -> None:
    data = get_ok(ctx, path, "GET customers", {"limit": 200})
    if data is None:
        return
    names = {i["name"] for i in data["items"]}
    expected = {ctx.w.customers[k].name for k in VISIBLE_CUSTOMERS[ctx.role]}
    ctx.check(names == expected, f"GET customers: got {sorted(names)}, expected {sorted(expected)}")
    ctx.check(data["count"] == len(expected), f"GET customers: count {data['count']} != {len(expected)}")
    for key in ctx.customers_out():
        c = ctx.w.customers[key]
        for q in (c.name, c.name[:2], c.phone):
            found = get_ok(ctx, path, f"GET customers?q={q}", {"q": q})
            if found is not None:
                ctx.check(
                    c.pk not in {i["id"] for i in found["items"]},
                    f"GET customers?q={q}: out-of-scope {c.name} found",
                )


def h_create_customer(ctx: Ctx, method: str, path: str) -> None:
    import factories

    body = factories.customer_data(name="新建客户测试有限公司")
    write(ctx, method, path, body, "POST customers", allowed=ctx.role in CHANGE, ok=(201,))
    if ctx.role in CHANGE and ctx.role != "admin":
        # nobody but an admin or a manager hands a new customer to another department
        body = factories.customer_data(name="越权客户有限公司", owner=ctx.w.org.rep2a.pk)
        write(
            ctx,
            method,
            path,
            body,
            "POST customers for someone else",
            allowed=False,
            ok=(),
            refused=(403, 422),
        )


def h_get_customer_sub(ctx: Ctx, method: str, path: str) -> None:
    for key in ctx.customers_in():
        c = ctx.w.customers[key]
        data = get_ok(ctx, fill(path, customer_id=c.pk), f"GET {path} ({key})")
        if data is None:
            continue
        if path.endswith("{customer_id}"):
            ctx.check(data["name"] == c.name, f"GET {path} ({key}): wrong record")
        if path.endswith("/contacts"):
            for item in data["items"]:
                check_contact_item(ctx, item, f"GET {path} ({key})")
            expected = {k for k in VISIBLE_CONTACTS[ctx.role] if CONTACT_OF[k] == key}
            got = {i["name"] for i in data["items"]}
            ctx.check(
                got == {ctx.w.contacts[k].name for k in expected}, f"GET {path} ({key}): contacts {got}"
            )
    for key in ctx.customers_out():
        c = ctx.w.customers[key]
        expect_404_without_name(ctx, ctx.api.get(fill(path, customer_id=c.pk)), f"GET {path} ({key})", c.name)
    expect_404_without_name(
        ctx, ctx.api.get(fill(path, customer_id=999999)), f"GET {path} (missing)", "x" * 9
    )


def _customer_body(method: str, c: Customer) -> dict:
    version = Customer.objects.get(pk=c.pk).version
    body = {"version": version, "short_name": "改过的简称"}
    if method == "put":
        body["name"] = c.name
    return body


def h_change_customer(ctx: Ctx, method: str, path: str) -> None:
    allowed = ctx.role in CHANGE
    for key in ctx.customers_in():
        c = ctx.w.customers[key]
        write(ctx, method, fill(path, customer_id=c.pk), _customer_body(method, c),
              f"{method.upper()} {path} ({key})", allowed=allowed, ok=(200,))  # fmt: skip
    for key in ctx.customers_out():
        c = ctx.w.customers[key]
        write(ctx, method, fill(path, customer_id=c.pk), _customer_body(method, c),
              f"{method.upper()} {path} ({key})", allowed=False, ok=(), out_name=c.name)  # fmt: skip


def h_delete_customer(ctx: Ctx, method: str, path: str) -> None:
    for key in ctx.customers_in():
        c = ctx.w.customers[key]
        write(ctx, method, fill(path, customer_id=c.pk), None, f"DELETE customer ({key})",
              allowed=ctx.role in DELETE_CUSTOMER, ok=(204,))  # fmt: skip
    for key in ctx.customers_out():
        c = ctx.w.customers[key]
        write(ctx, method, fill(path, customer_id=c.pk), None, f"DELETE customer ({key})",
              allowed=False, ok=(), out_name=c.name)  # fmt: skip


def h_set_revenue(ctx: Ctx, method: str, path: str) -> None:
    body = {"period": "2024-03", "revenue": "50000"}
    for key in ctx.customers_in():
        c = ctx.w.customers[key]
        write(ctx, method, fill(path, customer_id=c.pk), body, f"POST revenue ({key})",
              allowed=ctx.role in CHANGE, ok=(200,))  # fmt: skip
    for key in ctx.customers_out():
        c = ctx.w.customers[key]
        write(ctx, method, fill(path, customer_id=c.pk), body, f"POST revenue ({key})",
              allowed=False, ok=(), out_name=c.name)  # fmt: skip


def h_list_contacts(ctx: Ctx, method: str, path: str) -> None:
    data = get_ok(ctx, path, "GET contacts", {"limit": 200})
    if data is None:
        return
    got = {i["name"] for i in data["items"]}
    expected = {ctx.w.contacts[k].name for k in VISIBLE_CONTACTS[ctx.role]}
    ctx.check(got == expected, f"GET contacts: got {sorted(got)}, expected {sorted(expected)}")
    for item in data["items"]:
        check_contact_item(ctx, item, "GET contacts")
    for key in ctx.contacts_out():
        p = ctx.w.contacts[key]
        for q in (p.name, p.mobile):
            found = get_ok(ctx, path, f"GET contacts?q={q}", {"q": q})
            if found is not None:
                ctx.check(
                    p.pk not in {i["id"] for i in found["items"]}, f"GET contacts?q={q}: found {p.name}"
                )
    for key in ctx.customers_out():
        found = get_ok(ctx, path, f"GET contacts?customer={key}", {"customer": ctx.w.customers[key].pk})
        if found is not None:
            ctx.check(found["items"] == [], f"GET contacts?customer={key}: out-of-scope contacts listed")


def h_create_contact(ctx: Ctx, method: str, path: str) -> None:
    for key in ctx.customers_in():
        c = ctx.w.customers[key]
        write(ctx, method, path, {"customer": c.pk, "name": "新联系人"}, f"POST contacts ({key})",
              allowed=ctx.role in CHANGE, ok=(201,))  # fmt: skip
    for key in ctx.customers_out():
        c = ctx.w.customers[key]
        write(ctx, method, path, {"customer": c.pk, "name": "新联系人"}, f"POST contacts ({key})",
              allowed=False, ok=(), out_name=c.name)  # fmt: skip


def h_get_contact_sub(ctx: Ctx, method: str, path: str) -> None:
    for key in ctx.contacts_in():
        p = ctx.w.contacts[key]
        data = get_ok(ctx, fill(path, contact_id=p.pk), f"GET {path} ({key})")
        if data is not None and path.endswith("{contact_id}"):
            check_contact_item(ctx, data, f"GET {path} ({key})")
    for key in ctx.contacts_out():
        p = ctx.w.contacts[key]
        expect_404_without_name(ctx, ctx.api.get(fill(path, contact_id=p.pk)), f"GET {path} ({key})", p.name)


def _contact_body(p: Contact) -> dict:
    return {"version": Contact.objects.get(pk=p.pk).version, "title": "总经理"}


def h_change_contact(ctx: Ctx, method: str, path: str) -> None:
    for key in ctx.contacts_in():
        p = ctx.w.contacts[key]
        write(ctx, method, fill(path, contact_id=p.pk), _contact_body(p), f"{method.upper()} contact ({key})",
              allowed=ctx.role in CHANGE, ok=(200,))  # fmt: skip
    for key in ctx.contacts_out():
        p = ctx.w.contacts[key]
        write(ctx, method, fill(path, contact_id=p.pk), _contact_body(p), f"{method.upper()} contact ({key})",
              allowed=False, ok=(), out_name=p.name)  # fmt: skip


def h_delete_contact(ctx: Ctx, method: str, path: str) -> None:
    for key in ctx.contacts_in():
        p = ctx.w.contacts[key]
        write(ctx, method, fill(path, contact_id=p.pk), None, f"DELETE contact ({key})",
              allowed=ctx.role in CHANGE, ok=(204,))  # fmt: skip
    for key in ctx.contacts_out():
        p = ctx.w.contacts[key]
        write(ctx, method, fill(path, contact_id=p.pk), None, f"DELETE contact ({key})",
              allowed=False, ok=(), out_name=p.name)  # fmt: skip


def h_audit(ctx: Ctx, method: str, path: str) -> None:
    resp = ctx.api.get(path, {"limit": 500})
    if ctx.role in AUDIT:
        if ctx.check(resp.status_code == 200, f"GET audit: expected 200, got {_short(resp)}"):
            names = {i["object_name"] for i in resp.json()["items"]}
            ctx.check(ctx.w.B.name in names and "李建国" in names, "GET audit: incomplete")
    else:
        expect_404_without_name(ctx, resp, "GET audit", ctx.w.A.name)


def h_reasons(ctx: Ctx, method: str, path: str) -> None:
    data = get_ok(ctx, path, "GET reasons-owed", {"limit": 200})
    if data is None:
        return
    got = {i["customer"] for i in data["items"]}
    # revenue figures are finance: service agents see none (they handle tickets, not credit)
    keys = set() if ctx.role == "service" else VISIBLE_CUSTOMERS[ctx.role]
    visible = {ctx.w.customers[k].pk for k in keys}
    leaked = {i["customer_name"] for i in data["items"] if i["customer"] not in visible}
    ctx.check(not leaked, f"GET reasons-owed: out-of-scope customers listed: {sorted(leaked)}")
    if ctx.role not in ("analyst",):
        ctx.check(
            got == visible, f"GET reasons-owed: expected the reasons of {sorted(visible)}, got {sorted(got)}"
        )


def h_explain(ctx: Ctx, method: str, path: str) -> None:
    body = {"reason": "集中采购"}
    for key in ctx.customers_in():
        r = ctx.reason_of(key)
        write(ctx, method, fill(path, request_id=r.pk), body, f"POST explain ({key})",
              allowed=ctx.role in CHANGE, ok=(200,))  # fmt: skip
    for key in ctx.customers_out():
        r = ctx.reason_of(key)
        write(ctx, method, fill(path, request_id=r.pk), body, f"POST explain ({key})",
              allowed=False, ok=(), out_name=ctx.w.customers[key].name)  # fmt: skip


def h_org_read(ctx: Ctx, method: str, path: str) -> None:
    data = get_ok(ctx, path, f"GET {path}")
    if data is not None and path.endswith("/me"):
        ctx.check(data["id"] == ctx.user.pk, "GET me: someone else")


def h_get_user(ctx: Ctx, method: str, path: str) -> None:
    get_ok(ctx, fill(path, user_id=ctx.w.org.rep2a.pk), "GET user")
    resp = ctx.api.get(fill(path, user_id=999999))
    ctx.check(resp.status_code == 404, f"GET user (missing): {_short(resp)}")


def h_patch_user(ctx: Ctx, method: str, path: str) -> None:
    write(ctx, method, fill(path, user_id=ctx.w.org.rep2a.pk), {"display_name": "改名"}, "PATCH user",
          allowed=ctx.role in ORG_ADMIN, ok=(200,))  # fmt: skip
    # nobody raises their own role
    if ctx.role != "admin":
        write(ctx, method, fill(path, user_id=ctx.user.pk), {"role": "admin"}, "PATCH own role",
              allowed=False, ok=())  # fmt: skip


def h_create_user(ctx: Ctx, method: str, path: str) -> None:
    body = {"username": "newbie", "password": "Kp9-long-enough-pass!", "role": "account_manager"}
    write(ctx, method, path, body, "POST users", allowed=ctx.role in ORG_ADMIN, ok=(201,))


def h_create_department(ctx: Ctx, method: str, path: str) -> None:
    write(ctx, method, path, {"name": "市场部", "kind": "marketing"}, "POST departments",
          allowed=ctx.role in ORG_ADMIN, ok=(201,))  # fmt: skip


def h_create_team(ctx: Ctx, method: str, path: str) -> None:
    write(ctx, method, path, {"name": "新组", "department": ctx.w.org.sales1.pk}, "POST teams",
          allowed=ctx.role in ORG_ADMIN, ok=(201,))  # fmt: skip


def h_create_deputy(ctx: Ctx, method: str, path: str) -> None:
    o = ctx.w.org
    today = timezone.localdate()
    body = {"absent": o.rep1b.pk, "deputy": o.rep1a.pk, "starts_on": str(today),
            "ends_on": str(today + datetime.timedelta(days=3))}  # fmt: skip
    write(ctx, method, path, body, "POST deputies", allowed=ctx.role in ADD_DEPUTY, ok=(201,))
    # a manager of one department cannot set deputies in another
    body2 = {**body, "absent": o.rep2a.pk, "deputy": o.rep2b.pk}
    write(ctx, method, path, body2, "POST deputies (Sales 2)", allowed=ctx.role in ORG_ADMIN, ok=(201,))


P = "/api/v1"
OPERATIONS: dict[tuple[str, str], Callable[[Ctx, str, str], None]] = {
    ("get", f"{P}/customers"): h_list_customers,
    ("post", f"{P}/customers"): h_create_customer,
    ("get", f"{P}/customers/{{customer_id}}"): h_get_customer_sub,
    ("patch", f"{P}/customers/{{customer_id}}"): h_change_customer,
    ("put", f"{P}/customers/{{customer_id}}"): h_change_customer,
    ("delete", f"{P}/customers/{{customer_id}}"): h_delete_customer,
    ("get", f"{P}/customers/{{customer_id}}/history"): h_get_customer_sub,
    ("get", f"{P}/customers/{{customer_id}}/classification-history"): h_get_customer_sub,
    ("get", f"{P}/customers/{{customer_id}}/contacts"): h_get_customer_sub,
    ("post", f"{P}/customers/{{customer_id}}/revenue"): h_set_revenue,
    ("get", f"{P}/contacts"): h_list_contacts,
    ("post", f"{P}/contacts"): h_create_contact,
    ("get", f"{P}/contacts/{{contact_id}}"): h_get_contact_sub,
    ("patch", f"{P}/contacts/{{contact_id}}"): h_change_contact,
    ("put", f"{P}/contacts/{{contact_id}}"): h_change_contact,
    ("delete", f"{P}/contacts/{{contact_id}}"): h_delete_contact,
    ("get", f"{P}/contacts/{{contact_id}}/history"): h_get_contact_sub,
    ("get", f"{P}/audit"): h_audit,
    ("get", f"{P}/reasons-owed"): h_reasons,
    ("post", f"{P}/reasons-owed/{{request_id}}/explain"): h_explain,
    ("get", f"{P}/me"): h_org_read,
    ("get", f"{P}/users"): h_org_read,
    ("post", f"{P}/users"): h_create_user,
    ("get", f"{P}/users/{{user_id}}"): h_get_user,
    ("patch", f"{P}/users/{{user_id}}"): h_patch_user,
    ("get", f"{P}/departments"): h_org_read,
    ("post", f"{P}/departments"): h_create_department,
    ("get", f"{P}/teams"): h_org_read,
    ("post", f"{P}/teams"): h_create_team,
    ("get", f"{P}/deputies"): h_org_read,
    ("post", f"{P}/deputies"): h_create_deputy,
}
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def api_operations(api) -> list[tuple[str, str]]:
    resp = api.get("openapi.json")
    assert resp.status_code == 200
    return sorted(
        (method, path)
        for path, ops in resp.json()["paths"].items()
        for method in ops
        if method in HTTP_METHODS
    )


def test_openapi_document_lists_the_core_operations(world, api_as):
    ops = set(api_operations(api_as(world.org.admin)))
    core = [
        ("get", f"{P}/customers"),
        ("patch", f"{P}/customers/{{customer_id}}"),
        ("get", f"{P}/customers/{{customer_id}}/history"),
        ("get", f"{P}/contacts/{{contact_id}}"),
    ]
    for op in core:
        assert op in ops


def all_operations() -> dict[tuple[str, str], Callable[[Ctx, str, str], None]]:
    """OPERATIONS of this module and of every ``test_access_api_<app>.py`` (an app's own matrix,
    which walks its operations itself)."""
    import importlib
    from pathlib import Path

    ops = dict(OPERATIONS)
    for path in sorted(Path(__file__).parent.glob("test_access_api_*.py")):
        ops.update(getattr(importlib.import_module(path.stem), "OPERATIONS", {}))
    return ops


def test_matrix_knows_every_operation(world, api_as):
    """A new endpoint must join the access matrix: add a handler to OPERATIONS (here, or in the
    app's own tests/test_access_api_<app>.py)."""
    known = all_operations()
    unknown = [f"{m.upper()} {p}" for m, p in api_operations(api_as(world.org.admin)) if (m, p) not in known]
    assert not unknown, f"operations the access matrix does not walk: {unknown}"


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(role, world, api_as):
    user = user_of(world.org, role)
    ctx = Ctx(role=role, user=user, api=api_as(user), w=world)
    for method, path in api_operations(api_as(world.org.admin)):
        handler = OPERATIONS.get((method, path))
        if handler is None:
            continue  # another app's matrix walks it; test_matrix_knows_every_operation checks
        handler(ctx, method, path)
    assert not ctx.failures, "\n".join(ctx.failures)


def test_every_operation_needs_authentication(world, anon_api, api_as):
    ids = {"customer_id": world.A.pk, "contact_id": world.A1.pk, "user_id": world.org.rep1a.pk,
           "request_id": RevenueReasonRequest.objects.filter(customer=world.A).first().pk}  # fmt: skip
    before = db_state()
    failures = []
    for method, path in api_operations(api_as(world.org.admin)):
        url = re.sub(r"\{[a-z_]+\}", "1", fill(path, **ids))  # other apps' ids: any id must be refused
        resp = anon_api.request(method, url, json={"version": 1, "name": "x", "reason": "x"})
        if resp.status_code != 401:
            failures.append(f"{method.upper()} {path}: {resp.status_code}")
        elif world.A.name in resp.content.decode():
            failures.append(f"{method.upper()} {path}: 401 names the customer")
    assert not failures
    assert db_state() == before


def test_bad_or_revoked_token_is_401(world, api_as):
    from conftest import ApiClient
    from guanxi.org.models import ApiToken

    assert ApiClient("gx_not-a-token").get("customers").status_code == 401
    client = api_as(world.org.rep1a)
    assert client.get("customers").status_code == 200
    ApiToken.objects.filter(user=world.org.rep1a).update(revoked_at=timezone.now())
    assert client.get("customers").status_code == 401
    world.org.rep2a.is_active = False
    world.org.rep2a.save()
    assert api_as(world.org.rep2a).get("customers").status_code == 401


def test_deputy_loses_access_when_the_cover_ends(world, api_as):
    Deputy.objects.update(ends_on=timezone.localdate() - datetime.timedelta(days=1),
                          starts_on=timezone.localdate() - datetime.timedelta(days=5))  # fmt: skip
    resp = api_as(world.org.rep1b).get(f"customers/{world.A.pk}")
    assert resp.status_code == 404
    assert world.A.name not in resp.content.decode()
