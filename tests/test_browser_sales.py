"""Browser test of recording an order: a rep opens a customer's card, records an order with two
lines (a product's list price filled in by htmx, a line added by htmx) and sees it in the card's
sales section. Skips without /usr/bin/chromium, fails under CI (tests/browser_support.py)."""

from __future__ import annotations

import pytest

import factories
from browser_support import log_in
from guanxi.sales.models import Order
from test_sales_services import make_catalogue


@pytest.mark.browser
def test_rep_records_an_order_with_two_lines_and_sees_it_on_the_card(browser_page, org):
    from playwright.sync_api import expect

    page = browser_page
    make_catalogue(org.admin)
    customer = factories.make_customer(org.rep1a, name="无锡订单测试有限公司")
    log_in(page, "rep1a")

    page.goto(f"/customers/{customer.pk}/")
    section = page.locator("#sales")
    expect(section).to_contain_text("No orders yet.")
    section.get_by_role("link", name="New order").click()
    page.wait_for_url("**/sales/orders/new/**")

    # line 1: a product; its list price arrives by htmx
    page.locator("#id_lines-0-product").select_option(label="SP-101 · 伺服电机 1.5kW")
    expect(page.locator("#id_lines-0-unit_price")).to_have_value("4800.00")
    page.locator("#id_lines-0-quantity").fill("3")
    # line 2: another product at a negotiated price, with a gift
    page.locator("#id_lines-1-product").select_option(label="EQ-201 · 六轴工业机器人")
    expect(page.locator("#id_lines-1-unit_price")).to_have_value("158000.00")
    page.locator("#id_lines-1-unit_price").fill("150000")
    page.locator("#id_lines-1-gift").fill("示教器一台")
    # a third line, added and left empty, is ignored
    page.get_by_role("button", name="Add line").click()
    expect(page.locator("#id_lines-2-product")).to_be_visible()
    expect(page.locator("#id_lines-TOTAL_FORMS")).to_have_value("3")
    page.get_by_role("button", name="Save order").click()
    page.wait_for_url("**/sales/orders/*/")
    expect(page.get_by_text("¥164,400.00").first).to_be_visible()

    order = Order.objects.get(customer=customer)
    assert order.lines.count() == 2 and order.amount == 164400

    page.goto(f"/customers/{customer.pk}/")
    expect(section).to_contain_text(str(order))
    expect(section).to_contain_text("¥164,400.00")
    expect(section).to_contain_text("Revenue, last 12 months")
