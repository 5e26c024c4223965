"""Background jobs of analytics (huey): a run requested from the web UI or the API, pruning the
per-customer rows of old runs after each run, and the nightly run as of today (02:30 by the
server's clock, ``GUANXI_ANALYTICS_NIGHTLY=0`` turns it off)."""

from __future__ import annotations

import os

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task


@db_task()
def run_analytics(run_id: int) -> None:
    from . import runs

    runs.execute(run_id)


@db_task()
def prune_old_scores(kind: str) -> int:
    """Drop the per-customer rows of the runs of ``kind`` older than the last few (after a run)."""
    from . import runs

    return runs.prune_scores(kind)


@db_periodic_task(crontab(hour="2", minute="30"))
def nightly_analytics() -> None:
    if os.environ.get("GUANXI_ANALYTICS_NIGHTLY", "1") == "0":
        return
    from . import runs
    from .models import RunTrigger

    runs.run_now(trigger=RunTrigger.SCHEDULE)
