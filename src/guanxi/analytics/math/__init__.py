"""Pure-math customer analytics: numpy and scipy only, no Django (the app's runs.py feeds it arrays).

* ``bgnbd``       BG/NBD repeat-buying model: fit, P(alive), expected purchases, simulation
* ``gammagamma``  Gamma-Gamma spend model and customer lifetime value
* ``abc``         ABC classes by cumulative share of value
* ``rfm``         RFM scores 1..5 and the Chinese eight-segment model
* ``churn``       churn risk score 0..100 with reason codes

Time is measured in days everywhere.
"""

from .abc import PARETO_DEFAULT, SEED_PRESET_70, abc_classes
from .bgnbd import (
    BgNbdFit,
    NoRepeatBuyers,
    expected_purchases,
    expected_purchases_many,
    expected_purchases_new,
    fit_bgnbd,
    probability_alive,
    simulate_bgnbd,
    simulate_purchase_days,
)
from .churn import REASONS, churn_risk, reason_codes
from .gammagamma import GammaGammaFit, clv, expected_average_spend, fit_gammagamma
from .rfm import SEGMENT_LABELS, SEGMENTS, rfm_scores, rfm_segments

__all__ = [
    "PARETO_DEFAULT",
    "REASONS",
    "SEED_PRESET_70",
    "SEGMENTS",
    "SEGMENT_LABELS",
    "BgNbdFit",
    "GammaGammaFit",
    "NoRepeatBuyers",
    "abc_classes",
    "churn_risk",
    "clv",
    "expected_average_spend",
    "expected_purchases",
    "expected_purchases_many",
    "expected_purchases_new",
    "fit_bgnbd",
    "fit_gammagamma",
    "probability_alive",
    "reason_codes",
    "rfm_scores",
    "rfm_segments",
    "simulate_bgnbd",
    "simulate_purchase_days",
]
