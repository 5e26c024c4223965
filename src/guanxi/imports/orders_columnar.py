"""The orders import's first load: a whole CSV file checked and written column by column.

A company that starts with Guanxi brings its order history in once: millions of lines from the
ERP, into a database that has no orders yet. For that case the file is read at C speed by Arrow
(``pyarrow.csv``, on every core), each column is checked as a whole (numbers by one regular
expression and one cast; dates, channels, states, products and customer keys once per distinct
value, through the row path's own parsers), the orders are the runs of equal order numbers, and
the rows go to the database in statements of many rows (``COPY`` on PostgreSQL) into tables whose
secondary indexes are built once at the end. The derived tables (purchase days, summaries, the
card's monthly revenue, product months) are computed from the same arrays with numpy instead of
being re-read from the orders just written.

It decides before it writes anything. Whatever it is not sure of (a row of another width, a cell a
number or date parser would have to think about, a blank where a value is needed, an unknown
channel, an order number that comes back later in the file, a customer the user may not change,
a product whose code disagrees, an owner column, …) makes ``run`` return False having written and
reported nothing, and the row path (``orders.py``) imports the file instead, with its error
messages and every special case. What it writes, counts and reports is then the same either way
(the tests run files both ways and compare the tables).

Used when: SQLite or PostgreSQL, a UTF-8 CSV whose header is its first line, the database has no
orders, and the run writes (not a dry run).
"""

from __future__ import annotations

import datetime
import logging
import os

import numpy as np
from django.db import connection
from django.utils.translation import gettext as _

from guanxi.customers.models import Customer
from guanxi.sales.models import DeliveryState, Product

from . import bulk
from .base import _test_pause
from .bulk import timed
from .values import EPOCH, MONEY_LIMIT

ENABLED = True  # the tests switch it off to compare with the row path
log = logging.getLogger(__name__)

FIELDS = {
    "order_number",
    "customer_code",
    "customer_name",
    "order_date",
    "product",
    "product_code",
    "category",
    "quantity",
    "unit_price",
    "amount",
    "cost",
    "channel",
    "delivery_state",
    "gift",
    "note",
}
LINE_CHUNK = 500_000
_PLAIN_NUMBER = r"^-?[0-9]+(\.[0-9]+)?$"


class Doubt(Exception):
    """Something the row path should look at: nothing has been written."""


def applicable(imp) -> bool:
    table = imp.table
    return (
        ENABLED
        and imp.writing
        and not imp.options.dry_run
        and not imp.had_orders
        and connection.vendor in ("sqlite", "postgresql")
        and getattr(table, "format", "") == "csv"
        and getattr(table, "encoding", "") in ("utf-8", "utf-8-sig")
        and getattr(table, "header_row", 0) == 1
        and set(imp.col) <= FIELDS
        and "order_date" in imp.col
        and (imp.i_code >= 0 or imp.i_name >= 0)
        # the whole file is held in memory (about three times its size at the peak)
        and getattr(table, "size", 0) <= bulk.memory() // 8
    )


def run(imp) -> bool:
    """Import the whole file this way (True), or do nothing and leave it to the row path (False)."""
    import pyarrow as pa

    try:
        with timed("read the file (columns)"):
            cols = _read(imp)
        with timed("check the columns"):
            plan = _check(imp, cols)
    except (Doubt, pa.ArrowException):
        return False
    try:
        _write(imp, plan)
    except BaseException:
        if imp.side_builder is not None:
            imp.side_builder.cancel()
        raise
    return True


# --- reading ------------------------------------------------------------------------------------


def _read(imp) -> dict:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    table = imp.table
    names = [f"c{i}" for i in range(imp.width)]
    try:
        data = pcsv.read_csv(
            table.raw.name,
            read_options=pcsv.ReadOptions(column_names=names, skip_rows=1, block_size=16 << 20),
            parse_options=pcsv.ParseOptions(delimiter=table.delimiter, ignore_empty_lines=False),
            convert_options=pcsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError, OSError):
        raise Doubt from None
    if data.num_rows == 0:
        raise Doubt
    imp.progress(data.num_rows, 0.3)
    return {field: data.column(i).combine_chunks() for field, i in imp.col.items()}


