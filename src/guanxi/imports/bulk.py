"""Bulk writing below the ORM, for imports of millions of rows.

Rows go to the database as tuples of plain Python values: ``executemany`` of one prepared INSERT on
SQLite, ``COPY … FROM STDIN`` on PostgreSQL (psycopg 3). Both run inside the caller's transaction
(the Django connection's own DB-API connection), so an interrupted import leaves nothing behind.

Primary keys are allocated here in blocks, so that order lines can name their order without a
round trip per row: the next id is above both the largest id and the table's sequence. That is safe
because the import holds the write lock (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: ``lock()`` below),
and on PostgreSQL the sequence is moved past the block at the end (``finish()``).
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from itertools import chain, islice

from django.db import connection
from django.utils import timezone

# seconds spent per step of the current import (``guanxi import … -v 2`` prints them)
TIMES: dict[str, float] = {}


# GUANXI_IMPORT_CPU_TIMES=1: the steps' times as the CPU time of their thread instead of the time
# elapsed (on a busy machine, to see what each step costs)
_clock = time.thread_time if os.environ.get("GUANXI_IMPORT_CPU_TIMES") == "1" else time.perf_counter


@contextlib.contextmanager
def timed(label: str):
    start = _clock()
    try:
        yield
    finally:
        TIMES[label] = TIMES.get(label, 0.0) + _clock() - start


def vendor() -> str:
    return connection.vendor


def raw():
    """The DB-API connection under Django's (inside the current transaction)."""
    connection.ensure_connection()
    return connection.connection


def now_value(when: datetime.datetime | None = None):
    """A timestamp as the backend stores it (SQLite: UTC text; PostgreSQL: the aware datetime)."""
    return connection.ops.adapt_datetimefield_value(when or timezone.now())


