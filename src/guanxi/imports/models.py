"""An import job (导入任务): one uploaded file, its column mapping and options, and what came of it.

The command line (``guanxi import``) runs the same pipeline without a job row; the web UI and the
API create a job, let the user check the mapping on a preview, and run it in the background.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ImportKind(models.TextChoices):
    CUSTOMERS = "customers", _("Customers")
    ORDERS = "orders", _("Orders")


class JobState(models.TextChoices):
    UPLOADED = "uploaded", _("Waiting for the mapping")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed: nothing written")
    ERROR = "error", _("Stopped by an error")


FINISHED = (JobState.DONE, JobState.FAILED, JobState.ERROR)


def imports_dir() -> Path:
    """Where uploads and error reports are kept (``DATA_DIR/imports``)."""
    path = Path(settings.DATA_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


class ImportJob(models.Model):
    kind = models.CharField(_("kind"), max_length=10, choices=ImportKind.choices)
    original_name = models.CharField(_("file"), max_length=255)
    # relative to imports_dir(): the stored upload and, once run, the error report (CSV)
    file_path = models.CharField(max_length=255)
    report_path = models.CharField(max_length=255, blank=True)
    headers = models.JSONField(_("columns"), default=list)
    # one entry per column of the file: the field it fills, or "" (ignored)
    mapping = models.JSONField(_("column mapping"), default=list)
    options = models.JSONField(_("options"), default=dict)
    state = models.CharField(_("state"), max_length=10, choices=JobState.choices, default=JobState.UPLOADED)
    rows_total = models.IntegerField(_("rows"), null=True, blank=True)
    rows_done = models.IntegerField(_("rows read"), default=0)
    counts = models.JSONField(_("counts"), default=dict)
    errors_count = models.IntegerField(_("invalid rows"), default=0)
    message = models.TextField(_("message"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="import_jobs",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("import job (导入任务)")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_by", "-created_at"], name="importjob_creator")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.original_name}"

    @property
    def file(self) -> Path:
        return imports_dir() / self.file_path

    @property
    def report_file(self) -> Path | None:
        return imports_dir() / self.report_path if self.report_path else None

    @property
    def is_finished(self) -> bool:
        return self.state in FINISHED

    @property
    def percent(self) -> int:
        if self.is_finished:
            return 100
        if self.rows_total:
            return min(99, int(100 * self.rows_done / self.rows_total))
        return 0
