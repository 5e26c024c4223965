"""Importing order history (订单导入): the bulk path.

Made for files of millions of lines: rows are read in batches, checked with plain Python on
strings (dates through a cache of the file's few distinct spellings, numbers through ``float``),
and written with one prepared INSERT per table per batch (``executemany``; ``COPY`` on PostgreSQL)
— never row by row through the ORM. The caller runs it in ONE transaction.

Orders and their lines
- With an order-number column, the rows with the same number are one order with several lines;
  they agree on the customer, the date, the channel and the state (a line that does not is an
  error). Lines of one order usually follow each other; when a number comes back later in the file,
  its lines are added to the order already written.
- Without one (or where the number is blank), each row is an order of one line.
- An order number that is already in the database: the order is left as it is when the file says
  exactly the same (so importing a file twice changes nothing), and replaced by the file's version
  (same id, the lines rewritten) when it differs.
- The amount may be missing when quantity × unit price is given; 0 is a free order, a negative
  amount a return. The cost, when not given, is the product's unit cost × quantity, as when an
  order is entered by hand.

Customers are found by customer code (客户编号), or by exact name when the file has no code column.
An unknown customer is an error, unless ``create_customers``: then it is created (owned by the
``owner`` option, else the file's account-manager column, else the importing user), in bulk, with
its audit-trail record; its search terms are written too, or — for more than
``SEARCH_TERMS_INLINE`` new customers — by a background job after the import.
Products are found by product code, else by name; unknown ones are created (with the category
column's category, created too if need be).

Imported history does not run the first-purchase hooks (the welcome gift is for new customers'
live orders) nor the significant-revenue-change rule of the customer card, which asks an account
manager for reasons month by month.

After the writes, the derived tables (purchase days, summaries, monthly revenue) are rebuilt
set-based for the customers the import touched (``sales.summary.refresh``: by import batch, or all
of them when the database had no orders before); the product months get what the import's lines
add to them, summed while the rows stream by (the products of changed or withdrawn orders are
recomputed with ``summary.refresh_products``). Either way they equal a full refresh afterwards.

A first load (a UTF-8 CSV into a database without orders) goes column by column instead
(``orders_columnar``): read by Arrow, checked per column, written in bulk, the derived tables
computed from the arrays; it hands any file it is not sure of to the path below untouched.

Speed of the path below (10M lines, 1M customers created, into an empty database): the main thread
reads and checks; a batch of a well-formed file is checked column by column (``orders_fast``: the
same result for about a third less CPU time; the row-by-row code takes over for any batch it is
not sure of); a second thread writes each batch (``bulk.Writer``: on SQLite one
``INSERT … SELECT FROM json_each(?)`` per batch, so that the engine works without Python's lock;
``COPY`` on PostgreSQL). The new customers are inserted at the end: when they are many and at
least as many as the table had (SQLite), in id order, with the secondary indexes of the customers
and of their history dropped before and built again after, inside the transaction (building an
index from sorted keys costs less than keeping twenty indexes current row by row); otherwise in
name order (their indexes mostly start with a constant and the name, so that keeps the inserts at
the indexes' ends). A load that multiplies the number of orders builds the orders' customer
indexes at the end. The page cache is raised for the import (``bulk.big_cache``) so its pages stay
in memory until it commits. Where the time goes: ``guanxi import -v 2 orders FILE``
(``GUANXI_IMPORT_CPU_TIMES=1``: the CPU time of each step, for a busy machine).
"""

from __future__ import annotations

from types import SimpleNamespace

from django.utils.translation import gettext as _

from guanxi.customers import search
from guanxi.customers.models import Customer
from guanxi.sales import summary
from guanxi.sales.models import Channel, DeliveryState, Order, OrderLine, Product, ProductCategory

from . import bulk, orders_columnar, orders_fast
from .base import SEARCH_TERMS_INLINE, BaseImport
from .values import MONEY_LIMIT, DateCache, Invalid, choice_index, parse_choice, parse_number

ORDER_COLUMNS = (
    "id",
    "number",
    "order_date",
    "channel",
    "delivery_state",
    "amount",
    "cost",
    "note",
    "customer_id",
)
LINE_COLUMNS = ("order_id", "product_id", "quantity", "unit_price", "amount", "cost", "gift")

NEW, APPEND, EXISTING = 0, 1, 2
# from this many new customers, and at least as many as the table had, the customers' secondary
# indexes (twenty, for the list pages) are dropped and built again after the insert (SQLite)
CUSTOMERS_BULK_LOAD = 50_000
BULK_LOAD_ORDERS = 200_000  # from this many new orders (estimated), the customer indexes are built at the end


class Group:
    """The lines of one order met in the current batch."""

    __slots__ = (
        "number",
        "oid",
        "mode",
        "cid",
        "iso",
        "channel",
        "state",
        "note",
        "amount",
        "cost",
        "lines",
        "rns",
        "bad",
        "key",
        "rawdate",
        "rawchan",
        "rawstate",
    )

    def __init__(self, number, oid, mode):
        self.number = number
        self.oid = oid
        self.mode = mode
        self.amount = 0.0
        self.cost = None
        self.lines: list[tuple] = []
        self.rns: list[int] = []
        self.bad = 0  # the first invalid row of the order (0: none)
        self.note = ""


