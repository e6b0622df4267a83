"""Unit tests of the margin family: SVM reference, stable losses, perceptron, claims."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy.special import expit

from implicit_reg.claims import family_claims
from implicit_reg.experiment import run_experiment, run_family
from implicit_reg.grid import grid_points
from implicit_reg.margin.algorithms import (
    descent_path,
    log_neg_derivative,
    log_sum_exp,
    log_total_loss,
    perceptron,
)
from implicit_reg.margin.claims import decay_fraction, gap_exponent, late_window
from implicit_reg.margin.config import COSTS
from implicit_reg.margin.data import (
    SOUDRY_ALPHA,
    SOUDRY_W_HAT,
    planted_dual,
    planted_separable,
    soudry_2d,
)
from implicit_reg.margin.exact import (
    hard_margin_svm,
    kkt_residual,
    residual_rate,
    soudry_offset,
    symmetric_duals,
)
from implicit_reg.margin.experiments import EXPERIMENTS as MARGIN_EXPERIMENTS
from implicit_reg.margin.figures import FIGURES
from implicit_reg.schedule import log_checkpoints
from implicit_reg.workflow.checks import config_problems
from implicit_reg.workflow.configcheck import filled_section

ROOT = Path(__file__).resolve().parents[1]


def section(name: str) -> dict:
    with open(ROOT / "config" / f"{name}.yaml") as f:
        return yaml.safe_load(f)["margin"]


# --- exact reference -------------------------------------------------------------------


def test_svm_soudry_support_vectors_give_half_half():
    """The four Soudry points: ŵ = (½, ½), i.e. direction (1, 1)/√2, margin √2/... 1/‖ŵ‖."""
    z = np.array([[0.5, 1.5], [1.5, 0.5], [0.5, 1.5], [1.5, 0.5]])
    sol = hard_margin_svm(z)
    np.testing.assert_allclose(sol.w, [0.5, 0.5], atol=1e-12)
    assert sol.kkt_residual <= 1e-12
    assert sol.margin == pytest.approx(np.sqrt(2.0), rel=1e-12)


def test_svm_extra_points_outside_margin_do_not_move_w_hat():
    rng = np.random.default_rng(1)
    z = soudry_2d(rng, n_trials=3, n_extra=6, min_margin=1.5)
    for zi in z:
        sol = hard_margin_svm(zi)
        np.testing.assert_allclose(sol.w, SOUDRY_W_HAT, atol=1e-10)
        np.testing.assert_allclose(sol.alpha[4:], 0.0, atol=1e-12)


def test_svm_one_point_closed_form():
    """One sample: ŵ = z/‖z‖² (margin exactly 1), α = 1/‖z‖²."""
    z = np.array([[3.0, 4.0]])
    sol = hard_margin_svm(z)
    np.testing.assert_allclose(sol.w, [3 / 25, 4 / 25], rtol=1e-12)
    np.testing.assert_allclose(sol.alpha, [1 / 25], rtol=1e-12)


@pytest.mark.parametrize(("n", "d"), [(20, 50), (100, 10)])
def test_svm_kkt_on_random_data_both_regimes(n, d):
    z, w_star = planted_separable(np.random.default_rng(2), 1, n, d, 0.1)
    sol = hard_margin_svm(z[0])
    assert sol.kkt_residual <= 1e-8
    # ŵ beats the planted separator: its margin is at least the planted one.
    assert sol.margin >= (z[0] @ w_star[0]).min() - 1e-12


def test_svm_rejects_non_separable():
    with pytest.raises(ValueError, match="separable"):
        hard_margin_svm(np.array([[1.0, 0.0], [-1.0, 0.0]]))


def test_kkt_residual_detects_violation():
    z = np.array([[1.0, 0.0]])
    assert kkt_residual(z, np.array([1.0, 0.0]), np.array([1.0])) == 0.0
    assert kkt_residual(z, np.array([0.5, 0.0]), np.array([0.5])) == pytest.approx(0.5)


# --- stable losses ----------------------------------------------------------------------


def test_log_losses_match_direct_formulas_at_moderate_margins():
    m = np.linspace(-30, 30, 121)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(
            np.exp(log_total_loss(m[:, None], "logistic")), np.log1p(np.exp(-m)), rtol=1e-12
        )
        np.testing.assert_allclose(np.exp(log_neg_derivative(m, "logistic")), expit(-m), rtol=1e-12)
        np.testing.assert_allclose(log_total_loss(m[:, None], "exponential"), -m)


def test_log_losses_finite_at_extreme_margins():
    m = np.array([[1e-3, 50.0, 800.0, 1e6, 1e12], [-1e3, -50, 0.0, 5.0, 1e300]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for loss in ("logistic", "exponential"):
            assert np.isfinite(log_total_loss(m, loss)).all()
            assert np.isfinite(log_neg_derivative(m, loss)).all()
    # Far tail: log ℓ(m) = −m + log(1 − e^{−m}/2 + …) for the logistic loss.
    assert log_total_loss(np.array([[800.0]]), "logistic")[0] == pytest.approx(-800.0)
    assert log_sum_exp(np.array([-1e6, -1e6 + np.log(3.0)])) == pytest.approx(-1e6 + np.log(4.0))


def test_normalized_gd_huge_norm_no_warnings():
    """Normalized GD drives margins far beyond exp underflow without any warning."""
    z = soudry_2d(np.random.default_rng(3), 2, 6, 1.5)
    steps = log_checkpoints(20000, 10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        w, diverged = descent_path(
            z, "logistic", np.full(2, 2.0), np.zeros(2), np.ones(2, dtype=bool), steps
        )
    margins = np.einsum("bnd,bd->bn", z, w[-1])
    assert margins.min() > 800.0  # e^{-m} underflows in float64
    assert not diverged.any()


def test_gd_exponential_first_step_closed_form():
    """One GD step from 0 on Σ e^{−z_iᵀw}: w₁ = η Σ z_i."""
    z = np.array([[[1.0, 2.0], [0.5, -1.0]]])
    w, _ = descent_path(z, "exponential", [0.1], [0.0], [False], np.array([0, 1]))
    np.testing.assert_allclose(w[1, 0], 0.1 * z[0].sum(axis=0))


def test_divergence_is_flagged_not_raised():
    z = np.array([[[1.0, 0.0], [1.0, 0.0]]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w, diverged = descent_path(z, "exponential", [1e308], [0.9], [False], np.array([0, 5, 50]))
    assert np.isfinite(w).all()
    assert diverged[-1, 0]


# --- perceptron -------------------------------------------------------------------------


def test_perceptron_single_update_and_order():
    """Cyclic order: the first mistaken sample updates first; one update suffices here."""
    z = np.array([[[1.0, 0.0], [1.0, 1.0], [2.0, -0.5]]])
    w, updates, converged = perceptron(z, 10)
    np.testing.assert_allclose(w[0], [1.0, 0.0])
    assert updates[0] == 1 and converged[0]


def test_perceptron_matches_sequential_reference():
    """The batched jump-to-next-mistake loop equals the plain cyclic perceptron."""
    z, _ = planted_separable(np.random.default_rng(4), 5, 30, 5, 0.05)
    w, updates, converged = perceptron(z, 10_000)
    for b in range(5):
        ref, count, clean = np.zeros(5), 0, False
        while not clean:
            clean = True
            for zi in z[b]:
                if zi @ ref <= 0:
                    ref += zi
                    count += 1
                    clean = False
        np.testing.assert_allclose(w[b], ref)
        assert updates[b] == count and converged[b]


# --- configuration, claims, figures ------------------------------------------------------


@pytest.fixture(scope="module")
def smoke_tables():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        return run_family("margin", section("smoke"), seed=0)


def test_smoke_claims_all_pass(smoke_tables):
    claims = family_claims("margin", smoke_tables)
    ids = {c.claim_id for c in claims}
    assert len(ids) == len(claims) == 18
    failed = [(c.claim_id, c.measured, c.threshold) for c in claims if not c.passed]
    assert not failed


def test_smoke_tables_tidy(smoke_tables):
    soudry = smoke_tables["soudry"]
    expected = {"trial", "step", "t", "algorithm", "diverged", "kkt_residual", "asymptote_residual"}
    assert expected <= set(soudry)
    assert not soudry["diverged"].any()
    assert soudry.groupby(["dataset", "loss", "algorithm", "trial"]).size().nunique() >= 1


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_figures_render(smoke_tables, name):
    import matplotlib.pyplot as plt

    fig = FIGURES[name](smoke_tables)
    assert fig.axes
    plt.close(fig)


# --- planted datasets and the exact asymptote --------------------------------------------


@pytest.mark.parametrize("dim", [2, 5, 10])
def test_planted_dual_is_the_svm_solution(dim):
    """The planted (ŵ, α) satisfy the KKT conditions and the solver finds them."""
    z, w_hat, alpha = planted_dual(np.random.default_rng(5), 3, dim, 0.3, 2, 2.0, 0.5)
    for zi, wi, ai in zip(z, w_hat, alpha, strict=True):
        assert kkt_residual(zi, wi, ai) <= 1e-12
        assert np.linalg.norm(wi) == pytest.approx(1 / 0.3, rel=1e-12)
        assert (zi[dim:] @ wi).min() >= 2.0 - 1e-12
        sol = hard_margin_svm(zi)
        np.testing.assert_allclose(sol.w, wi, atol=1e-10)
        np.testing.assert_allclose(sol.alpha, ai, atol=1e-10)


def test_symmetric_duals_split_identical_samples():
    """The 2-D dataset: NNLS may put 1/4 on one copy, the asymptote needs 1/8 on each."""
    z = soudry_2d(np.random.default_rng(0), 1, 3, 1.5)[0]
    shared = symmetric_duals(z, hard_margin_svm(z).alpha)
    np.testing.assert_allclose(shared[:4], SOUDRY_ALPHA, atol=1e-12)
    np.testing.assert_allclose(shared[4:], 0.0, atol=1e-12)


def test_soudry_offset_2d_closed_form():
    """z₁ = (½, 3/2), z₂ = (3/2, ½), α = 1/8: z_nᵀw̃ = log 8η ⇒ w̃ = (log 8η)/2 · (1, 1); ν = 1/4."""
    z = soudry_2d(np.random.default_rng(1), 1, 3, 1.6)[0]
    alpha = symmetric_duals(z, hard_margin_svm(z).alpha)
    w_tilde, residual = soudry_offset(z, alpha, 0.1)
    np.testing.assert_allclose(w_tilde, np.full(2, np.log(0.8) / 2), rtol=1e-12)
    assert residual <= 1e-12
    # M = Σ α z zᵀ = (1/4)(z₁z₁ᵀ + z₂z₂ᵀ): eigenvalues 1 along (1, 1) and 1/4 along (1, −1).
    assert residual_rate(z, SOUDRY_W_HAT, alpha) == pytest.approx(0.25, rel=1e-12)


def test_gd_follows_the_asymptote_one_sample():
    """One sample z, exponential loss: m_{k+1} = m_k + η‖z‖² e^{−m_k} (scalar recursion).

    ŵ = z/‖z‖², α = 1/‖z‖², w̃ = z log(η‖z‖²)/‖z‖²; the batched loop matches the scalar
    recursion and w(t) − ŵ log t − w̃ = O(log t/t).
    """
    z = np.array([[3.0, 4.0]])
    eta, steps = 0.01, np.array([0, 10, 1000, 100000])
    w, _ = descent_path(z[None], "exponential", [eta], [0.0], [False], steps)
    m, recorded = 0.0, {}
    for k in range(steps[-1] + 1):
        if k in steps:
            recorded[k] = m
        m += eta * 25.0 * np.exp(-m)
    np.testing.assert_allclose(w[:, 0] @ z[0] / 1.0, [recorded[k] for k in steps], rtol=1e-10)
    w_tilde, _ = soudry_offset(z, np.array([1 / 25]), eta)
    np.testing.assert_allclose(w_tilde, z[0] * np.log(eta * 25) / 25, rtol=1e-12)
    residual = np.linalg.norm(w[-1, 0] - z[0] / 25 * np.log(steps[-1]) - w_tilde)
    assert residual <= 5 * np.log(steps[-1]) / steps[-1]


# --- the batched loop against plain loops -------------------------------------------------


def _plain(z, loss, eta, mu, normalized, n_steps):
    """Reference: one row, textbook update, log-domain weights for normalized GD."""
    w, previous = np.zeros(z.shape[1]), np.zeros(z.shape[1])
    for _ in range(n_steps):
        m = z @ w
        log_weights = log_neg_derivative(m, loss)
        if normalized:
            log_weights = log_weights - log_total_loss(m, loss)
        w, previous = w + eta * z.T @ np.exp(log_weights) + mu * (w - previous), w
    return w


def test_batched_rows_equal_plain_single_runs():
    """Mixed losses, momentum and normalized rows in one batch = separate plain loops."""
    z = planted_dual(np.random.default_rng(2), 1, 4, 0.3, 1, 2.0, 0.5)[0][0]
    rows = [
        ("logistic", 0.5, 0.0, False),
        ("logistic", 0.05, 0.9, False),
        ("exponential", 0.2, 0.0, False),
        ("exponential", 0.02, 0.9, False),
        ("logistic", 0.4, 0.0, True),
        ("exponential", 0.4, 0.0, True),
    ]
    loss, eta, mu, norm = (np.array(c) for c in zip(*rows, strict=True))
    w, diverged = descent_path(np.stack([z] * len(rows)), loss, eta, mu, norm, np.array([0, 3000]))
    assert not diverged.any()
    for b, row in enumerate(rows):
        np.testing.assert_allclose(w[-1, b], _plain(z, *row, 3000), rtol=1e-10)


def test_normalized_logistic_switches_to_softmax_exactly():
    """Past margins of 45 the logistic weights use the softmax form: same iterates."""
    z = soudry_2d(np.random.default_rng(3), 1, 2, 2.0)[0]
    w, _ = descent_path(z[None], "logistic", [0.1], [0.0], [True], np.array([0, 300, 1000]))
    assert (z @ w[1, 0]).min() > 45  # the later checkpoints run on the softmax form
    np.testing.assert_allclose(w[-1, 0], _plain(z, "logistic", 0.1, 0.0, True, 1000), rtol=1e-12)


# --- claims: helpers, falsifiability -------------------------------------------------------


def test_decay_fraction_and_exponents_on_exact_power_laws():
    import pandas as pd

    t = np.geomspace(1, 1e5, 41)
    g = pd.DataFrame({"t": t, "f": 3 * t**-0.4, "residual_rate": 0.8, "gap": 2 / np.log(t + 1)})
    assert decay_fraction(g, "f") == pytest.approx(0.5, rel=1e-12)
    g["gap"] = np.where(t > 1e3, 1e-14, 5 * t**-2.0)
    window = late_window(g, "gap")
    assert window["t"].max() <= 1e3 and window["t"].min() >= 10
    assert gap_exponent(g, "gap", "t") == pytest.approx(-2.0, rel=1e-12)


def _soudry_claims():
    """Claims of the smoke ``soudry`` experiment."""
    spec = section("smoke")["soudry"]
    trials, _ = run_experiment("margin", "soudry", MARGIN_EXPERIMENTS["soudry"], spec, seed=0)
    return {c.claim_id: c for c in family_claims("margin", {"soudry": trials})}


def test_claims_fail_when_a_support_vector_is_dropped_from_the_gradient(monkeypatch):
    """Wrong update: GD ignores sample 0 (a support vector) ⇒ it converges elsewhere."""
    from implicit_reg.margin import experiments

    original = experiments.descent_path

    def without_first(z, *args, **kwargs):
        return original(np.asarray(z)[:, 1:], *args, **kwargs)

    monkeypatch.setattr(experiments, "descent_path", without_first)
    claims = _soudry_claims()
    for claim_id in ("asymptote_residual_decays", "residual_bounded", "loss_times_t_limit"):
        assert not claims[claim_id].passed, claim_id


# --- artifacts: an outsider recomputes the residual from the arrays ------------------------


def test_artifacts_recompute_the_asymptote_residual():
    spec = section("smoke")["soudry"]
    table, arrays = run_experiment("margin", "soudry", MARGIN_EXPERIMENTS["soudry"], spec, seed=0)
    point = arrays["dataset=random"]
    x, y = point["X"], point["y"]
    z = y[..., None] * x
    for b in np.flatnonzero(point["row_algorithm"] == "gd"):
        k = point["row_trial"][b]
        loss = list(point["losses"]).index(point["row_loss"][b])
        sol = hard_margin_svm(z[k])
        np.testing.assert_allclose(sol.w, point["w_hat"][k], atol=1e-10)
        t = point["steps"][-1]
        residual = np.linalg.norm(
            point["w_final"][b] - point["w_hat"][k] * np.log(t) - point["w_tilde"][loss, k]
        )
        rows = table[
            (table.dataset == "random")
            & (table.algorithm == "gd")
            & (table.trial == k)
            & (table.loss == point["row_loss"][b])
            & (table.step == t)
        ]
        assert rows["asymptote_residual"].iloc[0] == pytest.approx(residual, rel=1e-12)


# --- configuration checks and costs --------------------------------------------------------


@pytest.mark.parametrize(
    ("experiment", "key", "value", "named"),
    [
        ("soudry", "n_checkpoints", 4, "margin.soudry.n_checkpoints"),
        ("perceptron", "max_updates", 10, "margin.perceptron.max_updates"),
        ("test_loss", "nuisance_dims", 20, "margin.test_loss.nuisance_dims"),
    ],
)
def test_margin_cross_key_checks(experiment, key, value, named):
    config = {"margin": filled_section("margin", section("smoke"))}
    assert config_problems(config) == []
    config["margin"][experiment][key] = value
    problems = config_problems(config)
    assert problems and all(named in problem for problem in problems)


@pytest.mark.parametrize("name", ["smoke", "config", "paper"])
def test_margin_costs_are_finite_and_grow_with_steps(name):
    for experiment, spec in filled_section("margin", section(name)).items():
        for _, params in grid_points(spec):
            cost = COSTS[experiment](params)
            assert 0 < cost.memory_bytes < 1e10 and 0 < cost.work < 1e13
    spec = filled_section("margin", section("smoke"))["soudry"]
    params = dict(next(iter(grid_points(spec)))[1])
    small = COSTS["soudry"](params).work
    params["n_steps"] = {k: 10 * v for k, v in params["n_steps"].items()}
    assert COSTS["soudry"](params).work == pytest.approx(10 * small)


def test_perceptron_and_test_loss_claims_from_the_arrays_alone():
    """The saved arrays are enough to recompute F2b's and F2c's quantities with numpy."""
    smoke = section("smoke")
    for name in ("perceptron", "test_loss"):
        table, arrays = run_experiment("margin", name, MARGIN_EXPERIMENTS[name], smoke[name], 7)
        point_arrays = arrays[sorted(arrays)[0]]
        table = table[table.dim == table.dim.min()] if name == "perceptron" else table
        if name == "perceptron":
            for i, gamma in enumerate(point_arrays["planted_margins"]):
                z = point_arrays[f"z_{i}"]
                radius = np.linalg.norm(z, axis=2).max(axis=1)
                margin_planted = np.einsum("bnd,bd->bn", z, point_arrays[f"w_star_{i}"]).min(1)
                rows = table[table.planted_margin == gamma]
                np.testing.assert_allclose(rows.bound, (radius / margin_planted) ** 2)
                np.testing.assert_array_equal(rows.updates, point_arrays[f"updates_{i}"])
        else:
            w_last = point_arrays["w_path"][-1]
            margins = np.einsum("bnd,bd->bn", point_arrays["z_test"].astype(float), w_last)
            last = table[table.step == table.step.max()].sort_values("trial")
            np.testing.assert_allclose(last.test_error, (margins <= 0).mean(axis=1), atol=1e-3)
            loss = np.logaddexp(0.0, -margins).mean(axis=1)
            np.testing.assert_allclose(last.test_loss, loss, rtol=1e-5)


# --- compiled kernels: the interpreted twin computes the same steps -----------------------


def test_descent_kernel_equals_its_interpreted_twin():
    """Every weight map and momentum, 30 steps: compiled and `py_func` bit for bit."""
    from implicit_reg.margin.kernels import descent_kernel

    rng = np.random.default_rng(5)
    z = rng.standard_normal((4, 7, 3))
    neg_z, step_zt = -z, np.ascontiguousarray(0.1 * np.swapaxes(z, 1, 2))
    mu, kinds = np.array([0.0, 0.9, 0.5, 0.0]), np.arange(4, dtype=np.int64)
    runs = []
    for kernel in (descent_kernel, descent_kernel.py_func):
        w, v = np.zeros((4, 3)), np.zeros((4, 3))
        kernel(neg_z, step_zt, w, v, mu, kinds, True, 30)
        runs.append(w)
    np.testing.assert_array_equal(*runs)


def test_perceptron_kernel_equals_its_interpreted_twin():
    from implicit_reg.margin.kernels import perceptron_kernel

    z = np.random.default_rng(6).standard_normal((3, 9, 4)) + np.array([1.0, 0, 0, 0])
    runs = []
    for kernel in (perceptron_kernel, perceptron_kernel.py_func):
        w, updates = np.zeros((3, 4)), np.zeros(3, dtype=np.int64)
        kernel(z, 200, w, updates)
        runs.append((w, updates))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
