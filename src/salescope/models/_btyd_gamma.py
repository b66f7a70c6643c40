"""Gamma-Gamma spend model (Fader & Hardie 2013, note 025) and discounted CLV.

A customer's transaction values are Gamma(p, nu) with nu ~ Gamma(q, gamma) across
customers; only the mean repeat spend m and the repeat count x are needed. Customers
with no repeat purchase carry no spend information and get the population mean
p * gamma / (q - 1), which exists only when q > 1.
"""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import digamma, gammaln

from salescope.errors import InputError, ModelFitError
from salescope.models._btyd_base import (
    Array,
    FittedModel,
    Levels,
    MLResult,
    Patterns,
    as_vector,
    check_weights,
    compress,
    delta_interval,
    hessian_from_gradient,
    maximise,
    weighted_sum,
)
from salescope.models._btyd_count import CountModel

DAYS_PER_MONTH = 365.25 / 12
PERIODS_PER_MONTH: dict[str, float] = {"day": DAYS_PER_MONTH, "week": DAYS_PER_MONTH / 7, "month": 1.0}

Freq = str | float


def periods_per_month(freq: Freq) -> float:
    """How many time units of the summary make a month (the CLV discounting step)."""
    if isinstance(freq, str):
        if freq not in PERIODS_PER_MONTH:
            raise InputError("unknown time unit", column="freq", value=freq, expected="day, week or month")
        return PERIODS_PER_MONTH[freq]
    value = float(freq)
    if not np.isfinite(value) or value <= 0:
        raise InputError("periods per month must be positive", column="freq", value=freq, expected="a number > 0")
    return value


class GammaGamma(FittedModel):
    """Gamma-Gamma: params_ p, q, gamma; fit on (repeat count, mean repeat spend) of repeat customers."""

    param_names: ClassVar[tuple[str, ...]] = ("p", "q", "gamma")
    model_name: ClassVar[str] = "Gamma-Gamma"

    def fit(self, frequency: ArrayLike, monetary: ArrayLike, weights: ArrayLike | None = None) -> Self:
        """Rows with frequency 0 are ignored (they have no repeat spend); the rest need spend > 0."""
        x, m = _check_spend(frequency, monetary)
        w = check_weights(weights, x.size)
        use = (x > 0) & (w > 0)
        if use.sum() < 2:
            raise ModelFitError("The Gamma-Gamma model needs at least two customers with repeat purchases.")
        pats = compress((x[use], m[use]), w[use])
        warm = self._sample_start(pats, lambda p, t0, g: self._fit_patterns(p, t0, g))
        res = self._fit_patterns(pats, warm, self.gtol)
        total = float(pats.weights.sum())
        self._store(res, -res.neg_mean_ll * total, total)
        return self

    def _fit_patterns(self, pats: Patterns, warm: tuple[Array, Array] | None, gtol: float) -> MLResult:
        x, m = pats.columns
        data = Spends(x, m)
        w = pats.weights
        total = float(w.sum())
        scale = np.log(np.array([1.0, 2.0, float(np.average(m, weights=w))]))
        theta0, hess0 = warm if warm is not None else (scale, None)

        def objective(theta: Array) -> tuple[float, Array]:
            params = np.exp(theta)
            ll, grad = _loglik_grad(params, data)
            return -weighted_sum(w, ll) / total, -weighted_sum(w, grad) * params / total

        return maximise(
            objective,
            theta0,
            scale=scale,
            total_weight=total,
            model=self.model_name,
            names=self.param_names,
            max_iter=self.max_iter,
            gtol=gtol,
            hessian=hessian_from_gradient(objective),
            warm=warm is not None,
            warm_hessian=hess0,
        )

    def log_likelihood(self, frequency: ArrayLike, monetary: ArrayLike) -> Array:
        """Each repeat customer's log-likelihood of their mean repeat spend (frequency must be >= 1)."""
        x, m = _check_spend(frequency, monetary)
        if np.any(x <= 0):
            raise InputError("the spend likelihood needs repeat purchases", column="frequency", expected=">= 1")
        return _loglik_grad(self._params(), Spends(x, m))[0]

    @property
    def mean_spend_(self) -> float:
        """Population mean transaction value p * gamma / (q - 1)."""
        p, q, gamma = self._params()
        if q <= 1:
            raise ModelFitError(
                f"The Gamma-Gamma estimate q = {q:.4g} <= 1 means average spend has no finite mean, "
                "so customers without repeat purchases cannot be valued."
            )
        return float(p * gamma / (q - 1))

    def conditional_expected_average_profit(self, frequency: ArrayLike, monetary: ArrayLike) -> Array:
        """E[spend per transaction | x, m]: a credibility-weighted mix of m and the population mean."""
        x, m = _check_spend(frequency, monetary)
        p, q, gamma = self._params()
        mm = np.where(x > 0, m, 0.0)
        out = p * (gamma + x * mm) / (p * x + q - 1)
        if np.any(x == 0):
            out = np.where(x > 0, out, self.mean_spend_)
        bad = ~np.isfinite(out) | (out <= 0)
        if bad.any():
            raise ModelFitError(
                f"The Gamma-Gamma expected spend is not a positive number for {int(bad.sum())} customers "
                f"(p x + q - 1 <= 0 with p={p:.4g}, q={q:.4g})."
            )
        return out

    def clv(
        self,
        transaction_model: CountModel,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        monetary: ArrayLike,
        *,
        horizon: int = 12,
        discount_rate: float = 0.01,
        freq: Freq = "week",
    ) -> Array:
        """Discounted value over ``horizon`` months: sum over months of expected spend x purchases / (1+d)^month.

        ``discount_rate`` is per month; ``freq`` is the time unit of recency and T (or periods per month).
        """
        per_month = periods_per_month(freq)
        months = _months(horizon)
        if not np.isfinite(discount_rate) or discount_rate <= -1:
            raise InputError("the discount rate must exceed -100%", column="discount_rate", value=discount_rate)
        spend = self.conditional_expected_average_profit(frequency, monetary)
        times = np.arange(months + 1) * per_month
        cumulative = transaction_model.cumulative_expected_purchases(times, frequency, recency, T)
        per_step = np.diff(cumulative, axis=1)
        # Rounding can leave increments of -1e-17 for customers almost surely gone; real decreases are errors.
        per_step = np.where(per_step < 0, np.where(per_step > -1e-9 * (1.0 + cumulative[:, 1:]), 0.0, np.nan), per_step)
        discount = (1.0 + discount_rate) ** -np.arange(1, months + 1)
        value = spend * (per_step * discount).sum(axis=1)
        bad = ~np.isfinite(value) | (value < 0)
        if bad.any():
            raise ModelFitError(
                f"CLV came out negative or non-finite for {int(bad.sum())} customers "
                f"(first at position {int(np.flatnonzero(bad)[0]) + 1}); check spend and the fitted models."
            )
        return value

    def clv_interval(
        self,
        transaction_model: CountModel,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        monetary: ArrayLike,
        *,
        horizon: int = 12,
        discount_rate: float = 0.01,
        freq: Freq = "week",
        level: float = 0.9,
    ) -> tuple[Array, Array]:
        """Laplace/delta-method interval for CLV from the uncertainty of both models' parameters (log scale)."""
        return delta_interval(
            [transaction_model, self],
            lambda: self.clv(
                transaction_model,
                frequency,
                recency,
                T,
                monetary,
                horizon=horizon,
                discount_rate=discount_rate,
                freq=freq,
            ),
            level=level,
            scale="log",
        )


