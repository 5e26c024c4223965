"""The import pipeline (C17): header recognition, dates, all-or-nothing and --skip-invalid, order
numbers (idempotent re-import), returns and free orders, customers created on the fly, GBK CSV and
XLSX, the derived purchase tables, the customers import, and who may import what."""

from __future__ import annotations

import csv
import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

import factories
from guanxi.core.errors import Forbidden, ValidationFailed
from guanxi.customers import search
from guanxi.customers.models import ClassificationChange, Customer, RevenueFigure
from guanxi.imports import fields, services
from guanxi.imports.models import ImportJob, JobState
from guanxi.imports.report import read_report
from guanxi.imports.values import DateCache, Invalid, parse_date, parse_number
from guanxi.sales import summary
from guanxi.sales.models import Order, OrderLine, Product, ProductMonth, PurchaseDay, PurchaseSummary

ORDER_HEAD = ["订单号", "客户编号", "客户名称", "下单日期", "产品", "数量", "单价", "金额", "渠道"]


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"


@pytest.fixture(autouse=True)
def _english():
    from django.utils import translation

    with translation.override("en"):
        yield


def write_csv(tmp_path: Path, rows: list[list], name: str = "f.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    with open(path, "w", newline="", encoding=encoding) as f:
        csv.writer(f).writerows(rows)
    return path


def run(actor, kind: str, path: Path, **options) -> ImportJob:
    overrides = options.pop("overrides", None)
    return services.import_file(actor=actor, kind=kind, path=path, options=options, overrides=overrides)


def errors_of(job: ImportJob) -> list[dict]:
    return read_report(job.report_file)[0] if job.report_file else []


def derived() -> dict:
    return {
        "days": sorted(
            PurchaseDay.objects.values_list("customer_id", "day", "amount", "cost", "returns", "orders")
        ),
        "summaries": sorted(
            PurchaseSummary.objects.values_list(
                "customer_id",
                "first_day",
                "last_day",
                "purchase_days",
                "orders",
                "gross",
                "returns",
                "cost",
                "first_day_amount",
            )
        ),
        "revenue": sorted(RevenueFigure.objects.values_list("customer_id", "period_start", "revenue")),
        "products": sorted(
            ProductMonth.objects.values_list("product_id", "month", "quantity", "revenue", "cost", "lines")
        ),
    }


def assert_derived_consistent() -> None:
    before = derived()
    summary.refresh(None)
    summary.refresh_products(None)
    assert derived() == before


def database() -> dict:
    def rows(qs, *exclude):
        return [{k: v for k, v in r.items() if k not in exclude} for r in qs.order_by("pk").values()]

    return {
        "customers": rows(Customer.objects.all(), "updated_at"),
        "orders": rows(Order.objects.all()),
        "lines": rows(OrderLine.objects.all()),
        "products": rows(Product.objects.all()),
        "history": Customer.history.count(),
        **derived(),
    }


@pytest.fixture
def coded(org):
    """Two customers with codes: K1 (rep1a, Sales 1) and K2 (rep2a, Sales 2)."""
    k1 = factories.make_customer(org.admin, name="华东精密机械有限公司", code="K1", owner=org.rep1a)
    k2 = factories.make_customer(org.admin, name="岭南电子科技有限公司", code="K2", owner=org.rep2a)
    return k1, k2


# --- headers --------------------------------------------------------------------------------------


def test_headers_in_chinese_and_english_are_recognised():
    zh = [
        "订单编号",
        "顾客ID",
        "客户名称",
        "交易日期",
        "购买商品",
        "数量",
        "单价",
        "成交金额",
        "渠道",
        "购物赠品",
        "成本",
        "产品编号",
        "备注",
        "随便一列",
    ]
    assert fields.recognise("orders", zh) == [
        "order_number",
        "customer_code",
        "customer_name",
        "order_date",
        "product",
        "quantity",
        "unit_price",
        "amount",
        "channel",
        "gift",
        "cost",
        "product_code",
        "note",
        "",
    ]
    en = [
        "Order No",
        "Customer ID",
        "Customer Name",
        "Order Date",
        "Product",
        "Qty",
        "Unit Price",
        "Amount",
        "SKU",
    ]
    assert fields.recognise("orders", en) == [
        "order_number",
        "customer_code",
        "customer_name",
        "order_date",
        "product",
        "quantity",
        "unit_price",
        "amount",
        "product_code",
    ]
    cust = [
        "客户编号",
        "客户名称",
        "行业",
        "省份",
        "城市",
        "地址",
        "联系电话",
        "电子邮箱",
        "统一社会信用代码",
        "会员级别",
    ]
    assert fields.recognise("customers", cust) == [
        "customer_code",
        "customer_name",
        "industry",
        "province",
        "city",
        "address",
        "phone",
        "email",
        "credit_code",
        "membership_level",
    ]
    # a bracketed note is ignored; a field goes to the first column that names it
    assert fields.recognise("orders", ["金额（元）", "Amount (CNY)", "日期"]) == ["amount", "", "order_date"]
    assert fields.ignored_columns(zh, fields.recognise("orders", zh)) == ["随便一列"]


@hsettings(max_examples=60, deadline=None)
@given(
    header=st.sampled_from(["customer name", "Order Date", "unit price", "order no", "Customer Code", "qty"]),
    case=st.sampled_from([str.lower, str.upper, str.title, lambda s: s]),
    sep=st.sampled_from([" ", "_", "-", "  ", ".", ""]),
    pad=st.sampled_from(["", " ", "\t", "　"]),
)
def test_header_matching_ignores_case_spacing_and_punctuation(header, case, sep, pad):
    variant = pad + case(header).replace(" ", sep) + pad
    assert fields.recognise("orders", [variant]) == fields.recognise("orders", [header]) != [""]


def test_map_overrides_recognition():
    headers = ["顾客", "日期", "钱", "x"]
    mapping = fields.apply_overrides(
        "orders",
        headers,
        fields.recognise("orders", headers),
        ["钱=amount", "x=customer_code", "顾客=", "2=订单日期"],
    )
    assert mapping == ["", "order_date", "amount", "customer_code"]
    with pytest.raises(ValidationFailed):
        fields.apply_overrides("orders", headers, mapping, ["nope=amount"])
    with pytest.raises(ValidationFailed):
        fields.apply_overrides("orders", headers, mapping, ["钱=no_such_field"])
    with pytest.raises(ValidationFailed) as e:
        fields.check_mapping("orders", headers, ["", "", "amount", ""])
    assert len(e.value.errors["mapping"]) == 2  # no date, no customer


# --- values ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2024-05-20",
        "2024/5/20",
        "2024.5.20",
        "20240520",
        "2024年5月20日",
        "2024-05-20 13:45:00",
        "45432",
        "2024/05/20 8:00",
        " 2024-5-20 ",
        "45432.5",
    ],
)
def test_each_date_format(text):
    assert parse_date(text) == datetime.date(2024, 5, 20)


