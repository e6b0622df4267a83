"""Tests of the diagonal (F3) family: exact references, dynamics, claims on smoke."""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml

import implicit_reg.diagonal as diagonal
from implicit_reg.diagonal.dynamics import beta_population_gd_path, uv_gd_path
from implicit_reg.diagonal.exact import (
    kkt_residuals,
    min_l1_interpolator,
    q_alpha,
    q_alpha_limit,
    q_derivative,
    q_function,
)
from implicit_reg.diagonal.figures import FIGURES
from implicit_reg.experiment import run_family
from implicit_reg.linalg import min_norm_solution

ROOT = Path(__file__).resolve().parents[1]


def tiny_problem(seed: int, trials: int = 3, n: int = 4, d: int = 9):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((trials, n, d))
    theta = np.zeros((trials, d))
    theta[:, :2] = [1.0, -0.5]
    return X, np.einsum("tnd,td->tn", X, theta)


def test_q_function_values_and_derivative():
    z = np.array([-50.0, -3.0, -1e-4, 0.0, 1e-6, 0.7, 4.0, 1e3])
    direct = 2 - np.sqrt(4 + z**2) + z * np.arcsinh(z / 2)
    np.testing.assert_allclose(q_function(z), direct, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(q_function(1e-6), 1e-12 / 4, rtol=1e-6)  # q ≈ z²/4 near 0
    h = 1e-6
    numeric = (q_function(z + h) - q_function(z - h)) / (2 * h)
    np.testing.assert_allclose(q_derivative(z), numeric, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(q_derivative(z), np.arcsinh(z / 2), rtol=1e-15)


def test_q_alpha_limits_l2_and_l1_scaling():
    theta = np.array([0.3, -1.2, 0.0, 2.0])
    big = 1e3
    # α → ∞: Q_α(θ) ≈ ‖θ‖²/(4α²) (q(z) ≈ z²/4).
    np.testing.assert_allclose(q_alpha(theta, big) * 4 * big**2, (theta**2).sum(), rtol=1e-6)
    # α → 0: Q_α(θ) / log(1/α²) → ‖θ‖₁.
    small = [1e-10, 1e-30, 1e-60]
    ratios = [q_alpha(theta, a) / np.log(1 / a**2) for a in small]
    errors = np.abs(np.array(ratios) - np.abs(theta).sum())
    assert np.all(np.diff(errors) < 0) and errors[-1] < 0.05 * np.abs(theta).sum()


@pytest.mark.parametrize("shape", [(3, 4, 9), (2, 12, 6)])
def test_newton_limit_kkt_and_optimality(shape):
    trials, n, d = shape
    X, y = tiny_problem(1, trials, n, d)
    alphas = np.array([1e-6, 1e-3, 0.1, 1.0, 30.0, 1e3])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sol = q_alpha_limit(X, y, alphas)
    assert sol.converged.all()
    stationarity, feasibility = kkt_residuals(X, y, sol.theta, alphas)
    assert stationarity.max() < 1e-10 and feasibility.max() < 1e-9
    if n < d:
        # Optimality: feasible perturbations along the null space do not lower Q_α.
        rng = np.random.default_rng(0)
        for t, (k, a) in itertools.product(range(trials), enumerate(alphas)):
            null = np.linalg.svd(X[t])[2][n:]
            base = q_alpha(sol.theta[t, k], a)
            for _ in range(5):
                step = 1e-3 * np.abs(sol.theta[t, k]).max() * (rng.standard_normal(d - n) @ null)
                assert q_alpha(sol.theta[t, k] + step, a) >= base * (1 - 1e-12)


def test_newton_limit_tends_to_l2_and_l1_endpoints():
    X, y = tiny_problem(2, trials=4, n=5, d=12)
    l1, l2 = min_l1_interpolator(X, y), min_norm_solution(X, y)
    theta = q_alpha_limit(X, y, np.array([1e-2, 1e-4, 1e-8, 1e-12, 1e4])).theta
    np.testing.assert_allclose(theta[:, -1], l2, rtol=1e-6, atol=1e-9)
    # Small α: ‖θ_α‖₁ decreases to the ℓ1 optimum (Remark 9.19); the point itself can
    # approach θ_ℓ1 slowly when the LP's dual certificate has a small margin.
    excess = np.abs(theta[:, :-1]).sum(-1) / np.abs(l1).sum(-1)[:, None] - 1
    assert np.all(np.diff(excess, axis=1) < 0) and excess[:, -1].max() < 1e-2
    assert excess.min() > -1e-9


def test_min_l2_is_pseudoinverse_and_interpolates():
    X, y = tiny_problem(3, trials=2, n=4, d=7)
    theta = min_norm_solution(X, y)
    np.testing.assert_allclose(np.einsum("tnd,td->tn", X, theta), y, atol=1e-10)
    for t in range(2):
        np.testing.assert_allclose(theta[t], np.linalg.lstsq(X[t], y[t], rcond=None)[0])


def test_lp_endpoint_matches_brute_force_over_vertices():
    X, y = tiny_problem(4, trials=3, n=3, d=7)
    lp = min_l1_interpolator(X, y)
    for t in range(3):
        # An LP optimum is attained at a basic solution: support of size n.
        best = np.inf
        for support in itertools.combinations(range(7), 3):
            sub = X[t][:, support]
            if abs(np.linalg.det(sub)) < 1e-10:
                continue
            best = min(best, np.abs(np.linalg.solve(sub, y[t])).sum())
        np.testing.assert_allclose(np.abs(lp[t]).sum(), best, rtol=1e-9)
        np.testing.assert_allclose(X[t] @ lp[t], y[t], atol=1e-9)


def test_gd_approaches_newton_limit_as_step_shrinks():
    X, y = tiny_problem(5, trials=2, n=4, d=9)
    alphas = np.array([0.3])
    limit = q_alpha_limit(X, y, alphas).theta[:, 0]
    theta_star = np.zeros((2, 9))
    theta_star[:, :2] = [1.0, -0.5]
    base = 0.5 / diagonal.step_size_scale(X, theta_star, alphas)
    gaps = []
    for shrink in (1.0, 0.25):
        eta = base * shrink
        steps = int(40000 / shrink)
        thetas, losses, diverged = uv_gd_path(
            X, y, np.full_like(eta, 0.3), eta, np.array([0, steps])
        )
        assert not diverged.any() and losses[-1].max() < 1e-20
        gap = np.linalg.norm(thetas[-1, :, 0] - limit, axis=-1)
        gaps.append(gap / np.linalg.norm(limit, axis=-1))
    assert np.all(gaps[1] < gaps[0]) and gaps[1].max() < 1e-2


def test_gd_records_divergence_without_warnings():
    X, y = tiny_problem(6, trials=1, n=4, d=9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, losses, diverged = uv_gd_path(
            X, y, np.array([[1.0, 1.0]]), np.array([[1e-3, 50.0]]), np.array([0, 200])
        )
    assert diverged.tolist() == [[False, True]]
    assert np.isfinite(losses).all()


def test_population_beta_gd_off_support_shrinks_and_support_converges():
    star = np.array([1.0, 1.0, 0.0, 0.0])
    path = beta_population_gd_path(star, np.array([1e-3]), 0.2, np.array([0, 10, 1000]))
    assert np.all(path[:, 0, 2:] <= 1e-3)
    np.testing.assert_allclose(path[-1, 0, :2], 1.0, rtol=1e-9)


def test_smoke_section_passes_every_claim_and_draws_figures():
    section = yaml.safe_load((ROOT / "config" / "smoke.yaml").read_text())["diagonal"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tables = run_family("diagonal", diagonal, section, seed=0)
    claims = diagonal.claims(tables)
    assert len(claims) == 12
    failed = [(c.claim_id, c.measured, c.threshold) for c in claims if not c.passed]
    assert not failed
    for name, figure in FIGURES.items():
        fig = figure(tables)
        assert fig.axes, name
