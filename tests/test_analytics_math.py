"""The pure-math analytics (guanxi.analytics.math): BG/NBD, Gamma-Gamma, CLV, ABC, RFM, churn.

No database. The BG/NBD and Gamma-Gamma fits are checked three ways: they recover the parameters
of data simulated from the models, their analytic gradients equal finite differences, and on a
small fixed data set they give the parameters and scores that the ``lifetimes`` package (0.11.3,
BetaGeoFitter/GammaGammaFitter with penalizer 0) gives. ``lifetimes`` is not a dependency: its
numbers below were produced once, in a scratch virtualenv (lifetimes 0.11.3 with pandas 3.1,
numpy 2.4, scipy 1.17), and are written here as literals. The data: 300 customers from
``simulate_purchase_days(300, 0.5, 30.0, 0.7, 2.5, first_day, 545, rng)`` with
``rng = np.random.default_rng(20240521)`` and ``first_day = rng.integers(0, 540, 300)``, amounts
from ``simulate_purchase_amounts(counts, 6.0, 4.0, 150.0, rng)``, mean repeat amount rounded to
cents. lifetimes was fitted from four starting points at the tightest tolerance its BFGS accepts
(all four agreed to 1e-7) and scored at rows ``LT_IDX``; the heavy-buyer rows use fixed parameters.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guanxi.analytics.math import abc, bgnbd, churn, gammagamma, rfm
from guanxi.analytics.math._util import unique_rows
from guanxi.analytics.math.bgnbd import BgNbdFit, NoRepeatBuyers

# --------------------------------------------------------------------------- lifetimes reference data
# 300 customers in days: x (repeat purchase days), t_x, T, and the mean repeat purchase amount.
# fmt: off
LT_X = [
    0, 0, 3, 3, 18, 0, 0, 2, 1, 1, 3, 0, 4, 15, 0, 0, 4, 0, 0, 0, 0, 0, 1, 4, 0, 8, 0, 1, 2, 2, 1, 2, 5, 1,
    1, 1, 0, 1, 1, 1, 2, 3, 1, 1, 0, 0, 1, 1, 1, 0, 2, 3, 1, 0, 10, 0, 0, 0, 0, 9, 4, 9, 0, 3, 0, 0, 2, 0,
    0, 6, 20, 1, 0, 0, 1, 0, 0, 1, 1, 0, 1, 2, 0, 1, 1, 0, 0, 0, 0, 0, 7, 12, 0, 10, 0, 0, 16, 5, 7, 4, 1,
    1, 2, 1, 0, 0, 2, 0, 1, 1, 2, 2, 1, 4, 1, 0, 2, 2, 3, 2, 1, 2, 0, 5, 5, 0, 2, 4, 0, 5, 16, 0, 0, 1, 0,
    3, 1, 1, 2, 0, 1, 1, 2, 1, 44, 2, 4, 1, 5, 4, 1, 0, 4, 0, 1, 1, 0, 4, 0, 1, 6, 2, 1, 0, 5, 11, 5, 2, 1,
    1, 0, 0, 3, 1, 1, 0, 0, 2, 5, 6, 7, 0, 5, 2, 4, 5, 8, 0, 0, 2, 1, 0, 0, 4, 6, 1, 2, 15, 16, 0, 2, 3, 2,
    0, 1, 9, 3, 4, 0, 16, 0, 2, 4, 1, 0, 0, 0, 3, 6, 0, 0, 4, 0, 1, 5, 13, 8, 4, 0, 0, 1, 1, 0, 2, 8, 4, 0,
    3, 1, 0, 1, 0, 6, 0, 5, 0, 2, 0, 5, 1, 0, 3, 1, 16, 0, 3, 1, 1, 0, 0, 1, 0, 6, 2, 1, 4, 1, 0, 0, 1, 0,
    0, 0, 5, 0, 4, 1, 26, 2, 0, 0, 0, 3, 14, 6, 3, 2, 1, 1, 0, 1, 1, 0, 0, 2, 2, 0, 0, 1, 0
]
LT_TX = [
    0, 0, 85, 240, 403, 0, 0, 138, 4, 2, 102, 0, 92, 306, 0, 0, 122, 0, 0, 0, 0, 0, 112, 227, 0, 218, 0,
    239, 244, 279, 102, 213, 505, 38, 189, 39, 0, 55, 19, 5, 132, 248, 42, 1, 0, 0, 111, 4, 229, 0, 53, 22,
    210, 0, 396, 0, 0, 0, 0, 309, 172, 242, 0, 100, 0, 0, 313, 0, 0, 200, 370, 201, 0, 0, 46, 0, 0, 75, 204,
    0, 22, 202, 0, 345, 4, 0, 0, 0, 0, 0, 401, 410, 0, 420, 0, 0, 367, 29, 231, 100, 1, 12, 195, 81, 0, 0,
    147, 0, 8, 37, 11, 54, 10, 390, 327, 0, 14, 50, 100, 53, 37, 107, 0, 158, 509, 0, 58, 78, 0, 417, 451,
    0, 0, 191, 0, 78, 18, 338, 50, 0, 412, 35, 15, 4, 504, 113, 97, 174, 256, 175, 408, 0, 308, 0, 4, 36, 0,
    175, 0, 33, 300, 82, 19, 0, 384, 454, 82, 223, 271, 22, 0, 0, 289, 10, 111, 0, 0, 412, 82, 510, 212, 0,
    349, 421, 147, 180, 221, 0, 0, 77, 24, 0, 0, 35, 106, 34, 297, 211, 196, 0, 124, 236, 6, 0, 243, 316,
    198, 170, 0, 303, 0, 116, 94, 66, 0, 0, 0, 333, 184, 0, 0, 374, 0, 131, 290, 473, 289, 167, 0, 0, 193,
    23, 0, 497, 278, 166, 0, 43, 85, 0, 10, 0, 277, 0, 352, 0, 40, 0, 45, 271, 0, 298, 62, 307, 0, 49, 81,
    51, 0, 0, 30, 0, 109, 107, 22, 501, 476, 0, 0, 8, 0, 0, 0, 146, 0, 68, 109, 462, 65, 0, 0, 0, 64, 268,
    481, 427, 121, 67, 8, 0, 43, 90, 0, 0, 137, 33, 0, 0, 36, 0
]
LT_T = [
    377, 126, 99, 249, 412, 17, 19, 193, 407, 17, 107, 425, 282, 352, 141, 60, 135, 212, 338, 248, 507, 204,
    428, 243, 426, 235, 307, 514, 341, 280, 130, 494, 517, 407, 280, 105, 16, 404, 437, 431, 327, 370, 66,
    353, 54, 32, 228, 323, 329, 440, 446, 418, 463, 280, 434, 155, 396, 508, 436, 395, 179, 274, 270, 360,
    288, 139, 425, 317, 258, 214, 388, 420, 165, 47, 64, 64, 184, 496, 241, 420, 53, 250, 405, 377, 131, 35,
    97, 198, 30, 200, 408, 459, 421, 428, 21, 182, 474, 475, 544, 402, 327, 367, 531, 135, 197, 120, 282,
    81, 397, 462, 506, 124, 545, 480, 426, 428, 492, 376, 469, 141, 389, 476, 449, 194, 523, 25, 314, 221,
    383, 506, 508, 492, 29, 402, 409, 273, 52, 444, 63, 341, 521, 495, 95, 48, 512, 125, 457, 452, 275, 335,
    437, 113, 393, 14, 97, 225, 106, 390, 6, 388, 301, 170, 139, 72, 410, 464, 438, 319, 373, 50, 139, 273,
    310, 44, 230, 266, 266, 496, 182, 534, 393, 527, 510, 422, 214, 499, 306, 78, 56, 83, 80, 483, 355, 46,
    378, 61, 453, 532, 451, 153, 418, 385, 272, 238, 359, 323, 250, 190, 516, 332, 532, 159, 166, 97, 342,
    476, 453, 526, 304, 397, 26, 382, 289, 531, 374, 487, 389, 376, 400, 369, 361, 374, 137, 504, 294, 249,
    437, 205, 442, 13, 192, 116, 297, 108, 545, 413, 279, 11, 55, 433, 461, 319, 66, 352, 150, 76, 146, 154,
    387, 17, 62, 300, 121, 181, 325, 513, 488, 75, 306, 47, 375, 522, 121, 419, 229, 256, 188, 474, 205,
    541, 13, 381, 345, 530, 534, 477, 160, 417, 405, 424, 366, 311, 106, 241, 202, 81, 204, 198, 109, 174
]
LT_M = [
    0, 0, 182.42, 386.28, 145.39, 0, 0, 399.07, 102.01, 107.92, 329.02, 0, 154.97, 125.24, 0, 0, 156.96, 0,
    0, 0, 0, 0, 639.11, 95.85, 0, 253.48, 0, 178.46, 347.7, 306.13, 186.35, 337.74, 247.21, 250.51, 144.35,
    95.83, 0, 181.2, 80.13, 238.52, 244.36, 325.53, 232.18, 959.85, 0, 0, 549.03, 326.94, 172.02, 0, 161.32,
    775.19, 185.13, 0, 174.49, 0, 0, 0, 0, 304.58, 321.03, 279.44, 0, 169.51, 0, 0, 157.36, 0, 0, 313.19,
    173.03, 511.53, 0, 0, 539.28, 0, 0, 158.88, 158.5, 0, 370.03, 362.62, 0, 153.29, 132.9, 0, 0, 0, 0, 0,
    213.05, 148.48, 0, 189.03, 0, 0, 490.23, 394.42, 102.21, 215.62, 590.62, 207.59, 130.86, 271.08, 0, 0,
    196.59, 0, 308.53, 474.1, 143.94, 142.18, 150.18, 149.4, 133.01, 0, 193.93, 458.58, 337.04, 149.4,
    442.09, 481.62, 0, 241.98, 462.57, 0, 339.04, 359.83, 0, 194.95, 345.07, 0, 0, 467.03, 0, 111.23,
    123.29, 166.56, 175.5, 0, 319.41, 269.96, 152.85, 249.79, 171.12, 596.11, 510.93, 156.43, 130.53,
    1006.71, 69.11, 0, 270.72, 0, 62.08, 423.69, 0, 296.72, 0, 232.48, 276.02, 366.31, 214.71, 0, 127.85,
    217.79, 623.84, 159.99, 125.87, 183.94, 0, 0, 115.93, 534.3, 132.97, 0, 0, 183.51, 514.72, 133.44,
    433.97, 0, 248.11, 129.49, 141.06, 413.76, 372.98, 0, 0, 194.25, 163.65, 0, 0, 218.21, 89.0, 104.55,
    358.12, 213.68, 167.58, 0, 708.44, 125.87, 922.27, 0, 260.2, 486.45, 139.24, 527.56, 0, 202.5, 0, 97.68,
    248.43, 147.2, 0, 0, 0, 135.81, 309.71, 0, 0, 123.5, 0, 309.08, 545.98, 415.92, 220.59, 150.08, 0, 0,
    217.18, 437.84, 0, 225.66, 348.84, 104.66, 0, 345.06, 111.46, 0, 79.25, 0, 173.84, 0, 265.0, 0, 106.13,
    0, 962.09, 127.1, 0, 115.95, 135.27, 333.83, 0, 249.13, 161.2, 188.97, 0, 0, 224.04, 0, 283.99, 266.37,
    620.17, 108.05, 351.35, 0, 0, 226.38, 0, 0, 0, 257.12, 0, 176.53, 112.73, 1169.77, 117.08, 0, 0, 0,
    127.29, 212.95, 264.98, 463.61, 239.81, 132.44, 64.75, 0, 202.05, 93.27, 0, 0, 189.48, 395.06, 0, 0,
    269.18, 0
]
# lifetimes 0.11.3 on that data: fitted (r, alpha, a, b), (p, q, v) and scores at rows LT_IDX.
LT_BG_PARAMS = [
    0.5477474268, 35.43163927, 0.7095443601, 3.29522817
]
LT_GG_PARAMS = [
    10.7412014, 4.02447744, 77.66437182
]
LT_IDX = [0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 277]
LT_P_ALIVE = [
    1, 1, 0.8347647907, 0.8694229132, 1, 0.09917649784, 0.7735476946, 1, 0.7327851643, 1, 1,
    0.9713173327, 0.8541289795, 0.9549115514
]
LT_EXPECTED_30 = [
    0.03945356227, 0.09932841997, 0.6296314021, 0.3177417744, 0.2921634135, 0.01028376314, 0.9098294296,
    0.06749273744, 0.1060721875, 0.08450671263, 0.06862046002, 2.32876605, 0.1196396198, 1.46510219
]
LT_EXPECTED_90 = [
    0.116160521, 0.2851396584, 1.738279309, 0.9125744947, 0.7865223212, 0.03015023631, 2.61383198,
    0.196290694, 0.3083550896, 0.2440402389, 0.199475263, 6.751790962, 0.3510967581, 4.242466322
]
LT_EXPECTED_365 = [
    0.4372392536, 0.993117105, 5.436614594, 3.159441454, 2.375673156, 0.1116597921, 9.040622388,
    0.7098462496, 1.110340599, 0.8642308203, 0.7203123198, 24.0252655, 1.303627441, 15.03611925
]
LT_EXPECTED_NEW = [
    0.4199433085, 1.093570148, 3.11872826
]
LT_SPEND = [
    275.8191047, 275.8191047, 190.434152, 376.8018534, 275.8191047, 140.1978527, 128.0145594,
    275.8191047, 173.2352694, 275.8191047, 275.8191047, 171.7857595, 231.8503057, 1160.192333
]
LT_HEAVY_P_ALIVE = [
    1, 0.06389745167, 2.96100204e-05, 0.6624070498, 0.9960695317, 0.9968946159, 1.512193741e-127,
    0.9990151959
]
LT_HEAVY_EXPECTED_30 = [
    0.009743217165, 0.003209132465, 1.221907714e-05, 2.670465179, 12.02525961, 20.05148609,
    3.041618569e-126, 23.60235047
]
LT_HEAVY_EXPECTED_365 = [
    0.1113721129, 0.03586803786, 0.0001304639624, 28.03303644, 126.0346967, 210.0882603,
    3.186837879e-125, 256.1294117
]
# fmt: on


def lt_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return np.array(LT_X), np.array(LT_TX, dtype=float), np.array(LT_T, dtype=float), np.array(LT_M)


def fit_with(params: list[float]) -> BgNbdFit:
    r, alpha, a, b = params
    return BgNbdFit(r, alpha, a, b, log_likelihood=0.0, n_customers=0, n_repeat=0, converged=True,
                    iterations=0, message="")  # fmt: skip


def fd_gradient(fun, x0: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central finite differences of the objective's value."""
    return np.array([(fun(x0 + h * e)[0] - fun(x0 - h * e)[0]) / (2 * h) for e in np.eye(len(x0))])


