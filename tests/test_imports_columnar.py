"""The orders import's first load, column by column (``orders_columnar``): into a database without
orders, a CSV file is checked and written as whole columns. It must give exactly what the row path
gives (the same orders, lines, customers, products, counts, error reports and derived tables), and
hand every file it is not sure of to the row path untouched."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guanxi.customers.models import Customer, RevenueFigure
from guanxi.imports import orders_columnar, orders_fast, services
from guanxi.imports.models import JobState
from guanxi.imports.report import read_report
from guanxi.sales import summary
from guanxi.sales.models import Order, Product

# the same surroundings as test_imports.py: a data directory per test, English messages
from test_imports import _data_dir, _english  # noqa: F401
from test_imports_fast import BAD_ROWS, generated, snapshot, write_csv


@pytest.fixture
def taken(monkeypatch):
    """Whether each import took the column path (True) or gave the file to the row path (False)."""
    seen: list[bool] = []
    real = orders_columnar.run

    def run(imp):
        done = real(imp)
        seen.append(done)
        return done

    monkeypatch.setattr(orders_columnar, "run", run)
    return seen


def import_both(org, path, monkeypatch, actor=None, **options) -> list[tuple]:
    """Import the file by columns and by rows, each time from the same database (rolled back)."""
    out = []
    for columnar in (True, False):
        monkeypatch.setattr(orders_columnar, "ENABLED", columnar)
        with transaction.atomic():
            job = services.import_file(
                actor=actor or org.admin, kind="orders", path=path, options=dict(options)
            )
            errors = read_report(job.report_file)[0] if job.report_file else []
            out.append((job.state, job.counts, errors, snapshot()))
            transaction.set_rollback(True)
    monkeypatch.setattr(orders_columnar, "ENABLED", True)
    return out


@pytest.mark.parametrize("chunk", [7, 500_000])
def test_a_first_load_by_columns_gives_what_the_row_path_gives(org, tmp_path, monkeypatch, taken, chunk):
    monkeypatch.setattr(orders_columnar, "LINE_CHUNK", chunk)
    path = write_csv(tmp_path, generated())
    columns, rows = import_both(org, path, monkeypatch, create_customers=True)
    assert taken == [True]
    assert columns[0] == JobState.DONE, columns[2]
    assert columns == rows
    snap = columns[3]
    assert snap["orders"] and snap["lines"] and snap["days"] and snap["revenue"] and snap["products"]
    assert columns[1]["customers_created"] == 12 and columns[1]["products_created"] == 3


def test_the_row_path_with_its_batches_by_column_gives_the_same(org, tmp_path, monkeypatch):
    path = write_csv(tmp_path, generated(seed=4))
    columns, _rows = import_both(org, path, monkeypatch, create_customers=True)
    monkeypatch.setattr(orders_columnar, "ENABLED", False)
    monkeypatch.setattr(orders_fast, "ENABLED", False)
    with transaction.atomic():
        job = services.import_file(
            actor=org.admin, kind="orders", path=path, options={"create_customers": True, "batch_size": 7}
        )
        assert (job.state, job.counts, snapshot()) == (columns[0], columns[1], columns[3])
        transaction.set_rollback(True)


def test_derived_tables_after_a_first_load_equal_a_full_refresh(org, tmp_path, taken):
    path = write_csv(tmp_path, generated(seed=3))
    job = services.import_file(actor=org.admin, kind="orders", path=path, options={"create_customers": True})
    assert job.state == JobState.DONE and taken == [True]
    before = snapshot()
    summary.refresh(None)
    summary.refresh_products(None)
    assert snapshot() == before


def test_a_second_import_goes_by_rows_and_changes_nothing(org, tmp_path, taken):
    path = write_csv(tmp_path, generated(seed=8))
    services.import_file(actor=org.admin, kind="orders", path=path, options={"create_customers": True})
    before = snapshot()
    job = services.import_file(actor=org.admin, kind="orders", path=path, options={"create_customers": True})
    assert taken == [True]  # the second import: the database has orders, the column path is not tried
    assert job.state == JobState.DONE and job.counts["orders_unchanged"] == len(before["orders"])
    assert snapshot() == before


def _fresh(row: list) -> list:
    """The row as an order of its own (a number the file does not have), so that what is tried is
    the row's cells, not an order number that comes back."""
    return ["SO9999", *row[1:]] if row and row[0] == "SO0005" else row