def _encode(col):
    """(distinct values as Python strings, each cell's index into them)."""
    enc = col.dictionary_encode()
    return enc.dictionary.to_pylist(), enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)


def _stripped(col):
    """Like ``_encode`` with the values stripped (two spellings that strip alike become one)."""
    values, idx = _encode(col)
    stripped = [v.strip() for v in values]
    if stripped == values:
        return values, idx
    uniq: dict[str, int] = {}
    remap = np.fromiter(
        (uniq.setdefault(s, len(uniq)) for s in stripped), dtype=np.int64, count=len(stripped)
    )
    return list(uniq), remap[idx]


def _numbers(col, places: int, blank: float | None):
    """The column as floats (NaN for blank cells when ``blank`` is None), rounded as the row path
    rounds (only cells with more decimals than stored); Doubt unless every cell is a plain number."""
    import pyarrow as pa
    import pyarrow.compute as pc

    empty = pc.equal(col, "").to_numpy(zero_copy_only=False)
    has_blank = bool(empty.any())
    if has_blank:
        col = pc.if_else(pc.equal(col, ""), "0", col)
    if not pc.all(pc.match_substring_regex(col, _PLAIN_NUMBER)).as_py():
        raise Doubt
    x = pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False).copy()
    if not (np.abs(x) < MONEY_LIMIT).all():
        raise Doubt
    long = pc.match_substring_regex(col, rf"\.[0-9]{{{places + 1},}}$").to_numpy(zero_copy_only=False)
    if long.any():
        where = np.flatnonzero(long)
        x[where] = [round(v, places) for v in x[where].tolist()]
    if has_blank:
        x[empty] = np.nan if blank is None else blank
    return x


# --- checking -----------------------------------------------------------------------------------


def _check(imp, cols: dict) -> dict:
    import pyarrow.compute as pc

    n = len(next(iter(cols.values())))

    # orders: runs of one order number (or one order a row)
    if imp.i_num >= 0:
        nums = cols["order_number"]
        if pc.any(pc.not_equal(pc.utf8_trim_whitespace(nums), nums)).as_py():
            raise Doubt
        if pc.any(pc.equal(nums, "")).as_py() or pc.max(pc.utf8_length(nums)).as_py() > 64:
            raise Doubt
        breaks = pc.not_equal(nums[1:], nums[:-1]).to_numpy(zero_copy_only=False)
        starts = np.concatenate(([0], np.flatnonzero(breaks) + 1))
        gnums = nums.take(starts)
        if pc.count_distinct(gnums).as_py() != len(starts):
            raise Doubt  # a number comes back later in the file: the row path appends
    else:
        starts = np.arange(n)
        gnums = None
    ng = len(starts)
    order_of_line = np.repeat(np.arange(ng), np.diff(np.append(starts, n)))
    first = np.zeros(n, dtype=bool)
    first[starts] = True

    def same_within_orders(idx) -> None:
        if ng < n and (idx[1:] != idx[:-1])[~first[1:]].any():
            raise Doubt  # the lines of an order disagree

    # customers
    key_values, key_idx = _stripped(cols["customer_code" if imp.i_code >= 0 else "customer_name"])
    if "" in key_values:
        raise Doubt
    same_within_orders(key_idx)
    customers = _customers(imp, cols, key_values, key_idx)

    # dates (raw cells, as the row path compares them), channels, states
    date_values, date_idx = _encode(cols["order_date"])
    same_within_orders(date_idx)
    days = np.empty(len(date_values), dtype=np.int64)
    iso = []
    for i, raw in enumerate(date_values):
        d = imp.dates[raw]
        if d.__class__ is not tuple:
            raise Doubt
        iso.append(d[0])
        days[i] = d[1]
    channel = _choices(imp, cols, "channel", imp.channels, imp.channel_cache, same_within_orders)
    state = _choices(imp, cols, "delivery_state", imp.states, imp.state_cache, same_within_orders)
    notes = None
    if "note" in cols:
        note_values, note_idx = _stripped(cols["note"].take(starts))
        notes = (note_values, note_idx)

    # products
    products = _products(imp, cols, n)

    # numbers
    qty = _numbers(cols["quantity"], 3, 1.0) if "quantity" in cols else np.ones(n)
    price = _numbers(cols["unit_price"], 2, None) if "unit_price" in cols else np.full(n, np.nan)
    if "amount" in cols:
        amount = _numbers(cols["amount"], 2, None)
    else:
        amount = np.full(n, np.nan)
    missing = np.isnan(amount)
    if missing.any():
        where = np.flatnonzero(missing)
        if np.isnan(price[where]).any():
            raise Doubt  # neither the amount nor the unit price
        amount[where] = [
            round(q * p, 2) for q, p in zip(qty[where].tolist(), price[where].tolist(), strict=True)
        ]
    cost = _numbers(cols["cost"], 2, None) if "cost" in cols else np.full(n, np.nan)
    gifts = None
    if "gift" in cols:
        gift_values, gift_idx = _stripped(cols["gift"])
        if any(len(g) > 200 for g in gift_values):
            raise Doubt
        gifts = (gift_values, gift_idx)

    return {
        "n": n,
        "starts": starts,
        "gnums": gnums,
        "order_of_line": order_of_line,
        "customers": customers,
        "key_idx": key_idx,
        "date": (iso, days, date_idx[starts]),
        "channel": channel,
        "state": state,
        "notes": notes,
        "products": products,
        "qty": qty,
        "price": price,
        "amount": amount,
        "cost": cost,
        "gifts": gifts,
    }


