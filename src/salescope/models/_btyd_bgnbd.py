"""BG/NBD (Fader, Hardie & Lee 2005) and MBG/NBD (Batislam, Denizel & Filiztekin 2007).

Both mix a Poisson purchase process (rate ~ Gamma(r, alpha)) with a geometric dropout
after purchases (p ~ Beta(a, b)); the MBG/NBD also lets a customer drop out at time 0,
so a customer with no repeat purchases need not be alive. The likelihood is the sum of
two terms, combined in log space (``logaddexp``) so heavy buyers (x in the thousands)
neither overflow nor underflow. The conditional expectation uses Euler's transformation
of 2F1, which turns the ill-conditioned (1 - z)^(r+x) * 2F1(r+x, b+x; ...) of the papers
into the benign (1 - z)^(a-1) * 2F1(a+b-1-r, a-1; a+b+x-1; z).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from salescope.models._btyd_base import Array
from salescope.models._btyd_count import CountModel


class BetaGeo(CountModel):
    """BG/NBD: params_ r, alpha (purchase rate ~ Gamma(r, alpha)), a, b (dropout p ~ Beta(a, b))."""

    param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")
    model_name: ClassVar[str] = "BG/NBD"
    modified: ClassVar[bool] = False

    def _start(self, x: Array, tx: Array, T: Array) -> Array:
        return np.array([1.0, max(float(T.max()), 1e-6) / 10.0, 1.0, 1.0])

    def _terms(self, params: Array, x: Array, tx: Array, T: Array) -> tuple[Array, Array, Array]:
        r, alpha, a, b = params
        common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
        if self.modified:
            t1 = betaln(a, b + x + 1) - (r + x) * np.log(alpha + T)
            t2 = betaln(a + 1, b + x) - (r + x) * np.log(alpha + tx)
        else:
            t1 = betaln(a, b + x) - (r + x) * np.log(alpha + T)
            xm = np.maximum(x, 1.0)
            t2 = np.where(x > 0, betaln(a + 1, b + xm - 1) - (r + x) * np.log(alpha + tx), -np.inf)
        return common, t1, t2

    def _loglik(self, params: Array, x: Array, tx: Array, T: Array) -> Array:
        common, t1, t2 = self._terms(params, x, tx, T)
        return common + np.logaddexp(t1, t2)

    def _loglik_grad(self, params: Array, x: Array, tx: Array, T: Array) -> tuple[Array, Array]:
        r, alpha, a, b = params
        common, t1, t2 = self._terms(params, x, tx, T)
        lse = np.logaddexp(t1, t2)
        w1, w2 = np.exp(t1 - lse), np.exp(t2 - lse)
        log_at, log_atx = np.log(alpha + T), np.log(alpha + tx)
        d_r = digamma(r + x) - digamma(r) + np.log(alpha) - w1 * log_at - w2 * log_atx
        d_alpha = r / alpha - (r + x) * (w1 / (alpha + T) + w2 / (alpha + tx))
        psi_ab = digamma(a + b)
        if self.modified:
            psi_abx = digamma(a + b + x + 1)
            d_a = -(digamma(a) - psi_ab) + w1 * (digamma(a) - psi_abx) + w2 * (digamma(a + 1) - psi_abx)
            d_b = -(digamma(b) - psi_ab) + w1 * (digamma(b + x + 1) - psi_abx) + w2 * (digamma(b + x) - psi_abx)
        else:
            psi_abx = digamma(a + b + x)
            d_a = -(digamma(a) - psi_ab) + w1 * (digamma(a) - psi_abx) + w2 * (digamma(a + 1) - psi_abx)
            xm = np.maximum(x, 1.0)
            d_b = -(digamma(b) - psi_ab) + w1 * (digamma(b + x) - psi_abx) + w2 * (digamma(b + xm - 1) - psi_abx)
        return common + lse, np.stack([d_r, d_alpha, d_a, d_b], axis=1)

    def _log_odds_dead(self, params: Array, x: Array, tx: Array, T: Array) -> Array:
        """log P(dropped out) / P(alive) given the history."""
        r, alpha, a, b = params
        ratio = (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
        if self.modified:
            return np.log(a) - np.log(b + x) + ratio
        xm = np.maximum(x, 1.0)
        return np.where(x > 0, np.log(a) - np.log(b + xm - 1) + ratio, -np.inf)

    def _p_alive(self, params: Array, x: Array, tx: Array, T: Array) -> Array:
        return expit(-self._log_odds_dead(params, x, tx, T))

    def _expected(self, params: Array, t: Array, x: Array, tx: Array, T: Array) -> Array:
        r, alpha, a, b = params
        z = t / (alpha + T + t)
        shift = 0.0 if self.modified else -1.0
        c = a + b + x + shift
        f = hyp2f1(a + b + shift - r, a - 1, c, z)
        bracket = 1.0 - np.exp((a - 1) * np.log1p(-z)) * f
        return c / (a - 1) * bracket * self._p_alive(params, x, tx, T)


class ModifiedBetaGeo(BetaGeo):
    """MBG/NBD: as BG/NBD, but a customer may also drop out right after the first purchase."""

    model_name: ClassVar[str] = "MBG/NBD"
    modified: ClassVar[bool] = True
