"""Seeded simulators of the BTYD generative stories, to test the models against data with known parameters."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Simulated:
    frequency: np.ndarray
    recency: np.ndarray
    T: np.ndarray


def _ages(rng: np.random.Generator, n: int, t_min: float, t_max: float) -> np.ndarray:
    # Ages on a daily grid in weeks, as a real summary has them.
    return np.round(rng.uniform(t_min, t_max, n) * 7) / 7


def simulate_bgnbd(
    n: int,
    r: float,
    alpha: float,
    a: float,
    b: float,
    *,
    seed: int,
    t_min: float = 20.0,
    t_max: float = 52.0,
    modified: bool = False,
) -> Simulated:
    """Poisson purchases at rate lambda ~ Gamma(r, alpha); after each repeat purchase (and, for the
    MBG/NBD, also right after the first) the customer drops out with probability p ~ Beta(a, b)."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    age = _ages(rng, n, t_min, t_max)
    x = np.zeros(n)
    tx = np.zeros(n)
    t = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    if modified:
        alive &= rng.random(n) >= p
    while alive.any():
        idx = np.flatnonzero(alive)
        t[idx] += rng.exponential(1.0 / lam[idx])
        done = t[idx] > age[idx]
        alive[idx[done]] = False
        buy = idx[~done]
        x[buy] += 1
        tx[buy] = t[buy]
        alive[buy[rng.random(buy.size) < p[buy]]] = False
    return Simulated(x, tx, age)


def simulate_pareto(
    n: int, r: float, alpha: float, s: float, beta: float, *, seed: int, t_min: float = 20.0, t_max: float = 52.0
) -> Simulated:
    """Poisson purchases at rate lambda ~ Gamma(r, alpha) until an exponential lifetime, rate mu ~ Gamma(s, beta)."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1.0 / alpha, n)
    mu = rng.gamma(s, 1.0 / beta, n)
    age = _ages(rng, n, t_min, t_max)
    end = np.minimum(rng.exponential(1.0 / mu), age)
    x = np.zeros(n)
    tx = np.zeros(n)
    t = np.zeros(n)
    active = np.ones(n, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        t[idx] += rng.exponential(1.0 / lam[idx])
        done = t[idx] > end[idx]
        active[idx[done]] = False
        buy = idx[~done]
        x[buy] += 1
        tx[buy] = t[buy]
    return Simulated(x, tx, age)


def simulate_spend(frequency: np.ndarray, p: float, q: float, gamma: float, *, seed: int) -> np.ndarray:
    """Mean of x Gamma(p, nu) transaction values with nu ~ Gamma(q, gamma); NaN without repeats."""
    rng = np.random.default_rng(seed)
    nu = rng.gamma(q, 1.0 / gamma, frequency.size)
    x = frequency.astype(int)
    total = rng.gamma(np.maximum(p * x, 1e-12), 1.0 / nu)
    return np.where(x > 0, total / np.maximum(x, 1), np.nan)
