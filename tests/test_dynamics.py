"""Tests of the dynamics (F6) family: derivatives, exact references, limits, checks, claims."""

from __future__ import annotations

import copy
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.linalg import expm

from implicit_reg.claims import family_claims
from implicit_reg.dynamics import exact, factorization, linear_nets, network
from implicit_reg.dynamics.claims import crossing_time, loglog_fit
from implicit_reg.dynamics.config import COSTS
from implicit_reg.dynamics.experiments import EXPERIMENTS as DYNAMICS_EXPERIMENTS
from implicit_reg.dynamics.experiments import factorization_step
from implicit_reg.dynamics.figures import FIGURES
from implicit_reg.experiment import run_family
from implicit_reg.grid import grid_points
from implicit_reg.problems import random_rotation
from implicit_reg.workflow.checks import ConfigError
from implicit_reg.workflow.configcheck import check_config_and_fill, filled_section

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"


def load(name: str) -> dict:
    return yaml.safe_load((ROOT / "config" / name).read_text())


def central_differences(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """∂f/∂x_k for every coordinate of x (trials, p); f maps (trials, p) to (trials, q)."""
    columns = []
    for k in range(x.shape[1]):
        step = np.zeros_like(x)
        step[:, k] = h
        columns.append((f(x + step) - f(x - step)) / (2 * h))
    return np.stack(columns, axis=-1)


# ---------------------------------------------------------------------------------------
# F6c: the network's analytic derivatives


@pytest.fixture
def tiny_network():
    rng = np.random.default_rng(3)
    trials, n, m, d = 2, 5, 7, 3
    W = rng.standard_normal((trials, m, d))
    a = rng.choice([-1.0, 1.0], size=(trials, m)) * rng.uniform(0.5, 1.5, (trials, m))
    X = rng.standard_normal((trials, n, d))
    y = rng.standard_normal((trials, n))
    return W, a, X, y


def test_jacobian_matches_finite_differences(tiny_network):
    W, a, X, _ = tiny_network
    trials, m, d = W.shape
    theta = np.concatenate([W.reshape(trials, -1), a], axis=1)

    def outputs(t):
        return network.forward(t[:, : m * d].reshape(trials, m, d), t[:, m * d :], X)

    numeric = central_differences(outputs, theta)
    np.testing.assert_allclose(network.jacobian(W, a, X), numeric, rtol=1e-6, atol=1e-9)


def test_kernel_and_gradient_are_built_from_the_jacobian(tiny_network, monkeypatch):
    W, a, X, y = tiny_network
    J = network.jacobian(W, a, X)
    X2 = X[:, :3] * 0.5
    J2 = network.jacobian(W, a, X2)
    expected = J2 @ np.swapaxes(J, 1, 2)
    np.testing.assert_allclose(
        network.tangent_kernel(W, a, X2, X), expected, rtol=1e-12, atol=1e-14
    )
    # Blocks of neurons (wide networks) give the same kernel and outputs.
    monkeypatch.setattr(network, "NEURON_BLOCK", 3)
    np.testing.assert_allclose(
        network.tangent_kernel(W, a, X2, X), expected, rtol=1e-12, atol=1e-14
    )
    outputs = network.forward(W, a, X)
    blocked = network.loss_gradient(W, a, X, y)
    monkeypatch.undo()
    np.testing.assert_allclose(outputs, network.forward(W, a, X), rtol=1e-13)
    for grad_W, grad_a, residual in (network.loss_gradient(W, a, X, y), blocked):
        np.testing.assert_allclose(residual, network.forward(W, a, X) - y, rtol=1e-13)
        flat = np.concatenate([grad_W.reshape(W.shape[0], -1), grad_a], axis=1)
        np.testing.assert_allclose(
            flat, np.einsum("tnp,tn->tp", J, residual) / X.shape[1], rtol=1e-12, atol=1e-15
        )


def test_linearized_outputs_match_the_linear_model_trained_directly(tiny_network):
    """GD on f(θ₀) + J₀(θ − θ₀) iterated in parameter space vs the eigendecomposition."""
    W, a, X, y = tiny_network
    n = X.shape[1]
    X_test = X[:, :2] + 0.3
    J, J_test = network.jacobian(W, a, X), network.jacobian(W, a, X_test)
    f0, f0_test = network.forward(W, a, X), network.forward(W, a, X_test)
    K = network.tangent_kernel(W, a, X, X)
    cross = network.tangent_kernel(W, a, X_test, X)
    eta = 0.4 * n / np.linalg.eigvalsh(K)[:, -1]
    steps = np.array([0, 1, 5, 40])
    delta = np.zeros((W.shape[0], J.shape[2]))
    direct_train, direct_test = [], []
    for k in range(steps[-1] + 1):
        if k in steps:
            direct_train.append(f0 + np.einsum("tnp,tp->tn", J, delta))
            direct_test.append(f0_test + np.einsum("tnp,tp->tn", J_test, delta))
        residual = f0 + np.einsum("tnp,tp->tn", J, delta) - y
        delta = delta - eta[:, None] * np.einsum("tnp,tn->tp", J, residual) / n
    train = exact.linearized_outputs(K, K, f0, f0 - y, steps, n, eta)
    test = exact.linearized_outputs(K, cross, f0_test, f0 - y, steps, n, eta)
    np.testing.assert_allclose(train, np.array(direct_train), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(test, np.array(direct_test), rtol=1e-9, atol=1e-11)
    # Gradient flow: the training residual is e^{−Kt/n} e₀ (matrix exponential).
    times = np.array([0.0, 0.7, 3.0])
    flow = exact.linearized_outputs(K, K, f0, f0 - y, times, n)
    for i, t in enumerate(times):
        for trial in range(W.shape[0]):
            expected = y[trial] + expm(-K[trial] * t / n) @ (f0 - y)[trial]
            np.testing.assert_allclose(flow[i, trial], expected, rtol=1e-9, atol=1e-11)


def test_network_gd_follows_its_linearization_when_wide():
    """At width 4096 the GD path stays within a few 1e-3 of the linearized GD path."""
    rng = np.random.default_rng(5)
    n, d, m = 10, 4, 4096
    X = rng.standard_normal((1, n, d))
    X /= np.linalg.norm(X, axis=2, keepdims=True)
    y = np.sin(2 * X[..., 0])
    W, a = rng.standard_normal((1, m, d)), rng.choice([-1.0, 1.0], size=(1, m))
    K = network.tangent_kernel(W, a, X, X)
    eta = 0.5 * n / np.linalg.eigvalsh(K)[:, -1]
    steps = np.array([0, 10, 100])
    path = network.gd_path(W, a, X, y, X[:, :2], eta, steps)
    linear = exact.linearized_outputs(K, K, path.train[0], path.train[0] - y, steps, n, eta)
    assert np.max(np.abs(path.train - linear)) < 5e-3
    assert np.sum((path.train[-1] - y) ** 2) < 0.5 * np.sum((path.train[0] - y) ** 2)


# ---------------------------------------------------------------------------------------
# F6a: factorization


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_factor_gradients_match_finite_differences(depth):
    rng = np.random.default_rng(depth)
    d, dp, r = 5, 4, 4
    shapes = [(r, dp)] + [(r, r)] * (depth - 2) + [(d, r)] if depth > 1 else [(d, dp)]
    factors = [rng.standard_normal((2, *shape)) for shape in shapes]
    target = rng.standard_normal((2, d, dp))
    grads = factorization.factor_gradients(factors, target, 0.3)

    def loss(fs):
        return 0.3 * 0.5 * np.sum((factorization.end_to_end(fs) - target) ** 2, axis=(1, 2))

    h = 1e-6
    for j, W in enumerate(factors):
        for index in np.ndindex(W.shape[1:]):
            plus = [f.copy() for f in factors]
            minus = [f.copy() for f in factors]
            plus[j][(slice(None), *index)] += h
            minus[j][(slice(None), *index)] -= h
            numeric = (loss(plus) - loss(minus)) / (2 * h)
            np.testing.assert_allclose(
                grads[j][(slice(None), *index)], numeric, rtol=1e-6, atol=1e-7
            )


def _factorization_case(depth, d=5, dp=4, r=4, seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(r, dp)] + [(r, r)] * (depth - 2) + [(d, r)] if depth > 1 else [(d, dp)]
    return [0.5 * rng.standard_normal((2, *s)) for s in shapes], rng.standard_normal((2, d, dp))


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_factor_gd_kernel_equals_its_interpreted_twin(depth):
    from implicit_reg.dynamics.kernels import factor_gd_kernel, pack_factors

    factors, target = _factorization_case(depth)
    steps = np.array([0, 3, 20], dtype=np.int64)
    runs = []
    for kernel in (factor_gd_kernel, factor_gd_kernel.py_func):
        Ws, dims = pack_factors(factors)
        products = np.empty((3, *target.shape))
        kernel(Ws, dims, target, 0.01, steps, products)
        runs.append(products)
    np.testing.assert_array_equal(*runs)


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_factor_gd_path_follows_the_numpy_gradient_steps(depth):
    """The compiled path against GD through `FactorGradient` (numpy): equal to rounding."""
    factors, target = _factorization_case(depth, seed=depth)
    Ws = [W.copy() for W in factors]
    gradient = factorization.FactorGradient(Ws, target, 0.1 * 0.05)
    for _ in range(50):
        for W, g in zip(Ws, gradient(), strict=True):
            W -= g
    products, diverged = factorization.factor_gd_path(factors, target, 0.1, 0.05, np.array([50]))
    assert not diverged.any()
    np.testing.assert_allclose(products[0], factorization.end_to_end(Ws), rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_balanced_aligned_init(depth):
    rng = np.random.default_rng(11)
    U = random_rotation(rng, 5, 2)[:, :, :3]
    V = random_rotation(rng, 3, 2)
    factors = factorization.balanced_aligned_init(U, V, 1e-2, depth, rng)
    np.testing.assert_allclose(
        factorization.end_to_end(factors), 1e-2 * U @ np.swapaxes(V, 1, 2), atol=1e-15
    )
    for lower, upper in zip(factors, factors[1:], strict=False):
        np.testing.assert_allclose(
            np.swapaxes(upper, 1, 2) @ upper, lower @ np.swapaxes(lower, 1, 2), atol=1e-15
        )


def test_random_rotation_is_orthogonal():
    Q = random_rotation(np.random.default_rng(0), 6, 3)
    np.testing.assert_allclose(
        np.swapaxes(Q, 1, 2) @ Q, np.broadcast_to(np.eye(6), Q.shape), atol=1e-14
    )


@pytest.mark.parametrize("depth", [1, 2])
@pytest.mark.parametrize("eps", [1e-2, 1e-4])
def test_closed_forms_match_solve_ivp(depth, eps):
    s, dd = np.array([5.0, 2.0, 0.7]), 12.0
    t = np.linspace(0, 120, 50)
    closed = exact.closed_form_singular_values(t, s, eps, depth, dd)
    np.testing.assert_allclose(exact.ode_singular_values(t, s, eps, depth, dd), closed, rtol=1e-7)
    # The closed form solves the ODE (central differences in t) and starts at ε.
    h = 1e-4
    rate = (
        exact.closed_form_singular_values(t + h, s, eps, depth, dd)
        - exact.closed_form_singular_values(t - h, s, eps, depth, dd)
    ) / (2 * h)
    # (differences of values near s carry rounding of order 1e-16·s/h ≈ 1e-11)
    np.testing.assert_allclose(
        rate, exact.singular_value_rate(closed, s, depth, dd), rtol=1e-5, atol=1e-9
    )
    np.testing.assert_allclose(closed[0], eps)


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_crossing_times_are_consistent_with_the_curves(depth):
    s, dd, eps = np.array([4.0, 1.5]), 20.0, 1e-3
    for f in (0.1, 0.5, 0.9):
        times = exact.quadrature_crossing_time(f, s, eps, depth, dd)
        if depth <= 2:
            np.testing.assert_allclose(
                times, exact.closed_form_crossing_time(f, s, eps, depth, dd), rtol=1e-10
            )
        for r in range(len(s)):
            value = exact.exact_singular_values(np.array([0.0, times[r]]), s, eps, depth, dd)
            np.testing.assert_allclose(value[-1, r], f * s[r], rtol=1e-7)


def test_half_times_follow_the_stated_formulas():
    s, dd, eps = np.array([10.0, 1.0]), 100.0, 1e-2
    np.testing.assert_allclose(
        exact.crossing_time(0.5, s, eps, 1, dd), dd * np.log(2 * (s - eps) / s)
    )
    np.testing.assert_allclose(
        exact.crossing_time(0.5, s, eps, 2, dd), dd / (2 * s) * np.log(s / eps - 1)
    )
    width = exact.crossing_time(0.9, s, eps, 1, dd) - exact.crossing_time(0.1, s, eps, 1, dd)
    np.testing.assert_allclose(width, dd * np.log(9.0))


def test_gd_on_factors_follows_gradient_flow_and_keeps_singular_vectors():
    rng = np.random.default_rng(2)
    d, dp, depth, eps, dd = 4, 3, 3, 1e-2, 12.0
    s = np.array([3.0, 2.0, 1.0])
    U = random_rotation(rng, d, 1)[:, :, :3]
    V = random_rotation(rng, dp, 1)
    target = U * s @ np.swapaxes(V, 1, 2)
    factors = factorization.balanced_aligned_init(U, V, eps, depth, rng)
    horizon = 1.2 * exact.crossing_time(0.9, s, eps, depth, dd).max()
    errors = []
    for c in (0.04, 0.01):
        eta = factorization_step(c, s[0], depth, dd)
        steps = np.unique(np.rint(np.linspace(0, horizon / eta, 60)).astype(int))
        products, diverged = factorization.factor_gd_path(factors, target, eta, 1 / dd, steps)
        assert not diverged.any()
        reference = exact.exact_singular_values(steps * eta, s, eps, depth, dd)
        sigma = np.linalg.svd(products[:, 0], compute_uv=False)
        errors.append(np.max(np.abs(sigma - reference) / s))
        # Singular vectors stay those of W*: Uᵀ W(t) V is diagonal.
        inner = np.swapaxes(U, 1, 2)[None] @ products @ V[None]
        off = inner - inner * np.eye(3)
        assert np.max(np.abs(off)) < 1e-10
    assert errors[1] < 1e-2
    assert 0.15 < errors[1] / errors[0] < 0.4  # first order: the error falls with the step


def test_crossing_time_interpolation_is_exact_for_the_logistic_curve():
    s, dd, eps = np.array([2.0]), 10.0, 1e-3
    t = np.linspace(0.0, 40.0, 9)  # coarse on purpose
    ratio = exact.closed_form_singular_values(t, s, eps, 2, dd)[:, 0] / s[0]
    for f in (0.1, 0.5, 0.9):
        np.testing.assert_allclose(
            crossing_time(t, ratio, f),
            exact.closed_form_crossing_time(f, s, eps, 2, dd)[0],
            rtol=1e-10,
        )
    assert np.isnan(crossing_time(t, ratio * 0.01, 0.5))


def test_factor_gd_records_divergence():
    rng = np.random.default_rng(0)
    U = random_rotation(rng, 3, 2)
    target = U * np.array([5.0, 2.0, 1.0]) @ np.swapaxes(U, 1, 2)
    factors = factorization.balanced_aligned_init(U, U, 0.5, 2, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # overflow must not warn
        products, diverged = factorization.factor_gd_path(
            factors, target, 50.0, 1.0, np.array([0, 5, 200])
        )
    assert diverged[-1].all() and not diverged[0].any()
    assert np.isnan(products[-1]).all()


# ---------------------------------------------------------------------------------------
# F6b: two-layer linear networks


def tiny_linear_problem(
    seed: int = 0, trials: int = 2, d: int = 6, n: int = 3, dp: int = 2, hidden: int = 8
):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((trials, d, n)) / np.sqrt(d)
    Y = rng.standard_normal((trials, dp, n))
    w1 = rng.standard_normal((trials, hidden, d)) / np.sqrt(d)
    w2 = rng.standard_normal((trials, dp, hidden)) / np.sqrt(hidden)
    return X, Y, w1, w2


def test_linear_net_gradients_match_finite_differences():
    X, Y, w1, w2 = tiny_linear_problem()
    trials, hidden, d = w1.shape
    g1, g2 = linear_nets.linear_net_gradients(w1, w2, X, Y, weight=1.7)
    theta = np.concatenate([w1.reshape(trials, -1), w2.reshape(trials, -1)], axis=1)

    def loss(t):
        a = t[:, hidden * d :].reshape(w2.shape) @ t[:, : hidden * d].reshape(w1.shape)
        return (1.7 * 0.5 * np.sum((a @ X - Y) ** 2, axis=(1, 2)))[:, None]

    numeric = central_differences(loss, theta)[:, 0]
    analytic = np.concatenate([g1.reshape(trials, -1), g2.reshape(trials, -1)], axis=1)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


def test_exact_limit_matches_a_direct_computation():
    """A_min from least squares on Xᵀ and P⊥ from the SVD: no pseudoinverse of the exact."""
    X, Y, w1, w2 = tiny_linear_problem(seed=1)
    limit = exact.linear_net_limit(X, Y, w1, w2)
    for t in range(X.shape[0]):
        a_min = np.linalg.lstsq(X[t].T, Y[t].T, rcond=None)[0].T  # least-norm solution
        left = np.linalg.svd(X[t])[0]
        null_basis = left[:, X.shape[2] :]
        expected = a_min + w2[t] @ w1[t] @ null_basis @ null_basis.T
        np.testing.assert_allclose(limit[t], expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("batch_size", [None, 2])
def test_gd_and_sgd_reach_the_exact_limit(batch_size):
    X, Y, w1, w2 = tiny_linear_problem(seed=2)
    rng = np.random.default_rng(4)
    eta = linear_nets.step_size(X, w1, w2, 0.5)
    path = linear_nets.linear_net_path(
        X, Y, w1, w2, eta, np.array([0, 100, 20000]), batch_size, rng
    )
    assert not path.diverged.any()
    projector = exact.null_projector(X)
    # The Null(Xᵀ) part of W₁ never changes (docs/science.md §F6b).
    np.testing.assert_allclose(
        path.w1 @ projector, np.broadcast_to(w1 @ projector, path.w1.shape), atol=1e-13
    )
    final = path.w2[-1] @ path.w1[-1]
    limit = exact.linear_net_limit(X, Y, w1, path.w2[-1])
    np.testing.assert_allclose(final, limit, atol=1e-9)
    assert np.linalg.norm(final - exact.min_norm_product(X, Y)) > 1e-2  # generic init


def test_linear_net_path_records_divergence():
    X, Y, w1, w2 = tiny_linear_problem(seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = linear_nets.linear_net_path(X, Y, w1, w2, np.full(2, 50.0), np.array([0, 3, 400]))
    assert path.diverged[-1].all() and not path.diverged[0].any()


# ---------------------------------------------------------------------------------------
# F6c: PL rate


def test_least_squares_gap_and_constants():
    rng = np.random.default_rng(6)
    for n, d in ((12, 4), (4, 9)):
        X = rng.standard_normal((2, n, d))
        y = rng.standard_normal((2, n))
        betas = rng.standard_normal((3, 2, d))
        best = np.stack([np.linalg.lstsq(X[t], y[t], rcond=None)[0] for t in range(2)])
        loss = 0.5 * np.sum((y[None] - np.einsum("tnd,ctd->ctn", X, betas)) ** 2, axis=2) / n
        best_loss = 0.5 * np.sum((y - np.einsum("tnd,td->tn", X, best)) ** 2, axis=1) / n
        np.testing.assert_allclose(
            exact.least_squares_gap(X, y, betas), loss - best_loss, rtol=1e-9
        )
        mu, top = exact.least_squares_constants(X)
        eig = np.linalg.eigvalsh(np.swapaxes(X, 1, 2) @ X / n)
        np.testing.assert_allclose(top, eig[:, -1])
        np.testing.assert_allclose(mu, eig[:, -min(n, d)])


def test_loglog_fit():
    x = np.array([1.0, 2.0, 4.0, 8.0])
    slope, se = loglog_fit(x, 3 * x**-0.5)
    assert slope == pytest.approx(-0.5) and se == pytest.approx(0.0, abs=1e-12)
    y = 3 * x**-0.5 * np.array([1.1, 0.9, 1.05, 0.97])
    slope, se = loglog_fit(x, y)
    assert slope == pytest.approx(np.polyfit(np.log(x), np.log(y), 1)[0])
    assert se > 0


# ---------------------------------------------------------------------------------------
# Configuration: schema, cross-key checks, costs


def _validated(config):
    return check_config_and_fill(copy.deepcopy(config))


def _set(config, path, value):
    *parents, last = path.split(".")
    node = config
    for key in parents:
        node = node[key]
    node[last] = value
    return config


CROSS_KEY = [
    ("dynamics.matrix_factorization.s_min", 20.0, "s_min"),
    ("dynamics.matrix_factorization.init_scales", [0.5, 1e-3], "init_scales"),
    ("dynamics.linear_nets.hidden", 10, "hidden"),
    ("dynamics.linear_nets.n_features", 5, "n_features"),
    ("dynamics.linear_nets.n_outputs", 9, "n_outputs"),
    ("dynamics.linear_nets.batch_size", 9, "batch_size"),
    ("dynamics.lazy_training.widths", [64, 32, 4096], "widths"),
    ("dynamics.lazy_training.grid.n_samples", [40, 1000], "n_samples"),
]


@pytest.mark.parametrize(
    ("path", "value", "named"),
    CROSS_KEY,
    ids=[p.rsplit(".", 1)[-1] + f"={v!r}"[:20] for p, v, _ in CROSS_KEY],
)
def test_cross_key_checks_name_the_key(path, value, named):
    with pytest.raises(ConfigError, match=rf"dynamics\.\w+\.(grid\.)?{named}"):
        _validated(_set(load("smoke.yaml"), path, value))


SCHEMA_ERRORS = [
    ("dynamics.matrix_factorization.step_fractions", [2.5, 0.1], "2.5"),
    ("dynamics.matrix_factorization.step_fractions", [0.1], "step_fractions|short"),
    ("dynamics.matrix_factorization.horizon", 1.0, "horizon|1.0"),
    ("dynamics.lazy_training.step_fraction", 2.0, "step_fraction|2.0"),
    ("dynamics.lazy_training.widths", [64, 128], "widths|short"),
    ("dynamics.pl_rate.step_fraction", 1.5, "step_fraction|1.5"),
    ("dynamics.linear_nets.batch", 3, "batch"),
]


@pytest.mark.parametrize(
    ("path", "value", "named"),
    SCHEMA_ERRORS,
    ids=[f"{p.rsplit('.', 1)[-1]}={v!r}"[:30] for p, v, _ in SCHEMA_ERRORS],
)
def test_schema_rejects_out_of_range_values(path, value, named):
    with pytest.raises(Exception, match=named):
        _validated(_set(load("smoke.yaml"), path, value))


def test_check_covers_every_grid_value():
    config = load("smoke.yaml")
    config["dynamics"]["linear_nets"]["grid"]["n_samples"] = [8, 30]
    with pytest.raises(ConfigError, match="n_samples \\(30\\)"):
        _validated(config)


@pytest.mark.parametrize("name", ["config.yaml", "smoke.yaml", "paper.yaml"])
def test_costs_cover_every_job(name):
    section = filled_section("dynamics", load(name)["dynamics"])
    for experiment, spec in section.items():
        for _, params in grid_points(spec):
            cost = COSTS[experiment](params)
            assert 0 < cost.memory_bytes < 8 * 2**30 and 0 < cost.work < 1e16
    lazy = filled_section("dynamics", load("config.yaml")["dynamics"])["lazy_training"]
    widest = dict(next(grid_points(lazy))[1])
    assert COSTS["lazy_training"](widest).memory_bytes < 2 * 2**30


# ---------------------------------------------------------------------------------------
# The smoke section end to end in memory


@pytest.fixture(scope="module", params=["config", 0])
def smoke_tables(request):
    config = load("smoke.yaml")
    seed = config["seed"] if request.param == "config" else request.param
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        return run_family("dynamics", config["dynamics"], seed=seed)


def test_smoke_claims_all_pass(smoke_tables):
    claims = family_claims("dynamics", smoke_tables)
    failed = [(c.claim_id, c.measured, c.threshold) for c in claims if not c.passed]
    assert not failed
    ids = {c.claim_id for c in claims}
    assert len(ids) == len(claims) == 24
    assert {c.claim_id for c in claims if c.kind == "check"} == {
        "ode_solver_matches_closed_forms",
        "quadrature_matches_closed_form_times",
    }


def test_smoke_tables_are_tidy(smoke_tables):
    for name in DYNAMICS_EXPERIMENTS:
        table = smoke_tables[name]
        assert "trial" in table and "diverged" in table and not table.diverged.any()
        keys = [k for k in DYNAMICS_EXPERIMENTS[name].keys if k in table] + ["trial"]
        assert not table.duplicated(keys).any(), name
    mf = smoke_tables["matrix_factorization"]
    assert mf.sigma.notna().all() and mf.sigma_exact.notna().all()


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_figures_render_and_have_captions(smoke_tables, name):
    fig = FIGURES[name](smoke_tables)
    assert fig.axes
    plt.close(fig)
    caption = ROOT / "workflow" / "report" / "dynamics" / f"{name}.rst"
    assert caption.read_text().startswith(".. needs: ")


def test_network_gd_records_divergence(tiny_network):
    W, a, X, y = tiny_network
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = network.gd_path(W, a, X, y, X[:, :2], np.array([1e300, 1e-3]), np.array([0, 5, 50]))
    assert path.diverged.tolist() == [True, False]


def _pl_table(ratios: np.ndarray, decay: float) -> pd.DataFrame:
    """A ``pl_rate`` table of one run: bound ``(1 − ημ)^{2k} = decay^k``, gap ``ratio_k``
    times the bound."""
    steps = np.arange(len(ratios))
    bound = decay ** steps.astype(float)
    return pd.DataFrame(
        {
            "n_features": 20,
            "n_samples": 100,
            "trial": 0,
            "step": steps,
            "gap": ratios * bound,
            "bound": bound,
            "eta": 1.0,
            "mu": 1.0 - np.sqrt(decay),
        }
    )


def test_pl_rate_claim_fails_above_the_float64_resolution_only():
    from implicit_reg.dynamics.claims import PL_RESOLVED_GAP, pl_rate_claims

    decay = 0.5  # the bound passes ε·gap_0 ≈ 2.2e-16 between k = 52 and k = 53
    ratios = np.full(80, 0.5)
    ratios[0] = 1.0
    assert pl_rate_claims(_pl_table(ratios, decay))[0].passed
    slow = ratios.copy()
    slow[40] = 1.5  # a gap above the bound where float64 resolves it: the claim fails
    claim = pl_rate_claims(_pl_table(slow, decay))[0]
    assert not claim.passed and claim.measured == pytest.approx(1.5)
    floor = ratios.copy()
    floor[60:] = 1e20  # the gap stalled at its rounding floor beneath ε·gap_0: not compared
    table = _pl_table(floor, decay)
    assert (table.bound[60:] < PL_RESOLVED_GAP).all()
    claim = pl_rate_claims(table)[0]
    assert claim.passed and "52 checkpoints" in claim.statement and "27 beneath" in claim.statement


def test_pl_interval_rates_read_every_interval_and_skip_the_float_floor():
    from implicit_reg.dynamics.claims import pl_interval_rates

    steps = np.array([0, 1, 2, 4, 8, 16, 32])
    lam, n, eta = 0.2, 10, 0.5
    rate = np.array([9.0, 5.0, 3.0, 2.0, 0.8, 1.5])  # in units of λ_min/n, per interval
    t = eta * steps
    loss = np.concatenate([[1.0], np.exp(-np.cumsum(rate * np.diff(t) * lam / n))])
    table = pd.DataFrame(
        {
            "width": 64,
            "trial": 0,
            "step": steps,
            "t": t,
            "loss": loss,
            "lambda_min": lam,
            "n_samples": n,
        }
    )
    rates = pl_interval_rates(table)
    np.testing.assert_allclose(rates.rate, rate)
    assert list(rates.step) == list(steps[:-1])
    # A loss at the float64 floor (below ε·R̂(0)) is not compared.
    table.loc[table.step == 32, "loss"] = 1e-30
    assert list(pl_interval_rates(table).step) == list(steps[:-2])
