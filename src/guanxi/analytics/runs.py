"""Analytics runs (C4): request, compute as of a date, store, apply ABC classes, back-test.

``request_run`` validates and queues a run for the background worker (huey); ``execute`` does the
work; ``run_now`` does both in the calling process (the CLI). A run uses only data up to its as-of
date (``snapshot.load``), so an earlier date can be back-tested against what happened after it
(``kind="backtest"`` with ``until``).

Cost at 1,000,000 customers is dominated by reading the snapshot, the BG/NBD fit and writing one
result row per customer; everything per customer is numpy, results go in with one prepared
``executemany`` in customer order (an append to the table's B-tree), and ABC class changes are
applied to the customers with set-based SQL.
"""

from __future__ import annotations

import datetime
import logging
import time
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.errors import Forbidden, ValidationFailed
from guanxi.imports import bulk
from guanxi.org.models import Role
from guanxi.sales.models import to_day

from . import registry, snapshot
from .math import abc as abc_math
from .math import bgnbd, churn, gammagamma, rfm
from .models import AbcBasis, AnalyticsRun, RunKind, RunState, RunTrigger

log = logging.getLogger(__name__)

HORIZONS = (30, 90, 365)
CLV_HORIZON_DAYS = 365
KEEP_SCORED_RUNS = 3  # per kind: older runs keep their figures, their per-customer rows go
RUN_ROLES = (Role.ADMIN, Role.MANAGER, Role.ANALYST)


def may_run(user) -> bool:
    return user is None or getattr(user, "is_admin", False) or getattr(user, "role", None) in RUN_ROLES


def _parse_date(value: Any, field: str, errors: dict) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except ValueError:
        errors.setdefault(field, []).append(_("Enter a valid date (YYYY-MM-DD)."))
        return None


def _validate(*, kind, as_of, until, abc_by, abc_a, abc_b, period_days) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    today = timezone.localdate()
    as_of_d = _parse_date(as_of, "as_of", errors) or (None if "as_of" in errors else today)
    until_d = _parse_date(until, "until", errors)
    if as_of_d and as_of_d > today:
        errors.setdefault("as_of", []).append(_("The as-of date cannot be in the future."))
    if kind not in RunKind.values:
        errors.setdefault("kind", []).append(_("Choose one of the listed values."))
    if kind == RunKind.BACKTEST:
        until_d = until_d or today
        if as_of_d and until_d <= as_of_d:
            errors.setdefault("until", []).append(_("The end of the back-test must be after the as-of date."))
        if until_d > today:
            errors.setdefault("until", []).append(_("The end of the back-test cannot be in the future."))
    elif until_d is not None:
        errors.setdefault("until", []).append(_("Only a back-test has an end date."))
    if abc_by not in AbcBasis.values:
        errors.setdefault("abc_by", []).append(_("Choose one of the listed values."))
    shares = {}
    for field, value in (("abc_a", abc_a), ("abc_b", abc_b)):
        try:
            shares[field] = float(value)
        except (TypeError, ValueError):
            errors.setdefault(field, []).append(_("Enter a number."))
            continue
        if not (0 < shares[field] <= 1):
            errors.setdefault(field, []).append(
                _("Enter a cumulative share above 0 and at most 1 (e.g. 0.8).")
            )
    if (
        "abc_a" in shares
        and "abc_b" in shares
        and "abc_a" not in errors
        and shares["abc_a"] > shares["abc_b"]
    ):
        errors.setdefault("abc_b", []).append(_("Class B must end at or after class A."))
    try:
        period = int(period_days)
        if period < 0 or period > 3650:
            raise ValueError
    except (TypeError, ValueError):
        errors.setdefault("period_days", []).append(_("Enter a number of days from 0 (all history) to 3650."))
        period = 0
    if errors:
        raise ValidationFailed(errors)
    return {
        "kind": kind,
        "as_of": as_of_d,
        "until": until_d,
        "abc_by": abc_by,
        "abc_a": shares["abc_a"],
        "abc_b": shares["abc_b"],
        "period_days": period,
    }


