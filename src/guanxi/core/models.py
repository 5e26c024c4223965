"""Records that belong to no single capability: the log of every export (C16, C18)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ExportLog(models.Model):
    """One export of data out of Guanxi: who, when, what, with which filters and why.

    Customer data must not reach outside parties or competitors, so every export states its purpose
    and leaves this row behind (written in the same request that produces the file).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("user")
    )
    what = models.CharField(_("what"), max_length=100)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    purpose = models.TextField(_("purpose"))
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    created_at = models.DateTimeField(_("exported at"), default=timezone.now)

    class Meta:
        verbose_name = _("export log entry (导出记录)")
        verbose_name_plural = _("export log")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="export_created"),
            models.Index(fields=["user", "-created_at"], name="export_user"),
        ]

    def __str__(self) -> str:
        return f"{self.what} ({self.row_count}) by {self.user_id} at {self.created_at:%Y-%m-%d %H:%M}"
