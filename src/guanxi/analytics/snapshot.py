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
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    if not rows:
        return [np.zeros(0, dtype=d) for d in dtypes]
    cols = list(zip(*rows, strict=True))
    return [np.asarray(cols[i], dtype=dtypes[i]) for i in range(ncols)]


def load(as_of: datetime.date, *, period_days: int = 365) -> Snapshot:
    import time

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    a = to_day(as_of)
    with connection.cursor() as cur:
        cur.execute("SELECT MAX(last_day) FROM sales_purchasesummary")
        latest = cur.fetchone()[0]
    if latest is None or latest <= a:
        source = "summary"
        cid, first, last, days, gross, first_amt = _fetch(
            "SELECT customer_id, first_day, last_day, purchase_days, gross, first_day_amount "
            "FROM sales_purchasesummary WHERE purchase_days > 0 ORDER BY customer_id",
            [],
            6,
            [np.int64, np.int64, np.int64, np.int64, np.float64, np.float64],
        )
    else:
        source = "purchase days"
        pc, pd, pamt = _fetch(
            "SELECT customer_id, day, amount FROM sales_purchaseday WHERE day <= %s AND orders > 0",
            [a],
            3,
            [np.int64, np.int64, np.float64],
        )
        order = np.lexsort((pd, pc))
        pc, pd, pamt = pc[order], pd[order], pamt[order]
        starts = np.flatnonzero(np.r_[True, pc[1:] != pc[:-1]]) if pc.size else np.zeros(0, dtype=np.int64)
        ends = np.r_[starts[1:], pc.size] if pc.size else np.zeros(0, dtype=np.int64)
        cid = pc[starts] if pc.size else np.zeros(0, dtype=np.int64)
        first = pd[starts] if pc.size else np.zeros(0, dtype=np.int64)
        last = pd[ends - 1] if pc.size else np.zeros(0, dtype=np.int64)
        days = (ends - starts).astype(np.int64)
        gross = np.add.reduceat(pamt, starts) if pc.size else np.zeros(0)
        first_amt = pamt[starts] if pc.size else np.zeros(0)
    timings["read_history"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    window = max(period_days if period_days > 0 else 0, 2 * TREND_WINDOW)
    if period_days <= 0:
        lo = -(10**9)  # all history
    else:
        lo = a - window
    wc, wd, wrev, wcost = _fetch(
        "SELECT customer_id, day, amount + returns, cost FROM sales_purchaseday WHERE day > %s AND day <= %s",
        [lo, a],
        4,
        [np.int64, np.int64, np.float64, np.float64],
    )
    idx = np.searchsorted(cid, wc)
    ok = (idx < cid.size) & (cid[np.minimum(idx, max(cid.size - 1, 0))] == wc) if cid.size else wc < 0
    idx, wd, wrev, wcost = idx[ok], wd[ok], wrev[ok], wcost[ok]
    n = cid.size
    in_period = wd > (a - period_days) if period_days > 0 else np.ones(wd.size, dtype=bool)
    period_revenue = np.bincount(idx[in_period], weights=wrev[in_period], minlength=n)
    period_profit = np.bincount(idx[in_period], weights=(wrev - wcost)[in_period], minlength=n)
    recent = wd > a - TREND_WINDOW
    previous = (wd > a - 2 * TREND_WINDOW) & ~recent
    recent_revenue = np.bincount(idx[recent], weights=wrev[recent], minlength=n)
    previous_revenue = np.bincount(idx[previous], weights=wrev[previous], minlength=n)
    timings["read_windows"] = time.perf_counter() - t1
    return Snapshot(
        as_of=as_of,
        as_of_day=a,
        customer_id=cid,
        first_day=first,
        last_day=last,
        purchase_days=days,
        gross=gross,
        first_amount=first_amt,
        period_revenue=period_revenue[:n],
        period_profit=period_profit[:n],
        recent_revenue=recent_revenue[:n],
        previous_revenue=previous_revenue[:n],
        source=source,
        timings=timings,
    )


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
