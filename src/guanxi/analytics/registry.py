"""Churn signals that other apps know about (open complaints, low satisfaction…).

An app registers ``provider(as_of: date) -> dict[int, float]`` (customer id → value) under one of
the churn reason codes of ``math.churn.REASONS``; analytics asks each provider once per run. So the
service desk and the visits app feed the churn score without analytics importing them.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

Provider = Callable[[datetime.date], dict[int, float]]
_providers: dict[str, list[Provider]] = {}


def register(signal: str, provider: Provider) -> None:
    fns = _providers.setdefault(signal, [])
    if provider not in fns:
        fns.append(provider)


def collect(signal: str, as_of: datetime.date) -> dict[int, float]:
    """The values of every provider of ``signal``; a customer named by several gets the largest."""
    out: dict[int, float] = {}
    for fn in _providers.get(signal, []):
        for cid, value in fn(as_of).items():
            if value is None:
                continue
            out[cid] = max(out.get(cid, value), value)
    return out