@pytest.mark.parametrize(
    "bad",
    [
        *(_fresh(r) for r in BAD_ROWS if "新产品" not in r),  # (a new product is no doubt: see below)
        ["SO9999", "K1", "客户K1", "2024-01-01", "轴承", " 1", "10", "10", "直销", "", ""],  # a space
        ["SO9999", "K1", "客户K1", "2024-01-01", "轴承", "1", "1,000", "1,000", "直销", "", ""],  # 1,000
        ["SO9999", "K1", "客户K1", "2024-01-01", "轴承", "1", "¥10", "10", "直销", "", ""],
        ["SO9999", "K1", "客户K1", "2024-01-01", "轴承", "1", "10", "10", "直销", "", "", "extra"],
        ["SO0005", "K1", "客户K1", "2024-01-01", "轴承", "1", "10", "10", "直销", "", ""],  # SO0005 again
        ["SO9999", "K1", "客户K1", "2024-02-30", "轴承", "1", "10", "10", "直销", "", ""],  # no such day
        ["SO9999", "K1", "客户K1", "2024-01-01", "轴承", "1", "10", "inf", "直销", "", ""],
        ["SO9999", "K1", "客户K1", "2024-01-01", "轴承", "1", "10", "-", "直销", "", ""],
    ],
)
@pytest.mark.parametrize("skip_invalid", [False, True])
def test_a_file_the_column_path_is_not_sure_of_goes_by_rows(
    org, tmp_path, monkeypatch, taken, bad, skip_invalid
):
    rows = generated(seed=11, orders_n=30)
    between = next(i for i, r in enumerate(rows) if r[0] == "SO0015")  # between two orders
    rows.insert(between, bad)
    path = write_csv(tmp_path, rows)
    columns, by_rows = import_both(org, path, monkeypatch, create_customers=True, skip_invalid=skip_invalid)
    assert taken == [False]
    assert columns == by_rows


@pytest.mark.parametrize(
    "good",
    [
        ["SO9999", "K1", "客户K1", "2024-01-01", "新产品", "1", "10", "10", "直销", "", ""],  # a new product
        ["SO9999", "K1", "客户K1", "2024-01-01", "轴承", "1", "10", "10", "直销", "", "x" * 300],  # long note
        ["SO9999", "K99", "新客户", "2024-01-01", "轴承", "-2", "10", "-20", "门店", "", ""],  # a return
    ],
)
def test_an_unusual_but_valid_row_stays_on_the_column_path(org, tmp_path, monkeypatch, taken, good):
    rows = generated(seed=11, orders_n=30)
    rows.insert(next(i for i, r in enumerate(rows) if r[0] == "SO0015"), good)
    columns, by_rows = import_both(org, write_csv(tmp_path, rows), monkeypatch, create_customers=True)
    assert taken == [True] and columns[0] == JobState.DONE, columns[2]
    assert columns == by_rows


def test_dates_in_every_spelling_and_a_cancelled_order(org, tmp_path, monkeypatch, taken):
    head = [
        "单号",
        "客户编号",
        "客户名称",
        "日期",
        "产品编码",
        "产品名称",
        "数量",
        "单价",
        "发货状态",
        "赠品",
    ]
    rows = [
        head,
        ["A1", "K1", "甲", "2024/5/20", "P1", "轴承", "2", "10.5", "", ""],
        ["A1", "K1", "甲", "2024/5/20", "P2", "电机", "1", "100", "", "台历"],
        ["A2", "K1", "甲", "20240601", "P1", "轴承", "1", "10.5", "已取消", ""],
        ["A3", "K2", "乙", "45432", "P2", "电机", "3", "99.999", "", ""],
        ["A4", "K2", "乙", "2024年6月2日", "P1", "轴承", "-1", "10.5", "", ""],
        ["A5", "K2", "乙", "2024-06-02", "P1", "轴承", "0", "10.5", "", ""],
    ]
    path = write_csv(tmp_path, rows)
    columns, by_rows = import_both(org, path, monkeypatch, create_customers=True)
    assert taken == [True] and columns[0] == JobState.DONE, columns[2]
    assert columns == by_rows
    assert columns[1]["returns"] == 1 and columns[1]["free_orders"] == 1
    cancelled = [o for o in columns[3]["orders"] if o[0] == "A2"]
    assert cancelled and cancelled[0][4] == "cancelled"