def _choices(imp, cols, field, index, cache, same_within_orders):
    """(codes, each order's index into them) of a choice column, or None without the column."""
    if field not in cols:
        return None
    values, idx = _stripped(cols[field])
    same_within_orders(idx)
    codes = []
    for v in values:
        code = cache.get(v)
        if code is None:
            code = imp._choice(v, index, cache)
            if code is None:
                raise Doubt
        codes.append(code)
    return codes, idx


def _customers(imp, cols, key_values: list[str], key_idx) -> dict:
    """Each key's customer: found (and changeable) or, with --create-customers, to create."""
    by_name = imp.by_name
    found: dict[str, int] = {}
    if imp.had_keyed:
        field = "name" if by_name else "code"
        wanted = set(key_values)
        ids: dict[str, list[int]] = {}
        if len(wanted) > 5000:
            rows = (
                Customer.objects.filter(**{f"{field}__isnull": False})
                .values_list(field, "pk")
                .iterator(20000)
            )
        else:
            rows = (
                r
                for chunk in _chunks(sorted(wanted), 500)
                for r in Customer.objects.filter(**{f"{field}__in": chunk}).values_list(field, "pk")
            )
        for key, pk in rows:
            if key in wanted:
                ids.setdefault(key, []).append(pk)
        if any(len(v) > 1 for v in ids.values()):
            raise Doubt
        found = {k: v[0] for k, v in ids.items()}
        if found and len(imp.changeable(sorted(found.values()))) != len(found):
            raise Doubt
    new = [i for i, k in enumerate(key_values) if k not in found]
    names: list[str] = []
    if new:
        if not imp.options.create_customers:
            raise Doubt
        if "owner" in imp.col and imp.options.owner is None:
            raise Doubt  # owners by row: the row path
        # the first row of each new key gives its name; the keys in the order the file first names them
        _u, first_row = np.unique(key_idx, return_index=True)
        new_arr = np.array(new, dtype=np.int64)
        new_arr = new_arr[np.argsort(first_row[new_arr], kind="stable")]
        new = new_arr.tolist()
        if by_name or "customer_name" not in cols:  # (no name column: named after the code)
            names = [key_values[i] for i in new]
        else:
            names = [s.strip() for s in cols["customer_name"].take(first_row[new_arr]).to_pylist()]
        if not by_name and any(len(key_values[i]) > 64 for i in new):
            raise Doubt
        if any(not s or len(s) > 200 for s in names):
            raise Doubt
    return {"found": found, "new": new, "names": names, "values": key_values}