class Old:
    """An order that was in the database before the import, and what the file says of it."""

    __slots__ = (
        "oid",
        "cid",
        "db_head",
        "remaining",
        "inserts",
        "head",
        "amount",
        "cost",
        "products",
        "locked",
    )

    def __init__(self, oid: int, cid: int, db_head: tuple):
        self.oid, self.cid, self.db_head = oid, cid, db_head
        self.remaining: dict[tuple, list[int]] = {}  # stored lines not (yet) met in the file
        self.inserts: list[tuple] = []  # lines of the file the order does not have
        self.head: tuple | None = None  # the file's (customer, date, channel, state, note)
        self.amount = 0.0
        self.cost: float | None = None
        self.products: set[int] = set()
        self.locked = False


class OrdersImport(BaseImport):
    kind = "orders"

    def run(self) -> dict:
        c = self.col
        self.i_num = c.get("order_number", -1)
        self.i_code = c.get("customer_code", -1)
        self.i_name = c.get("customer_name", -1)
        self.by_name = self.i_code < 0
        self.i_key = self.i_name if self.by_name else self.i_code
        self.counts.update(
            orders_created=0,
            orders_replaced=0,
            orders_unchanged=0,
            lines=0,
            returns=0,
            free_orders=0,
            customers_created=0,
            products_created=0,
        )
        bulk.lock("sales_order", *(["customers_customer"] if self.options.create_customers else []))
        if self.writing:
            bulk.skip_reference_checks()
        self.had_orders = Order.objects.exists()
        self.had_numbers = self.i_num >= 0 and Order.objects.filter(number__isnull=False).exists()
        self.had_keyed = (
            Customer.objects.exists()
            if self.by_name
            else Customer.objects.filter(code__isnull=False).exists()
        )
        self.order_ids = bulk.Ids("sales_order")
        self.customer_ids = bulk.Ids("customers_customer") if self.options.create_customers else None
        self.now = bulk.now_value()
        self.dates = DateCache()
        self.customers: dict[str, int] = {}  # key (code or name) → id, for usable customers
        self.customer_errors: dict[str, str] = {}  # key → why its rows are errors
        self.new_customers: list[tuple] = []  # (id, code, name, owner_id, department_id, team_id)
        self.products_by_code: dict[str, int] = {}
        self.products_by_name: dict[str, int] = {}
        self.product_cost: dict[int, float | None] = {}
        self.categories: dict[str, int] = {}
        self.channels = choice_index(Channel.choices)
        self.channel_cache: dict[str, str] = {"": ""}
        self.states = choice_index(DeliveryState.choices)
        self.state_cache: dict[str, str] = {"": DeliveryState.DELIVERED}
        # number → (id, customer, date, channel, state) of each order this import created
        self.seen: dict[str, tuple] = {}
        self.totals: dict[int, list] = {}  # id → [amount, cost] of orders whose lines came back later
        self.existing: dict[str, tuple] = {}  # pre-existing number → (id, customer_id)
        self.bad_numbers: dict[str, int] = {}  # number → its first invalid row
        self.poisoned: dict[str, int] = {}  # written order that a later line made invalid → that row
        self.old: dict[str, Old] = {}  # number → an order the database had before, met in the file
        self.order_rows: dict[str, list[int]] = {}  # --skip-invalid: number → its rows written so far
        self.extra_customers: set[int] = set()  # customers whose orders left them (for the refresh)
        self.products_touched: set[int] = set()  # products whose months are recomputed by SQL
        self.product_months: dict[tuple[int, str], list] = {}  # (product, month) → what this import adds
        self.writer = None
        if orders_columnar.applicable(self) and orders_columnar.run(self):
            self.counts["customers_created"] = len(self.new_customers)
            self.counts["invalid_rows"] = self.report.bad_rows
            return self.counts
        self.suspended = self._suspend_indexes()
        self.writer = bulk.Writer() if self.writing and bulk.parallel() else None
        try:
            for first_rn, rows in self._batches():
                self._batch(first_rn, rows)
                self.counts["rows"] += len(rows)
                self.tick()
            self.flush()
            self._finish()
        finally:
            if self.writer is not None:
                self.writer.stop()
        self.counts["invalid_rows"] = self.report.bad_rows
        return self.counts

    def _suspend_indexes(self) -> list:
        """A load that will multiply the number of orders builds the orders' customer indexes at
        the end instead of row by row (see ``bulk.suspend_indexes``)."""
        if not self.writing or bulk.vendor() != "sqlite":
            return []
        size = getattr(self.table, "size", 0)
        expected_orders = (self.table.total_rows or size / 100) / (3 if self.i_num >= 0 else 1)
        have = bulk.fetchall("SELECT MAX(id) FROM sales_order")[0][0] or 0
        if expected_orders < BULK_LOAD_ORDERS or have > expected_orders / 2:
            return []
        with bulk.timed("drop the orders' customer indexes"):
            return bulk.suspend_indexes("sales_order", "customer_id")

    def flush(self) -> None:
        """Wait for the writes under way (before reading the database, or writing to it directly)."""
        if self.writer is not None:
            self.writer.flush()

    # --- batches: cut where the order number changes ---------------------------------------------

    def _batches(self):
        if self.i_num < 0:
            yield from self.batches()
            return
        i = self.i_num
        carry: list = []
        carry_rn = 0
        for first_rn, rows in self.batches():
            if carry:
                rows = carry + rows
                first_rn = carry_rn
            last = rows[-1][i] if len(rows[-1]) > i else None
            cut = len(rows)
            while cut > 0 and len(rows[cut - 1]) > i and rows[cut - 1][i] == last and last:
                cut -= 1
            if cut == 0:  # one order fills the whole batch: keep growing it
                carry, carry_rn = rows, first_rn
                continue
            carry, carry_rn = rows[cut:], first_rn + cut
            yield first_rn, rows[:cut]
        if carry:
            yield carry_rn, carry

    # --- one batch ------------------------------------------------------------------------------

    def _batch(self, first_rn: int, rows: list[list[str]]) -> None:
        width = self.width
        uniform = bool(rows) and min(map(len, rows)) == width == max(map(len, rows))
        if not uniform:
            rows = [r if len(r) >= width else (self.padded(r) or []) for r in rows]
        with bulk.timed("look up customers"):
            self._resolve_customers(rows)
        if self.had_numbers:
            with bulk.timed("look up order numbers"):
                self._resolve_numbers(rows)
        if uniform and orders_fast.ENABLED:
            with bulk.timed("check rows (by column)"):
                done = orders_fast.batch(self, first_rn, list(zip(*rows, strict=False)))
            if done is not None:
                self._write(*done)
                return
        with bulk.timed("check rows"):
            groups = self._groups(first_rn, rows)
        orders: list[tuple] = []
        lines: list[tuple] = []
        existing: list[Group] = []
        appended: list[Group] = []
        keep_rows = self.options.skip_invalid and self.i_num >= 0
        for g in groups:
            if keep_rows and g.number and not g.bad:
                self.order_rows.setdefault(g.number, []).extend(g.rns)
            if g.bad:
                self._skip(g)
            elif g.mode == NEW:
                amount = round(g.amount, 2)
                cost = round(g.cost, 2) if g.cost is not None else None
                orders.append(
                    (g.oid, g.number or None, g.iso, g.channel, g.state, amount, cost, g.note, g.cid)
                )
                lines.extend(g.lines)
                self._count(g, amount)
                if g.number:
                    self.seen[g.number] = (g.oid, g.cid, g.iso, g.channel, g.state)
            elif g.mode == APPEND:
                appended.append(g)
            else:
                existing.append(g)
        if existing:
            self._existing(existing)
        if appended:
            lines.extend(self._append(appended))
        self._write(orders, lines)

    def _write(self, orders: list[tuple], lines: list[tuple]) -> None:
        self.counts["lines"] += len(lines)
        if self.writing:
            (self.writer.insert if self.writer else bulk.insert)(
                "sales_order",
                ORDER_COLUMNS,
                orders,
                {"batch_id": self.batch_id, "created_at": self.now, "created_by_id": self.actor.pk},
            )
            (self.writer.insert if self.writer else bulk.insert)("sales_orderline", LINE_COLUMNS, lines)

    def _count(self, g: Group, amount: float) -> None:
        self.counts["orders_created"] += 1
        if amount < 0:
            self.counts["returns"] += 1
        elif amount == 0:
            self.counts["free_orders"] += 1
        self._months(g)

    def _months(self, g: Group) -> None:
        """Add the order's lines to the product months (cancelled orders count for nothing)."""
        if g.state == DeliveryState.CANCELLED:
            return
        month = g.iso[:8] + "01"
        pm = self.product_months
        for ln in g.lines:
            pid = ln[1]
            if pid is None:
                continue
            v = pm.get((pid, month))
            if v is None:
                pm[(pid, month)] = [ln[2], ln[4], ln[5] or 0.0, 1]
            else:
                v[0] += ln[2]
                v[1] += ln[4]
                v[2] += ln[5] or 0.0
                v[3] += 1

    def _skip(self, g: Group) -> None:
        """An order with an invalid line is not written; in --skip-invalid mode its other lines are
        reported as skipped (otherwise nothing is written anyway)."""
        if g.number:
            if g.number in self.seen and g.number not in self.poisoned:
                self.poisoned[g.number] = g.bad
            self.bad_numbers.setdefault(g.number, g.bad)
        if self.options.skip_invalid:
            message = _("Not imported: row %(row)s of the same order is invalid.") % {"row": g.bad}
            for rn in g.rns:
                if rn != g.bad and rn not in self.report.rows:
                    self.report.add(rn, self.column_of("order_number"), g.number, message)

    # --- customers ------------------------------------------------------------------------------

    def _resolve_customers(self, rows: list[list[str]]) -> None:
        if not self.had_keyed:
            return  # every key of the file is new to the database
        self.flush()
        i = self.i_key
        known, bad = self.customers, self.customer_errors
        keys = {k for k in {r[i].strip() for r in rows if r} if k not in known and k not in bad}
        keys.discard("")
        if not keys:
            return
        keys_list = sorted(keys)
        field = "name" if self.by_name else "code"
        found: dict[str, list[int]] = {}
        for j in range(0, len(keys_list), 500):
            chunk = keys_list[j : j + 500]
            for pk, key in Customer.objects.filter(**{f"{field}__in": chunk}).values_list("pk", field):
                found.setdefault(key, []).append(pk)
        allowed = self.changeable([ids[0] for ids in found.values() if len(ids) == 1])
        for key, ids in found.items():
            if len(ids) > 1:
                self.customer_errors[key] = _("Several customers have this name: add a customer code column.")
            elif ids[0] in allowed:
                self.customers[key] = ids[0]
            else:
                self.customer_errors[key] = _("This customer is not one you may change.")

    def _customer_miss(self, key: str, row: list[str], rn: int) -> int | None:
        """A customer key not (yet) known: an error, or a customer to create."""
        field = "customer_name" if self.by_name else "customer_code"
        if not key:
            self.error(rn, field, "", _("The customer is missing."))
            return None
        why = self.customer_errors.get(key)
        if why:
            self.error(rn, field, key, why)
            return None
        if not self.options.create_customers:
            if self.by_name:
                problem = _("No customer with this name (import with --create-customers to create it).")
            else:
                problem = _("No customer with this code (import with --create-customers to create it).")
            self.error(rn, field, key, problem)
            return None
        name = row[self.i_name].strip() if self.i_name >= 0 else key
        code = None if self.by_name else key
        if not name:
            self.error(rn, "customer_name", "", _("A new customer needs a name."))
            return None
        if len(name) > 200 or (code and len(code) > 64):
            self.error(rn, field, key, _("Too long."))
            return None
        owner = self.default_owner()
        if self.options.owner is None and "owner" in self.col and row[self.col["owner"]].strip():
            self.flush()
            found = self.owner_from(row[self.col["owner"]])
            if isinstance(found, str):
                self.error(rn, "owner", row[self.col["owner"]], found)
                return None
            owner = found
        cid = self.customer_ids.take()
        self.new_customers.append((cid, code, name, owner.pk, owner.department_id, owner.team_id))
        self.customers[key] = cid
        return cid

    # --- products -------------------------------------------------------------------------------

    def _product_miss(self, code: str, name: str, row: list[str], rn: int) -> int | None:
        if code and code in self.products_by_code:
            return self.products_by_code[code]
        if not code and name in self.products_by_name:
            return self.products_by_name[name]
        self.flush()
        product = None
        if code:
            product = Product.objects.filter(code=code).first()
        if product is None and name:
            product = Product.objects.filter(name=name).first()
            if product is not None and code and product.code and product.code != code:
                self.error(
                    rn,
                    "product_code",
                    code,
                    _("The product %(name)s has the code %(code)s.") % {"name": name, "code": product.code},
                )
                return None
        if product is None:
            name = name or code
            if len(name) > 200 or len(code) > 64:
                self.error(rn, "product", name, _("Too long."))
                return None
            category = self._category(row)
            product = Product(code=code or None, name=name, category_id=category)
            if self.writing:
                product.save()
            else:  # nothing will be written: a stand-in id
                product.pk = -(len(self.product_cost) + 1)
            self.counts["products_created"] += 1
        self.product_cost[product.pk] = float(product.unit_cost) if product.unit_cost is not None else None
        if code:
            self.products_by_code[code] = product.pk
        if name:
            self.products_by_name[name] = product.pk
        return product.pk

    def _category(self, row: list[str]) -> int | None:
        i = self.col.get("category")
        name = row[i].strip()[:100] if i is not None else ""
        if not name:
            return None
        if name not in self.categories:
            cat = ProductCategory.objects.filter(name=name).first()
            if cat is None and self.writing:
                cat = ProductCategory.objects.create(name=name)
            self.categories[name] = cat.pk if cat else None
        return self.categories[name]

    # --- order numbers already in the database --------------------------------------------------

    def _resolve_numbers(self, rows: list[list[str]]) -> None:
        self.flush()
        i = self.i_num
        seen, existing = self.seen, self.existing
        numbers = {n for n in {r[i].strip() for r in rows if r} if n not in seen and n not in existing}
        numbers.discard("")
        numbers = sorted(numbers)
        for j in range(0, len(numbers), 500):
            for pk, number, customer_id in Order.objects.filter(number__in=numbers[j : j + 500]).values_list(
                "pk", "number", "customer_id"
            ):
                self.existing[number] = (pk, customer_id)

    # --- rows → orders --------------------------------------------------------------------------

    def _groups(self, first_rn: int, rows: list[list[str]]) -> list[Group]:
        col = self.col
        i_num, i_key = self.i_num, self.i_key
        i_date = col["order_date"]
        i_amt = col.get("amount", -1)
        i_qty = col.get("quantity", -1)
        i_price = col.get("unit_price", -1)
        i_cost = col.get("cost", -1)
        i_prod = col.get("product", -1)
        i_pcode = col.get("product_code", -1)
        i_chan = col.get("channel", -1)
        i_state = col.get("delivery_state", -1)
        i_gift = col.get("gift", -1)
        i_note = col.get("note", -1)
        customers, dates = self.customers, self.dates
        by_code, by_name, unit_cost = self.products_by_code, self.products_by_name, self.product_cost
        channel_cache, state_cache = self.channel_cache, self.state_cache
        seen, existing, bad_numbers = self.seen, self.existing, self.bad_numbers
        error = self.error
        groups: dict[object, Group] = {}
        out: list[Group] = []
        limit = MONEY_LIMIT
        for rn, row in enumerate(rows, first_rn):
            if not row:
                continue  # blank
            if not row[i_date] and not "".join(row).strip():
                continue  # blank too
            number = row[i_num].strip() if i_num >= 0 else ""
            g = groups.get(number) if number else None
            key = row[i_key].strip()
            rawdate = row[i_date]
            rawchan = row[i_chan].strip() if i_chan >= 0 else ""
            rawstate = row[i_state].strip() if i_state >= 0 else ""
            if g is None:
                # --- the order's header, from its first line
                if number and len(number) > 64:
                    error(rn, "order_number", number, _("Too long (at most 64 characters)."))
                    number = ""
                if number in seen:
                    g = Group(number, seen[number][0], APPEND)
                elif number in existing:
                    g = Group(number, existing[number][0], EXISTING)
                else:
                    g = Group(number, self.order_ids.take(), NEW)
                if number:
                    groups[number] = g
                out.append(g)
                g.key, g.rawdate, g.rawchan, g.rawstate = key, rawdate, rawchan, rawstate
                if number in bad_numbers:
                    g.bad = bad_numbers[number]
                cid = customers.get(key)
                if cid is None:
                    cid = self._customer_miss(key, row, rn)
                    if cid is None:
                        g.bad = g.bad or rn
                g.cid = cid
                d = dates[rawdate]
                if d.__class__ is tuple:
                    g.iso = d[0]
                else:
                    error(rn, "order_date", rawdate, d)
                    g.bad = g.bad or rn
                ch = channel_cache.get(rawchan)
                if ch is None:
                    ch = self._choice(rawchan, self.channels, channel_cache)
                    if ch is None:
                        error(
                            rn,
                            "channel",
                            rawchan,
                            _("Not one of the channels: %(list)s.")
                            % {"list": ", ".join(str(label) for _v, label in Channel.choices)},
                        )
                        g.bad = g.bad or rn
                g.channel = ch
                st = state_cache.get(rawstate)
                if st is None:
                    st = self._choice(rawstate, self.states, state_cache)
                    if st is None:
                        error(rn, "delivery_state", rawstate, _("Not one of the delivery states."))
                        g.bad = g.bad or rn
                g.state = st
                if i_note >= 0:
                    g.note = row[i_note].strip()
            elif key != g.key or rawdate != g.rawdate or rawchan != g.rawchan or rawstate != g.rawstate:
                field, value = (
                    ("customer_code" if not self.by_name else "customer_name", key)
                    if key != g.key
                    else ("order_date", rawdate)
                    if rawdate != g.rawdate
                    else ("channel", rawchan)
                    if rawchan != g.rawchan
                    else ("delivery_state", rawstate)
                )
                error(
                    rn,
                    field,
                    value,
                    _("The lines of order %(number)s disagree (see row %(row)s).")
                    % {"number": number, "row": g.rns[0]},
                )
                g.bad = g.bad or rn
            g.rns.append(rn)
            # --- the line
            ok = True
            pid = None
            if i_pcode >= 0 or i_prod >= 0:
                pcode = row[i_pcode].strip() if i_pcode >= 0 else ""
                pname = row[i_prod].strip() if i_prod >= 0 else ""
                if pcode:
                    pid = by_code.get(pcode)
                elif pname:
                    pid = by_name.get(pname)
                if pid is None and (pcode or pname):
                    pid = self._product_miss(pcode, pname, row, rn)
                    ok = pid is not None
            # numbers: float() on the text; rounded only when it has more decimals than stored
            s = row[i_qty] if i_qty >= 0 else ""
            if s and s.isspace():  # blank
                s = ""
            if s:
                try:
                    qty = float(s)
                    if qty - qty or not -limit < qty < limit:
                        raise ValueError
                    dot = s.find(".")
                    if dot >= 0 and len(s) - dot > 4:
                        qty = round(qty, 3)
                except ValueError:
                    qty = self._number(s, rn, "quantity", 3)
                    if qty is None:
                        ok, qty = False, 1.0
            else:
                qty = 1.0
            price = None
            s = row[i_price] if i_price >= 0 else ""
            if s and s.isspace():  # blank
                s = ""
            if s:
                try:
                    price = float(s)
                    if price - price or not -limit < price < limit:
                        raise ValueError
                    dot = s.find(".")
                    if dot >= 0 and len(s) - dot > 3:
                        price = round(price, 2)
                except ValueError:
                    price = self._number(s, rn, "unit_price")
                    ok = ok and price is not None
            s = row[i_amt] if i_amt >= 0 else ""
            if s and s.isspace():  # blank
                s = ""
            if s:
                try:
                    amount = float(s)
                    if amount - amount or not -limit < amount < limit:
                        raise ValueError
                    dot = s.find(".")
                    if dot >= 0 and len(s) - dot > 3:
                        amount = round(amount, 2)
                except ValueError:
                    amount = self._number(s, rn, "amount")
                    if amount is None:
                        ok, amount = False, 0.0
            elif price is not None:
                amount = round(qty * price, 2)
            elif ok:
                error(
                    rn, "amount" if i_amt >= 0 else "unit_price", "", _("Give the amount or the unit price.")
                )
                ok, amount = False, 0.0
            else:
                amount = 0.0
            cost = None
            s = row[i_cost] if i_cost >= 0 else ""
            if s and s.isspace():  # blank
                s = ""
            if s:
                try:
                    cost = float(s)
                    if cost - cost or not -limit < cost < limit:
                        raise ValueError
                    dot = s.find(".")
                    if dot >= 0 and len(s) - dot > 3:
                        cost = round(cost, 2)
                except ValueError:
                    cost = self._number(s, rn, "cost")
                    ok = ok and cost is not None
            elif pid is not None and unit_cost.get(pid) is not None:
                cost = round(unit_cost[pid] * abs(qty), 2)
                if amount < 0:
                    cost = -cost  # a return gives the goods back
            gift = row[i_gift].strip() if i_gift >= 0 else ""
            if len(gift) > 200:
                error(rn, "gift", gift, _("Too long (at most 200 characters)."))
                ok = False
            if not ok:
                g.bad = g.bad or rn
                continue
            g.lines.append((g.oid, pid, qty, price, amount, cost, gift))
            g.amount += amount
            if cost is not None:
                g.cost = (g.cost or 0.0) + cost
        return out

    def _number(self, text: str, rn: int, field: str, places: int = 2) -> float | None:
        try:
            x = parse_number(text)
        except Invalid as e:
            self.error(rn, field, text, e)
            return None
        return round(x, places)

    @staticmethod
    def _choice(text: str, index: dict, cache: dict) -> str | None:
        try:
            value = parse_choice(text, index)
        except Invalid:
            return None
        cache[text] = value
        return value

    # --- orders met before ----------------------------------------------------------------------

    def _append(self, groups: list[Group]) -> list[tuple]:
        """Lines of an order this import created earlier (its number came back later in the file)."""
        self.flush()
        lines: list[tuple] = []
        for g in groups:
            if (g.oid, g.cid, g.iso, g.channel, g.state) != self.seen[g.number]:
                self._disagree(g)
                continue
            lines.extend(g.lines)
            self._months(g)
            if not self.writing:
                continue
            totals = self.totals.get(g.oid)
            if totals is None:
                amount, cost = Order.objects.filter(pk=g.oid).values_list("amount", "cost").get()
                totals = self.totals[g.oid] = [float(amount), float(cost) if cost is not None else None]
            totals[0] = round(totals[0] + g.amount, 2)
            if g.cost is not None:
                totals[1] = round((totals[1] or 0.0) + g.cost, 2)
            bulk.execute("UPDATE sales_order SET amount = %s, cost = %s WHERE id = %s", [*totals, g.oid])
        return lines

    def _disagree(self, g: Group) -> None:
        self.error(
            g.rns[0],
            "order_number",
            g.number,
            _("The lines of order %(number)s disagree with its earlier lines.") % {"number": g.number},
        )
        g.bad = g.rns[0]
        self._skip(g)

    def _existing(self, groups: list[Group]) -> None:
        """Orders whose number was in the database before the import. Their lines in the file are
        matched against the stored ones; at the end (when all of an order's lines have been read)
        the order is left alone when the file says exactly the same — so importing a file twice
        changes nothing — else brought to the file's version in place: same id, the header
        updated, stored lines the file no longer has deleted, new ones added."""
        self.flush()
        todo = [g.oid for g in groups if g.number not in self.old]
        if todo:
            self._load_old(todo)
        for g in groups:
            old = self.old[g.number]
            if old.locked:
                self.error(
                    g.rns[0],
                    "order_number",
                    g.number,
                    _("An order with this number belongs to a customer you may not change."),
                )
                g.bad = g.rns[0]
                self._skip(g)
                continue
            head = (g.cid, g.iso, g.channel, g.state, g.note)
            if old.head is None:
                old.head = head
            elif old.head != head[:4] + (old.head[4],):
                self._disagree(g)
                continue
            for ln in g.lines:
                ids = old.remaining.get(_line_key(ln))
                if ids:
                    ids.pop()
                else:
                    old.inserts.append(ln)
            old.amount += g.amount
            if g.cost is not None:
                old.cost = (old.cost or 0.0) + g.cost

    def _load_old(self, ids: list[int]) -> None:
        orders = Order.objects.filter(pk__in=ids).values_list(
            "pk", "number", "customer_id", "order_date", "channel", "delivery_state", "amount", "cost", "note"
        )
        by_id: dict[int, Old] = {}
        for pk, number, cid, day, channel, state, amount, cost, note in orders:
            old = Old(pk, cid, (cid, day.isoformat(), channel, state, _f(amount), _f(cost), note))
            self.old[number] = by_id[pk] = old
        for lid, oid, *rest in OrderLine.objects.filter(order_id__in=ids).values_list(
            "pk", "order_id", "product_id", "quantity", "unit_price", "amount", "cost", "gift"
        ):
            by_id[oid].remaining.setdefault(_line_key((oid, *rest)), []).append(lid)
            if rest[0]:
                by_id[oid].products.add(rest[0])
        allowed = self.changeable(sorted({o.cid for o in by_id.values()}))
        for o in by_id.values():
            o.locked = o.cid not in allowed

    def _finish_old(self) -> None:
        """Bring the orders that were in the database before to the file's version (see _existing)."""
        inserts: list[tuple] = []
        for number, old in self.old.items():
            if old.locked or old.head is None:
                continue
            if number in self.bad_numbers:
                self._report_rows(number, self.bad_numbers[number])
                continue
            leftover = [i for ids in old.remaining.values() for i in ids]
            amount = round(old.amount, 2)
            cost = round(old.cost, 2) if old.cost is not None else None
            head = old.head[:4] + (amount, cost, old.head[4])
            if not leftover and not old.inserts and head == old.db_head:
                self.counts["orders_unchanged"] += 1
                continue
            self.counts["orders_replaced"] += 1
            self.extra_customers.add(old.cid)
            self.products_touched |= old.products | {ln[1] for ln in old.inserts if ln[1]}
            inserts.extend(old.inserts)
            if not self.writing:
                continue
            bulk.execute(
                "UPDATE sales_order SET customer_id = %s, order_date = %s, channel = %s, "
                "delivery_state = %s, amount = %s, cost = %s, note = %s, batch_id = %s WHERE id = %s",
                [*head, self.batch_id, old.oid],
            )
            for i in range(0, len(leftover), 500):
                chunk = leftover[i : i + 500]
                bulk.execute(
                    f"DELETE FROM sales_orderline WHERE id IN ({', '.join(['%s'] * len(chunk))})", chunk
                )
        self.counts["lines"] += len(inserts)
        if self.writing:
            bulk.insert("sales_orderline", LINE_COLUMNS, inserts)

    # --- the end --------------------------------------------------------------------------------

    def _finish(self) -> None:
        self._finish_old()
        if self.poisoned and self.writing:
            self._unwrite_poisoned()
        self.counts["customers_created"] = len(self.new_customers)
        if not self.writing:
            return
        if self.suspended:
            with bulk.timed("build the orders' customer indexes"):
                bulk.restore_indexes(self.suspended)
        if self.new_customers:
            self._create_customers()
        self.order_ids.finish()
        if self.customer_ids is not None:
            self.customer_ids.finish()
        # the derived purchase tables, set-based
        with bulk.timed("derive purchase days, summaries, monthly revenue"):
            if not self.had_orders:
                summary.refresh(None)
            else:
                summary.refresh(batch_id=self.batch_id)
                if self.extra_customers:
                    summary.refresh(sorted(self.extra_customers))
        with bulk.timed("derive product months"):
            self._product_months()

    def _product_months(self) -> None:
        """What the import's lines add to each product's months, added to the table; the products
        of changed or withdrawn orders are recomputed from their lines instead."""
        full = self.products_touched
        rows = [
            (pid, month, round(q, 3), round(r, 2), round(c, 2), n)
            for (pid, month), (q, r, c, n) in self.product_months.items()
            if pid not in full
        ]
        summary.add_to_product_months(rows)
        if full:
            summary.refresh_products(sorted(full))

    def _unwrite_poisoned(self) -> None:
        """--skip-invalid, and a line of an order this import created came out invalid after the
        order's first lines were written: take the order out again."""
        for number, row in self.poisoned.items():
            oid = self.seen[number][0]
            self.products_touched |= set(
                OrderLine.objects.filter(order_id=oid, product_id__isnull=False).values_list(
                    "product_id", flat=True
                )
            )
            bulk.execute("DELETE FROM sales_orderline WHERE order_id = %s", [oid])
            bulk.execute("DELETE FROM sales_order WHERE id = %s", [oid])
            self.counts["orders_created"] -= 1
            self._report_rows(number, row)

    def _report_rows(self, number: str, row: int) -> None:
        """--skip-invalid: the rows of an order read in earlier batches, not imported after all."""
        message = _("Not imported: row %(row)s of the same order is invalid.") % {"row": row}
        for rn in self.order_rows.get(number, ()):
            if rn not in self.report.rows:
                self.report.add(rn, self.column_of("order_number"), number, message)

    def _create_customers(self) -> None:
        """The customers the file named and the database did not have: inserted in bulk (in name
        order, which keeps the name indexes' inserts at their ends), with their audit-trail record
        and classification history, and their search terms (now, or by a follow-up job)."""
        rows = self.new_customers
        suspended: list = []
        if bulk.vendor() == "sqlite" and len(rows) >= CUSTOMERS_BULK_LOAD:
            have = bulk.fetchall("SELECT COUNT(*) FROM customers_customer")[0][0]
            if len(rows) >= have:
                with bulk.timed("drop the customers' indexes"):
                    suspended = bulk.suspend_indexes("customers_customer")
                    suspended += bulk.suspend_indexes(Customer.history.model._meta.db_table)
        if not suspended:
            rows = sorted(rows, key=lambda r: r[2])
        constants = customer_defaults(self.now)
        bulk.insert(
            "customers_customer",
            ("id", "code", "name", "owner_id", "department_id", "team_id"),
            rows,
            constants,
        )
        ids = [r[0] for r in self.new_customers]
        lo, hi = min(ids), max(ids)
        reason = _("Created by import")[:100]
        with bulk.timed("customers' history"):
            write_created_history(lo, hi, self.actor.pk, self.now, reason)
        if suspended:
            with bulk.timed("build the customers' indexes"):
                bulk.restore_indexes(suspended)
        self._search_terms(rows, lo, hi)

    def _search_terms(self, rows: list[tuple], lo: int, hi: int) -> None:
        """The search terms of the customers created (ids lo…hi): now, or for many of them by a
        follow-up job."""
        if len(rows) <= SEARCH_TERMS_INLINE:
            with bulk.timed("customers' search terms"):
                write_search_terms([(r[0], r[2]) for r in rows])
        else:
            self.search_ids = [lo, hi]
            self.search_deferred = True