def literal(value: object) -> str:
    """A model default as an SQL literal (only simple constants: text, numbers, booleans, NULL)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        if connection.vendor == "postgresql":
            return "TRUE" if value else "FALSE"
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"not a simple constant: {value!r}")


def insert(table: str, columns: Sequence[str], rows: Iterable[tuple], constants: dict | None = None) -> None:
    """Insert ``rows`` (tuples in ``columns`` order, a sequence or an iterator); ``constants`` adds
    columns with one value for all (COPY on PostgreSQL, statements of many rows on SQLite)."""
    if not rows:
        return
    with timed(f"insert {table}"):
        _insert(raw(), connection.vendor, table, columns, rows, constants or {})


def _insert(db, vendor: str, table: str, columns: Sequence[str], rows: Sequence[tuple], constants: dict):
    if vendor == "postgresql":
        cols = list(columns) + list(constants)
        extra = tuple(constants.values())
        with db.cursor() as cur:
            with cur.copy(f'COPY "{table}" ({", ".join(cols)}) FROM STDIN') as copy:
                if extra:
                    for row in rows:
                        copy.write_row(row + extra)
                else:
                    for row in rows:
                        copy.write_row(row)
        return
    # statements of many rows each, INSERT … VALUES (…), (…), …: a third faster than one row per
    # statement (the driver's and the engine's per-statement work is shared by its rows)
    cols = ", ".join([*columns, *constants])
    one = "(" + ", ".join(["?"] * len(columns) + [literal(v) for v in constants.values()]) + ")"
    head = f'INSERT INTO "{table}" ({cols}) VALUES '
    per = max(1, min(100, db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // max(1, len(columns))))
    rows = iter(rows)
    rest: list = []

    def statements():
        nonlocal rest
        while True:
            chunk = list(islice(rows, per))
            if len(chunk) < per:
                rest = chunk
                return
            yield list(chain.from_iterable(chunk))

    db.executemany(head + ", ".join([one] * per), statements())
    if rest:
        db.execute(head + ", ".join([one] * len(rest)), list(chain.from_iterable(rest)))


try:  # orjson, when installed, encodes a batch several times faster than the standard library
    import orjson

    def _dumps(rows) -> str:
        return orjson.dumps(rows).decode()

except ImportError:  # pragma: no cover - depends on the installation

    def _dumps(rows) -> str:
        return json.dumps(rows, ensure_ascii=False, check_circular=False)


def parallel() -> bool:
    """Whether to write on a second thread (``Writer``): with two cores or more, unless
    ``GUANXI_IMPORT_WRITER=0``."""
    return (os.cpu_count() or 1) >= 2 and os.environ.get("GUANXI_IMPORT_WRITER", "1") != "0"


BACKGROUND = "∥ "  # the label prefix of steps that ran beside the main thread


class Writer:
    """Inserts on a second thread, in order, inside the import's transaction, while the main
    thread reads and checks the next batch.

    On SQLite a batch goes over as ONE statement, ``INSERT … SELECT … FROM json_each(?)`` on the
    batch as a JSON array (made by the main thread with the C-speed ``json.dumps``): the engine
    then parses it and does its B-tree work in a single call without Python's global lock, and the
    two threads truly overlap on two cores. (``executemany`` from a thread would take the lock
    back for every row, and the threads would merely take turns.) On PostgreSQL the server process
    does the work of the ``COPY``.

    The main thread calls ``flush()`` before it reads what was written (or writes itself);
    SQLite's connections are serialized (``sqlite3.threadsafety == 3``) and psycopg's lock
    their use, so a read that races a write is still safe, merely not guaranteed to see it."""

    def __init__(self, depth: int = 2):
        self.db = raw()
        self.vendor = connection.vendor
        self.jobs: queue.Queue = queue.Queue(maxsize=depth)
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._work, name="import-writer", daemon=True)
        self.thread.start()

    def _work(self) -> None:
        while True:
            job = self.jobs.get()
            try:
                if job is None:
                    return
                if self.failure is None:
                    label, run = job
                    with timed(f"{BACKGROUND}insert {label}"):
                        run()
            except BaseException as e:  # noqa: BLE001 - handed to the main thread
                self.failure = e
            finally:
                self.jobs.task_done()

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[tuple], constants=None) -> None:
        self._raise()
        if not rows:
            return
        constants = constants or {}
        if self.vendor == "sqlite":
            with timed("encode rows as JSON"):
                doc = _dumps(rows)
            cols = ", ".join([*columns, *constants])
            values = ", ".join(
                [f"value ->> {i}" for i in range(len(columns))] + [literal(v) for v in constants.values()]
            )
            sql = f'INSERT INTO "{table}" ({cols}) SELECT {values} FROM json_each(?)'

            def run(db=self.db, sql=sql, doc=doc):
                db.execute(sql, (doc,))

        else:

            def run(db=self.db, vendor=self.vendor, args=(table, columns, rows, constants)):
                _insert(db, vendor, *args)

        with timed("wait for the writer"):
            self.jobs.put((table, run))

    def flush(self) -> None:
        with timed("wait for the writer"):
            self.jobs.join()
        self._raise()

    def stop(self) -> None:
        """Let the thread finish what it has and end (without raising: see ``flush``)."""
        if self.thread.is_alive():
            self.jobs.put(None)
            self.thread.join()

    def _raise(self) -> None:
        if self.failure is not None:
            failure, self.failure = self.failure, None
            raise failure


def execute(sql: str, params: Sequence | None = None) -> None:
    with connection.cursor() as cur:
        cur.execute(sql, params or [])


def executemany(sql: str, rows: Iterable[Sequence]) -> None:
    rows = list(rows)
    if rows:
        with connection.cursor() as cur:
            cur.executemany(sql, rows)


def fetchall(sql: str, params: Sequence | None = None) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(sql, params or [])
        return cur.fetchall()


def lock(*tables: str) -> None:
    """Keep other writers out of these tables until the transaction ends (readers go on).
    SQLite's ``BEGIN IMMEDIATE`` already holds the database's single write lock."""
    if connection.vendor == "postgresql" and tables:
        execute(f"LOCK TABLE {', '.join(tables)} IN SHARE ROW EXCLUSIVE MODE")


@contextlib.contextmanager
def big_cache():
    """A larger page cache for this connection while it imports (SQLite): a quarter of the memory,
    at most 4 GB, then back to what it was. A large import's pages stay in memory until it commits
    instead of spilling to the write-ahead log, which would slow down everything the import reads
    back (the derived tables are computed from the orders it wrote)."""
    if connection.vendor != "sqlite":
        yield
        return
    kib = max(64 << 10, min(4 << 20, memory() // 4 >> 10))
    before = fetchall("PRAGMA cache_size")[0][0]
    release_temp_database()
    execute(f"PRAGMA cache_size = -{int(kib)}")
    store = fetchall("PRAGMA temp_store")[0][0]
    try:
        yield
    finally:
        execute(f"PRAGMA cache_size = {int(before)}")
        if not connection.in_atomic_block:
            execute(f"PRAGMA temp_store = {store}")


def release_temp_database() -> None:
    """Close the connection's temporary database (SQLite; outside a transaction), which SQLite
    requires before it lets ``temp_store`` change inside one (``index_builds``): switching the
    setting away and back does it. Guanxi keeps no temporary tables between statements."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return
    store = fetchall("PRAGMA temp_store")[0][0]
    execute(f"PRAGMA temp_store = {1 if store == 2 else 2}")
    execute(f"PRAGMA temp_store = {store}")