def _products(imp, cols, n: int):
    """The distinct (code, name) pairs of the product columns, each line's index into them, and
    the order in which the file first names them (None without product columns)."""
    has_code, has_name = "product_code" in cols, "product" in cols
    if not (has_code or has_name):
        return None
    import pyarrow as pa

    if has_code and has_name:
        pair = pa.StructArray.from_arrays([cols["product_code"], cols["product"]], ["c", "n"])
        values, idx = _encode_struct(pair)
        pairs = [(c.strip(), nm.strip()) for c, nm in values]
    else:
        vals, idx = _encode(cols["product_code" if has_code else "product"])
        pairs = [(v.strip(), "") if has_code else ("", v.strip()) for v in vals]
    _u, first_row = np.unique(idx, return_index=True)
    order = np.argsort(first_row, kind="stable")
    # as the row path will find or create them, in the same order: a product whose code disagrees
    # with the file's is an error there (those the file creates count as they are made)
    by_code: dict[str, tuple] = {}
    by_name: dict[str, tuple] = {}
    for i in order.tolist():
        code, name = pairs[i]
        if len(code) > 64 or len(name) > 200:
            raise Doubt
        if (not code and not name) or (code and code in by_code) or (not code and name in by_name):
            continue
        found = None
        if code:
            found = Product.objects.filter(code=code).values_list("code", "name").first()
        if found is None and name:
            found = by_name.get(name) or Product.objects.filter(name=name).values_list("code", "name").first()
            if found is not None and code and found[0] and found[0] != code:
                raise Doubt
        if found is None:
            name = name or code
            found = (code or None, name)
        if code:
            by_code[code] = found
        if name:
            by_name[name] = found
    category = cols.get("category")
    return {"pairs": pairs, "idx": idx, "order": order, "first_row": first_row, "category": category}


def _encode_struct(pair):
    """Distinct (code, name) pairs of two string columns and each row's index."""
    import pyarrow.compute as pc

    joined = pc.binary_join_element_wise(pair.field("c"), pair.field("n"), "\x00")
    values, idx = _encode(joined)
    return [tuple(v.split("\x00", 1)) for v in values], idx


def _chunks(seq, size):
    for i in range(0, len(seq), size):
        yield seq[i : i + size]


# --- writing ------------------------------------------------------------------------------------


