"""The demo's sales generator is deterministic by the seed (kept apart from test_sales_demo.py,
whose module-wide demo company would collide with the ``world`` fixture)."""

from __future__ import annotations

import datetime
import hashlib
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from faker import Faker

from guanxi.customers import services as customer_services
from guanxi.demo.context import DemoContext, TimeWarp
from guanxi.sales import demo
from guanxi.sales.models import Invoice, Order


def _digest() -> str:
    h = hashlib.sha256()
    for row in Order.objects.order_by("number").values_list(
        "number", "order_date", "customer_id", "amount", "channel", "delivery_state"
    ):
        h.update(repr(row).encode())
    for row in Invoice.objects.order_by("number").values_list(
        "number", "due_date", "amount", "paid", "state"
    ):
        h.update(repr(row).encode())
    return h.hexdigest()


def test_the_generator_is_deterministic_by_the_seed(world):
    """The same seed and the same customers give the same orders, invoices and payments."""
    today = timezone.localdate()
    month = today.replace(day=1)
    for n in range(1, 13):
        y, m = divmod(month.year * 12 + month.month - 1 - n, 12)
        for c in world.customers.values():
            if c.kind == "company":
                customer_services.record_revenue(
                    actor=None,
                    customer_id=c.pk,
                    period_start=datetime.date(y, m + 1, 1),
                    revenue=Decimal(50_000 * (n % 3 + 1)),
                )

    def run(seed: int) -> str:
        ctx = DemoContext(
            seed=seed,
            customers=4,
            today=today,
            warp=TimeWarp(timezone.now()),
            faker=Faker(),
            out=lambda s: None,
        )
        with transaction.atomic():
            counts = demo.generate(ctx)
            digest = _digest()
            assert counts["orders"] == Order.objects.count() > 30
            transaction.set_rollback(True)
        return digest

    assert run(7) == run(7)
    assert run(7) != run(8)
