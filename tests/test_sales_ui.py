"""The sales pages: order list with filters, sorting, paging and export; the order form with its
lines (htmx) and field errors in place; delivery state and delete; products and categories;
invoices and payments; the card's sales section; both languages."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from guanxi.core.models import ExportLog
from guanxi.sales import services
from guanxi.sales.models import Invoice, Order, Product, ProductCategory
from test_sales_services import make_catalogue, make_order


def client_for(user, lang: str = "en") -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE=lang)
    c.force_login(user)
    return c


def _line_post(customer, lines, **order) -> dict:
    data = {
        "customer": customer.pk,
        "order_date": timezone.localdate().isoformat(),
        "channel": "direct",
        "delivery_state": "pending",
        "number": "",
        "note": "",
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
    }
    data.update(order)
    for i, ln in enumerate(lines):
        for k in ("product", "quantity", "unit_price", "amount", "gift"):
            data[f"lines-{i}-{k}"] = ln.get(k, "")
    return data


@pytest.fixture
def shop(world):
    return make_catalogue(world.org.admin)


def test_create_an_order_with_two_lines_and_see_it_on_the_card(world, shop):
    c = client_for(world.org.rep1a)
    form = c.get(reverse("sales:order_create") + f"?customer={world.A.pk}")
    assert form.status_code == 200 and 'id="id_lines-TOTAL_FORMS"' in form.content.decode()
    post = _line_post(
        world.A,
        [
            {"product": shop["robot"].pk, "quantity": "1", "unit_price": "150000", "gift": "示教器"},
            {"product": shop["motor"].pk, "quantity": "2"},
            {"quantity": "1"},  # a blank line is left out
        ],
    )
    resp = c.post(reverse("sales:order_create"), post)
    assert resp.status_code == 302, resp.content.decode()[:2000]
    order = Order.objects.get(customer=world.A)
    assert order.amount == Decimal("159600.00") and order.lines.count() == 2
    detail = c.get(resp["Location"]).content.decode()
    assert "六轴工业机器人" in detail and "¥159,600.00" in detail and "示教器" in detail
    card = c.get(reverse("customers:detail", args=[world.A.pk])).content.decode()
    assert reverse("sales:customer_sales", args=[world.A.pk]) in card
    section = c.get(reverse("sales:customer_sales", args=[world.A.pk]), HTTP_HX_REQUEST="true")
    body = section.content.decode()
    assert str(order) in body and "¥159,600" in body and "Sales and collections" in body


def test_order_form_shows_errors_on_the_line_and_field(world, shop):
    c = client_for(world.org.rep1a)
    post = _line_post(
        world.A,
        [
            {"product": shop["motor"].pk, "quantity": "2"},
            {"product": shop["custom"].pk, "quantity": "1"},  # no list price, no amount
        ],
        order_date="",
    )
    resp = c.post(reverse("sales:order_create"), post)
    body = resp.content.decode()
    assert resp.status_code == 200 and not Order.objects.exists()
    assert 'id="id_order_date_errors"' in body
    post["order_date"] = timezone.localdate().isoformat()
    body = c.post(reverse("sales:order_create"), post).content.decode()
    assert 'id="id_lines-1-amount_errors"' in body and "Give the amount or the unit price." in body
    assert 'id="id_lines-0-amount_errors"' not in body
    post["lines-0-quantity"] = "two"
    body = c.post(reverse("sales:order_create"), post).content.decode()
    assert 'id="id_lines-0-quantity_errors"' in body
    assert not Order.objects.exists()


def test_add_line_and_product_choice_by_htmx(world, shop):
    c = client_for(world.org.rep1a)
    body = c.get(reverse("sales:order_line") + "?index=2&add=1", HTTP_HX_REQUEST="true").content.decode()
    assert 'name="lines-2-product"' in body
    assert 'id="id_lines-TOTAL_FORMS"' in body and 'value="3"' in body and "hx-swap-oob" in body
    assert "index=3" in body  # the add button now adds the fourth line
    body = c.get(
        reverse("sales:order_line"),
        {"index": 0, "lines-0-product": shop["motor"].pk, "lines-0-quantity": "2"},
    ).content.decode()
    assert 'value="4800.00"' in body and "hx-swap-oob" not in body
    assert c.get(reverse("sales:order_line") + "?index=999").status_code == 404
    assert client_for(world.org.service).get(reverse("sales:order_line") + "?index=0").status_code == 403


def test_pick_a_customer_first(world):
    c = client_for(world.org.rep1a)
    body = c.get(reverse("sales:order_create") + "?q=华东").content.decode()
    assert world.A.name in body and f"?customer={world.A.pk}" in body
    body = c.get(reverse("sales:order_create") + "?q=岭南").content.decode()
    assert world.B.name not in body  # not rep1a's


def test_order_list_filters_sort_and_paging(world, shop):
    rep = world.org.rep1a
    today = timezone.localdate()
    a1 = make_order(rep, world.A, day=today - datetime.timedelta(days=60), lines=[{"amount": "100"}])
    a2 = make_order(
        rep,
        world.A,
        day=today - datetime.timedelta(days=5),
        lines=[{"product": shop["motor"].pk, "quantity": 1}],
        channel="online",
        delivery_state="shipped",
    )
    ret = make_order(rep, world.I, day=today, lines=[{"amount": "-50"}], delivery_state="returned")
    c = client_for(rep)
    url = reverse("sales:orders")

    def shown(params):
        body = c.get(url, params).content.decode()
        return {o for o in (a1, a2, ret) if f'href="{reverse("sales:order_detail", args=[o.pk])}"' in body}

    assert shown({}) == {a1, a2, ret}
    assert shown({"customer": world.A.pk}) == {a1, a2}
    assert shown({"date_from": (today - datetime.timedelta(days=10)).isoformat()}) == {a2, ret}
    assert shown({"date_to": (today - datetime.timedelta(days=10)).isoformat()}) == {a1}
    assert shown({"channel": "online"}) == {a2}
    assert shown({"delivery_state": "returned"}) == {ret}
    assert shown({"product": shop["motor"].pk}) == {a2}
    assert shown({"returns": "1"}) == {ret}
    assert shown({"q": "王小明"}) == {ret}

    def href(o):
        return f'href="{reverse("sales:order_detail", args=[o.pk])}"'

    body = c.get(url, {"sort": "amount"}).content.decode()
    assert body.index(href(ret)) < body.index(href(a1)) < body.index(href(a2))
    body = c.get(url, {"sort": "-amount", "limit": 1, "offset": 1}).content.decode()
    assert href(a1) in body and href(a2) not in body and "2–2 of 3" in body
    # htmx: the filter form swaps the results only, sort and paging the panel
    part = c.get(url, {"channel": "online"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="order-results")
    assert part.content.decode().lstrip().startswith('<div id="order-results"')
    panel = c.get(url, {"sort": "amount"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="order-panel")
    assert '<div class="gx-panel" id="order-panel">' in panel.content.decode()


def test_export_orders_needs_a_purpose_and_is_logged(world, shop):
    rep = world.org.rep1a
    make_order(
        rep,
        world.A,
        lines=[{"product": shop["robot"].pk, "quantity": 1}, {"product": shop["motor"].pk, "quantity": 2}],
    )
    make_order(world.org.rep2a, world.B, lines=[{"amount": "77"}])
    c = client_for(rep)
    page = c.get(reverse("sales:order_export") + f"?customer={world.A.pk}")
    assert page.status_code == 200 and "1 order will be exported" in page.content.decode()
    resp = c.post(reverse("sales:order_export"), {"customer": world.A.pk, "purpose": ""})
    assert resp.status_code == 200 and not ExportLog.objects.exists()
    resp = c.post(reverse("sales:order_export"), {"customer": world.A.pk, "purpose": "季度对账"})
    assert resp["Content-Type"].startswith("application/vnd.openxmlformats")
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(b"".join(resp.streaming_content))).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][1] == "Order number" and len(rows) == 3  # the header and one row per line
    assert {r[10] for r in rows[1:]} == {"六轴工业机器人", "伺服电机 1.5kW"}
    log = ExportLog.objects.get()
    assert (log.what, log.purpose, log.row_count, log.filters) == (
        "orders",
        "季度对账",
        1,
        {"customer": str(world.A.pk)},
    )
    # everyone's export covers only their own scope; the service agent has none
    body = b"".join(client_for(rep).post(reverse("sales:order_export"), {"purpose": "x"}).streaming_content)
    rows = list(load_workbook(io.BytesIO(body)).active.iter_rows(values_only=True))
    assert world.B.name not in {r[4] for r in rows}
    assert client_for(world.org.service).get(reverse("sales:order_export")).status_code == 404


def test_delivery_state_and_delete_with_confirmation(world, shop):
    rep = world.org.rep1a
    order = make_order(rep, world.A, lines=[{"amount": "100"}], delivery_state="pending")
    c = client_for(rep)
    resp = c.post(reverse("sales:order_delivery", args=[order.pk]), {"delivery_state": "shipped"})
    assert resp.status_code == 302
    order.refresh_from_db()
    assert order.delivery_state == "shipped"
    confirm = c.get(reverse("sales:order_delete", args=[order.pk]))
    assert confirm.status_code == 200 and "Delete the order" in confirm.content.decode()
    assert Order.objects.filter(pk=order.pk).exists()
    resp = c.post(reverse("sales:order_delete", args=[order.pk]))
    assert resp.status_code == 302 and resp["Location"].endswith("#sales")
    assert not Order.objects.filter(pk=order.pk).exists()


def test_products_and_categories_for_administrators(world, shop):
    admin = client_for(world.org.admin)
    rep = client_for(world.org.rep1a)
    body = rep.get(reverse("sales:products"), {"q": "电机"}).content.decode()
    assert "伺服电机" in body and "六轴" not in body
    body = rep.get(reverse("sales:products"), {"category": shop["robot"].category_id}).content.decode()
    assert "六轴" in body and "伺服电机" not in body
    assert rep.get(reverse("sales:product_create")).status_code == 403
    assert rep.get(reverse("sales:product_edit", args=[shop["motor"].pk])).status_code == 403
    assert rep.post(reverse("sales:categories"), {"name": "越权类别"}).status_code == 403
    resp = admin.post(reverse("sales:product_create"), {"name": "伺服电机 1.5kW", "list_price": "-1"})
    body = resp.content.decode()
    assert 'id="id_name_errors"' in body and "A product with this name exists." in body
    resp = admin.post(
        reverse("sales:product_create"),
        {
            "name": "伺服电机 3kW",
            "code": "SP-102",
            "category": shop["motor"].category_id,
            "list_price": "7200",
            "active": "on",
        },
    )
    assert resp.status_code == 302
    p = Product.objects.get(code="SP-102")
    resp = admin.post(
        reverse("sales:product_edit", args=[p.pk]), {"name": "伺服电机 3.0kW", "list_price": "7000"}
    )
    p.refresh_from_db()
    assert resp.status_code == 302 and p.name == "伺服电机 3.0kW" and not p.active and p.category is None
    resp = admin.post(reverse("sales:categories"), {"name": "刀具与耗材"})
    assert resp.status_code == 302 and ProductCategory.objects.filter(name="刀具与耗材").exists()
    body = admin.post(reverse("sales:categories"), {"name": "刀具与耗材"}).content.decode()
    assert "A category with this name exists." in body


def test_product_page_shows_monthly_sales_to_managers_not_to_reps(world, shop):
    make_order(world.org.rep1a, world.A, lines=[{"product": shop["motor"].pk, "quantity": 5}])
    url = reverse("sales:product_detail", args=[shop["motor"].pk])
    for user, sees in (
        (world.org.manager1, True),
        (world.org.analyst, True),
        (world.org.rep1a, False),
        (world.org.service, False),
    ):
        body = client_for(user).get(url).content.decode()
        assert ("¥24,000" in body) == sees, user
        assert ("shown to managers, analysts and auditors" in body) == (not sees), user


def test_invoices_payments_overdue_and_void(world):
    rep = world.org.rep1a
    c = client_for(rep)
    order = make_order(rep, world.A, lines=[{"amount": "12000"}])
    form = c.get(
        reverse("sales:invoice_create") + f"?customer={world.A.pk}&order={order.pk}"
    ).content.decode()
    assert 'value="12000.00"' in form
    past = timezone.localdate() - datetime.timedelta(days=45)
    resp = c.post(
        reverse("sales:invoice_create"),
        {
            "customer": world.A.pk,
            "number": "FP-1",
            "order": order.pk,
            "issue_date": past.isoformat(),
            "due_date": (past - datetime.timedelta(days=1)).isoformat(),
            "amount": "12000",
        },
    )
    assert 'id="id_due_date_errors"' in resp.content.decode()
    resp = c.post(
        reverse("sales:invoice_create"),
        {
            "customer": world.A.pk,
            "number": "FP-1",
            "order": order.pk,
            "issue_date": past.isoformat(),
            "due_date": (past + datetime.timedelta(days=30)).isoformat(),
            "amount": "12000",
        },
    )
    assert resp.status_code == 302
    inv = Invoice.objects.get(number="FP-1")
    body = c.get(reverse("sales:invoice_detail", args=[inv.pk])).content.decode()
    assert "overdue by 15 days" in body
    assert "FP-1" in c.get(reverse("sales:invoices"), {"overdue": "1"}).content.decode()
    resp = c.post(
        reverse("sales:payment_create", args=[inv.pk]),
        {"paid_on": timezone.localdate().isoformat(), "amount": "20000"},
    )
    assert resp.status_code == 200 and 'id="id_amount_errors"' in resp.content.decode()
    resp = c.post(
        reverse("sales:payment_create", args=[inv.pk]),
        {"paid_on": timezone.localdate().isoformat(), "amount": "12000", "method": "银行转账"},
    )
    inv.refresh_from_db()
    assert resp.status_code == 302 and inv.state == "paid"
    assert "FP-1" not in c.get(reverse("sales:invoices"), {"overdue": "1"}).content.decode()
    other = services.create_invoice(
        actor=rep,
        customer_id=world.A.pk,
        data={"number": "FP-2", "issue_date": past, "due_date": past, "amount": "5"},
    )
    assert (
        client_for(world.org.analyst).post(reverse("sales:invoice_void", args=[other.pk])).status_code == 403
    )
    c.post(reverse("sales:invoice_void", args=[other.pk]))
    other.refresh_from_db()
    assert other.state == "void"


def test_card_section_is_for_finance_readers_only(world):
    make_order(world.org.rep1a, world.A, lines=[{"amount": "88000"}])
    url = reverse("sales:customer_sales", args=[world.A.pk])
    card = client_for(world.org.service).get(reverse("customers:detail", args=[world.A.pk])).content.decode()
    assert url not in card
    assert client_for(world.org.service).get(url).status_code == 403
    assert client_for(world.org.rep2a).get(url).status_code == 404
    for user in (world.org.rep1a, world.org.manager1, world.org.auditor):
        body = client_for(user).get(url).content.decode()
        assert "¥88,000" in body, user
    assert "New order" in client_for(world.org.rep1a).get(url).content.decode()
    assert "New order" not in client_for(world.org.auditor).get(url).content.decode()


def test_pages_in_chinese_with_money_and_dates_per_locale(world, shop):
    make_order(
        world.org.rep1a,
        world.A,
        day=datetime.date(2024, 5, 20),
        lines=[{"product": shop["robot"].pk, "quantity": 1, "unit_price": "1234567.5"}],
    )
    zh = client_for(world.org.rep1a, "zh-hans")
    en = client_for(world.org.rep1a, "en")
    url = reverse("sales:orders")
    zh_body, en_body = zh.get(url).content.decode(), en.get(url).content.decode()
    assert "1 个订单" in zh_body and "¥1,234,567.50" in zh_body and "2024年5月20日" in zh_body
    assert "1 order" in en_body and "¥1,234,567.50" in en_body and "05/20/2024" in en_body
    assert "直销" in zh_body and "Direct sales (直销)" in en_body
    card = zh.get(reverse("sales:customer_sales", args=[world.A.pk])).content.decode()
    assert "销售与回款" in card and "应收" in card
    for name in ("products", "invoices", "categories"):
        assert zh.get(reverse(f"sales:{name}")).status_code == 200
