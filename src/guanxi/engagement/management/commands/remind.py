"""``guanxi remind``: send each user the daily digest email of their Today (run every morning)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from guanxi.engagement import digest, services
from guanxi.org.models import User


class Command(BaseCommand):
    help = "Email each active user with an address the digest of their Today (SMTP from GUANXI_EMAIL_URL)."

    def add_arguments(self, parser):
        parser.add_argument("--user", action="append", help="only these usernames (repeatable)")
        parser.add_argument(
            "--base-url",
            default=None,
            help="the site's address for the links (GUANXI_BASE_URL)",
        )
        parser.add_argument("--dry-run", action="store_true", help="print what would be sent")

    def handle(self, *args, user=None, base_url: str | None, dry_run: bool, **options):
        base_url = base_url or settings.GUANXI_BASE_URL  # one setting for every link we mail
        services.mark_missed()
        users = User.objects.filter(is_active=True).exclude(email="").order_by("username")
        if user:
            users = users.filter(username__in=user)
            if not users.exists():
                raise CommandError("no such active user with an email address")
        messages = [m for m in (digest.compose(u, base_url) for u in users) if m is not None]
        if dry_run:
            for m in messages:
                self.stdout.write(f"--- to {', '.join(m.to)}: {m.subject}\n{m.body}")
            return
        try:
            connection = digest.connection_from_url()
        except ValueError as e:
            raise CommandError(str(e))
        sent = connection.send_messages(messages) if messages else 0
        self.stdout.write(f"digests sent: {sent or 0} of {len(messages)}")
