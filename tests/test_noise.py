"""Tests of the noise (F5) family: every exact reference against an independent computation,
the simulation loops on tiny seeded problems, the cross-key checks, and the claims of the
smoke configuration in memory."""

from __future__ import annotations

import copy
import itertools
import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
import scipy.integrate
import scipy.optimize
import yaml

from implicit_reg.claims import claims_table, family_claims
from implicit_reg.diagonal.algorithms import uv_gd_path
from implicit_reg.experiment import run_family
from implicit_reg.noise import approximation, exact, label_noise, ou
from implicit_reg.noise.config import COSTS
from implicit_reg.noise.figures import FIGURES
from implicit_reg.problems import random_rotation
from implicit_reg.schedule import log_checkpoints
from implicit_reg.workflow.checks import config_problems
from implicit_reg.workflow.configcheck import filled_section

ROOT = Path(__file__).resolve().parents[1]


def smoke_section() -> dict:
    return yaml.safe_load((ROOT / "config" / "smoke.yaml").read_text())["noise"]


def tiny_quadratic(d: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    h = np.geomspace(0.2, 1.0, d)
    rotation = random_rotation(rng, d)
    return h, rotation, exact.curvature_matrix(h, rotation)


# ---------------------------------------------------------------------------------------
# F5a: one dimension


def test_ou_moments_follow_their_recursions():
    """Mean and variance in closed form equal the moment recursions iterated step by step."""
    eta_a, a, sigma, x0 = np.array([0.01, 0.7, 1.3, 1.99]), 2.0, 0.5, 1.5
    eta = eta_a / a
    steps = np.arange(60)
    mean, var = np.full(eta.size, x0), np.zeros(eta.size)
    means, variances = [], []
    for _ in steps:
        means.append(mean.copy())
        variances.append(var.copy())
        mean = (1 - eta * a) * mean
        var = (1 - eta * a) ** 2 * var + eta**2 * sigma**2
    np.testing.assert_allclose(exact.ou_mean(x0, eta_a, steps), np.array(means).T, rtol=1e-12)
    np.testing.assert_allclose(
        exact.ou_variance(eta, a, sigma, steps), np.array(variances).T, rtol=1e-10, atol=1e-15
    )
    # Far along, the recursion's fixed point.
    for _ in range(200000):
        var = (1 - eta * a) ** 2 * var + eta**2 * sigma**2
    np.testing.assert_allclose(exact.ou_stationary_variance(eta, a, sigma), var, rtol=1e-6)


def test_sde_variance_is_the_continuous_ou_integral():
    """ησ²/(2a) = ∫₀^∞ e^{−2as} ησ² ds, the stationary variance of dX = −aX dt + √η σ dW."""
    eta, a, sigma = 0.3, 1.7, 0.8
    integral, _ = scipy.integrate.quad(lambda s: np.exp(-2 * a * s) * eta * sigma**2, 0, np.inf)
    np.testing.assert_allclose(exact.ou_sde_variance(eta, a, sigma), integral, rtol=1e-10)
    ratio = exact.ou_stationary_variance(eta, a, sigma) / exact.ou_sde_variance(eta, a, sigma)
    np.testing.assert_allclose(ratio, 2 / (2 - eta * a), rtol=1e-14)


def test_ou_autocorrelation_alternates_and_matches_stationary_covariances():
    """(1 − ηa)^τ from the stationary joint law, built as an AR(1) covariance matrix."""
    eta_a = np.array([0.4, 1.5])
    lags = np.arange(6)
    corr = exact.ou_autocorrelation(eta_a, lags)
    for row, c in zip(corr, 1 - eta_a, strict=True):
        # Cov(x_k, x_{k+τ}) of a stationary AR(1): solve the Yule–Walker system for the
        # first lags numerically and normalize.
        gamma = np.linalg.solve(
            np.eye(len(lags)) - np.diag(np.full(len(lags) - 1, c), -1),
            np.r_[1.0, np.zeros(len(lags) - 1)],
        )
        np.testing.assert_allclose(row, gamma / gamma[0], rtol=1e-12)
    assert corr[1, 1] < 0 < corr[1, 2]


def test_scalar_chains_match_exact_moments():
    """A small seeded simulation against the closed forms (tolerances: 5 standard errors)."""
    eta_a = np.array([0.2, 1.0, 1.8])
    checkpoints = log_checkpoints(200, 10)
    sim = ou.scalar_chains(
        eta_a, 1.0, 1.0, 2.0, 4, 5000, checkpoints, 100, 4, np.random.default_rng(3)
    )
    exact_var = exact.ou_variance(eta_a, 1.0, 1.0, checkpoints)
    pooled = sim.variances.mean(-1)
    mask = exact_var > 0.05 * exact.ou_stationary_variance(eta_a, 1.0, 1.0)[:, None]
    se = np.sqrt(2 / 20000)
    assert np.max(np.abs(pooled[mask] / exact_var[mask] - 1)) < 5 * se
    np.testing.assert_allclose(
        sim.means.mean(-1)[:, :2],
        exact.ou_mean(2.0, eta_a, checkpoints[:2]),
        atol=5 * np.sqrt(exact_var.max() / 20000),
    )
    autocorr = sim.autocovariance.mean(1) / sim.autocovariance.mean(1)[:, :1]
    np.testing.assert_allclose(autocorr, exact.ou_autocorrelation(eta_a, np.arange(5)), atol=0.02)
    assert sim.n_blocks == (200 - 4 - 100) // 5 + 1


# ---------------------------------------------------------------------------------------
# F5a: quadratics


def test_lyapunov_covariance_is_the_fixed_point_series():
    """S = Σ_k A^k η²Σ A^k (the series of the recursion), summed independently."""
    h, rotation, H = tiny_quadratic(4)
    eta = 0.9
    noise_cov = np.diag([1.0, 2.0, 0.5, 1.5])
    A = np.eye(4) - eta * H
    series, term = np.zeros((4, 4)), eta**2 * noise_cov
    for _ in range(5000):
        series += term
        term = A @ term @ A
    np.testing.assert_allclose(exact.lyapunov_covariance(H, eta, noise_cov), series, rtol=1e-10)

    # Closed forms along eigen-directions for σ²I and σ²H.
    def along(S):
        return np.einsum("di,de,ei->i", rotation, S, rotation)

    S_iso = exact.lyapunov_covariance(H, eta, 0.7**2 * np.eye(4))
    np.testing.assert_allclose(
        along(S_iso), exact.isotropic_eigen_variance(h, eta, 0.7), rtol=1e-12
    )
    S_curv = exact.lyapunov_covariance(H, eta, 0.3 * H)
    np.testing.assert_allclose(
        along(S_curv), exact.curvature_eigen_variance(h, eta, 0.3), rtol=1e-12
    )


def _gauss_hermite_expectation(H_root: np.ndarray, function, points: int = 8):
    """E f(x), x = H^{1/2}z, z ~ N(0, I_2), by a tensor Gauss–Hermite rule (exact for
    polynomials of degree < 2·points)."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(points)
    weights = weights / weights.sum()
    total = 0.0
    for (z1, w1), (z2, w2) in itertools.product(zip(nodes, weights, strict=True), repeat=2):
        total = total + w1 * w2 * function(H_root @ np.array([z1, z2]))
    return total


def test_streaming_second_moment_operator_by_quadrature():
    """E[(I − ηxxᵀ)M(I − ηxxᵀ)] for x ~ N(0, H), computed by quadrature (no Isserlis)."""
    h, rotation, H = tiny_quadratic(2, seed=5)
    root = exact.curvature_matrix(np.sqrt(h), rotation)
    eta = 0.37
    M = np.array([[1.3, -0.4], [-0.4, 0.6]])

    def step(x):
        P = np.eye(2) - eta * np.outer(x, x)
        return P @ M @ P

    expected = _gauss_hermite_expectation(root, step)
    operator = exact.second_moment_operator(H, eta, streaming=True)
    np.testing.assert_allclose((operator @ M.ravel()).reshape(2, 2), expected, rtol=1e-12)


def test_streaming_covariance_closed_form_and_step_limit():
    h, rotation, H = tiny_quadratic(5, seed=1)
    limit = exact.streaming_step_limit(h)
    assert limit < 2.0 / h.sum() < 2.0 / h.max()
    # The spectral radius of the d²×d² operator crosses 1 at the limit (bisection).
    lo, hi = 1e-6, 1.0 / h.max()
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if exact.spectral_radius(H, mid, True) < 1 else (lo, mid)
    np.testing.assert_allclose(limit, lo, rtol=1e-9)
    eta = 0.6 * limit
    S = exact.streaming_covariance(H, eta, 0.8)
    along = np.einsum("di,de,ei->i", rotation, S, rotation)
    np.testing.assert_allclose(along, exact.streaming_eigen_variance(h, eta, 0.8), rtol=1e-10)
    # S is the fixed point of the (stable) second-moment recursion started anywhere.
    _, covs = exact.second_moment_path(H, eta, 0.64 * H, True, np.ones(5), np.array([20000]))
    np.testing.assert_allclose(covs[-1], S, rtol=1e-8, atol=1e-12)
    assert np.all(np.linalg.eigvalsh(S) > 0)


def test_second_moment_path_constant_noise_closed_form():
    """Cov_k = S − A^k S A^k from a deterministic start (constant noise)."""
    h, _, H = tiny_quadratic(3, seed=2)
    eta, noise_cov = 0.5, 0.4 * np.eye(3)
    S = exact.lyapunov_covariance(H, eta, noise_cov)
    x0 = np.array([1.0, -2.0, 0.5])
    checkpoints = np.array([0, 1, 7, 40])
    means, covs = exact.second_moment_path(H, eta, noise_cov, False, x0, checkpoints)
    A = np.eye(3) - eta * H
    for k, mean, cov in zip(checkpoints, means, covs, strict=True):
        Ak = np.linalg.matrix_power(A, int(k))
        np.testing.assert_allclose(mean, Ak @ x0, rtol=1e-12)
        np.testing.assert_allclose(cov, S - Ak @ S @ Ak, rtol=1e-9, atol=1e-12)


def test_quadratic_chains_match_exact_covariances_and_flag_divergence():
    """A long seeded simulation against the exact S of each shape (5% tolerance)."""
    h, rotation, H = tiny_quadratic(3, seed=4)
    root = exact.curvature_matrix(np.sqrt(h), rotation)
    limit = exact.streaming_step_limit(h)
    shapes = ["isotropic", "curvature", "streaming", "streaming"]
    etas = np.array([0.5, 0.5, 0.5 * limit, 1.5])  # the last: beyond the limit, near 2/λ_max
    sim = ou.quadratic_chains(
        H,
        root,
        shapes,
        etas,
        1.0,
        np.zeros(3),
        4,
        250,
        log_checkpoints(1500, 6),
        300,
        2,
        np.random.default_rng(11),
    )
    references = [
        exact.lyapunov_covariance(H, 0.5, np.eye(3)),
        exact.lyapunov_covariance(H, 0.5, H),
        exact.streaming_covariance(H, etas[2], 1.0),
    ]
    for i, S in enumerate(references):
        pooled = sim.stationary_covariance[i].mean(0)
        assert np.linalg.norm(pooled - S) / np.linalg.norm(S) < 0.05, shapes[i]
    assert not sim.diverged[:3].any()
    assert sim.diverged[3].all()
    assert np.isnan(sim.stationary_covariance[3]).all()


# ---------------------------------------------------------------------------------------
# F5b


def test_dropout_expected_loss_by_enumerating_masks_and_minimizer_by_scipy():
    rng = np.random.default_rng(0)
    n, d, p = 7, 4, 0.6
    X, y = rng.standard_normal((1, n, d)), rng.standard_normal((1, n))
    beta = rng.standard_normal((1, d))
    # Exact expectation over the 2^d masks of the inverted-dropout loss.
    expected = 0.0
    for mask in itertools.product([0, 1], repeat=d):
        m = np.array(mask, float)
        weight = np.prod(np.where(m == 1, p, 1 - p))
        residual = y[0] - X[0] @ (m * beta[0] / p)
        expected += weight * (residual @ residual) / (2 * n)
    np.testing.assert_allclose(exact.dropout_expected_loss(X, y, beta, p)[0], expected, rtol=1e-12)
    result = scipy.optimize.minimize(
        lambda b: exact.dropout_expected_loss(X, y, b[None], p)[0],
        np.zeros(d),
        method="BFGS",
        options={"gtol": 1e-12},
    )
    np.testing.assert_allclose(exact.dropout_minimizer(X, y, p)[0], result.x, rtol=1e-6, atol=1e-8)
    # p = 1 is ordinary least squares.
    np.testing.assert_allclose(
        exact.dropout_minimizer(X, y, 1.0)[0],
        np.linalg.lstsq(X[0], y[0], rcond=None)[0],
        rtol=1e-10,
    )


def test_dropout_sgd_without_dropout_is_gd_to_least_squares():
    """p = 1 draws no masks: Robbins–Monro GD on least squares reaches the OLS solution."""
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((2, 30, 5)), rng.standard_normal((2, 30))
    path = approximation.dropout_sgd(
        X, y, np.array([1.0]), np.full((2, 1), 0.3), 1e9, np.array([0, 3000]), rng
    )
    ols = exact.dropout_minimizer(X, y, 1.0)
    np.testing.assert_allclose(path.last[-1, :, 0], ols, rtol=1e-8)
    assert not path.diverged.any()


def test_soft_threshold_is_the_penalized_minimum_per_coordinate():
    """Minimize ½(w* − ab)² + (λ/2)(a² + b²) numerically for scalar w*: the product is soft."""
    lam = 0.3
    for w_star in (-1.2, -0.1, 0.25, 0.9):

        def penalized(w, target=w_star):
            return 0.5 * (target - w[0] * w[1]) ** 2 + lam / 2 * (w @ w)

        runs = [
            scipy.optimize.minimize(penalized, start, method="BFGS", options={"gtol": 1e-12})
            for start in ([0.5, 0.6], [-0.7, 0.4])
        ]
        best = min(runs, key=lambda r: r.fun)
        np.testing.assert_allclose(
            best.x[0] * best.x[1], exact.soft_threshold(w_star, lam), atol=1e-7
        )


def test_penalized_gd_reaches_soft_threshold_and_tracks_imbalance():
    rng = np.random.default_rng(2)
    w_star = np.linspace(-1.5, 1.5, 8)
    w1, w2 = 0.1 * rng.standard_normal((3, 8)), 0.1 * rng.standard_normal((3, 8))
    eta, alpha = 0.6, 0.1
    path = approximation.factorization_gd(
        w_star,
        w1,
        w2,
        alpha,
        eta**2,
        np.array([0, 1, 10, 8000]),
        track_imbalance=True,
    )
    np.testing.assert_allclose(
        path.products[-1], np.broadcast_to(exact.soft_threshold(w_star, eta**2), (3, 8)), atol=1e-10
    )
    # One GD step by hand multiplies D by the factor.
    r = w_star - w1 * w2
    a, b = (1 - alpha * eta**2) * w1 + alpha * r * w2, (1 - alpha * eta**2) * w2 + alpha * r * w1
    np.testing.assert_allclose(
        a * a - b * b, exact.imbalance_factor(r, alpha, eta) * (w1**2 - w2**2), rtol=1e-12
    )
    np.testing.assert_allclose(path.tracked[:3], path.imbalance[:3], rtol=1e-9)


def test_imbalance_flow_against_an_ode_solver():
    """D(t) = e^{−2η²t}D(0) along the penalized gradient flow, integrated by solve_ivp."""
    w_star, eta = np.array([1.0, -0.2, 0.5]), 0.4

    def flow(_, w):
        w1, w2 = w[:3], w[3:]
        r = w_star - w1 * w2
        return np.r_[r * w2 - eta**2 * w1, r * w1 - eta**2 * w2]

    w0 = np.array([0.3, -0.1, 0.2, 0.1, 0.25, -0.3])
    t = np.array([0.0, 0.5, 2.0, 6.0])
    solution = scipy.integrate.solve_ivp(flow, (0, 6), w0, t_eval=t, rtol=1e-12, atol=1e-14)
    d = solution.y[:3] ** 2 - solution.y[3:] ** 2
    np.testing.assert_allclose(exact.imbalance_flow(d[:, 0], eta, t), d.T, rtol=1e-8)


def test_noise_injection_without_noise_is_gd_with_decaying_steps():
    rng = np.random.default_rng(3)
    w_star = np.array([1.0, -0.5, 0.8])
    w1, w2 = np.full((1, 3), 0.3), np.full((1, 3), 0.2)
    path = approximation.noise_injection(w_star, w1, w2, 0.0, 0.1, 1e9, np.array([0, 4000]), rng)
    np.testing.assert_allclose(path.last_products[-1, 0], w_star, rtol=1e-9)


# ---------------------------------------------------------------------------------------
# F5c


def test_product_factor_is_one_step_and_trace_hessian_by_finite_differences():
    rng = np.random.default_rng(4)
    n, d = 3, 5
    X = rng.standard_normal((n, d))
    u, v = rng.uniform(0.5, 1.0, d), rng.uniform(0.5, 1.0, d)
    y = X @ (u * u - v * v)  # (u, v) interpolates

    def loss(w):
        return ((X @ (w[:d] ** 2 - w[d:] ** 2) - y) ** 2).sum() / (2 * n)

    w, h = np.r_[u, v], 1e-4
    trace = sum((loss(w + h * e) - 2 * loss(w) + loss(w - h * e)) / h**2 for e in np.eye(2 * d))
    np.testing.assert_allclose(exact.trace_hessian(u, v, (X**2).sum(0) / n), trace, rtol=1e-6)
    g, eta = rng.standard_normal(d), 0.05
    np.testing.assert_allclose(
        (u * (1 - 2 * eta * g)) * (v * (1 + 2 * eta * g)),
        u * v * exact.product_factor(g, eta),
        rtol=1e-14,
    )


def test_sgd_on_one_sample_matches_the_update_by_hand():
    """With n = 1 the row is always the same: the loop is the deterministic recursion."""
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((2, 1, 4)), rng.standard_normal((2, 1))
    u0, v0 = np.full((2, 4), 0.8), np.full((2, 4), 0.6)
    eta, steps = 0.01, 150
    path = label_noise.sgd_uv(
        X, y, u0, v0, eta, np.zeros(2), np.array([0, steps]), rng, track_products=True
    )
    u, v, product = u0.copy(), v0.copy(), u0 * v0
    for _ in range(steps):
        g = X[:, 0] * (np.einsum("td,td->t", X[:, 0], u * u - v * v) - y[:, 0])[:, None]
        u, v = u * (1 - 2 * eta * g), v * (1 + 2 * eta * g)
        product = product * exact.product_factor(g, eta)
    np.testing.assert_allclose(path.u[-1], u, rtol=1e-12)
    np.testing.assert_allclose(path.v[-1], v, rtol=1e-12)
    np.testing.assert_allclose(path.tracked_products[-1], product, rtol=1e-12)
    np.testing.assert_allclose(path.tracked_products[-1], u * v, rtol=1e-11)


def numpy_sgd_uv(X, y, u, v, eta, label_noise_levels, checkpoints, rng):
    """Batch-1 SGD on u⊙u − v⊙v step by step in numpy, drawing rows and then label signs
    ``label_noise.CHUNK`` steps at a time (restarting at each checkpoint) and checking
    divergence after each chunk: the stream and the arithmetic of `label_noise.sgd_uv`."""
    n_runs, n, _ = X.shape
    u, v, runs = np.array(u, float), np.array(v, float), np.arange(n_runs)
    out_u, out_v, step = [], [], 0
    for stop in checkpoints:
        while step < stop:
            m = min(label_noise.CHUNK, int(stop) - step)
            rows = rng.integers(0, n, size=(m, n_runs))
            signs = 2.0 * rng.integers(0, 2, size=(m, n_runs)) - 1.0
            for j in range(m):
                x = X[runs, rows[j]]
                labels = y[runs, rows[j]] + label_noise_levels * signs[j]
                with np.errstate(over="ignore", invalid="ignore"):
                    residual = np.einsum("rd,rd->r", x, u * u - v * v) - labels
                    kick = -2.0 * eta * x * residual[:, None]
                    u, v = u * (1.0 + kick), v * (1.0 - kick)
            step += m
            bad = ~((np.abs(u) <= 1e100) & (np.abs(v) <= 1e100)).all(-1)
            u[bad], v[bad] = np.nan, np.nan
        out_u.append(u.copy())
        out_v.append(v.copy())
    return np.array(out_u), np.array(out_v)


def test_sgd_uv_takes_the_numpy_loops_steps_on_the_same_stream():
    """Several chunks, a checkpoint inside a chunk, clean and noisy labels, one run that
    diverges: the compiled loop and a numpy loop drawing the same stream agree to rounding."""
    rng = np.random.default_rng(11)
    X, y = rng.standard_normal((3, 7, 10)), rng.standard_normal((3, 7))
    u0 = np.full((3, 10), 0.9)
    levels, checkpoints = np.array([0.0, 1.5, 30.0]), np.array([0, 5, 100, 300])
    path = label_noise.sgd_uv(X, y, u0, u0, 0.02, levels, checkpoints, np.random.default_rng(3))
    u, v = numpy_sgd_uv(X, y, u0, u0, 0.02, levels, checkpoints, np.random.default_rng(3))
    assert path.diverged.tolist() == [False, False, True]
    np.testing.assert_allclose(path.u, u, rtol=1e-11, atol=0)
    np.testing.assert_allclose(path.v, v, rtol=1e-11, atol=0)


def test_compiled_uv_kernels_compute_what_their_python_twins_compute():
    """The compiled SGD and GD kernels and their interpreted ``py_func``: equal bit for bit."""
    rng = np.random.default_rng(12)
    X, y = rng.standard_normal((2, 5, 11)), rng.standard_normal((2, 5))
    rows = rng.integers(0, 5, size=(150, 2))
    signs = 2.0 * rng.integers(0, 2, size=(150, 2)) - 1.0
    outputs = []
    for kernel in (label_noise.sgd_uv_steps, label_noise.sgd_uv_steps.py_func):
        u, v = np.full((2, 11), 0.7), np.full((2, 11), 0.6)
        tracked = u * v
        kernel(X, y, u, v, tracked, 0.01, np.array([0.0, 2.0]), rows, signs, 64, True, 1e100)
        outputs.append((u, v, tracked))
    for kernel in (label_noise.gd_uv_steps, label_noise.gd_uv_steps.py_func):
        u, v = np.full((2, 3, 11), 0.7), np.full((2, 3, 11), 0.5)
        tracked = u * v
        kernel(X, y, u, v, tracked, np.full((2, 3), 0.01), 40, True)
        outputs.append((u, v, tracked))
    for compiled_run, python_run in (outputs[:2], outputs[2:]):
        for a, b in zip(compiled_run, python_run, strict=True):
            np.testing.assert_array_equal(a, b)
    a, b = rng.standard_normal(21), rng.standard_normal(21)
    assert label_noise.dot(a, b) == label_noise.dot.py_func(a, b)
    np.testing.assert_allclose(label_noise.dot(a, b), a @ b, rtol=1e-13)


def test_gd_uv_matches_the_diagonal_family_gd():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((2, 6, 9))
    y = X[..., :2].sum(-1)
    alphas, etas = np.array([[0.5], [1.0]]), np.array([[0.01], [0.005]])
    checkpoints = np.array([0, 10, 300])
    start = np.broadcast_to(alphas[..., None], (2, 1, 9))
    path = label_noise.gd_uv(X, y, start, start, etas, checkpoints, track_products=True)
    thetas, _, _ = uv_gd_path(X, y, alphas, etas, checkpoints)
    np.testing.assert_allclose(path.u**2 - path.v**2, thetas, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(path.tracked_products, path.u * path.v, rtol=1e-11)


def test_rich_trace_hessian_is_the_limit_of_vanishing_products():
    rng = np.random.default_rng(3)
    theta, norms = rng.standard_normal(7), rng.random(7) + 0.5
    product = 1e-9
    # u² − v² = θ, uv = p: u² + v² = √(θ² + 4p²).
    total = np.sqrt(theta**2 + 4 * product**2)
    u, v = np.sqrt((total + theta) / 2), np.sqrt((total - theta) / 2)
    np.testing.assert_allclose(
        exact.trace_hessian(u, v, norms), exact.rich_trace_hessian(theta, norms), rtol=1e-12
    )


def test_label_noise_product_decay_matches_pure_label_noise_steps():
    # With zero residual every gradient is −δε x_i: −mean_j log(u_j v_j) falls by
    # −mean_j log(1 − 4η²δ²x_ij²) per step, 4η²δ²‖X_j‖²/n on average to first order.
    rng = np.random.default_rng(4)
    X = rng.standard_normal((50, 6))
    eta, delta = 1e-3, 2.0
    steps = -np.log1p(-4 * eta**2 * delta**2 * X**2).mean()
    rate = exact.label_noise_product_decay(eta, delta, (X**2).mean(0))
    assert steps == pytest.approx(rate, rel=1e-4)


# ---------------------------------------------------------------------------------------
# Configuration and the smoke section


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        ("ou.scalar.burn_in", 299, "noise.ou.scalar.burn_in"),
        ("ou.quadratic.eig_min", 2.0, "noise.ou.quadratic.eig_min"),
        ("ou.quadratic.step_sizes", [0.25, 2.5], "noise.ou.quadratic.step_sizes"),
        ("ou.quadratic.burn_in", 1100, "noise.ou.quadratic.burn_in"),
        (
            "stochastic_approximation.dropout.n_features",
            100,
            "noise.stochastic_approximation.dropout.n_samples",
        ),
        (
            "stochastic_approximation.factorization.noise_scale",
            1.5,
            "noise.stochastic_approximation.factorization.noise_scale",
        ),
        (
            "stochastic_approximation.factorization.gd_step",
            0.6,
            "noise.stochastic_approximation.factorization.gd_step",
        ),
        (
            "stochastic_approximation.factorization.imbalance_steps",
            [0.6],
            "noise.stochastic_approximation.factorization.imbalance_steps",
        ),
        ("label_noise.n_samples", 60, "noise.label_noise"),
    ],
)
def test_cross_key_checks_name_the_key(path, value, named):
    section = smoke_section()
    node = section
    *parents, last = path.split(".")
    for key in parents:
        node = node[key]
    node[last] = value
    problems = config_problems({"noise": filled_section("noise", section)})
    assert any(named in p for p in problems), problems


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        ("ou.scalar.eta_a", [0.5, 2.0], "eta_a"),
        ("ou.scalar.eta_a", [0.0], "eta_a"),
        ("stochastic_approximation.dropout.keep_probs", [0.5, 1.5], "keep_probs"),
        ("stochastic_approximation.dropout.keep_probs", [0.0], "keep_probs"),
        ("ou.quadratic.noise_shapes", ["gaussian"], "noise_shapes"),
        ("label_noise.eta", -0.1, "eta"),
        ("label_noise.n_steps", 50, "n_steps"),
        ("ou.scalar.n_chains", 1, "n_chains"),
    ],
)
def test_schema_rejects_out_of_range_values_naming_the_key(path, value, named):
    from implicit_reg.workflow.checks import ConfigError
    from implicit_reg.workflow.configcheck import check_config_and_fill

    config = yaml.safe_load((ROOT / "config" / "smoke.yaml").read_text())
    node = config["noise"]
    *parents, last = path.split(".")
    for key in parents:
        node = node[key]
    node[last] = value
    with pytest.raises(ConfigError, match=rf"noise\.{re.escape(path)}"):
        check_config_and_fill(config)


def test_shipped_sections_pass_the_checks_and_have_costs():
    for name in ("config", "smoke", "paper"):
        from implicit_reg.workflow.configcheck import check_config_and_fill

        config = check_config_and_fill(
            yaml.safe_load((ROOT / "config" / f"{name}.yaml").read_text())
        )
        assert config_problems({"noise": config["noise"]}) == []
        for experiment, cost in COSTS.items():
            estimate = cost(config["noise"][experiment])
            assert estimate.memory_bytes > 0 and estimate.work > 0


@pytest.fixture(scope="module")
def smoke_tables():
    return run_family("noise", copy.deepcopy(smoke_section()), seed=7)


def test_smoke_claims_all_pass(smoke_tables):
    table = claims_table(family_claims("noise", smoke_tables))
    assert len(table) == 28
    assert table.passed.all(), table.loc[~table.passed, ["claim_id", "measured", "threshold"]]
    assert set(table.kind) == {"claim", "check"}


def test_smoke_tables_record_the_diverged_streaming_runs(smoke_tables):
    stationary = smoke_tables["ou"][smoke_tables["ou"]["section"] == "quadratic_stationary"]
    streaming = stationary[stationary["noise_shape"] == "streaming"]
    limit = float(streaming["step_limit"].iloc[0])
    assert (streaming["diverged"] == (streaming["eta"] > limit)).all()
    assert not stationary[stationary["noise_shape"] != "streaming"]["diverged"].any()


def test_every_figure_draws_from_the_smoke_tables(smoke_tables):
    captions = {p.stem for p in (ROOT / "workflow" / "report" / "noise").glob("*.rst")}
    assert captions == set(FIGURES)
    for name, draw in FIGURES.items():
        fig = draw(smoke_tables)
        assert fig.axes, name
        plt.close(fig)


def test_claims_tolerate_every_quadratic_run_diverging():
    """Streaming SGD with every step above its stability limit: the runs are recorded as
    diverged (§F5a), the claims are computed without error and the divergence claim holds."""
    section = copy.deepcopy(smoke_section()["ou"])
    section["quadratic"].update(noise_shapes=["streaming"], step_sizes=[0.8, 1.0], n_steps=400)
    tables = run_family("noise", {"ou": section}, 7)
    claims = {c.claim_id: c for c in family_claims("noise", tables)}
    assert claims["quadratic_divergence_matches_stability_edge"].passed
    assert "quadratic_covariance_matches_exact" not in claims
    quadratic = tables["ou"][tables["ou"]["section"] == "quadratic_stationary"]
    assert quadratic["diverged"].all()


def test_compiled_factorization_kernels_compute_what_their_python_twins_compute():
    """GD (tracking D) and noise injection on w₂⊙w₁, compiled and interpreted: bit for bit."""
    rng = np.random.default_rng(13)
    w_star = np.broadcast_to(np.linspace(-1.0, 1.0, 6), (2, 6)).copy()
    start = 0.1 * rng.standard_normal((2, 2, 6))
    noise = rng.standard_normal((40, 2, 2, 6))
    steps = approximation.robbins_monro(0.05, np.arange(40), 10.0)
    outputs = []
    for kernel in (
        approximation.factorization_gd_steps,
        approximation.factorization_gd_steps.py_func,
    ):
        w1, w2 = start[0].copy(), start[1].copy()
        tracked = w1 * w1 - w2 * w2
        kernel(w_star, w1, w2, tracked, 0.1, 0.25, 50, True)
        outputs.append((w1, w2, tracked))
    for kernel in (
        approximation.noise_injection_steps,
        approximation.noise_injection_steps.py_func,
    ):
        w1, w2 = start[0].copy(), start[1].copy()
        average = w1 * w2
        kernel(w_star, w1, w2, average, noise, 0.5, steps, 0)
        outputs.append((w1, w2, average))
    for compiled_run, python_run in (outputs[:2], outputs[2:]):
        for a, b in zip(compiled_run, python_run, strict=True):
            np.testing.assert_array_equal(a, b)
