"""Unit tests of the margin family: SVM reference, stable losses, perceptron, claims."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy.special import expit

import implicit_reg.margin as margin
from implicit_reg.experiment import run_family
from implicit_reg.margin import checks
from implicit_reg.margin.algorithms import (
    descent_path,
    log_neg_derivative,
    log_sum_exp,
    log_total_loss,
    perceptron,
)
from implicit_reg.margin.data import SOUDRY_W_HAT, planted_separable, soudry_2d
from implicit_reg.margin.figures import FIGURES
from implicit_reg.margin.svm import hard_margin_svm, kkt_residual
from implicit_reg.schedule import log_checkpoints

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


def test_reach_time_censors_at_end():
    import pandas as pd

    g = pd.DataFrame({"t": [1.0, 10.0, 100.0], "margin_gap": [0.1, 1e-4, 1e-2]})
    assert checks.reach_time(g, 1e-3) == 100.0
    g = pd.DataFrame({"t": [1.0, 10.0, 100.0], "margin_gap": [0.1, 1e-4, 1e-5]})
    assert checks.reach_time(g, 1e-3) == 10.0


@pytest.fixture(scope="module")
def smoke_tables():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        return run_family("margin", margin, section("smoke"), seed=0)


def test_smoke_claims_all_pass(smoke_tables):
    claims = margin.claims(smoke_tables)
    ids = {c.claim_id for c in claims}
    assert len(ids) == len(claims) == 13
    failed = [(c.claim_id, c.measured, c.threshold) for c in claims if not c.passed]
    assert not failed


def test_smoke_tables_tidy(smoke_tables):
    soudry = smoke_tables["soudry"]
    assert {"trial", "step", "t", "algorithm", "diverged", "kkt_residual"} <= set(soudry)
    assert not soudry["diverged"].any()
    assert soudry.groupby(["dataset", "loss", "algorithm", "trial"]).size().nunique() >= 1


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_figures_render(smoke_tables, name):
    import matplotlib.pyplot as plt

    fig = FIGURES[name](smoke_tables)
    assert fig.axes
    plt.close(fig)
