"""One columnar snapshot of the purchase history as of a date (numpy arrays, one row per buyer).

The common case (as of today, nothing dated later) reads the per-customer ``PurchaseSummary`` —
one row per customer — instead of the purchase days; an earlier as-of date (a back-test) reads the
purchase days up to it and summarises them with numpy. The windows the period figures need (ABC
over the period, the churn score's recent and previous revenue) come from the purchase days inside
them only. Plain DB-API cursors: no ORM objects per row.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np
from django.db import connection

from guanxi.sales.models import to_day

TREND_WINDOW = 90  # days: the churn score's "recent" window and the one before it


@dataclass
class Snapshot:
    as_of: datetime.date
    as_of_day: int
    customer_id: np.ndarray  # int64, sorted
    first_day: np.ndarray
    last_day: np.ndarray
    purchase_days: np.ndarray  # ≥ 1
    gross: np.ndarray  # purchases up to as-of (returns excluded)
    first_amount: np.ndarray
    period_revenue: np.ndarray  # revenue (returns netted) inside the ABC period
    period_profit: np.ndarray
    recent_revenue: np.ndarray  # last TREND_WINDOW days
    previous_revenue: np.ndarray  # the TREND_WINDOW days before those
    source: str  # "summary" or "purchase days"
    timings: dict

    @property
    def n(self) -> int:
        return int(self.customer_id.size)

    @property
    def x(self) -> np.ndarray:
        return self.purchase_days - 1

    @property
    def t_x(self) -> np.ndarray:
        return self.last_day - self.first_day

    @property
    def T(self) -> np.ndarray:
        return self.as_of_day - self.first_day

    @property
    def repeat_mean(self) -> np.ndarray:
        """Mean of the repeat (non-first) purchase-day amounts; NaN without repeats (Gamma-Gamma)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.x > 0, (self.gross - self.first_amount) / np.maximum(self.x, 1), np.nan)


def _fetch(sql: str, params: list, ncols: int, dtypes: list) -> list[np.ndarray]:
    """Columns of a query as arrays: the rows go through one structured ``np.fromiter`` (C speed)
    rather than a Python list per column. Decimal columns must be cast to a float in the SQL."""
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    record = np.dtype([(f"c{i}", dtypes[i]) for i in range(ncols)])
    table = np.fromiter(rows, dtype=record, count=len(rows))
    del rows
    return [np.ascontiguousarray(table[f"c{i}"]) for i in range(ncols)]


def read_history(a: int):
    """Per buyer as of day ``a``: ids (sorted), first and last purchase day, purchase days, gross,
    first day's amount; and where they came from."""
    with connection.cursor() as cur:
        cur.execute("SELECT MAX(last_day) FROM sales_purchasesummary")
        latest = cur.fetchone()[0]
    if latest is None or latest <= a:
        # T, t_x and the purchase days packed into one integer per row (each < 2**21, i.e. 5,700
        # years of days): fewer values for the driver to box and numpy to read
        cid, packed, gross, first_amt = _fetch(
            "SELECT customer_id, (%s - first_day) * 4398046511104 + (last_day - first_day) * 2097152 "
            "+ purchase_days, CAST(gross AS DOUBLE PRECISION), CAST(first_day_amount AS DOUBLE PRECISION) "
            "FROM sales_purchasesummary WHERE purchase_days > 0 ORDER BY customer_id",
            [a],
            4,
            [np.int64, np.int64, np.float64, np.float64],
        )
        mask = (1 << 21) - 1
        first = a - (packed >> 42)
        last = first + ((packed >> 21) & mask)
        return cid, first, last, packed & mask, gross, first_amt, "summary"
    pc, pd, pamt = _fetch(
        "SELECT customer_id, day, CAST(amount AS DOUBLE PRECISION) FROM sales_purchaseday "
        "WHERE day <= %s AND orders > 0",
        [a],
        3,
        [np.int64, np.int64, np.float64],
    )
    if not pc.size:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z, z, np.zeros(0), np.zeros(0), "purchase days"
    order = np.lexsort((pd, pc))
    pc, pd, pamt = pc[order], pd[order], pamt[order]
    starts = np.flatnonzero(np.r_[True, pc[1:] != pc[:-1]])
    ends = np.r_[starts[1:], pc.size]
    return (
        pc[starts], pd[starts], pd[ends - 1], (ends - starts).astype(np.int64),
        np.add.reduceat(pamt, starts), pamt[starts], "purchase days",
    )  # fmt: skip


