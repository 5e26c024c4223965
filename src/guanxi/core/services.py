"""Writes that belong to no single capability: the export log (C16, C18)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from guanxi.core.errors import ValidationFailed

from .models import ExportLog


def log_export(*, actor, what: str, filters: dict[str, Any], purpose: str, row_count: int) -> ExportLog:
    """Record one export. The purpose is required: every export states why the data leaves."""
    purpose = (purpose or "").strip()
    if not purpose:
        raise ValidationFailed.one("purpose", _("Say what the export is for."))
    clean = {str(k): str(v) for k, v in (filters or {}).items() if v not in (None, "")}
    return ExportLog.objects.create(
        user=actor, what=what[:100], filters=clean, purpose=purpose, row_count=int(row_count)
    )