def log_param_se(fun, log_params: np.ndarray, n: int) -> np.ndarray:
    """Standard errors of the log-parameters: inverse observed information, from the Hessian of
    the mean negative log-likelihood (finite differences of its analytic gradient)."""
    h = 1e-4
    H = np.array(
        [(fun(log_params + h * e)[1] - fun(log_params - h * e)[1]) / (2 * h) for e in np.eye(len(log_params))]
    )
    H = (H + H.T) / 2
    return np.sqrt(np.diag(np.linalg.inv(H)) / n)


def mean_repeat_amount(amounts) -> np.ndarray:
    """Mean of each customer's purchase amounts after the first (0 when there is none)."""
    owner = amounts.owner()
    later = np.ones(len(owner), dtype=bool)
    later[amounts.offsets[:-1]] = False
    sums = np.bincount(owner[later], weights=amounts.values[later], minlength=len(amounts))
    repeats = amounts.counts - 1
    return np.where(repeats > 0, sums / np.maximum(repeats, 1), 0.0)


# --------------------------------------------------------------------------- BG/NBD


@pytest.mark.parametrize(
    ("params", "n", "seed"),
    [
        ((0.24, 4.4, 0.79, 2.4), 30_000, 11),  # CDNOW's shape, in days: frequent buyers
        ((1.5, 20.0, 0.5, 5.0), 30_000, 12),  # homogeneous rates, loyal customers
        ((0.6, 60.0, 2.0, 8.0), 40_000, 13),  # slow buyers, quick to drop out
    ],
)
def test_bgnbd_fit_recovers_the_parameters_of_simulated_data(params, n, seed):
    rng = np.random.default_rng(seed)
    T = rng.uniform(30, 1000, n)
    x, t_x, T, _ = bgnbd.simulate_bgnbd(n, *params, T, rng)
    fit = bgnbd.fit_bgnbd(x, t_x, T)
    assert fit.converged and fit.time_unit == "days"
    assert (fit.n_customers, fit.n_repeat) == (n, int((x > 0).sum()))
    got = np.log([fit.r, fit.alpha, fit.a, fit.b])
    se = log_param_se(lambda p: bgnbd.negative_log_likelihood(p, x, t_x, T), got, n)
    assert np.all(se < 0.1), se  # the data pin the parameters down: the check below means something
    assert np.all(np.abs(got - np.log(params)) < 4 * se), (np.exp(got), params, se)


