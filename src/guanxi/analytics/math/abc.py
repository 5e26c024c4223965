"""ABC classification of customers by value (ABC分类): the few customers who make most of the sales.

Customers are ranked by value (revenue or profit in the period), largest first, and each one's
cumulative share of the positive total is accumulated down the ranking. A customer is class A
while the share of the customers ranked *before* them is still below the first threshold, so A is
the smallest head of the ranking whose share reaches it (and the top customer is always A); B the
same up to the second threshold; everyone else is C. Customers with no positive value are C: a
refund-heavy or inactive customer makes no part of the sales the classes divide up.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["PARETO_DEFAULT", "SEED_PRESET_70", "abc_classes"]

# The usual Pareto split: A ≈ 80 % of sales, B the next 15 %, C the last 5 %.
PARETO_DEFAULT: tuple[float, float] = (0.80, 0.95)
# The seed companies' house rule: A customers make 70 % of sales, B the next 20 %.
SEED_PRESET_70: tuple[float, float] = (0.70, 0.90)


def abc_classes(
    values: ArrayLike, thresholds: tuple[float, float] = PARETO_DEFAULT
) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    """Classify by value. Returns ``(classes, rank, share, cumulative_share)``, aligned with input.

    * ``classes``: 'A', 'B' or 'C' (dtype ``<U1``);
    * ``rank``: 1..n by value, largest first; equal values keep input order (deterministic);
    * ``share``: the customer's positive value over the positive total (0 when not positive);
    * ``cumulative_share``: the share of this customer and everyone ranked before them.

    NaN counts as 0. When no value is positive, everyone is C with shares 0.
    """
    t1, t2 = (float(t) for t in thresholds)
    if not (0.0 < t1 <= t2 <= 1.0):
        raise ValueError("thresholds must satisfy 0 < first <= second <= 1 (cumulative shares).")
    v = np.asarray(values, dtype=float).reshape(-1)
    v = np.where(np.isnan(v), 0.0, v)
    if np.any(np.isinf(v)):
        raise ValueError("values must be finite numbers.")
    n = len(v)
    # Descending by value, ties by index: lexsort sorts by the last key first and is stable.
    order = np.lexsort((np.arange(n), -v))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(1, n + 1)
    positive = np.maximum(v, 0.0)
    total = float(positive.sum())
    classes = np.full(n, "C", dtype="<U1")
    if total <= 0.0:
        return classes, rank, np.zeros(n), np.zeros(n)
    share = positive / total
    cum_sorted = np.cumsum(share[order])
    before_sorted = np.concatenate(([0.0], cum_sorted[:-1]))
    cumulative = np.empty(n)
    cumulative[order] = cum_sorted
    before = np.empty(n)
    before[order] = before_sorted
    pos = v > 0
    classes[pos & (before < t2)] = "B"
    classes[pos & (before < t1)] = "A"
    return classes, rank, share, cumulative
