"""The access matrix of the import API (/api/v1/imports…) for every role of tests/test_access_api.py:
importing is for administrators, managers and account managers (403 for the others), and writes
only what the importer may change (rows for other customers are errors, nothing else is written);
a job is seen by its creator and administrators (404 for everyone else)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from guanxi.imports.models import ImportJob
from guanxi.sales.models import Order
from test_access_api import ROLES, VISIBLE_CUSTOMERS, Ctx, _short, api_operations, fill, rolled_back, user_of

P = "/api/v1"
IMPORTERS = {"admin", "manager", "owner", "deputy", "team_member"}


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"


def _csv(name: str) -> bytes:
    return f"客户名称,下单日期,金额\n{name},2024-05-20,10\n".encode()


def _upload(ctx: Ctx, content: bytes, **data):
    return ctx.api.client.post(
        f"{P}/imports",
        {"kind": "orders", "file": SimpleUploadedFile("o.csv", content), **data},
        headers=ctx.api.headers,
    )


def h_create(ctx: Ctx, method: str, path: str) -> None:
    for key, customer in ctx.w.customers.items():
        with rolled_back():
            resp = _upload(ctx, _csv(customer.name))
            orders = Order.objects.filter(customer=customer).count()
        what = f"POST {path} ({key})"
        if ctx.role not in IMPORTERS:
            ctx.check(resp.status_code == 403, f"{what}: expected 403, got {_short(resp)}")
            continue
        if not ctx.check(resp.status_code == 201, f"{what}: expected 201, got {_short(resp)}"):
            continue
        may = key in VISIBLE_CUSTOMERS[ctx.role] and (ctx.role != "analyst")
        state = resp.json()["state"]
        ctx.check(state == ("done" if may else "failed"), f"{what}: state {state}")
        ctx.check(orders == (1 if may else 0), f"{what}: {orders} orders written")


def _job_of(ctx: Ctx) -> ImportJob:
    return ImportJob.objects.get(original_name="rep1a.csv")


def h_list(ctx: Ctx, method: str, path: str) -> None:
    resp = ctx.api.get(path)
    if not ctx.check(resp.status_code == 200, f"GET {path}: {_short(resp)}"):
        return
    names = {i["original_name"] for i in resp.json()["items"]}
    ctx.check(("rep1a.csv" in names) == (ctx.role in ("admin", "owner")), f"GET {path}: jobs {names}")


def h_get(ctx: Ctx, method: str, path: str) -> None:
    url = fill(path, job_id=_job_of(ctx).pk)
    resp = ctx.api.get(url)
    expected = 200 if ctx.role in ("admin", "owner") else 404
    ctx.check(resp.status_code == expected, f"GET {url}: expected {expected}, got {_short(resp)}")
    if expected == 404:
        ctx.check("rep1a.csv" not in resp.content.decode(), f"GET {url}: the answer names the job")


def h_start(ctx: Ctx, method: str, path: str) -> None:
    job = _job_of(ctx)
    url = fill(path, job_id=job.pk)
    with rolled_back():
        resp = ctx.api.post(url, {"mapping": ["customer_name", "order_date", "amount"]})
        state = ImportJob.objects.get(pk=job.pk).state
    if ctx.role in ("admin", "owner"):
        ctx.check(resp.status_code == 200 and state == "done", f"POST {url}: {_short(resp)} {state}")
    else:
        ctx.check(resp.status_code == 404 and state == "uploaded", f"POST {url}: {_short(resp)} {state}")


OPERATIONS: dict[tuple[str, str], Callable[[Ctx, str, str], None]] = {
    ("post", f"{P}/imports"): h_create,
    ("get", f"{P}/imports"): h_list,
    ("get", f"{P}/imports/{{job_id}}"): h_get,
    ("get", f"{P}/imports/{{job_id}}/errors"): h_get,
    ("post", f"{P}/imports/{{job_id}}/start"): h_start,
}


@pytest.mark.parametrize("role", ROLES)
def test_imports_access_matrix(role, world, api_as):
    owner = Ctx(role="owner", user=world.org.rep1a, api=api_as(world.org.rep1a), w=world)
    resp = owner.api.client.post(
        f"{P}/imports",
        {"kind": "orders", "start": "false", "file": SimpleUploadedFile("rep1a.csv", _csv(world.A.name))},
        headers=owner.api.headers,
    )
    assert resp.status_code == 201
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
