"""`make bench`: server time of the customer list, search and card at 1,000,000 customers.

    .venv/bin/python -m bench.run [--rebuild] [--samples 50] [--customers 1000000] [--only CASE,...]

1. Builds (once; reused unless ``--rebuild``) a SQLite database through the real schema with
   1,000,000 customers and 2,000,000 contacts (bench/build.py), in ``$GUANXI_BENCH_DIR`` or
   bench/data/ (git-ignored).
2. Measures p50/p95 server time through Django (``django.test.Client``, real URL routes, warm
   cache) of each case as an administrator, a manager (department scope) and an account manager
   (own book + account teams + deputised books), on the web page and on the REST API.
3. Prints a table and writes bench/results-<date>.json. Goal: p95 < 100 ms for every case.

A second suite, ``orders`` (bench/orders.py), imports ~10,000,000 order lines of 1,000,000 customers
(SQLite and PostgreSQL) and times ``guanxi analytics run`` against the analyst's pandas + ``lifetimes``
route; it writes bench/results-orders-<date>.json. ``make bench`` runs both suites; ``--suite
customers`` or ``--suite orders`` runs one. ``--only`` names cases of either suite (a suite none of
whose names are given is skipped).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sqlite3
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent


def data_base() -> Path:
    return Path(os.environ.get("GUANXI_BENCH_DIR") or BENCH_DIR / "data")


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "sqlite": sqlite3.sqlite_version,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def warm_os_cache(path: Path) -> float:
    """Read the database file once so that the measurement runs against a warm page cache."""
    t0 = time.time()
    for p in (path, path.with_name(path.name + "-wal")):
        if p.exists():
            with open(p, "rb", buffering=0) as f:
                while f.read(16 << 20):
                    pass
    return time.time() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    ap.add_argument("--rebuild", action="store_true", help="rebuild the database even if it exists")
    ap.add_argument("--build-only", action="store_true", help="build (if needed) and stop")
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--contacts", type=int, default=None, help="default: 2 per customer")
    ap.add_argument("--samples", type=int, default=50, help="timed requests per case, role and surface")
    ap.add_argument("--only", default="", help="comma-separated case names (default: all)")
    ap.add_argument("--roles", default="admin,manager,account_manager")
    ap.add_argument(
        "--surfaces",
        default="ui,htmx,api",
        help="ui (whole web page), htmx (the list's table swapped in place), api (REST)",
    )
    ap.add_argument("--queries", action="store_true", help="print the slowest SQL of each case")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-sanity", action="store_true", help="skip the search sanity check")
    ap.add_argument("--suite", default="customers,orders", help="customers, orders or both (default)")
    og = ap.add_argument_group("orders suite (bench/orders.py)")
    og.add_argument("--runs", type=int, default=3, help="orders suite: runs per measurement (median)")
    og.add_argument("--no-pg", action="store_true", help="orders suite: skip the PostgreSQL import")
    og.add_argument("--pg-url", default=None, help="orders suite: database to create, use and drop")
    args = ap.parse_args(argv)
    suites = [s.strip() for s in args.suite.split(",") if s.strip()]
    if unknown := set(suites) - {"customers", "orders"}:
        ap.error(f"unknown suite(s): {', '.join(sorted(unknown))}")
    only = [c for c in args.only.split(",") if c]
    from . import orders

    orders_only = [c for c in only if c in orders.STEPS]
    customer_only = [c for c in only if c not in orders.STEPS]
    rc = 0
    if "customers" in suites and (not only or customer_only):
        rc = run_customers(args, customer_only, argv)
    if "orders" in suites and (not only or orders_only):
        steps = orders_only or [s for s in orders.STEPS if not (args.no_pg and s == "import_pg")]
        if args.build_only:
            steps = ["generate"]
        orders.run(customers=args.customers, runs=args.runs, steps=steps, rebuild=args.rebuild,
                   pg_url=args.pg_url or orders.PG_URL, machine=machine(),
                   argv=sys.argv[1:] if argv is None else argv)  # fmt: skip
    return rc


def run_customers(args: argparse.Namespace, only: list[str], argv: list[str] | None) -> int:
    """The customers suite: list, search and card pages at ``--customers`` customers."""

    from . import build

    contacts = args.contacts if args.contacts is not None else 2 * args.customers
    target = data_base() / f"db-{args.customers}"
    facts = None if args.rebuild else build.load_facts(target)
    if facts is None:
        print(f"Building {args.customers:,} customers and {contacts:,} contacts in {target} …", flush=True)
        facts = build.build(target, customers=args.customers, contacts=contacts)
        print(f"Build: {facts['build_seconds']:.0f} s", flush=True)
    else:
        print(
            f"Reusing {target} (built {facts['built_at']} in {facts['build_seconds']:.0f} s;"
            " --rebuild to redo)"
        )
    if args.build_only:
        return 0

    os.environ["GUANXI_DATA_DIR"] = str(target)
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanxi.config.settings"
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from . import measure

    db = target / build.DB_NAME
    mach = machine()
    print(
        f"Machine: {mach['nproc']} CPUs, {mach['cpu']}, {mach['memory']} RAM; SQLite {mach['sqlite']}; "
        f"Python {mach['python']}; load average {mach['load_average']}"
    )
    print(f"Database: {db} ({db.stat().st_size / 1e9:.2f} GB), rows: {facts['rows']}")
    # migrations added since the build (new apps, the index changes of models.py) are applied
    from io import StringIO

    from django.core.management import call_command
    from django.db import connection

    out = StringIO()
    measure.unsync_indexes()
    call_command("migrate", "--noinput", stdout=out)
    applied = [line.strip() for line in out.getvalue().splitlines() if line.strip().startswith("Applying")]
    if applied:
        print("Migrations applied to the bench database: " + "; ".join(applied))
        with connection.cursor() as cur:
            cur.execute("ANALYZE")  # statistics for the indexes those migrations made
    changed = measure.sync_indexes()
    if changed:
        print("Indexes declared in models.py but missing from the database, created: " + "; ".join(changed))
    print(f"Warmed the OS cache in {warm_os_cache(db):.1f} s", flush=True)

    sanity = None
    if not args.no_sanity:
        sanity = {"search": measure.sanity_check()}
        print(f"Sanity: {sanity['search']}", flush=True)
        sanity["plans"] = measure.verify_plans()
        print(f"Plans: {sanity['plans']}", flush=True)
    results = measure.run(
        samples=args.samples,
        only=only,
        roles=[r for r in args.roles.split(",") if r],
        surfaces=[s for s in args.surfaces.split(",") if s],
        seed=args.seed,
        show_queries=args.queries,
    )
    measure.print_table(results)
    out = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "command": "python -m bench.run " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": mach,
        "build": facts,
        "db_bytes": db.stat().st_size,
        "goal_p95_ms": measure.GOAL_MS,
        "sanity": sanity,
        "indexes_created_from_models": changed,
        "results": results,
    }
    path = BENCH_DIR / f"results-{datetime.date.today().isoformat()}.json"
    path.write_text(json.dumps(out, indent=2, ensure_ascii=False, default=str))
    print(f"Wrote {path}")
    failed = [r for r in results if not r["pass"]]
    print(f"{len(results) - len(failed)} of {len(results)} measurements meet p95 < {measure.GOAL_MS} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
