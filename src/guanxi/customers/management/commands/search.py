from django.core.management.base import BaseCommand
from django.db import transaction

from guanxi.customers import search


class Command(BaseCommand):
    help = "Search index: `guanxi search rebuild` recomputes every term."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["rebuild"])

    def handle(self, *args, action, **opts):
        with transaction.atomic():
            n = search.rebuild()
        self.stdout.write(f"{n} search terms written")