def _write(imp, plan: dict) -> None:
    n, starts = plan["n"], plan["starts"]
    ng = len(starts)
    ool = plan["order_of_line"]

    # products: found or created, in the order the file first names them (as the row path does)
    with timed("products"):
        pid_of = _resolve_products(imp, plan)
    pids = pid_of[plan["products"]["idx"]] if plan["products"] else np.full(n, -1, dtype=np.int64)

    # customers: ids for the new ones in the order the file first names them
    cust = plan["customers"]
    key_values = cust["values"]
    cid_of = np.zeros(len(key_values), dtype=np.int64)
    if cust["found"]:
        pos = {k: i for i, k in enumerate(key_values)}
        for k, pk in cust["found"].items():
            cid_of[pos[k]] = pk
    from .orders import CUSTOMERS_BULK_LOAD

    owner = imp.default_owner()
    new = list(zip(cust["new"], cust["names"], strict=True))
    if len(new) >= CUSTOMERS_BULK_LOAD:
        # ids in name order: every list index of the customers (a constant, the name, the id) is
        # then built from rows already in its order, which SQLite's sort does several times faster
        new.sort(key=lambda item: item[1])
    for i, name in new:
        cid = imp.customer_ids.take()
        cid_of[i] = cid
        code = None if imp.by_name else key_values[i]
        imp.new_customers.append((cid, code, name, owner.pk, owner.department_id, owner.team_id))
    gcid = cid_of[plan["key_idx"][starts]]
    builder = imp.side_builder = _side_customers(imp)

    # lines' costs: given, else the product's unit cost × quantity (negative for a return)
    qty, price, amount, cost = plan["qty"], plan["price"], plan["amount"], plan["cost"]
    unit = {pk: c for pk, c in imp.product_cost.items() if c is not None}
    no_cost = np.isnan(cost)
    if unit and no_cost.any():
        where = np.flatnonzero(no_cost & np.isin(pids, list(unit)))
        if len(where):
            cost = cost.copy()
            cost[where] = [
                (-1 if a < 0 else 1) * round(unit[p] * abs(q), 2)
                for p, q, a in zip(
                    pids[where].tolist(), qty[where].tolist(), amount[where].tolist(), strict=True
                )
            ]

    # the orders' amounts and costs: their lines' in file order, rounded
    gamount = [round(x, 2) for x in np.add.reduceat(amount, starts).tolist()]
    has_cost = ~np.isnan(cost)
    gcost_raw = np.add.reduceat(np.where(has_cost, cost, 0.0), starts)
    gcost_any = np.add.reduceat(has_cost.astype(np.int64), starts) > 0
    gcost = [round(x, 2) if a else None for x, a in zip(gcost_raw.tolist(), gcost_any.tolist(), strict=True)]
    gamount_arr = np.array(gamount, dtype=float)

    iso, days, gdate_idx = plan["date"]
    gday = days[gdate_idx]
    giso = [iso[i] for i in gdate_idx.tolist()]
    chan_codes = _per_order(plan["channel"], starts, ng, "")
    state_codes = _per_order(plan["state"], starts, ng, DeliveryState.DELIVERED)
    if plan["notes"]:
        note_values, note_idx = plan["notes"]
        gnote = [note_values[i] for i in note_idx.tolist()]
    else:
        gnote = [""] * ng
    gnums = plan["gnums"].to_pylist() if plan["gnums"] is not None else [None] * ng

    first_oid = imp.order_ids.take(ng)
    oids = np.arange(first_oid, first_oid + ng, dtype=np.int64)
    c = imp.counts
    c["orders_created"] += ng
    c["returns"] += int((gamount_arr < 0).sum())
    c["free_orders"] += int((gamount_arr == 0).sum())
    c["lines"] += n
    c["rows"] += n
    imp.progress(n, 0.5)

    # indexes whose keys come in order (the order's date in an export sorted by date, the creator,
    # the lines' order) are kept current: that only appends; the others are built once at the end
    suspend = [("sales_orderline", "product_id")]
    if not _ascending(gcid):
        suspend.append(("sales_order", "customer_id"))
    if not _ascending(gday):
        suspend.append(("sales_order", "order_date"))
    suspended = _suspend(suspend)
    with timed("insert orders"):
        _insert(
            "sales_order",
            {
                "id": oids.tolist(),
                "number": gnums,
                "order_date": giso,
                "channel": chan_codes,
                "delivery_state": state_codes,
                "amount": gamount,
                "cost": gcost,
                "note": gnote,
                "customer_id": gcid.tolist(),
            },
            {"batch_id": imp.batch_id, "created_at": imp.now, "created_by_id": imp.actor.pk},
        )
    imp.progress(n, 0.6)
    with timed("insert order lines"):
        line_oid = oids[ool]
        no_pid, no_price, no_cost = (pids < 0).all(), np.isnan(price).all(), np.isnan(cost).all()
        gifts = plan["gifts"]
        for a in range(0, n, LINE_CHUNK):  # a chunk at a time: fewer Python objects alive at once
            b = min(n, a + LINE_CHUNK)
            _insert(
                "sales_orderline",
                {
                    "order_id": line_oid[a:b].tolist(),
                    "product_id": [None] if no_pid else _nullable_ids(pids[a:b]),
                    "quantity": qty[a:b].tolist(),
                    "unit_price": [None] if no_price else _nullable(price[a:b]),
                    "amount": amount[a:b].tolist(),
                    "cost": [None] if no_cost else _nullable(cost[a:b]),
                    "gift": [gifts[0][i] for i in gifts[1][a:b].tolist()] if gifts else [""],
                },
            )
    imp.progress(n, 0.75)
    if os.environ.get("GUANXI_IMPORT_TEST_PAUSE"):
        _test_pause()  # the test of an interrupted import kills the process here
    with timed("build the orders' indexes"):
        bulk.restore_indexes(suspended)
    if builder is not None:
        _finish_side_customers(imp, builder)
    elif imp.new_customers:
        imp._create_customers()
    imp.order_ids.finish()
    if imp.customer_ids is not None:
        imp.customer_ids.finish()
    imp.progress(n, 0.9)

    live = np.array([s != DeliveryState.CANCELLED for s in state_codes], dtype=bool)
    with timed("derive purchase days, summaries, monthly revenue"):
        _derive_customers(
            imp, cust, gcid, gday, gamount_arr, np.array([x if x is not None else 0.0 for x in gcost]), live
        )
    with timed("derive product months"):
        _derive_products(imp, pids, qty, amount, cost, gday[ool], live[ool])


