"""Exact references of the risk family against closed forms and independent checks."""

import numpy as np
import pytest
from scipy import integrate

from implicit_reg.risk import algorithms, theory
from implicit_reg.schedule import log_checkpoints


def test_gd_from_zero_reaches_pseudoinverse(problem):
    X, y = problem
    eta = algorithms.stable_step_size(X, 0.9)
    path = algorithms.gd_path(X, y, np.zeros(X.shape[::2]), eta, np.array([0, 20000]))
    np.testing.assert_allclose(
        path.betas[-1], theory.min_norm_solution(X, y), rtol=1e-9, atol=1e-10
    )
    assert not path.diverged.any()


def test_gd_from_nonzero_init_reaches_shifted_limit(problem):
    X, y = problem
    rng = np.random.default_rng(1)
    beta0 = rng.standard_normal(X.shape[::2])
    eta = algorithms.stable_step_size(X, 0.9)
    path = algorithms.gd_path(X, y, beta0, eta, np.array([0, 20000]))
    limit = theory.min_norm_limit_from(X, y, beta0)
    np.testing.assert_allclose(path.betas[-1], limit, rtol=1e-9, atol=1e-10)
    # The limit is X⁺y plus the null-space part of β₀ (docs/science.md §F1a).
    null = theory.null_space_component(X, beta0)
    np.testing.assert_allclose(limit, theory.min_norm_solution(X, y) + null, atol=1e-10)


def test_sgd_from_zero_reaches_pseudoinverse_when_interpolating():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((2, 6, 15))
    y = rng.standard_normal((2, 6))
    eta = algorithms.sgd_stable_step_size(X, 0.5)
    path = algorithms.sgd_path(X, y, np.zeros((2, 15)), eta, 2, np.array([0, 6000]), rng)
    np.testing.assert_allclose(path.betas[-1], theory.min_norm_solution(X, y), atol=1e-8)


def test_divergent_step_is_recorded_not_raised(problem):
    X, y = problem
    eta = algorithms.stable_step_size(X, 1.5)
    with np.errstate(all="raise"):
        path = algorithms.gd_path(X, y, np.zeros(X.shape[::2]), eta, log_checkpoints(5000, 10))
    assert path.diverged[-1].all()
    assert np.isnan(path.betas[-1]).all()
    assert not path.diverged[0].any()


def test_ridge_filter_matches_linear_solve(problem):
    X, y = problem
    X, y = X[0], y[0]
    n, d = X.shape
    for lam in (1e-3, 0.1, 10.0):
        direct = np.linalg.solve(X.T @ X / n + lam * np.eye(d), X.T @ y / n)
        spectral = theory.filtered_estimate(X, y, lambda s, lam=lam: theory.ridge_filter(s, lam))
        np.testing.assert_allclose(spectral, direct, rtol=1e-9, atol=1e-12)


def test_ridge_path_tends_to_min_norm_as_lambda_vanishes(problem):
    X, y = problem
    X, y = X[0], y[0]
    spectral = theory.filtered_estimate(X, y, lambda s: theory.ridge_filter(s, 1e-10))
    np.testing.assert_allclose(spectral, np.linalg.pinv(X) @ y, rtol=1e-6, atol=1e-8)


def test_gradient_flow_closed_form_matches_small_step_gd(problem):
    X, y = problem
    X, y = X[:1], y[:1]
    t = 3.0
    closed = theory.filtered_estimate(X[0], y[0], lambda s: theory.gradient_flow_filter(s, t))
    errors = []
    for k in (300, 3000):
        eta = np.array([t / k])
        path = algorithms.gd_path(X, y, np.zeros((1, X.shape[2])), eta, np.array([0, k]))
        errors.append(np.linalg.norm(path.betas[-1, 0] - closed) / np.linalg.norm(closed))
    # Explicit Euler is first order: ten times smaller steps, about ten times closer.
    assert errors[1] < 2e-3
    assert errors[0] / errors[1] == pytest.approx(10, rel=0.1)


@pytest.mark.parametrize(("gamma", "expected"), [(0.5, 0.4142), (1.0, 0.6180), (2.0, 0.7808)])
def test_optimal_ridge_risk_check_values(gamma, expected):
    assert theory.optimal_ridge_risk(gamma, 1.0, 1.0) == pytest.approx(expected, abs=5e-5)


@pytest.mark.parametrize("gamma", [0.3, 1.0, 2.5])
def test_ridge_risk_at_optimal_lambda_equals_closed_form(gamma):
    lam = theory.optimal_ridge_lambda(gamma, 1.3, 0.7)
    assert theory.ridge_risk(lam, gamma, 1.3, 0.7) == pytest.approx(
        theory.optimal_ridge_risk(gamma, 1.3, 0.7), rel=1e-10
    )


@pytest.mark.parametrize("gamma", [0.3, 2.5])
def test_ridge_risk_tends_to_ridgeless_risk(gamma):
    assert theory.ridge_risk(1e-7, gamma, 1.0, 0.5) == pytest.approx(
        theory.ridgeless_risk(gamma, 1.0, 0.5), rel=1e-4
    )


