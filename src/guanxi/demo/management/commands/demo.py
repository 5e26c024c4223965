import time

from django.core.management.base import BaseCommand, CommandError

from guanxi.demo import loader
from guanxi.demo.org import DEMO_LOGINS, DEMO_PASSWORD


class Command(BaseCommand):
    help = (
        "Load a demo company (deterministic by seed): organisation, users of every role, customers, "
        "contacts, classification history and monthly revenue. Demo use only: every password is 'demo'."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--customers", type=int, default=loader.DEFAULT_CUSTOMERS, help="how many customers"
        )
        parser.add_argument(
            "--seed", type=int, default=loader.DEFAULT_SEED, help="the same seed, the same company"
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when the database already has data"
        )

    def handle(self, *args, customers, seed, if_empty, **opts):
        empty, why = loader.database_is_empty()
        if not empty:
            if if_empty:
                self.stdout.write(f"Demo data not loaded: {why}.")
                return
            raise CommandError(f"The demo loads into an empty database only, and {why}.")
        if customers < 1:
            raise CommandError("--customers must be at least 1.")
        self.stdout.write(f"Loading the demo company (seed {seed}, {customers} customers) …")
        started = time.perf_counter()
        counts = loader.load(seed=seed, customers=customers, out=self.stdout.write)
        elapsed = time.perf_counter() - started
        self.stdout.write(self.style.SUCCESS(f"Demo company loaded in {elapsed:.1f} s:"))
        for name, n in counts.items():
            self.stdout.write(f"  {name}: {n}")
        self.stdout.write(f"Demo logins: {', '.join(DEMO_LOGINS)} — password: {DEMO_PASSWORD}")
