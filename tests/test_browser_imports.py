"""Browser test of the import (C17): an administrator uploads a year of order history for
customers the database does not know yet, checks the preview and its column mapping, lets the
import create the customers, and sees the result — the first load into a database without orders,
which goes column by column — and then a customer's card with its sales. The same pages in Chinese.
Skips without /usr/bin/chromium, fails under CI (tests/browser_support.py)."""

from __future__ import annotations

import os

import pytest

from browser_support import log_in
from guanxi.customers.models import Customer
from guanxi.imports import orders_columnar
from guanxi.sales.models import Order, PurchaseSummary

HEAD = "订单号,客户编号,客户名称,下单日期,产品,数量,单价,金额,渠道\n"


def history_csv(path) -> str:
    lines = [HEAD]
    n = 0
    for c in range(1, 9):
        for month in range(1, 13, 3):
            n += 1
            for product, qty, price in (("伺服电机", 2, "4800.00"), ("减速机", 1, "2600.50")):
                amount = f"{qty * float(price):.2f}"
                day = f"2026-{month:02d}-1{c % 9}"
                lines.append(
                    f"SO{n:05d},C{c:03d},苏州第{c}精工有限公司,{day},{product},{qty},{price},{amount},直销\n"
                )
    path.write_text("".join(lines), encoding="utf-8")
    return str(path)


@pytest.fixture
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"


@pytest.mark.browser
def test_admin_imports_order_history_and_sees_the_customers_sales(
    browser_page, org, tmp_path, monkeypatch, _data_dir
):
    from playwright.sync_api import expect

    taken = []
    real = orders_columnar.run
    monkeypatch.setattr(orders_columnar, "run", lambda imp: taken.append(real(imp)) or taken[-1])
    page = browser_page
    log_in(page, "admin")
    page.goto("/imports/")
    page.locator("#id_kind").select_option("orders")
    page.locator("#id_file").set_input_files(history_csv(tmp_path / "订单历史.csv"))
    page.get_by_role("button", name="Upload and preview").click()
    page.wait_for_url("**/imports/*/")
    # the preview: the first rows, each column mapped to its field from the Chinese headers
    expect(page.get_by_text("苏州第1精工有限公司").first).to_be_visible()
    expect(page.locator("select[name=col_1]")).to_have_value("customer_code")
    expect(page.locator("select[name=col_3]")).to_have_value("order_date")
    expect(page.locator("select[name=col_7]")).to_have_value("amount")
    page.get_by_label("Create unknown customers").check()
    page.get_by_role("button", name="Run the import").click()
    result = page.locator("main")
    expect(result).to_contain_text("Result")
    expect(result).to_contain_text("Orders created")
    expect(result).to_contain_text("32")  # 8 customers × 4 orders
    if os.environ.get("GUANXI_SCREENSHOTS"):
        page.screenshot(
            path=os.path.join(os.environ["GUANXI_SCREENSHOTS"], "import-result-en.png"), full_page=True
        )
    assert taken == [True]
    assert Order.objects.count() == 32 and Customer.objects.filter(code__startswith="C").count() == 8
    customer = Customer.objects.get(code="C001")
    assert PurchaseSummary.objects.get(customer=customer).purchase_days == 4

    # the customer's card shows the imported sales
    page.goto(f"/customers/{customer.pk}/")
    expect(page.locator("#sales")).to_contain_text("¥48,802")  # 4 orders × (9,600 + 2,600.50)
    # the same result page in Chinese
    context = page.context.browser.new_context(
        locale="zh-CN",
        base_url=page.url.split("/customers/")[0],
        viewport={"width": 1400, "height": 900},
        storage_state=page.context.storage_state(),  # the same session
    )
    zh = context.new_page()
    zh.goto("/imports/")
    zh.locator("table a").first.click()
    expect(zh.locator("main")).to_contain_text("结果")
    if os.environ.get("GUANXI_SCREENSHOTS"):
        zh.screenshot(
            path=os.path.join(os.environ["GUANXI_SCREENSHOTS"], "import-result-zh.png"), full_page=True
        )
    context.close()