def _mp_density(s, gamma):
    lo, hi = (1 - np.sqrt(gamma)) ** 2, (1 + np.sqrt(gamma)) ** 2
    return np.sqrt(np.clip((hi - s) * (s - lo), 0, None)) / (2 * np.pi * gamma * s)


@pytest.mark.parametrize("gamma", [0.25, 0.7])
def test_stieltjes_transform_matches_density_integral(gamma):
    lo, hi = (1 - np.sqrt(gamma)) ** 2, (1 + np.sqrt(gamma)) ** 2
    for lam in (0.1, 1.0):
        m = integrate.quad(lambda s, lam=lam: _mp_density(s, gamma) / (s + lam), lo, hi)[0]
        dm = integrate.quad(lambda s, lam=lam: _mp_density(s, gamma) / (s + lam) ** 2, lo, hi)[0]
        assert theory.mp_stieltjes(lam, gamma) == pytest.approx(m, rel=1e-6)
        assert theory.mp_stieltjes_derivative(lam, gamma) == pytest.approx(dm, rel=1e-6)


def test_ridgeless_risk_formula():
    assert theory.ridgeless_risk(0.5, 1.0, 1.0) == pytest.approx(1.0)
    assert theory.ridgeless_risk(2.0, 1.0, 1.0) == pytest.approx(0.5 + 1.0)
    assert np.isinf(theory.ridgeless_risk(1.0, 1.0, 1.0))


def test_expected_filter_risk_matches_monte_carlo():
    rng = np.random.default_rng(3)
    n, d, r, sigma = 12, 5, 1.5, 0.8
    X = rng.standard_normal((n, d))
    s, V = np.linalg.eigh(X.T @ X / n)
    lam = 0.4
    expected = theory.expected_filter_risk(s, theory.ridge_filter(s, lam), n, r, sigma)
    draws = 200_000
    beta = rng.standard_normal((draws, d)) * r / np.sqrt(d)
    y = beta @ X.T + sigma * rng.standard_normal((draws, n))
    A = np.linalg.solve(X.T @ X / n + lam * np.eye(d), X.T / n)
    risk = np.mean(np.sum((y @ A.T - beta) ** 2, axis=1))
    assert risk == pytest.approx(expected, rel=1e-2)


def test_variance_ratio_maximum():
    x_star, ratio = theory.max_variance_ratio()
    assert ratio == pytest.approx(1.68591, abs=1e-5)
    assert x_star == pytest.approx(1.7933, abs=1e-4)
    assert theory.bias_ratio(np.linspace(1e-6, 50, 1000)).max() <= 1.0


def test_gd_gram_path_matches_gradient_descent_filter():
    """Simulated GD on many draws equals the closed form 1 − (1 − ηs)^k in the eigenbasis."""
    from implicit_reg.risk.algorithms import gd_gram_path

    rng = np.random.default_rng(3)
    for n, d in [(8, 20), (30, 6)]:
        X = rng.standard_normal((2, n, d))
        Y = rng.standard_normal((2, n, 4))
        gram = X.transpose(0, 2, 1) @ X / n
        moment = X.transpose(0, 2, 1) @ Y / n
        s, V = np.linalg.eigh(gram)
        eta = 0.3 / s.max()
        steps = np.array([0, 1, 7, 60])
        path = gd_gram_path(gram, moment, eta, steps)
        for i, k in enumerate(steps):
            phi = theory.gradient_descent_filter(s, eta, k)
            safe = s > 1e-10
            coef = np.where(safe, phi / np.where(safe, s, 1.0), 0.0)
            expected = V @ (coef[..., None] * (V.transpose(0, 2, 1) @ moment))
            np.testing.assert_allclose(path[i], expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("fraction", [0.01, 0.1, 0.3])
def test_gd_ridge_risk_bound_is_the_worst_direction(fraction):
    """The bound equals a brute-force sup over x and over every direction's ηs ≤ fraction."""
    bound = theory.gd_ridge_risk_bound(fraction)
    x = np.geomspace(1e-3, 50, 20001)
    brute = 0.0
    for h in np.linspace(1e-4, fraction, 30):
        k = x / h
        var = ((1 - (1 - h) ** k) * (1 + x) / x) ** 2
        brute = max(brute, var.max())
    assert brute <= bound * (1 + 1e-7)
    assert bound == pytest.approx(max(1.0, brute), rel=1e-5)
    assert theory.gd_ridge_risk_bound(1e-7) == pytest.approx(1.68591, abs=1e-5)


def test_gd_risk_bound_holds_for_exact_expected_risks(problem):
    """Closed-form expected risks of GD and ridge respect the per-direction bound."""
    X, _ = problem
    n = X.shape[1]
    s = np.clip(np.linalg.eigvalsh(X.transpose(0, 2, 1) @ X / n), 0, None)
    eta = 0.1 / s.max()
    steps = np.unique(np.geomspace(1, 1e5, 60).astype(int))
    k = steps[:, None, None]
    gd = theory.expected_filter_risk(
        s[None], theory.gradient_descent_filter(s[None], eta, k), n, 1.0, 1.0
    )
    ridge = theory.expected_filter_risk(
        s[None], theory.ridge_filter(s[None], 1 / (eta * k)), n, 1.0, 1.0
    )
    assert np.max(gd / ridge) <= theory.gd_ridge_risk_bound(0.1)