def _per_order(choice, starts, ng, default):
    if choice is None:
        return [default] * ng
    codes, idx = choice
    return [codes[i] for i in idx[starts].tolist()]


def _nullable(x):
    return [None if v != v else v for v in x.tolist()] if np.isnan(x).any() else x.tolist()


def _nullable_ids(x):
    return [None if v < 0 else v for v in x.tolist()] if (x < 0).any() else x.tolist()


def _resolve_products(imp, plan) -> np.ndarray:
    prods = plan["products"]
    if not prods:
        return np.zeros(0, dtype=np.int64)
    pid_of = np.full(len(prods["pairs"]), -1, dtype=np.int64)
    category = prods["category"]
    for i in prods["order"].tolist():
        code, name = prods["pairs"][i]
        if not code and not name:
            continue
        row = int(prods["first_row"][i])
        pid = imp.products_by_code.get(code) if code else imp.products_by_name.get(name)
        if pid is None:
            fake_row = [""] * imp.width
            if category is not None:
                fake_row[imp.col["category"]] = category[row].as_py()
            pid = imp._product_miss(code, name, fake_row, row + imp.table.header_row + 1)
            if pid is None:  # checked before anything was written: cannot happen
                raise RuntimeError(f"product {code or name} could not be resolved")
        pid_of[i] = pid
    return pid_of


def _side_customers(imp):
    """A first load of many customers into an empty customers table (SQLite): the customers and
    their audit-trail records are written, and their indexes built, in the side database on the
    other core while the orders are written (``bulk.Side``); None where the row path's bulk
    creation (``OrdersImport._create_customers``) does it instead."""
    from .orders import CUSTOMERS_BULK_LOAD, customer_defaults, history_statement

    side, rows = imp.side, imp.new_customers
    if side is None or connection.vendor != "sqlite" or len(rows) < CUSTOMERS_BULK_LOAD:
        return None
    if bulk.fetchall("SELECT EXISTS (SELECT 1 FROM customers_customer)")[0][0]:
        return None  # the copy into a table that has rows would keep every index current row by row
    history = Customer.history.model._meta.db_table
    seq = bulk.fetchall("SELECT seq FROM main.sqlite_sequence WHERE name = %s", [history])
    top = bulk.fetchall(f'SELECT MAX(history_id) FROM "{history}"')[0][0] or 0
    history_from = max(top, seq[0][0] if seq else 0) + 1
    ids = [r[0] for r in rows]
    lo, hi = min(ids), max(ids)
    constants = customer_defaults(imp.now)
    reason = _("Created by import")[:100]
    hist_sql, hist_params = history_statement(lo, hi, imp.actor.pk, imp.now, reason)
    hist_sql = hist_sql.replace("%s", "?")
    columns = ("id", "code", "name", "owner_id", "department_id", "team_id")

    def steps(db):
        bulk._insert(db, "sqlite", "customers_customer", columns, rows, constants)
        # the audit trail's ids go on from the main database's
        db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (history, history_from - 1))
        db.execute(hist_sql, hist_params)

    builder = bulk.SideBuild(side, ("customers_customer", history), steps)
    builder.start()
    imp.side_range = (lo, hi, reason)
    return builder