def test_date_cells_and_bad_dates():
    assert parse_date(datetime.datetime(2024, 5, 20, 9, 30)) == datetime.date(2024, 5, 20)
    assert parse_date(45432) == datetime.date(2024, 5, 20)
    for bad in ("2024-02-30", "tomorrow", "", "5/20/2024", "1800-01-01", "99999999"):
        with pytest.raises(Invalid):
            parse_date(bad)
    cache = DateCache()
    assert cache["2024/5/20"] == ("2024-05-20", 19863)
    assert isinstance(cache["x"], Invalid)


def test_numbers_as_spreadsheets_write_them():
    assert parse_number("1,234.50") == 1234.5
    assert parse_number("¥12") == 12
    assert parse_number("(12.00)") == -12
    assert parse_number("１２３") == 123
    assert parse_number("") is None
    for bad in ("abc", "nan", "inf", "1e20"):
        with pytest.raises(Invalid):
            parse_number(bad)


# --- orders ---------------------------------------------------------------------------------------


def test_orders_without_numbers_each_row_one_order_zero_and_returns(org, coded, tmp_path):
    k1, k2 = coded
    path = write_csv(
        tmp_path,
        [
            ["客户编号", "下单日期", "产品", "数量", "单价", "金额", "渠道"],
            ["K1", "2024-05-20", "轴承", "2", "10.5", "21.00", "直销"],
            ["K1", "2024/5/20", "轴承", "1", "10.5", "", "经销商"],  # amount from quantity × unit price
            ["K1", "20240601", "赠品包", "1", "0", "0", ""],  # a free order
            ["K2", "2024年6月2日", "轴承", "-1", "10.5", "-10.50", "Online store"],  # a return
            ["K2", "45445", "", "", "", "99", "phone"],
        ],
    )
    job = run(org.admin, "orders", path)
    assert job.state == JobState.DONE, (job.message, errors_of(job))
    assert job.counts["orders_created"] == 5 and job.counts["returns"] == 1 and job.counts["free_orders"] == 1
    orders = list(Order.objects.order_by("pk"))
    assert [o.amount for o in orders] == [
        Decimal("21.00"),
        Decimal("10.50"),
        Decimal("0.00"),
        Decimal("-10.50"),
        Decimal("99.00"),
    ]
    assert [o.channel for o in orders] == ["direct", "distributor", "", "online", "phone"]
    assert orders[4].order_date == datetime.date(2024, 6, 2)
    assert all(o.lines.count() == 1 for o in orders) and orders[4].lines.get().product is None
    assert Product.objects.filter(name__in=["轴承", "赠品包"]).count() == 2
    s1 = PurchaseSummary.objects.get(customer=k1)
    assert (s1.purchase_days, s1.orders, s1.gross) == (2, 3, Decimal("31.50"))
    s2 = PurchaseSummary.objects.get(customer=k2)
    assert (s2.returns, s2.gross, s2.purchase_days) == (Decimal("-10.50"), Decimal("99.00"), 1)
    assert_derived_consistent()


