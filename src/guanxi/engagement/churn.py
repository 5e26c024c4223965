"""The visits app's churn signal for analytics (registered in apps.py): the customer's latest
visit record by a date rated our service 1 or 2 of 5."""

from __future__ import annotations

import datetime


def low_satisfaction(as_of: datetime.date) -> dict[int, float]:
    from .models import Visit

    latest: dict[int, int] = {}
    for cid, sat in (
        Visit.objects.filter(visited_on__lte=as_of, service_satisfaction__isnull=False)
        .order_by("visited_on", "id")
        .values_list("customer_id", "service_satisfaction")
    ):
        latest[cid] = sat
    return {cid: 1.0 for cid, sat in latest.items() if sat <= 2}
