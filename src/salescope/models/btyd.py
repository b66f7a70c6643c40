"""Buy-till-you-die customer models by maximum likelihood: ``ss.clv`` in the notebook API.

    import salescope as ss
    bg = ss.clv.BetaGeo().fit(frequency, recency, T)        # also ParetoNBD, ModifiedBetaGeo
    bg.params_, bg.log_likelihood_, bg.p_alive(frequency, recency, T), bg.predict(52, frequency, recency, T)
    gg = ss.clv.GammaGamma().fit(frequency, monetary)
    gg.clv(bg, frequency, recency, T, monetary, horizon=12, discount_rate=0.01, freq="week")

Conventions (Fader, Hardie & Lee 2005): frequency is the number of repeat purchases
(same-day purchases are one), recency the time from the first to the last purchase and
T the time from the first purchase to the end of calibration, all in one unit; monetary
is the mean value of the repeat purchases. Intervals (``*_interval``, ``param_intervals``)
come from the Laplace approximation (inverse Hessian of the log-likelihood in
log-parameters) propagated by the delta method; they cover parameter uncertainty only.
"""

from __future__ import annotations

from salescope.models._btyd_bgnbd import BetaGeo, ModifiedBetaGeo
from salescope.models._btyd_count import CountModel, clear_pattern_cache
from salescope.models._btyd_gamma import PERIODS_PER_MONTH, GammaGamma, periods_per_month
from salescope.models._btyd_pareto import ParetoNBD
from salescope.models._btyd_report import expected_by_period, holdout_report

MODELS: dict[str, type[CountModel]] = {"bgnbd": BetaGeo, "pareto": ParetoNBD, "mbgnbd": ModifiedBetaGeo}
"""The purchase-count models by their CLI names."""

__all__ = [
    "MODELS",
    "PERIODS_PER_MONTH",
    "BetaGeo",
    "CountModel",
    "GammaGamma",
    "ModifiedBetaGeo",
    "ParetoNBD",
    "clear_pattern_cache",
    "expected_by_period",
    "holdout_report",
    "periods_per_month",
]
