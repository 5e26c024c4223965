"""Small array helpers shared by the models: grouping equal rows and ragged per-customer arrays.

Why grouping matters: a customer base of a million rows holds far fewer distinct (x, t_x, T)
histories at day resolution, and the likelihoods depend on a customer only through that history,
so every sum over customers can be done once per distinct row, multiplied by its count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

# Combined integer keys must stay clear of int64 overflow.
_KEY_LIMIT = 2**62
# Keys spanning at most this many values per row (or 2**22 in all) are grouped with a presence
# table instead of a sort: linear time, several times faster than np.unique at a million rows.
_DENSE_FACTOR = 4


def unique_rows(*columns: NDArray, inverse: bool = True) -> tuple[list[NDArray], NDArray | None, NDArray]:
    """Group equal rows of equally long 1-d columns.

    Returns ``(unique_columns, inverse, counts)``: ``unique_columns[k][inverse]`` rebuilds
    ``columns[k]`` and ``counts`` says how many input rows each unique row stands for (``inverse``
    is None when not asked for, which saves an argsort).

    Columns of whole numbers (day counts, purchase counts: the usual case) are packed into one
    int64 key as they are; anything else (fractional days) is first factorised with np.unique and
    its codes are packed instead, so the result is the same either way. Keys in a small range
    are grouped with a presence table, others by sorting; ``np.unique(axis=0)`` is the last resort
    when even the packed codes would overflow.
    """
    n = len(columns[0])
    if n == 0:
        empty = [np.asarray(c)[:0] for c in columns]
        return empty, (np.zeros(0, dtype=np.intp) if inverse else None), np.zeros(0, dtype=np.int64)
    codes: list[NDArray] = []
    sizes: list[int] = []
    decoders: list[tuple[NDArray | None, float, np.dtype]] = []
    for col in columns:
        col = np.asarray(col).reshape(-1)
        if len(col) != n:
            raise ValueError("columns must have the same length.")
        if np.issubdtype(col.dtype, np.integer) or (
            np.issubdtype(col.dtype, np.floating) and bool(np.all(col == np.floor(col)))
        ):
            lo, hi = col.min(), col.max()
            if hi - lo < _KEY_LIMIT:
                codes.append((col - lo).astype(np.int64))
                sizes.append(int(hi - lo) + 1)
                decoders.append((None, lo, col.dtype))
                continue
        uniq, inv = np.unique(col, return_inverse=True)
        codes.append(inv.astype(np.int64).reshape(-1))
        sizes.append(len(uniq))
        decoders.append((uniq, 0, col.dtype))
    total = 1
    for size in sizes:
        total *= size
    if total >= _KEY_LIMIT:
        stacked = np.stack(codes, axis=1)
        ucodes, inv, counts = np.unique(stacked, axis=0, return_inverse=True, return_counts=True)
        unique_codes = [ucodes[:, k] for k in range(len(codes))]
        inv = inv.reshape(-1)
    else:
        key = codes[0]
        for code, size in zip(codes[1:], sizes[1:], strict=True):
            key = key * size + code
        if total <= max(_DENSE_FACTOR * n, 2**22):
            table = np.bincount(key, minlength=total)
            ukey = np.flatnonzero(table)
            counts = table[ukey]
            if inverse:
                position = np.zeros(total, dtype=np.intp)
                position[ukey] = np.arange(len(ukey))
                inv = position[key]
        elif inverse:
            ukey, inv, counts = np.unique(key, return_inverse=True, return_counts=True)
            inv = inv.reshape(-1)
        else:
            ukey, counts = np.unique(key, return_counts=True)
        unique_codes = []
        rest = ukey
        for size in reversed(sizes[1:]):
            rest, code = np.divmod(rest, size)
            unique_codes.append(code)
        unique_codes.append(rest)
        unique_codes.reverse()
    out = []
    for code, (uniq, lo, dtype) in zip(unique_codes, decoders, strict=True):
        out.append((uniq[code] if uniq is not None else code + lo).astype(dtype, copy=False))
    return out, (inv if inverse else None), counts


def dot(a: NDArray, b: NDArray) -> float:
    """Inner product of two 1-d float arrays, without BLAS.

    ``a @ b`` goes to OpenBLAS, whose worker threads spin while waiting; when the cores are busy
    with other work (web workers, a second job) that made one likelihood evaluation four to
    forty times slower in our measurements. ``einsum`` runs in the calling thread.
    """
    return float(np.einsum("i,i->", a, b))


@dataclass(frozen=True)
class Ragged:
    """Per-customer variable-length arrays stored flat: customer ``i`` owns
    ``values[offsets[i]:offsets[i + 1]]``.

    A list of a million small numpy arrays costs more to build than the simulation itself, and a
    bulk loader wants flat columns anyway (``owner()`` gives the customer index of every value).
    """

    values: NDArray
    offsets: NDArray

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> NDArray:
        if i < 0:
            i += len(self)
        return self.values[self.offsets[i] : self.offsets[i + 1]]

    @property
    def counts(self) -> NDArray:
        """Number of values of each customer."""
        return np.diff(self.offsets)

    def owner(self) -> NDArray:
        """The customer index of each value, aligned with ``values``."""
        return np.repeat(np.arange(len(self), dtype=np.int64), self.counts)

    def to_list(self) -> list[NDArray]:
        """One array per customer (slow for millions of customers; for tests and small data)."""
        return np.split(self.values, self.offsets[1:-1])

    @classmethod
    def from_counts(cls, values: ArrayLike, counts: ArrayLike) -> Ragged:
        counts = np.asarray(counts, dtype=np.int64)
        offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        return cls(np.asarray(values), offsets)


def group_cumsum(values: NDArray, counts: NDArray) -> NDArray:
    """Cumulative sums restarted at each customer's first value (``counts`` values per customer)."""
    if values.size == 0:
        return values.astype(float)
    cs = np.cumsum(values, dtype=float)
    ends = np.cumsum(counts)
    starts = ends - counts
    # Sum of everything before each group's first value, spread over the group.
    before = np.where(starts > 0, cs[np.maximum(starts - 1, 0)], 0.0)
    return cs - np.repeat(before, counts)
