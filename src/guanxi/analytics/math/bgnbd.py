"""The BG/NBD model of repeat buying (Fader, Hardie & Lee 2005, "Counting your customers the easy way").

Each customer buys as a Poisson process with rate λ ~ Gamma(r, rate α) and, after each repeat
purchase, drops out for good with probability p ~ Beta(a, b). From a customer's history

* ``x``   — repeat purchase days (purchase days minus one: purchases on the same day are one),
* ``t_x`` — days from the first purchase to the last one (0 when x = 0),
* ``T``   — days from the first purchase to the as-of date,

the model gives the probability that the customer is still active and the number of purchases to
expect. The time unit is the day throughout, so α is in days and the rates are per day.

The likelihood is the one ``lifetimes``' ``BetaGeoFitter._negative_log_likelihood`` uses (section
7 of the paper), so the maximum-likelihood parameters agree with ``BetaGeoFitter`` (penalizer 0);
``lifetimes`` rescales time before fitting, which only shifts the log-likelihood by a constant and
leaves the maximum where it is. What is different is the speed (see the performance notes): the
fit evaluates the likelihood once per *distinct* (x, t_x, T) row weighted by its count, sums the
terms that depend on x alone once per distinct x, and uses the analytic gradient.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

from ._util import Ragged, dot, group_cumsum, unique_rows

__all__ = [
    "BgNbdFit",
    "NoRepeatBuyers",
    "Ragged",
    "expected_purchases",
    "expected_purchases_many",
    "expected_purchases_new",
    "fit_bgnbd",
    "negative_log_likelihood",
    "probability_alive",
    "simulate_bgnbd",
    "simulate_purchase_days",
    "summarise_days",
]

# The box the log-parameters stay in. Shapes r, a, b within 1e-4..1e4: beyond, the model makes
# the same predictions (a, b → ∞ with a/(a+b) fixed is a dropout probability without spread), and
# the special functions lose accuracy. The scale α (days) gets a box far beyond any real value;
# both keep exp() finite when a degenerate data set pushes a parameter towards 0 or infinity.
_SHAPE_BOUND = float(np.log(1e4))
_SCALE_BOUND = 30.0
_BOUNDS = [(-_SHAPE_BOUND, _SHAPE_BOUND), (-_SCALE_BOUND, _SCALE_BOUND)] + [(-_SHAPE_BOUND, _SHAPE_BOUND)] * 2


class NoRepeatBuyers(ValueError):
    """Nobody bought on a second day, so the repeat-buying models cannot be estimated.

    With x = 0 everywhere the likelihood only says "few purchases", which any λ → 0 explains: there
    is no maximum. Callers should report "no repeat buyers" rather than fail.
    """


@dataclass
class BgNbdFit:
    """Fitted BG/NBD parameters (time unit: days) and how the fit went.

    ``log_likelihood`` is the total over customers, in days (``lifetimes`` reports the mean
    negative log-likelihood in its rescaled time instead, a different number for the same fit).
    ``at_bound`` names the parameters whose maximum lies at the edge of the allowed range (shapes
    1e-4..1e4): the data do not pin them down (e.g. a, b → ∞ when everyone has the same dropout
    probability, or tiny data sets); predictions remain the best the data allow, but those
    parameter values mean little.
    """

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n_customers: int
    n_repeat: int
    converged: bool
    iterations: int
    message: str
    n_unique_rows: int = 0
    time_unit: str = "days"
    at_bound: tuple[str, ...] = ()

    @classmethod
    def from_figures(cls, f: dict) -> BgNbdFit:
        """Back from the figures a run stored (see ``analytics.runs``)."""
        return cls(
            r=f["r"], alpha=f["alpha"], a=f["a"], b=f["b"], log_likelihood=f.get("log_likelihood") or 0.0,
            n_customers=f.get("customers") or 0, n_repeat=f.get("repeat_buyers") or 0,
            converged=bool(f.get("converged", True)), iterations=f.get("iterations") or 0,
            message=f.get("message") or "",
        )  # fmt: skip


# --------------------------------------------------------------------------- data checks


def _as_history(x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> tuple[NDArray, NDArray, NDArray]:
    """Validate and convert a history; the same rules as ``lifetimes``' ``_check_inputs``.

    T = 0 (first purchase on the as-of date) is allowed: such a customer adds exactly 0 to the
    log-likelihood (r·ln α − r·ln(α+0)), so it does not move the fit, and is scored as a new
    customer (P(alive) = 1, expected purchases = E[X(t)]).
    """
    xf = np.asarray(x, dtype=float).reshape(-1)
    tx = np.asarray(t_x, dtype=float).reshape(-1)
    TT = np.asarray(T, dtype=float).reshape(-1)
    if not (len(xf) == len(tx) == len(TT)):
        raise ValueError(f"x, t_x and T must have the same length (got {len(xf)}, {len(tx)}, {len(TT)}).")
    if not (np.all(np.isfinite(xf)) and np.all(np.isfinite(tx)) and np.all(np.isfinite(TT))):
        raise ValueError("x, t_x and T must be finite numbers (no NaN or infinity).")
    if np.any(xf < 0) or np.any(xf != np.floor(xf)):
        raise ValueError("x (repeat purchase days) must be whole numbers >= 0.")
    if np.any(TT < 0):
        raise ValueError("T (days from the first purchase to the as-of date) must be >= 0.")
    if np.any(tx < 0) or np.any(tx > TT):
        raise ValueError("t_x must lie between 0 and T for every customer.")
    if np.any(tx[xf == 0] != 0):
        raise ValueError("t_x must be 0 for customers without repeat purchases (x = 0).")
    return xf.astype(np.int64), tx, TT


# --------------------------------------------------------------------------- likelihood


@dataclass(frozen=True)
class _Compressed:
    """The data reduced to what the likelihood needs (built once per fit).

    Zero-repeat customers only contribute -r·log(α+T), so they are grouped by T; the others are
    grouped by (x, t_x, T); the Gamma-function terms depend on x alone and are summed per x. The
    logarithms of α+T and α+t_x are taken once per distinct T and t_x (at most a few thousand
    values at day resolution) and gathered, since a transcendental function costs ten times a
    gather.
    """

    n: float  # customers (sum of weights)
    T0: NDArray  # distinct T of the x = 0 customers
    w0: NDArray  # their counts
    x1: NDArray  # distinct rows with x > 0: x (float), counts, and indices into ux, uT, ut
    w1: NDArray
    ix1: NDArray
    iT1: NDArray
    it1: NDArray
    ux: NDArray  # distinct x > 0 and the number of customers with each
    nx: NDArray
    uT: NDArray  # distinct T and t_x among the repeat buyers
    ut: NDArray


def _compress(x: NDArray, t_x: NDArray, T: NDArray) -> tuple[_Compressed, int]:
    (ux_all, ut_all, uT_all), _, counts = unique_rows(x, t_x, T, inverse=False)
    counts = counts.astype(float)
    zero = ux_all == 0
    pos = ~zero
    x1 = ux_all[pos].astype(float)
    ux, ix1 = np.unique(x1, return_inverse=True)
    uT, iT1 = np.unique(uT_all[pos].astype(float), return_inverse=True)
    ut, it1 = np.unique(ut_all[pos].astype(float), return_inverse=True)
    nx = np.bincount(ix1.reshape(-1), weights=counts[pos], minlength=len(ux))
    comp = _Compressed(
        n=float(counts.sum()),
        T0=uT_all[zero].astype(float),
        w0=counts[zero],
        x1=x1,
        w1=counts[pos],
        ix1=ix1.reshape(-1).astype(np.intp),
        iT1=iT1.reshape(-1).astype(np.intp),
        it1=it1.reshape(-1).astype(np.intp),
        ux=ux,
        nx=nx,
        uT=uT,
        ut=ut,
    )
    return comp, len(ux_all)


# Beyond |D| = 40, exp(-|D|) < 5e-18 is lost against the O(1) terms it is added to; clipping
# there also keeps exp() out of subnormal numbers, which are very slow to compute with.
_D_CLIP = 40.0


def _loglik_and_grad(params: NDArray, c: _Compressed) -> tuple[float, NDArray]:
    """Total log-likelihood and its gradient with respect to (r, α, a, b).

    Per customer (Fader, Hardie & Lee 2005, eq. 6, as in ``lifetimes``):

        LL = A1 + A2 + log(exp(A3) + [x>0]·exp(A4))
        A1 = lnΓ(r+x) − lnΓ(r) + r·ln α
        A2 = lnΓ(a+b) + lnΓ(b+x) − lnΓ(b) − lnΓ(a+b+x)
        A3 = −(r+x)·ln(α+T)
        A4 = ln a − ln(b+x−1) − (r+x)·ln(α+t_x)

    The last term is written A3 + softplus(D) with D = A4 − A3, whose derivative weights the A4
    branch by s = expit(D): no overflow for customers with hundreds of purchases, where A3 and A4
    are both very negative and their difference is large.
    """
    r, alpha, a, b = (float(v) for v in params)
    g = np.zeros(4)

    # Terms that depend on x only: once per distinct x.
    ux, nx = c.ux, c.nx
    ll = c.n * r * np.log(alpha)
    ll += dot(
        nx,
        special.gammaln(r + ux)
        - special.gammaln(r)
        + special.gammaln(a + b)
        + special.gammaln(b + ux)
        - special.gammaln(b)
        - special.gammaln(a + b + ux),
    )
    psi_ab = special.digamma(a + b)
    psi_abx = special.digamma(a + b + ux)
    g[0] = c.n * np.log(alpha) + dot(nx, (special.digamma(r + ux) - special.digamma(r)))
    g[1] = c.n * r / alpha
    g[2] = dot(nx, (psi_ab - psi_abx))
    g[3] = dot(nx, (psi_ab + special.digamma(b + ux) - special.digamma(b) - psi_abx))

    # Customers without repeat purchases: −r·ln(α+T).
    if c.w0.size:
        lT0 = np.log(alpha + c.T0)
        ll -= r * dot(c.w0, lT0)
        g[0] -= dot(c.w0, lT0)
        g[1] -= r * dot(c.w0, (1.0 / (alpha + c.T0)))

    # Repeat buyers: −(r+x)·ln(α+T) + softplus(D).
    if c.w1.size:
        w = c.w1
        rx = r + c.x1
        lT = np.log(alpha + c.uT)[c.iT1]
        inv_aT = (1.0 / (alpha + c.uT))[c.iT1]
        dl = lT - np.log(alpha + c.ut)[c.it1]  # >= 0 since t_x <= T
        D = (np.log(a) - np.log(b + c.ux - 1.0))[c.ix1] + rx * dl
        e = np.exp(-np.minimum(np.abs(D), _D_CLIP))
        softplus = np.maximum(D, 0.0) + np.log(1.0 + e)
        s = np.where(D >= 0.0, 1.0, e) / (1.0 + e)  # expit(D)
        ws = w * s
        ll += dot(w, softplus) - dot(w, (rx * lT))
        g[0] += dot(ws, dl) - dot(w, lT)
        dinv = inv_aT - (1.0 / (alpha + c.ut))[c.it1]
        g[1] += dot(ws, (rx * dinv)) - dot(w, (rx * inv_aT))
        g[2] += float(ws.sum()) / a
        g[3] -= dot(ws, (1.0 / (b + c.ux - 1.0))[c.ix1])
    return float(ll), g


def negative_log_likelihood(
    log_params: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> tuple[float, NDArray]:
    """Mean negative log-likelihood per customer at ``log(r, α, a, b)`` and its gradient in the
    log-parameters: the objective the fit minimises (public for tests and diagnostics)."""
    comp, _ = _compress(*_as_history(x, t_x, T))
    return _objective(np.asarray(log_params, dtype=float), comp)


def _objective(log_params: NDArray, c: _Compressed) -> tuple[float, NDArray]:
    # The mean (not the total) keeps the tolerances independent of the number of customers.
    params = np.exp(log_params)
    ll, g = _loglik_and_grad(params, c)
    return -ll / c.n, -(g * params) / c.n


# --------------------------------------------------------------------------- fit

# Above four times this many customers, the fit starts from a fit to a systematic sample of them.
_WARM_START_CUSTOMERS = 50_000


def _minimize(comp: _Compressed, x0: NDArray, tol: float) -> optimize.OptimizeResult:
    return optimize.minimize(
        _objective,
        x0,
        args=(comp,),
        jac=True,
        method="L-BFGS-B",
        bounds=_BOUNDS,
        options={"ftol": tol, "gtol": 1e-10, "maxiter": 2000, "maxcor": 20, "maxls": 50},
    )


def fit_bgnbd(
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    *,
    initial: tuple[float, float, float, float] | None = None,
    tol: float = 1e-12,
) -> BgNbdFit:
    """Maximum-likelihood BG/NBD fit (time unit: days).

    ``x`` repeat purchase days (int ≥ 0), ``t_x`` days first → last purchase, ``T`` days first
    purchase → as-of date (0 ≤ t_x ≤ T, t_x = 0 when x = 0). ``initial`` is (r, α, a, b).

    The optimiser is L-BFGS-B on log-parameters (positivity for free, and a scale-free problem)
    with the analytic gradient. ``tol`` is the relative reduction of the mean negative
    log-likelihood at which it stops (scipy's ``ftol``); the default is tight enough that the
    parameters are the maximum to far more than three significant digits, for a handful of extra
    iterations that cost little because of the row grouping.

    Raises ``ValueError`` for empty or invalid input and ``NoRepeatBuyers`` when no customer has
    a repeat purchase (x = 0 everywhere), where the likelihood has no maximum.
    """
    xa, tx, TT = _as_history(x, t_x, T)
    if len(xa) == 0:
        raise ValueError("No customers: the BG/NBD model needs at least one customer with a purchase.")
    n_repeat = int(np.count_nonzero(xa))
    if n_repeat == 0:
        raise NoRepeatBuyers(
            f"None of the {len(xa)} customers has a repeat purchase (a second purchase day), "
            "so the BG/NBD model cannot be estimated."
        )
    lo, hi = np.array(_BOUNDS).T
    if initial is None:
        # r = 1 and α = r / (observed repeat purchases per customer-day): the rate is about right
        # from the start; a = b = 1 is lifetimes' starting point (e^0.1 ≈ 1.1) without the scaling.
        rate = float(xa.sum()) / float(TT.sum())
        x0 = np.clip(np.log([1.0, 1.0 / rate, 1.0, 1.0]), lo, hi)
        step = len(xa) // _WARM_START_CUSTOMERS
        if step >= 4 and np.any(xa[::step] > 0):
            # Most iterations only approach the maximum: do those on every step-th customer, at a
            # fraction of the cost, and finish on everyone. Only the starting point changes.
            warm = _minimize(_compress(xa[::step], tx[::step], TT[::step])[0], x0, 1e-8)
            if warm.success:
                x0 = warm.x
    else:
        x0 = np.log(np.asarray(initial, dtype=float))
        if x0.shape != (4,) or not np.all(np.isfinite(x0)):
            raise ValueError("initial must be four positive numbers (r, alpha, a, b).")
        x0 = np.clip(x0, lo, hi)
    comp, n_rows = _compress(xa, tx, TT)
    res = _minimize(comp, x0, tol)
    r, alpha, a, b = (float(v) for v in np.exp(res.x))
    ll, _ = _loglik_and_grad(np.exp(res.x), comp)
    at_bound = tuple(
        name
        for name, v, low, high in zip(("r", "alpha", "a", "b"), res.x, lo, hi, strict=True)
        if v <= low + 1e-6 or v >= high - 1e-6
    )
    message = str(res.message)
    if at_bound:
        message += f" ({', '.join(at_bound)} at the edge of the allowed range: the data do not identify them)"
    return BgNbdFit(
        r=r,
        alpha=alpha,
        a=a,
        b=b,
        log_likelihood=ll,
        n_customers=len(xa),
        n_repeat=n_repeat,
        converged=bool(res.success) and bool(np.isfinite(ll)),
        iterations=int(res.nit),
        message=message,
        n_unique_rows=n_rows,
        at_bound=at_bound,
    )


# --------------------------------------------------------------------------- predictions


def _log_odds_dead(fit: BgNbdFit, x: NDArray, t_x: NDArray, T: NDArray) -> NDArray:
    """log(P(dead) / P(alive)) for x > 0 (meaningless for x = 0, handled by the callers)."""
    return (fit.r + x) * (np.log(fit.alpha + T) - np.log(fit.alpha + t_x)) + np.log(
        fit.a / (fit.b + np.maximum(x, 1) - 1.0)
    )


def probability_alive(fit: BgNbdFit, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> NDArray:
    """P(still active | x, t_x, T): ``lifetimes``' ``conditional_probability_alive``.

    1 / (1 + a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)) for x > 0, computed as expit(−log-odds) so that
    it neither overflows nor divides by zero for heavy buyers; 1 for x = 0 (in the BG/NBD a
    customer can only drop out right after a repeat purchase).
    """
    xa, tx, TT = _as_history(x, t_x, T)
    xf = xa.astype(float)
    return np.where(xa == 0, 1.0, special.expit(-_log_odds_dead(fit, xf, tx, TT)))


def _future_factor(fit: BgNbdFit, t: float | NDArray, x: NDArray, T: NDArray) -> NDArray:
    """(a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x−1; z)], z = t/(α+T+t).

    This is the numerator of eq. (10) of the paper. ``lifetimes`` evaluates the hypergeometric
    function as written and, where it overflows, falls back on Euler's transformation. Here the
    transformation is always used, because with it the power and the 2F1 combine into

        (1−z)^(a−1) · 2F1(a+b−1−r, a−1; a+b+x−1; z)

    whose parameters do not grow with x: finite for customers with any number of purchases.
    """
    r, alpha, a, b = fit.r, fit.alpha, fit.a, fit.b
    z = t / (alpha + T + t)
    c = a + b + x - 1.0
    with np.errstate(all="ignore"):
        term = np.exp((a - 1.0) * np.log1p(-z)) * special.hyp2f1(a + b - 1.0 - r, a - 1.0, c, z)
        bad = ~np.isfinite(term)
        if np.any(bad):
            # Only for extreme fits (a in the thousands): the power underflows while the 2F1
            # overflows. The untransformed form is then well behaved (its c is large).
            zb = np.broadcast_to(z, term.shape)[bad]
            xb = np.broadcast_to(x, term.shape)[bad]
            term = np.array(term, dtype=float)
            term[bad] = np.exp((r + xb) * np.log1p(-zb)) * special.hyp2f1(
                r + xb, b + xb, a + b + xb - 1.0, zb
            )
    return c / (a - 1.0) * (1.0 - term)


def expected_purchases(fit: BgNbdFit, t: float, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> NDArray:
    """Expected number of purchases in the next ``t`` days given (x, t_x, T).

    ``lifetimes``' ``conditional_expected_number_of_purchases_up_to_time`` (eq. 10): the future
    factor above times P(alive), which is exactly the paper's denominator. The hypergeometric
    function, most of the cost, depends on (x, T) only, so it is evaluated once per distinct pair.
    ``t`` is one horizon in days for everyone; for several horizons over the same customers
    ``expected_purchases_many`` shares the grouping and P(alive).
    """
    return expected_purchases_many(fit, [t], x, t_x, T)[0]


def expected_purchases_many(
    fit: BgNbdFit, horizons: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> NDArray:
    """``expected_purchases`` for several horizons (days): an array of shape (len(horizons), n)."""
    ts = np.asarray(horizons, dtype=float).reshape(-1)
    if not np.all(np.isfinite(ts)) or np.any(ts < 0):
        raise ValueError("horizons (days) must be finite numbers >= 0.")
    xa, tx, TT = _as_history(x, t_x, T)
    out = np.zeros((len(ts), len(xa)))
    if len(xa) == 0:
        return out
    p_alive = probability_alive(fit, xa, tx, TT)
    (ux, uT), inverse, _ = unique_rows(xa, TT)
    uxf, uTf = ux.astype(float), uT.astype(float)
    for k, t in enumerate(ts):
        out[k] = _future_factor(fit, float(t), uxf, uTf)[inverse] * p_alive
    return out


def expected_purchases_new(fit: BgNbdFit, t: ArrayLike) -> float | NDArray:
    """E[X(t)]: repeat purchases a newly acquired customer makes in the ``t`` days after the first.

    Eq. (9) of the paper (``lifetimes``' ``expected_number_of_purchases_up_to_time``); it equals
    the conditional expectation at x = 0, T = 0. Used for back-test totals. A float for a scalar
    ``t``, else an array shaped like ``t``.
    """
    ta = np.asarray(t, dtype=float)
    if not np.all(np.isfinite(ta)) or np.any(ta < 0):
        raise ValueError("t (days) must be finite numbers >= 0.")
    flat = ta.reshape(-1)
    values = _future_factor(fit, flat, np.zeros_like(flat), np.zeros_like(flat)).reshape(ta.shape)
    return float(values) if ta.ndim == 0 else values


# --------------------------------------------------------------------------- simulation


def _simulate_repeat_times(
    n: int, r: float, alpha: float, a: float, b: float, T: NDArray, rng: np.random.Generator
) -> Ragged:
    """Repeat purchase times (days after the first purchase, in (0, T)) of ``n`` simulated customers.

    Vectorised without a loop over purchases: with N ~ Poisson(λT) purchases in (0, T) and death
    after the K-th repeat purchase, K ~ Geometric(p), a customer makes m = min(N, K) observed
    purchases, at the first m of N sorted uniform times. Those are T·S_k/S_{N+1} with S_k the
    partial sums of N+1 standard exponentials, and S_{N+1} = S_m + Gamma(N+1−m), so only m
    exponentials per customer are drawn.
    """
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    p = rng.beta(a, b, size=n)
    p = np.clip(p, 1e-12, 1.0)
    N = rng.poisson(lam * T)
    K = rng.geometric(p)
    m = np.minimum(N, K).astype(np.int64)
    E = rng.exponential(1.0, size=int(m.sum()))
    S = group_cumsum(E, m)
    rest = rng.gamma(np.maximum(N - m + 1, 1).astype(float))
    last = np.zeros(n)
    has = m > 0
    ends = np.cumsum(m) - 1
    last[has] = S[ends[has]]
    total = last + rest
    times = np.repeat(T / total, m) * S
    return Ragged.from_counts(times, m)


def simulate_bgnbd(
    n: int,
    r: float,
    alpha: float,
    a: float,
    b: float,
    T_days: ArrayLike,
    rng: np.random.Generator,
) -> tuple[NDArray, NDArray, NDArray, Ragged]:
    """Draw ``n`` customers from the BG/NBD model itself (continuous time, in days).

    λ ~ Gamma(r, scale 1/α), p ~ Beta(a, b); purchases are Poisson(λ) while active, and the
    customer drops out after each repeat purchase with probability p. ``T_days`` is one
    observation length or one per customer. Returns ``(x, t_x, T, times)`` where ``times[i]`` are
    customer i's repeat purchase times in days after the first purchase.
    """
    T = np.broadcast_to(np.asarray(T_days, dtype=float), (n,)).copy()
    times = _simulate_repeat_times(n, r, alpha, a, b, T, rng)
    x = times.counts
    t_x = np.zeros(n)
    has = x > 0
    t_x[has] = times.values[times.offsets[1:][has] - 1]
    return x, t_x, T, times


def simulate_purchase_days(
    n: int,
    r: float,
    alpha: float,
    a: float,
    b: float,
    first_day: ArrayLike,
    asof_day: int,
    rng: np.random.Generator,
) -> Ragged:
    """Purchase days of ``n`` simulated customers, as a business would record them.

    Each customer's first purchase is on ``first_day`` (one day number for all or one each); later
    purchases follow the BG/NBD in continuous time up to ``asof_day`` and fall on the day
    ``first_day + floor(time)``; purchases on the same day are merged, so the result is what the
    model's x counts (purchase days). ``result[i]`` is customer i's sorted int64 day numbers, the
    first being ``first_day``; ``result.values``/``result.owner()`` are the flat columns for a bulk
    load. One million customers take about a second.
    """
    first = np.broadcast_to(np.asarray(first_day, dtype=np.int64), (n,))
    T = (int(asof_day) - first).astype(float)
    if np.any(T < 0):
        raise ValueError("first_day must not be after asof_day.")
    times = _simulate_repeat_times(n, r, alpha, a, b, T, rng)
    counts = times.counts
    # Prepend the first purchase (time 0) to each customer, then floor to days.
    owner = np.repeat(np.arange(n, dtype=np.int64), counts + 1)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts + 1, out=offsets[1:])
    rel = np.zeros(int(offsets[-1]))
    is_first = np.zeros(len(rel), dtype=bool)
    is_first[offsets[:-1]] = True
    rel[~is_first] = times.values
    days = first[owner] + np.minimum(np.floor(rel).astype(np.int64), T.astype(np.int64)[owner])
    # Merge same-day purchases: keep a day unless it repeats the previous one of the same customer.
    keep = np.ones(len(days), dtype=bool)
    keep[1:] = (days[1:] != days[:-1]) | is_first[1:]
    kept_counts = np.bincount(owner[keep], minlength=n)
    return Ragged.from_counts(days[keep], kept_counts)


def summarise_days(days: Ragged, asof_day: int) -> tuple[NDArray, NDArray, NDArray]:
    """(x, t_x, T) from per-customer sorted, distinct purchase days (first day = first purchase)."""
    counts = days.counts
    if np.any(counts == 0):
        raise ValueError("every customer needs at least one purchase day.")
    first = days.values[days.offsets[:-1]]
    last = days.values[days.offsets[1:] - 1]
    return (counts - 1).astype(np.int64), (last - first).astype(float), (int(asof_day) - first).astype(float)