def _finish_side_customers(imp, builder) -> None:
    from .orders import classification_statement

    try:
        builder.result()
    except Exception:
        log.warning("building the new customers in the side database failed: created in place", exc_info=True)
        imp._create_customers()
        return
    history = Customer.history.model._meta.db_table
    imp.side.copy("customers_customer")
    imp.side.copy(history)
    lo, hi, reason = imp.side_range
    with timed("customers' lifecycle history"):
        bulk.execute(*classification_statement(lo, hi, imp.actor.pk, imp.now, reason))
    imp._search_terms(imp.new_customers, lo, hi)


def _insert(table: str, columns: dict[str, list], constants: dict | None = None) -> None:
    """``bulk.insert`` of columns given as lists; a column whose cells are all the same (or given as
    one value) goes as a constant instead of once per row."""
    constants = dict(constants or {})
    varying: dict[str, list] = {}
    for name, values in columns.items():
        first = values[0] if values else 0
        if (first is None or isinstance(first, str)) and (  # (numbers keep their types per row)
            len(values) == 1 or values.count(first) == len(values)
        ):
            constants[name] = first
            continue
        varying[name] = values
    bulk.insert(table, tuple(varying), zip(*varying.values(), strict=True), constants)


def _ascending(x: np.ndarray) -> bool:
    return bool(len(x) < 2 or (x[1:] >= x[:-1]).all())


def _suspend(which) -> list:
    """The secondary indexes of these (empty) tables that start with these columns, dropped to be
    built once at the end (SQLite)."""
    if connection.vendor != "sqlite":
        return []
    saved = []
    for table, column in which:
        saved += bulk.suspend_indexes(table, column)
    return saved


def _day_iso(days: np.ndarray) -> list[str]:
    base = EPOCH.toordinal()
    cache: dict[int, str] = {}
    out = []
    for d in days.tolist():
        s = cache.get(d)
        if s is None:
            s = cache[d] = datetime.date.fromordinal(base + d).isoformat()
        out.append(s)
    return out