def _months(horizon: int) -> int:
    if int(horizon) != horizon or horizon < 1:
        raise InputError(
            "the CLV horizon is a whole number of months", column="horizon", value=horizon, expected=">= 1"
        )
    return int(horizon)


def _check_spend(frequency: ArrayLike, monetary: ArrayLike) -> tuple[Array, Array]:
    x = as_vector(frequency, "frequency")
    m = as_vector(monetary, "monetary")
    if x.shape != m.shape:
        raise InputError(
            "frequency and monetary differ in length", column="monetary", value=m.size, expected=f"{x.size} values"
        )
    bad = ~np.isfinite(x) | (x < 0) | (x != np.round(x))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            "frequency counts repeat purchases",
            row=i + 1,
            column="frequency",
            value=float(x[i]),
            expected="a whole number >= 0",
        )
    with np.errstate(invalid="ignore"):
        bad = (x > 0) & ~(np.isfinite(m) & (m > 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            "the mean repeat spend must be positive for the Gamma-Gamma model",
            row=i + 1,
            column="monetary",
            value=float(m[i]),
            expected="a number > 0 (leave out customers whose repeat purchases net to zero or less)",
        )
    return x, m


class Spends:
    """Repeat counts and mean spends; functions of x alone run once per distinct x."""

    def __init__(self, x: Array, m: Array) -> None:
        self.x, self.m = x, m
        self.log_m = np.log(m)
        self.levels = Levels(x, whole=True)


def _loglik_grad(params: Array, d: Spends) -> tuple[Array, Array]:
    p, q, gamma = params
    x = d.x
    px = p * x
    total = gamma + x * d.m
    log_tot = np.log(total)
    ll = (
        d.levels.apply(lambda u: gammaln(p * u + q) - gammaln(p * u) + p * u * np.log(u))
        - gammaln(q)
        + q * np.log(gamma)
        + (px - 1) * d.log_m
        - (px + q) * log_tot
    )
    d_p = x * (d.levels.apply(lambda u: digamma(p * u + q) - digamma(p * u) + np.log(u)) + d.log_m - log_tot)
    d_q = d.levels.apply(lambda u: digamma(p * u + q)) - digamma(q) + np.log(gamma) - log_tot
    d_gamma = q / gamma - (px + q) / total
    return ll, np.stack([d_p, d_q, d_gamma])
