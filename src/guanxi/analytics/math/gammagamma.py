"""The Gamma-Gamma model of spend per purchase (Fader, Hardie & Lee 2005, "RFM and CLV"; Hardie's
note 025), and a simple customer lifetime value built on it and the BG/NBD.

A customer's purchase amounts are Gamma(p, rate ν) with ν ~ Gamma(q, rate v) across customers, so
a customer's mean spend is pulled from the population mean p·v/(q−1) towards their own observed
mean, the more so the more purchases we have seen. The inputs are, for each customer with repeat
purchases, ``frequency`` = x (repeat purchase days, as in the BG/NBD) and ``monetary_value`` = the
mean amount of the repeat (non-first) purchases, the convention of the paper and of ``lifetimes``.
The likelihood is ``lifetimes``' ``GammaGammaFitter._negative_log_likelihood`` (eq. 1a of the note),
so with penalizer 0 the fitted (p, q, v) are the same maximum.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

from ._util import Ragged, dot, unique_rows
from .bgnbd import BgNbdFit, NoRepeatBuyers, _as_history, _future_factor, probability_alive

__all__ = [
    "GammaGammaFit",
    "NoRepeatBuyers",
    "clv",
    "expected_average_spend",
    "fit_gammagamma",
    "negative_log_likelihood",
    "simulate_purchase_amounts",
]

# Shapes p, q within 1e-4..1e4 (beyond, e.g. p → ∞ when every customer always spends the same,
# the predictions no longer change), the scale v anywhere sensible for a currency.
_SHAPE_BOUND = float(np.log(1e4))
_BOUNDS = [(-_SHAPE_BOUND, _SHAPE_BOUND), (-_SHAPE_BOUND, _SHAPE_BOUND), (-30.0, 30.0)]


@dataclass
class GammaGammaFit:
    """Fitted Gamma-Gamma parameters; ``log_likelihood`` is the total over the customers used.

    ``at_bound`` names parameters stuck at the edge of the allowed range (see ``BgNbdFit``).
    """

    p: float
    q: float
    v: float
    log_likelihood: float
    n_customers: int
    converged: bool
    message: str
    iterations: int = 0
    at_bound: tuple[str, ...] = ()

    @classmethod
    def from_figures(cls, f: dict) -> GammaGammaFit:
        """Back from the figures a run stored (see ``analytics.runs``)."""
        return cls(
            p=f["p"], q=f["q"], v=f["v"], log_likelihood=f.get("log_likelihood") or 0.0,
            n_customers=f.get("customers") or 0, converged=bool(f.get("converged", True)),
            message=f.get("message") or "", iterations=f.get("iterations") or 0,
        )  # fmt: skip

    @property
    def population_mean(self) -> float:
        """Expected spend per purchase of a customer we know nothing about: p·v/(q−1).

        Only defined for q > 1 (for q ≤ 1 the mixing distribution has no mean); NaN otherwise.
        """
        return self.p * self.v / (self.q - 1.0) if self.q > 1.0 else float("nan")


def _loglik_and_grad(
    params: NDArray,
    ux: NDArray,
    counts: NDArray,
    x: NDArray,
    m: NDArray,
    const: tuple[float, float, float],
) -> tuple[float, NDArray]:
    """Total log-likelihood and gradient in (p, q, v).

    ``ux``/``counts``: the distinct frequencies and how many customers have each; ``const``:
    (Σx·ln m, Σln m, Σx·ln x), the data-only sums of the (px−1)·ln m + px·ln x terms.

    Per customer:  lnΓ(px+q) − lnΓ(px) − lnΓ(q) + q·ln v + (px−1)·ln m + px·ln x − (px+q)·ln(xm+v).
    The Gamma functions depend on x alone: evaluated once per distinct x.
    """
    p, q, v = (float(t) for t in params)
    sum_x_lnm, sum_lnm, sum_x_lnx = const
    n = len(x)
    pux = p * ux
    ll = dot(counts, (special.gammaln(pux + q) - special.gammaln(pux)))
    ll += n * (q * np.log(v) - special.gammaln(q))
    ll += p * sum_x_lnm - sum_lnm + p * sum_x_lnx
    xm_v = x * m + v
    lxmv = np.log(xm_v)
    ll -= p * dot(x, lxmv) + q * float(lxmv.sum())
    psi_pxq = special.digamma(pux + q)
    psi_px = special.digamma(pux)
    gp = dot(counts, (ux * (psi_pxq - psi_px))) + sum_x_lnm + sum_x_lnx - dot(x, lxmv)
    gq = dot(counts, psi_pxq) - n * special.digamma(q) + n * np.log(v) - float(lxmv.sum())
    inv = 1.0 / xm_v
    gv = n * q / v - p * dot(x, inv) - q * float(inv.sum())
    return ll, np.array([gp, gq, gv])


def _prepare(frequency: ArrayLike, monetary_value: ArrayLike) -> tuple[NDArray, NDArray]:
    """The rows the model uses: frequency > 0 and a positive, finite mean amount."""
    x = np.asarray(frequency, dtype=float).reshape(-1)
    m = np.asarray(monetary_value, dtype=float).reshape(-1)
    if len(x) != len(m):
        raise ValueError("frequency and monetary_value must have the same length.")
    use = np.isfinite(x) & np.isfinite(m) & (x > 0) & (m > 0)
    x, m = x[use], m[use]
    if np.any(x != np.floor(x)):
        raise ValueError("frequency must be whole numbers (repeat purchase days).")
    return x, m


def _objective_factory(x: NDArray, m: NDArray) -> Callable[[NDArray], tuple[float, NDArray]]:
    """The mean negative log-likelihood (and gradient in log-parameters) over these rows."""
    ux, counts = np.unique(x, return_counts=True)
    counts = counts.astype(float)
    lnm = np.log(m)
    const = (dot(x, lnm), float(lnm.sum()), dot(x, np.log(x)))
    n = len(x)

    def objective(log_params: NDArray) -> tuple[float, NDArray]:
        # Mean negative log-likelihood and its gradient in the log-parameters.
        params = np.exp(log_params)
        ll, g = _loglik_and_grad(params, ux, counts, x, m, const)
        return -ll / n, -(g * params) / n

    return objective


def negative_log_likelihood(
    log_params: ArrayLike, frequency: ArrayLike, monetary_value: ArrayLike
) -> tuple[float, NDArray]:
    """Mean negative log-likelihood per customer at ``log(p, q, v)`` and its gradient in the
    log-parameters: the objective the fit minimises (public for tests and diagnostics)."""
    x, m = _prepare(frequency, monetary_value)
    if len(x) == 0:
        raise NoRepeatBuyers("No customer has a repeat purchase with a positive amount.")
    return _objective_factory(x, m)(np.asarray(log_params, dtype=float))


_WARM_START_CUSTOMERS = 50_000


def _minimize(
    objective: Callable[[NDArray], tuple[float, NDArray]], x0: NDArray, tol: float
) -> optimize.OptimizeResult:
    return optimize.minimize(
        objective,
        x0,
        jac=True,
        method="L-BFGS-B",
        bounds=_BOUNDS,
        options={"ftol": tol, "gtol": 1e-11, "maxiter": 5000, "maxcor": 20, "maxls": 50},
    )


def fit_gammagamma(
    frequency: ArrayLike,
    monetary_value: ArrayLike,
    *,
    initial: tuple[float, float, float] | None = None,
    tol: float = 1e-13,
) -> GammaGammaFit:
    """Maximum-likelihood Gamma-Gamma fit.

    Only customers with ``frequency`` > 0 and ``monetary_value`` > 0 (finite) are used: the model
    describes repeat purchases, and zero or negative means (refunds) have no Gamma density. Raises
    ``NoRepeatBuyers`` when no customer qualifies. L-BFGS-B on log-parameters with the analytic
    gradient; the likelihood is flat along a ridge (p and v trade off), hence the tight default
    ``tol``, so the optimum matches ``lifetimes`` to well beyond three significant digits.
    """
    x, m = _prepare(frequency, monetary_value)
    if len(x) == 0:
        raise NoRepeatBuyers(
            "No customer has a repeat purchase with a positive amount, "
            "so the Gamma-Gamma spend model cannot be estimated."
        )
    n = len(x)
    objective = _objective_factory(x, m)
    lo, hi = np.array(_BOUNDS).T
    if initial is None:
        # p = 1, q = 2: a population mean of v; v = the observed mean amount is then about right.
        x0 = np.clip(np.log([1.0, 2.0, float(np.mean(m))]), lo, hi)
        step = n // _WARM_START_CUSTOMERS
        if step >= 4:
            # As in the BG/NBD fit: approach the maximum on a systematic sample, finish on all.
            warm = _minimize(_objective_factory(x[::step], m[::step]), x0, 1e-9)
            if warm.success:
                x0 = warm.x
    else:
        x0 = np.clip(np.log(np.asarray(initial, dtype=float)), lo, hi)
    res = _minimize(objective, x0, tol)
    p, q, v = (float(t) for t in np.exp(res.x))
    ll = -objective(res.x)[0] * n
    at_bound = tuple(
        name
        for name, t, low, high in zip(("p", "q", "v"), res.x, lo, hi, strict=True)
        if t <= low + 1e-6 or t >= high - 1e-6
    )
    message = str(res.message)
    if at_bound:
        message += f" ({', '.join(at_bound)} at the edge of the allowed range: the data do not identify them)"
    return GammaGammaFit(
        p=p,
        q=q,
        v=v,
        log_likelihood=float(ll),
        n_customers=n,
        converged=bool(res.success) and bool(np.isfinite(ll)),
        message=message,
        iterations=int(res.nit),
        at_bound=at_bound,
    )


def expected_average_spend(fit: GammaGammaFit, frequency: ArrayLike, monetary_value: ArrayLike) -> NDArray:
    """E[spend per purchase | x, m̄] (eq. 5 of note 025; ``lifetimes``' conditional_expected_average_profit).

    A credibility-weighted mean: w·m̄ + (1−w)·p·v/(q−1) with w = p·x/(p·x+q−1). Customers with
    x = 0 (or an unknown/non-positive mean) get the population mean p·v/(q−1); NaN if q ≤ 1.
    """
    x = np.asarray(frequency, dtype=float).reshape(-1)
    m = np.asarray(monetary_value, dtype=float).reshape(-1)
    if len(x) != len(m):
        raise ValueError("frequency and monetary_value must have the same length.")
    known = np.isfinite(x) & np.isfinite(m) & (x > 0) & (m > 0)
    pop = fit.population_mean
    px = fit.p * np.where(known, x, 0.0)
    w = px / (px + fit.q - 1.0)
    return np.where(known, (1.0 - w) * pop + w * np.where(known, m, 0.0), pop)


def clv(
    bg_fit: BgNbdFit,
    gg_fit: GammaGammaFit,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    monetary: ArrayLike,
    horizon_days: float = 365.0,
    discount_rate_annual: float = 0.0,
    *,
    step_days: float = 30.0,
) -> NDArray:
    """Customer lifetime value over the next ``horizon_days``: expected purchases × expected spend.

    Without discounting it is E[purchases in the horizon | x, t_x, T] × E[spend | x, m̄]. With an
    annual ``discount_rate_annual`` d, the horizon is cut into ``step_days`` steps (30 days by
    default) and the purchases expected in each step are discounted by (1+d)^(−end of step / 365).
    That is ``lifetimes``' ``customer_lifetime_value`` with ``freq="D"``, except that its rate is
    per month (one step) and ours per year, the unit finance people quote. The value is in the
    currency of ``monetary`` (a margin if ``monetary`` is a margin). Customers with x = 0 are
    valued at the population mean spend.
    """
    if not (np.isfinite(horizon_days) and horizon_days >= 0):
        raise ValueError("horizon_days must be a finite number >= 0.")
    if not (np.isfinite(discount_rate_annual) and discount_rate_annual > -1):
        raise ValueError("discount_rate_annual must be a number > -1 (0 for no discounting).")
    if not (np.isfinite(step_days) and step_days > 0):
        raise ValueError("step_days must be a number > 0.")
    xa, tx, TT = _as_history(x, t_x, T)
    spend = expected_average_spend(gg_fit, xa, monetary)
    if len(xa) == 0:
        return np.zeros(0)
    p_alive = probability_alive(bg_fit, xa, tx, TT)
    (ux, uT), inverse, _ = unique_rows(xa, TT)
    uxf, uTf = ux.astype(float), uT.astype(float)
    if discount_rate_annual == 0 or horizon_days == 0:
        purchases = _future_factor(bg_fit, float(horizon_days), uxf, uTf)
    else:
        ends = np.arange(step_days, horizon_days, step_days).tolist() + [float(horizon_days)]
        purchases = np.zeros(len(uxf))
        before = np.zeros(len(uxf))
        for end in ends:
            upto = _future_factor(bg_fit, end, uxf, uTf)
            purchases += (upto - before) * (1.0 + discount_rate_annual) ** (-end / 365.0)
            before = upto
    return purchases[inverse] * p_alive * spend


def simulate_purchase_amounts(
    counts: ArrayLike, p: float, q: float, v: float, rng: np.random.Generator
) -> Ragged:
    """Amounts of ``counts[i]`` purchases for each customer i under the Gamma-Gamma model.

    ν_i ~ Gamma(q, scale 1/v); each amount ~ Gamma(p, scale 1/ν_i). For tests and the benchmark
    generator; ``result[i]`` are customer i's amounts in purchase order.
    """
    c = np.asarray(counts, dtype=np.int64).reshape(-1)
    nu = rng.gamma(q, 1.0 / v, size=len(c))
    amounts = rng.gamma(p, 1.0, size=int(c.sum())) / np.repeat(nu, c)
    return Ragged.from_counts(amounts, c)
