"""Keeps the derived purchase tables (PurchaseDay, PurchaseSummary, ProductMonth and the monthly
RevenueFigure of the customer card) equal to what the orders say.

Every write path calls ``refresh`` for the customers (and ``refresh_products`` for the products) it
touched, inside its own transaction; an order entered, cancelled or deleted by hand changes its
products' months by its own lines (``add_order_to_products``) instead, as a popular product has
hundreds of thousands of lines to reread. The statements are set-based SQL that runs on SQLite and
PostgreSQL alike, so a bulk import refreshes a million customers with a handful of statements, and
a single order refreshes one customer with the same code. The invariant (tested): after any write,
the derived tables equal a full ``refresh(None)``.

Conventions (those of BG/NBD): purchases on the same day are one purchase; cancelled orders are
ignored; an order with a negative amount is a return — it lowers revenue but is not a purchase; an
order of amount 0 is a (free) purchase.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.db import connection, transaction

_CHUNK = 500


def _day_sql(col: str) -> str:
    if connection.vendor == "postgresql":
        return f"({col} - DATE '1970-01-01')"
    return f"CAST(julianday({col}) - 2440587.5 AS INTEGER)"


def _month_sql(col: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST(date_trunc('month', {col}) AS date)"
    return f"date({col}, 'start of month')"


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]


def refresh(customer_ids: Iterable[int] | None = None, *, batch_id: int | None = None) -> None:
    """Rebuild the purchase days, summaries and monthly revenue figures of these customers (all
    customers with ``None`` and no ``batch_id``; those with orders in an import batch with
    ``batch_id``)."""
    with transaction.atomic(), connection.cursor() as cur:
        if batch_id is not None:
            cond = "customer_id IN (SELECT DISTINCT customer_id FROM sales_order WHERE batch_id = %s)"
            _refresh(cur, cond, [batch_id])
        elif customer_ids is None:
            _refresh(cur, "1 = 1", [])
        else:
            ids = sorted({int(i) for i in customer_ids})
            for chunk in _chunks(ids):
                cond = "customer_id IN (" + ",".join(["%s"] * len(chunk)) + ")"
                _refresh(cur, cond, list(chunk))


def _refresh(cur, cond: str, params: list) -> None:
    day = _day_sql("order_date")
    month = _month_sql("order_date")
    # all customers (SQLite): the orders read in table order and grouped by a sort, not through
    # the customer index, which would fetch each order from a different place of the table
    orders = "sales_order NOT INDEXED" if cond == "1 = 1" and connection.vendor == "sqlite" else "sales_order"
    cur.execute(f"DELETE FROM sales_purchaseday WHERE {cond}", params)
    cur.execute(
        f"""INSERT INTO sales_purchaseday (customer_id, day, amount, cost, returns, orders)
        SELECT customer_id, {day},
               SUM(CASE WHEN amount >= 0 THEN amount ELSE 0 END),
               SUM(COALESCE(cost, 0)),
               SUM(CASE WHEN amount < 0 THEN amount ELSE 0 END),
               SUM(CASE WHEN amount >= 0 THEN 1 ELSE 0 END)
        FROM {orders}
        WHERE {cond} AND delivery_state <> 'cancelled'
        GROUP BY customer_id, order_date""",
        params,
    )
    # the card's revenue by month (C1) comes from the orders once a customer has any (or had: a
    # customer whose last order went keeps no figures made from it); figures of customers who
    # never ordered were set by hand and stay
    cur.execute(
        f"""DELETE FROM customers_revenuefigure
        WHERE {cond} AND (customer_id IN (SELECT customer_id FROM sales_purchasesummary)
                          OR customer_id IN (SELECT customer_id FROM sales_order))""",
        params,
    )
    cur.execute(f"DELETE FROM sales_purchasesummary WHERE {cond}", params)
    cur.execute(
        f"""INSERT INTO sales_purchasesummary
            (customer_id, first_day, last_day, purchase_days, orders, gross, returns, cost,
             first_day_amount, updated_at)
        SELECT p.customer_id,
               MIN(CASE WHEN p.orders > 0 THEN p.day END),
               MAX(CASE WHEN p.orders > 0 THEN p.day END),
               SUM(CASE WHEN p.orders > 0 THEN 1 ELSE 0 END),
               SUM(p.orders), SUM(p.amount), SUM(p.returns), SUM(p.cost),
               COALESCE((SELECT f.amount FROM sales_purchaseday f
                         WHERE f.customer_id = p.customer_id AND f.orders > 0
                         ORDER BY f.day LIMIT 1), 0),
               CURRENT_TIMESTAMP
        FROM sales_purchaseday p
        WHERE {cond.replace("customer_id", "p.customer_id", 1)}
        GROUP BY p.customer_id""",
        params,
    )
    cur.execute(
        f"""INSERT INTO customers_revenuefigure (customer_id, period_start, revenue, updated_at)
        SELECT customer_id, {month}, SUM(amount), CURRENT_TIMESTAMP
        FROM {orders}
        WHERE {cond} AND delivery_state <> 'cancelled'
        GROUP BY customer_id, {month}""",
        params,
    )


def refresh_products(product_ids: Iterable[int] | None = None) -> None:
    """Rebuild the monthly sales of these products (all with ``None``)."""
    month = _month_sql("o.order_date")
    with transaction.atomic(), connection.cursor() as cur:
        if product_ids is None:
            groups: list[tuple[str, list]] = [("product_id IS NOT NULL", [])]
        else:
            ids = sorted({int(i) for i in product_ids if i is not None})
            groups = [("product_id IN (" + ",".join(["%s"] * len(c)) + ")", list(c)) for c in _chunks(ids)]
        for cond, params in groups:
            cur.execute(f"DELETE FROM sales_productmonth WHERE {cond}", params)
            cur.execute(
                f"""INSERT INTO sales_productmonth (product_id, month, quantity, revenue, cost, lines)
                SELECT l.product_id, {month}, SUM(l.quantity), SUM(l.amount), SUM(COALESCE(l.cost, 0)),
                       COUNT(*)
                FROM sales_orderline l JOIN sales_order o ON o.id = l.order_id
                WHERE {cond.replace("product_id", "l.product_id", 1)} AND o.delivery_state <> 'cancelled'
                GROUP BY l.product_id, {month}""",
                params,
            )


def add_order_to_products(order_date: datetime.date, lines: Iterable, sign: int) -> None:
    """Add (``sign`` 1) or take away (-1) the lines of one order dated ``order_date`` in their
    products' monthly figures: the same figures ``refresh_products`` gives, without rereading the
    products' other lines. A month left without lines goes, as a rebuild would not write it. The
    caller decides whether the order counts (a cancelled one does not) and holds the transaction."""
    if sign not in (1, -1):
        raise ValueError("sign must be 1 or -1")
    per: dict[int, list] = {}
    for ln in lines:
        if ln.product_id is None:
            continue
        t = per.setdefault(ln.product_id, [Decimal(0), Decimal(0), Decimal(0), 0])
        t[0] += Decimal(ln.quantity)
        t[1] += Decimal(ln.amount)
        t[2] += Decimal(ln.cost or 0)
        t[3] += 1
    if not per:
        return
    month = order_date.replace(day=1)
    ids = sorted(per)  # always the same order of rows, so that two writers wait instead of deadlocking
    add_to_product_months([(pid, month, *(sign * x for x in per[pid])) for pid in ids])
    if sign < 0:
        with connection.cursor() as cur:
            cur.execute(
                "DELETE FROM sales_productmonth WHERE month = %s AND lines <= 0 AND product_id IN ("
                + ",".join(["%s"] * len(ids))
                + ")",
                [month, *ids],
            )


def add_to_product_months(rows: Sequence[tuple]) -> None:
    """Add ``(product_id, month, quantity, revenue, cost, lines)`` to the products' monthly figures
    (a row is created where there is none)."""
    with connection.cursor() as cur:
        for i in range(0, len(rows), 5000):
            cur.executemany(
                """INSERT INTO sales_productmonth (product_id, month, quantity, revenue, cost, lines)
                VALUES (%s, %s, %s, %s, %s, %s)
                ON CONFLICT (product_id, month) DO UPDATE SET
                    quantity = sales_productmonth.quantity + excluded.quantity,
                    revenue = sales_productmonth.revenue + excluded.revenue,
                    cost = sales_productmonth.cost + excluded.cost,
                    lines = sales_productmonth.lines + excluded.lines""",
                rows[i : i + 5000],
            )
