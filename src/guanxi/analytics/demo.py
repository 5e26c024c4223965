"""Demo: an analytics run as of today over the demo's two years of orders (so that every analytics
page, the card's box and Today have something to show), and a back-test of the half-year before."""

from __future__ import annotations

import datetime


def generate(ctx) -> dict[str, int]:
    from . import runs
    from .models import RunKind, RunState, RunTrigger

    today = ctx.today
    backtest = runs.run_now(
        kind=RunKind.BACKTEST,
        as_of=today - datetime.timedelta(days=182),
        until=today,
        trigger=RunTrigger.SCHEDULE,
    )
    run = runs.run_now(as_of=today, trigger=RunTrigger.SCHEDULE)
    return {
        "analytics runs": int(run.state == RunState.DONE) + int(backtest.state == RunState.DONE),
        "customers scored": run.customers,
    }
