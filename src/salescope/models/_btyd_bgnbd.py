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
from salescope.models._btyd_count import CountModel, Histories


class BetaGeo(CountModel):
    """BG/NBD: params_ r, alpha (purchase rate ~ Gamma(r, alpha)), a, b (dropout p ~ Beta(a, b))."""

    param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")
    model_name: ClassVar[str] = "BG/NBD"
    modified: ClassVar[bool] = False

    def _start(self, x: Array, tx: Array, T: Array) -> Array:
        return np.array([1.0, max(float(T.max()), 1e-6) / 10.0, 1.0, 1.0])

    def _terms(self, params: Array, h: Histories) -> tuple[Array, Array, Array]:
        """(log constant, log 'alive at T' term, log 'dropped after the last purchase' term) per customer.

        The second beta function is a ratio of the first, B(a+1, b+x-1) = B(a, b+x) a / (b+x-1)
        (MBG/NBD: B(a+1, b+x) = B(a, b+x+1) a / (b+x)), so one betaln per distinct x suffices;
        everything that depends on x alone is computed per distinct x and gathered in one go.
        """
        r, alpha, a, b = params
        shift = 1.0 if self.modified else 0.0

        def per_x(u: Array) -> Array:
            lb = betaln(a, b + u + shift)
            second = lb + np.log(a) - np.log(b + np.maximum(u, 1.0 - shift) - 1.0 + shift)
            if not self.modified:
                second = np.where(u > 0, second, -np.inf)
            common = gammaln(r + u) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
            return np.stack([common, lb, second])

        common, lb, second = h.on_x(per_x)
        rx = r + h.x
        t1 = lb - rx * h.on_T(lambda u: np.log(alpha + u))
        t2 = second - rx * h.on_tx(lambda u: np.log(alpha + u))
        return common, t1, t2

    def _loglik(self, params: Array, h: Histories) -> Array:
        common, t1, t2 = self._terms(params, h)
        return common + _logaddexp(t1, t2)[0]

    def _loglik_grad(self, params: Array, h: Histories) -> tuple[Array, Array]:
        r, alpha, a, b = params
        shift = 1.0 if self.modified else 0.0
        common, t1, t2 = self._terms(params, h)
        lse, w1 = _logaddexp(t1, t2)
        w2 = 1.0 - w1

        def per_x(u: Array) -> Array:
            psi_abx = digamma(a + b + u + shift)
            return np.stack(
                [
                    digamma(r + u) - digamma(r) + np.log(alpha),  # d/dr of the constant
                    digamma(a + b) - psi_abx,  # d/da of -log B(a, b) + log B(a, b+x+shift)
                    digamma(a + b) - digamma(b) + digamma(b + u + shift) - psi_abx,  # d/db of the same
                    1.0 / (b + np.maximum(u, 1.0 - shift) - 1.0 + shift),  # -d/db of log a / (b+x-1+shift)
                ]
            )

        d_r0, d_a0, d_b0, inv_bx = h.on_x(per_x)
        log_at, inv_at = h.on_T(lambda u: np.stack([np.log(alpha + u), 1.0 / (alpha + u)]))
        log_atx, inv_atx = h.on_tx(lambda u: np.stack([np.log(alpha + u), 1.0 / (alpha + u)]))
        grad = np.empty((4, h.x.size))
        np.subtract(d_r0, w1 * log_at, out=grad[0])
        grad[0] -= w2 * log_atx
        np.multiply(w1, inv_at, out=grad[1])
        grad[1] += w2 * inv_atx
        grad[1] *= -(r + h.x)
        grad[1] += r / alpha
        np.add(d_a0, w2 / a, out=grad[2])
        np.subtract(d_b0, w2 * inv_bx, out=grad[3])
        return common + lse, grad

    def _log_odds_dead(self, params: Array, h: Histories) -> Array:
        """log P(dropped out) / P(alive) given the history."""
        r, alpha, a, b = params
        shift = 1.0 if self.modified else 0.0
        ratio = (r + h.x) * (h.on_T(lambda u: np.log(alpha + u)) - h.on_tx(lambda u: np.log(alpha + u)))

        def per_x(u: Array) -> Array:
            odds = np.log(a) - np.log(b + np.maximum(u, 1.0 - shift) - 1.0 + shift)
            return odds if self.modified else np.where(u > 0, odds, -np.inf)

        return h.on_x(per_x) + ratio

    def _p_alive(self, params: Array, h: Histories) -> Array:
        return expit(-self._log_odds_dead(params, h))

    def _expected_if_alive(self, params: Array, t: Array, h: Histories) -> Array:
        r, alpha, a, b = params
        offset = 0.0 if self.modified else -1.0

        def expected(x: Array, T: Array, t: Array | float) -> Array:
            z = t / (alpha + T + t)
            c = a + b + x + offset
            f = hyp2f1(a + b + offset - r, a - 1, c, z)
            return np.asarray(c / (a - 1) * (1.0 - np.exp((a - 1) * np.log1p(-z)) * f), dtype=np.float64)

        if t.size and np.all(t == t[0]):
            return h.on_xT(lambda x, T: expected(x, T, float(t[0])))
        return expected(h.x, h.T, t)


def _logaddexp(t1: Array, t2: Array) -> tuple[Array, Array]:
    """log(e^t1 + e^t2) and the share e^t1 / (e^t1 + e^t2), t2 possibly -inf.

    numpy's logaddexp is a tenth of the speed of these few vectorised passes on a million customers.
    """
    big = np.maximum(t1, t2)
    ratio = np.minimum(t1, t2)
    ratio -= big
    np.exp(ratio, out=ratio)  # in [0, 1]
    share_big = 1.0 / (1.0 + ratio)
    lse = big + np.log1p(ratio)
    w1 = np.where(t1 >= t2, share_big, ratio * share_big)
    return lse, w1


class ModifiedBetaGeo(BetaGeo):
    """MBG/NBD: as BG/NBD, but a customer may also drop out right after the first purchase."""

    model_name: ClassVar[str] = "MBG/NBD"
    modified: ClassVar[bool] = True
