"""The orders benchmark's data: an order-history CSV drawn from the BG/NBD and Gamma-Gamma models.

    .venv/bin/python -m bench.orders_gen [--customers 1000000] [--seed 20260630] [--no-numbers]

Every customer's purchase days come from the BG/NBD process itself (``simulate_purchase_days``, the
bench's own copy of the application's simulation, so that the data stay the same for a seed) with
the parameters in ``TRUTH`` (time unit: days), first purchases spread uniformly over the
``WINDOW_DAYS`` days before the as-of date (2026-06-30; never on it, so that every T is >= 1). Each
purchase day is one order whose amount is a Gamma-Gamma draw (p, q, v in ``TRUTH``, CNY), split
into 1–5 order lines of distinct products (~200, Zipf-like popularity) with an integer quantity
near ``amount / list price`` and a unit price in cents; a line's amount is exactly quantity × unit
price, and an order's lines add up to its amount (the Gamma-Gamma draw rounded to cents).
With the defaults: 1,000,000 customers, ~3.34M orders, ~10.0M order lines.

Output, in ``bench/data/`` (git-ignored) or ``$GUANXI_BENCH_DIR``:

* ``orders-1m.csv`` — one row per order LINE, headers the importer recognises:
  订单号, 客户编号, 客户名称, 下单日期, 产品, 数量, 单价, 金额, 渠道; rows in order-number order,
  which is date order (an ERP export).
* ``orders-1m-truth.npz`` + ``orders-1m-truth.json`` — the truth to check fits against: per
  customer (code ``C`` + 7 digits = index + 1) x, t_x, T (days; same-day purchases merged, as the
  models count them), the first purchase day, the mean repeat (non-first) purchase amount, revenue;
  and the generating parameters.
* with ``--no-numbers`` also ``orders-1m-nonum.csv``: one row per ORDER, without an order number
  (客户编号, 客户名称, 下单日期, 金额, 渠道), the shape of exports that have no order numbers.

Deterministic for a seed. Two forked processes format the rows (f-strings over lists: numpy's own
string functions were slower): ~50 s for 10M lines on 2 idle cores, more when the disk is busy.
"""

from __future__ import annotations

import argparse
import datetime
import json
import multiprocessing as mp
import os
import time
from pathlib import Path

import numpy as np

from . import pools

ASOF = datetime.date(2026, 6, 30)
HOLDOUT_FROM = datetime.date(2026, 1, 1)  # the back-test's as-of date: fit up to it, compare after it
EPOCH = datetime.date(1970, 1, 1)
WINDOW_DAYS = 1095  # first purchases on one of the 1,095 days before the as-of date (~3 years)
# BG/NBD in days (λ ~ Gamma(r, rate α): a mean rate of one purchase per ~71 days; dropout p ~ Beta(a, b))
# and Gamma-Gamma in CNY (population mean spend per purchase p·v/(q−1) = 3,000).
TRUTH = {"r": 0.24, "alpha": 17.0, "a": 0.79, "b": 2.4, "p": 6.0, "q": 3.8, "v": 1400.0}
LINES_PER_ORDER = (1, 5)  # uniform
N_PRODUCTS = 200
HEADER = ["订单号", "客户编号", "客户名称", "下单日期", "产品", "数量", "单价", "金额", "渠道"]
HEADER_NONUM = ["客户编号", "客户名称", "下单日期", "金额", "渠道"]
CHANNELS = [("直销", 45), ("经销商", 25), ("网店", 15), ("电话订货", 8), ("招投标", 5), ("门店", 2)]
PRODUCT_KINDS = [  # (name, list price range in CNY)
    ("工业传感器", 80, 1500), ("伺服电机", 800, 9000), ("变频器", 600, 12000), ("PLC控制器", 1200, 20000),
    ("液压阀", 150, 3000), ("气动元件", 30, 800), ("轴承", 10, 600), ("减速机", 900, 15000),
    ("工业相机", 1500, 25000), ("电缆", 5, 300), ("开关电源", 60, 1200), ("继电器", 8, 200),
    ("触摸屏", 700, 6000), ("编码器", 200, 3500), ("滤芯", 20, 500), ("润滑油", 40, 900),
    ("劳保手套", 2, 30), ("安全帽", 15, 120), ("标签打印机", 500, 5000), ("扫码枪", 150, 2500),
]  # fmt: skip
MODELS = ["A100", "A200", "B300", "C500", "D800", "E1000", "S", "M", "L", "Pro"]


