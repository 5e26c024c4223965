"""Daily jobs of the visits and care app on the background worker (huey): the sweep at 00:30
(missed plans, cadence due dates, greeting tasks) and the Today digest mail at 07:30."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(hour="0", minute="30"))
def daily_sweep() -> None:
    from django.core.management import call_command

    call_command("engagement", "sweep")


@db_periodic_task(crontab(hour="7", minute="30"))
def daily_digest() -> None:
    from django.core.management import call_command

    call_command("remind")
