"""Load the demo company: run every registered generator, then date the writes (see TimeWarp)."""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone
from faker import Faker

from . import registry
from .context import DemoContext, TimeWarp

DEFAULT_SEED = 42
DEFAULT_CUSTOMERS = 300


def database_is_empty() -> tuple[bool, str]:
    """Whether the demo may load: no customers and no users yet (a real install is never touched)."""
    from guanxi.customers.models import Customer
    from guanxi.org.models import User

    if Customer.objects.exists():
        return False, "the database already has customers"
    if User.objects.exists():
        return False, "the database already has users"
    return True, ""


def load(
    *,
    seed: int = DEFAULT_SEED,
    customers: int = DEFAULT_CUSTOMERS,
    out: Callable[[str], None] = print,
    today: datetime.date | None = None,
) -> dict[str, int]:
    """Build the demo company in one transaction (one savepoint per generator); returns the counts."""
    if customers < 1:
        raise ValueError("at least one customer")
    faker = Faker("zh_CN")
    faker.seed_instance(seed)
    now = timezone.now()
    warp = TimeWarp(latest=now - datetime.timedelta(minutes=5))
    ctx = DemoContext(
        seed=seed, customers=customers, today=today or timezone.localdate(), warp=warp, faker=faker, out=out
    )
    counts: dict[str, int] = {}
    with transaction.atomic():
        for gen in registry.generators():
            started = time.perf_counter()
            with transaction.atomic():
                result = gen.fn(ctx) or {}
            counts.update(result)
            out(f"  {gen.name}: {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        with transaction.atomic():
            counts["history dates set"] = warp.apply()
        out(f"  dating the history: {time.perf_counter() - started:.1f} s")
    return counts
