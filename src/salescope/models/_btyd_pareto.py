"""Pareto/NBD (Schmittlein, Morrison & Colombo 1987), in the formulation of Fader & Hardie (2005 note 009).

With purchase rate lambda ~ Gamma(r, alpha) and dropout rate mu ~ Gamma(s, beta),

    L = Gamma(r+x) alpha^r beta^s / Gamma(r) * [ (alpha+T)^-(r+x) (beta+T)^-s + s * (G(t_x) - G(T)) ]
    G(t) = integral from t to infinity of (alpha+u)^-(r+x) (beta+u)^-(s+1) du

G is written through 2F1(1, b; c; z) with z in [0, 1) after Euler's transformation
(every series term positive) and evaluated by the continued fraction in
``_btyd_hyp2f1``; the difference G(t_x) - G(T) is taken in log space. The parameter
derivatives of 2F1 have no closed form, so the fit uses central-difference gradients.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy.special import expit, gammaln

from salescope.models._btyd_base import Array
from salescope.models._btyd_count import CountModel, Histories
from salescope.models._btyd_hyp2f1 import hyp2f1_one


class ParetoNBD(CountModel):
    """Pareto/NBD: params_ r, alpha (purchase rate ~ Gamma(r, alpha)), s, beta (dropout rate ~ Gamma(s, beta))."""

    param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "s", "beta")
    model_name: ClassVar[str] = "Pareto/NBD"
    analytic_gradient: ClassVar[bool] = False

    def _start(self, x: Array, tx: Array, T: Array) -> Array:
        scale = max(float(T.max()), 1e-6) / 10.0
        return np.array([1.0, scale, 1.0, scale])

    def _log_terms(self, params: Array, h: Histories) -> tuple[Array, Array, Array]:
        """(log of the constant, log of the 'alive at T' term, log of the 'died in (t_x, T]' term)."""
        r, alpha, s, beta = params
        x = h.x
        const = h.on_x(lambda u: gammaln(r + u)) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        alive = -(r + x) * h.on_T(lambda u: np.log(alpha + u)) - s * h.on_T(lambda u: np.log(beta + u))
        g_tx = _log_g(params, x, h.tx)
        g_T = _log_g(params, x, h.T)
        diff = np.minimum(g_T - g_tx, 0.0)
        open_ = diff < 0
        safe = np.where(open_, diff, -1.0)
        log1mexp = np.where(safe > -0.6931471805599453, np.log(-np.expm1(safe)), np.log1p(-np.exp(safe)))
        died = np.where(open_, np.log(s) + g_tx + log1mexp, -np.inf)
        return const, alive, died

    def _loglik(self, params: Array, h: Histories) -> Array:
        const, alive, died = self._log_terms(params, h)
        return const + np.logaddexp(alive, died)

    def _p_alive(self, params: Array, h: Histories) -> Array:
        _, alive, died = self._log_terms(params, h)
        return expit(alive - died)

    def _expected_if_alive(self, params: Array, t: Array, h: Histories) -> Array:
        r, alpha, s, beta = params
        # (1 - ((beta+T)/(beta+T+t))^(s-1)) / (s-1), continuous through s = 1 where it is log(1 + t/(beta+T))
        log_ratio = -np.log1p(t / (beta + h.T))
        k = s - 1.0
        growth = -log_ratio if abs(k) < 1e-10 else -np.expm1(k * log_ratio) / k
        return (r + h.x) * (beta + h.T) / (alpha + h.T) * growth


def _log_g(params: Array, x: Array, t: Array) -> Array:
    """log G(t), with the expansion chosen so that z = |alpha - beta| / (max(alpha, beta) + t) lies in [0, 1)."""
    r, alpha, s, beta = params
    m = r + s + x
    if alpha >= beta:
        z = (alpha - beta) / (alpha + t)
        f = hyp2f1_one(r + x, m + 1, z)
        return -np.log(m) - (r + x) * np.log(alpha + t) - s * np.log(beta + t) + np.log(f)
    z = (beta - alpha) / (beta + t)
    f = hyp2f1_one(np.full_like(x, s + 1), m + 1, z)
    return -np.log(m) - (s + 1) * np.log(beta + t) - (r + x - 1) * np.log(alpha + t) + np.log(f)