def _numbered(tmp_path, extra: list[list] | None = None, name="n.csv") -> Path:
    rows = [
        ORDER_HEAD,
        ["SO1", "K1", "华东精密机械有限公司", "2024-05-20", "轴承", "2", "10", "20", "直销"],
        ["SO1", "K1", "华东精密机械有限公司", "2024-05-20", "电机", "1", "100", "100", "直销"],
        ["SO2", "K2", "岭南电子科技有限公司", "2024-05-21", "轴承", "3", "10", "30", "直销"],
        ["SO3", "K1", "华东精密机械有限公司", "2024-06-01", "电机", "-1", "100", "-100", "直销"],
        *(extra or []),
    ]
    return write_csv(tmp_path, rows, name)


def test_order_numbers_group_lines_and_reimport_changes_nothing(org, coded, tmp_path):
    path = _numbered(tmp_path)
    job = run(org.admin, "orders", path)
    assert job.state == JobState.DONE, errors_of(job)
    assert job.counts["orders_created"] == 3 and job.counts["lines"] == 4
    so1 = Order.objects.get(number="SO1")
    assert so1.amount == Decimal("120.00") and so1.lines.count() == 2
    before = database()
    again = run(org.admin, "orders", path)
    assert again.state == JobState.DONE
    assert again.counts["orders_unchanged"] == 3 and again.counts["orders_created"] == 0
    assert database() == before
    assert_derived_consistent()


def test_a_changed_order_is_replaced_in_place(org, coded, tmp_path):
    run(org.admin, "orders", _numbered(tmp_path))
    so1 = Order.objects.get(number="SO1")
    changed = write_csv(
        tmp_path,
        [
            ORDER_HEAD,
            ["SO1", "K2", "", "2024-05-22", "轴承", "5", "10", "50", "直销"],
        ],
        "changed.csv",
    )
    job = run(org.admin, "orders", changed)
    assert job.counts["orders_replaced"] == 1
    so1.refresh_from_db()
    assert (so1.customer_id, so1.order_date, so1.amount, so1.lines.count()) == (
        coded[1].pk,
        datetime.date(2024, 5, 22),
        Decimal("50.00"),
        1,
    )
    assert Order.objects.count() == 3
    assert_derived_consistent()


