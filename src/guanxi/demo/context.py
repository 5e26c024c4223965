"""What the demo generators share: the seeded randomness, "today", state, and the time warp."""

from __future__ import annotations

import datetime
import random
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Model, Q
from django.utils import timezone

if TYPE_CHECKING:  # the demo's generators register at start-up; Faker loads when a demo is made
    from faker import Faker


class TimeWarp:
    """Moves the timestamps of demo writes from "now" to the moments they are meant to have happened.

    Every demo write goes through the services, which stamp history, classification changes and
    bookkeeping columns with the wall clock. Before each write a generator calls ``at(when)``: the
    warp notes the wall-clock instant of that call (a checkpoint) and the intended moment. Afterwards
    ``apply()`` maps every tracked timestamp written during the load to the intended moment of the
    last checkpoint before it, in bulk. The result depends only on the intended moments, so it is as
    deterministic as the seed; the wall clock only decides which write a row belongs to.
    """

    def __init__(self, latest: datetime.datetime):
        self.latest = latest
        self.started = timezone.now()
        self._real: list[datetime.datetime] = []
        self._fake: list[datetime.datetime] = []
        self._targets: dict[type[Model], list[str]] = {}

    def at(self, when: datetime.datetime) -> None:
        when = min(when, self.latest)
        if self._fake and self._fake[-1] == when:
            return
        # A fresh instant strictly after anything written so far (the clock has microseconds).
        before = timezone.now()
        now = timezone.now()
        while now <= before:
            now = timezone.now()
        self._real.append(now)
        self._fake.append(when)

    def track(self, model: type[Model], *fields: str) -> None:
        known = self._targets.setdefault(model, [])
        known.extend(f for f in fields if f not in known)

    def _map(self, value: datetime.datetime | None) -> datetime.datetime | None:
        if value is None or value < self.started or not self._fake:
            return value
        k = bisect_right(self._real, value) - 1
        return self._fake[max(k, 0)]

    def apply(self) -> int:
        """Rewrite the tracked timestamps; returns the number of rows changed."""
        changed = 0
        for model, fields in self._targets.items():
            cond = Q()
            for f in fields:
                cond |= Q(**{f"{f}__gte": self.started})
            rows = list(model._default_manager.filter(cond).values_list("pk", *fields).order_by("pk"))
            if not rows:
                continue
            # One parameterised UPDATE run for many rows (executemany): far faster than
            # bulk_update's CASE expressions on ten thousand rows, and the same on both databases.
            opts = model._meta
            db_fields = [opts.get_field(f) for f in fields]
            qn = connection.ops.quote_name
            sql = "UPDATE {} SET {} WHERE {} = %s".format(
                qn(opts.db_table), ", ".join(f"{qn(f.column)} = %s" for f in db_fields), qn(opts.pk.column)
            )
            params = [
                [
                    f.get_db_prep_value(self._map(v), connection)
                    for f, v in zip(db_fields, values, strict=True)
                ]
                + [pk]
                for pk, *values in rows
            ]
            with connection.cursor() as cur:
                cur.executemany(sql, params)
            changed += len(rows)
        return changed


@dataclass
class DemoContext:
    seed: int
    customers: int
    today: datetime.date
    warp: TimeWarp
    faker: Faker
    out: Callable[[str], None] = print
    state: dict[str, Any] = field(default_factory=dict)

    def rng(self, *key: Any) -> random.Random:
        """A generator of its own for ``key``, so that one part's draws never shift another's."""
        return random.Random(":".join(str(k) for k in (self.seed, *key)))

    def moment(self, days_ago: float, hour: int = 10, minute: int = 0) -> datetime.datetime:
        """An aware datetime ``days_ago`` days before today (local time), at ``hour:minute``."""
        day = self.today - datetime.timedelta(days=int(days_ago))
        naive = datetime.datetime.combine(day, datetime.time(hour % 24, minute % 60))
        return timezone.make_aware(naive)

    def at(self, when: datetime.datetime) -> None:
        self.warp.at(when)

    def track(self, model: type[Model], *fields: str) -> None:
        self.warp.track(model, *fields)
