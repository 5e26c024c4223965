"""The orders benchmark: order-history import and customer analytics at 1,000,000 customers.

    .venv/bin/python -m bench.run --suite orders [--customers 1000000] [--runs 3] [--no-pg]
                                                 [--only import,import_pg,analytics,analyst,backtest]

Steps (each figure a median of ``--runs`` runs, the machine's load average recorded with it):

``generate``   bench/data/orders-1m.csv, ~10M order lines drawn from BG/NBD + Gamma-Gamma with known
               parameters (bench/orders_gen.py); made once, reused while its parameters are unchanged.
``import``     ``guanxi import orders CSV --create-customers`` into an EMPTY SQLite database (fresh
               data directory, ``guanxi migrate``, an administrator): seconds and rows/s (goal ≥ 200,000).
``import_pg``  the same into an empty PostgreSQL database ``bench_orders`` (created and dropped here).
``analytics``  ``guanxi analytics run --as-of 2026-06-30 --json`` on the imported SQLite database: end
               to end seconds (goal < 10 s) and the fitted parameters vs the generating ones.
``analyst``    bench/analyst.py (pandas + ``lifetimes``) in its own virtualenv bench/data/venv-analyst
               (made on first use from bench/requirements-analyst.txt) on the same database: seconds
               end to end and by phase; the ratio analyst / guanxi (goal ≥ 5×) and whether the fitted
               parameters agree to 3 significant digits.
``backtest``   ``guanxi analytics backtest --as-of 2026-01-01 --until 2026-06-30 --json``: seconds,
               predicted vs actual repeat purchases (the actual count is also known from the generator).

Also, in-process and untimed: the maximum-likelihood fit on the generator's own per-customer facts
(x, t_x, T, mean repeat spend) — what ``guanxi analytics run`` must reproduce if the import and the
purchase summaries are right — next to the true parameters.

Writes bench/results-orders-<date>.json and prints a table.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from . import orders_gen

BENCH_DIR = Path(__file__).resolve().parent
STEPS = ["generate", "import", "import_pg", "analytics", "analyst", "backtest"]
ASOF = orders_gen.ASOF.isoformat()
BACKTEST_ASOF, BACKTEST_UNTIL = orders_gen.HOLDOUT_FROM.isoformat(), ASOF
PG_URL = "postgresql://postgres@127.0.0.1:5432/bench_orders"
ADMIN = ("bench", "bench@example.com", "bench-orders-Pass-1")
IMPORT_GOAL_ROWS_S = 200_000
ANALYTICS_GOAL_S = 10.0
RATIO_GOAL = 5.0
BG_KEYS, GG_KEYS = ("r", "alpha", "a", "b"), ("p", "q", "v")
IMPORT_MARKER = "bench-orders-import.json"


def _log(msg: str) -> None:
    print(f"[orders {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def guanxi_bin() -> str:
    return str(Path(sys.executable).with_name("guanxi"))


def _env(data_dir: Path, database_url: str | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env["GUANXI_DATA_DIR"] = str(data_dir)
    if database_url:
        env["DATABASE_URL"] = database_url
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _run(cmd: list[str], env: dict, *, check: bool = True, timeout: float | None = None) -> dict:
    """Run a command; wall-clock seconds, output and exit code."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd=BENCH_DIR.parent)
    seconds = time.perf_counter() - t0
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    return {"seconds": seconds, "stdout": p.stdout, "stderr": p.stderr, "returncode": p.returncode}


def _has_command(*words: str) -> bool:
    """Whether ``guanxi WORDS --help`` works (the commands are being written in parallel)."""
    from .run import data_base

    env = _env(data_base() / "orders-probe")  # a data directory nothing is written to but the cache
    p = subprocess.run([guanxi_bin(), *words, "--help"], env=env, capture_output=True, text=True)
    return p.returncode == 0


def _warm(path: Path) -> None:
    from .run import warm_os_cache

    warm_os_cache(path)


def _median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def _json_from(stdout: str) -> dict:
    """The JSON object a command printed (ignoring any progress lines before it)."""
    start = stdout.find("{")
    if start < 0:
        raise ValueError(f"no JSON in the output: {stdout[-500:]}")
    return json.loads(stdout[start:])


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# --- empty databases ------------------------------------------------------------------------------


