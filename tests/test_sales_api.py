"""The sales REST API: products, orders with lines, invoices, payments and a customer's purchase
figures; lists with items/count and paging, 422 naming the field (``lines.0.amount``), 404 outside
the caller's scope."""

from __future__ import annotations

import datetime

from django.utils import timezone

from guanxi.engagement.models import CareTask
from guanxi.sales.models import Invoice, Order
from test_sales_services import make_catalogue


def test_products_for_everyone_changed_by_administrators(world, api_as):
    admin, rep = api_as(world.org.admin), api_as(world.org.rep1a)
    cat = admin.post("product-categories", {"name": "备品备件"})
    assert cat.status_code == 201
    assert rep.post("product-categories", {"name": "越权"}).status_code == 403
    resp = admin.post(
        "products",
        {
            "name": "伺服电机",
            "code": "SP-1",
            "category": cat.json()["id"],
            "list_price": "4800",
            "unit_cost": "3000",
            "unit": "台",
        },
    )
    assert resp.status_code == 201, resp.content
    pid = resp.json()["id"]
    assert resp.json()["category_name"] == "备品备件"
    assert rep.post("products", {"name": "x"}).status_code == 403
    bad = admin.post("products", {"name": "伺服电机", "list_price": "-3"})
    assert bad.status_code == 422 and {"name", "list_price"} <= set(bad.json()["errors"])
    listed = rep.get("products", {"q": "电机"}).json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == pid
    assert rep.get("products", {"active": "false"}).json()["count"] == 0
    assert rep.patch(f"products/{pid}", {"list_price": "5000"}).status_code == 403
    resp = admin.patch(f"products/{pid}", {"list_price": "5000", "active": False})
    assert resp.status_code == 200 and resp.json()["list_price"] == "5000.00" and not resp.json()["active"]
    assert rep.get("products/999999").status_code == 404
    assert admin.patch("products/999999", {"name": "x"}).status_code == 404


def test_orders_create_list_get_patch_delete(world, api_as):
    p = make_catalogue(world.org.admin)
    rep = api_as(world.org.rep1a)
    today = timezone.localdate()
    body = {
        "customer_id": world.A.pk,
        "order_date": str(today),
        "channel": "direct",
        "number": "SO-1",
        "lines": [
            {"product": p["robot"].pk, "quantity": 1, "unit_price": "150000"},
            {"product": "SP-101", "quantity": 2, "gift": "手套"},
        ],
    }
    resp = rep.post("orders", body)
    assert resp.status_code == 201, resp.content
    order = resp.json()
    assert order["amount"] == "159600.00" and [ln["amount"] for ln in order["lines"]] == [
        "150000.00",
        "9600.00",
    ]
    assert order["lines"][1]["gift"] == "手套" and order["customer_name"] == world.A.name
    # the first purchase made the owner a welcome-gift task
    assert CareTask.objects.filter(customer=world.A, occasion="welcome", assignee=world.org.rep1a).exists()

    resp = rep.post("orders", {**body, "number": "SO-1", "lines": [{"amount": "x"}, {"product": 999999}]})
    assert resp.status_code == 422
    errors = resp.json()["errors"]
    assert "lines.0.amount" in errors, errors
    resp = rep.post(
        "orders",
        {**body, "number": "SO-2", "lines": [{"product": 999999, "amount": 1}, {"product": p["custom"].pk}]},
    )
    errors = resp.json()["errors"]
    assert resp.status_code == 422 and {"lines.0.product", "lines.1.amount"} <= set(errors), errors
    assert rep.post("orders", {**body, "number": "SO-3", "lines": []}).json()["errors"].keys() == {"lines"}
    assert rep.post("orders", {**body, "number": "SO-1"}).json()["errors"].keys() == {"number"}

    ret = rep.post(
        "orders", {"customer_id": world.I.pk, "delivery_state": "returned", "lines": [{"amount": "-100"}]}
    ).json()
    data = rep.get("orders").json()
    assert data["count"] == 2 and {i["id"] for i in data["items"]} == {order["id"], ret["id"]}
    assert [i["id"] for i in rep.get("orders", {"returns": "true"}).json()["items"]] == [ret["id"]]
    assert [i["id"] for i in rep.get("orders", {"customer": world.A.pk}).json()["items"]] == [order["id"]]
    assert [i["id"] for i in rep.get("orders", {"product": p["robot"].pk}).json()["items"]] == [order["id"]]
    assert rep.get("orders", {"date_from": str(today + datetime.timedelta(days=1))}).json()["count"] == 0
    page = rep.get("orders", {"limit": 1, "offset": 1, "sort": "amount"}).json()
    assert page["count"] == 2 and [i["id"] for i in page["items"]] == [order["id"]]
    assert rep.get("orders", {"date_from": "yesterday"}).status_code == 422

    resp = rep.patch(f"orders/{order['id']}", {"delivery_state": "shipped"})
    assert resp.status_code == 200 and resp.json()["delivery_state"] == "shipped"
    resp = rep.patch(f"orders/{order['id']}", {"delivery_state": "lost"})
    assert resp.status_code == 422 and "delivery_state" in resp.json()["errors"]
    other = api_as(world.org.rep2a)
    assert other.get(f"orders/{order['id']}").status_code == 404
    assert other.delete(f"orders/{order['id']}").status_code == 404
    assert world.A.name not in other.get(f"orders/{order['id']}").content.decode()
    assert rep.delete(f"orders/{order['id']}").status_code == 204
    assert not Order.objects.filter(pk=order["id"]).exists()