def _f(value) -> float | None:
    return round(float(value), 2) if value is not None else None


def _line_key(ln: tuple) -> tuple:
    _oid, pid, qty, price, amount, cost, gift = ln
    return (
        pid or 0,
        round(float(qty), 3),
        -1e18 if price is None else round(float(price), 2),
        round(float(amount), 2),
        -1e18 if cost is None else round(float(cost), 2),
        gift or "",
    )


# --- customers created in bulk (shared with the customers import) ---------------------------------


def customer_defaults(now) -> dict[str, object]:
    """Every NOT NULL column of a customer that a bulk insert does not give, with its default; an
    imported customer with orders has signed (签约)."""
    given = {"id", "code", "name", "owner", "department", "team"}
    out: dict[str, object] = {}
    for f in Customer._meta.concrete_fields:
        if f.name in given:
            continue
        if f.name in ("created_at", "updated_at"):
            out[f.column] = now
            continue
        if f.name == "lifecycle_stage":
            out[f.column] = "signed"
            continue
        default = f.get_default()
        if default is None and f.null:
            continue
        out[f.column] = default
    return out


def write_created_history(lo: int, hi: int, user_id: int, now, reason: str) -> None:
    """The audit-trail ("+") records and the lifecycle-stage history of customers lo…hi, just
    inserted in bulk, copied from their rows by the database itself."""
    bulk.execute(*history_statement(lo, hi, user_id, now, reason))
    bulk.execute(*classification_statement(lo, hi, user_id, now, reason))


