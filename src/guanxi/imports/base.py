"""What both kinds of import share: the options, the counts, the error report, who owns the
customers an import creates, and which existing customers the importing user may change."""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from guanxi.core.errors import ValidationFailed
from guanxi.customers.models import Customer
from guanxi.org.access import scope
from guanxi.org.models import Role, User

from .bulk import timed
from .readers import Table
from .report import Report

OWNER_ROLES = (Role.ACCOUNT_MANAGER, Role.MANAGER, Role.ADMIN)
# Above this many new customers an import leaves their search terms (pinyin: ~0.2 ms a name) to a
# follow-up background job instead of computing them inside the import.
SEARCH_TERMS_INLINE = 20_000


@dataclass
class Options:
    create_customers: bool = False
    skip_invalid: bool = False
    dry_run: bool = False
    owner: User | None = None  # owner of the customers the import creates (else column, else actor)
    batch_size: int = 20_000


Progress = Callable[[int, float], None]  # (rows read, fraction of the file read)


class Stop(Exception):
    """The import cannot go on (raised before anything is written)."""


class BaseImport:
    kind = ""
    side = None  # a bulk.Side to build tables in beside the import (set by services.run_job)
    side_builder = None  # the bulk.SideBuild at work in it, if any

    def __init__(
        self,
        *,
        actor: User,
        table: Table,
        mapping: list[str],
        options: Options,
        report: Report,
        batch_id: int,
        progress: Progress | None = None,
    ):
        self.actor = actor
        self.table = table
        self.headers = table.headers
        self.mapping = mapping
        self.col = {f: i for i, f in enumerate(mapping) if f}
        self.width = len(self.headers)
        self.options = options
        self.report = report
        self.batch_id = batch_id
        self.progress = progress or (lambda rows, fraction: None)
        self.counts: dict[str, int] = {"rows": 0, "invalid_rows": 0}
        # the first invalid row ends writing unless --skip-invalid; validation goes on to the end
        self.writing = not options.dry_run
        self.owner_cache: dict[str, User | str] = {}
        self.search_ids: list[int] = []  # customers created whose search terms are still to write
        self.search_deferred = False

    # --- errors ---------------------------------------------------------------------------------

    def column_of(self, field: str) -> str:
        i = self.col.get(field)
        return self.headers[i] if i is not None else field

    def error(self, rn: int, field: str, value: object, problem: object) -> None:
        self.report.add(rn, self.column_of(field), value, problem)
        if not self.options.skip_invalid:
            self.writing = False

    # --- rows -----------------------------------------------------------------------------------

    def padded(self, row: list[str]) -> list[str] | None:
        """The row with as many cells as the header, or None for a blank row."""
        if not any(str(v).strip() for v in row):
            return None
        if len(row) < self.width:
            return row + [""] * (self.width - len(row))
        return row

    # --- owners of created customers ------------------------------------------------------------

    def may_own(self, user: User) -> str | None:
        return cannot_own(self.actor, user)

    def owner_from(self, text: str) -> User | str:
        """The user a cell of the owner column names (username or display name), or why not."""
        text = (text or "").strip()
        cached = self.owner_cache.get(text)
        if cached is not None:
            return cached
        users = list(User.objects.filter(username=text, is_active=True)) or list(
            User.objects.filter(display_name=text, is_active=True)
        )
        if len(users) != 1:
            result: User | str = (
                _("No active user with this user name or display name.")
                if not users
                else _("Several users have this display name: use the user name.")
            )
        else:
            result = self.may_own(users[0]) or users[0]
        self.owner_cache[text] = result
        return result

    def default_owner(self) -> User:
        return self.options.owner or self.actor

    # --- access ---------------------------------------------------------------------------------

    def changeable(self, ids: list[int]) -> set[int]:
        """Those of these customers the importing user may change."""
        if self.actor.is_admin:
            return set(ids)
        out: set[int] = set()
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            qs = scope(self.actor, Customer.objects.filter(pk__in=chunk), "change")
            out.update(qs.values_list("pk", flat=True))
        return out

    # --- the run --------------------------------------------------------------------------------

    def batches(self):
        batches = self.table.batches(max(1, int(self.options.batch_size)))
        while True:
            with timed("read the file"):
                item = next(batches, None)
            if item is None:
                return
            yield item

    def tick(self) -> None:
        self.progress(self.counts["rows"], self.table.fraction())
        if os.environ.get("GUANXI_IMPORT_TEST_PAUSE"):
            self.flush()
            _test_pause()

    def flush(self) -> None:
        """Wait for writes under way (see orders.py)."""

    def run(self) -> dict:  # pragma: no cover - each kind implements it
        raise NotImplementedError


def cannot_own(actor: User, user: User) -> str | None:
    """Why ``user`` cannot own a customer that ``actor``'s import creates (None: they can)."""
    if not user.is_active or not (user.is_admin or user.role in OWNER_ROLES):
        return _("Only account managers and managers can own customers.")
    if actor.is_admin or user.pk == actor.pk:
        return None
    if actor.role == Role.MANAGER and actor.department_id and user.department_id == actor.department_id:
        return None
    return _("You can assign customers only to yourself or, as a manager, to your department.")


def check_options(actor: User, options: Options) -> None:
    """Refuse options the importing user may not use (before any row is read)."""
    if options.owner is not None:
        why = cannot_own(actor, options.owner)
        if why:
            raise ValidationFailed({"owner": [why]})


class no_gc:
    """Collect garbage once at the end instead of every few thousand allocations: an import
    allocates millions of short-lived rows, and the cyclic collector's passes over them cost
    more than the import's own work."""

    def __enter__(self):
        self.was = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc):
        if self.was:
            gc.enable()


_paused = False


def _test_pause() -> None:
    """For the test of an interrupted import: with ``GUANXI_IMPORT_TEST_PAUSE=<file>`` the import
    creates that file after its first batch is written and waits there to be killed."""
    global _paused
    marker = os.environ.get("GUANXI_IMPORT_TEST_PAUSE")
    if not marker or _paused:
        return
    _paused = True
    Path(marker).write_text(str(os.getpid()))
    time.sleep(float(os.environ.get("GUANXI_IMPORT_TEST_PAUSE_SECONDS", "60")))
