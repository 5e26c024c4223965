"""What other apps do when something happens in sales, without sales knowing them.

``on_first_purchase(fn)``: ``fn(customer, order)`` runs inside the order's transaction when a
customer's first purchase is recorded (engagement registers the welcome-gift task, C7).
"""

from __future__ import annotations

from collections.abc import Callable

_first_purchase: list[Callable] = []


def on_first_purchase(fn: Callable) -> None:
    if fn not in _first_purchase:
        _first_purchase.append(fn)


def first_purchase(customer, order) -> None:
    for fn in list(_first_purchase):
        fn(customer, order)