def test_lines_of_one_order_that_come_back_later_join_it(org, coded, tmp_path):
    path = write_csv(
        tmp_path,
        [
            ORDER_HEAD,
            ["SO7", "K1", "", "2024-05-20", "轴承", "1", "10", "10", ""],
            ["SO8", "K2", "", "2024-05-20", "轴承", "1", "10", "10", ""],
            ["SO7", "K1", "", "2024-05-20", "电机", "1", "5", "5", ""],
            ["SO9", "K2", "", "2024-05-21", "轴承", "1", "10", "10", ""],
            ["SO7", "K1", "", "2024-05-20", "齿轮", "2", "1", "2", ""],
        ],
    )
    job = services.import_file(actor=org.admin, kind="orders", path=path, options={"batch_size": 2})
    assert job.state == JobState.DONE, errors_of(job)
    so7 = Order.objects.get(number="SO7")
    assert so7.lines.count() == 3 and so7.amount == Decimal("17.00")
    assert Order.objects.count() == 3
    assert_derived_consistent()
    before = database()
    services.import_file(actor=org.admin, kind="orders", path=path, options={"batch_size": 2})
    after = database()
    assert {k: v for k, v in after.items() if k != "lines"} == {
        k: v for k, v in before.items() if k != "lines"
    }
    strip = [{k: v for k, v in ln.items() if k != "id"} for ln in after["lines"]]
    assert sorted(map(str, strip)) == sorted(
        map(str, [{k: v for k, v in ln.items() if k != "id"} for ln in before["lines"]])
    )


def test_one_bad_row_and_nothing_is_written_the_report_names_every_bad_row(org, coded, tmp_path):
    path = write_csv(
        tmp_path,
        [
            ["客户编号", "下单日期", "金额"],
            ["K1", "2024-05-20", "10"],
            ["K1", "2024-13-01", "10"],
            ["K1", "2024-05-21", "十元"],
            ["NOPE", "2024-05-22", "10"],
            ["K2", "2024-05-23", "10"],
        ],
    )
    before = database()
    job = run(org.admin, "orders", path)
    assert job.state == JobState.FAILED and job.errors_count == 3
    assert database() == before
    problems = {(e["row"], e["column"]) for e in errors_of(job)}
    assert problems == {(3, "下单日期"), (4, "金额"), (5, "客户编号")}
    assert "2024-13-01" in {e["value"] for e in errors_of(job)}


def test_skip_invalid_writes_the_good_rows(org, coded, tmp_path):
    path = _numbered(
        tmp_path,
        [
            ["SO4", "K1", "", "2024-06-02", "轴承", "1", "10", "10", "直销"],
            [
                "SO4",
                "K1",
                "",
                "2024-06-02",
                "轴承",
                "x",
                "10",
                "10",
                "直销",
            ],  # SO4 has a bad line: skipped whole
            ["SO5", "K1", "", "bad date", "轴承", "1", "10", "10", "直销"],
        ],
    )
    job = run(org.admin, "orders", path, skip_invalid=True)
    assert job.state == JobState.DONE
    assert set(Order.objects.values_list("number", flat=True)) == {"SO1", "SO2", "SO3"}
    rows = {e["row"]: e["problem"] for e in errors_of(job)}
    assert set(rows) == {6, 7, 8} and "row 7" in rows[6]
    assert job.counts["invalid_rows"] == 3
    assert_derived_consistent()