def test_simulated_purchases_match_the_model_expectation():
    # Independent of the fit: the mean number of repeat purchases in T days is E[X(T)] (eq. 9).
    params = (0.5, 30.0, 0.7, 2.5)
    rng = np.random.default_rng(5)
    x, t_x, T, times = bgnbd.simulate_bgnbd(60_000, *params, 400.0, rng)
    expected = bgnbd.expected_purchases_new(fit_with(list(params)), 400.0)
    assert abs(x.mean() - expected) < 4 * x.std() / np.sqrt(len(x))
    assert np.all((t_x >= 0) & (t_x < T)) and np.all(t_x[x == 0] == 0)
    assert [len(times[i]) for i in range(5)] == x[:5].tolist()


def test_large_fits_start_from_a_sample_and_reach_the_same_maximum():
    # Above 200,000 customers the fits first run on a systematic sample; an explicit starting
    # point skips that step. Both must end at the same maximum.
    rng = np.random.default_rng(8)
    n = 200_000
    first = rng.integers(0, 700, size=n)
    days = bgnbd.simulate_purchase_days(n, 0.3, 8.0, 0.8, 2.5, first, 730, rng)
    x, t_x, T = bgnbd.summarise_days(days, 730)
    warm = bgnbd.fit_bgnbd(x, t_x, T)
    cold = bgnbd.fit_bgnbd(x, t_x, T, initial=(1.0, 1.0 / (x.sum() / T.sum()), 1.0, 1.0))
    assert warm.converged and cold.converged and warm.iterations < cold.iterations
    np.testing.assert_allclose(
        [warm.r, warm.alpha, warm.a, warm.b], [cold.r, cold.alpha, cold.a, cold.b], rtol=1e-4
    )
    m = mean_repeat_amount(gammagamma.simulate_purchase_amounts(days.counts, 4.0, 3.0, 100.0, rng))
    warm = gammagamma.fit_gammagamma(x, m)
    cold = gammagamma.fit_gammagamma(x, m, initial=(1.0, 2.0, float(m[x > 0].mean())))
    assert warm.converged and cold.converged
    np.testing.assert_allclose([warm.p, warm.q, warm.v], [cold.p, cold.q, cold.v], rtol=1e-4)