def create_run(
    *,
    actor=None,
    as_of=None,
    until=None,
    kind: str = RunKind.RUN,
    abc_by: str = AbcBasis.REVENUE,
    abc_a: Any = 0.80,
    abc_b: Any = 0.95,
    period_days: Any = 365,
    trigger: str = RunTrigger.CLI,
) -> AnalyticsRun:
    if not may_run(actor):
        raise Forbidden()
    values = _validate(
        kind=kind, as_of=as_of, until=until, abc_by=abc_by, abc_a=abc_a, abc_b=abc_b, period_days=period_days
    )
    return AnalyticsRun.objects.create(requested_by=actor, trigger=trigger, **values)


def request_run(**kwargs) -> AnalyticsRun:
    """Create a run and queue it for the background worker (the web UI, the API, the schedule)."""
    kwargs.setdefault("trigger", RunTrigger.UI)
    run = create_run(**kwargs)
    from .tasks import run_analytics

    transaction.on_commit(lambda: run_analytics(run.pk))
    return run


def run_now(**kwargs) -> AnalyticsRun:
    """Create a run and compute it here and now (the command line)."""
    run = create_run(**kwargs)
    return execute(run.pk)


def latest_run(kind: str = RunKind.RUN) -> AnalyticsRun | None:
    return AnalyticsRun.objects.filter(kind=kind, state=RunState.DONE).order_by("-finished_at", "-id").first()


# --- the computation ------------------------------------------------------------------------------


def execute(run_id: int) -> AnalyticsRun:
    run = AnalyticsRun.objects.get(pk=run_id)
    if run.state not in (RunState.QUEUED, RunState.FAILED):
        return run
    run.state, run.started_at, run.error = RunState.RUNNING, timezone.now(), ""
    run.save(update_fields=["state", "started_at", "error"])
    t0 = time.perf_counter()
    try:
        figures = _compute_and_store(run)
    except Exception as exc:  # the run says what went wrong; the worker goes on
        log.exception("analytics run %s failed", run.pk)
        run.state, run.error, run.finished_at = (
            RunState.FAILED,
            f"{type(exc).__name__}: {exc}",
            timezone.now(),
        )
        run.save(update_fields=["state", "error", "finished_at"])
        return run
    figures["timings"]["total"] = round(time.perf_counter() - t0, 3)
    run.figures = _json_safe(figures)
    run.state, run.finished_at = RunState.DONE, timezone.now()
    run.save(update_fields=["figures", "state", "finished_at", "customers"])
    # the older runs' rows go in a job of their own (deleting a million rows takes seconds that
    # this run's results do not wait for); the worker runs it at once, or when it next starts
    from .tasks import prune_old_scores

    transaction.on_commit(lambda: prune_old_scores(run.kind))
    return run