def memory() -> int:
    """The machine's memory in bytes (4 GB where it cannot be told)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 4 << 30


class Ids:
    """Primary keys for ``table`` handed out in order, above everything already used."""

    def __init__(self, table: str):
        self.table = table
        self.first = self.next = self._start()

    def _start(self) -> int:
        top = fetchall(f'SELECT MAX(id) FROM "{self.table}"')[0][0] or 0
        if connection.vendor == "postgresql":
            seq = fetchall("SELECT pg_get_serial_sequence(%s, 'id')", [self.table])[0][0]
            self.sequence = seq
            if seq:
                last, called = fetchall(f"SELECT last_value, is_called FROM {seq}")[0]
                top = max(top, last if called else last - 1)
        else:
            seq = fetchall("SELECT seq FROM sqlite_sequence WHERE name = %s", [self.table])
            if seq:
                top = max(top, seq[0][0] or 0)
        return int(top) + 1

    def take(self, n: int = 1) -> int:
        """The first of ``n`` new ids."""
        first = self.next
        self.next += n
        return first

    @property
    def used(self) -> bool:
        return self.next > self.first

    def finish(self) -> None:
        """Move PostgreSQL's sequence past the ids handed out (SQLite's follows inserts itself)."""
        if connection.vendor == "postgresql" and self.used and getattr(self, "sequence", None):
            execute(
                f'SELECT setval(%s, GREATEST((SELECT COALESCE(MAX(id), 1) FROM "{self.table}"), %s))',
                [self.sequence, self.next - 1],
            )


def foreign_keys_off() -> bool:
    """Switch SQLite's per-row foreign-key checks off for this connection (outside a transaction;
    the import builds its references itself). Returns whether they were on."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return False
    return connection.disable_constraint_checking()


def foreign_keys_on() -> None:
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        connection.enable_constraint_checking()


def suspend_indexes(table: str, first_column: str | None = None) -> list[tuple[str, str]]:
    """Drop ``table``'s secondary (non-unique) indexes that start with ``first_column`` (all of
    them with None) (SQLite),
    to be built again by ``restore_indexes`` inside the same transaction. For a load that
    multiplies the table's size and whose keys come in random order (orders by customer),
    building such an index once from sorted keys costs a fraction of keeping it current row by
    row (measured: 1.3 s against 4.3 s for a million orders). Readers keep the committed schema
    meanwhile; a rollback brings the indexes back."""
    if connection.vendor != "sqlite":
        return []
    saved = []
    for name, sql in fetchall(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL "
        "AND sql NOT LIKE 'CREATE UNIQUE%%'",
        [table],
    ):
        columns = [r[2] for r in fetchall(f'PRAGMA index_info("{name}")')]
        if columns and (first_column is None or columns[0] == first_column):
            saved.append((name, sql))
            execute(f'DROP INDEX "{name}"')
    return saved


def restore_indexes(saved: list[tuple[str, str]]) -> None:
    if not saved:
        return
    with index_builds(raw()):
        for _name, sql in saved:
            execute(sql)


# the sorter's run size while indexes are built: runs this size sort within the CPU's caches
INDEX_SORT_KIB = 4096