def test_skip_invalid_withdraws_an_order_whose_late_line_is_bad(org, coded, tmp_path):
    path = write_csv(
        tmp_path,
        [
            ORDER_HEAD,
            ["SO7", "K1", "", "2024-05-20", "轴承", "1", "10", "10", ""],
            ["SO8", "K2", "", "2024-05-20", "轴承", "1", "10", "10", ""],
            ["SO7", "K1", "", "2024-05-20", "电机", "bad", "5", "5", ""],
        ],
    )
    job = services.import_file(
        actor=org.admin, kind="orders", path=path, options={"batch_size": 1, "skip_invalid": True}
    )
    assert job.state == JobState.DONE
    assert list(Order.objects.values_list("number", flat=True)) == ["SO8"]
    assert {e["row"] for e in errors_of(job)} == {2, 4}
    assert_derived_consistent()


def test_lines_that_disagree_on_the_customer_are_errors(org, coded, tmp_path):
    path = write_csv(
        tmp_path,
        [
            ORDER_HEAD,
            ["SO1", "K1", "", "2024-05-20", "轴承", "1", "10", "10", ""],
            ["SO1", "K2", "", "2024-05-20", "轴承", "1", "10", "10", ""],
        ],
    )
    job = run(org.admin, "orders", path)
    assert job.state == JobState.FAILED and [e["row"] for e in errors_of(job)] == [3]


def test_unknown_customer_is_an_error_unless_create_customers(org, tmp_path):
    path = write_csv(
        tmp_path,
        [
            ["客户编号", "客户名称", "下单日期", "金额", "客户经理"],
            ["N1", "新客户甲有限公司", "2024-05-20", "10", "rep1a"],
            ["N1", "新客户甲有限公司", "2024-05-21", "20", "rep1a"],
            ["N2", "新客户乙", "2024-05-20", "5", ""],
        ],
    )
    job = run(org.admin, "orders", path)
    assert job.state == JobState.FAILED and {e["row"] for e in errors_of(job)} == {2, 3, 4}
    assert not Customer.objects.exists()
    job = run(org.admin, "orders", path, create_customers=True)
    assert job.state == JobState.DONE and job.counts["customers_created"] == 2
    n1, n2 = Customer.objects.get(code="N1"), Customer.objects.get(code="N2")
    assert (n1.name, n1.owner, n1.department, n1.team) == (
        "新客户甲有限公司",
        org.rep1a,
        org.sales1,
        org.team1a,
    )
    assert n2.owner == org.admin and n2.lifecycle_stage == "signed" and n2.version == 1
    assert n1.history.get().history_type == "+" and n1.history.get().history_user == org.admin
    assert ClassificationChange.objects.filter(
        customer=n1, field="lifecycle_stage", new_value="signed"
    ).exists()
    terms = set(search.customer_terms(n1))
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(f"SELECT term FROM {search.TABLE} WHERE kind = 'c' AND obj_id = %s", [n1.pk])
        assert {r[0] for r in cur.fetchall()} == terms
    assert Order.objects.filter(customer=n1).count() == 2
    assert_derived_consistent()


def test_search_terms_of_many_new_customers_come_from_a_follow_up_job(org, tmp_path, monkeypatch):
    from django.db import connection

    from guanxi.imports import orders

    monkeypatch.setattr(orders, "SEARCH_TERMS_INLINE", 1)
    path = write_csv(
        tmp_path,
        [
            ["客户编号", "客户名称", "下单日期", "金额"],
            ["N1", "甲公司", "2024-05-20", "1"],
            ["N2", "乙公司", "2024-05-20", "2"],
        ],
    )
    job = run(org.admin, "orders", path, create_customers=True)
    job.refresh_from_db()
    # jobs run inline under pytest: the follow-up has already written them
    assert job.counts["customers_created"] == 2 and job.counts["search_terms_pending"] == 0
    for customer in Customer.objects.all():
        with connection.cursor() as cur:
            cur.execute(f"SELECT term FROM {search.TABLE} WHERE kind = 'c' AND obj_id = %s", [customer.pk])
            assert {r[0] for r in cur.fetchall()} == set(search.customer_terms(customer))


