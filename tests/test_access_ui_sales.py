"""The access matrix of the sales pages (orders, invoices, payments, products, the card's sales
section) for every role: orders and invoices of customers whose finance a role may not read answer
404 and never show up in a list or an export; visible records the role may not change answer 403;
refused writes change nothing; the catalogue is changed by administrators only."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from guanxi.sales.models import Invoice, Order, OrderLine, Payment, Product, ProductCategory
from test_access_ui import VISIBLE, _users
from test_sales_services import sales_world

COVERED_PAGES = {
    "sales:orders",
    "sales:order_create",
    "sales:order_line",
    "sales:order_export",
    "sales:order_detail",
    "sales:order_delivery",
    "sales:order_delete",
    "sales:products",
    "sales:product_create",
    "sales:product_detail",
    "sales:product_edit",
    "sales:categories",
    "sales:invoices",
    "sales:invoice_create",
    "sales:invoice_export",
    "sales:invoice_detail",
    "sales:payment_create",
    "sales:invoice_void",
    "sales:customer_sales",
}
ROLES = list(VISIBLE)
# role → may change the customers it sees (the account team, managers, administrators)
CHANGES = {"admin", "manager1", "manager2", "rep1a", "rep1b", "rep2a", "rep2b"}


def finance(role: str) -> str:
    """The customers whose orders, invoices and figures the role reads (view_finance)."""
    return "" if role == "service" else VISIBLE[role][0]


def _client(user) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(user)
    return c


@pytest.fixture
def sales(world):
    return sales_world(world)


def _record_pages(sales, key):
    order, invoice = sales["orders"][key], sales["invoices"][key]
    return [
        reverse("sales:order_detail", args=[order.pk]),
        reverse("sales:invoice_detail", args=[invoice.pk]),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_record_pages_answer_404_without_finance_and_403_without_change(world, sales, role):
    client = _client(_users(world)[role])
    visible = VISIBLE[role][0]
    for key, customer in world.customers.items():
        name = customer.name
        for url in _record_pages(sales, key):
            resp = client.get(url)
            if key in finance(role):
                assert resp.status_code == 200, (role, url, resp.status_code)
            else:
                assert resp.status_code == 404 and name not in resp.content.decode(), (role, url)
        # the delete confirmation needs the right to change
        resp = client.get(reverse("sales:order_delete", args=[sales["orders"][key].pk]))
        if key not in finance(role):
            assert resp.status_code == 404, (role, key)
        else:
            assert resp.status_code == (200 if role in CHANGES else 403), (role, key, resp.status_code)
        # the card's section: 403 for a visible customer without finance, 404 outside the scope
        resp = client.get(reverse("sales:customer_sales", args=[customer.pk]))
        if key in finance(role):
            order_url = reverse("sales:order_detail", args=[sales["orders"][key].pk])
            assert resp.status_code == 200 and order_url in resp.content.decode(), (role, key)
        elif key in visible:
            assert resp.status_code == 403 and "Outstanding" not in resp.content.decode(), (role, key)
        else:
            assert resp.status_code == 404 and name not in resp.content.decode(), (role, key)
        # new orders and invoices for the customer
        for page in ("sales:order_create", "sales:invoice_create"):
            resp = client.get(reverse(page) + f"?customer={customer.pk}")
            if key not in visible:
                assert resp.status_code == 404 and name not in resp.content.decode(), (role, page, key)
            else:
                assert resp.status_code == (200 if role in CHANGES else 403), (role, page, key)


@pytest.mark.parametrize("role", ROLES)
def test_lists_and_exports_never_show_what_the_role_may_not_read(world, sales, role):
    client = _client(_users(world)[role])
    hidden = [c for k, c in world.customers.items() if k not in finance(role)]
    shown = [c for k, c in world.customers.items() if k in finance(role)]
    urls = [
        reverse("sales:orders") + "?limit=200",
        reverse("sales:invoices") + "?limit=200",
        reverse("sales:invoices") + "?overdue=1",
        reverse("sales:products"),
        reverse("sales:categories"),
        reverse("sales:product_detail", args=[sales["products"]["motor"].pk]),
    ]
    urls += [reverse("sales:invoices") + f"?q={c.name[:2]}" for c in hidden]
    for url in urls:
        resp = client.get(url)
        assert resp.status_code == 200, (role, url, resp.status_code)
        body = resp.content.decode()
        for c in hidden:
            assert c.name not in body, (role, url, c.name)
    # filtered by a customer: no rows; the filter chip names only a customer the role may see
    unseen = [c for k, c in world.customers.items() if k not in VISIBLE[role][0]]
    for c in hidden:
        for name in ("sales:orders", "sales:invoices"):
            body = client.get(reverse(name), {"customer": c.pk}).content.decode()
            assert "No orders match" in body or "No invoices match" in body, (role, name, c.name)
            assert (c.name in body) == (c not in unseen), (role, name, c.name)
    body = client.get(reverse("sales:orders") + "?limit=200").content.decode()
    for c in shown:
        assert c.name in body, (role, c.name)
    # exports: their own scope, logged; 404 for a role without any (analysts work on aggregates)
    from openpyxl import load_workbook

    for page in ("sales:order_export", "sales:invoice_export"):
        resp = client.post(reverse(page), {"purpose": "月度对账"})
        if role in ("service", "analyst"):
            assert resp.status_code == 404, (role, page)
            continue
        assert resp.status_code == 200, (role, page, resp.status_code)
        rows = list(
            load_workbook(io.BytesIO(b"".join(resp.streaming_content))).active.iter_rows(values_only=True)
        )
        names = {v for r in rows[1:] for v in r if isinstance(v, str)}
        for c in hidden:
            assert c.name not in names, (role, page, c.name)


@pytest.mark.parametrize("role", ROLES)
def test_writes_outside_scope_change_nothing(world, sales, role):
    client = _client(_users(world)[role])
    visible = VISIBLE[role][0]

    def snapshot():
        return (
            list(Order.objects.order_by("pk").values()),
            list(OrderLine.objects.order_by("pk").values()),
            list(Invoice.objects.order_by("pk").values()),
            list(Payment.objects.order_by("pk").values()),
        )

    before = snapshot()
    today = timezone.localdate().isoformat()
    for key, customer in world.customers.items():
        order, invoice = sales["orders"][key], sales["invoices"][key]
        record_posts = [
            (reverse("sales:order_delivery", args=[order.pk]), {"delivery_state": "cancelled"}),
            (reverse("sales:payment_create", args=[invoice.pk]), {"paid_on": today, "amount": "1"}),
            (reverse("sales:invoice_void", args=[invoice.pk]), {}),
            (reverse("sales:order_delete", args=[order.pk]), {}),
        ]
        for url, data in record_posts:
            resp = client.post(url, data)
            if key not in finance(role):
                assert resp.status_code == 404, (role, url, resp.status_code)
            elif role not in CHANGES:
                assert resp.status_code == 403, (role, url, resp.status_code)
        customer_posts = [
            (
                reverse("sales:order_create"),
                {
                    "customer": customer.pk,
                    "order_date": today,
                    "delivery_state": "pending",
                    "lines-TOTAL_FORMS": "1",
                    "lines-INITIAL_FORMS": "0",
                    "lines-0-amount": "5",
                },
            ),
            (
                reverse("sales:invoice_create"),
                {
                    "customer": customer.pk,
                    "number": f"X-{key}",
                    "issue_date": today,
                    "due_date": today,
                    "amount": "5",
                },
            ),
        ]
        for url, data in customer_posts:
            resp = client.post(url, data)
            if key not in visible:
                assert resp.status_code == 404, (role, url, resp.status_code)
            elif role not in CHANGES:
                assert resp.status_code == 403, (role, url, resp.status_code)
            else:
                assert resp.status_code == 302, (role, url, resp.status_code)
    if role not in CHANGES:
        assert snapshot() == before, role


@pytest.mark.parametrize("role", ROLES)
def test_only_administrators_change_the_catalogue(world, sales, role):
    client = _client(_users(world)[role])
    admin = role == "admin"
    product = sales["products"]["motor"]
    before = (list(Product.objects.order_by("pk").values()), list(ProductCategory.objects.values()))
    for n, url in enumerate(
        (reverse("sales:product_create"), reverse("sales:product_edit", args=[product.pk]))
    ):
        assert client.get(url).status_code == (200 if admin else 403), (role, url)
        resp = client.post(url, {"name": f"改名-{role}-{n}", "list_price": "1"})
        assert resp.status_code == (302 if admin else 403), (role, url, resp.status_code)
    resp = client.post(reverse("sales:categories"), {"name": f"新类别-{role}"})
    assert resp.status_code == (302 if admin else 403), role
    assert client.get(reverse("sales:product_edit", args=[999999])).status_code == 404
    after = (list(Product.objects.order_by("pk").values()), list(ProductCategory.objects.values()))
    assert (before == after) == (not admin), role
    # the order form's line rows and the customer search are for those who sell
    sells = role in CHANGES
    for url in (
        reverse("sales:order_line") + "?index=0&add=1",
        reverse("sales:order_create"),
        reverse("sales:invoice_create"),
    ):
        assert client.get(url).status_code == (200 if sells else 403), (role, url)
