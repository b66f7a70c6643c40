"""The common shape of the purchase-count models (BG/NBD, MBG/NBD, Pareto/NBD).

A subclass supplies the per-customer log-likelihood (with its gradient when that has a
closed form), P(alive) and the conditional expected number of purchases; fitting,
compression, warm starts, prediction over many customers and intervals live here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray

from salescope.errors import InputError, ModelFitError
from salescope.models._btyd_base import (
    Array,
    FittedModel,
    Levels,
    MLResult,
    Patterns,
    as_vector,
    check_rft,
    check_weights,
    compress,
    delta_interval,
    hessian_from_gradient,
    hessian_from_value,
    maximise,
    numeric_gradient,
    weighted_sum,
)

_COMPRESS_ABOVE = 2_000


class Histories:
    """Customers' (x, t_x, T) and the distinct values of each column.

    Special functions of x (gammaln, digamma, betaln) and logs of alpha + T run once per
    distinct value and are gathered back, which is most of the cost of a likelihood
    evaluation on a million customers.
    """

    def __init__(self, x: Array, tx: Array, T: Array) -> None:
        self.x, self.tx, self.T = x, tx, T

    @cached_property
    def _x(self) -> Levels:
        return Levels(self.x, whole=True)

    @cached_property
    def _tx(self) -> Levels:
        return Levels(self.tx)

    @cached_property
    def _T(self) -> Levels:
        return Levels(self.T)

    def on_x(self, fn: Callable[[Array], Array]) -> Array:
        return self._x.apply(fn)

    def on_tx(self, fn: Callable[[Array], Array]) -> Array:
        return self._tx.apply(fn)

    def on_T(self, fn: Callable[[Array], Array]) -> Array:
        return self._T.apply(fn)

    @cached_property
    def _xT(self) -> tuple[Array, Array, NDArray[np.intp]]:
        """Distinct (x, T) pairs from the codes the columns already have: a histogram, not a sort."""
        nT = self._T.values.size
        key = self._x.inverse * nT + self._T.inverse
        if self._x.values.size * nT <= 4 * key.size + 1_000:
            present = np.bincount(key) > 0
            inverse = (np.cumsum(present) - 1)[key]
            pairs = np.flatnonzero(present)
        else:  # too many possible pairs for a histogram (ages in fractions of a day): sort
            pairs, inverse = np.unique(key, return_inverse=True)
        return self._x.values[pairs // nT], self._T.values[pairs % nT], inverse.reshape(key.shape)

    def on_xT(self, fn: Callable[[Array, Array], Array]) -> Array:
        """Once per distinct (x, T) pair: predictions for alive customers do not depend on t_x."""
        x, T, inverse = self._xT
        return np.take(np.asarray(fn(x, T), dtype=np.float64), inverse, axis=-1)


@dataclass
class _Entry:
    columns: tuple[Array, Array, Array]
    patterns: Patterns | None
    histories: Histories


class _PatternCache:
    """The last few customer bases, compressed once.

    A CLV run asks for P(alive), expected purchases, CLV and their intervals of the same
    customers a few dozen times; sorting a million histories each time would cost more
    than the models. A hit needs element-wise equal arrays (one pass, no hashing).
    """

    def __init__(self, size: int = 2) -> None:
        self._size = size
        self._entries: list[_Entry] = []
        self._lock = threading.Lock()

    def get(self, x: Array, tx: Array, T: Array) -> _Entry:
        with self._lock:
            for i, e in enumerate(self._entries):
                if all(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(e.columns, (x, tx, T), strict=True)):
                    self._entries.insert(0, self._entries.pop(i))
                    return e
        cols = (x.copy(), tx.copy(), T.copy())
        pats: Patterns | None = None
        if x.size > _COMPRESS_ABOVE and _worth_compressing(cols):
            pats = compress(cols, np.ones(x.size))
            if pats.weights.size > 0.5 * x.size:
                pats = None
        entry = _Entry(cols, pats, Histories(*pats.columns) if pats else Histories(*cols))
        with self._lock:
            self._entries = [entry, *self._entries][: self._size]
        return entry

    def clear(self) -> None:
        with self._lock:
            self._entries = []


def _worth_compressing(cols: tuple[Array, Array, Array], sample: int = 20_000) -> bool:
    """Whether at most half the histories are distinct, judged on a sample when there are many.

    A sample has a larger share of distinct rows than the whole, so a sample that is half
    duplicates guarantees the sort pays for itself; a sample that is not skips a sort of a
    million rows that would most likely be wasted.
    """
    n = cols[0].size
    if n <= 5 * sample:
        return True
    idx = np.random.default_rng(0).choice(n, size=sample, replace=False)
    return compress(tuple(c[idx] for c in cols), np.ones(sample)).weights.size <= 0.5 * sample


_CACHE = _PatternCache()


def clear_pattern_cache() -> None:
    """Forget the compressed customer bases kept between calls (for benchmarks, or to free memory)."""
    _CACHE.clear()


def _per_pattern(fn: Callable[[Histories], Array], x: Array, tx: Array, T: Array) -> Array:
    """Evaluate once per distinct (x, t_x, T) when the customers repeat patterns enough to pay for the sort."""
    entry = _CACHE.get(x, tx, T)
    values = np.asarray(fn(entry.histories))
    return values[entry.patterns.inverse] if entry.patterns is not None else values


class CountModel(FittedModel):
    """Scikit-learn style: ``fit(frequency, recency, T)`` returns self; fitted attributes end in ``_``."""

    analytic_gradient: ClassVar[bool] = True

    # -- what a model defines -------------------------------------------------------
    def _loglik(self, params: Array, h: Histories) -> Array:
        raise NotImplementedError

    def _loglik_grad(self, params: Array, h: Histories) -> tuple[Array, Array]:
        raise NotImplementedError

    def _p_alive(self, params: Array, h: Histories) -> Array:
        raise NotImplementedError

    def _expected_if_alive(self, params: Array, t: Array, h: Histories) -> Array:
        """Expected purchases in (T, T + t] for a customer known to be alive at T."""
        raise NotImplementedError

    def _expected(self, params: Array, t: Array, h: Histories) -> Array:
        return self._expected_if_alive(params, t, h) * self._p_alive(params, h)

    def _start(self, x: Array, tx: Array, T: Array) -> Array:
        raise NotImplementedError

    # -- fitting ------------------------------------------------------------------------
    def fit(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, weights: ArrayLike | None = None) -> Self:
        """Maximum likelihood on (repeat purchases, time of last purchase, age), all in one time unit."""
        x, tx, age = check_rft(frequency, recency, T)
        w = check_weights(weights, x.size)
        if not np.any((x > 0) & (w > 0)):
            raise ModelFitError(
                f"No customer made a repeat purchase, so the {self.model_name} purchase and dropout rates "
                "cannot be estimated; use a longer calibration period."
            )
        h: Histories | None = None
        if weights is None:
            entry = _CACHE.get(x, tx, age)
            h = entry.histories
            pats = entry.patterns or Patterns(entry.columns, np.ones(x.size), np.arange(x.size))
        else:
            pats = compress((x, tx, age), w)
        warm = self._sample_start(pats, lambda p, t0, g: self._fit_patterns(p, t0, g))
        res = self._fit_patterns(pats, warm, self.gtol, h)
        self._store(res, -res.neg_mean_ll * float(pats.weights.sum()), float(pats.weights.sum()))
        return self

    def _fit_patterns(
        self, pats: Patterns, warm: tuple[Array, Array] | None, gtol: float, h: Histories | None = None
    ) -> MLResult:
        keep = pats.weights > 0
        x, tx, age = (c[keep] for c in pats.columns)
        if h is None or not keep.all():
            h = Histories(x, tx, age)
        w = pats.weights[keep]
        total = float(w.sum())
        scale = np.log(self._start(x, tx, age))
        theta0, hess0 = warm if warm is not None else (scale, None)

        if self.analytic_gradient:

            def objective(theta: Array) -> tuple[float, Array]:
                params = np.exp(theta)
                ll, grad = self._loglik_grad(params, h)
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

        def value(theta: Array) -> float:
            return -weighted_sum(w, self._loglik(np.exp(theta), h)) / total

        return maximise(
            numeric_gradient(value),
            theta0,
            scale=scale,
            total_weight=total,
            model=self.model_name,
            names=self.param_names,
            max_iter=self.max_iter,
            gtol=gtol,
            hessian=hessian_from_value(value),
            warm=warm is not None,
            warm_hessian=hess0,
        )

    # -- per-customer quantities ------------------------------------------------------------
    def log_likelihood(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> Array:
        """Each customer's log-likelihood under the fitted parameters (time in the fitting unit)."""
        x, tx, age = check_rft(frequency, recency, T)
        params = self._params()
        return _per_pattern(lambda h: self._loglik(params, h), x, tx, age)

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> Array:
        """P(the customer has not dropped out by T | x, t_x, T)."""
        x, tx, age = check_rft(frequency, recency, T)
        params = self._params()
        return self._checked(_per_pattern(lambda h: self._p_alive(params, h), x, tx, age), "P(alive)")

    def expected_purchases(self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> Array:
        """Expected repeat purchases in (T, T + t] given the history (x, t_x, T)."""
        x, tx, age = check_rft(frequency, recency, T)
        horizon = _horizon(t, x.size)
        params = self._params()
        if np.all(horizon == horizon[0]):
            values = _per_pattern(lambda h: self._expected(params, horizon[: h.x.size], h), x, tx, age)
        else:
            values = self._expected(params, horizon, Histories(x, tx, age))
        return self._checked(values, "the expected number of purchases")

    predict = expected_purchases

    def expected_purchases_new(self, t: ArrayLike) -> Array:
        """Expected repeat purchases in (0, t] for a customer just acquired (the unconditional E[X(t)])."""
        horizon = as_vector(t, "t")
        zeros = np.zeros_like(horizon)
        params = self._params()
        # Everyone has the same history (0, 0, 0), so P(alive) is one number (1, except under the MBG/NBD).
        alive = self._p_alive(params, Histories(np.zeros(1), np.zeros(1), np.zeros(1)))[0]
        return self._checked(
            self._expected_if_alive(params, horizon, Histories(zeros, zeros, zeros)) * alive, "E[X(t)]"
        )

    def cumulative_expected_purchases(
        self, times: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> Array:
        """Expected purchases in (T, T + t] for each t in ``times``: one column per time, one row per customer."""
        x, tx, age = check_rft(frequency, recency, T)
        grid = as_vector(times, "times")
        params = self._params()

        def table(h: Histories) -> Array:
            alive = self._p_alive(params, h)
            return np.stack([self._expected_if_alive(params, np.full(h.x.size, t), h) * alive for t in grid], axis=1)

        return self._checked(_per_pattern(table, x, tx, age), "the expected number of purchases")

    # -- intervals -------------------------------------------------------------------------
    def p_alive_interval(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, level: float = 0.9
    ) -> tuple[Array, Array]:
        """Laplace/delta-method interval for P(alive) from parameter uncertainty (logit scale)."""
        return delta_interval([self], lambda: self.p_alive(frequency, recency, T), level=level, scale="logit")

    def expected_purchases_interval(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, level: float = 0.9
    ) -> tuple[Array, Array]:
        """Laplace/delta-method interval for the conditional expected purchases (log scale)."""
        return delta_interval(
            [self], lambda: self.expected_purchases(t, frequency, recency, T), level=level, scale="log"
        )

    def _checked(self, values: Array, what: str) -> Array:
        bad = ~np.isfinite(values)
        if bad.any():
            raise ModelFitError(
                f"The {self.model_name} model gave a non-finite {what} for {int(bad.sum())} customers "
                f"(first at position {int(np.flatnonzero(bad)[0]) + 1}) with parameters {self.params_}."
            )
        return values


def _horizon(t: ArrayLike, n: int) -> Array:
    horizon = as_vector(t, "t")
    if horizon.size == 1:
        horizon = np.full(n, horizon[0])
    if horizon.size != n:
        raise InputError(
            "t must be one number or one per customer", column="t", value=horizon.size, expected=f"{n} values"
        )
    bad = ~np.isfinite(horizon) | (horizon < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            "the prediction horizon is invalid", row=i + 1, column="t", value=float(horizon[i]), expected=">= 0"
        )
    return horizon
