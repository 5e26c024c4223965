"""``guanxi token create USER [--name N]`` prints a new API token alone on its last line;
``guanxi token list [USER]`` and ``guanxi token revoke ID`` manage them."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from guanxi.org.models import ApiToken, User
from guanxi.org.services import create_token


class Command(BaseCommand):
    help = "Create, list or revoke API tokens."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token for USER")
        create.add_argument("username")
        create.add_argument("--name", default="cli")
        lst = sub.add_parser("list", help="list tokens")
        lst.add_argument("username", nargs="?")
        revoke = sub.add_parser("revoke", help="revoke a token by id")
        revoke.add_argument("token_id", type=int)

    def handle(self, *args, action, **opts):
        if action == "create":
            user = User.objects.filter(username=opts["username"], is_active=True).first()
            if user is None:
                raise CommandError(f"no active user {opts['username']!r}")
            _token, key = create_token(user=user, name=opts["name"])
            self.stderr.write(f"Token for {user.username} (shown once; keep it secret):")
            self.stdout.write(key)
        elif action == "list":
            qs = ApiToken.objects.select_related("user").order_by("id")
            if opts.get("username"):
                qs = qs.filter(user__username=opts["username"])
            for t in qs:
                state = "revoked" if t.revoked_at else "active"
                self.stdout.write(f"{t.pk}\t{t.user.username}\t{t.prefix}…\t{t.name}\t{state}")
        else:
            n = ApiToken.objects.filter(pk=opts["token_id"], revoked_at__isnull=True).update(
                revoked_at=timezone.now()
            )
            if not n:
                raise CommandError("no such active token")
            self.stdout.write("revoked")
