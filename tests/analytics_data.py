"""Purchase histories simulated from BG/NBD + Gamma-Gamma and loaded as orders (for the analytics
tests): bulk-created customers and orders, then the derived tables rebuilt as every write path does."""

from __future__ import annotations

import datetime

import numpy as np

from guanxi.analytics.math import bgnbd, gammagamma
from guanxi.customers.models import Customer
from guanxi.sales import summary
from guanxi.sales.models import Order, from_day, to_day

TRUE_BG = {"r": 0.6, "alpha": 40.0, "a": 0.7, "b": 3.0}
TRUE_GG = {"p": 6.0, "q": 4.0, "v": 150.0}


def load_simulated(
    owner,
    n: int,
    *,
    as_of: datetime.date,
    span_days: int = 720,
    seed: int = 7,
    bg: dict | None = None,
    gg: dict | None = None,
    name_prefix: str = "模拟客户",
) -> list[int]:
    """``n`` customers of ``owner`` whose first purchases spread over ``span_days`` before
    ``as_of`` (and a few days after it, to check that nothing after the as-of date is used)."""
    bg, gg = bg or TRUE_BG, gg or TRUE_GG
    rng = np.random.default_rng(seed)
    a = to_day(as_of)
    first = a - rng.integers(1, span_days, size=n)
    days = bgnbd.simulate_purchase_days(n, bg["r"], bg["alpha"], bg["a"], bg["b"], first, a, rng)
    counts = np.diff(days.offsets)
    amounts = gammagamma.simulate_purchase_amounts(counts, gg["p"], gg["q"], gg["v"], rng)
    customers = Customer.objects.bulk_create(
        [
            Customer(
                name=f"{name_prefix}{i:05d}",
                owner=owner,
                department=owner.department,
                team=owner.team,
                lifecycle_stage="signed",
            )
            for i in range(n)
        ]  # fmt: skip
    )
    ids = [c.pk for c in customers]
    owner_of = days.owner() if hasattr(days, "owner") else np.repeat(np.arange(n), counts)
    orders = [
        Order(customer_id=ids[int(i)], order_date=from_day(int(d)), amount=round(float(m), 2))
        for i, d, m in zip(owner_of, days.values, amounts.values, strict=True)
    ]
    Order.objects.bulk_create(orders, batch_size=2000)
    summary.refresh(None)
    return ids
