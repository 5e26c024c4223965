"""``guanxi worker``: the background-job consumer (imports, analytics runs, the nightly schedule).

A thin name for huey's ``run_huey`` so that administrators have one command to remember. Run one
or more next to ``guanxi serve`` (which starts one itself unless ``--no-worker``)."""

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the background-job worker (huey consumer)."

    def add_arguments(self, parser):
        parser.add_argument("--workers", type=int, default=2)

    def handle(self, *args, workers, **options):
        call_command("run_huey", workers=workers, worker_type="thread")
