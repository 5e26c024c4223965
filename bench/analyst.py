"""The data analyst's route to the same analytics: pandas + ``lifetimes`` over the order lines.

    bench/data/venv-analyst/bin/python bench/analyst.py --db guanxi.sqlite3 --as-of 2026-06-30

Runs in its own virtualenv (bench/requirements-analyst.txt; ``lifetimes`` is not a dependency of
Guanxi) and imports nothing from Guanxi or bench. What a competent analyst would write:

1. ``read``    — ``pd.read_sql`` over ``sqlite3``: customer, order date and amount of every order line
                 up to the as-of date (order lines joined to their orders);
2. ``group``   — dates parsed, line amounts summed per (customer, day): purchases on the same day are
                 one purchase (the BG/NBD convention);
3. ``summary`` — ``lifetimes.utils.summary_data_from_transaction_data`` (freq ``D``): frequency =
                 repeat purchase days, recency and T in days from the first purchase to the last one
                 and to the as-of date, monetary value = mean of the repeat purchases;
4. ``bgnbd``   — ``BetaGeoFitter(penalizer_coef=0)``;
5. ``gg``      — ``GammaGammaFitter(penalizer_coef=0)`` on the repeat customers;
6. ``score``   — P(alive), expected purchases in 30/90/365 days, expected spend per purchase and a
                 CLV (expected purchases in 365 days × expected spend), as ``guanxi analytics run``
                 computes them for every customer;
7. ``abc_rfm`` — ABC classes by the last 365 days' revenue (cumulative shares 80 % / 95 %) and RFM
                 quintile scores (``pd.qcut`` of ranks of recency, purchase days, revenue) with the
                 eight segments (score above the mean or not).

Not done here, though ``guanxi analytics run`` does it: the churn risk score (a Guanxi rule with no
analyst's counterpart) and storing a row of results per customer in the database.

Prints one JSON object: the phase times, the fitted parameters and a few counts.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time

T_START = time.perf_counter()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from lifetimes import BetaGeoFitter, GammaGammaFitter  # noqa: E402
from lifetimes.utils import ConvergenceError, summary_data_from_transaction_data  # noqa: E402

T_IMPORTED = time.perf_counter()

SQL = """
SELECT o.customer_id, o.order_date, l.amount
FROM sales_orderline l JOIN sales_order o ON o.id = l.order_id
WHERE o.order_date <= ?
"""
PERIOD_DAYS = 365  # ABC over the last year's revenue, as ``guanxi analytics run`` by default


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--as-of", required=True)
    args = ap.parse_args()
    asof = pd.Timestamp(args.as_of)
    phases: dict[str, float] = {"imports": T_IMPORTED - T_START}
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        phases[name] = now - t
        t = now

    con = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
    lines = pd.read_sql(SQL, con, params=[args.as_of])
    con.close()
    lap("read")

    lines["order_date"] = pd.to_datetime(lines["order_date"], format="%Y-%m-%d")
    daily = lines.groupby(["customer_id", "order_date"], as_index=False, sort=False)["amount"].sum()
    lap("group")

    s = summary_data_from_transaction_data(
        daily, "customer_id", "order_date", monetary_value_col="amount", observation_period_end=asof, freq="D"
    )
    lap("summary")

    bgf = BetaGeoFitter(penalizer_coef=0.0)
    bgf.fit(s["frequency"], s["recency"], s["T"])
    lap("bgnbd")

    rep = s[s["frequency"] > 0]
    ggf = GammaGammaFitter(penalizer_coef=0.0)
    gg_retried = False
    try:
        ggf.fit(rep["frequency"], rep["monetary_value"])
    except ConvergenceError:
        # seen on one machine: BFGS stops at the optimum (gradient ~1e-7) with "precision loss" and
        # lifetimes raises; what an analyst does next: fit again with a looser tolerance (timed)
        gg_retried = True
        ggf = GammaGammaFitter(penalizer_coef=0.0)
        ggf.fit(rep["frequency"], rep["monetary_value"], tol=1e-6)
    lap("gg")

    s["p_alive"] = bgf.conditional_probability_alive(s["frequency"], s["recency"], s["T"])
    for days in (30, 90, 365):
        s[f"expected_{days}"] = bgf.conditional_expected_number_of_purchases_up_to_time(
            days, s["frequency"], s["recency"], s["T"]
        )
    s["expected_spend"] = ggf.conditional_expected_average_profit(s["frequency"], s["monetary_value"])

    s["clv"] = s["expected_365"] * s["expected_spend"]
    lap("score")

    by_customer = daily.groupby("customer_id")
    recent = daily[daily["order_date"] > asof - pd.Timedelta(days=PERIOD_DAYS)]
    period = recent.groupby("customer_id")["amount"].sum().reindex(s.index, fill_value=0.0)
    period = period.sort_values(ascending=False, kind="stable")
    before = period.cumsum().shift(fill_value=0.0) / period.sum()
    positive = period > 0
    abc = pd.Series(np.where(positive & (before < 0.80), "A",
                             np.where(positive & (before < 0.95), "B", "C")), index=period.index)  # fmt: skip
    rfm = pd.DataFrame({"recency_days": (asof - by_customer["order_date"].max()).dt.days})
    rfm["frequency"] = s["frequency"] + 1
    rfm["monetary"] = by_customer["amount"].sum()
    rfm["R"] = pd.qcut(rfm["recency_days"].rank(method="first", ascending=False), 5, labels=False) + 1
    rfm["F"] = pd.qcut(rfm["frequency"].rank(method="first"), 5, labels=False) + 1
    rfm["M"] = pd.qcut(rfm["monetary"].rank(method="first"), 5, labels=False) + 1
    high = rfm[["R", "F", "M"]].gt(rfm[["R", "F", "M"]].mean())
    rfm["segment"] = (
        high["R"].map({True: "R", False: "r"}) + high["F"].map({True: "F", False: "f"})
        + high["M"].map({True: "M", False: "m"})
    )  # fmt: skip
    lap("abc_rfm")

    bp, gp = bgf.params_, ggf.params_
    out = {
        "phases": {k: round(v, 3) for k, v in phases.items()},
        "seconds": round(time.perf_counter() - T_START, 3),
        "order_lines": len(lines),
        "purchase_days": len(daily),
        "customers": len(s),
        "repeat_customers": len(rep),
        "bgnbd": {k: float(bp[k]) for k in ("r", "alpha", "a", "b")},
        "gg": {k: float(gp[k]) for k in ("p", "q", "v")},
        "gg_retried_with_tol_1e-6": gg_retried,
        "abc_counts": {k: int(v) for k, v in abc.value_counts().sort_index().items()},
        "segments": {k: int(v) for k, v in rfm["segment"].value_counts().sort_index().items()},
        "versions": {
            "python": sys.version.split()[0],
            "pandas": pd.__version__,
            "numpy": np.__version__,
            "lifetimes": __import__("lifetimes").__version__,
        },
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