def day_number(d: datetime.date) -> int:
    return (d - EPOCH).days


def label(customers: int) -> str:
    if customers % 1_000_000 == 0:
        return f"{customers // 1_000_000}m"
    if customers % 1000 == 0:
        return f"{customers // 1000}k"
    return str(customers)


def paths(base: Path, customers: int) -> dict[str, Path]:
    stem = f"orders-{label(customers)}"
    return {
        "csv": base / f"{stem}.csv",
        "nonum": base / f"{stem}-nonum.csv",
        "truth": base / f"{stem}-truth.npz",
        "facts": base / f"{stem}-truth.json",
    }


# --- the model draws ----------------------------------------------------------------------------


def _products(rng: np.random.Generator) -> tuple[list[str], np.ndarray, np.ndarray]:
    """~200 products: name, list price (CNY) and popularity weight (Zipf-like, in random order)."""
    names, prices = [], []
    for k, (kind, lo, hi) in enumerate(PRODUCT_KINDS):
        for j, model in enumerate(MODELS):
            if len(names) >= N_PRODUCTS:
                break
            names.append(f"{kind} {model}")
            # log-uniform within the kind's range, deterministic per (kind, model)
            prices.append(round(lo * (hi / lo) ** ((j + 0.5 * (k % 2)) / len(MODELS)), 2))
    weights = 1.0 / np.arange(1, len(names) + 1) ** 0.9
    rng.shuffle(weights)
    return names, np.array(prices), weights / weights.sum()


def _customer_names(rng: np.random.Generator, n: int) -> list[str]:
    cities = [c[1] for c in pools.CITIES]
    cw = np.array([c[3] for c in pools.CITIES], dtype=float)
    zihao = list(dict.fromkeys(ch for ch in pools.ZIHAO if "\u4e00" <= ch <= "\u9fff"))
    inds = [i[0] for i in pools.INDUSTRIES]
    iw = np.array([i[2] for i in pools.INDUSTRIES], dtype=float)
    forms = [f[0] for f in pools.FORMS]
    fw = np.array([f[1] for f in pools.FORMS], dtype=float)
    ci = rng.choice(len(cities), size=n, p=cw / cw.sum()).tolist()
    z1 = rng.integers(0, len(zihao), size=n).tolist()
    z2 = rng.integers(0, len(zihao), size=n).tolist()
    ii = rng.choice(len(inds), size=n, p=iw / iw.sum()).tolist()
    fi = rng.choice(len(forms), size=n, p=fw / fw.sum()).tolist()
    return [
        f"{cities[a]}{zihao[b]}{zihao[c]}{inds[d]}{forms[e]}"
        for a, b, c, d, e in zip(ci, z1, z2, ii, fi, strict=True)
    ]