def history_statement(lo: int, hi: int, user_id: int, now, reason: str) -> tuple[str, list]:
    """The audit-trail ("+") records of customers lo…hi (SQL with %s marks, parameters)."""
    history = Customer.history.model
    cols = [f.column for f in history._meta.concrete_fields if not f.name.startswith("history_")]
    return (
        f"INSERT INTO {history._meta.db_table} ({', '.join(cols)}, history_date, history_change_reason, "
        f"history_type, history_user_id) SELECT {', '.join(cols)}, %s, %s, '+', %s FROM customers_customer "
        f"WHERE id BETWEEN %s AND %s",
        [now, reason, user_id, lo, hi],
    )


def classification_statement(lo: int, hi: int, user_id: int, now, reason: str) -> tuple[str, list]:
    """The lifecycle-stage history of customers lo…hi (SQL with %s marks, parameters)."""
    return (
        "INSERT INTO customers_classificationchange (customer_id, field, old_value, new_value, "
        "changed_by_id, changed_at, reason) SELECT id, 'lifecycle_stage', '', lifecycle_stage, %s, %s, %s "
        "FROM customers_customer WHERE id BETWEEN %s AND %s",
        [user_id, now, reason, lo, hi],
    )


def write_search_terms(customers: list[tuple[int, str]]) -> int:
    """Search terms of customers created in bulk with only a name (``search.customer_terms``)."""
    rows: list[tuple[str, str, int]] = []
    for pk, name in customers:
        obj = SimpleNamespace(
            name=name, short_name="", phone="", phone_alt="", fax="", email="", credit_code=None
        )
        rows.extend((t, search.KIND_CUSTOMER, pk) for t in search.customer_terms(obj))
        if len(rows) > 50_000:
            search.bulk_insert(rows)
            rows = []
    search.bulk_insert(rows)
    return len(customers)