def test_existing_customers_products_and_hand_set_figures(org, tmp_path, monkeypatch, taken):
    """Customers found by code (their hand-set monthly figures give way to the orders'), products
    found by code with their unit cost (the lines' cost when the file has none)."""
    Customer.objects.create(name="老客户甲", code="K1", owner=org.rep1a, department=org.sales1)
    keep = Customer.objects.create(name="老客户乙", code="K77", owner=org.rep1a, department=org.sales1)
    k1 = Customer.objects.get(code="K1")
    RevenueFigure.objects.create(customer=k1, period_start="2023-01-01", revenue=5)
    RevenueFigure.objects.create(customer=keep, period_start="2023-01-01", revenue=7)
    Product.objects.create(name="轴承", code="B1", unit_cost=4.25)
    path = write_csv(tmp_path, generated(seed=9))
    columns, by_rows = import_both(org, path, monkeypatch, create_customers=True)
    assert taken == [True] and columns[0] == JobState.DONE, columns[2]
    assert columns == by_rows
    assert columns[1]["customers_created"] == 11
    revenue = columns[3]["revenue"]
    assert ("K77", __import__("datetime").date(2023, 1, 1), 7) in [(r[0], r[1], r[2]) for r in revenue]
    assert not [r for r in revenue if r[0] == "K1" and r[1].year == 2023]
    costs = {ln[5] for ln in columns[3]["lines"] if ln[1] == "轴承"}
    assert costs - {None}


def test_a_customer_the_user_may_not_change_sends_the_file_by_rows(org, tmp_path, monkeypatch, taken):
    Customer.objects.create(name="别人的客户", code="K1", owner=org.rep1b, department=org.sales1)
    path = write_csv(tmp_path, generated(seed=12, orders_n=40))
    columns, by_rows = import_both(org, path, monkeypatch, actor=org.rep1a, create_customers=True)
    assert taken == [False]
    assert columns == by_rows and columns[0] == JobState.FAILED and columns[2]


def test_customers_by_name_without_a_code_column(org, tmp_path, monkeypatch, taken):
    rows = [[c for i, c in enumerate(r) if i != 1] for r in generated(seed=13)]
    path = write_csv(tmp_path, rows)
    columns, by_rows = import_both(org, path, monkeypatch, create_customers=True)
    assert taken == [True] and columns[0] == JobState.DONE
    assert columns == by_rows
    assert Customer.objects.count() == 0  # both rolled back


def test_without_create_customers_unknown_codes_go_by_rows(org, tmp_path, monkeypatch, taken):
    path = write_csv(tmp_path, generated(seed=14, orders_n=10))
    columns, by_rows = import_both(org, path, monkeypatch)
    assert taken == [False] and columns == by_rows and columns[0] == JobState.FAILED


def _indexes(*tables: str) -> list:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT name, sql FROM sqlite_master WHERE tbl_name IN (%s, %s) ORDER BY name", list(tables)
        )
        return cur.fetchall()


def test_the_order_tables_get_their_indexes_back(org, tmp_path, taken):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    before = _indexes("sales_order", "sales_orderline")
    assert len(before) >= 5
    job = services.import_file(
        actor=org.admin,
        kind="orders",
        path=write_csv(tmp_path, generated()),
        options={"create_customers": True},
    )
    assert job.state == JobState.DONE and taken == [True]
    assert _indexes("sales_order", "sales_orderline") == before
    assert Order.objects.filter(number="SO0001").exists()