def read_windows(a: int, period_days: int) -> dict[str, np.ndarray]:
    """Per customer with purchase days inside the windows the run needs (the ABC period and the
    two trend windows): revenue and profit in the period, revenue in the recent and the previous
    trend window. Aggregated here, so that what travels (see ``runs``) is one row per customer."""
    window = max(period_days, 2 * TREND_WINDOW)
    lo = a - window if period_days > 0 else -(10**9)
    wc, wd, wrev, wcost = _fetch(
        "SELECT customer_id, day, CAST(amount + returns AS DOUBLE PRECISION), CAST(cost AS DOUBLE PRECISION) "
        "FROM sales_purchaseday WHERE day > %s AND day <= %s",
        [lo, a],
        4,
        [np.int64, np.int64, np.float64, np.float64],
    )
    ids, idx = np.unique(wc, return_inverse=True)
    n = ids.size
    in_period = wd > (a - period_days) if period_days > 0 else np.ones(wd.size, dtype=bool)
    recent = wd > a - TREND_WINDOW
    previous = (wd > a - 2 * TREND_WINDOW) & ~recent

    def total(mask, weights):
        return np.bincount(idx[mask], weights=weights[mask], minlength=n)[:n]

    return {
        "customer_id": ids,
        "period_revenue": total(in_period, wrev),
        "period_profit": total(in_period, wrev - wcost),
        "recent_revenue": total(recent, wrev),
        "previous_revenue": total(previous, wrev),
    }


NO_WINDOWS = {
    k: np.zeros(0) for k in ("period_revenue", "period_profit", "recent_revenue", "previous_revenue")
}
NO_WINDOWS["customer_id"] = np.zeros(0, dtype=np.int64)


def build(as_of: datetime.date, history, windows: dict[str, np.ndarray], timings: dict) -> Snapshot:
    a = to_day(as_of)
    cid, first, last, days, gross, first_amt, source = history
    n = cid.size
    wid = windows["customer_id"]
    idx = np.searchsorted(cid, wid)
    ok = idx < n
    ok[ok] = cid[idx[ok]] == wid[ok]

    def spread(name):
        out = np.zeros(n)
        out[idx[ok]] = windows[name][ok]
        return out

    return Snapshot(
        as_of=as_of, as_of_day=a, customer_id=cid, first_day=first, last_day=last, purchase_days=days,
        gross=gross, first_amount=first_amt, period_revenue=spread("period_revenue"),
        period_profit=spread("period_profit"), recent_revenue=spread("recent_revenue"),
        previous_revenue=spread("previous_revenue"), source=source, timings=timings,
    )  # fmt: skip


def load(as_of: datetime.date, *, period_days: int = 365) -> Snapshot:
    """Everything in one thread (see ``runs`` for the overlapped version)."""
    import time

    timings: dict[str, float] = {}
    a = to_day(as_of)
    t = time.perf_counter()
    history = read_history(a)
    timings["read_history"] = time.perf_counter() - t
    t = time.perf_counter()
    windows = read_windows(a, period_days)
    timings["read_windows"] = time.perf_counter() - t
    return build(as_of, history, windows, timings)


def future_purchase_days(customer_id: np.ndarray, after: datetime.date, until: datetime.date) -> np.ndarray:
    """Per customer of ``customer_id`` (sorted), the purchase days in (after, until] — what happened
    after a back-test's as-of date."""
    fc, _d = _fetch(
        "SELECT customer_id, day FROM sales_purchaseday WHERE day > %s AND day <= %s AND orders > 0",
        [to_day(after), to_day(until)],
        2,
        [np.int64, np.int64],
    )
    idx = np.searchsorted(customer_id, fc)
    ok = idx < customer_id.size
    ok[ok] = customer_id[idx[ok]] == fc[ok]
    return np.bincount(idx[ok], minlength=customer_id.size)[: customer_id.size]
