from django.core.management.base import BaseCommand

from guanxi.service.services import escalate_breaches


class Command(BaseCommand):
    help = "Flag tickets past their SLA and escalate them to the assignee's manager (run from cron)."

    def handle(self, *args, **options):
        n = escalate_breaches()
        self.stdout.write(f"{n} ticket(s) escalated")