@contextlib.contextmanager
def index_builds(db: sqlite3.Connection):
    """Settings of SQLite connection ``db`` under which CREATE INDEX on millions of rows sorts
    several times faster (measured: 10M keys in 3.7–4.2 s against 17.4–18.4 s).

    SQLite sorts the keys of a new index with its external merge sorter. With ``temp_store =
    MEMORY`` (our connections' setting) the sorter never writes runs to temporary files, so the keys
    of the whole table are sorted as one linked list in memory, and merging lists far larger than
    the CPU's caches waits on memory at nearly every step. With temporary files allowed and a small
    page cache (the run size follows ``cache_size``), the sorter sorts cache-sized runs, on
    ``threads`` worker threads, and merges them by streaming. Spilling is turned off meanwhile
    (``cache_spill``), so the transaction's dirty pages stay in memory as before, above the small
    cache; everything is put back after. SQLite refuses to change ``temp_store`` inside a
    transaction while the connection's temporary database is open (``release_temp_database``
    closes it before the import's transaction): then the build runs with the settings it had."""
    pragma = lambda name: db.execute(f"PRAGMA {name}").fetchone()[0]  # noqa: E731
    cache, spill, threads, store = (
        pragma("cache_size"),
        pragma("cache_spill"),
        pragma("threads"),
        pragma("temp_store"),
    )
    try:
        db.execute("PRAGMA temp_store = DEFAULT")
    except sqlite3.Error:
        switched = False
    else:
        switched = True
    if not switched:  # (the build outside the handler: its own errors are not chained to this one)
        yield
        return
    try:
        # OFF, not a number: a number sets the threshold, and its low byte the switch (1 << 20: off)
        db.execute("PRAGMA cache_spill = OFF")
        db.execute(f"PRAGMA cache_size = -{INDEX_SORT_KIB}")
        db.execute(f"PRAGMA threads = {min(4, os.cpu_count() or 1)}")
        yield
    finally:
        db.execute(f"PRAGMA cache_size = {cache}")
        db.execute(f"PRAGMA cache_spill = {'ON' if spill else 'OFF'}")  # the threshold is unchanged
        db.execute(f"PRAGMA threads = {threads}")
        with contextlib.suppress(sqlite3.Error):  # refused if a temporary table appeared meanwhile:
            db.execute(f"PRAGMA temp_store = {store}")  # then big_cache puts it back after the import


def skip_reference_checks() -> bool:
    """PostgreSQL: leave out the per-row foreign-key checks for the rest of this transaction
    (``SET LOCAL session_replication_role = replica``), as SQLite's import does with
    ``foreign_keys=OFF``: the import builds its references itself, under its locks, and the
    deferred checks of millions of rows would otherwise all run at COMMIT (measured: 266 s of a
    10M-line import). Only a superuser may; for others the checks stay. Returns whether skipped."""
    if connection.vendor != "postgresql":
        return False
    if not fetchall("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")[0][0]:
        return False
    execute("SET LOCAL session_replication_role = replica")
    return True


# --- a scratch database for tables built beside the import (SQLite) --------------------------------


class Side:
    """A scratch SQLite file attached to the import's connection, in which a second thread builds
    whole tables with all their indexes (``SideBuild``) while the import writes the rest; they are
    then copied in with ``INSERT INTO t SELECT * FROM side.t``, which SQLite carries out page by
    page into an empty table with the same indexes (its transfer optimisation: no sorting, no
    index kept current row by row). For the first load of a million customers: their twenty list
    indexes are built on the other core while the orders are written, and the copy takes a fifth of
    the time.

    SQLite cannot ATTACH inside a transaction, so the file is attached before the import's
    transaction, and that transaction begins DEFERRED (``BEGIN IMMEDIATE`` would lock the attached
    file as well, and the builder could not write it); ``begin`` takes the main database's write
    lock with the transaction's first statement instead. The file is the builder's alone until it
    has committed; an import that is killed leaves it behind, and the next one removes it."""

    NAME = "guanxi_side"

    def __init__(self, path):
        self.path = path

    @classmethod
    def attach(cls, path) -> Side | None:
        """Attach a new empty file at ``path`` (None where this is not possible: PostgreSQL, or
        inside a transaction already)."""
        if connection.vendor != "sqlite" or connection.in_atomic_block:
            return None
        if any(row[1] == cls.NAME for row in fetchall("PRAGMA database_list")):
            execute(f"DETACH DATABASE {cls.NAME}")  # left by an import that failed half-way
        path.unlink(missing_ok=True)
        path.touch()
        execute(f"ATTACH DATABASE %s AS {cls.NAME}", [str(path)])
        return cls(path)

    def detach(self) -> None:
        """Detach and remove the file; never raises (the import's own outcome matters more)."""
        try:
            if not connection.in_atomic_block:
                execute(f"DETACH DATABASE {self.NAME}")
        except Exception:  # noqa: BLE001 - e.g. the connection was closed and opened again
            logging.getLogger(__name__).warning("could not detach the side database", exc_info=True)
        finally:
            self.path.unlink(missing_ok=True)

    @contextlib.contextmanager
    def begin(self):
        """Around ``transaction.atomic()``: its BEGIN is DEFERRED (the side file is not locked)."""
        mode = connection.transaction_mode
        connection.transaction_mode = "DEFERRED"
        try:
            yield
        finally:
            connection.transaction_mode = mode

    def lock(self, table: str) -> None:
        """The main database's write lock, taken by the transaction's first statement (a write
        that changes nothing), as ``BEGIN IMMEDIATE`` would have taken it."""
        execute(f'UPDATE "{table}" SET id = id WHERE id < 0')

    def copy(self, table: str) -> None:
        """The builder's finished table into the main database's (empty) table of the same schema."""
        with timed(f"copy {table} from the side database"):
            execute(f'INSERT INTO main."{table}" SELECT * FROM {self.NAME}."{table}"')