def _json_safe(value):
    """NaN and infinities become null (JSON has neither; PostgreSQL's jsonb refuses them)."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def _fit(snap: snapshot.Snapshot, figures: dict) -> dict[str, np.ndarray]:
    n = snap.n
    out: dict[str, np.ndarray] = {
        k: np.full(n, np.nan) for k in ("p_alive", "e30", "e90", "e365", "spend", "clv")
    }
    x, t_x, T = snap.x, snap.t_x, snap.T
    t = time.perf_counter()
    bg = gg = None
    try:
        # a first purchase on the as-of day (T = 0) adds nothing to the likelihood and scores as new
        bg = bgnbd.fit_bgnbd(x, t_x, T)
        figures["bgnbd"] = {
            "r": bg.r, "alpha": bg.alpha, "a": bg.a, "b": bg.b, "log_likelihood": bg.log_likelihood,
            "customers": bg.n_customers, "repeat_buyers": bg.n_repeat, "converged": bg.converged,
            "iterations": bg.iterations, "unique_rows": bg.n_unique_rows, "message": bg.message,
            "at_bound": list(bg.at_bound),
        }  # fmt: skip
    except bgnbd.NoRepeatBuyers as exc:
        figures["bgnbd"] = {"error": "no_repeat_buyers", "message": str(exc)}
    except ValueError as exc:
        figures["bgnbd"] = {"error": "no_data", "message": str(exc)}
    figures["timings"]["fit_bgnbd"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    monetary = snap.repeat_mean
    try:
        gg = gammagamma.fit_gammagamma(x, monetary)
        figures["gammagamma"] = {
            "p": gg.p,
            "q": gg.q,
            "v": gg.v,
            "log_likelihood": gg.log_likelihood,
            "customers": gg.n_customers,
            "converged": gg.converged,
            "iterations": gg.iterations,
            "message": gg.message,
            "population_mean_spend": gg.population_mean,
            "at_bound": list(gg.at_bound),
        }
    except ValueError as exc:  # NoRepeatBuyers is a ValueError
        figures["gammagamma"] = {"error": "no_repeat_buyers", "message": str(exc)}
    figures["timings"]["fit_gammagamma"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    if bg is not None:
        out["p_alive"] = bgnbd.probability_alive(bg, x, t_x, T)
        out["e30"], out["e90"], out["e365"] = bgnbd.expected_purchases_many(bg, HORIZONS, x, t_x, T)
    if gg is not None:
        out["spend"] = gammagamma.expected_average_spend(gg, x, monetary)
        if bg is not None:
            out["clv"] = out["e365"] * out["spend"]
    figures["timings"]["score"] = round(time.perf_counter() - t, 3)
    return out


def _read_signals(as_of: datetime.date) -> dict[str, dict[int, float]]:
    from guanxi.sales.selectors_bulk import overdue_receivables

    return {
        "open_complaints": registry.collect("open_complaints", as_of),
        "low_satisfaction": registry.collect("low_satisfaction", as_of),
        "overdue_receivables": overdue_receivables(as_of),
    }


def _signals(snap: snapshot.Snapshot, wanted: dict[str, dict[int, float]]) -> dict[str, np.ndarray]:
    """Open complaints, low satisfaction and overdue receivables per customer of the snapshot."""
    out = {}
    for name, values in wanted.items():
        arr = np.zeros(snap.n)
        if values:
            ids = np.fromiter(values.keys(), dtype=np.int64, count=len(values))
            vals = np.fromiter(values.values(), dtype=float, count=len(values))
            idx = np.searchsorted(snap.customer_id, ids)
            ok = idx < snap.n
            ok[ok] = snap.customer_id[idx[ok]] == ids[ok]
            arr[idx[ok]] = vals[ok]
        out[name] = arr
    return out


def _compute_and_store(run: AnalyticsRun) -> dict:
    figures: dict[str, Any] = {"timings": {}, "time_unit": "days", "as_of": run.as_of.isoformat()}
    timings = figures["timings"]
    a = to_day(run.as_of)
    # a second process reads the windows and churn signals while this one reads the
    # purchase history and fits (a thread was tried: fetching rows holds the GIL); only outside a
    # transaction, whose uncommitted rows another connection would not see, and when it pays
    side = _fork_side_reads(run, a) if _worth_forking() else None
    t = time.perf_counter()
    history = snapshot.read_history(a)
    timings["read_history"] = round(time.perf_counter() - t, 3)
    base = snapshot.build(run.as_of, history, snapshot.NO_WINDOWS, {})
    figures["source"] = base.source
    run.customers = base.n
    figures["customers"] = base.n
    if base.n == 0:
        if side:
            side()
        figures["message"] = "no_purchases"
        return figures
    model = _fit(base, figures)
    t = time.perf_counter()
    windows, signal_values, side_timings = side() if side else _side_reads(run, a)
    if side:
        side_timings["wait_for_side_reads"] = round(time.perf_counter() - t, 3)
    timings.update(side_timings)
    snap = snapshot.build(run.as_of, history, windows, timings)

    t = time.perf_counter()
    value = snap.period_profit if run.abc_by == AbcBasis.PROFIT else snap.period_revenue
    classes, rank, _share, cumulative = abc_math.abc_classes(value, (run.abc_a, run.abc_b))
    recency = snap.as_of_day - snap.last_day
    r, f, m = rfm.rfm_scores(recency, snap.purchase_days, snap.gross)
    segment_index = rfm.rfm_segment_index(r, f, m)
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = np.where(snap.x > 0, snap.t_x / np.maximum(snap.x, 1), np.nan)
    sig = _signals(snap, signal_values)
    risk, reasons = churn.churn_risk(
        p_alive=model["p_alive"],
        days_since_last=recency,
        mean_interpurchase_days=gap,
        revenue_recent=snap.recent_revenue,
        revenue_previous=snap.previous_revenue,
        open_complaints=sig["open_complaints"],
        low_satisfaction=sig["low_satisfaction"] > 0,
        overdue_receivables=sig["overdue_receivables"],
    )
    figures["timings"]["abc_rfm_churn"] = round(time.perf_counter() - t, 3)
    total = float(np.clip(value, 0, None).sum())
    figures["abc"] = {
        "by": run.abc_by,
        "thresholds": [run.abc_a, run.abc_b],
        "period_days": run.period_days,
        "total": total,
        "classes": {
            c: {"customers": int((classes == c).sum()), "value": float(value[classes == c].sum())}
            for c in "ABC"
        },
    }
    per_segment = np.bincount(segment_index, minlength=len(rfm.SEGMENTS) + 1)
    figures["rfm"] = {s: int(per_segment[i]) for i, s in enumerate(rfm.SEGMENTS)}
    # stored as the position in SEGMENTS, NULL when not scored
    segments = np.array([*range(len(rfm.SEGMENTS)), None], dtype=object)[segment_index]
    classes = np.array(["A", "B", "C"], dtype=object)[(classes == "B") + 2 * (classes == "C")]
    figures["churn"] = {
        "at_risk": int((risk >= 50).sum()),
        "reasons": {code: int(((reasons >> i) & 1).sum()) for i, code in enumerate(churn.REASONS)},
    }

    t = time.perf_counter()
    _store_scores(
        run, snap, model, classes, rank, value, cumulative, recency, r, f, m, segments, risk, reasons, timings
    )
    figures["timings"]["store"] = round(time.perf_counter() - t, 3)
    if run.kind == RunKind.RUN and run.as_of >= timezone.localdate():
        t = time.perf_counter()
        figures["abc"]["changed"] = apply_abc_classes(run)
        figures["timings"]["apply_abc"] = round(time.perf_counter() - t, 3)
    if run.kind == RunKind.BACKTEST:
        t = time.perf_counter()
        figures["backtest"] = _backtest(run, snap, model, figures)
        figures["timings"]["backtest"] = round(time.perf_counter() - t, 3)
    return figures


FORK_MIN_BUYERS = 100_000


def _worth_forking() -> bool:
    import multiprocessing

    if connection.in_atomic_block or "fork" not in multiprocessing.get_all_start_methods():
        return False
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM sales_purchasesummary")
        return int(cur.fetchone()[0]) >= FORK_MIN_BUYERS


_inherited: list = []  # the parent's DB handles in a forked child: kept, never used or closed


def _side_child(run_id: int, a: int, pipe) -> None:
    from django.db import connections

    for c in connections.all(initialized_only=True):
        _inherited.append(c.connection)
        c.connection = None
    try:
        pipe.send((True, _side_reads(AnalyticsRun.objects.get(pk=run_id), a)))
    except Exception as exc:  # the parent reports it
        pipe.send((False, f"{type(exc).__name__}: {exc}"))
    finally:
        for c in connections.all(initialized_only=True):
            if c.connection is not None:
                c.close()
        pipe.close()


def _fork_side_reads(run: AnalyticsRun, a: int):
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_side_child, args=(run.pk, a, send), daemon=True)
    proc.start()
    send.close()

    def result():
        ok, payload = receive.recv()
        proc.join()
        if not ok:
            raise RuntimeError(f"reading the purchase windows failed: {payload}")
        return payload

    return result


def _side_reads(run: AnalyticsRun, a: int):
    """What the run needs besides the purchase history."""
    timings: dict[str, float] = {}
    t = time.perf_counter()
    windows = snapshot.read_windows(a, run.period_days)
    timings["read_windows"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    signal_values = _read_signals(run.as_of)
    timings["read_signals"] = round(time.perf_counter() - t, 3)
    return windows, signal_values, timings


def _col(a: np.ndarray, digits: int | None = None) -> list:
    """A column for executemany: floats rounded (NaN → NULL), ints as Python ints."""
    if a.dtype.kind == "f":
        if digits is not None:
            a = np.round(a, digits)
        lst = a.tolist()
        if np.isnan(a).any():
            lst = [None if v != v else v for v in lst]
        return lst
    return a.tolist()


def _store_scores(
    run, snap, model, classes, rank, value, cumulative, recency, r, f, m, segment_no, risk, reasons, timings
) -> None:
    """One row per customer, in customer order (an append to the table and its one index), through
    the bulk insert the imports use (COPY on PostgreSQL, statements of many rows on SQLite). Only
    what lists sort or filter by and what the derived figures need is stored (see
    ``CustomerScore``): the row's width is most of the cost at a million customers."""
    t = time.perf_counter()
    columns = {
        "customer_id": snap.customer_id.tolist(),
        "abc_class": classes.tolist(),
        "abc_rank": rank.tolist(),
        "abc_value": _col(value, 2),
        "abc_cumulative": _col(cumulative, 8),
        "recency_days": recency.tolist(),
        "age_days": snap.T.tolist(),
        "frequency": snap.x.tolist(),
        "monetary": _col(snap.repeat_mean, 2),
        "rfm_code": (100 * r.astype(np.int64) + 10 * f + m).tolist(),
        "rfm_segment_no": segment_no.tolist(),
        "p_alive": _col(model["p_alive"], 6),
        "clv": _col(model["clv"], 2),
        "churn_risk": _col(risk, 2),
        "churn_reasons": reasons.tolist(),
    }
    timings["store_prepare"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    with transaction.atomic():
        bulk.insert(
            "analytics_customerscore", list(columns), zip(*columns.values(), strict=True), {"run_id": run.pk}
        )
        timings["store_insert"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
    timings["store_commit"] = round(time.perf_counter() - t, 3)


def apply_abc_classes(run: AnalyticsRun) -> int:
    """Set each scored customer's ABC class from this run, recording every change in the
    classification history (C3) — set-based, so the first run over a million customers is a few
    statements, and later runs touch only the customers whose class moved."""
    now = timezone.now()
    reason = _("ABC analysis as of %(date)s (by %(basis)s)") % {
        "date": run.as_of.isoformat(),
        "basis": run.get_abc_by_display(),
    }
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "INSERT INTO customers_classificationchange "
            "(customer_id, field, old_value, new_value, changed_by_id, changed_at, reason) "
            "SELECT c.id, 'abc_class', c.abc_class, s.abc_class, NULL, %s, %s "
            "FROM analytics_customerscore s JOIN customers_customer c ON c.id = s.customer_id "
            "WHERE s.run_id = %s AND c.abc_class <> s.abc_class",
            [now, reason, run.pk],
        )
        changed = cur.rowcount
        if changed:
            # UPDATE … FROM (SQLite ≥ 3.33, PostgreSQL): one join pass, several times faster than a
            # correlated subquery per row; the version moves so that an edit form opened before
            # the run answers "changed since you opened it" instead of writing the old class back
            cur.execute(
                "UPDATE customers_customer "
                "SET abc_class = s.abc_class, version = customers_customer.version + 1 "
                "FROM analytics_customerscore s "
                "WHERE s.run_id = %s AND s.customer_id = customers_customer.id "
                "AND customers_customer.abc_class <> s.abc_class",
                [run.pk],
            )
    return max(changed, 0)


def prune_scores(kind: str) -> int:
    """Drop the per-customer rows of all but the newest ``KEEP_SCORED_RUNS`` done runs of a kind."""
    keep = list(
        AnalyticsRun.objects.filter(kind=kind, state=RunState.DONE)
        .order_by("-finished_at", "-id")
        .values_list("pk", flat=True)[:KEEP_SCORED_RUNS]
    )
    old = [
        pk
        for pk, figures in AnalyticsRun.objects.filter(kind=kind)
        .exclude(pk__in=keep)
        .exclude(state=RunState.RUNNING)
        .values_list("pk", "figures")
        if not (figures or {}).get("scores_pruned")
    ]
    if not old:
        return 0
    from .models import CustomerScore

    with transaction.atomic():
        deleted, _x = CustomerScore.objects.filter(run_id__in=old).delete()
        for r in AnalyticsRun.objects.filter(pk__in=old):
            r.figures = {**r.figures, "scores_pruned": True}
            r.save(update_fields=["figures"])
    return deleted


# --- back-test ------------------------------------------------------------------------------------


def _auc(scores: np.ndarray, labels: np.ndarray) -> float | None:
    """Area under the ROC curve (Mann-Whitney, ties counted half); None without both classes."""
    from scipy.stats import rankdata

    ok = np.isfinite(scores)
    scores, labels = scores[ok], labels[ok].astype(bool)
    pos, neg = int(labels.sum()), int((~labels).sum())
    if pos == 0 or neg == 0:
        return None
    ranks = rankdata(scores)
    return float((ranks[labels].sum() - pos * (pos + 1) / 2) / (pos * neg))


def _backtest(run: AnalyticsRun, snap: snapshot.Snapshot, model: dict, figures: dict) -> dict:
    horizon = (run.until - run.as_of).days
    actual = snapshot.future_purchase_days(snap.customer_id, run.as_of, run.until).astype(float)
    out: dict[str, Any] = {"until": run.until.isoformat(), "horizon_days": horizon, "customers": snap.n}
    bg_fig = figures.get("bgnbd", {})
    if "error" in bg_fig:
        out["error"] = bg_fig["error"]
        out["actual"] = float(actual.sum())
        return out
    bg = bgnbd.BgNbdFit.from_figures(bg_fig)
    predicted = bgnbd.expected_purchases(bg, horizon, snap.x, snap.t_x, snap.T)
    err = predicted - actual
    bought = actual > 0
    # calibration by purchases in the calibration period (lifetimes' plot_calibration_purchases_vs_holdout)
    calib = []
    for lo, hi in ((0, 0), (1, 1), (2, 2), (3, 4), (5, 9), (10, 10**9)):
        sel = (snap.x >= lo) & (snap.x <= hi)
        if sel.any():
            calib.append(
                {
                    "x_from": lo,
                    "x_to": None if hi >= 10**9 else hi,
                    "customers": int(sel.sum()),
                    "predicted_mean": float(predicted[sel].mean()),
                    "actual_mean": float(actual[sel].mean()),
                }
            )
    out.update(
        {
            "predicted": float(predicted.sum()),
            "actual": float(actual.sum()),
            "ratio": float(predicted.sum() / actual.sum()) if actual.sum() else None,
            "mae": float(np.abs(err).mean()),
            "rmse": float(np.sqrt((err**2).mean())),
            "bought_again": int(bought.sum()),
            "auc_p_alive": _auc(model["p_alive"], bought),
            "auc_expected": _auc(predicted, bought),
            "calibration": calib,
        }
    )
    return out