def test_owner_option_and_a_bad_owner_column(org, tmp_path):
    path = write_csv(
        tmp_path, [["客户编号", "下单日期", "金额", "客户经理"], ["N1", "2024-05-20", "10", "nobody"]]
    )
    job = run(org.admin, "orders", path, create_customers=True)
    assert job.state == JobState.FAILED and errors_of(job)[0]["column"] == "客户经理"
    job = run(org.admin, "orders", path, create_customers=True, owner="rep2b")
    assert job.state == JobState.DONE and Customer.objects.get(code="N1").owner == org.rep2b


def test_customers_by_name_when_there_is_no_code_column(org, coded, tmp_path):
    path = write_csv(tmp_path, [["客户名称", "日期", "金额"], ["华东精密机械有限公司", "2024-05-20", "10"]])
    job = run(org.admin, "orders", path)
    assert job.state == JobState.DONE and Order.objects.get().customer == coded[0]


def test_gbk_csv_and_utf8_bom(org, coded, tmp_path):
    rows = [["客户编号", "下单日期", "金额", "产品"], ["K1", "2024-05-20", "10", "轴承（大号）"]]
    gbk = write_csv(tmp_path, rows, "gbk.csv", encoding="gbk")
    assert "轴承".encode("gbk") in gbk.read_bytes()
    job = run(org.admin, "orders", gbk)
    assert job.state == JobState.DONE, job.message
    assert Product.objects.get().name == "轴承（大号）"
    bom = write_csv(tmp_path, [rows[0], ["K2", "2024-05-20", "10", "轴承（大号）"]], "bom.csv", "utf-8-sig")
    job = run(org.admin, "orders", bom)
    assert job.state == JobState.DONE and job.headers[0] == "客户编号"