def simulate_purchase_days(
    r: float, alpha: float, a: float, b: float, first: np.ndarray, asof: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Purchase days under the BG/NBD, per customer sorted, same-day purchases merged.

    Customer i buys first on ``first[i]``; then, in continuous time, as a Poisson process with rate
    λ ~ Gamma(r, rate α) until dropping out after the K-th repeat purchase, K ~ Geometric(p),
    p ~ Beta(a, b), observed up to the as-of day. Of the N ~ Poisson(λT) purchases the process would
    make in (0, T) the first m = min(N, K) are made; they are the first m of N sorted uniform
    times, T·S_k/S_(N+1) with S partial sums of standard exponentials, S_(N+1) = S_m + Gamma(N+1-m).
    A purchase at time t falls on day ``first + floor(t)``. Returns ``(days, counts)``: the flat
    days, customer after customer, and the number of purchase days of each.

    The bench keeps its own copy (the same construction as ``simulate_purchase_days`` in
    guanxi.analytics.math.bgnbd) so that the benchmark's data stay the same for a seed whatever
    happens to the application's code.
    """
    n = len(first)
    T = (asof - first).astype(float)
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    p = np.clip(rng.beta(a, b, size=n), 1e-12, 1.0)
    N = rng.poisson(lam * T)
    m = np.minimum(N, rng.geometric(p)).astype(np.int64)
    E = rng.exponential(1.0, size=int(m.sum()))
    ends = np.cumsum(m)
    cs = np.cumsum(E)
    before = np.where(ends - m > 0, cs[np.maximum(ends - m - 1, 0)], 0.0)
    S = cs - np.repeat(before, m)  # partial sums restarted per customer
    last = np.zeros(n)
    last[m > 0] = S[ends[m > 0] - 1]
    total = last + rng.gamma((N - m + 1).astype(float))
    rel = np.repeat(T / total, m) * S
    # first purchase (day offset 0) then the repeat ones, floored to days
    k = m + 1
    owner = np.repeat(np.arange(n), k)
    offs = np.cumsum(k) - k
    off_days = np.zeros(len(owner), dtype=np.int64)
    is_first = np.zeros(len(owner), dtype=bool)
    is_first[offs] = True
    off_days[~is_first] = np.minimum(np.floor(rel).astype(np.int64), np.repeat(T.astype(np.int64) - 1, m))
    days = first[owner] + off_days
    keep = is_first.copy()
    keep[1:] |= days[1:] != days[:-1]
    return days[keep], np.bincount(owner[keep], minlength=n)


def generate(customers: int, seed: int) -> dict:
    """Draw the whole data set as arrays (orders sorted by day, then customer)."""
    t = TRUTH
    rng = np.random.default_rng(seed)
    asof = day_number(ASOF)
    first = asof - rng.integers(1, WINDOW_DAYS + 1, size=customers)
    day_values, counts = simulate_purchase_days(t["r"], t["alpha"], t["a"], t["b"], first, asof, rng)
    owner = np.repeat(np.arange(customers), counts)
    n_orders = len(owner)
    # Gamma-Gamma: ν ~ Gamma(q, rate v) per customer, each purchase day's amount ~ Gamma(p, rate ν)
    nu = rng.gamma(t["q"], 1.0 / t["v"], size=customers)
    spend = rng.gamma(t["p"], 1.0, size=n_orders) / nu[owner]

    # lines: k distinct products per order, amounts split by Dirichlet(1) weights
    names, list_price, popularity = _products(rng)
    k = rng.integers(LINES_PER_ORDER[0], LINES_PER_ORDER[1] + 1, size=n_orders)
    line_order = np.repeat(np.arange(n_orders), k)
    starts = np.cumsum(k) - k
    j = np.arange(len(line_order)) - np.repeat(starts, k)  # position of the line in its order
    base = rng.choice(len(names), size=n_orders, p=popularity)
    coprime = np.array([s for s in range(1, len(names)) if np.gcd(s, len(names)) == 1])
    step = coprime[rng.integers(0, len(coprime), size=n_orders)]
    product = (base[line_order] + j * step[line_order]) % len(names)  # distinct within an order
    w = rng.exponential(1.0, size=len(line_order))
    w /= np.add.reduceat(w, starts)[line_order]
    target = spend[line_order] * w  # CNY
    qty = np.maximum(1, np.rint(target / list_price[product])).astype(np.int64)
    unit_cents = np.maximum(1, np.rint(target * 100 / qty)).astype(np.int64)
    line_cents = qty * unit_cents
    order_cents = np.add.reduceat(line_cents, starts)

    # channel: a preferred one per customer, another now and then
    cw = np.array([c[1] for c in CHANNELS], dtype=float)
    pref = rng.choice(len(CHANNELS), size=customers, p=cw / cw.sum())
    other = rng.choice(len(CHANNELS), size=n_orders, p=cw / cw.sum())
    channel = np.where(rng.random(n_orders) < 0.85, pref[owner], other)
    cust_names = _customer_names(rng, customers)

    # the truth, per customer (days are distinct per customer already: one order per purchase day)
    offs = np.concatenate(([0], np.cumsum(counts)))
    first_day = day_values[offs[:-1]]
    last_day = day_values[offs[1:] - 1]
    revenue_cents = np.bincount(owner, weights=order_cents, minlength=customers)
    first_cents = order_cents[offs[:-1]]
    x = counts - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_repeat = np.where(x > 0, (revenue_cents - first_cents) / 100 / np.maximum(x, 1), np.nan)

    # the back-test's truth: repeat purchase days after HOLDOUT_FROM by customers who had bought by then
    cal = day_number(HOLDOUT_FROM)
    holdout = int(((day_values > cal) & (first_day[owner] <= cal)).sum())

    # file order: by day, then customer; order numbers follow it
    order_sort = np.lexsort((owner, day_values))
    rank = np.empty(n_orders, dtype=np.int64)
    rank[order_sort] = np.arange(n_orders)
    line_sort = np.lexsort((j, rank[line_order]))
    return {
        "customers": customers,
        "seed": seed,
        "asof_day": asof,
        "holdout": {HOLDOUT_FROM.isoformat(): holdout},
        "cust_names": cust_names,
        "product_names": names,
        "list_price": list_price,
        # orders, in file order
        "o_customer": owner[order_sort],
        "o_day": day_values[order_sort],
        "o_cents": order_cents[order_sort],
        "o_channel": channel[order_sort],
        "o_lines": k[order_sort],
        # lines, in file order
        "l_order": rank[line_order][line_sort],
        "l_product": product[line_sort],
        "l_qty": qty[line_sort],
        "l_unit_cents": unit_cents[line_sort],
        "l_cents": line_cents[line_sort],
        # truth per customer (index i ↔ code C{i + 1:07d})
        "truth": {
            "x": x.astype(np.int64),
            "t_x": (last_day - first_day).astype(np.int64),
            "T": (asof - first_day).astype(np.int64),
            "first_day": first_day.astype(np.int64),
            "last_day": last_day.astype(np.int64),
            "mean_repeat": mean_repeat,
            "revenue": revenue_cents / 100,
        },
    }


# --- writing ----------------------------------------------------------------------------------

_DATA: dict = {}  # the arrays, shared with the forked writers


def _date_strings(lo: int, hi: int) -> dict[int, str]:
    return {d: (EPOCH + datetime.timedelta(days=d)).isoformat() for d in range(lo, hi + 1)}


def _write_lines(job: tuple[int, int, str]) -> int:
    """Rows of order lines [a, b) to ``path`` (no header)."""
    a, b, path = job
    g = _DATA
    dates = g["dates"]
    cust_names, products, chan = g["cust_names"], g["product_names"], [c[0] for c in CHANNELS]
    lo = g["l_order"][a:b]
    o_lo, o_hi = int(lo[0]), int(lo[-1]) + 1
    # per-order prefix "订单号,客户编号,客户名称,下单日期," and suffix ",渠道\n", then the lines
    prefix = [
        f"SO{o + 1:08d},C{c + 1:07d},{cust_names[c]},{dates[d]},"
        for o, c, d in zip(
            range(o_lo, o_hi),
            g["o_customer"][o_lo:o_hi].tolist(),
            g["o_day"][o_lo:o_hi].tolist(),
            strict=True,
        )
    ]
    suffix = [f",{chan[c]}\n" for c in g["o_channel"][o_lo:o_hi].tolist()]
    step = 1_000_000
    with open(path, "w", encoding="utf-8", newline="") as f:
        for s in range(a, b, step):
            e = min(b, s + step)
            rows = [
                f"{prefix[o - o_lo]}{products[p]},{q},{u // 100}.{u % 100:02d},{m // 100}.{m % 100:02d}"
                f"{suffix[o - o_lo]}"
                for o, p, q, u, m in zip(
                    g["l_order"][s:e].tolist(),
                    g["l_product"][s:e].tolist(),
                    g["l_qty"][s:e].tolist(),
                    g["l_unit_cents"][s:e].tolist(),
                    g["l_cents"][s:e].tolist(),
                    strict=True,
                )
            ]
            f.write("".join(rows))
    return b - a


def _write_orders(job: tuple[int, int, str]) -> int:
    """Rows of whole orders [a, b) without order numbers to ``path`` (no header)."""
    a, b, path = job
    g = _DATA
    dates, cust_names, chan = g["dates"], g["cust_names"], [c[0] for c in CHANNELS]
    rows = [
        f"C{c + 1:07d},{cust_names[c]},{dates[d]},{m // 100}.{m % 100:02d},{chan[h]}\n"
        for c, d, m, h in zip(
            g["o_customer"][a:b].tolist(),
            g["o_day"][a:b].tolist(),
            g["o_cents"][a:b].tolist(),
            g["o_channel"][a:b].tolist(),
            strict=True,
        )
    ]
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("".join(rows))
    return b - a


def _concat(out: Path, header: list[str], parts: list[str]) -> None:
    with open(out, "wb") as f:
        f.write((",".join(header) + "\n").encode())
        f.flush()  # before the in-kernel copies write at the descriptor's offset
        for p in parts:
            with open(p, "rb") as src:
                size = os.fstat(src.fileno()).st_size
                done = 0
                while done < size:  # in-kernel copy
                    done += os.copy_file_range(src.fileno(), f.fileno(), size - done)
            os.remove(p)


def _write_parallel(fn, n: int, out: Path, header: list[str], workers: int) -> None:
    tmp = out.with_name(out.name + ".part")
    bounds = [n * w // workers for w in range(workers + 1)]
    jobs = [(bounds[w], bounds[w + 1], f"{tmp}{w}") for w in range(workers) if bounds[w + 1] > bounds[w]]
    with mp.get_context("fork").Pool(len(jobs)) as pool:
        pool.map(fn, jobs)
    _concat(tmp, header, [j[2] for j in jobs])
    tmp.rename(out)


def write(data: dict, base: Path, *, no_numbers: bool = False, workers: int = 2) -> dict:
    """Write the CSV(s) and the truth; returns the facts (also written as JSON)."""
    t0 = time.time()
    out = paths(base, data["customers"])
    base.mkdir(parents=True, exist_ok=True)
    _DATA.clear()
    _DATA.update(data)
    _DATA["dates"] = _date_strings(int(data["o_day"].min()), int(data["o_day"].max()))
    _write_parallel(_write_lines, len(data["l_order"]), out["csv"], HEADER, workers)
    if no_numbers:
        _write_parallel(_write_orders, len(data["o_day"]), out["nonum"], HEADER_NONUM, workers)
    _DATA.clear()
    tr = data["truth"]
    np.savez(out["truth"], **tr)
    x = tr["x"]
    facts = {
        "customers": data["customers"],
        "orders": int(len(data["o_day"])),
        "order_lines": int(len(data["l_order"])),
        "seed": data["seed"],
        "asof": ASOF.isoformat(),
        "window_days": WINDOW_DAYS,
        "truth_parameters": TRUTH,
        "time_unit": "days",
        "repeat_customers": int((x > 0).sum()),
        "mean_x": float(x.mean()),
        "max_x": int(x.max()),
        "revenue": round(float(tr["revenue"].sum()), 2),
        "mean_repeat_spend": float(np.nanmean(tr["mean_repeat"])),
        "first_order_date": str(EPOCH + datetime.timedelta(days=int(data["o_day"].min()))),
        "products": len(data["product_names"]),
        "holdout": data["holdout"],
        "csv": str(out["csv"]),
        "csv_bytes": out["csv"].stat().st_size,
        "nonum_csv": str(out["nonum"]) if no_numbers else None,
        "write_seconds": round(time.time() - t0, 1),
    }
    out["facts"].write_text(json.dumps(facts, indent=2, ensure_ascii=False))
    return facts


def build(base: Path, customers: int = 1_000_000, seed: int = 20260630, *, no_numbers: bool = False) -> dict:
    t0 = time.time()
    data = generate(customers, seed)
    t_gen = time.time() - t0
    facts = write(data, base, no_numbers=no_numbers)
    facts["generate_seconds"] = round(t_gen, 1)
    facts["total_seconds"] = round(time.time() - t0, 1)
    paths(base, customers)["facts"].write_text(json.dumps(facts, indent=2, ensure_ascii=False))
    return facts


def load_facts(base: Path, customers: int) -> dict | None:
    p = paths(base, customers)
    if not (p["csv"].exists() and p["truth"].exists() and p["facts"].exists()):
        return None
    facts = json.loads(p["facts"].read_text())
    if (facts.get("truth_parameters") != TRUTH or facts.get("window_days") != WINDOW_DAYS
            or "holdout" not in facts):  # fmt: skip
        return None  # generated with other parameters: make it again
    return facts


def load_truth(base: Path, customers: int) -> dict[str, np.ndarray]:
    with np.load(paths(base, customers)["truth"]) as z:
        return {k: z[k] for k in z.files}


def main(argv: list[str] | None = None) -> int:
    from .run import data_base

    ap = argparse.ArgumentParser(prog="python -m bench.orders_gen", description=__doc__.split("\n\n")[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=20260630)
    ap.add_argument("--no-numbers", action="store_true", help="also write the variant without order numbers")
    ap.add_argument("--out", type=Path, default=None, help="directory (default: bench/data)")
    args = ap.parse_args(argv)
    facts = build(args.out or data_base(), args.customers, args.seed, no_numbers=args.no_numbers)
    print(json.dumps(facts, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
