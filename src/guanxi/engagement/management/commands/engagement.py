"""``guanxi engagement sweep``: plans whose day has passed become missed, cadence due dates are
refreshed and greeting tasks are created for the coming days (run daily, e.g. from cron)."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from guanxi.engagement import services


class Command(BaseCommand):
    help = "Daily upkeep of visits and care: sweep (missed plans, cadence due dates, greeting tasks)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sweep = sub.add_parser("sweep", help="mark missed plans, refresh cadence, create greeting tasks")
        sweep.add_argument("--as-of", help="the day to sweep as (YYYY-MM-DD); default today")

    def handle(self, *args, action: str, as_of: str | None = None, **options):
        if action != "sweep":  # pragma: no cover - argparse restricts it
            raise CommandError(f"unknown action {action}")
        try:
            day = datetime.date.fromisoformat(as_of) if as_of else timezone.localdate()
        except ValueError:
            raise CommandError("--as-of: use YYYY-MM-DD")
        missed = services.mark_missed(day)
        refreshed = services.refresh_all()
        tasks = services.generate_care_tasks(day)
        self.stdout.write(
            f"missed plans: {missed}; customers refreshed: {refreshed}; greeting tasks made: {tasks}"
        )
