"""Tests of the diagonal (F3) family: exact references, dynamics, claims on smoke."""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml

from implicit_reg.claims import family_claims
from implicit_reg.diagonal import algorithms, data, experiments
from implicit_reg.diagonal.algorithms import beta_gd_path, beta_population_gd_path, uv_gd_path
from implicit_reg.diagonal.claims import fitted_slope
from implicit_reg.diagonal.config import COSTS
from implicit_reg.diagonal.config import problems as diagonal_problems
from implicit_reg.diagonal.exact import (
    _newton_solve,
    _pseudo_solve,
    kkt_residuals,
    lemma_growth_rate,
    min_l1_interpolator,
    oracle_least_squares,
    q_alpha,
    q_alpha_limit,
    q_derivative,
    q_function,
)
from implicit_reg.diagonal.experiments import EXPERIMENTS as DIAGONAL_EXPERIMENTS
from implicit_reg.diagonal.figures import FIGURES
from implicit_reg.experiment import run_experiment, run_family
from implicit_reg.grid import grid_points
from implicit_reg.linalg import min_norm_solution
from implicit_reg.workflow.checks import config_problems
from implicit_reg.workflow.configcheck import filled_section

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
    # Small α: ‖θ_α‖₁ decreases to the ℓ1 optimum (Woodworth et al. 2020, Thm 2); the point
    # itself can approach θ_ℓ1 slowly when the LP's dual certificate has a small margin.
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
    base = 0.5 / algorithms.step_size_scale(X, theta_star, alphas)
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


@pytest.mark.parametrize("shape", [(3, 4, 9), (2, 12, 6)])
def test_cholesky_and_eigh_newton_give_the_same_limit(shape):
    X, y = tiny_problem(7, *shape)
    alphas = np.array([1e-5, 0.03, 2.0, 300.0])
    chol = q_alpha_limit(X, y, alphas, factorization="cholesky")
    eigh = q_alpha_limit(X, y, alphas, factorization="eigh")
    assert chol.converged.all() and eigh.converged.all()
    scale = np.abs(eigh.theta).max(-1, keepdims=True)
    np.testing.assert_allclose(chol.theta / scale, eigh.theta / scale, rtol=0, atol=1e-9)


