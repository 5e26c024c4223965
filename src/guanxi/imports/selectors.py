"""Every read of import jobs, each from ``scope()``: a job is seen by its creator and by
administrators."""

from __future__ import annotations

from django.db.models import QuerySet

from guanxi.org.access import scope

from .models import ImportJob


def jobs(user, *, limit: int = 50, offset: int = 0) -> tuple[list[ImportJob], int]:
    qs: QuerySet = scope(user, ImportJob.objects.select_related("created_by"), "view").order_by(
        "-created_at", "-id"
    )
    return list(qs[offset : offset + limit]), qs.count()
