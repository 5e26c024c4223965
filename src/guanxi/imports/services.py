"""Every write of the import app: upload a file (→ a job with the recognised mapping), set its
mapping and options, start it, and run it — in ONE database transaction, so that an interrupted
import (a killed process, a crash) leaves the database as it was before it.

The run: all-or-nothing by default (one invalid row and nothing is written; the report names every
invalid row and why), ``skip_invalid`` writes the valid rows and reports the rest, ``dry_run``
checks and reports only. The job's own row is written outside the import's transaction (before and
after it), and its progress goes to the cache, which other processes read while the import's
transaction is still open.
"""

from __future__ import annotations

import gc
import logging
import os
import shutil
import time
import uuid
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.errors import Forbidden, NotFound, ValidationFailed
from guanxi.org.access import scope
from guanxi.org.models import User

from . import bulk, fields, readers
from .base import Options, check_options, no_gc
from .customers import CustomersImport
from .models import ImportJob, ImportKind, JobState, imports_dir
from .orders import OrdersImport
from .report import Report
from .rules import may_import

log = logging.getLogger(__name__)

IMPORTERS = {ImportKind.ORDERS: OrdersImport, ImportKind.CUSTOMERS: CustomersImport}
OPTION_FLAGS = ("create_customers", "skip_invalid", "dry_run")
MAX_UPLOAD = 2 << 30


def _check_actor(actor: User) -> None:
    if not may_import(actor):
        raise Forbidden(_("Only administrators, managers and account managers import data."))


def _check_kind(kind: str) -> str:
    if kind not in ImportKind.values:
        raise ValidationFailed.one("kind", _("Choose customers or orders."))
    return kind


def clean_options(actor: User, data: dict[str, Any] | None) -> dict[str, Any]:
    """Options as stored on a job: the three flags, the owner's user name, the batch size."""
    data = dict(data or {})
    unknown = set(data) - {*OPTION_FLAGS, "owner", "batch_size"}
    if unknown:
        raise ValidationFailed({k: [_("Unknown option.")] for k in sorted(unknown)})
    out: dict[str, Any] = {f: _flag(data.get(f)) for f in OPTION_FLAGS}
    owner = (data.get("owner") or "").strip() if isinstance(data.get("owner"), str) else data.get("owner")
    if isinstance(owner, User):
        owner = owner.username
    out["owner"] = owner or ""
    if out["owner"]:
        resolve_options(actor, out)  # refuse an owner the actor may not assign, now
    if data.get("batch_size"):
        try:
            out["batch_size"] = max(1, min(200_000, int(data["batch_size"])))
        except (TypeError, ValueError):
            raise ValidationFailed.one("batch_size", _("Enter a whole number."))
    return out


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def resolve_options(actor: User, data: dict[str, Any]) -> Options:
    owner = None
    if data.get("owner"):
        owner = User.objects.filter(username=data["owner"], is_active=True).first()
        if owner is None:
            raise ValidationFailed.one("owner", _("No active user with this user name."))
    options = Options(
        create_customers=bool(data.get("create_customers")),
        skip_invalid=bool(data.get("skip_invalid")),
        dry_run=bool(data.get("dry_run")),
        owner=owner,
    )
    if data.get("batch_size"):
        options.batch_size = int(data["batch_size"])
    check_options(actor, options)
    return options


# --- jobs -----------------------------------------------------------------------------------------