def test_bgnbd_analytic_gradient_equals_finite_differences():
    x, t_x, T, _ = lt_data()
    x = np.append(x, [500, 1])  # a heavy buyer and one who bought on the first two days only
    t_x = np.append(t_x, [700.0, 1.0])
    T = np.append(T, [730.0, 730.0])
    for point in ([0.5, 35.0, 0.7, 3.3], [0.1, 2.0, 3.0, 0.5], [2.0, 300.0, 0.2, 20.0]):
        lp = np.log(point)
        value, grad = bgnbd.negative_log_likelihood(lp, x, t_x, T)
        assert np.isfinite(value)
        fd = fd_gradient(lambda p: bgnbd.negative_log_likelihood(p, x, t_x, T), lp)
        np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-8)


def test_bgnbd_fit_equals_lifetimes_on_the_same_data():
    x, t_x, T, _ = lt_data()
    fit = bgnbd.fit_bgnbd(x, t_x, T)
    assert fit.converged
    np.testing.assert_allclose([fit.r, fit.alpha, fit.a, fit.b], LT_BG_PARAMS, rtol=5e-4)
    i = LT_IDX
    np.testing.assert_allclose(bgnbd.probability_alive(fit, x[i], t_x[i], T[i]), LT_P_ALIVE, rtol=1e-3)
    for horizon, expected in ((30, LT_EXPECTED_30), (90, LT_EXPECTED_90), (365, LT_EXPECTED_365)):
        got = bgnbd.expected_purchases(fit, horizon, x[i], t_x[i], T[i])
        np.testing.assert_allclose(got, expected, rtol=1e-3)
    np.testing.assert_allclose(bgnbd.expected_purchases_new(fit, [30, 90, 365]), LT_EXPECTED_NEW, rtol=1e-3)