def _derive_customers(imp, cust, gcid, gday, gamount, gcost, live) -> None:
    """Purchase days, summaries and monthly revenue figures of the customers the file names, from
    the orders' arrays: what ``summary.refresh`` computes from the orders table (the same
    conventions: same-day purchases are one, returns are no purchase, cancelled orders count for
    nothing)."""
    now = bulk.now_value()
    if cust["found"]:  # figures set by hand for customers that now have orders go (as refresh does)
        ids = sorted(cust["found"].values())
        for chunk in _chunks(ids, 500):
            marks = ", ".join(["%s"] * len(chunk))
            bulk.execute(f"DELETE FROM customers_revenuefigure WHERE customer_id IN ({marks})", chunk)
    cid, day, amt, cst = gcid[live], gday[live], gamount[live], gcost[live]
    if not len(cid):
        return
    # purchase days: (customer, day) groups
    order = np.lexsort((day, cid))
    cid, day, amt, cst = cid[order], day[order], amt[order], cst[order]
    new_group = np.ones(len(cid), dtype=bool)
    new_group[1:] = (cid[1:] != cid[:-1]) | (day[1:] != day[:-1])
    gs = np.flatnonzero(new_group)
    pos = amt >= 0
    d_cid, d_day = cid[gs], day[gs]
    d_amount = np.add.reduceat(np.where(pos, amt, 0.0), gs)
    d_cost = np.add.reduceat(cst, gs)
    d_returns = np.add.reduceat(np.where(pos, 0.0, amt), gs)
    d_orders = np.add.reduceat(pos.astype(np.int64), gs)
    with timed("insert sales_purchaseday"):
        bulk.insert(
            "sales_purchaseday",
            ("customer_id", "day", "amount", "cost", "returns", "orders"),
            zip(
                d_cid.tolist(),
                d_day.tolist(),
                _money(d_amount),
                _money(d_cost),
                _money(d_returns),
                d_orders.tolist(),
                strict=True,
            ),
        )
    # summaries: per customer over its purchase days
    cs = np.flatnonzero(np.concatenate(([True], d_cid[1:] != d_cid[:-1])))
    bought = d_orders > 0
    big = np.iinfo(np.int64).max
    first_day = np.minimum.reduceat(np.where(bought, d_day, big), cs)
    last_day = np.maximum.reduceat(np.where(bought, d_day, -big), cs)
    purchase_days = np.add.reduceat(bought.astype(np.int64), cs)
    # the amount of the first day with a purchase
    first_pos = np.full(len(cs), -1, dtype=np.int64)
    idx_bought = np.flatnonzero(bought)
    cust_of_day = np.repeat(np.arange(len(cs)), np.diff(np.append(cs, len(d_cid))))
    if len(idx_bought):
        owners = cust_of_day[idx_bought]
        firsts = np.concatenate(([True], owners[1:] != owners[:-1]))
        first_pos[owners[firsts]] = idx_bought[firsts]
    first_amount = np.where(first_pos >= 0, d_amount[np.maximum(first_pos, 0)], 0.0)
    any_bought = purchase_days > 0
    with timed("insert sales_purchasesummary"):
        bulk.insert(
            "sales_purchasesummary",
            (
                "customer_id",
                "first_day",
                "last_day",
                "purchase_days",
                "orders",
                "gross",
                "returns",
                "cost",
                "first_day_amount",
            ),
            zip(
                d_cid[cs].tolist(),
                [int(x) if b else None for x, b in zip(first_day.tolist(), any_bought.tolist(), strict=True)],
                [int(x) if b else None for x, b in zip(last_day.tolist(), any_bought.tolist(), strict=True)],
                purchase_days.tolist(),
                np.add.reduceat(d_orders, cs).tolist(),
                _money(np.add.reduceat(d_amount, cs)),
                _money(np.add.reduceat(d_returns, cs)),
                _money(np.add.reduceat(d_cost, cs)),
                _money(first_amount),
                strict=True,
            ),
            {"updated_at": now},
        )
    # the card's revenue by month: all of a month's orders (returns included)
    dates = np.array(day, dtype="datetime64[D]")
    month = dates.astype("datetime64[M]")
    mo = month.astype(np.int64)
    new_m = np.ones(len(cid), dtype=bool)
    new_m[1:] = (cid[1:] != cid[:-1]) | (mo[1:] != mo[:-1])
    ms = np.flatnonzero(new_m)
    m_iso = _day_iso(month[ms].astype("datetime64[D]").astype(np.int64))
    with timed("insert customers_revenuefigure"):
        bulk.insert(
            "customers_revenuefigure",
            ("customer_id", "period_start", "revenue"),
            zip(cid[ms].tolist(), m_iso, _money(np.add.reduceat(amt, ms)), strict=True),
            {"updated_at": now},
        )


def _derive_products(imp, pids, qty, amount, cost, line_day, line_live) -> None:
    """What the lines add to each product's months (the row path sums them while it reads)."""
    keep = line_live & (pids >= 0)
    if not keep.any():
        return
    p, q, a = pids[keep], qty[keep], amount[keep]
    cst = np.where(np.isnan(cost[keep]), 0.0, cost[keep])
    mo = np.array(line_day[keep], dtype="datetime64[D]").astype("datetime64[M]").astype(np.int64)
    order = np.lexsort((mo, p))
    p, q, a, cst, mo = p[order], q[order], a[order], cst[order], mo[order]
    new = np.ones(len(p), dtype=bool)
    new[1:] = (p[1:] != p[:-1]) | (mo[1:] != mo[:-1])
    gs = np.flatnonzero(new)
    months = _day_iso(mo[gs].astype("datetime64[M]").astype("datetime64[D]").astype(np.int64))
    pm = imp.product_months
    for pid, month, sq, sa, sc, k in zip(
        p[gs].tolist(),
        months,
        np.add.reduceat(q, gs).tolist(),
        np.add.reduceat(a, gs).tolist(),
        np.add.reduceat(cst, gs).tolist(),
        np.diff(np.append(gs, len(p))).tolist(),
        strict=True,
    ):
        pm[(pid, month)] = [sq, sa, sc, k]
    imp._product_months()


def _money(x: np.ndarray) -> list[float]:
    return np.round(x, 2).tolist()