def _store(upload) -> str:
    """Keep an uploaded file under DATA_DIR/imports; its name there."""
    if getattr(upload, "size", 0) > MAX_UPLOAD:
        raise ValidationFailed.one("file", _("The file is too large."))
    suffix = Path(upload.name or "").suffix.lower()[:10]
    name = f"{uuid.uuid4().hex}{suffix}"
    with open(imports_dir() / name, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return name


def create_job(
    *,
    actor: User,
    kind: str,
    upload=None,
    path: str | Path | None = None,
    options: dict[str, Any] | None = None,
    mapping: list[str] | dict[str, str] | None = None,
    overrides: list[str] | None = None,
) -> ImportJob:
    """A job for an uploaded file (or, from the command line, a file where it is): its columns
    recognised (or ``mapping``: one field per column, or {column header: field}), then
    ``overrides`` (``column=field``) applied. Nothing is imported yet."""
    _check_actor(actor)
    kind = _check_kind(kind)
    if upload is None and path is None:
        raise ValidationFailed.one("file", _("Choose a file."))
    clean = clean_options(actor, options)
    if upload is not None:
        stored = _store(upload)
        original = Path(upload.name or "upload").name[:255]
    else:
        stored = str(Path(path).resolve())
        original = Path(path).name[:255]
    try:
        headers, _rows = readers.preview(imports_dir() / stored, original)
        recognised = _mapping(kind, headers, mapping)
        if overrides:
            recognised = fields.apply_overrides(kind, headers, recognised, overrides)
    except ValidationFailed:
        if upload is not None:
            (imports_dir() / stored).unlink(missing_ok=True)
        raise
    return ImportJob.objects.create(
        kind=kind,
        original_name=original,
        file_path=stored,
        headers=headers,
        mapping=recognised,
        options=clean,
        created_by=actor,
    )


def _mapping(kind: str, headers: list[str], mapping) -> list[str]:
    if mapping is None:
        return fields.recognise(kind, headers)
    if isinstance(mapping, dict):
        out = [fields.IGNORE] * len(headers)
        given = {str(k): v for k, v in mapping.items()}
        for i, h in enumerate(headers):
            if h in given:
                out[i] = given[h] or fields.IGNORE
        unknown = set(given) - set(headers)
        if unknown:
            raise ValidationFailed(
                {"mapping": [_("No column %(column)s in the file.") % {"column": c} for c in sorted(unknown)]}
            )
        return fields.check_mapping(kind, headers, out)
    return fields.check_mapping(kind, headers, list(mapping))


def job_for(actor: User, job_id: int) -> ImportJob:
    """The job, if ``actor`` may see it (its creator and administrators); else NotFound."""
    job = scope(actor, ImportJob.objects.select_related("created_by"), "view").filter(pk=job_id).first()
    if job is None:
        raise NotFound()
    return job


def configure(
    *, actor: User, job_id: int, mapping: list[str] | None = None, options: dict[str, Any] | None = None
) -> ImportJob:
    """Change a job's mapping (one field per column) and options before it runs."""
    with transaction.atomic():
        job = job_for(actor, job_id)
        if job.state != JobState.UPLOADED:
            raise ValidationFailed.one("state", _("This import has already been started."))
        if mapping is not None:
            job.mapping = _mapping(job.kind, job.headers, mapping)
        if options is not None:
            job.options = clean_options(actor, options)
        job.save(update_fields=["mapping", "options"])
    return job


def start(*, actor: User, job_id: int) -> ImportJob:
    """Queue the job for the background worker (run at once when jobs run inline, as in tests)."""
    from . import tasks

    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_for(actor, job_id).pk).first()
        if job.state != JobState.UPLOADED:
            raise ValidationFailed.one("state", _("This import has already been started."))
        fields.check_mapping(job.kind, job.headers, job.mapping)
        resolve_options(actor, job.options)
        job.state = JobState.QUEUED
        job.save(update_fields=["state"])
    tasks.run_import_job(job.pk)
    job.refresh_from_db()
    return job


# --- the run --------------------------------------------------------------------------------------


def progress_key(job_id: int) -> str:
    return f"imports:progress:{job_id}"


STALE = 3600  # seconds without a sign of life after which a running import was surely interrupted


def progress_of(job: ImportJob) -> dict[str, Any]:
    """Rows read and percent done: from the cache while the job runs, else from its row. A job
    still "running" with no sign of life for an hour was interrupted (its process killed): its
    transaction was rolled back, nothing of it was written (``stale``)."""
    if job.state == JobState.RUNNING:
        live = cache.get(progress_key(job.pk))
        last = live["at"] if live else (job.started_at.timestamp() if job.started_at else time.time())
        stale = time.time() - last > STALE
        if live:
            return {"rows": live["rows"], "percent": min(99, int(100 * live["fraction"])), "stale": stale}
        return {"rows": job.rows_done, "percent": 0, "stale": stale}
    return {"rows": job.rows_done, "percent": job.percent, "stale": False}


def _progress_to_cache(job_id: int, also=None):
    last = [0.0]

    def progress(rows: int, fraction: float) -> None:
        if also is not None:
            also(rows, fraction)
        now = time.monotonic()
        if now - last[0] >= 0.5:
            last[0] = now
            live = {"rows": rows, "fraction": fraction, "at": time.time()}
            cache.set(progress_key(job_id), live, 2 * STALE)

    return progress


