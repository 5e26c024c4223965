"""``guanxi analytics run|backtest``: customer analytics as of a date (C4).

guanxi analytics run [--as-of DATE] [--by revenue|profit] [--thresholds 0.8,0.95] [--period-days 365] [--json]
guanxi analytics backtest --as-of DATE [--until DATE2] [--json]
guanxi analytics runs              the latest runs
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from guanxi.analytics import runs
from guanxi.analytics.models import AnalyticsRun, RunKind, RunState, RunTrigger
from guanxi.core.errors import ValidationFailed


class Command(BaseCommand):
    help = "Customer analytics: ABC, RFM, BG/NBD + Gamma-Gamma, churn risk; back-tests."
    # the system checks import every URL module and API schema: seconds a nightly job need not spend
    requires_system_checks: list = []

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        for name in ("run", "backtest"):
            p = sub.add_parser(
                name, help="compute as of a date" if name == "run" else "fit, then compare with what happened"
            )
            p.add_argument(
                "--as-of", dest="as_of", help="YYYY-MM-DD (default today)", required=name == "backtest"
            )
            if name == "backtest":
                p.add_argument("--until", help="YYYY-MM-DD (default today)")
            p.add_argument("--by", dest="abc_by", default="revenue", choices=["revenue", "profit"])
            p.add_argument(
                "--thresholds", default="0.8,0.95", help="cumulative shares ending classes A and B"
            )
            p.add_argument(
                "--period-days",
                dest="period_days",
                type=int,
                default=365,
                help="ABC over this many days up to the as-of date (0 = all history)",
            )
            p.add_argument("--json", action="store_true", help="print the run's figures as JSON")
        sub.add_parser("runs", help="list the latest runs")

    def handle(self, *args, action: str, **opts):
        if action == "runs":
            for r in AnalyticsRun.objects.all()[:20]:
                self.stdout.write(
                    f"{r.pk:>5} {r.kind:<8} {r.as_of} {r.state:<7} {r.customers:>9} {r.seconds or 0:.1f}s"
                )
            return
        try:
            a, b = (float(x) for x in opts["thresholds"].split(","))
        except ValueError:
            raise CommandError("--thresholds: two numbers, e.g. 0.8,0.95")
        try:
            run = runs.run_now(
                kind=RunKind.BACKTEST if action == "backtest" else RunKind.RUN,
                as_of=opts.get("as_of"),
                until=opts.get("until"),
                abc_by=opts["abc_by"],
                abc_a=a,
                abc_b=b,
                period_days=opts["period_days"],
                trigger=RunTrigger.CLI,
            )
        except ValidationFailed as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items()))
        if run.state != RunState.DONE:
            raise CommandError(f"run {run.pk} failed: {run.error}")
        if opts["json"]:
            out = {
                "run": run.pk,
                "kind": run.kind,
                "as_of": run.as_of.isoformat(),
                "customers": run.customers,
                **_flat(run.figures),
            }
            self.stdout.write(json.dumps(out, ensure_ascii=False, indent=2))
            return
        f = run.figures
        self.stdout.write(
            f"run {run.pk}: {run.customers} customers as of {run.as_of} ({f['timings'].get('total')} s)"
        )
        bg, gg = f.get("bgnbd", {}), f.get("gammagamma", {})
        if "error" in bg:
            self.stdout.write(f"BG/NBD: {bg['message']}")
        elif bg:
            self.stdout.write(
                f"BG/NBD (days): r={bg['r']:.4g} alpha={bg['alpha']:.4g} a={bg['a']:.4g} b={bg['b']:.4g}"
            )
        if "error" in gg:
            self.stdout.write(f"Gamma-Gamma: {gg['message']}")
        elif gg:
            self.stdout.write(f"Gamma-Gamma: p={gg['p']:.4g} q={gg['q']:.4g} v={gg['v']:.4g}")
        if "abc" in f:
            self.stdout.write(
                "ABC: " + ", ".join(f"{c}={v['customers']}" for c, v in f["abc"]["classes"].items())
            )
        if "backtest" in f:
            bt = f["backtest"]
            self.stdout.write(
                f"back-test to {bt['until']}: predicted {bt.get('predicted', 0):.0f} "
                f"vs actual {bt['actual']:.0f} "
                f"repeat purchases; AUC p_alive {bt.get('auc_p_alive')}, expected {bt.get('auc_expected')}"
            )


def _flat(figures: dict) -> dict:
    """The run's figures with the fitted parameters also at the top level (r, alpha, a, b, p, q, v)."""
    out = dict(figures)
    bg, gg = figures.get("bgnbd", {}), figures.get("gammagamma", {})
    for k in ("r", "alpha", "a", "b"):
        if k in bg:
            out[k] = bg[k]
    for k in ("p", "q", "v"):
        if k in gg:
            out[k] = gg[k]
    out["log_likelihood"] = {"bgnbd": bg.get("log_likelihood"), "gammagamma": gg.get("log_likelihood")}
    if "backtest" in figures:
        out["predicted"] = figures["backtest"].get("predicted")
        out["actual"] = figures["backtest"].get("actual")
    return out
