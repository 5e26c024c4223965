"""REST endpoints of imports: upload a file (multipart) as a job, follow its progress, read its
error report. A job is seen by its creator and administrators (404 for anyone else)."""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from guanxi.core.errors import ValidationFailed

from . import selectors, services
from .report import read_report

router = Router(tags=["imports"])


class JobOut(Schema):
    id: int
    kind: str
    original_name: str
    state: str
    headers: list[str]
    mapping: list[str]
    options: dict[str, Any]
    rows_total: int | None
    rows_done: int
    percent: int
    counts: dict[str, Any]
    errors_count: int
    message: str
    created_by_id: int
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None


class JobPage(Schema):
    items: list[JobOut]
    count: int


class ErrorItem(Schema):
    row: int
    column: str
    value: str
    problem: str


class ErrorPage(Schema):
    items: list[ErrorItem]
    count: int


class StartIn(Schema):
    mapping: list[str] | dict[str, str] | None = None


def _out(job) -> dict[str, Any]:
    progress = services.progress_of(job)
    data = {f: getattr(job, f) for f in JobOut.model_fields if hasattr(job, f) and f != "percent"}
    data["rows_done"] = progress["rows"]
    data["percent"] = progress["percent"]
    return data


def _mapping(text: str | None):
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        raise ValidationFailed.one(
            "mapping", _("Send the mapping as JSON: a list of fields or {column: field}.")
        )
    if not isinstance(value, list | dict):
        raise ValidationFailed.one(
            "mapping", _("Send the mapping as JSON: a list of fields or {column: field}.")
        )
    return value


@router.post("/imports", response={201: JobOut})
def create_import(
    request: HttpRequest,
    file: File[UploadedFile],
    kind: Form[str],
    create_customers: Form[bool] = False,
    skip_invalid: Form[bool] = False,
    dry_run: Form[bool] = False,
    owner: Form[str] = "",
    mapping: Form[str] = "",
    start: Form[bool] = True,
):
    """Upload a CSV or XLSX file as an import of `kind` (`customers` or `orders`). The columns are
    recognised from their headers; `mapping` (JSON: one field per column, or {header: field})
    overrides. With `start` (the default) the job runs at once in the background; follow it with
    GET /imports/{id}. Bad input answers 422 with the fields named."""
    options = {
        "create_customers": create_customers,
        "skip_invalid": skip_invalid,
        "dry_run": dry_run,
        "owner": owner,
    }
    job = services.create_job(
        actor=request.auth, kind=kind, upload=file, options=options, mapping=_mapping(mapping)
    )
    if start:
        job = services.start(actor=request.auth, job_id=job.pk)
    return Status(201, _out(job))


@router.get("/imports", response=JobPage)
def list_imports(request: HttpRequest, limit: int = 50, offset: int = 0):
    """The caller's import jobs (administrators: everyone's), newest first."""
    items, count = selectors.jobs(request.auth, limit=max(1, min(limit, 200)), offset=max(0, offset))
    return {"items": [_out(j) for j in items], "count": count}


@router.get("/imports/{job_id}", response=JobOut)
def get_import(request: HttpRequest, job_id: int):
    """State, progress (`rows_done`, `percent`) and counts of an import job."""
    return _out(services.job_for(request.auth, job_id))


@router.post("/imports/{job_id}/start", response=JobOut)
def start_import(request: HttpRequest, job_id: int, payload: StartIn | None = None):
    """Start a job uploaded with `start=false`, optionally with a new mapping."""
    if payload is not None and payload.mapping is not None:
        services.configure(actor=request.auth, job_id=job_id, mapping=payload.mapping)
    return _out(services.start(actor=request.auth, job_id=job_id))


@router.get("/imports/{job_id}/errors", response=ErrorPage)
def import_errors(request: HttpRequest, job_id: int, limit: int = 100, offset: int = 0):
    """The job's error report: every invalid row with its column, value and problem."""
    job = services.job_for(request.auth, job_id)
    if not job.report_file or not job.report_file.exists():
        return {"items": [], "count": 0}
    items, count = read_report(job.report_file, offset=max(0, offset), limit=max(1, min(limit, 1000)))
    return {"items": items, "count": count}