def test_a_file_without_order_numbers(org, tmp_path, monkeypatch, taken):
    rows = [r[1:] for r in generated(seed=15, orders_n=40)]
    path = write_csv(tmp_path, rows)
    columns, by_rows = import_both(org, path, monkeypatch, create_customers=True)
    assert taken == [True] and columns == by_rows and columns[0] == JobState.DONE
    assert columns[1]["orders_created"] == len(rows) - 1


_cell_numbers = st.sampled_from(["", "0", "1", "2", "-1", "3.5", "0.001", "12.3456", "99.99", "1e3", " 2"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(
        st.tuples(
            st.integers(0, 6),  # order
            st.sampled_from(["K1", "K2", " K3", "K4"]),
            st.sampled_from(["2024-01-05", "2024/2/5", "20240305", "2024-13-40", "45000"]),
            st.sampled_from(["轴承", "电机", ""]),
            _cell_numbers,
            _cell_numbers,
            _cell_numbers,
            st.sampled_from(["", "直销", "online", "pigeon"]),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_any_small_file_gives_the_same_either_way(org, tmp_path, monkeypatch, lines):
    """Whatever the cells, the column path either gives what the row path gives or leaves the
    file to it (then the two runs are the same run)."""
    rows = [["订单号", "客户编号", "客户名称", "下单日期", "产品", "数量", "单价", "金额", "渠道"]]
    for order, code, day, product, qty, price, amount, channel in sorted(lines, key=lambda x: x[0]):
        rows.append([f"N{order}", code, f"客户{code.strip()}", day, product, qty, price, amount, channel])
    path = write_csv(tmp_path, rows, name="h.csv")
    Customer.objects.filter(code="K4").delete()
    Customer.objects.create(name="已有客户", code="K4", owner=org.rep1a, department=org.sales1)
    columns, by_rows = import_both(org, path, monkeypatch, create_customers=True)
    assert columns == by_rows


def _wipe() -> None:
    with connection.cursor() as cur:
        for table in (
            "sales_orderline",
            "sales_order",
            "sales_purchaseday",
            "sales_purchasesummary",
            "sales_productmonth",
            "sales_product",
            "customers_revenuefigure",
            "customers_classificationchange",
            Customer.history.model._meta.db_table,
            "customers_customer",
        ):
            cur.execute(f'DELETE FROM "{table}"')


@pytest.mark.django_db(transaction=True)
def test_many_new_customers_are_built_beside_the_orders(org, tmp_path, monkeypatch):
    """SQLite: the new customers, their audit trail and indexes are built in a side database on
    another thread and copied in; the result is the row path's, the indexes are the schema's, and
    the scratch file (and one a killed import left) is gone."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    from guanxi.imports import bulk, models, orders

    monkeypatch.setattr(orders, "CUSTOMERS_BULK_LOAD", 1)
    built = []
    real_start = bulk.SideBuild.start
    monkeypatch.setattr(bulk.SideBuild, "start", lambda self: built.append(self) or real_start(self))
    stale = models.imports_dir() / "side-999999.sqlite3"
    stale.write_bytes(b"left by a killed import")
    history = Customer.history.model._meta.db_table
    schema = _indexes("customers_customer", history)
    path = write_csv(tmp_path, generated(seed=21))

    monkeypatch.setattr(orders_columnar, "ENABLED", False)
    job = services.import_file(actor=org.admin, kind="orders", path=path, options={"create_customers": True})
    assert job.state == JobState.DONE and not built
    by_rows = job.counts, snapshot()
    _wipe()

    monkeypatch.setattr(orders_columnar, "ENABLED", True)
    job = services.import_file(actor=org.admin, kind="orders", path=path, options={"create_customers": True})
    assert job.state == JobState.DONE, job.message
    assert len(built) == 1
    assert (job.counts, snapshot()) == by_rows
    assert _indexes("customers_customer", history) == schema
    names = list(Customer.objects.order_by("pk").values_list("name", flat=True))
    assert names == sorted(names)  # many new customers get their ids in name order
    k3 = Customer.objects.get(code="K3")
    assert k3.name == "客户K3" and k3.owner_id == org.admin.pk and k3.lifecycle_stage == "signed"
    assert Customer.history.filter(code="K3", history_type="+").count() == 1
    assert k3.classification_changes.filter(field="lifecycle_stage", new_value="signed").count() == 1
    assert not list(models.imports_dir().glob("side-*.sqlite3"))
    with connection.cursor() as cur:
        assert cur.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert "guanxi_side" not in [r[1] for r in cur.execute("PRAGMA database_list").fetchall()]
    # a customer made by hand afterwards takes the next id, and its history the next one
    c = Customer.objects.create(name="手工客户", code="HAND1", owner=org.rep1a, department=org.sales1)
    assert c.pk > max(Customer.objects.exclude(pk=c.pk).values_list("pk", flat=True))
    assert Customer.history.filter(code="HAND1").count() == 1


@pytest.mark.parametrize("in_database", [False, True])
def test_a_product_code_that_disagrees_goes_by_rows(org, tmp_path, monkeypatch, taken, in_database):
    if in_database:
        Product.objects.create(name="轴承", code="B1")
    head = ["单号", "客户编号", "客户名称", "日期", "产品编码", "产品名称", "数量", "单价"]
    rows = [head, ["A1", "K1", "甲", "2024-05-20", "B2", "轴承", "2", "10"]]
    if not in_database:
        rows.insert(1, ["A0", "K1", "甲", "2024-05-19", "B1", "轴承", "1", "10"])
    columns, by_rows = import_both(org, write_csv(tmp_path, rows), monkeypatch, create_customers=True)
    assert taken == [False] and columns == by_rows
    assert columns[0] == JobState.FAILED and "B1" in str(columns[2])


def test_products_by_code_or_name_as_the_row_path_finds_them(org, tmp_path, monkeypatch, taken):
    Product.objects.create(name="齿轮", code="G1", unit_cost=2)
    head = ["单号", "客户编号", "客户名称", "日期", "产品编码", "产品名称", "数量", "单价", "产品类别"]
    rows = [
        head,
        ["A1", "K1", "甲", "2024-05-20", "", "轴承", "2", "10", "机械"],
        ["A1", "K1", "甲", "2024-05-20", "B7", "轴承", "1", "10", "机械"],
        ["A2", "K1", "甲", "2024-05-21", "G1", "", "1", "5", ""],
        ["A3", "K2", "乙", "2024-05-21", "", "齿轮", "3", "5", ""],
        ["A3", "K2", "乙", "2024-05-21", "C9", "", "1", "5", "电气"],
        ["A4", "K2", "乙", "2024-05-22", "", "", "1", "5", ""],
    ]
    columns, by_rows = import_both(org, write_csv(tmp_path, rows), monkeypatch, create_customers=True)
    assert taken == [True] and columns[0] == JobState.DONE, columns[2]
    assert columns == by_rows
    assert columns[1]["products_created"] == 2


def test_a_code_column_without_names_names_new_customers_after_their_codes(org, tmp_path, monkeypatch, taken):
    rows = [[c for i, c in enumerate(r) if i != 2] for r in generated(seed=16, orders_n=30)]
    columns, by_rows = import_both(org, write_csv(tmp_path, rows), monkeypatch, create_customers=True)
    assert taken == [True] and columns[0] == JobState.DONE, columns[2]
    assert columns == by_rows
    assert ("K1", "K1") in [(c[0], c[1]) for c in columns[3]["customers"]]


@pytest.mark.django_db(transaction=True)
def test_a_failed_side_build_creates_the_customers_in_place(org, tmp_path, monkeypatch):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    from guanxi.imports import bulk, models, orders

    monkeypatch.setattr(orders, "CUSTOMERS_BULK_LOAD", 1)
    real_init = bulk.SideBuild.__init__

    def init(self, *args):
        real_init(self, *args)

        def steps(db):
            raise OSError("No space left on device")

        self.steps = steps

    monkeypatch.setattr(bulk.SideBuild, "__init__", init)
    # files of killed imports: one whose job is gone, one of a job marked running but untouched for
    # hours (both removed), one of a job running now (kept)
    old_job = models.ImportJob.objects.create(kind="orders", created_by=org.admin, state=JobState.RUNNING)
    live_job = models.ImportJob.objects.create(kind="orders", created_by=org.admin, state=JobState.RUNNING)
    gone = models.imports_dir() / "side-999998.sqlite3"
    old = models.imports_dir() / f"side-{old_job.pk}.sqlite3"
    live = models.imports_dir() / f"side-{live_job.pk}.sqlite3"
    for f in (gone, old, live):
        f.write_bytes(b"x")
    __import__("os").utime(old, (0, 0))
    job = services.import_file(
        actor=org.admin,
        kind="orders",
        path=write_csv(tmp_path, generated(seed=22)),
        options={"create_customers": True},
    )
    assert job.state == JobState.DONE, job.message
    assert job.counts["customers_created"] == 12 and Customer.objects.count() == 12
    assert Customer.history.filter(history_type="+").count() == 12
    assert not gone.exists() and not old.exists() and live.exists()
    assert not (models.imports_dir() / f"side-{job.pk}.sqlite3").exists()
    live.unlink()
    with connection.cursor() as cur:
        assert cur.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def _pragmas(db) -> tuple:
    return tuple(
        db.execute(f"PRAGMA {p}").fetchone()[0]
        for p in ("temp_store", "cache_size", "cache_spill", "threads")
    )


@pytest.mark.django_db(transaction=True)
def test_indexes_are_built_by_a_sorter_in_cache_sized_runs(monkeypatch):
    """SQLite: an index dropped for a load is built again with the sorter allowed to write runs to
    temporary files, a small page cache (the runs' size) and worker threads, with spilling of dirty
    pages turned off; every setting is put back after."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    from guanxi.imports import bulk

    with bulk.big_cache(), transaction.atomic():  # as the import's service does
        db = bulk.raw()
        db.execute("PRAGMA cache_size = -262144")
        before = _pragmas(db)
        assert before[0] == 2  # our connections keep temporary data in memory
        saved = bulk.suspend_indexes("sales_orderline", "product_id")
        assert [name for name, _sql in saved] and "product_id" in saved[0][1]
        seen = []
        real = bulk.execute

        def execute(sql, params=None):
            if sql.startswith("CREATE INDEX"):
                seen.append(_pragmas(db))
            return real(sql, params)

        monkeypatch.setattr(bulk, "execute", execute)
        bulk.restore_indexes(saved)
        assert len(seen) == 1
        store, cache, spill, threads = seen[0]
        assert store == 0 and cache == -bulk.INDEX_SORT_KIB and threads >= 1
        assert spill == 0  # dirty pages are not spilled meanwhile
        assert _pragmas(db) == before
        names = [r[1] for r in db.execute("PRAGMA index_list(sales_orderline)").fetchall()]
        assert saved[0][0] in names


@pytest.mark.django_db
def test_an_index_build_beside_a_temporary_table_keeps_the_settings():
    """SQLite refuses to change ``temp_store`` while a temporary table is open: the build then runs
    with the connection's settings as they were, and does not fail."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    from guanxi.imports import bulk

    with transaction.atomic():
        db = bulk.raw()
        db.execute("CREATE TEMP TABLE scratch (x)")
        db.execute("INSERT INTO scratch VALUES (1)")
        before = _pragmas(db)
        with bulk.index_builds(db):
            assert _pragmas(db) == before
            db.execute("CREATE INDEX scratch_x ON scratch (x)")
        assert _pragmas(db) == before
        db.execute("DROP TABLE scratch")


@pytest.mark.django_db(transaction=True)
def test_a_temporary_table_made_during_an_index_build_does_not_fail_it():
    """A temporary table created while the index builds keeps SQLite from switching ``temp_store``
    back inside the transaction: the build still succeeds, and the import's cache settings put it
    back once the transaction is over."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    from guanxi.imports import bulk

    db = bulk.raw()
    before = _pragmas(db)
    with bulk.big_cache():
        with transaction.atomic():
            with bulk.index_builds(db):
                db.execute("CREATE TEMP TABLE scratch (x)")
                db.execute("CREATE INDEX scratch_x ON scratch (x)")
            assert db.execute("PRAGMA temp_store").fetchone()[0] == 0  # could not be switched back
            db.execute("DROP TABLE scratch")
    assert _pragmas(db) == before
