"""RFM scores and the Chinese eight-segment RFM model (RFM客户细分).

Scores: recency, frequency and monetary value each get 1..``bins`` (5 = best: the most recent,
the most frequent, the highest spend), by rank among the customers scored. The score is
1 + ⌊bins · (share of customers strictly worse)⌋, so

* equal values always get equal scores (no arbitrary split of a tie across two quintiles),
* the worst value always scores 1 and the scores never go down as a value gets better,
* a value shared by many customers (the many one-time buyers) does not collapse the other bins,
  as quantile edges computed with ``np.quantile`` would.

Only buyers belong in the input (customers with at least one purchase); an unknown value (NaN)
scores 0, which no segment uses.

Segments: the eight-segment model used throughout Chinese CRM practice (重要价值客户 …
一般挽留客户) rather than the English eleven-segment grid (champions, at risk, …), because our
users know these names and because it is a transparent rule: each of R, F and M is "high" when the
customer's score is above the mean score of the customers analysed, and the 2×2×2 combinations
name the segments. M decides 重要 (important) versus 一般 (general); R and F decide 价值 (value:
recent and frequent), 发展 (develop: recent, not frequent), 保持 (keep: frequent, not recent) and
挽留 (win back: neither). Comparing scores rather than raw values keeps one huge account from
pushing the monetary mean above everybody else.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["SEGMENTS", "SEGMENT_LABELS", "rfm_scores", "rfm_segments"]

SEGMENTS: list[str] = [
    "important_value",  # R high, F high, M high
    "important_develop",  # R high, F low, M high
    "important_keep",  # R low, F high, M high
    "important_retain",  # R low, F low, M high
    "general_value",  # R high, F high, M low
    "general_develop",  # R high, F low, M low
    "general_keep",  # R low, F high, M low
    "general_retain",  # R low, F low, M low
]

SEGMENT_LABELS: dict[str, tuple[str, str]] = {
    "important_value": ("Key value customers", "重要价值客户"),
    "important_develop": ("Key customers to develop", "重要发展客户"),
    "important_keep": ("Key customers to keep", "重要保持客户"),
    "important_retain": ("Key customers to win back", "重要挽留客户"),
    "general_value": ("General value customers", "一般价值客户"),
    "general_develop": ("General customers to develop", "一般发展客户"),
    "general_keep": ("General customers to keep", "一般保持客户"),
    "general_retain": ("General customers to win back", "一般挽留客户"),
}


def _rank_score(values: NDArray, bins: int) -> NDArray:
    """1 + ⌊bins · (number of strictly smaller values) / n⌋ for finite values, 0 for NaN."""
    out = np.zeros(len(values), dtype=np.int64)
    known = np.isfinite(values)
    v = values[known]
    if v.size == 0:
        return out
    # number of strictly smaller values = position of the first equal value in sorted order
    # (one sort and linear passes: a million binary searches cost several times more)
    order = np.argsort(v)  # any order among equal values: only the first of each run counts
    ranked = v[order]
    pos = np.arange(v.size)
    first = np.empty(v.size, dtype=bool)
    first[0] = True
    np.not_equal(ranked[1:], ranked[:-1], out=first[1:])
    below = np.empty(v.size, dtype=np.int64)
    below[order] = np.maximum.accumulate(np.where(first, pos, 0))
    out[known] = 1 + (bins * below) // v.size
    return out


def rfm_scores(
    recency_days: ArrayLike, frequency: ArrayLike, monetary: ArrayLike, bins: int = 5
) -> tuple[NDArray, NDArray, NDArray]:
    """R, F and M scores 1..``bins`` (int arrays), 5 = best.

    ``recency_days``: days from the last purchase to the as-of date (fewer is better).
    ``frequency``: purchases (or purchase days) in the period. ``monetary``: the spend measure
    (total or mean). Each score depends only on the order of the values, so any monotone
    measure gives the same scores.
    """
    if int(bins) != bins or bins < 2:
        raise ValueError("bins must be a whole number >= 2.")
    rec = np.asarray(recency_days, dtype=float).reshape(-1)
    fre = np.asarray(frequency, dtype=float).reshape(-1)
    mon = np.asarray(monetary, dtype=float).reshape(-1)
    if not (len(rec) == len(fre) == len(mon)):
        raise ValueError("recency_days, frequency and monetary must have the same length.")
    return _rank_score(-rec, int(bins)), _rank_score(fre, int(bins)), _rank_score(mon, int(bins))


def rfm_segments(
    r: ArrayLike,
    f: ArrayLike,
    m: ArrayLike,
    *,
    reference: tuple[float, float, float] | None = None,
) -> NDArray:
    """The eight-segment code of each customer (an entry of ``SEGMENTS``; '' if a score is 0).

    R/F/M are "high" when the score is above ``reference`` (by default the mean score of the
    customers given, as in the usual 均值 comparison). Pass a fixed ``reference`` such as
    (3, 3, 3) to compare against the middle of the scale instead.
    """
    index = rfm_segment_index(r, f, m, reference=reference)
    return np.array([*SEGMENTS, ""], dtype="<U24")[index]


def rfm_segment_index(
    r: ArrayLike,
    f: ArrayLike,
    m: ArrayLike,
    *,
    reference: tuple[float, float, float] | None = None,
) -> NDArray:
    """``rfm_segments`` as positions in ``SEGMENTS`` (``len(SEGMENTS)`` where a score is 0): small
    integers, cheaper to count and to map to labels than an array of strings."""
    ra = np.asarray(r, dtype=float).reshape(-1)
    fa = np.asarray(f, dtype=float).reshape(-1)
    ma = np.asarray(m, dtype=float).reshape(-1)
    if not (len(ra) == len(fa) == len(ma)):
        raise ValueError("r, f and m must have the same length.")
    known = (ra > 0) & (fa > 0) & (ma > 0)
    out = np.full(len(ra), len(SEGMENTS), dtype=np.int64)
    if not np.any(known):
        return out
    if reference is None:
        ref = (ra[known].mean(), fa[known].mean(), ma[known].mean())
    else:
        ref = tuple(float(t) for t in reference)
    index = 4 * (ma <= ref[2]) + 2 * (ra <= ref[0]) + (fa <= ref[1])
    out[known] = index[known]
    return out