def schema_of(*tables: str) -> tuple[list[str], list[str]]:
    """(CREATE TABLE statements, CREATE INDEX statements) of these tables of the main database."""
    marks = ", ".join(["%s"] * len(tables))
    rows = fetchall(
        f"SELECT type, sql FROM main.sqlite_master WHERE tbl_name IN ({marks}) AND sql IS NOT NULL "
        "AND type IN ('table', 'index') ORDER BY type DESC, name",
        list(tables),
    )
    return [sql for kind, sql in rows if kind == "table"], [sql for kind, sql in rows if kind == "index"]


class SideBuild(threading.Thread):
    """Builds tables in the side file on its own connection: ``steps(db)`` writes the rows (the
    tables are created from the main database's schema first); the indexes are built after, and the
    file is committed. Without a journal: it is a scratch file, thrown away if anything fails."""

    def __init__(self, side: Side, tables: Sequence[str], steps):
        super().__init__(name="import-side-build", daemon=True)
        self.side, self.steps = side, steps
        self.create, self.indexes = schema_of(*tables)
        self.failure: BaseException | None = None
        self.times: dict[str, float] = {}
        self.db: sqlite3.Connection | None = None
        self.cancelled = False

    def run(self) -> None:
        try:
            db = self.db = sqlite3.connect(str(self.side.path), isolation_level=None, check_same_thread=False)
            try:
                for pragma in (
                    "journal_mode = OFF",
                    "synchronous = OFF",
                    "temp_store = MEMORY",
                    "foreign_keys = OFF",
                ):
                    db.execute(f"PRAGMA {pragma}")
                db.execute(f"PRAGMA cache_size = -{max(64 << 10, min(1 << 20, memory() // 16 >> 10))}")
                db.execute("BEGIN")
                for sql in self.create:
                    db.execute(sql)
                start = time.thread_time()
                self.steps(db)
                self.times[f"{BACKGROUND}side database: rows"] = time.thread_time() - start
                start = time.thread_time()
                with index_builds(db):
                    for sql in self.indexes:
                        if self.cancelled:
                            raise RuntimeError("side build cancelled")
                        db.execute(sql)
                self.times[f"{BACKGROUND}side database: indexes"] = time.thread_time() - start
                db.execute("COMMIT")
            finally:
                db.close()
        except BaseException as e:  # noqa: BLE001 - handed to the main thread by result()
            self.failure = e

    def cancel(self) -> None:
        """Stop the build (the import failed): the statement under way is interrupted."""
        self.cancelled = True
        if self.db is not None:
            with contextlib.suppress(Exception):
                self.db.interrupt()
        self.join(timeout=60)

    def result(self) -> None:
        """Wait for the build; raise what it raised."""
        with timed("wait for the side database"):
            self.join()
        for label, seconds in self.times.items():
            TIMES[label] = TIMES.get(label, 0.0) + seconds
        if self.failure is not None:
            raise self.failure
