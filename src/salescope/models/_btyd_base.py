"""Shared machinery of the BTYD models: input checks, pattern compression, maximum likelihood, Laplace intervals.

Every likelihood here is a sum over customers of a function of (x, t_x, T) alone, and a
customer base has far fewer distinct (x, t_x, T) patterns than customers, so fits and
per-customer predictions run on the distinct patterns weighted by their counts.
Parameters are optimised on the log scale (they are all positive) with L-BFGS-B and then
polished with a few Newton steps, which both pins the optimum to rounding error and
yields the Hessian for the Laplace (normal approximation) intervals.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize
from scipy.special import expit, logit, ndtri
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from salescope.errors import InputError, ModelFitError

Array = NDArray[np.float64]
Objective = Callable[[Array], tuple[float, Array]]

LOG_BOUND = 25.0
"""Log-parameters are searched within +-25 of their natural size; the edge means the data cannot identify them."""
DRIFT_BOUND = 15.0
"""An estimate e^15 (about 3e6) times above or below its natural size is taken to be running off."""


def as_vector(values: ArrayLike, name: str) -> Array:
    """A 1-D float array; pandas Series, lists and NumPy arrays are all accepted."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise InputError(f"{name} must be one-dimensional", column=name, expected="one value per customer")
    return arr


def _first_bad(mask: NDArray[np.bool_]) -> int:
    return int(np.flatnonzero(mask)[0])