def test_bgnbd_formulas_equal_lifetimes_at_the_same_parameters():
    x, t_x, T, _ = lt_data()
    fit = fit_with(LT_BG_PARAMS)
    i = LT_IDX
    np.testing.assert_allclose(bgnbd.probability_alive(fit, x[i], t_x[i], T[i]), LT_P_ALIVE, rtol=1e-8)
    many = bgnbd.expected_purchases_many(fit, [30, 90, 365], x[i], t_x[i], T[i])
    np.testing.assert_allclose(many, [LT_EXPECTED_30, LT_EXPECTED_90, LT_EXPECTED_365], rtol=1e-8)
    assert bgnbd.expected_purchases_new(fit, 90) == pytest.approx(LT_EXPECTED_NEW[1], rel=1e-8)


def test_heavy_buyers_are_scored_like_lifetimes_without_overflow():
    # x up to 800: the hypergeometric function of lifetimes' formula overflows there.
    fit = fit_with([0.24, 4.4, 0.79, 2.4])
    x = np.array([0, 1, 10, 100, 300, 500, 500, 800])
    t_x = np.array([0.0, 30.0, 200.0, 700.0, 729.0, 729.0, 400.0, 1000.0])
    T = np.array([730.0] * 7 + [1000.0])
    np.testing.assert_allclose(bgnbd.probability_alive(fit, x, t_x, T), LT_HEAVY_P_ALIVE, rtol=1e-8)
    np.testing.assert_allclose(bgnbd.expected_purchases(fit, 30, x, t_x, T), LT_HEAVY_EXPECTED_30, rtol=1e-8)
    np.testing.assert_allclose(
        bgnbd.expected_purchases(fit, 365, x, t_x, T), LT_HEAVY_EXPECTED_365, rtol=1e-8
    )


def test_fit_is_stable_with_a_customer_of_500_purchases():
    x, t_x, T, _ = lt_data()
    x, t_x, T = np.append(x, [500, 500]), np.append(t_x, [729.0, 600.0]), np.append(T, [730.0, 730.0])
    fit = bgnbd.fit_bgnbd(x, t_x, T)
    assert fit.converged and np.isfinite(fit.log_likelihood)
    assert all(np.isfinite(v) and v > 0 for v in (fit.r, fit.alpha, fit.a, fit.b))
    p = bgnbd.probability_alive(fit, x, t_x, T)
    e = bgnbd.expected_purchases(fit, 365, x, t_x, T)
    assert np.all(np.isfinite(p) & (p >= 0) & (p <= 1)) and np.all(np.isfinite(e) & (e >= 0))
    assert e[-2] > 100  # bought yesterday, as almost every day and a half
    assert p[-1] < 1e-6  # 130 days of silence from a customer who bought every day and a half


def test_degenerate_data_end_at_the_edge_of_the_range_with_finite_predictions():
    # Everyone bought again the next day and never since: p -> 1 for all, so a -> inf and b -> 0.
    x, t_x, T = [1] * 50 + [0] * 50, [1] * 50 + [0] * 50, [1000] * 100
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = bgnbd.fit_bgnbd(x, t_x, T)
        e = bgnbd.expected_purchases(fit, 365, x, t_x, T)
    assert fit.converged and set(fit.at_bound) == {"a", "b"} and "edge" in fit.message
    assert np.all(np.isfinite(e)) and np.all(e[:50] < 1e-3)


def test_the_fit_does_not_depend_on_the_time_unit():
    # Weeks instead of days: alpha scales, the rest is unchanged (lifetimes rescales time itself).
    x, t_x, T, _ = lt_data()
    days = bgnbd.fit_bgnbd(x, t_x, T)
    weeks = bgnbd.fit_bgnbd(x, t_x / 7, T / 7)
    np.testing.assert_allclose(
        [weeks.r, weeks.alpha * 7, weeks.a, weeks.b], [days.r, days.alpha, days.a, days.b], rtol=1e-6
    )


def test_no_repeat_buyers_and_no_customers_are_reported_not_crashed():
    with pytest.raises(NoRepeatBuyers, match="repeat purchase"):
        bgnbd.fit_bgnbd([0, 0, 0], [0, 0, 0], [10, 20, 30])
    with pytest.raises(ValueError, match="No customers") as err:
        bgnbd.fit_bgnbd([], [], [])
    assert not isinstance(err.value, NoRepeatBuyers)
    with pytest.raises(NoRepeatBuyers):
        gammagamma.fit_gammagamma([0, 0, 2], [0.0, 0.0, 0.0])
    assert issubclass(NoRepeatBuyers, ValueError)


@pytest.mark.parametrize(
    ("x", "t_x", "T"),
    [
        ([1], [11.0], [10.0]),  # t_x > T
        ([-1], [0.0], [10.0]),  # negative x
        ([1.5], [3.0], [10.0]),  # fractional x
        ([0], [2.0], [10.0]),  # t_x without a repeat purchase
        ([0], [0.0], [-1.0]),  # T < 0
        ([1], [float("nan")], [10.0]),
        ([1, 2], [1.0], [10.0]),  # lengths differ
    ],
)
def test_invalid_histories_are_refused(x, t_x, T):
    with pytest.raises(ValueError):
        bgnbd.fit_bgnbd(x, t_x, T)


