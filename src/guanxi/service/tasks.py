"""Service desk jobs on the background worker (huey): overdue tickets are escalated every 10 minutes."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(minute="*/10"))
def escalate_tickets() -> None:
    from django.core.management import call_command

    call_command("escalate_tickets")