def test_newton_solve_falls_back_to_the_minimum_norm_step_on_singular_members():
    rng = np.random.default_rng(8)
    A = rng.standard_normal((3, 5, 5))
    spd = A @ np.swapaxes(A, 1, 2) + 5 * np.eye(5)
    B = rng.standard_normal((5, 2))
    singular = B @ B.T  # rank 2
    matrix = np.concatenate([spd, singular[None]])
    rhs = rng.standard_normal((4, 5))
    x = _newton_solve(matrix, rhs, "cholesky")
    np.testing.assert_allclose(np.einsum("bij,bj->bi", spd, x[:3]), rhs[:3], rtol=1e-10)
    np.testing.assert_allclose(x[3], np.linalg.pinv(singular) @ rhs[3], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(x[3], _pseudo_solve(singular[None], rhs[3:])[0], rtol=1e-8)
    with pytest.raises(ValueError, match="factorization"):
        _newton_solve(matrix, rhs, "lu")


def test_beta_gd_path_tracks_the_minimum_and_the_escape_over_every_step():
    rng = np.random.default_rng(9)
    X = rng.standard_normal((2, 20, 30))
    reference = np.zeros((2, 30))
    reference[:, :2] = 1.0
    y = np.einsum("tnd,td->tn", X, reference)
    y[1] += 0.3 * rng.standard_normal(20)
    alphas = np.array([1e-2, 1e-3])
    steps = 200
    path = beta_gd_path(X, y, alphas, 0.25, np.arange(steps + 1), reference=reference)
    error = ((path.betas**2 - reference[None, :, None]) ** 2).sum(-1)  # (c, trials, m)
    np.testing.assert_allclose(path.min_error, error.min(0), rtol=1e-12)
    np.testing.assert_array_equal(path.argmin_step, error.argmin(0))
    index = path.argmin_step[..., None, None]
    at_min = np.take_along_axis(np.moveaxis(path.betas, 0, 2), index, axis=2)[..., 0, :]
    np.testing.assert_allclose(path.beta_at_min, at_min)
    off = np.abs(path.betas[..., 2:]).max(-1) > 2 * alphas
    first = np.where(off.any(0), off.argmax(0), -1)
    np.testing.assert_array_equal(path.escape_step, first)
    losses = ((np.einsum("ctmd,tnd->ctmn", path.betas**2, X) - y[None, :, None]) ** 2).sum(-1)
    np.testing.assert_allclose(path.losses, losses / 80, rtol=1e-10)
    # Per-run labels: the same result as one call per label vector.
    both = beta_gd_path(X, np.stack([y, 2 * y], axis=1), np.array([1e-2, 1e-2]), 0.25, [0, 50])
    twice = beta_gd_path(X, 2 * y, np.array([1e-2]), 0.25, [0, 50])
    np.testing.assert_allclose(both.betas[:, :, 1], twice.betas[:, :, 0], rtol=1e-13)


def test_oracle_least_squares_and_lemma_rate_against_direct_formulas():
    rng = np.random.default_rng(10)
    X, support, xi = data.support_recovery_data(rng, 3, 15, 12, 2)
    assert (support.sum(-1) == 2).all()
    y = X @ np.ones(12) + xi
    oracle = oracle_least_squares(X, y, support)
    rate = lemma_growth_rate(X, support)
    for t in range(3):
        S = np.nonzero(support[t])[0]
        expected = np.zeros(12)
        expected[S] = np.linalg.lstsq(X[t][:, S], y[t], rcond=None)[0]
        np.testing.assert_allclose(oracle[t], expected, rtol=1e-10, atol=1e-12)
        gram = X[t].T @ X[t] / 15 - np.eye(12)
        four_delta = max(np.linalg.norm(gram[j, S]) for j in range(12))
        np.testing.assert_allclose(rate[t], 2 * np.sqrt(2) * four_delta, rtol=1e-12)
        # 4δ is the smallest constant in ‖(X̂ − I)v‖∞ ≤ 4δ‖v‖₂ for v on S (the RIP bound
        # of docs/science.md §F3b): attained by
        # v = the worst row restricted to S.
        j = np.argmax([np.linalg.norm(gram[j, S]) for j in range(12)])
        v = np.zeros(12)
        v[S] = gram[j, S]
        np.testing.assert_allclose(np.abs(gram @ v).max(), four_delta * np.linalg.norm(v))


def test_fitted_slope_matches_a_least_squares_fit():
    x = np.array([0.0, 1.0, 2.0, 3.0])
    y = np.array([1.0, 3.1, 4.9, 7.0])
    slope, stderr = fitted_slope(x, y)
    coef, cov = np.polyfit(x, y, 1, cov="unscaled")
    residual = y - np.polyval(coef, x)
    np.testing.assert_allclose(slope, coef[0])
    np.testing.assert_allclose(stderr, np.sqrt(cov[0, 0] * (residual**2).sum() / 2))


def _smoke_section():
    return yaml.safe_load((ROOT / "config" / "smoke.yaml").read_text())["diagonal"]


@pytest.fixture(scope="module")
def smoke_tables():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return run_family("diagonal", _smoke_section(), seed=0)


def test_smoke_section_passes_every_claim_and_draws_figures(smoke_tables):
    claims = family_claims("diagonal", smoke_tables)
    assert len(claims) == 15
    assert {c.kind for c in claims} == {"claim", "check"}
    failed = [(c.claim_id, c.measured, c.threshold) for c in claims if not c.passed]
    assert not failed
    for name, figure in FIGURES.items():
        fig = figure(smoke_tables)
        assert fig.axes, name


def test_artifacts_recompute_the_claims_without_the_tables():
    section = _smoke_section()
    for name in ("crossover", "sparse_recovery"):
        _, arrays = run_experiment("diagonal", name, DIAGONAL_EXPERIMENTS[name], section[name], 0)
        saved = next(iter(arrays.values()))
        if name == "crossover":
            X, y, theta = saved["X"], saved["y"], saved["theta_alpha"]
            fit = np.einsum("tnd,tkd->tkn", X, theta)
            np.testing.assert_allclose(fit, np.broadcast_to(y[:, None], fit.shape), atol=1e-8)
            assert np.allclose(X @ saved["theta_l1"][..., None], y[..., None], atol=1e-8)
        else:
            theta_star = saved["support"].astype(float)
            error = ((saved["beta_at_min"] ** 2 - theta_star[:, None, None]) ** 2).sum(-1)
            rerun = beta_gd_path(
                saved["X"],
                np.einsum("tnd,td->tn", saved["X"], theta_star) + 0.5 * saved["xi"],
                saved["alphas"],
                float(saved["eta"]),
                np.array([0, int(saved["steps"])]),
                reference=theta_star,
            )
            np.testing.assert_allclose(error[:, 1], rerun.min_error, rtol=1e-10)
            np.testing.assert_allclose(saved["beta_final"][:, 1], rerun.betas[-1], rtol=1e-10)


def _sparse_claims(monkeypatch, wrapper):
    real = experiments.beta_gd_path
    monkeypatch.setattr(experiments, "beta_gd_path", lambda *a, **k: wrapper(real, *a, **k))
    spec = _smoke_section()["sparse_recovery"]
    trials, _ = run_experiment(
        "diagonal", "sparse_recovery", DIAGONAL_EXPERIMENTS["sparse_recovery"], spec, 0
    )
    return {c.claim_id: c for c in family_claims("diagonal", {"sparse_recovery": trials})}


def test_claims_fail_when_the_noise_is_dropped_from_the_labels(monkeypatch):
    """Injected bug: every run trains on the noiseless labels."""

    def clean_labels(real, X, y, alphas, eta, checkpoints, reference=None):
        return real(X, np.repeat(y[:, :1], y.shape[1], axis=1), alphas, eta, checkpoints, reference)

    claims = _sparse_claims(monkeypatch, clean_labels)
    assert not claims["recovery_error_rises_after_minimum"].passed


def test_claims_fail_when_the_initialization_ignores_alpha(monkeypatch):
    """Injected bug: every run starts from β₀ = 0.01·1 whatever α."""

    def fixed_init(real, X, y, alphas, eta, checkpoints, reference=None):
        return real(X, y, np.full_like(alphas, 1e-2), eta, checkpoints, reference)

    claims = _sparse_claims(monkeypatch, fixed_init)
    assert not claims["min_recovery_error_slope_in_alpha"].passed


def test_claims_fail_when_the_step_is_four_times_too_large(monkeypatch):
    """Injected bug: the update uses 4η while the table reports t = η·step."""

    def big_step(real, X, y, alphas, eta, checkpoints, reference=None):
        return real(X, y, alphas, 4 * eta, checkpoints, reference)

    claims = _sparse_claims(monkeypatch, big_step)
    assert not claims["off_support_below_two_alpha_until_lemma_horizon"].passed


def test_gd_claim_fails_with_a_wrong_v_update(monkeypatch):
    """Injected bug: ∇_v L computed with u in place of v (u⊙v is no longer conserved)."""
    real = algorithms.uv_gradient

    def wrong(u, v, X, y):
        gu, _, residual = real(u, v, X, y)
        return gu, -gu, residual

    monkeypatch.setattr(algorithms, "uv_gradient", wrong)
    spec = _smoke_section()["trajectories"]
    trials, _ = run_experiment(
        "diagonal", "trajectories", DIAGONAL_EXPERIMENTS["trajectories"], spec, 0
    )
    claims = {c.claim_id: c for c in family_claims("diagonal", {"trajectories": trials})}
    assert not claims["gd_limit_matches_exact_limit"].passed


# --- configuration checks: one malformed config per check --------------------------------


def _section(**changes):
    section = _smoke_section()
    for path, value in changes.items():
        experiment, *keys = path.split("__")
        node = section[experiment]
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value
    return section


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"crossover__sparsity": 500}, "diagonal.crossover.sparsity"),
        ({"crossover__grid__n_samples": [40, 100]}, "diagonal.crossover.grid.n_samples (100)"),
        (
            {"crossover__alpha_min": 10.0, "crossover__alpha_max": 1.0},
            "diagonal.crossover.alpha_min",
        ),
        ({"trajectories__grid__n_samples": [120]}, "diagonal.trajectories.grid.n_samples"),
        ({"trajectories__step_fractions": [1.5, 0.1]}, "diagonal.trajectories.step_fractions"),
        ({"trajectories__step_fractions": [0.5, 0.5]}, "two distinct values"),
        ({"sparse_recovery__grid__n_samples": [150, 400]}, "sparse_recovery.grid.n_samples (400)"),
        ({"sparse_recovery__sparsity": 500}, "diagonal.sparse_recovery.sparsity"),
        ({"sparse_recovery__grid__n_samples": [100]}, "r²·(ln d)²"),
        ({"sparse_recovery__eta": 1.0}, "diagonal.sparse_recovery.eta"),
        ({"sparse_recovery__alphas": [1e-2, 1e-2]}, "diagonal.sparse_recovery.alphas"),
    ],
)
def test_config_checks_name_the_key(changes, named):
    assert diagonal_problems(filled_section("diagonal", _smoke_section())) == []
    problems = diagonal_problems(filled_section("diagonal", _section(**changes)))
    assert any(named in p for p in problems), problems
    config = {"diagonal": filled_section("diagonal", _section(**changes))}
    assert any(named in p for p in config_problems(config))


@pytest.mark.parametrize("name", ["smoke", "config", "paper"])
def test_shipped_configs_pass_the_diagonal_checks(name):
    config = yaml.safe_load((ROOT / "config" / f"{name}.yaml").read_text())
    assert diagonal_problems(filled_section("diagonal", config["diagonal"])) == []


def test_costs_grow_with_the_sizes():
    section = filled_section("diagonal", _smoke_section())
    for name, spec in section.items():
        _, params = next(grid_points(spec))
        base = COSTS[name](params)
        assert base.memory_bytes > 8 * params["n_trials"] * params["n_features"]
        bigger = dict(params, n_features=2 * params["n_features"])
        cost = COSTS[name](bigger)
        assert cost.work > 1.5 * base.work and cost.memory_bytes > 1.5 * base.memory_bytes
