"""``guanxi import customers FILE`` and ``guanxi import orders FILE``: CSV (UTF-8, GBK) or XLSX.

    guanxi import orders orders.csv --create-customers
    guanxi import customers 客户.xlsx --map 顾客=customer_name --skip-invalid --report errors.csv

Default all-or-nothing: one invalid row and nothing is written (exit code 1), the report names
every invalid row and why. ``--skip-invalid`` writes the valid rows; ``--dry-run`` only checks.
The whole import is one transaction: an interrupted import leaves the database as it was.
Messages follow the terminal's language (LANG=zh_CN.UTF-8: Chinese; C or en_*: English);
``-v 2`` adds where the time went.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from guanxi.core.errors import DomainError, ValidationFailed
from guanxi.imports import bulk, fields, services
from guanxi.imports.models import JobState
from guanxi.org.models import Role, User


class Command(BaseCommand):
    help = "Import customers or orders from a CSV or XLSX file."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="kind", required=True)
        for kind, what in (("customers", "customers (upsert by customer code)"), ("orders", "order history")):
            p = sub.add_parser(kind, help=f"import {what}")
            p.add_argument("file", help="a .csv (UTF-8 or GBK) or .xlsx file")
            p.add_argument(
                "--map",
                action="append",
                default=[],
                metavar="COLUMN=FIELD",
                help="map a column to a field (repeatable); COLUMN= ignores it. Fields: "
                + ", ".join(fields.field_names(kind)),
            )
            p.add_argument(
                "--create-customers",
                action="store_true",
                help="an unknown customer creates the customer (else the row is an error)",
            )
            p.add_argument(
                "--skip-invalid",
                action="store_true",
                help="write the valid rows and report the others (default: all or nothing)",
            )
            p.add_argument(
                "--owner",
                metavar="USERNAME",
                help="account manager of the customers created (default: the file's account-manager "
                "column, else the importing user)",
            )
            p.add_argument("--dry-run", action="store_true", help="check and report only; write nothing")
            p.add_argument("--report", metavar="FILE", help="write the error report (CSV) to FILE")
            p.add_argument(
                "--user",
                metavar="USERNAME",
                help="import as this user (row-level access); default: the first administrator",
            )
            p.add_argument("--batch-size", type=int, default=20_000, help="rows per batch (default 20000)")
            p.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **o):
        with translation.override(cli_language()):
            return self._handle(*args, **o)

    def _handle(self, *args, kind: str, file: str, **o):
        path = Path(file)
        if not path.is_file():
            raise CommandError(_("No such file: %(file)s") % {"file": file})
        actor = self._user(o.get("user"))
        options = {
            "create_customers": o["create_customers"],
            "skip_invalid": o["skip_invalid"],
            "dry_run": o["dry_run"],
            "owner": o.get("owner") or "",
            "batch_size": o["batch_size"],
        }
        try:
            with _Bar(enabled=not o["no_progress"] and sys.stderr.isatty(), label=path.name) as bar:
                job = services.import_file(
                    actor=actor,
                    kind=kind,
                    path=path,
                    overrides=o["map"],
                    options=options,
                    report=o.get("report"),
                    progress=bar.update,
                )
        except ValidationFailed as e:
            raise CommandError("; ".join(m for msgs in e.errors.values() for m in msgs))
        except DomainError as e:
            raise CommandError(str(e))
        self._summary(job, o)
        if job.state != JobState.DONE:
            raise CommandError(job.message or _("Nothing was written."), returncode=1)

    def _user(self, username: str | None) -> User:
        if username:
            user = User.objects.filter(username=username, is_active=True).first()
            if user is None:
                raise CommandError(_("No active user %(name)s.") % {"name": username})
            return user
        from django.db.models import Q

        user = (
            User.objects.filter(Q(is_superuser=True) | Q(role=Role.ADMIN), is_active=True)
            .order_by("pk")
            .first()
        )
        if user is None:
            raise CommandError(_("No administrator yet: run `guanxi createsuperuser` first, or give --user."))
        return user

    def _summary(self, job, o) -> None:
        counts = dict(job.counts)
        seconds = (
            (job.finished_at - job.started_at).total_seconds() if job.started_at and job.finished_at else 0
        )
        rows = counts.get("rows", 0)
        rate = (" (" + _("%(n)s rows/s") % {"n": f"{rows / seconds:,.0f}"} + ")") if seconds > 0 else ""
        self.stdout.write(
            _("%(rows)s rows in %(s).1f s%(rate)s") % {"rows": f"{rows:,}", "s": seconds, "rate": rate}
        )
        labels = {
            "orders_created": _("orders created"),
            "orders_replaced": _("orders replaced"),
            "orders_unchanged": _("orders unchanged"),
            "lines": _("order lines"),
            "returns": _("returns"),
            "free_orders": _("free orders"),
            "customers_created": _("customers created"),
            "products_created": _("products created"),
            "created": _("customers created"),
            "updated": _("customers updated"),
            "unchanged": _("customers unchanged"),
            "invalid_rows": _("invalid rows"),
        }
        for key, label in labels.items():
            if key in counts:
                self.stdout.write(f"  {label}: {counts[key]:,}")
        if counts.get("search_terms_pending"):
            self.stdout.write(
                _(
                    "Search terms of the %(n)s new customers are written by the background worker "
                    "(guanxi worker); until then they are found by code. `guanxi search rebuild` writes "
                    "them at once."
                )
                % {"n": f"{counts['search_terms_pending']:,}"}
            )
        if job.errors_count:
            report = o.get("report") or (str(job.report_file) if job.report_file else "")
            self.stdout.write(_("Error report: %(file)s") % {"file": report})
            from guanxi.imports.report import read_report

            items, total = read_report(job.report_file, limit=20)
            for item in items:
                self.stdout.write(
                    "  "
                    + _("row %(row)s") % {"row": item["row"]}
                    + f" [{item['column']}] {item['value']!r}: {item['problem']}"
                )
            if total > len(items):
                self.stdout.write("  … " + _("and %(n)s more") % {"n": f"{total - len(items):,}"})
        if job.message:
            self.stdout.write(job.message)
        if int(o.get("verbosity", 1)) >= 2 and bulk.TIMES:
            total = bulk.TIMES.get("total", 0.0)
            steps = {k: v for k, v in bulk.TIMES.items() if k != "total"}
            steps["other"] = total - sum(v for k, v in steps.items() if not k.startswith(bulk.BACKGROUND))
            self.stdout.write(_("Where the time went (%(s).1f s):") % {"s": total})
            for label, seconds in sorted(steps.items(), key=lambda kv: -kv[1]):
                self.stdout.write(f"  {seconds:7.2f} s  {label}")


def cli_language() -> str:
    """The terminal's language, as command-line tools take it: LC_ALL, LC_MESSAGES or LANG —
    zh_* → Chinese, en_* and the plain C/POSIX locale → English, else the site's language."""
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = (os.environ.get(var) or "").strip()
        if not value:
            continue
        if value.lower().startswith("zh"):
            return "zh-hans"
        if value.lower().startswith("en") or value.split(".")[0] in ("C", "POSIX"):
            return "en"
        break
    return settings.LANGUAGE_CODE


class _Bar:
    """A rich progress bar on the terminal (by the share of the file read)."""

    def __init__(self, *, enabled: bool, label: str):
        self.enabled = enabled
        self.label = label
        self.progress = None

    def __enter__(self):
        if self.enabled:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                TextColumn("{task.fields[rows]} rows"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task(self.label, total=1.0, rows="0")
        return self

    def update(self, rows: int, fraction: float) -> None:
        if self.progress is not None:
            self.progress.update(self.task, completed=fraction, rows=f"{rows:,}")

    def __exit__(self, *exc):
        if self.progress is not None:
            self.progress.stop()
