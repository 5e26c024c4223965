"""Churn early warning (流失预警): a 0..100 risk score and the reasons behind it.

The score is deliberately a transparent, additive rule rather than a trained model: an account
manager has to be able to read why a customer is flagged, and there are rarely enough labelled
churn cases in a mid-sized company to train one. Each signal has a strength between 0 and 1 and a
weight in points; the score is the weighted sum, clipped to 0..100. The default weights add up to
100, so a customer showing every signal at full strength scores 100.

| signal (code)          | strength                                          | reason flagged when         |
|------------------------|---------------------------------------------------|-----------------------------|
| low_p_alive            | 1 − P(alive) (BG/NBD)                             | P(alive) < 0.5              |
| overdue_rhythm         | (days since last / own mean interval − 1) / 2     | ratio > 1.5 (≥ 2 purchase   |
|                        | clipped to 0..1 (1 at three intervals)            | days, so an interval exists)|
| falling_revenue        | 1 − recent / previous, clipped to 0..1            | recent < 50 % of previous,  |
|                        |                                                   | previous > 0                |
| open_complaints        | open complaints / 2, at most 1                    | at least one open           |
| low_satisfaction       | 1 if the last satisfaction answer was low         | low                         |
| overdue_receivables    | 1 if an overdue amount is outstanding             | amount > 0                  |

NaN in any input means "unknown" and gives that signal strength 0 and no reason. The result is a
pure function of the inputs (no randomness, no ordering effects).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "DEFAULT_WEIGHTS",
    "LOW_P_ALIVE",
    "OVERDUE_RHYTHM_RATIO",
    "FALLING_REVENUE_RATIO",
    "REASONS",
    "churn_risk",
    "reason_codes",
]

# Bit i of the reasons mask is REASONS[i]; append new codes at the end (stored masks keep meaning).
REASONS: list[str] = [
    "low_p_alive",
    "overdue_rhythm",
    "falling_revenue",
    "open_complaints",
    "low_satisfaction",
    "overdue_receivables",
]

DEFAULT_WEIGHTS: dict[str, float] = {
    "low_p_alive": 40.0,
    "overdue_rhythm": 20.0,
    "falling_revenue": 15.0,
    "open_complaints": 10.0,
    "low_satisfaction": 10.0,
    "overdue_receivables": 5.0,
}

LOW_P_ALIVE = 0.5
OVERDUE_RHYTHM_RATIO = 1.5
FALLING_REVENUE_RATIO = 0.5


def _col(value: ArrayLike, n: int, name: str) -> NDArray:
    a = np.asarray(value, dtype=float)
    if a.ndim == 0:
        return np.full(n, float(a))
    a = a.reshape(-1)
    if len(a) != n:
        raise ValueError(f"{name} has {len(a)} values, expected {n}.")
    return a


def churn_risk(
    *,
    p_alive: ArrayLike,
    days_since_last: ArrayLike,
    mean_interpurchase_days: ArrayLike,
    revenue_recent: ArrayLike,
    revenue_previous: ArrayLike,
    open_complaints: ArrayLike,
    low_satisfaction: ArrayLike,
    overdue_receivables: ArrayLike,
    weights: Mapping[str, float] | None = None,
) -> tuple[NDArray, NDArray]:
    """Risk score (float, 0..100) and reasons bit mask (int64, bit i = ``REASONS[i]``) per customer.

    ``mean_interpurchase_days`` is the customer's own mean gap between purchase days, NaN for
    customers with fewer than two purchase days. ``revenue_recent``/``revenue_previous`` are the
    revenue of the latest window and of the window before it (same length). Scalars are spread
    to every customer. ``weights`` overrides some or all of ``DEFAULT_WEIGHTS`` (points, ≥ 0).
    """
    w = dict(DEFAULT_WEIGHTS)
    if weights:
        unknown = set(weights) - set(REASONS)
        if unknown:
            raise ValueError(f"unknown churn signals in weights: {sorted(unknown)}; known: {REASONS}")
        for k, val in weights.items():
            if not (np.isfinite(val) and val >= 0):
                raise ValueError(f"weight of {k} must be a finite number >= 0.")
            w[k] = float(val)

    sizes = [np.size(a) for a in (p_alive, days_since_last, mean_interpurchase_days, revenue_recent)]
    sizes += [np.size(a) for a in (revenue_previous, open_complaints, low_satisfaction, overdue_receivables)]
    n = max(sizes)
    pa = _col(p_alive, n, "p_alive")
    dsl = _col(days_since_last, n, "days_since_last")
    gap = _col(mean_interpurchase_days, n, "mean_interpurchase_days")
    rec = _col(revenue_recent, n, "revenue_recent")
    prev = _col(revenue_previous, n, "revenue_previous")
    compl = _col(open_complaints, n, "open_complaints")
    sat = _col(low_satisfaction, n, "low_satisfaction")
    owed = _col(overdue_receivables, n, "overdue_receivables")

    strength: dict[str, NDArray] = {}
    flag: dict[str, NDArray] = {}
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        known = np.isfinite(pa)
        strength["low_p_alive"] = np.where(known, 1.0 - np.clip(pa, 0.0, 1.0), 0.0)
        flag["low_p_alive"] = known & (pa < LOW_P_ALIVE)

        known = np.isfinite(dsl) & np.isfinite(gap) & (gap > 0)
        ratio = np.where(known, dsl / np.where(known, gap, 1.0), 0.0)
        strength["overdue_rhythm"] = np.clip((ratio - 1.0) / 2.0, 0.0, 1.0)
        flag["overdue_rhythm"] = known & (ratio > OVERDUE_RHYTHM_RATIO)

        known = np.isfinite(rec) & np.isfinite(prev) & (prev > 0)
        kept = np.where(known, rec / np.where(known, prev, 1.0), 1.0)
        strength["falling_revenue"] = np.clip(1.0 - kept, 0.0, 1.0)
        flag["falling_revenue"] = known & (kept < FALLING_REVENUE_RATIO)

        known = np.isfinite(compl) & (compl > 0)
        strength["open_complaints"] = np.where(known, np.minimum(np.where(known, compl, 0.0) / 2.0, 1.0), 0.0)
        flag["open_complaints"] = known

        known = np.isfinite(sat) & (sat != 0)
        strength["low_satisfaction"] = known.astype(float)
        flag["low_satisfaction"] = known

        known = np.isfinite(owed) & (owed > 0)
        strength["overdue_receivables"] = known.astype(float)
        flag["overdue_receivables"] = known

    score = np.zeros(n)
    mask = np.zeros(n, dtype=np.int64)
    for bit, code in enumerate(REASONS):
        score += w[code] * strength[code]
        mask |= flag[code].astype(np.int64) << bit
    return np.clip(score, 0.0, 100.0), mask


def reason_codes(mask: int | np.integer) -> list[str]:
    """The reason codes set in one bit mask, in ``REASONS`` order."""
    m = int(mask)
    return [code for bit, code in enumerate(REASONS) if m >> bit & 1]
