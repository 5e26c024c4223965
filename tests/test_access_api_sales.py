"""The access matrix of the sales API (/api/v1/ products, categories, orders, invoices, payments,
purchases) for every role of tests/test_access_api.py.

Orders, invoices and purchase figures need ``view_finance`` on the customer: the service agent sees
none of them (404), the analyst those of companies; writing needs the right to change the customer
(403 for a visible customer, 404 outside the scope). The catalogue is read by everyone and changed
by administrators only."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from guanxi.sales.models import (
    Invoice,
    Order,
    OrderLine,
    Payment,
    Product,
    ProductCategory,
    ProductMonth,
    PurchaseSummary,
)
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
from test_sales_services import sales_world

P = "/api/v1"
# customers whose orders, invoices and purchase figures each role reads (view_finance)
FINANCE = {role: (set() if role == "service" else set(keys)) for role, keys in VISIBLE_CUSTOMERS.items()}


def state() -> dict[str, Any]:
    def rows(qs):
        return list(qs.order_by("pk").values())

    return {
        "orders": rows(Order.objects.all()),
        "lines": rows(OrderLine.objects.all()),
        "invoices": rows(Invoice.objects.all()),
        "payments": rows(Payment.objects.all()),
        "products": rows(Product.objects.all()),
        "categories": rows(ProductCategory.objects.all()),
        "summaries": list(PurchaseSummary.objects.order_by("pk").values("pk", "orders", "gross")),
        "months": rows(ProductMonth.objects.all()),
    }


def swrite(
    ctx: Ctx, method: str, path: str, body: Any, what: str, *, key: str, record: bool, ok=(200, 201)
) -> None:
    """A write on customer ``key``'s data, rolled back. ``record``: the path names an order or an
    invoice (out of scope without view_finance), else the customer itself."""
    visible = key in (FINANCE[ctx.role] if record else VISIBLE_CUSTOMERS[ctx.role])
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


def _customer_ids(ctx: Ctx, keys) -> set[int]:
    return {ctx.w.customers[k].pk for k in keys}


# --- handlers --------------------------------------------------------------------------------------


def h_catalogue_read(ctx: Ctx, method: str, path: str) -> None:
    if "{product_id}" in path:
        for p in Product.objects.all():
            data = get_ok(ctx, fill(path, product_id=p.pk), f"GET product {p.pk}")
            if data is not None:
                ctx.check(data["name"] == p.name, "GET product: wrong record")
        ctx.check(ctx.api.get(fill(path, product_id=999999)).status_code == 404, "GET product 999999")
        return
    data = get_ok(ctx, path, f"GET {path}")
    if data is not None:
        n = len(data) if isinstance(data, list) else data["count"]
        expected = ProductCategory.objects.count() if path.endswith("categories") else Product.objects.count()
        ctx.check(n == expected, f"GET {path}: everyone reads the whole catalogue ({n} != {expected})")


def h_catalogue_write(ctx: Ctx, method: str, path: str) -> None:
    if path.endswith("product-categories"):
        _admin_write(ctx, method, path, {"name": "新类别"}, ok=201)
    elif path.endswith("/products"):
        _admin_write(ctx, method, path, {"name": "新产品", "list_price": "10"}, ok=201)
    else:
        product = Product.objects.order_by("pk").first()
        _admin_write(ctx, method, fill(path, product_id=product.pk), {"list_price": "11"}, ok=200)


def h_list(ctx: Ctx, method: str, path: str) -> None:
    data = get_ok(ctx, path, f"GET {path}", {"limit": 200})
    if data is None:
        return
    got = {i["customer_id"] for i in data["items"]}
    expected = _customer_ids(ctx, FINANCE[ctx.role])
    ctx.check(got == expected, f"GET {path}: customers {sorted(got)} != {sorted(expected)}")
    ctx.check(data["count"] == len(data["items"]), f"GET {path}: count {data['count']}")
    # a filter on an out-of-scope customer finds nothing either
    for key in set(ctx.w.customers) - FINANCE[ctx.role]:
        found = get_ok(ctx, path, f"GET {path}?customer={key}", {"customer": ctx.w.customers[key].pk})
        if found is not None:
            ctx.check(found["count"] == 0, f"GET {path}?customer={key}: out-of-scope rows listed")


def _record_id(ctx: Ctx, key: str, param: str) -> int:
    if param == "order_id":
        return ctx.w.sales["orders"][key].pk
    if param == "invoice_id":
        return ctx.w.sales["invoices"][key].pk
    return ctx.w.customers[key].pk


def _param(path: str) -> str:
    for p in ("order_id", "invoice_id", "customer_id"):
        if "{" + p + "}" in path:
            return p
    raise AssertionError(path)


def h_get_record(ctx: Ctx, method: str, path: str) -> None:
    p = _param(path)
    for key, c in ctx.w.customers.items():
        url = fill(path, **{p: _record_id(ctx, key, p)})
        resp = ctx.api.get(url)
        if key in FINANCE[ctx.role]:
            ctx.check(resp.status_code == 200, f"GET {url} ({key}): {_short(resp)}")
        elif key in VISIBLE_CUSTOMERS[ctx.role] and p == "customer_id":
            ctx.check(resp.status_code == 403, f"GET {url} ({key}): expected 403, got {_short(resp)}")
            ctx.check("outstanding" not in resp.content.decode(), f"GET {url} ({key}): figures shown")
        else:
            expect_404_without_name(ctx, resp, f"GET {url} ({key})", c.name)
    expect_404_without_name(ctx, ctx.api.get(fill(path, **{p: 999999})), f"GET {path} (missing)", "x" * 9)


def h_post_per_customer(ctx: Ctx, method: str, path: str) -> None:
    today = timezone.localdate()
    for key, c in ctx.w.customers.items():
        if path.endswith("/orders"):
            body = {"customer_id": c.pk, "lines": [{"amount": "100"}]}
        else:
            body = {
                "customer_id": c.pk,
                "number": f"FP-NEW-{key}",
                "issue_date": str(today),
                "due_date": str(today + datetime.timedelta(days=30)),
                "amount": "100",
            }
        swrite(ctx, method, path, body, f"POST {path} ({key})", key=key, record=False, ok=(201,))


def h_write_record(ctx: Ctx, method: str, path: str) -> None:
    p = _param(path)
    for key in ctx.w.customers:
        url = fill(path, **{p: _record_id(ctx, key, p)})
        if path.endswith("/payments"):
            body, ok = {"amount": "10"}, (201,)
        elif path.endswith("/void"):
            body, ok = None, (200,)
        elif method == "delete":
            body, ok = None, (204,)
        else:
            body, ok = {"delivery_state": "shipped"}, (200,)
        swrite(ctx, method, url, body, f"{method.upper()} {url} ({key})", key=key, record=True, ok=ok)


OPERATIONS: dict[tuple[str, str], Callable[[Ctx, str, str], None]] = {
    ("get", f"{P}/product-categories"): h_catalogue_read,
    ("post", f"{P}/product-categories"): h_catalogue_write,
    ("get", f"{P}/products"): h_catalogue_read,
    ("post", f"{P}/products"): h_catalogue_write,
    ("get", f"{P}/products/{{product_id}}"): h_catalogue_read,
    ("patch", f"{P}/products/{{product_id}}"): h_catalogue_write,
    ("get", f"{P}/orders"): h_list,
    ("post", f"{P}/orders"): h_post_per_customer,
    ("get", f"{P}/orders/{{order_id}}"): h_get_record,
    ("patch", f"{P}/orders/{{order_id}}"): h_write_record,
    ("delete", f"{P}/orders/{{order_id}}"): h_write_record,
    ("get", f"{P}/invoices"): h_list,
    ("post", f"{P}/invoices"): h_post_per_customer,
    ("get", f"{P}/invoices/{{invoice_id}}"): h_get_record,
    ("post", f"{P}/invoices/{{invoice_id}}/payments"): h_write_record,
    ("post", f"{P}/invoices/{{invoice_id}}/void"): h_write_record,
    ("get", f"{P}/customers/{{customer_id}}/purchases"): h_get_record,
}


@pytest.mark.parametrize("role", ROLES)
def test_sales_access_matrix(role, world, api_as):
    world.sales = sales_world(world)
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
