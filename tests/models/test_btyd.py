"""BTYD models checked against their defining formulas, simulation and each other.

Expected values come from (a) the papers' formulas written out directly in the test
(plain ``math`` / ``scipy.integrate.quad``, independent of the log-space code under
test), (b) data simulated from the models' own generative stories with known
parameters, (c) brute-force series for the hypergeometric function.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from btyd_sim import simulate_bgnbd, simulate_pareto, simulate_spend
from scipy import integrate
from scipy.special import betaln, hyp2f1

import salescope as ss
from salescope.errors import InputError, ModelFitError
from salescope.models._btyd_count import Histories
from salescope.models._btyd_hyp2f1 import hyp2f1_one
from salescope.models.btyd import BetaGeo, GammaGamma, ModifiedBetaGeo, ParetoNBD

# A small mixed customer base: non-repeaters, light and heavy buyers, one who bought on the last day.
X = np.array([0, 0, 1, 2, 5, 14, 3, 1])
TX = np.array([0.0, 0.0, 3.5, 20.0, 30.2, 37.9, 38.0, 0.5])
T = np.array([38.0, 12.0, 30.0, 38.0, 38.0, 38.0, 38.0, 0.5])


def _bg_direct(r: float, alpha: float, a: float, b: float, x: int, tx: float, t: float) -> float:
    """FHL (2005) eq. (6), written out term by term."""
    head = math.exp(math.lgamma(r + x) - math.lgamma(r)) * alpha**r
    first = math.exp(betaln(a, b + x) - betaln(a, b)) * head / (alpha + t) ** (r + x)
    second = 0.0
    if x > 0:
        second = math.exp(betaln(a + 1, b + x - 1) - betaln(a, b)) * head / (alpha + tx) ** (r + x)
    return math.log(first + second)


def _mbg_direct(r: float, alpha: float, a: float, b: float, x: int, tx: float, t: float) -> float:
    """Batislam, Denizel & Filiztekin (2007): both terms present for every x."""
    head = math.exp(math.lgamma(r + x) - math.lgamma(r)) * alpha**r
    first = math.exp(betaln(a, b + x + 1) - betaln(a, b)) * head / (alpha + t) ** (r + x)
    second = math.exp(betaln(a + 1, b + x) - betaln(a, b)) * head / (alpha + tx) ** (r + x)
    return math.log(first + second)


def _pareto_parts(r: float, alpha: float, s: float, beta: float, x: int, tx: float, t: float) -> tuple[float, float]:
    """Pareto/NBD likelihood pieces from the integral over the dropout time (Fader & Hardie 2005 note)."""
    const = math.exp(math.lgamma(r + x) - math.lgamma(r)) * alpha**r * beta**s
    alive = const / ((alpha + t) ** (r + x) * (beta + t) ** s)

    def integrand(u: float) -> float:
        return float((alpha + u) ** -(r + x) * (beta + u) ** -(s + 1))

    died = const * s * integrate.quad(integrand, tx, t, epsabs=0, epsrel=1e-13, limit=200)[0]
    return alive, died


@pytest.mark.parametrize(
    ("model", "params", "direct"),
    [
        (BetaGeo, {"r": 0.24, "alpha": 4.4, "a": 0.79, "b": 2.4}, _bg_direct),
        (BetaGeo, {"r": 2.0, "alpha": 0.5, "a": 3.0, "b": 0.7}, _bg_direct),
        (ModifiedBetaGeo, {"r": 0.52, "alpha": 6.2, "a": 0.89, "b": 1.6}, _mbg_direct),
    ],
)
def test_bg_family_log_likelihood_matches_the_papers_formula(model, params, direct) -> None:
    m = model().with_params(**params)
    expected = [direct(*params.values(), int(x), tx, t) for x, tx, t in zip(X, TX, T, strict=True)]
    np.testing.assert_allclose(m.log_likelihood(X, TX, T), expected, rtol=1e-12)


@pytest.mark.parametrize(
    "params",
    [
        {"r": 0.55, "alpha": 10.6, "s": 0.61, "beta": 11.7},  # alpha < beta
        {"r": 0.8, "alpha": 30.0, "s": 1.4, "beta": 2.0},  # alpha > beta
        {"r": 1.3, "alpha": 5.0, "s": 1.0, "beta": 5.0},  # alpha == beta, s == 1
    ],
)
def test_pareto_log_likelihood_and_p_alive_match_numerical_integration(params) -> None:
    m = ParetoNBD().with_params(**params)
    parts = [_pareto_parts(*params.values(), int(x), tx, t) for x, tx, t in zip(X, TX, T, strict=True)]
    expected_ll = [math.log(a + d) for a, d in parts]
    expected_alive = [a / (a + d) for a, d in parts]
    np.testing.assert_allclose(m.log_likelihood(X, TX, T), expected_ll, rtol=1e-10)
    np.testing.assert_allclose(m.p_alive(X, TX, T), expected_alive, rtol=1e-9)


def test_bgnbd_conditional_expectation_and_p_alive_match_fhl_equations() -> None:
    """FHL (2005) eq. (10) with scipy's 2F1 in the papers' (untransformed) form, fine for moderate customers."""
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    m = BetaGeo().with_params(r=r, alpha=alpha, a=a, b=b)
    t = 39.0
    z = t / (alpha + T + t)
    hyp = hyp2f1(r + X, b + X, a + b + X - 1, z)
    num = (a + b + X - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + X) * hyp)
    odds = np.where(X > 0, a / (b + np.maximum(X, 1) - 1) * ((alpha + T) / (alpha + TX)) ** (r + X), 0.0)
    np.testing.assert_allclose(m.expected_purchases(t, X, TX, T), num / (1 + odds), rtol=1e-10)
    np.testing.assert_allclose(m.p_alive(X, TX, T), 1 / (1 + odds), rtol=1e-12)
    # Unconditional E[X(t)], FHL eq. (9).
    e9 = (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))
    np.testing.assert_allclose(m.expected_purchases_new(t), [e9], rtol=1e-12)


def test_mbgnbd_conditional_expectation_matches_batislam_equation() -> None:
    r, alpha, a, b = 0.525, 6.18, 0.891, 1.61
    m = ModifiedBetaGeo().with_params(r=r, alpha=alpha, a=a, b=b)
    t = 20.0
    z = t / (alpha + T + t)
    hyp = hyp2f1(r + X, b + X + 1, a + b + X, z)
    num = (a + b + X) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + X) * hyp)
    den = 1 + a / (b + X) * ((alpha + T) / (alpha + TX)) ** (r + X)
    np.testing.assert_allclose(m.expected_purchases(t, X, TX, T), num / den, rtol=1e-10)
    np.testing.assert_allclose(m.p_alive(X, TX, T), 1 / den, rtol=1e-12)


def test_pareto_conditional_expectation_matches_the_closed_form() -> None:
    """E[Y(t)] = P(alive) (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)]."""
    r, alpha, s, beta = 0.553, 10.58, 0.606, 11.67
    m = ParetoNBD().with_params(r=r, alpha=alpha, s=s, beta=beta)
    t = 39.0
    parts = [_pareto_parts(r, alpha, s, beta, int(x), u, v) for x, u, v in zip(X, TX, T, strict=True)]
    alive = np.array([a / (a + d) for a, d in parts])
    growth = (r + X) * (beta + T) / ((alpha + T) * (s - 1)) * (1 - ((beta + T) / (beta + T + t)) ** (s - 1))
    np.testing.assert_allclose(m.expected_purchases(t, X, TX, T), alive * growth, rtol=1e-9)


def test_gamma_gamma_density_integrates_to_one_and_profit_formula() -> None:
    """The mean-spend density of Fader & Hardie (2013) is a density in m for each x."""
    gg = GammaGamma().with_params(p=6.25, q=3.74, gamma=15.44)
    for x in (1, 3, 12):

        def density(m: float, x: int = x) -> float:
            return float(np.exp(gg.log_likelihood([x], [m])[0]))

        total = integrate.quad(density, 0, np.inf, epsabs=0, epsrel=1e-10, limit=200)[0]
        assert total == pytest.approx(1.0, rel=1e-8)
    p, q, g = 6.25, 3.74, 15.44
    x, mbar = np.array([0, 1, 4]), np.array([np.nan, 20.0, 35.0])
    expected = [p * g / (q - 1), p * (g + 20.0) / (p + q - 1), p * (g + 4 * 35.0) / (4 * p + q - 1)]
    np.testing.assert_allclose(gg.conditional_expected_average_profit(x, mbar), expected, rtol=1e-14)


@pytest.mark.parametrize("model", [BetaGeo, ModifiedBetaGeo])
def test_analytic_gradient_matches_finite_differences(model) -> None:
    m = model()
    x, tx, t = X.astype(float), TX, T
    params = np.array([0.7, 3.0, 1.3, 2.2])
    _, grad = m._loglik_grad(params, Histories(x, tx, t))
    h = 1e-6
    for j in range(4):
        up, down = params.copy(), params.copy()
        up[j] += h
        down[j] -= h
        fd = (m._loglik(up, Histories(x, tx, t)) - m._loglik(down, Histories(x, tx, t))) / (2 * h)
        np.testing.assert_allclose(grad[j], fd, rtol=1e-6, atol=1e-8)


def test_gamma_gamma_gradient_matches_finite_differences() -> None:
    from salescope.models._btyd_gamma import Spends, _loglik_grad

    data = Spends(np.array([1.0, 2.0, 7.0, 2.0]), np.array([12.0, 40.0, 18.5, 3.0]))
    params = np.array([4.0, 3.0, 20.0])
    _, grad = _loglik_grad(params, data)
    h = 1e-6
    for j in range(3):
        up, down = params.copy(), params.copy()
        up[j] += h
        down[j] -= h
        fd = (_loglik_grad(up, data)[0] - _loglik_grad(down, data)[0]) / (2 * h)
        np.testing.assert_allclose(grad[j], fd, rtol=1e-6)


def _series(b: float, c: float, z: float) -> float:
    """Brute force: sum of the positive terms (b)_k / (c)_k z^k until they vanish."""
    k = np.arange(3_000_000, dtype=float)
    log_terms = np.concatenate([[0.0], np.cumsum(np.log((b + k) / (c + k) * z))[:-1]])
    return float(np.exp(log_terms).sum())


@pytest.mark.parametrize(
    ("b", "c", "z"),
    [
        (0.8, 2.4, 0.9999),
        (3.0, 4.0, 0.99999),  # c - b = 1 exactly: scipy.special.hyp2f1 returns inf
        (500.5, 502.1, 0.999),  # a heavy buyer: scipy returns NaN
        (10_000.5, 10_001.1, 0.9999),
        (1.6, 40.0, 0.5),
    ],
)
def test_hyp2f1_continued_fraction_matches_the_series(b: float, c: float, z: float) -> None:
    got = hyp2f1_one(np.array([b]), np.array([c]), np.array([z]))[0]
    assert got == pytest.approx(_series(b, c, z), rel=1e-10)


def test_extreme_customers_give_finite_monotone_predictions() -> None:
    """Heavy buyers (thousands of repeats), long ages and horizons: no overflow, P(alive) in [0, 1]."""
    x = np.array([0.0, 1, 50, 3_000, 20_000, 5])
    tx = np.array([0.0, 0.1, 400.0, 999.0, 1_000.0, 1.0])
    t = np.array([1000.0, 1000.0, 1000.0, 1000.0, 1000.0, 1000.0])
    models = [
        BetaGeo().with_params(r=0.24, alpha=4.4, a=0.79, b=2.4),
        ModifiedBetaGeo().with_params(r=0.52, alpha=6.2, a=0.89, b=1.6),
        ParetoNBD().with_params(r=0.55, alpha=10.6, s=0.61, beta=11.7),
        ParetoNBD().with_params(r=0.55, alpha=2000.0, s=0.61, beta=0.01),
    ]
    for m in models:
        ll = m.log_likelihood(x, tx, t)
        alive = m.p_alive(x, tx, t)
        near = m.expected_purchases(10.0, x, tx, t)
        far = m.expected_purchases(5_000.0, x, tx, t)
        assert np.all(np.isfinite(ll)), m
        assert np.all((alive >= 0) & (alive <= 1)), m
        assert np.all(np.isfinite(far) & (far >= near) & (near >= 0)), m
    # The heaviest buyer who bought on the last day is surely alive and keeps buying at about x / t per week.
    bg = models[0]
    assert bg.p_alive([20_000], [1_000.0], [1_000.0])[0] > 0.99
    assert bg.expected_purchases(10.0, [20_000], [1_000.0], [1_000.0])[0] == pytest.approx(200, rel=0.05)


def test_bgnbd_recovers_simulated_parameters_within_its_standard_errors() -> None:
    truth = {"r": 0.5, "alpha": 5.0, "a": 0.8, "b": 2.5}
    sim = simulate_bgnbd(20_000, **truth, seed=7)
    m = BetaGeo().fit(sim.frequency, sim.recency, sim.T)
    assert m.converged_
    for k, v in truth.items():
        assert abs(m.params_[k] - v) < 4 * m.standard_errors_[k], (k, m.params_[k], m.standard_errors_[k])
        lo, hi = m.param_intervals(0.999)[k]
        assert lo < v < hi


def test_mbgnbd_and_pareto_recover_simulated_parameters() -> None:
    mbg_truth = {"r": 0.6, "alpha": 4.0, "a": 1.2, "b": 3.0}
    sim = simulate_bgnbd(20_000, **mbg_truth, seed=11, modified=True)
    mbg = ModifiedBetaGeo().fit(sim.frequency, sim.recency, sim.T)
    for k, v in mbg_truth.items():
        assert abs(mbg.params_[k] - v) < 4 * mbg.standard_errors_[k], (k, mbg.params_[k])
    p_truth = {"r": 0.7, "alpha": 6.0, "s": 0.8, "beta": 9.0}
    sim = simulate_pareto(10_000, **p_truth, seed=5)
    pnbd = ParetoNBD().fit(sim.frequency, sim.recency, sim.T)
    for k, v in p_truth.items():
        assert abs(pnbd.params_[k] - v) < 4 * pnbd.standard_errors_[k], (k, pnbd.params_[k])


def test_unconditional_expectation_matches_simulation() -> None:
    """Mean repeat purchases of simulated customers all aged 30 weeks vs E[X(30)] (4 standard errors)."""
    truth = {"r": 0.5, "alpha": 5.0, "a": 0.8, "b": 2.5}
    sim = simulate_bgnbd(200_000, **truth, seed=3, t_min=30.0, t_max=30.0)
    expected = BetaGeo().with_params(**truth).expected_purchases_new(30.0)[0]
    se = sim.frequency.std() / math.sqrt(sim.frequency.size)
    assert abs(sim.frequency.mean() - expected) < 4 * se


def test_gamma_gamma_recovers_simulated_parameters() -> None:
    sim = simulate_bgnbd(20_000, r=0.8, alpha=3.0, a=0.8, b=2.5, seed=2)
    spend = simulate_spend(sim.frequency, p=6.0, q=4.0, gamma=15.0, seed=2)
    gg = GammaGamma().fit(sim.frequency, spend)
    for k, v in {"p": 6.0, "q": 4.0, "gamma": 15.0}.items():
        assert abs(gg.params_[k] - v) < 4 * gg.standard_errors_[k], (k, gg.params_[k])


def test_fitting_weighted_patterns_equals_fitting_every_customer() -> None:
    sim = simulate_bgnbd(3_000, r=0.5, alpha=5.0, a=0.8, b=2.5, seed=1)
    full = BetaGeo().fit(sim.frequency, sim.recency, sim.T)
    rows = np.stack([sim.frequency, sim.recency, sim.T], axis=1)
    uniq, counts = np.unique(rows, axis=0, return_counts=True)
    weighted = BetaGeo().fit(uniq[:, 0], uniq[:, 1], uniq[:, 2], weights=counts)
    for k in full.params_:
        assert weighted.params_[k] == pytest.approx(full.params_[k], rel=1e-9)
    assert weighted.log_likelihood_ == pytest.approx(full.log_likelihood_, rel=1e-12)


def test_warm_start_from_a_sample_reaches_the_same_optimum() -> None:
    sim = simulate_bgnbd(30_000, r=0.5, alpha=5.0, a=0.8, b=2.5, seed=9)
    cold = BetaGeo(sample_size=10**9).fit(sim.frequency, sim.recency, sim.T)
    warm = BetaGeo(sample_size=500).fit(sim.frequency, sim.recency, sim.T)
    for k in cold.params_:
        assert warm.params_[k] == pytest.approx(cold.params_[k], rel=1e-7)


def test_clv_is_the_discounted_sum_of_monthly_purchases_times_spend() -> None:
    bg = BetaGeo().with_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    gg = GammaGamma().with_params(p=6.25, q=3.74, gamma=15.44)
    x, tx, t = X[:7], TX[:7], T[:7]
    mbar = np.where(x > 0, 30.0, np.nan)
    spend = gg.conditional_expected_average_profit(x, mbar)
    per_month = 365.25 / 12 / 7
    expected = np.zeros(x.size)
    for month in range(1, 13):
        now = bg.expected_purchases(month * per_month, x, tx, t)
        step = now - bg.expected_purchases((month - 1) * per_month, x, tx, t)
        expected += spend * step / 1.01**month
    got = gg.clv(bg, x, tx, t, mbar, horizon=12, discount_rate=0.01, freq="week")
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    undiscounted = gg.clv(bg, x, tx, t, mbar, horizon=12, discount_rate=0.0, freq="week")
    np.testing.assert_allclose(undiscounted, spend * bg.expected_purchases(12 * per_month, x, tx, t), rtol=1e-12)
    lo, hi = gg.clv_interval(bg, x, tx, t, mbar)
    # with_params carries no covariance, so the interval collapses onto the estimate
    np.testing.assert_allclose(lo, got, rtol=1e-12)
    np.testing.assert_allclose(hi, got, rtol=1e-12)


def test_intervals_contain_the_estimates_and_are_proper() -> None:
    sim = simulate_bgnbd(5_000, r=0.5, alpha=5.0, a=0.8, b=2.5, seed=4)
    bg = BetaGeo().fit(sim.frequency, sim.recency, sim.T)
    spend = simulate_spend(sim.frequency, p=6.0, q=4.0, gamma=15.0, seed=4)
    gg = GammaGamma().fit(sim.frequency, spend)
    f, r, t = sim.frequency[:300], sim.recency[:300], sim.T[:300]
    alive = bg.p_alive(f, r, t)
    lo, hi = bg.p_alive_interval(f, r, t, level=0.9)
    assert np.all((lo >= 0) & (lo <= alive) & (alive <= hi) & (hi <= 1))
    assert np.all(hi[f > 0] > lo[f > 0])  # non-repeaters are alive with certainty under the BG/NBD
    e = bg.expected_purchases(52, f, r, t)
    elo, ehi = bg.expected_purchases_interval(52, f, r, t, level=0.9)
    assert np.all((elo < e) & (e < ehi))
    m = spend[:300]
    value = gg.clv(bg, f, r, t, m)
    vlo, vhi = gg.clv_interval(bg, f, r, t, m, level=0.9)
    assert np.all((vlo < value) & (value < vhi))
    wide_lo, wide_hi = gg.clv_interval(bg, f, r, t, m, level=0.99)
    assert np.all((wide_lo < vlo) & (vhi < wide_hi))


def test_bad_inputs_name_row_column_and_value() -> None:
    bg = BetaGeo()
    with pytest.raises(InputError, match=r"row 2, column 'recency'.*later than the customer's age"):
        bg.fit([1, 2], [3.0, 9.0], [5.0, 8.0])
    with pytest.raises(InputError, match=r"row 1, column 'frequency'.*value -1\.0"):
        bg.fit([-1, 2], [0.0, 1.0], [5.0, 8.0])
    with pytest.raises(InputError, match=r"row 1, column 'frequency'.*whole number"):
        bg.fit([1.5], [1.0], [5.0])
    with pytest.raises(InputError, match=r"row 1, column 'recency'.*without repeat purchases"):
        bg.fit([0, 2], [2.0, 1.0], [5.0, 8.0])
    with pytest.raises(InputError, match=r"column 'T'.*not a number"):
        bg.fit([0, 2], [0.0, 1.0], [float("nan"), 8.0])
    with pytest.raises(InputError, match=r"row 2, column 'monetary'.*must be positive"):
        GammaGamma().fit([1, 2, 3], [10.0, -4.0, 5.0])


def test_fit_failures_raise_model_fit_error_in_one_sentence() -> None:
    with pytest.raises(ModelFitError, match="No customer made a repeat purchase"):
        BetaGeo().fit([0, 0, 0], [0.0, 0.0, 0.0], [10.0, 20.0, 30.0])
    # Everyone buys every other week to the end: no spread in purchase rates and no sign of dropout,
    # so the mixing distributions degenerate (dropout probability a / (a + b) -> 0, or r -> infinity).
    age = np.linspace(20, 52, 400)
    x = np.round(age / 2)
    with pytest.raises(ModelFitError, match=r"estimate of (a ran off to zero|b ran off to infinity|r ran off to inf)"):
        BetaGeo().fit(x, age, age)
    # Eight customers: the dropout parameters a and b both sink towards zero.
    with pytest.raises(ModelFitError, match=r"estimate of a ran off to zero"):
        BetaGeo().fit(X, TX, T)
    gg = GammaGamma().with_params(p=2.0, q=0.8, gamma=10.0)
    with pytest.raises(ModelFitError, match=r"q = 0\.8 <= 1"):
        gg.conditional_expected_average_profit([0], [float("nan")])
    with pytest.raises(ModelFitError, match="has not been fitted"):
        BetaGeo().p_alive([1], [1.0], [2.0])


def test_notebook_api_exposes_the_models() -> None:
    assert ss.clv.BetaGeo is BetaGeo
    assert ss.clv.GammaGamma is GammaGamma
    assert set(ss.clv.MODELS) == {"bgnbd", "pareto", "mbgnbd"}
    sim = simulate_bgnbd(500, r=0.5, alpha=5.0, a=0.8, b=2.5, seed=12)
    m = ss.clv.BetaGeo()
    assert m.fit(sim.frequency, sim.recency, sim.T) is m
    assert set(m.params_) == {"r", "alpha", "a", "b"}
    np.testing.assert_array_equal(m.predict(10, X, TX, T), m.expected_purchases(10, X, TX, T))
    assert repr(m).startswith("BetaGeo(r=")
    # log-likelihood of the fit equals the sum of the per-customer values
    assert m.log_likelihood(sim.frequency, sim.recency, sim.T).sum() == pytest.approx(m.log_likelihood_, rel=1e-12)