def test_probability_alive_is_one_without_repeat_purchases_and_falls_with_silence():
    fit = fit_with(LT_BG_PARAMS)
    p = bgnbd.probability_alive(fit, [0, 3, 3, 3], [0, 100, 100, 100], [50, 100, 200, 400])
    assert p[0] == 1.0 and p[1] > p[2] > p[3]


def test_a_customer_who_first_bought_today_is_scored_as_new_and_does_not_move_the_fit():
    x, t_x, T, _ = lt_data()
    fit = bgnbd.fit_bgnbd(x, t_x, T)
    with_new = bgnbd.fit_bgnbd(np.append(x, 0), np.append(t_x, 0), np.append(T, 0))
    np.testing.assert_allclose(
        [with_new.r, with_new.alpha, with_new.a, with_new.b], [fit.r, fit.alpha, fit.a, fit.b], rtol=1e-6
    )
    assert bgnbd.probability_alive(fit, [0], [0], [0])[0] == 1.0
    e = bgnbd.expected_purchases(fit, 90, [0], [0], [0])[0]
    assert e == pytest.approx(bgnbd.expected_purchases_new(fit, 90), rel=1e-12)


def test_expected_purchases_grow_with_the_horizon_from_zero():
    x, t_x, T, _ = lt_data()
    fit = fit_with(LT_BG_PARAMS)
    many = bgnbd.expected_purchases_many(fit, [0, 30, 90, 365], x, t_x, T)
    np.testing.assert_allclose(many[0], 0.0, atol=1e-12)
    assert np.all(np.diff(many, axis=0) > 0)
    np.testing.assert_allclose(many[2], bgnbd.expected_purchases(fit, 90, x, t_x, T), rtol=1e-12)


def test_simulated_purchase_days_are_what_a_business_would_record():
    rng = np.random.default_rng(3)
    first = rng.integers(0, 300, size=2000)
    days = bgnbd.simulate_purchase_days(2000, 0.5, 10.0, 0.7, 2.5, first, 365, rng)
    assert len(days) == 2000
    for i in range(2000):
        d = days[i]
        assert d.dtype.kind == "i" and d[0] == first[i] and d[-1] <= 365 and np.all(np.diff(d) > 0)
    x, t_x, T = bgnbd.summarise_days(days, 365)
    assert np.array_equal(x, days.counts - 1) and np.array_equal(T, 365 - first)
    assert np.array_equal(days.owner(), np.repeat(np.arange(2000), days.counts))
    assert x.max() > 10 and (x == 0).any()
    fit = bgnbd.fit_bgnbd(x, t_x, T)  # day-level data fits too
    assert fit.converged


@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 3), st.sampled_from([0.5, 1.0, 2.25])),
        min_size=1,
        max_size=40,
    )
)
def test_unique_rows_groups_equal_rows_whatever_the_column_types(rows):
    a, b, c = (np.array(col) for col in zip(*rows, strict=True))
    for cols in ((a, b, c), (a.astype(float), b.astype(float) * 0.5, c)):
        uniq, inverse, counts = unique_rows(*cols)
        for u, col in zip(uniq, cols, strict=True):
            assert np.array_equal(u[inverse], col)
        assert counts.sum() == len(rows) and len(counts) == len(set(rows))
        assert np.array_equal(np.bincount(inverse), counts)


# --------------------------------------------------------------------------- Gamma-Gamma and CLV


@pytest.mark.parametrize(("params", "seed"), [((6.0, 4.0, 15.0), 21), ((2.0, 3.0, 500.0), 22)])
def test_gammagamma_fit_recovers_the_parameters_of_simulated_spend(params, seed):
    rng = np.random.default_rng(seed)
    n = 30_000
    x = rng.geometric(0.3, size=n)  # repeat purchases, >= 1
    amounts = gammagamma.simulate_purchase_amounts(x + 1, *params, rng)
    m = mean_repeat_amount(amounts)
    fit = gammagamma.fit_gammagamma(x, m)
    assert fit.converged and fit.n_customers == n
    got = np.log([fit.p, fit.q, fit.v])
    se = log_param_se(lambda p: gammagamma.negative_log_likelihood(p, x, m), got, n)
    assert np.all(se < 0.1), se
    assert np.all(np.abs(got - np.log(params)) < 4 * se), (np.exp(got), params, se)


def test_gammagamma_analytic_gradient_equals_finite_differences():
    x, _, _, m = lt_data()
    for point in ([10.0, 4.0, 80.0], [0.5, 1.5, 3.0], [50.0, 20.0, 1000.0]):
        lp = np.log(point)
        _, grad = gammagamma.negative_log_likelihood(lp, x, m)
        fd = fd_gradient(lambda p: gammagamma.negative_log_likelihood(p, x, m), lp)
        np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-8)


def test_gammagamma_fit_and_spend_equal_lifetimes():
    x, _, _, m = lt_data()
    fit = gammagamma.fit_gammagamma(x, m)  # rows with x = 0 are left out by the fit itself
    assert fit.converged and fit.n_customers == int((x > 0).sum())
    np.testing.assert_allclose([fit.p, fit.q, fit.v], LT_GG_PARAMS, rtol=5e-4)
    i = LT_IDX
    np.testing.assert_allclose(gammagamma.expected_average_spend(fit, x[i], m[i]), LT_SPEND, rtol=1e-3)
    assert fit.population_mean == pytest.approx(LT_SPEND[0], rel=1e-3)  # x = 0 gets the population mean


