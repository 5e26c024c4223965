"""The orders import's fast paths (C17, speed): batches checked column by column (``orders_fast``),
and the customers' indexes built after a bulk creation. Each must give exactly what the row-by-row
path gives: the same orders, lines, customers, counts, error reports and derived tables."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest
from django.db import connection, transaction

from guanxi.customers.models import Customer, RevenueFigure
from guanxi.imports import orders, orders_columnar, orders_fast, services
from guanxi.imports.models import JobState
from guanxi.imports.report import read_report
from guanxi.sales import summary
from guanxi.sales.models import Order, OrderLine, ProductMonth, PurchaseDay, PurchaseSummary

HEAD = ["订单号", "客户编号", "客户名称", "下单日期", "产品", "数量", "单价", "金额", "渠道", "成本", "备注"]

# rows a batch checked by column gives back to the row-by-row path (test_imports_columnar.py too)
BAD_ROWS = [
    ["SO0005", "K1", "客户K1", "2024-13-01", "轴承", "1", "10", "10", "直销", "", ""],  # no such day
    ["SO0005", "K1", "客户K1", "2024-01-01", "轴承", "x", "10", "10", "直销", "", ""],  # not a number
    ["SO0005", "K1", "客户K1", "2024-01-01", "轴承", "1", "10", "1e99", "直销", "", ""],  # too large
    ["SO0005", "K1", "客户K1", "2024-01-01", "轴承", "1", "", "", "直销", "", ""],  # no amount
    ["SO0005", "K1", "客户K1", "2024-01-01", "轴承", "1", "10", "10", "carrier pigeon", "", ""],
    ["SO0005", "", "", "2024-01-01", "轴承", "1", "10", "10", "直销", "", ""],  # no customer
    ["SO0005", "K99", "", "2024-01-01", "轴承", "1", "10", "10", "直销", "", ""],  # a new one, no name
    ["SO0001", "K1", "客户K1", "2024-01-01", "轴承", "1", "10", "10", "直销", "", ""],  # SO0001 again
    ["", "K1", "客户K1", "2024-01-01", "轴承", "1", "10", "10", "直销", "", ""],  # no number
    ["SO0005", "K1", "客户K1", "2024-01-01", "新产品", "1", "10", "10", "直销", "", ""],  # new product
    [],  # a blank line
    ["SO0005", "K1"],  # a short row
]


# the same surroundings as test_imports.py: a data directory per test, English messages
from test_imports import _data_dir, _english  # noqa: E402, F401


@pytest.fixture(autouse=True)
def _row_path(monkeypatch):
    """This file is about the row path: the first load by columns (test_imports_columnar.py) off."""
    monkeypatch.setattr(orders_columnar, "ENABLED", False)


def write_csv(tmp_path: Path, rows: list[list], name: str = "f.csv", newline: str = "\n") -> Path:
    path = tmp_path / name
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator=newline).writerows(rows)
    return path


def generated(seed: int = 7, orders_n: int = 120) -> list[list[str]]:
    """Orders of one to four lines, with returns, free orders, blank quantities and costs, more
    decimals than stored, a few channels and notes, for a dozen customers (some new)."""
    rnd = random.Random(seed)
    rows = [HEAD]
    for i in range(orders_n):
        code = f"K{rnd.randint(1, 12)}"
        day = f"2024-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
        channel = rnd.choice(["直销", "经销商", "", "online"])
        note = rnd.choice(["", "", " 加急 "])
        sign = -1 if rnd.random() < 0.1 else 1
        for _ in range(rnd.randint(1, 4)):
            qty = rnd.choice(["", "1", "2", "3.5", "1.23456"])
            price = rnd.choice(["10", "99.99", "0", "12.345"])
            q = float(qty or 1)
            amount = rnd.choice([f"{sign * q * float(price):.2f}", ""])
            cost = rnd.choice(["", "", "5.5"])
            product = rnd.choice(["轴承", "电机", "齿轮"])
            rows.append(
                [f"SO{i:04d}", code, f"客户{code}", day, product, qty, price, amount, channel, cost, note]
            )
    return rows


def _sorted(items) -> list:
    return sorted(items, key=repr)  # some values are None


def snapshot() -> dict:
    """The database by natural keys (order numbers, customer codes, product names): ids differ
    between runs on PostgreSQL, whose sequences do not roll back."""
    code = dict(Customer.objects.values_list("pk", "code"))
    number = dict(Order.objects.values_list("pk", "number"))
    return {
        "customers": _sorted(
            Customer.objects.values_list("code", "name", "owner_id", "lifecycle_stage", "department_id")
        ),
        "history": Customer.history.count(),
        "orders": _sorted(
            (o[0], code[o[1]], *o[2:])
            for o in Order.objects.values_list(
                "number", "customer_id", "order_date", "channel", "delivery_state", "amount", "cost", "note"
            )
        ),
        "lines": _sorted(
            (number[x[0]], *x[1:])
            for x in OrderLine.objects.values_list(
                "order_id", "product__name", "quantity", "unit_price", "amount", "cost", "gift"
            )
        ),  # fmt: skip
        "days": _sorted(
            (code[d[0]], *d[1:])
            for d in PurchaseDay.objects.values_list(
                "customer_id", "day", "amount", "cost", "returns", "orders"
            )
        ),  # fmt: skip
        "summaries": _sorted(
            (code[s[0]], *s[1:])
            for s in PurchaseSummary.objects.values_list(
                "customer_id",
                "first_day",
                "last_day",
                "orders",
                "gross",
                "returns",
                "cost",
                "first_day_amount",
            )
        ),  # fmt: skip
        "revenue": _sorted(
            (code[r[0]], *r[1:])
            for r in RevenueFigure.objects.values_list("customer_id", "period_start", "revenue")
        ),
        "products": _sorted(
            ProductMonth.objects.values_list("product__name", "month", "quantity", "revenue", "cost", "lines")
        ),
    }


def run_both(org, path: Path, monkeypatch, **options) -> list[tuple]:
    """Import the file with the fast path and without it, each time from the same database (the
    first run rolled back); what each gave."""
    out = []
    for fast in (True, False):
        monkeypatch.setattr(orders_fast, "ENABLED", fast)
        with transaction.atomic():
            job = services.import_file(actor=org.admin, kind="orders", path=path, options=dict(options))
            errors = read_report(job.report_file)[0] if job.report_file else []
            out.append((job.state, job.counts, errors, snapshot()))
            transaction.set_rollback(True)
    return out


def test_fast_path_gives_what_the_row_by_row_path_gives(org, tmp_path, monkeypatch):
    used = []
    real = orders_fast.batch

    def batch(*args):
        done = real(*args)
        used.append(done is not None)
        return done

    monkeypatch.setattr(orders_fast, "batch", batch)
    path = write_csv(tmp_path, generated())
    for batch_size in (7, 20_000):
        used.clear()
        fast, slow = run_both(org, path, monkeypatch, create_customers=True, batch_size=batch_size)
        assert fast[0] == JobState.DONE, fast[2]
        assert fast == slow
        assert fast[3]["orders"] and fast[3]["lines"] and fast[3]["products"]
        assert any(used), "the fast path was not taken"
    # importing it again changes nothing, either way
    services.import_file(actor=org.admin, kind="orders", path=path, options={"create_customers": True})
    before = snapshot()
    again, again_slow = run_both(org, path, monkeypatch)
    assert again == again_slow and again[3] == before and again[1]["orders_unchanged"] > 0


def test_derived_tables_after_the_fast_path_equal_a_full_refresh(org, tmp_path):
    path = write_csv(tmp_path, generated(seed=3))
    job = services.import_file(
        actor=org.admin, kind="orders", path=path, options={"create_customers": True, "batch_size": 50}
    )
    assert job.state == JobState.DONE
    before = snapshot()
    summary.refresh(None)
    summary.refresh_products(None)
    assert snapshot() == before


@pytest.mark.parametrize("bad", BAD_ROWS)
@pytest.mark.parametrize("skip_invalid", [False, True])
def test_a_batch_the_fast_path_gives_back_is_checked_row_by_row(
    org, tmp_path, monkeypatch, bad, skip_invalid
):
    rows = generated(seed=11, orders_n=30)
    rows.insert(len(rows) // 2, bad)
    path = write_csv(tmp_path, rows)
    fast, slow = run_both(
        org, path, monkeypatch, create_customers=True, batch_size=9, skip_invalid=skip_invalid
    )
    assert fast == slow


def test_a_number_cell_of_spaces_is_blank(org, tmp_path, monkeypatch):
    rows = [HEAD, ["SO1", "K1", "甲公司", "2024-01-01", "轴承", " ", "10", "\u3000", "直销", " ", ""]]
    fast, slow = run_both(org, write_csv(tmp_path, rows), monkeypatch, create_customers=True)
    assert fast == slow and fast[0] == JobState.DONE, fast
    assert fast[3]["lines"] == [("SO1", "轴承", 1, 10, 10, None, "")]


def test_a_line_that_disagrees_with_its_order_is_reported_the_same(org, tmp_path, monkeypatch):
    rows = generated(seed=5, orders_n=20)
    rows.append([*rows[-1][:3], "2023-01-01", *rows[-1][4:]])  # the last order's date changes
    path = write_csv(tmp_path, rows)
    fast, slow = run_both(org, path, monkeypatch, create_customers=True, skip_invalid=True)
    assert fast == slow and fast[2]


# --- customers created in bulk --------------------------------------------------------------------


def _indexes(table: str) -> list:
    with connection.cursor() as cur:
        cur.execute("SELECT name, sql FROM sqlite_master WHERE tbl_name = %s ORDER BY name", [table])
        return cur.fetchall()


def test_many_new_customers_build_their_indexes_after_the_insert(org, tmp_path, monkeypatch):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    history = Customer.history.model._meta.db_table
    before = _indexes("customers_customer"), _indexes(history)
    monkeypatch.setattr(orders, "CUSTOMERS_BULK_LOAD", 1)
    dropped = []
    real = orders.bulk.suspend_indexes
    monkeypatch.setattr(orders.bulk, "suspend_indexes", lambda *a: dropped.extend(r := real(*a)) or r)
    path = write_csv(tmp_path, generated(seed=2))
    job = services.import_file(actor=org.admin, kind="orders", path=path, options={"create_customers": True})
    assert job.state == JobState.DONE and job.counts["customers_created"] == 12
    assert {"cust_name", "cust_dept"} <= {name for name, _sql in dropped}
    assert (_indexes("customers_customer"), _indexes(history)) == before
    assert Customer.objects.filter(code="K3").get().name == "客户K3"
    assert Customer.history.filter(code="K3", history_type="+").count() == 1
