"""`guanxi check` warns when the holiday calendar does not know a year that an SLA needs."""

from django.core.checks import Warning, register
from django.db import DatabaseError
from django.utils import timezone


@register()
def calendar_is_current(app_configs=None, **kwargs):
    from .worktime import library_knows

    year = timezone.localdate().year
    needed = {year}
    try:
        from .models import ManualYear, Ticket

        manual = set(ManualYear.objects.filter(complete=True).values_list("year", flat=True))
        # open tickets whose clocks had to fall back to weekends only
        if Ticket.objects.filter(sla_fallback=True, closed_at__isnull=True).exists():
            needed.add(year + 1)
    except DatabaseError:  # not migrated yet
        manual = set()
    missing = sorted(y for y in needed if y not in manual and not library_knows(y))
    if not missing:
        return []
    years = ", ".join(str(y) for y in missing)
    return [
        Warning(
            f"The Chinese holiday calendar does not know {years}: "
            "working-time SLAs count weekends only there.",
            hint="Upgrade the chinesecalendar package (pip install -U chinesecalendar), or enter the year's "
            "holidays and adjusted working days by hand at /service/calendar/ and mark the year complete.",
            id="service.W001",
        )
    ]