def test_clv_is_purchases_times_spend_and_discounting_lowers_it():
    x, t_x, T, m = lt_data()
    bg = fit_with(LT_BG_PARAMS)
    gg = gammagamma.GammaGammaFit(
        *LT_GG_PARAMS, log_likelihood=0.0, n_customers=0, converged=True, message=""
    )
    plain = gammagamma.clv(bg, gg, x, t_x, T, m, 365)
    expected = bgnbd.expected_purchases(bg, 365, x, t_x, T) * gammagamma.expected_average_spend(gg, x, m)
    np.testing.assert_allclose(plain, expected, rtol=1e-12)
    discounted = gammagamma.clv(bg, gg, x, t_x, T, m, 365, 0.10)
    assert np.all(discounted < plain) and np.all(discounted > plain / 1.10)
    assert np.all(np.isfinite(plain)) and np.all(plain > 0)


# --------------------------------------------------------------------------- ABC

values_st = st.lists(
    st.one_of(st.integers(-50, 1000).map(float), st.floats(-1e3, 1e7, allow_nan=False, allow_infinity=False)),
    min_size=1,
    max_size=60,
)
thresholds_st = st.tuples(st.floats(0.05, 1.0), st.floats(0.05, 1.0)).map(lambda t: (min(t), max(t)))


def test_abc_worked_example_with_both_presets():
    values = [10, 100, 10, 50, 30]
    classes, rank, share, cum = abc.abc_classes(values, abc.PARETO_DEFAULT)
    assert rank.tolist() == [4, 1, 5, 2, 3]  # equal values keep input order
    assert classes.tolist() == ["B", "A", "C", "A", "A"]  # shares before: .9, 0, .95, .5, .75
    np.testing.assert_allclose(share, [0.05, 0.5, 0.05, 0.25, 0.15])
    np.testing.assert_allclose(cum, [0.95, 0.5, 1.0, 0.75, 0.9])
    classes, *_ = abc.abc_classes(values, abc.SEED_PRESET_70)
    assert classes.tolist() == ["C", "A", "C", "A", "B"]
    # Exactly at a threshold counts as reached: the customer after it is in the next class.
    assert abc.abc_classes([50, 30, 20], (0.8, 0.95))[0].tolist() == ["A", "A", "B"]
    assert classes.dtype == np.dtype("<U1")


@given(values_st, thresholds_st)
def test_abc_classes_follow_the_cumulative_share_definition(values, thresholds):
    t1, t2 = thresholds
    v = np.array(values)
    classes, rank, share, cum = abc.abc_classes(v, thresholds)
    order = np.argsort(rank)
    assert sorted(rank.tolist()) == list(range(1, len(v) + 1))
    assert np.all(np.diff(v[order]) <= 0)  # largest first
    assert "".join(classes[order]) == "".join(sorted(classes[order]))  # A..A B..B C..C down the ranking
    assert np.all(classes[v <= 0] == "C")
    if not np.any(v > 0):
        assert set(classes) == {"C"} and np.all(share == 0)
        return
    assert classes[order[0]] == "A"
    assert share.sum() == pytest.approx(1.0) and cum[order[-1]] == pytest.approx(1.0)
    a = share[classes == "A"]
    # A is the shortest head of the ranking whose share reaches t1 (everyone before it is below t1).
    assert a.sum() >= t1 - 1e-9 or np.all(classes[v > 0] == "A")
    assert a.sum() - share[order][len(a) - 1] < t1 + 1e-9
    ab = share[classes != "C"]
    assert ab.sum() >= t2 - 1e-9 or np.all(classes[v > 0] != "C")


def test_abc_all_zero_or_nan_is_all_c_and_bad_thresholds_are_refused():
    classes, rank, share, cum = abc.abc_classes([0, 0, float("nan")])
    assert classes.tolist() == ["C", "C", "C"] and rank.tolist() == [1, 2, 3]
    assert not share.any() and not cum.any()
    with pytest.raises(ValueError):
        abc.abc_classes([1, 2], (0.9, 0.8))


# --------------------------------------------------------------------------- RFM

rfm_st = st.lists(
    st.tuples(st.integers(0, 400), st.integers(1, 30), st.floats(0.01, 1e5)), min_size=1, max_size=80
)


@given(rfm_st)
def test_rfm_scores_are_1_to_5_equal_for_ties_and_monotone(rows):
    rec, fre, mon = (np.array(c, dtype=float) for c in zip(*rows, strict=True))
    r, f, m = rfm.rfm_scores(rec, fre, mon)
    for score, value, better in ((r, rec, -1), (f, fre, 1), (m, mon, 1)):
        assert score.min() >= 1 and score.max() <= 5
        assert score[np.argmin(better * value)] == 1  # the worst value scores 1
        for i in range(len(value)):
            assert np.all(score[better * value > better * value[i]] >= score[i])
            assert np.all(score[value == value[i]] == score[i])