def _psql(url: str, sql: str) -> None:
    """Run ``sql`` on the server of ``url``, connected to its ``postgres`` database."""
    admin = _pg_with_name(url, "postgres")
    subprocess.run(
        ["psql", admin, "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True, capture_output=True, text=True
    )


def _pg_with_name(url: str, name: str) -> str:
    head, tail = url.rsplit("/", 1)
    return f"{head}/{name}" + (tail[tail.index("?") :] if "?" in tail else "")


def _pg_name(url: str) -> str:
    name = url.rsplit("/", 1)[1].split("?")[0]
    if name in ("test", "postgres", "template0", "template1"):
        raise SystemExit(f"refusing to drop the database {name!r}: the bench makes and drops its own")
    return name


_TEMPLATES: dict[str, Path] = {}  # kind → the empty database made in this process, to copy


def _make_empty(data_dir: Path, database_url: str | None = None) -> float:
    """``guanxi migrate`` and an administrator into an empty directory (and PostgreSQL database)."""
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    if database_url:
        name = _pg_name(database_url)
        _psql(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _psql(database_url, f'CREATE DATABASE "{name}"')
    env = _env(data_dir, database_url)
    t = _run([guanxi_bin(), "migrate", "--noinput", "-v", "0"], env)["seconds"]
    env["DJANGO_SUPERUSER_PASSWORD"] = ADMIN[2]
    _run([guanxi_bin(), "createsuperuser", "--noinput", "--username", ADMIN[0], "--email", ADMIN[1]], env)
    return t


def fresh_database(data_dir: Path, database_url: str | None = None) -> float:
    """An empty database with the schema and one administrator, as ``guanxi migrate`` makes it.

    Migrating takes 20–50 s here, so the first call of a suite run migrates a template (a data
    directory, or a PostgreSQL database ``<name>_template``) and every call copies it: the same
    empty database each time. Returns the seconds spent migrating (0 for a copy).
    """
    from .run import data_base

    kind = database_url or "sqlite"
    t = 0.0
    if kind not in _TEMPLATES:
        template = data_base() / ("orders-empty-pg" if database_url else "orders-empty")
        t = _make_empty(
            template, database_url and _pg_with_name(database_url, _pg_name(database_url) + "_template")
        )
        _TEMPLATES[kind] = template
    shutil.rmtree(data_dir, ignore_errors=True)
    shutil.copytree(_TEMPLATES[kind], data_dir)
    if database_url:
        name = _pg_name(database_url)
        _psql(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _psql(database_url, f'CREATE DATABASE "{name}" TEMPLATE "{name}_template"')
    return t


def drop_templates() -> None:
    for kind, template in list(_TEMPLATES.items()):
        if kind != "sqlite":
            drop_pg(_pg_with_name(kind, _pg_name(kind) + "_template"))
        shutil.rmtree(template, ignore_errors=True)
        del _TEMPLATES[kind]


def drop_pg(database_url: str) -> None:
    _psql(database_url, f'DROP DATABASE IF EXISTS "{_pg_name(database_url)}" WITH (FORCE)')


# --- the steps ------------------------------------------------------------------------------------


def import_cmd(csv: Path) -> list[str]:
    return [guanxi_bin(), "import", "orders", str(csv), "--create-customers"]


def measure_import(csv: Path, lines: int, data_dir: Path, runs: int, database_url: str | None = None) -> dict:
    """``runs`` imports, each into a new empty database; the last one is kept."""
    seconds, outputs = [], []
    for i in range(runs):
        migrate_s = fresh_database(data_dir, database_url)
        _warm(csv)
        load = _load()
        res = _run(import_cmd(csv), _env(data_dir, database_url))
        seconds.append(res["seconds"])
        text = res["stdout"] + res["stderr"]
        m = re.search(r"([\d,]+) rows in ([\d.]+) s", text)  # the command's own figure (no start-up)
        inside = float(m.group(2)) if m else None
        outputs.append({"seconds": round(res["seconds"], 2), "inside_seconds": inside,
                        "migrate_seconds": round(migrate_s, 1), "load_average_before": load,
                        "output_tail": text.strip().splitlines()[-15:]})  # fmt: skip
        _log(f"import {'PostgreSQL' if database_url else 'SQLite'} run {i + 1}/{runs}: {res['seconds']:.1f} s"
             f" = {lines / res['seconds']:,.0f} rows/s (the command says {inside} s)")  # fmt: skip
    med = _median(seconds)
    out = {
        "command": " ".join(["guanxi", *import_cmd(csv)[1:]]).replace(str(BENCH_DIR.parent) + "/", ""),
        "database": "postgresql" if database_url else "sqlite",
        "rows": lines,
        "runs": outputs,
        "median_seconds": round(med, 2),
        "rows_per_second": round(lines / med),
        "median_inside_seconds": _median([o["inside_seconds"] for o in outputs if o["inside_seconds"]]),
        "goal_rows_per_second": IMPORT_GOAL_ROWS_S,
        "pass": lines / med >= IMPORT_GOAL_ROWS_S,
    }
    if database_url is None:
        db = data_dir / "guanxi.sqlite3"
        out["db_bytes"] = db.stat().st_size + sum(
            p.stat().st_size for p in data_dir.glob("guanxi.sqlite3-*") if p.exists()
        )
        out["counts"] = _sqlite_counts(db)
    else:
        out["counts"] = _pg_counts(database_url)
    return out


def _sqlite_counts(db: Path) -> dict:
    import sqlite3

    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("customers_customer", "sales_order", "sales_orderline", "sales_purchaseday",
                          "sales_purchasesummary", "sales_product")}  # fmt: skip
    except sqlite3.Error as exc:
        return {"error": str(exc)}
    finally:
        con.close()


def _pg_counts(url: str) -> dict:
    out = {}
    for t in ("customers_customer", "sales_order", "sales_orderline", "sales_purchaseday",
              "sales_purchasesummary", "sales_product"):  # fmt: skip
        p = subprocess.run(["psql", url, "-Atc", f"SELECT count(*) FROM {t}"], capture_output=True, text=True)
        out[t] = int(p.stdout.strip()) if p.returncode == 0 else p.stderr.strip()[-200:]
    return out


def analytics_cmd(kind: str = "run") -> list[str]:
    if kind == "run":
        return [guanxi_bin(), "analytics", "run", "--as-of", ASOF, "--json"]
    return [
        guanxi_bin(),
        "analytics",
        "backtest",
        "--as-of",
        BACKTEST_ASOF,
        "--until",
        BACKTEST_UNTIL,
        "--json",
    ]


def measure_analytics(data_dir: Path, runs: int, kind: str = "run") -> dict:
    db = data_dir / "guanxi.sqlite3"
    seconds, figures, outputs = [], None, []
    for i in range(runs):
        _warm(db)
        load = _load()
        res = _run(analytics_cmd(kind), _env(data_dir))
        figures = _json_from(res["stdout"])
        seconds.append(res["seconds"])
        outputs.append({"seconds": round(res["seconds"], 2), "load_average_before": load,
                        "inside_seconds": (figures.get("timings") or {}).get("total"),
                        "timings": figures.get("timings")})  # fmt: skip
        _log(
            f"analytics {kind} run {i + 1}/{runs}: {res['seconds']:.1f} s (inside: {figures.get('timings')})"
        )
    med = _median(seconds)
    out = {
        "command": " ".join(["guanxi", *analytics_cmd(kind)[1:]]),
        "runs": outputs,
        "median_seconds": round(med, 2),
        "median_inside_seconds": _median([o["inside_seconds"] for o in outputs if o["inside_seconds"]]),
        "customers": figures.get("customers"),
        "bgnbd": {k: figures.get(k) for k in BG_KEYS},
        "gg": {k: figures.get(k) for k in GG_KEYS},
        "time_unit": figures.get("time_unit") or figures.get("bgnbd", {}).get("time_unit"),
        "log_likelihood": figures.get("log_likelihood"),
        "figures": figures,
    }
    if kind == "run":
        out["goal_seconds"] = ANALYTICS_GOAL_S
        out["pass"] = med < ANALYTICS_GOAL_S
    else:
        out["predicted"], out["actual"] = figures.get("predicted"), figures.get("actual")
    return out


# --- the analyst's route --------------------------------------------------------------------------


def analyst_python() -> Path:
    """bench/data/venv-analyst/bin/python, made (or remade when the requirements change) on first use."""
    from .run import data_base

    req = BENCH_DIR / "requirements-analyst.txt"
    venv = data_base() / "venv-analyst"
    py = venv / "bin" / "python"
    stamp = venv / ".requirements.sha256"
    digest = hashlib.sha256(req.read_bytes()).hexdigest()
    if py.exists() and stamp.exists() and stamp.read_text() == digest:
        return py
    _log(f"making the analyst's virtualenv {venv} (pandas, lifetimes; once) …")
    t0 = time.time()
    shutil.rmtree(venv, ignore_errors=True)
    base = getattr(sys, "_base_executable", None) or sys.executable
    subprocess.run([base, "-m", "venv", str(venv)], check=True)
    pip = [str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(req)], check=True)
    stamp.write_text(digest)
    _log(f"virtualenv ready in {time.time() - t0:.0f} s")
    return py


def analyst_cmd(py: Path, db: Path) -> list[str]:
    return [str(py), str(BENCH_DIR / "analyst.py"), "--db", str(db), "--as-of", ASOF]


def measure_analyst(db: Path, runs: int) -> dict:
    py = analyst_python()
    seconds, outputs, last = [], [], None
    for i in range(runs):
        _warm(db)
        load = _load()
        res = _run(analyst_cmd(py, db), {**os.environ, "PYTHONUNBUFFERED": "1"})
        last = _json_from(res["stdout"])
        seconds.append(res["seconds"])
        outputs.append({"seconds": round(res["seconds"], 2), "load_average_before": load,
                        "phases": last["phases"]})  # fmt: skip
        _log(f"analyst run {i + 1}/{runs}: {res['seconds']:.1f} s, phases {last['phases']}")
    phases = {k: round(_median([o["phases"][k] for o in outputs]), 2) for k in outputs[0]["phases"]}
    return {
        "command": " ".join(["bench/data/venv-analyst/bin/python", *analyst_cmd(py, db)[1:]]).replace(
            str(BENCH_DIR) + "/", "bench/"
        ),
        "runs": outputs,
        "median_seconds": round(_median(seconds), 2),
        "median_phases": phases,
        "bgnbd": last["bgnbd"],
        "gg": last["gg"],
        "counts": {k: last[k] for k in ("order_lines", "purchase_days", "customers", "repeat_customers")},
        "abc_counts": last["abc_counts"],
        "segments": last["segments"],
        "versions": last["versions"],
    }


# --- checks ---------------------------------------------------------------------------------------


def truth_fit(base: Path, customers: int) -> dict:
    """Maximum likelihood on the generator's own per-customer facts (what the run must reproduce)."""
    import numpy as np

    from guanxi.analytics.math.bgnbd import fit_bgnbd
    from guanxi.analytics.math.gammagamma import fit_gammagamma

    tr = orders_gen.load_truth(base, customers)
    t0 = time.time()
    bg = fit_bgnbd(tr["x"], tr["t_x"], tr["T"])
    rep = tr["x"] > 0
    gg = fit_gammagamma(tr["x"][rep], tr["mean_repeat"][rep])
    return {
        "bgnbd": {k: getattr(bg, k) for k in BG_KEYS},
        "gg": {k: getattr(gg, k) for k in GG_KEYS},
        "log_likelihood": {"bgnbd": bg.log_likelihood, "gammagamma": gg.log_likelihood},
        "customers": int(len(tr["x"])),
        "repeat_customers": int(rep.sum()),
        "mean_repeat_spend": float(np.nanmean(tr["mean_repeat"])),
        "seconds": round(time.time() - t0, 2),
        "control_continuous_time": continuous_control(tr["T"]),
    }


def continuous_control(T) -> dict:
    """The same customers (same T) drawn in continuous time, without rounding purchases to days.

    Fitting that recovers the generating parameters within sampling error; the day-resolution data
    of the CSV (purchases on the same day merged, as the models' conventions require) fits to a
    somewhat larger α: the heaviest buyers lose purchases to the merging. The difference between
    this control and ``fit_on_truth_facts`` is that effect, not an error of the fitter.
    """
    import numpy as np

    from guanxi.analytics.math.bgnbd import fit_bgnbd, simulate_bgnbd

    t = orders_gen.TRUTH
    rng = np.random.default_rng(1)
    x, t_x, TT, _ = simulate_bgnbd(len(T), t["r"], t["alpha"], t["a"], t["b"], np.asarray(T, float), rng)
    bg = fit_bgnbd(x, t_x, TT)
    return {k: getattr(bg, k) for k in BG_KEYS}


def holdout_actual(base: Path, customers: int) -> int | None:
    """Repeat purchase days after BACKTEST_ASOF up to BACKTEST_UNTIL by customers who had bought by
    BACKTEST_ASOF, counted from the CSV's order dates (the generator's data, not the database)."""
    facts = json.loads(orders_gen.paths(base, customers)["facts"].read_text())
    return facts.get("holdout", {}).get(BACKTEST_ASOF)


def same_3sf(x: float | None, y: float | None) -> bool:
    if x is None or y is None:
        return False
    if f"{x:.3g}" == f"{y:.3g}":
        return True
    return abs(x - y) <= 1e-4 * max(abs(x), abs(y))  # on a rounding boundary


def rel(x: float | None, y: float | None) -> float | None:
    if x is None or y is None or y == 0:
        return None
    return round((x - y) / abs(y), 6)


def compare(results: dict) -> dict:
    """Parameters side by side: truth, fit on the truth facts, guanxi, analyst."""
    truth = orders_gen.TRUTH
    rows = {}
    ours = results.get("analytics") or {}
    theirs = results.get("analyst") or {}
    tf = results.get("truth_fit") or {}
    for group, keys in (("bgnbd", BG_KEYS), ("gg", GG_KEYS)):
        for k in keys:
            g = (ours.get(group) or {}).get(k)
            a = (theirs.get(group) or {}).get(k)
            f = (tf.get(group) or {}).get(k)
            rows[k] = {
                "truth": truth[k],
                "fit_on_truth_facts": f,
                "continuous_time_control": (tf.get("control_continuous_time") or {}).get(k),
                "guanxi": g,
                "analyst": a,
                "guanxi_vs_truth": rel(g, truth[k]),
                "guanxi_vs_analyst": rel(g, a),
                "guanxi_analyst_same_3sf": same_3sf(g, a) if (g is not None and a is not None) else None,
                "guanxi_fit_on_truth_same_3sf": same_3sf(g, f) if (g is not None and f is not None) else None,
            }
    return rows


# --- the suite ------------------------------------------------------------------------------------


def _fmt(x, spec: str = ".4g") -> str:
    if x is None:
        return "-"
    if isinstance(x, float) and math.isnan(x):
        return "nan"
    return format(x, spec)


def _why(r: dict) -> str:
    return r.get("skipped") or ("ERROR: " + r.get("error", "")[-200:].replace("\n", " "))


def print_table(res: dict) -> None:
    print()
    d = res["data"]
    print(
        f"Orders benchmark: {d['customers']:,} customers, {d['orders']:,} orders, {d['order_lines']:,} lines"
    )
    print(f"{'measurement':<34} {'median':>10}  {'figure':<28} goal")
    for key, name in (("import", "import orders → SQLite"), ("import_pg", "import orders → PostgreSQL")):
        r = res.get(key)
        if r and "median_seconds" in r:
            inside = f"(command's own: {_fmt(r.get('median_inside_seconds'), '.1f')} s)"
            print(f"{name:<34} {r['median_seconds']:>9.1f}s  {r['rows_per_second']:>8,} rows/s {inside:<14} "
                  f"≥ {IMPORT_GOAL_ROWS_S:,} rows/s {'PASS' if r['pass'] else 'FAIL'}")  # fmt: skip
        elif r:
            print(f"{name:<34} {'-':>10}  {_why(r)}")
    if res.get("database"):
        print(f"{'database analysed (SQLite)':<34} {res['database']['bytes'] / 1e9:>9.2f}GB")
    a, n = res.get("analytics"), res.get("analyst")
    if a and "median_seconds" in a:
        inside = f"(run's own timings: {_fmt(a.get('median_inside_seconds'), '.1f')} s)"
        print(f"{'guanxi analytics run':<34} {a['median_seconds']:>9.1f}s  {inside:<28} "
              f"< {ANALYTICS_GOAL_S:.0f} s {'PASS' if a['pass'] else 'FAIL'}")  # fmt: skip
    elif a:
        print(f"{'guanxi analytics run':<34} {'-':>10}  {_why(a)}")
    if n and "median_seconds" in n:
        print(f"{'analyst: pandas + lifetimes':<34} {n['median_seconds']:>9.1f}s  "
              + ", ".join(f"{k} {v:.1f}" for k, v in n["median_phases"].items()))  # fmt: skip
    elif n:
        print(f"{'analyst: pandas + lifetimes':<34} {'-':>10}  {_why(n)}")
    if res.get("ratio"):
        print(f"{'ratio analyst / guanxi':<34} {res['ratio']:>9.1f}×  {'':<28} ≥ {RATIO_GOAL:.0f}× "
              f"{'PASS' if res['ratio'] >= RATIO_GOAL else 'FAIL'}")  # fmt: skip
    b = res.get("backtest")
    if b and "median_seconds" in b:
        print(f"{'guanxi analytics backtest':<34} {b['median_seconds']:>9.1f}s  "
              f"predicted {_fmt(b.get('predicted'), ',.0f')} vs actual {_fmt(b.get('actual'), ',.0f')} "
              f"(generator: {_fmt(b.get('generator_actual'), ',')})")  # fmt: skip
    elif b:
        print(f"{'guanxi analytics backtest':<34} {'-':>10}  {_why(b)}")
    if res.get("parameters"):
        print()
        print(f"{'param':<6} {'truth':>10} {'fit(truth)':>12} {'guanxi':>12} {'analyst':>12} "
              f"{'g/truth-1':>10} {'3 s.f.':>7}")  # fmt: skip
        for k, r in res["parameters"].items():
            same = r["guanxi_analyst_same_3sf"]
            flag = "-" if same is None else "yes" if same else "NO"
            print(f"{k:<6} {_fmt(r['truth'], '.6g'):>10} {_fmt(r['fit_on_truth_facts'], '.6g'):>12} "
                  f"{_fmt(r['guanxi'], '.6g'):>12} {_fmt(r['analyst'], '.6g'):>12} "
                  f"{_fmt(r['guanxi_vs_truth'], '+.2%'):>10} {flag:>7}")  # fmt: skip
    print()


def run(
    *,
    customers: int = 1_000_000,
    runs: int = 3,
    steps: list[str] | None = None,
    rebuild: bool = False,
    pg_url: str = PG_URL,
    machine: dict | None = None,
    argv: list[str] | None = None,
) -> dict:
    from .run import data_base

    steps = steps or list(STEPS)
    base = data_base()
    label = orders_gen.label(customers)
    data_dir = base / f"orders-db-{label}"
    pg_dir = base / f"orders-db-{label}-pg"
    res: dict = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "command": "python -m bench.run " + " ".join(argv or []),
        "machine": machine,
        "runs": runs,
        "as_of": ASOF,
    }

    facts = None if rebuild else orders_gen.load_facts(base, customers)
    if facts is None:
        _log(f"generating {customers:,} customers' orders from BG/NBD + Gamma-Gamma into {base} …")
        facts = orders_gen.build(base, customers)
        _log(f"generated {facts['order_lines']:,} lines in {facts['total_seconds']:.0f} s")
    else:
        _log(f"reusing {facts['csv']} ({facts['order_lines']:,} lines; --rebuild to redo)")
    res["data"] = facts
    if steps == ["generate"]:
        return res
    csv = Path(facts["csv"])
    lines = facts["order_lines"]
    db = data_dir / "guanxi.sqlite3"
    res["truth_fit"] = truth_fit(base, customers)
    tf = res["truth_fit"]
    _log(f"fit on the generator's facts: {tf['bgnbd']} {tf['gg']}")
    _log(f"continuous-time control: {tf['control_continuous_time']}")

    have_import = _has_command("import", "orders")
    have_analytics = _has_command("analytics", "run")
    have_backtest = _has_command("analytics", "backtest")

    marker = data_dir / IMPORT_MARKER
    analysis = [s for s in ("analytics", "analyst", "backtest") if s in steps]

    def mark() -> None:
        marker.write_text(json.dumps({"csv": str(csv), "order_lines": lines, "seed": facts["seed"],
                                      "loaded_at": res["date"]}))  # fmt: skip

    def attempt(step: str, fn, *args, **kwargs) -> None:
        """One step; a failure is recorded and the other steps go on."""
        try:
            res[step] = fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - a benchmark reports what broke and carries on
            _log(f"{step} FAILED: {exc}")
            res[step] = {"error": str(exc)[-4000:]}
        res[step]["measured_at"] = datetime.datetime.now().isoformat(timespec="seconds")
        res[step]["load_average_after"] = _load()

    missing = "`guanxi import orders` does not exist yet"
    try:
        if "import" in steps:
            if have_import:
                attempt("import", measure_import, csv, lines, data_dir, runs)
                if "error" not in res["import"]:
                    mark()
            else:
                res["import"] = {"skipped": missing}
        if "import_pg" in steps:
            if have_import:
                attempt("import_pg", measure_import, csv, lines, pg_dir, runs, pg_url)
                drop_pg(pg_url)
                shutil.rmtree(pg_dir, ignore_errors=True)
            else:
                res["import_pg"] = {"skipped": missing}

        loaded = json.loads(marker.read_text()) if marker.exists() else {}
        if analysis and loaded.get("order_lines") != lines and have_import and "import" not in steps:
            _log(f"no imported database in {data_dir}: importing once")
            attempt("import", measure_import, csv, lines, data_dir, 1)
            if "error" not in res["import"]:
                mark()
            loaded = json.loads(marker.read_text()) if marker.exists() else {}
    finally:
        drop_templates()
    if analysis and loaded.get("order_lines") != lines:
        for step in analysis:
            res[step] = {"skipped": f"no imported database ({res.get('import', {}).get('error') or missing})"}
        analysis = []
    if analysis:
        res["database"] = {
            "path": str(db),
            "bytes": db.stat().st_size,
            "imported_at": loaded.get("loaded_at"),
        }
    if "analytics" in analysis:
        if have_analytics:
            attempt("analytics", measure_analytics, data_dir, runs)
        else:
            res["analytics"] = {"skipped": "`guanxi analytics run` does not exist yet"}
    if "analyst" in analysis:
        attempt("analyst", measure_analyst, db, runs)
    if "backtest" in analysis:
        if have_backtest:
            attempt("backtest", measure_analytics, data_dir, runs, kind="backtest")
            res["backtest"]["generator_actual"] = holdout_actual(base, customers)
        else:
            res["backtest"] = {"skipped": "`guanxi analytics backtest` does not exist yet"}
    size = "" if customers == 1_000_000 else f"{label}-"  # a smaller try does not overwrite the real one
    path = BENCH_DIR / f"results-orders-{size}{datetime.date.today().isoformat()}.json"
    if path.exists():  # a partial run (--only) keeps the day's other figures for the same data
        old = json.loads(path.read_text())
        if (
            old.get("data", {}).get("order_lines") == lines
            and old.get("data", {}).get("seed") == facts["seed"]
        ):
            for key in ("import", "import_pg", "analytics", "analyst", "backtest", "database"):
                if key not in res and key in old:
                    res[key] = old[key]
    a, n = res.get("analytics") or {}, res.get("analyst") or {}
    if a.get("median_seconds") and n.get("median_seconds"):
        res["ratio"] = round(n["median_seconds"] / a["median_seconds"], 2)
    res["parameters"] = compare(res)
    print_table(res)
    path.write_text(json.dumps(res, indent=2, ensure_ascii=False, default=str))
    print(f"Wrote {path}")
    return res
