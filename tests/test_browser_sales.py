"""Browser test of recording an order: a rep opens a customer's card, records an order with two
lines (a product's list price filled in by htmx, a line added by htmx) and sees it in the card's
sales section; the department's manager then sees it in the product's sales by month, in English
and in Chinese. Skips without /usr/bin/chromium, fails under CI (tests/browser_support.py)."""

from __future__ import annotations

import os

import pytest

import factories
from browser_support import log_in
from guanxi.sales.models import Order, Product
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

    # the manager sees the order in the product's sales by month (kept by the order's own lines),
    # in English and, with the same session, in Chinese
    motor = Product.objects.get(code="SP-101")
    base = page.url.split("/customers/")[0]
    session = None
    for locale, lang, heading in (("en-US", "en", "Sales by month"), ("zh-CN", "zh", "每月销售")):
        context = page.context.browser.new_context(
            locale=locale, base_url=base, viewport={"width": 1400, "height": 900}, storage_state=session
        )
        manager = context.new_page()
        if session is None:
            log_in(manager, "manager1")
            session = context.storage_state()
        manager.goto(f"/sales/products/{motor.pk}/")
        expect(manager.locator("main")).to_contain_text(heading)
        expect(manager.locator("main")).to_contain_text("14,400")  # 3 × 4,800 in this month
        if os.environ.get("GUANXI_SCREENSHOTS"):
            manager.screenshot(
                path=os.path.join(os.environ["GUANXI_SCREENSHOTS"], f"product-months-{lang}.png"),
                full_page=True,
            )
        context.close()