def test_rfm_quintiles_without_ties_and_with_many_one_time_buyers():
    r, f, m = rfm.rfm_scores(np.arange(100), np.arange(100), np.arange(100))
    assert np.bincount(f)[1:].tolist() == [20] * 5 and r[0] == 5 and r[-1] == 1 and m[-1] == 5
    freq = np.array([1] * 60 + list(range(2, 42)))  # 60 % bought once
    _, f, _ = rfm.rfm_scores(np.zeros(100), freq, np.ones(100))
    assert set(f[:60]) == {1} and f[60] == 4 and f[-1] == 5 and f.tolist() == sorted(f.tolist())
    r, f, m = rfm.rfm_scores([5.0, float("nan")], [1, 2], [3.0, 4.0])
    assert r.tolist() == [1, 0]  # unknown scores 0


def test_rfm_segments_cover_the_eight_chinese_segments():
    combos = {
        (5, 5, 5): "important_value",
        (5, 1, 5): "important_develop",
        (1, 5, 5): "important_keep",
        (1, 1, 5): "important_retain",
        (5, 5, 1): "general_value",
        (5, 1, 1): "general_develop",
        (1, 5, 1): "general_keep",
        (1, 1, 1): "general_retain",
    }
    r, f, m = (np.array(c) for c in zip(*combos, strict=True))
    assert rfm.rfm_segments(r, f, m, reference=(3, 3, 3)).tolist() == list(combos.values())
    assert rfm.rfm_segments(r, f, m).tolist() == list(combos.values())  # mean of these scores is 3
    assert set(rfm.SEGMENTS) == set(combos.values()) == set(rfm.SEGMENT_LABELS)
    assert rfm.SEGMENT_LABELS["important_value"][1] == "重要价值客户"
    assert rfm.rfm_segments([0, 5], [3, 5], [3, 5], reference=(3, 3, 3)).tolist() == ["", "important_value"]
    assert rfm.rfm_segments([4, 2], [4, 2], [4, 2]).tolist() == ["important_value", "general_retain"]


# --------------------------------------------------------------------------- churn

HEALTHY = dict(
    p_alive=0.95,
    days_since_last=10.0,
    mean_interpurchase_days=30.0,
    revenue_recent=100.0,
    revenue_previous=100.0,
    open_complaints=0,
    low_satisfaction=False,
    overdue_receivables=0.0,
)
ALARMS = {
    "low_p_alive": {"p_alive": 0.2},
    "overdue_rhythm": {"days_since_last": 60.0},
    "falling_revenue": {"revenue_recent": 30.0},
    "open_complaints": {"open_complaints": 1},
    "low_satisfaction": {"low_satisfaction": True},
    "overdue_receivables": {"overdue_receivables": 500.0},
}


def risk(**changes):
    score, mask = churn.churn_risk(**{k: np.atleast_1d(v) for k, v in {**HEALTHY, **changes}.items()})
    return float(score[0]), int(mask[0])


def test_a_healthy_customer_has_no_reason_and_little_risk():
    score, mask = risk()
    assert mask == 0 and 0 <= score < 5


@pytest.mark.parametrize("code", churn.REASONS)
def test_each_churn_reason_fires_on_its_own_input_only(code):
    base, _ = risk()
    score, mask = risk(**ALARMS[code])
    assert mask == 1 << churn.REASONS.index(code)
    assert churn.reason_codes(mask) == [code]
    assert score > base


def test_churn_signals_need_their_preconditions_and_unknown_is_no_signal():
    assert (
        risk(days_since_last=60.0, mean_interpurchase_days=float("nan"))[1] == 0
    )  # fewer than 2 purchase days
    assert risk(days_since_last=40.0)[1] == 0  # 1.33 intervals: not yet overdue
    assert risk(revenue_recent=0.0, revenue_previous=0.0)[1] == 0  # nothing to fall from
    assert risk(revenue_recent=60.0)[1] == 0  # -40 %: not below half
    nan = float("nan")
    score, mask = risk(**{k: nan for k in HEALTHY})
    assert mask == 0 and score == 0.0


def test_churn_score_is_bounded_and_weights_can_be_changed():
    worst = {k: v for change in ALARMS.values() for k, v in change.items()}
    worst.update(p_alive=0.0, days_since_last=1000.0, revenue_recent=0.0, open_complaints=5)
    score, mask = risk(**worst)
    assert score == 100.0 and churn.reason_codes(mask) == churn.REASONS
    quiet, _ = churn.churn_risk(**{k: np.atleast_1d(v) for k, v in {**HEALTHY, "p_alive": 0.0}.items()},
                                weights={"low_p_alive": 0})  # fmt: skip
    assert quiet[0] < 5
    with pytest.raises(ValueError):
        churn.churn_risk(**HEALTHY, weights={"nonsense": 1.0})


@settings(max_examples=50)
@given(
    st.lists(
        st.tuples(
            st.floats(0, 1),
            st.floats(0, 2000),
            st.floats(0.5, 400) | st.just(float("nan")),
            st.floats(0, 1e6),
            st.floats(0, 1e6),
            st.integers(0, 9),
            st.booleans(),
            st.floats(0, 1e6) | st.just(float("nan")),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_churn_score_is_always_between_0_and_100(rows):
    cols = [np.array(c, dtype=float) for c in zip(*rows, strict=True)]
    score, mask = churn.churn_risk(**dict(zip(HEALTHY, cols, strict=True)))
    assert np.all((score >= 0) & (score <= 100)) and np.all(np.isfinite(score))
    assert np.all((mask >= 0) & (mask < 1 << len(churn.REASONS)))
