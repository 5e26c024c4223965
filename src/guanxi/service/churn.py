"""The service desk's churn signals for analytics (registered in apps.py): open complaints and
unhappy survey answers as of a date."""

from __future__ import annotations

import datetime

from django.db.models import Count, Q
from django.utils import timezone


def _end_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time()))


def open_complaints(as_of: datetime.date) -> dict[int, float]:
    """Complaints made by the end of ``as_of`` and not resolved by then."""
    from .models import Kind, Ticket

    end = _end_of(as_of)
    rows = (
        Ticket.objects.filter(kind=Kind.COMPLAINT, created_at__lt=end)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=end))
        .values("customer_id")
        .annotate(n=Count("id"))
    )
    return {r["customer_id"]: float(r["n"]) for r in rows}


def detractors(as_of: datetime.date) -> dict[int, float]:
    """Customers whose latest survey answer by ``as_of`` gives 0–6 for recommending us (NPS
    detractors)."""
    from .models import SurveyInvitation

    latest: dict[int, tuple] = {}
    for cid, at, nps in (
        SurveyInvitation.objects.filter(answered_at__lt=_end_of(as_of), nps__isnull=False)
        .order_by("answered_at")
        .values_list("customer_id", "answered_at", "nps")
    ):
        latest[cid] = (at, nps)
    return {cid: 1.0 for cid, (_at, nps) in latest.items() if nps <= 6}