def test_xlsx_with_date_cells_and_serial_numbers(org, coded, tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Customer Code", "Order Date", "Amount", "Quantity", "Product"])
    sheet.append(["K1", datetime.datetime(2024, 5, 20), 10.5, 1, "轴承"])
    sheet.append(["K1", 45433, 20, 2, "轴承"])
    sheet.append(["K2", "2024/5/22", 30, 3.0, "电机"])
    sheet.append([None, None, None, None, None])
    path = tmp_path / "orders.xlsx"
    book.save(path)
    job = run(org.admin, "orders", path)
    assert job.state == JobState.DONE, errors_of(job)
    assert sorted(Order.objects.values_list("order_date", flat=True)) == [
        datetime.date(2024, 5, 20),
        datetime.date(2024, 5, 21),
        datetime.date(2024, 5, 22),
    ]
    assert OrderLine.objects.get(amount=30).quantity == Decimal("3.000")


def test_a_large_load_builds_the_orders_customer_indexes_at_the_end(org, coded, tmp_path, monkeypatch):
    from django.db import connection

    from guanxi.imports import orders

    def indexes():
        with connection.cursor() as cur:
            return sorted(
                cur.execute("SELECT name, sql FROM sqlite_master WHERE tbl_name = 'sales_order'").fetchall()
            )

    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    before = indexes()
    monkeypatch.setattr(orders, "BULK_LOAD_ORDERS", 0)
    monkeypatch.setattr(
        orders.orders_columnar, "ENABLED", False
    )  # the row path's way (see test_imports_columnar)
    dropped = []
    real = orders.bulk.suspend_indexes
    monkeypatch.setattr(orders.bulk, "suspend_indexes", lambda *a: dropped.extend(real(*a)) or dropped)
    job = run(org.admin, "orders", _numbered(tmp_path))
    assert job.state == JobState.DONE
    assert {name for name, _sql in dropped} == {"order_customer_date"}
    assert indexes() == before
    assert_derived_consistent()
    # a failed import rolls the dropped indexes back too
    dropped.clear()
    bad = write_csv(
        tmp_path, [["客户编号", "下单日期", "金额"], ["K1", "2024-05-20", "1"], ["K9", "x", "1"]], "b.csv"
    )
    assert run(org.admin, "orders", bad).state == JobState.FAILED
    assert indexes() == before


def test_dry_run_writes_nothing(org, coded, tmp_path):
    before = database()
    job = run(org.admin, "orders", _numbered(tmp_path), dry_run=True, create_customers=True)
    assert job.state == JobState.DONE and job.counts["orders_created"] == 3
    assert database() == before


def test_derived_tables_after_importing_into_a_database_with_orders(org, coded, tmp_path):
    from guanxi.sales import services as sales

    sales.create_order(
        actor=org.admin,
        customer_id=coded[0].pk,
        data={"order_date": "2024-05-20", "lines": [{"product": None, "amount": "7"}]},
    )
    run(org.admin, "orders", _numbered(tmp_path))
    k1 = PurchaseSummary.objects.get(customer=coded[0])
    assert (k1.orders, k1.gross, k1.returns) == (2, Decimal("127.00"), Decimal("-100.00"))
    assert_derived_consistent()


# --- customers ------------------------------------------------------------------------------------


def test_customers_import_upserts_by_code(org, coded, tmp_path):
    path = write_csv(
        tmp_path,
        [
            [
                "客户编号",
                "客户名称",
                "行业",
                "省份",
                "城市",
                "联系电话",
                "邮箱",
                "会员级别",
                "客户经理",
                "标签",
            ],
            [
                "K1",
                "华东精密机械有限公司",
                "制造业",
                "上海",
                "上海",
                "021-55501234",
                "a@b.cn",
                "金卡",
                "",
                "重点,华东",
            ],
            [
                "K9",
                "新客户有限公司",
                "Manufacturing",
                "浙江",
                "杭州",
                "13912345678",
                "",
                "silver",
                "rep1b",
                "",
            ],
            ["", "没有编号", "", "", "", "", "", "", "", ""],
            ["K9", "重复", "", "", "", "", "", "", "", ""],
            ["K8", "坏电话", "", "", "", "12", "", "", "", ""],
        ],
    )
    job = run(org.admin, "customers", path)
    assert job.state == JobState.FAILED
    assert {e["row"] for e in errors_of(job)} == {4, 5, 6}, errors_of(job)
    job = run(org.admin, "customers", path, skip_invalid=True)
    assert job.state == JobState.DONE and job.counts["created"] == 1 and job.counts["updated"] == 1
    k1 = Customer.objects.get(code="K1")
    assert (k1.industry, k1.province, k1.email, k1.membership_level, k1.version) == (
        "C",
        "上海",
        "a@b.cn",
        "gold",
        2,
    )
    assert sorted(k1.tags.values_list("name", flat=True)) == ["华东", "重点"]
    assert k1.history.first().history_type == "~"
    k9 = Customer.objects.get(code="K9")
    assert (k9.owner, k9.department, k9.phone, k9.membership_level) == (
        org.rep1b,
        org.sales1,
        "13912345678",
        "silver",
    )
    assert ClassificationChange.objects.filter(customer=k9, field="membership_level").exists()
    before = database()
    again = run(org.admin, "customers", path, skip_invalid=True)
    assert again.counts["unchanged"] == 2 and again.counts["created"] == 0
    assert database() == before


def test_customers_import_by_name_and_rules(org, coded, tmp_path):
    path = write_csv(
        tmp_path,
        [
            ["客户名称", "城市", "生命周期", "统一社会信用代码"],
            ["华东精密机械有限公司", "苏州", "签约", ""],
            ["岭南电子科技有限公司", "", "", "91110000000000000X"],
        ],
    )
    job = run(org.admin, "customers", path, skip_invalid=True)
    assert [e["column"] for e in errors_of(job)] == ["统一社会信用代码"]
    k1 = Customer.objects.get(pk=coded[0].pk)
    assert (k1.city, k1.lifecycle_stage, k1.code) == ("苏州", "signed", "K1")
    back = write_csv(tmp_path, [["客户名称", "生命周期"], ["华东精密机械有限公司", "潜在"]], "back.csv")
    job = run(org.admin, "customers", back)
    assert job.state == JobState.FAILED and "cannot move" in errors_of(job)[0]["problem"]


# --- who may import what --------------------------------------------------------------------------


def test_roles_that_may_not_import(org, tmp_path):
    path = write_csv(tmp_path, [["客户编号", "下单日期", "金额"], ["K1", "2024-05-20", "1"]])
    for user in (org.service, org.analyst, org.auditor):
        with pytest.raises(Forbidden):
            run(user, "orders", path)


def test_a_manager_imports_only_their_departments_customers(org, coded, tmp_path):
    path = write_csv(
        tmp_path, [["客户编号", "下单日期", "金额"], ["K1", "2024-05-20", "1"], ["K2", "2024-05-20", "2"]]
    )
    job = run(org.manager1, "orders", path, skip_invalid=True)
    assert [(e["row"], e["value"]) for e in errors_of(job)] == [(3, "K2")]
    assert list(Order.objects.values_list("customer__code", flat=True)) == ["K1"]
    new = write_csv(
        tmp_path,
        [
            ["客户编号", "下单日期", "金额", "客户经理"],
            ["N1", "2024-05-20", "1", "rep2a"],
            ["N2", "2024-05-20", "1", "rep1b"],
        ],
        "new.csv",
    )
    job = run(org.manager1, "orders", new, create_customers=True, skip_invalid=True)
    assert [e["row"] for e in errors_of(job)] == [2]  # rep2a is in another department
    n2 = Customer.objects.get(code="N2")
    assert n2.owner == org.rep1b and n2.department == org.sales1
    with pytest.raises(ValidationFailed):
        run(org.manager1, "orders", new, create_customers=True, owner="rep2a")


def test_an_account_manager_imports_for_their_own_customers(org, coded, tmp_path):
    path = write_csv(
        tmp_path,
        [
            ["客户编号", "下单日期", "金额"],
            ["K1", "2024-05-20", "1"],
            ["K2", "2024-05-20", "2"],
            ["N1", "2024-05-20", "3"],
        ],
    )
    job = run(org.rep1a, "orders", path, skip_invalid=True, create_customers=True)
    assert [e["value"] for e in errors_of(job)] == ["K2"]
    assert Customer.objects.get(code="N1").owner == org.rep1a
    # an order number taken by another department's order cannot be overwritten
    Order.objects.create(customer=coded[1], number="X1", order_date="2024-01-01", amount=1)
    taken = write_csv(
        tmp_path, [["订单号", "客户编号", "下单日期", "金额"], ["X1", "K1", "2024-05-20", "1"]], "t.csv"
    )
    job = run(org.rep1a, "orders", taken)
    assert job.state == JobState.FAILED and Order.objects.get(number="X1").customer == coded[1]


def test_jobs_are_seen_by_their_creator_and_administrators(org, coded, tmp_path):
    path = write_csv(tmp_path, [["客户编号", "下单日期", "金额"], ["K1", "2024-05-20", "1"]])
    job = run(org.rep1a, "orders", path)
    assert services.job_for(org.rep1a, job.pk) == job
    assert services.job_for(org.admin, job.pk) == job
    from guanxi.core.errors import NotFound

    for other in (org.manager1, org.rep1b, org.auditor):
        with pytest.raises(NotFound):
            services.job_for(other, job.pk)


# --- the command line -----------------------------------------------------------------------------


def test_command_line(org, coded, tmp_path, capsys):
    good = _numbered(tmp_path)
    call_command("import", "orders", str(good))
    assert Order.objects.count() == 3
    assert "3" in capsys.readouterr().out
    bad = write_csv(tmp_path, [["单号", "顾客", "日期", "钱"], ["S9", "K1", "oops", "1"]], "bad.csv")
    report = tmp_path / "report.csv"
    with pytest.raises(CommandError) as e:
        call_command(
            "import",
            "orders",
            str(bad),
            "--map",
            "顾客=customer_code",
            "--map",
            "钱=amount",
            "--report",
            str(report),
        )
    assert e.value.returncode == 1
    lines = report.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 2 and "oops" in lines[1] and "日期" in lines[1]
    with pytest.raises(CommandError):
        call_command("import", "orders", str(bad), "--map", "nope=amount")