def run_job(job_id: int, progress=None) -> ImportJob:
    """Run a queued job (the background worker; the command line directly)."""
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.state not in (JobState.QUEUED, JobState.UPLOADED):
        return job
    actor = job.created_by
    job.state, job.started_at, job.message = JobState.RUNNING, timezone.now(), ""
    job.save(update_fields=["state", "started_at", "message"])
    report_name = f"job-{job.pk}-errors.csv"
    report = Report(imports_dir() / report_name)
    importer = None
    failed = False
    try:
        _check_actor(actor)
        options = resolve_options(actor, job.options)
        with readers.open_table(job.file, job.original_name) as table:
            if table.headers != job.headers:
                raise ValidationFailed.one("file", _("The file's columns are not those of the preview."))
            mapping = fields.check_mapping(job.kind, table.headers, job.mapping)
            importer = IMPORTERS[job.kind](
                actor=actor,
                table=table,
                mapping=mapping,
                options=options,
                report=report,
                batch_id=job.pk,
                progress=_progress_to_cache(job.pk, progress),
            )
            with no_gc():
                fk_were_on = bulk.foreign_keys_off()
                side = None
                try:
                    # a first load of orders may build its new customers on the other core (bulk.Side)
                    side = _side(job) if job.kind == "orders" and not options.dry_run else None
                    importer.side = side
                    bulk.TIMES.clear()
                    started = time.perf_counter()
                    with bulk.big_cache(), side.begin() if side else nullcontext(), transaction.atomic():
                        if side:
                            side.lock(ImportJob._meta.db_table)
                        importer.run()
                        failed = bool(report) and not options.skip_invalid
                        if failed or options.dry_run:
                            transaction.set_rollback(True)
                        worked = time.perf_counter()
                    bulk.TIMES["commit"] = time.perf_counter() - worked
                    bulk.TIMES["total"] = time.perf_counter() - started
                finally:
                    try:
                        if side:
                            side.detach()
                    finally:
                        if fk_were_on:
                            bulk.foreign_keys_on()
            gc.collect()
            if table.total_rows is None:
                job.rows_total = importer.counts["rows"]
            else:
                job.rows_total = table.total_rows
        job.state = JobState.FAILED if failed else JobState.DONE
        job.counts = importer.counts
        if failed:
            job.message = _("Nothing was written: %(n)s rows are invalid (see the error report).") % {
                "n": report.bad_rows
            }
        elif options.dry_run:
            job.message = _("Dry run: nothing was written.")
    except ValidationFailed as e:
        job.state = JobState.FAILED
        job.message = " ".join(m for msgs in e.errors.values() for m in msgs)
    except (Forbidden, NotFound) as e:
        job.state = JobState.FAILED
        job.message = str(e)
    except Exception as e:  # a crash: the transaction rolled back; keep the job's account of it
        log.exception("import job %s failed", job.pk)
        job.state = JobState.ERROR
        job.message = f"{type(e).__name__}: {e}"
    finally:
        report.close()
    if importer is not None:
        job.rows_done = importer.counts["rows"]
        job.counts = importer.counts
    job.errors_count = report.bad_rows
    job.report_path = report_name if report else ""
    if not report:
        (imports_dir() / report_name).unlink(missing_ok=True)
    job.finished_at = timezone.now()
    written = job.state == JobState.DONE and importer is not None and not importer.options.dry_run
    if written and importer.search_deferred:
        lo, hi = importer.search_ids
        job.counts["search_terms_pending"] = hi - lo + 1
    job.save()
    cache.delete(progress_key(job.pk))
    if written and importer.search_deferred:
        from . import tasks

        tasks.build_search_terms(job.pk, *importer.search_ids)
    return job


def _side(job: ImportJob) -> bulk.Side | None:
    """A scratch database for the job (SQLite; not with ``GUANXI_IMPORT_SIDE=0``); files that
    killed imports left behind go."""
    if os.environ.get("GUANXI_IMPORT_SIDE", "1") == "0":
        return None
    folder = imports_dir()
    for stale in folder.glob("side-*.sqlite3"):
        try:
            other = int(stale.stem.removeprefix("side-"))
            age = time.time() - stale.stat().st_mtime
        except (ValueError, OSError):
            continue
        # a job still running keeps its file; one whose file has not changed for hours was killed
        running = ImportJob.objects.filter(pk=other, state=JobState.RUNNING).exists()
        if other != job.pk and (not running or age > 6 * 3600):
            stale.unlink(missing_ok=True)
    return bulk.Side.attach(folder / f"side-{job.pk}.sqlite3")


def import_file(
    *,
    actor: User,
    kind: str,
    path: str | Path,
    overrides: list[str] | None = None,
    options: dict[str, Any] | None = None,
    report: str | Path | None = None,
    progress=None,
) -> ImportJob:
    """The command line's import: a job for the file where it is, run now in this process."""
    job = create_job(actor=actor, kind=kind, path=path, options=options, overrides=overrides)
    fields.check_mapping(job.kind, job.headers, job.mapping)
    job.state = JobState.QUEUED
    job.save(update_fields=["state"])
    job = run_job(job.pk, progress=progress)
    if report:
        if job.report_file:
            shutil.copyfile(job.report_file, report)
        else:  # no problems: a report with its header only
            Report(Path(report)).close()
    return job


def write_search_terms(job_id: int, lo: int, hi: int) -> int:
    """The follow-up of a large import: search terms of the customers it created (ids lo…hi),
    a few thousand per transaction so that others can write in between."""
    from guanxi.customers import search
    from guanxi.customers.models import Customer

    done = 0
    step = 5000
    for start_id in range(lo, hi + 1, step):
        with transaction.atomic():
            rows: list[tuple[str, str, int]] = []
            for c in Customer.objects.filter(pk__gte=start_id, pk__lt=min(hi + 1, start_id + step)).only(
                "id", "name", "short_name", "phone", "phone_alt", "fax", "email", "credit_code"
            ):
                rows.extend((t, search.KIND_CUSTOMER, c.pk) for t in search.customer_terms(c))
                done += 1
            search.bulk_insert(rows)
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is not None:
        job.counts = {**job.counts, "search_terms_pending": 0}
        job.save(update_fields=["counts"])
    return done