def test_invoices_payments_and_purchases(world, api_as):
    rep = api_as(world.org.rep1a)
    today = timezone.localdate()
    old = today - datetime.timedelta(days=50)
    order = rep.post(
        "orders", {"customer_id": world.A.pk, "order_date": str(old), "lines": [{"amount": "30000"}]}
    ).json()
    resp = rep.post(
        "invoices",
        {
            "customer_id": world.A.pk,
            "number": "FP-1",
            "order_id": order["id"],
            "issue_date": str(old),
            "due_date": str(old + datetime.timedelta(days=30)),
            "amount": "30000",
        },
    )
    assert resp.status_code == 201, resp.content
    inv = resp.json()
    assert inv["overdue"] and inv["outstanding"] == "30000.00"
    bad = rep.post(
        "invoices",
        {
            "customer_id": world.A.pk,
            "number": "FP-1",
            "issue_date": str(today),
            "due_date": str(old),
            "amount": "1",
        },
    )
    assert bad.status_code == 422 and {"number", "due_date"} <= set(bad.json()["errors"])
    assert rep.post("invoices", {"customer_id": world.A.pk}).status_code == 422
    assert [i["number"] for i in rep.get("invoices", {"overdue": "true"}).json()["items"]] == ["FP-1"]
    resp = rep.post(f"invoices/{inv['id']}/payments", {"amount": "10000", "method": "银行转账"})
    assert resp.status_code == 201 and resp.json()["paid_on"] == str(today)
    resp = rep.post(f"invoices/{inv['id']}/payments", {"amount": "25000"})
    assert resp.status_code == 422 and "amount" in resp.json()["errors"]
    figures = rep.get(f"customers/{world.A.pk}/purchases").json()
    assert figures["revenue_12m"] == "30000.00" and figures["collected_12m"] == "10000.00"
    assert figures["outstanding"] == figures["overdue"] == "20000.00" and figures["oldest_overdue_days"] == 20
    assert figures["purchase_days"] == 1 and len(figures["months"]) == 12
    assert rep.post(f"invoices/{inv['id']}/void").status_code == 422  # it has a payment
    assert api_as(world.org.service).get(f"customers/{world.A.pk}/purchases").status_code == 403
    assert api_as(world.org.rep2a).get(f"customers/{world.A.pk}/purchases").status_code == 404
    assert api_as(world.org.rep2a).get(f"invoices/{inv['id']}").status_code == 404
    assert api_as(world.org.service).get("invoices").json()["count"] == 0
    assert Invoice.objects.get(pk=inv["id"]).paid == 10000