def check_rft(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> tuple[Array, Array, Array]:
    """Validate the BTYD summary: whole repeat counts, 0 <= recency <= T, recency 0 without repeats."""
    x = as_vector(frequency, "frequency")
    tx = as_vector(recency, "recency")
    age = as_vector(T, "T")
    x, tx, age = np.broadcast_arrays(x, tx, age)
    if x.size == 0:
        raise InputError("there are no customers to fit", expected="at least one customer")
    for name, arr in (("frequency", x), ("recency", tx), ("T", age)):
        bad = ~np.isfinite(arr)
        if bad.any():
            i = _first_bad(bad)
            raise InputError(
                f"{name} is not a number", row=i + 1, column=name, value=float(arr[i]), expected="a finite number"
            )
    bad = (x < 0) | (x != np.round(x))
    if bad.any():
        i = _first_bad(bad)
        raise InputError(
            "frequency counts repeat purchases",
            row=i + 1,
            column="frequency",
            value=float(x[i]),
            expected="a whole number >= 0",
        )
    bad = tx < 0
    if bad.any():
        i = _first_bad(bad)
        raise InputError(
            "recency is negative", row=i + 1, column="recency", value=float(tx[i]), expected="a number >= 0"
        )
    slack = 1e-9 * np.maximum(age, 1.0)
    bad = tx > age + slack
    if bad.any():
        i = _first_bad(bad)
        raise InputError(
            f"recency is later than the customer's age T = {age[i]!r}",
            row=i + 1,
            column="recency",
            value=float(tx[i]),
            expected="0 <= recency <= T (both measured from the first purchase)",
        )
    bad = (x == 0) & (tx > slack)
    if bad.any():
        i = _first_bad(bad)
        raise InputError(
            "a customer without repeat purchases has a recency",
            row=i + 1,
            column="recency",
            value=float(tx[i]),
            expected="recency 0 when frequency is 0",
        )
    return x.astype(np.float64), np.minimum(tx, age).astype(np.float64), age.astype(np.float64)


def check_weights(weights: ArrayLike | None, n: int) -> Array:
    if weights is None:
        return np.ones(n)
    w = as_vector(weights, "weights")
    if w.shape != (n,):
        raise InputError("weights must give one count per row", column="weights", value=w.size, expected=f"{n} values")
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        i = _first_bad(bad)
        raise InputError(
            "weights must be counts", row=i + 1, column="weights", value=float(w[i]), expected="a number >= 0"
        )
    return w


@dataclass(frozen=True)
class Patterns:
    """Distinct rows of several equal-length columns, their total weights, and the map back to rows."""

    columns: tuple[Array, ...]
    weights: Array
    inverse: NDArray[np.intp]


def compress(columns: Sequence[Array], weights: Array) -> Patterns:
    """Group identical rows with a lexicographic sort (no hashing of floats, exact equality)."""
    n = columns[0].size
    order = np.lexsort(tuple(reversed(columns)))
    sorted_cols = [c[order] for c in columns]
    new = np.zeros(n, dtype=bool)
    new[0] = n > 0
    for c in sorted_cols:
        new[1:] |= c[1:] != c[:-1]
    starts = np.flatnonzero(new)
    inverse = np.empty(n, dtype=np.intp)
    inverse[order] = np.cumsum(new) - 1
    counts = np.add.reduceat(weights[order], starts)
    return Patterns(tuple(c[starts] for c in sorted_cols), counts, inverse)


def weighted_sum(w: Array, values: Array) -> Any:
    """sum_i w_i * values[..., i]: a number for one row of values, a vector for several (gradients are k x n)."""
    if values.ndim == 1:
        return float((w * values).sum())
    return (values * w).sum(axis=1)


class Levels:
    """The distinct values of a column and the map back, so a costly function of it runs once per value."""

    def __init__(self, column: Array, *, whole: bool = False) -> None:
        if whole and column.size and column.max() < 10 * column.size + 1_000:
            # Small non-negative whole numbers (repeat counts): a histogram instead of a sort.
            codes = column.astype(np.intp)
            present = np.bincount(codes) > 0
            self.values: Array = np.flatnonzero(present).astype(np.float64)
            self.inverse: NDArray[np.intp] = (np.cumsum(present) - 1)[codes]
            return
        values, inverse = np.unique(column, return_inverse=True)
        self.values = values
        self.inverse = inverse.reshape(column.shape)

    def apply(self, fn: Callable[[Array], Array]) -> Array:
        """fn of the distinct values, gathered back along the last axis (fn may return several rows)."""
        # np.take along the last axis is several times faster than arr[..., inverse] for stacked rows.
        return np.take(np.asarray(fn(self.values), dtype=np.float64), self.inverse, axis=-1)


@dataclass
class MLResult:
    theta: Array
    neg_mean_ll: float
    n_iter: int
    hessian: Array
    """Hessian of the *total* negative log-likelihood in log-parameters."""


def numeric_gradient(value: Callable[[Array], float], h: float = 1e-5) -> Objective:
    """Central differences for likelihoods whose parameter derivatives have no closed form."""

    def objective(theta: Array) -> tuple[float, Array]:
        f0 = value(theta)
        g = np.empty_like(theta)
        for j in range(theta.size):
            e = np.zeros_like(theta)
            e[j] = h
            g[j] = (value(theta + e) - value(theta - e)) / (2 * h)
        return f0, g

    return objective


def hessian_from_gradient(objective: Objective, h: float = 1e-5) -> Callable[[Array], Array]:
    """Forward differences of an analytic gradient (k + 1 evaluations; O(h) error is plenty for Newton steps
    and the Laplace covariance)."""

    def hessian(theta: Array) -> Array:
        k = theta.size
        g0 = objective(theta)[1]
        hess = np.empty((k, k))
        for j in range(k):
            e = np.zeros(k)
            e[j] = h
            hess[:, j] = (objective(theta + e)[1] - g0) / h
        return 0.5 * (hess + hess.T)

    return hessian


def hessian_from_value(value: Callable[[Array], float], h: float = 1e-4) -> Callable[[Array], Array]:
    """Second differences of the value alone (1 + 2k + 2k(k-1) evaluations), for numeric-gradient models."""

    def hessian(theta: Array) -> Array:
        k = theta.size
        f0 = value(theta)
        eye = np.eye(k) * h
        plus = [value(theta + eye[i]) for i in range(k)]
        minus = [value(theta - eye[i]) for i in range(k)]
        hess = np.empty((k, k))
        for i in range(k):
            hess[i, i] = (plus[i] - 2 * f0 + minus[i]) / h**2
            for j in range(i):
                pp = value(theta + eye[i] + eye[j])
                mm = value(theta - eye[i] - eye[j])
                hess[i, j] = hess[j, i] = (pp - plus[i] - plus[j] + 2 * f0 - minus[i] - minus[j] + mm) / (2 * h**2)
        return hess

    return hessian


def maximise(
    objective: Objective,
    theta0: Array,
    *,
    scale: Array,
    total_weight: float,
    model: str,
    names: Sequence[str],
    max_iter: int,
    gtol: float,
    hessian: Callable[[Array], Array],
    warm: bool = False,
    warm_hessian: Array | None = None,
) -> MLResult:
    """Maximum likelihood on the mean negative log-likelihood; raise ModelFitError on failure.

    The search runs on phi = log(params) - scale, where ``scale`` is the log of each
    parameter's natural size in these data (alpha in the time unit, gamma in the currency),
    so bounds and the "running off" test mean the same thing whatever the units.

    From a cold start: L-BFGS-B, then Newton polishing. From a ``warm`` start (the estimate
    on a sample of the customers, already close): Newton steps only, which take a handful
    of likelihood evaluations instead of a few dozen; L-BFGS-B takes over if they stall.
    The Newton steps reuse a Hessian (the sample's, ``warm_hessian``, to begin with) while it
    keeps halving the gradient (a chord method) and refresh it otherwise; the final Hessian,
    on all the data, gives the Laplace covariance.
    """
    # A fit is hundreds of calls of a few milliseconds; with multithreaded BLAS, scipy's L-BFGS-B
    # waits on worker threads at every step and ran thirty times slower on a busy machine here.
    with threadpool_limits(limits=1, user_api="blas"):

        def shifted(phi: Array) -> tuple[float, Array]:
            return objective(phi + scale)

        def hess_phi(phi: Array) -> Array:
            return hessian(phi + scale)

        phi = np.clip(theta0 - scale, -LOG_BOUND, LOG_BOUND)
        message = "Newton steps from the estimate on a sample"
        n_iter = 0
        newton = _newton(shifted, hess_phi, phi, gtol, warm_hessian) if warm else None
        if newton is None or not newton.converged:
            if newton is not None:
                phi, n_iter = newton.phi, newton.steps
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                res = optimize.minimize(
                    shifted,
                    phi,
                    jac=True,
                    method="L-BFGS-B",
                    bounds=[(-LOG_BOUND, LOG_BOUND)] * phi.size,
                    options={"maxiter": max_iter, "ftol": 1e-15, "gtol": gtol},
                )
            message = str(res.message)
            phi = np.asarray(res.x, dtype=np.float64)
            f, g = shifted(phi)
            _check_finite(f, g, model)
            _check_interior(phi, scale, names, model, LOG_BOUND - 1.0)
            newton = _newton(shifted, hess_phi, phi, gtol)
            n_iter += int(res.nit)
        phi, f, g, hess = newton.phi, newton.f, newton.g, newton.hess
        n_iter += newton.steps
    _check_finite(f, g, model)
    # A likelihood that keeps improving while a parameter heads for 0 or infinity has no interior optimum.
    _check_interior(phi, scale, names, model, DRIFT_BOUND)
    gmax = float(np.max(np.abs(g)))
    if gmax > gtol:
        raise ModelFitError(
            f"The {model} fit did not converge after {n_iter} iterations: the largest gradient of the mean "
            f"log-likelihood is {gmax:.3g} (needs <= {gtol:.1g}; optimiser said {message})."
        )
    eig = np.linalg.eigvalsh(hess)
    if not np.all(eig > 0):
        raise ModelFitError(
            f"The {model} likelihood is flat or saddle-shaped at its optimum (Hessian eigenvalues {eig.round(6)}), "
            "so its parameters are not identified by these data."
        )
    return MLResult(phi + scale, float(f), n_iter, hess * total_weight)


@dataclass
class _Newton:
    phi: Array
    f: float
    g: Array
    hess: Array
    steps: int
    converged: bool


def _newton(
    shifted: Objective,
    hess_phi: Callable[[Array], Array],
    phi: Array,
    gtol: float,
    hess0: Array | None = None,
    max_steps: int = 30,
) -> _Newton:
    """Damped Newton steps with a Hessian refreshed only when progress slows."""
    f, g = shifted(phi)
    fresh = hess0 is None
    hess = hess_phi(phi) if hess0 is None else hess0
    at_hess = phi if hess0 is None else np.full_like(phi, np.inf)
    steps = 0
    while steps < max_steps and np.all(np.isfinite(g)) and np.max(np.abs(g)) > gtol * 1e-3:
        step = _newton_step(hess, g)
        accepted = False
        if step is not None:
            for shrink in (1.0, 0.5, 0.25, 0.125):
                cand = np.clip(phi + shrink * step, -LOG_BOUND, LOG_BOUND)
                fc, gc = shifted(cand)
                if np.isfinite(fc) and np.all(np.isfinite(gc)) and fc <= f + 1e-13 * max(1.0, abs(f)):
                    accepted = True
                    break
        steps += 1
        if not accepted:
            if fresh:
                break
            hess, at_hess, fresh = hess_phi(phi), phi, True
            continue
        slow = np.max(np.abs(gc)) > 0.5 * np.max(np.abs(g))
        phi, f, g = cand, fc, gc
        fresh = False
        if slow:
            hess, at_hess, fresh = hess_phi(phi), phi, True
    if np.max(np.abs(phi - at_hess)) > 1e-3:
        hess = hess_phi(phi)
    converged = bool(np.isfinite(f) and np.all(np.isfinite(g)) and np.max(np.abs(g)) <= gtol)
    return _Newton(phi, float(f), g, hess, steps, converged)


def _newton_step(hess: Array, g: Array) -> Array | None:
    try:
        step = -np.linalg.solve(hess, g)
    except np.linalg.LinAlgError:
        return None
    return np.asarray(step, dtype=np.float64) if np.all(np.isfinite(step)) else None


def _check_finite(f: float, g: Array, model: str) -> None:
    if not (np.isfinite(f) and np.all(np.isfinite(g))):
        raise ModelFitError(
            f"The {model} log-likelihood became non-finite during fitting (value {f!r}); "
            "check for extreme or inconsistent customer summaries."
        )


def _check_interior(phi: Array, scale: Array, names: Sequence[str], model: str, edge: float) -> None:
    outside = np.abs(phi) >= edge
    if outside.any():
        j = int(np.flatnonzero(outside)[0])
        where = "infinity" if phi[j] > 0 else "zero"
        raise ModelFitError(
            f"The {model} estimate of {names[j]} ran off to {where} ({np.exp(phi[j] + scale[j]):.3g}): the data "
            "cannot identify it (typically too few repeat purchases, or no sign of customers dropping out)."
        )


class FittedModel:
    """Parameters on the log scale, their Laplace covariance, and the scikit-learn style fitted attributes."""

    param_names: ClassVar[tuple[str, ...]] = ()
    model_name: ClassVar[str] = ""

    params_: dict[str, float]
    log_likelihood_: float
    converged_: bool
    n_iter_: int
    covariance_: Array
    n_customers_: float

    def __init__(self, *, max_iter: int = 1000, gtol: float = 1e-7, sample_size: int = 20_000, random_state: int = 0):
        self.max_iter = max_iter
        self.gtol = gtol
        self.sample_size = sample_size
        self.random_state = random_state
        self._theta: Array | None = None

    def __repr__(self) -> str:
        if self._theta is None:
            return f"{type(self).__name__}(unfitted)"
        inner = ", ".join(f"{k}={v:.6g}" for k, v in zip(self.param_names, self._params(), strict=True))
        return f"{type(self).__name__}({inner})"

    # -- parameters ---------------------------------------------------------------
    def _fitted_theta(self) -> Array:
        if self._theta is None:
            raise ModelFitError(f"The {self.model_name} model has not been fitted yet; call fit() first.")
        return self._theta

    def _params(self) -> Array:
        return np.exp(self._fitted_theta())

    def _store(self, res: MLResult, log_likelihood: float, n_customers: float) -> None:
        self._theta = res.theta
        self.params_ = {k: float(v) for k, v in zip(self.param_names, np.exp(res.theta), strict=True)}
        self.log_likelihood_ = log_likelihood
        self.converged_ = True
        self.n_iter_ = res.n_iter
        self.n_customers_ = n_customers
        self.covariance_ = np.asarray(np.linalg.inv(res.hessian), dtype=np.float64)

    def with_params(self, **params: float) -> Self:
        """A copy with given parameters (e.g. published estimates) for prediction without fitting."""
        missing = set(self.param_names) - set(params)
        if missing:
            raise InputError(f"missing parameters {sorted(missing)}", expected=f"all of {list(self.param_names)}")
        values = np.array([float(params[k]) for k in self.param_names])
        if not np.all(np.isfinite(values) & (values > 0)):
            raise InputError("parameters must be positive numbers", value=params, expected="values > 0")
        other = copy.copy(self)
        other._theta = np.log(values)
        other.params_ = {k: float(params[k]) for k in self.param_names}
        other.covariance_ = np.zeros((values.size, values.size))
        return other

    @property
    def standard_errors_(self) -> dict[str, float]:
        """Delta-method standard errors of the parameters (from the log-scale Laplace covariance)."""
        se_log = np.sqrt(np.diag(self.covariance_))
        return {k: float(v) for k, v in zip(self.param_names, self._params() * se_log, strict=True)}

    def param_intervals(self, level: float = 0.9) -> dict[str, tuple[float, float]]:
        """Laplace intervals, symmetric on the log scale so they stay positive."""
        zq = _z(level)
        theta = self._fitted_theta()
        se_log = np.sqrt(np.diag(self.covariance_))
        lo, hi = np.exp(theta - zq * se_log), np.exp(theta + zq * se_log)
        return {k: (float(a), float(b)) for k, a, b in zip(self.param_names, lo, hi, strict=True)}

    def _sample_start(
        self, patterns: Patterns, fit_patterns: Callable[[Patterns, tuple[Array, Array] | None, float], MLResult]
    ) -> tuple[Array, Array] | None:
        """Warm start: fit a random sample of customers loosely when the data have many distinct patterns.

        Returns the sample's estimate and its Hessian of the mean log-likelihood (a good first
        Hessian for Newton steps on all the data, which saves computing one)."""
        total = float(patterns.weights.sum())
        if patterns.weights.size <= 4 * self.sample_size or total <= 2 * self.sample_size:
            return None
        rng = np.random.default_rng(self.random_state)
        # Customers drawn with replacement in proportion to each pattern's count: a warm start needs no more.
        drawn = rng.choice(patterns.weights.size, size=self.sample_size, p=patterns.weights / total)
        taken = np.bincount(drawn, minlength=patterns.weights.size)
        keep = taken > 0
        sample = Patterns(tuple(c[keep] for c in patterns.columns), taken[keep].astype(np.float64), patterns.inverse)
        try:
            res = fit_patterns(sample, None, self.gtol * 100)
        except ModelFitError:
            return None
        return res.theta, res.hessian / self.sample_size


def _z(level: float) -> float:
    if not 0 < level < 1:
        raise InputError("the interval level must be between 0 and 1", value=level, expected="e.g. 0.9")
    return float(ndtri(0.5 + level / 2))


Scale = Literal["log", "logit"]


def delta_interval(
    models: Sequence[FittedModel], quantity: Callable[[], Array], *, level: float, scale: Scale, step: float = 1e-5
) -> tuple[Array, Array]:
    """Laplace + delta method: perturb each model's log-parameters, propagate the covariance to ``quantity``.

    The interval is symmetric on the log (positive quantities) or logit (probabilities)
    scale. It reflects parameter uncertainty only, not the randomness of a customer's
    future purchases.
    """
    zq = _z(level)
    fwd: Callable[[Array], Array]
    inv: Callable[[Array], Array]
    if scale == "log":
        fwd, inv = _safe_log, np.exp
    else:
        fwd, inv = _safe_logit, expit
    base = quantity()
    y0 = fwd(base)
    var = np.zeros_like(y0)
    for m in models:
        theta = m._fitted_theta()
        cov = m.covariance_
        grads = []
        try:
            for j in range(theta.size):
                shifted = theta.copy()
                shifted[j] += step
                m._theta = shifted
                grads.append((fwd(quantity()) - y0) / step)
        finally:
            m._theta = theta
        jac = np.asarray(np.stack(grads, axis=-1), dtype=np.float64)
        var += ((jac[..., :, None] * cov) * jac[..., None, :]).sum(axis=(-2, -1))
    sd = np.sqrt(np.maximum(var, 0.0))
    lo, hi = inv(y0 - zq * sd), inv(y0 + zq * sd)
    exact = (base <= 0) | ((base >= 1) if scale == "logit" else np.zeros_like(base, dtype=bool))
    return np.where(exact, base, lo), np.where(exact, base, hi)


def _safe_log(v: Array) -> Array:
    return np.log(np.maximum(v, 1e-300))


def _safe_logit(v: Array) -> Array:
    return logit(np.clip(v, 1e-300, 1 - 1e-16))
