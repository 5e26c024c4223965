"""Pages of the import: upload (kind, file, options) → preview of the first rows with the
recognised mapping, a select per column → run in the background with a progress bar (htmx polls
every second) → result with counts and the error report (CSV, XLSX).

Thin: parse the request, call a service or selector, render. A job is seen by its creator and
administrators; anyone else gets 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core.errors import Forbidden, NotFound, ValidationFailed

from . import fields, readers, selectors, services
from .forms import MappingForm, UploadForm, apply_errors
from .models import JobState
from .report import read_report, report_as_xlsx
from .rules import may_import


def _job(request, pk: int):
    try:
        return services.job_for(request.user, pk)
    except NotFound:
        raise Http404()


def _importer(request) -> None:
    if not may_import(request.user):
        raise PermissionDenied(_("Only administrators, managers and account managers import data."))


@login_required
def index(request):
    _importer(request)
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES, actor=request.user)
        if form.is_valid():
            data = form.cleaned_data
            options = {k: data.get(k) for k in ("create_customers", "skip_invalid", "dry_run", "owner")}
            try:
                job = services.create_job(
                    actor=request.user, kind=data["kind"], upload=data["file"], options=options
                )
            except ValidationFailed as e:
                apply_errors(form, e)
            except Forbidden as e:
                raise PermissionDenied(str(e))
            else:
                return redirect("imports:detail", job.pk)
    else:
        form = UploadForm(actor=request.user)
    jobs, count = selectors.jobs(request.user, limit=30)
    return render(
        request, "imports/index.html", {"form": form, "jobs": jobs, "count": count, "nav_active": "imports"}
    )


@login_required
def detail(request, pk: int):
    job = _job(request, pk)
    ctx = {"job": job, "nav_active": "imports", "progress": services.progress_of(job)}
    if job.state == JobState.UPLOADED:
        try:
            rows = readers.preview(job.file, job.original_name, rows=10)[1]
        except (ValidationFailed, OSError):
            rows = []
        form = MappingForm(initial=job.options, actor=request.user, job=job)
        ctx.update(
            form=form,
            rows=rows,
            columns=[(h, form[name]) for h, name in zip(job.headers, form.columns, strict=False)],
            ignored=fields.ignored_columns(job.headers, job.mapping),
        )
    elif job.is_finished:
        ctx.update(_result(job))
    return render(request, "imports/detail.html", ctx)


def _result(job) -> dict:
    labels = {
        "rows": _("Rows read"),
        "orders_created": _("Orders created"),
        "orders_replaced": _("Orders replaced"),
        "orders_unchanged": _("Orders unchanged"),
        "lines": _("Order lines"),
        "returns": _("Returns"),
        "free_orders": _("Free orders"),
        "customers_created": _("Customers created"),
        "products_created": _("Products created"),
        "created": _("Customers created"),
        "updated": _("Customers updated"),
        "unchanged": _("Customers unchanged"),
        "invalid_rows": _("Invalid rows"),
        "search_terms_pending": _("New customers waiting for their search terms"),
    }
    counts = [(label, job.counts[key]) for key, label in labels.items() if key in job.counts]
    errors: list[dict] = []
    total = 0
    if job.report_file and job.report_file.exists():
        errors, total = read_report(job.report_file, limit=50)
    return {"counts": counts, "errors": errors, "errors_total": total}


@login_required
@require_POST
def start(request, pk: int):
    job = _job(request, pk)
    if job.state != JobState.UPLOADED:
        return redirect("imports:detail", job.pk)
    form = MappingForm(request.POST, actor=request.user, job=job)
    if form.is_valid():
        try:
            services.configure(
                actor=request.user, job_id=job.pk, mapping=form.mapping(), options=form.options()
            )
            services.start(actor=request.user, job_id=job.pk)
        except ValidationFailed as e:
            for msgs in e.errors.values():
                for m in msgs:
                    messages.error(request, m)
        except Forbidden as e:
            raise PermissionDenied(str(e))
    else:
        messages.error(request, _("Check the options."))
    return redirect("imports:detail", job.pk)


@login_required
def progress(request, pk: int):
    """The progress bar (htmx polls it every second); once the job has finished, the page reloads."""
    job = _job(request, pk)
    if job.is_finished:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("imports:detail", args=[job.pk])
        return response
    return render(request, "imports/_progress.html", {"job": job, "progress": services.progress_of(job)})


@login_required
def report(request, pk: int):
    """The error report, as CSV (default) or XLSX (``?format=xlsx``)."""
    job = _job(request, pk)
    path = job.report_file
    if path is None or not path.exists():
        raise Http404()
    stem = f"import-{job.pk}-errors"
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(
            report_as_xlsx(path),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{stem}.xlsx"'
        return response
    return FileResponse(open(path, "rb"), as_attachment=True, filename=f"{stem}.csv", content_type="text/csv")
