"""Plausible bugs of the risk simulations and the claims that catch them (`implicit_reg.bugs`)."""

from __future__ import annotations

import numpy as np

from implicit_reg.bugs import Bug, scaled_argument

#: Scale of the symmetry-breaking jitter of `_jittered_sgd_init`, relative to 1/√d.
INIT_JITTER = 1e-3


def _drift(original):
    """GD's gradient with a constant push along every coordinate: iterates leave the row
    space of X."""

    def gradient(X, y, beta):
        return original(X, y, beta) + 1e-4

    return gradient


def _stretched_spectrum(original):
    """The min-norm interpolant computed with singular values 10% too large."""

    def coordinates(X, y, Xbeta_star, beta_star):
        s, uy, vb = original(X, y, Xbeta_star, beta_star)
        return 1.1 * s, uy, vb

    return coordinates


def _gd_from_zero(original):
    """GD started from zero whatever β₀ it is given."""

    def path(X, y, beta0, eta, checkpoints):
        return original(X, y, np.zeros_like(beta0), eta, checkpoints)

    return path


def _sgd_from_zero(original):
    """SGD started from zero whatever β₀ it is given."""

    def path(X, y, beta0, eta, batch_size, checkpoints, rng):
        return original(X, y, np.zeros_like(beta0), eta, batch_size, checkpoints, rng)

    return path


def _jittered_sgd_init(original):
    """SGD started from β₀ + N(0, (INIT_JITTER²/d) I), a "symmetry-breaking" jitter that
    leaks into the null space of X."""

    def path(X, y, beta0, eta, batch_size, checkpoints, rng):
        jitter = np.random.default_rng(0).standard_normal(beta0.shape)
        beta0 = beta0 + INIT_JITTER / np.sqrt(beta0.shape[-1]) * jitter
        return original(X, y, beta0, eta, batch_size, checkpoints, rng)

    return path


def _noise_dropped(original):
    """F1b data whose noise vector is drawn but never added to the labels."""

    def design(seed, n, d, signal_norm):
        X, beta_star, eps = original(seed, n, d, signal_norm)
        return X, beta_star, np.zeros_like(eps)

    return design


def _wide_branch_uses_signal(original):
    """Spectral coordinates whose n ≤ d branch projects the signal Xβ* for Uᵀy (the two
    arguments swapped in that branch): no noise reaches the interpolants for γ ≥ 1."""

    def coordinates(X, y, Xbeta_star, beta_star):
        if X.shape[1] <= X.shape[2]:
            signal = Xbeta_star.reshape(Xbeta_star.shape + (1,) * (y.ndim - 2))
            y = np.broadcast_to(signal, y.shape)
        return original(X, y, Xbeta_star, beta_star)

    return coordinates


def _unscaled_penalty(original):
    """Ridge fitted as (XᵀX + λI)⁻¹Xᵀy, i.e. at λ/n for the (XᵀX/n + λI) convention."""

    def risks(s, uy, vb, beta_norm2, d, lambdas, n, noise_std, signal_norm):
        scaled = [lam / n for lam in lambdas]
        return original(s, uy, vb, beta_norm2, d, scaled, n, noise_std, signal_norm)

    return risks


def _inverse_aspect_ratio(original):
    """λ* = γσ²/r² evaluated at n/d instead of γ = d/n (the other aspect-ratio convention)."""

    def optimal(gamma, signal_norm, noise_std):
        return original(1.0 / np.asarray(gamma, float), signal_norm, noise_std)

    return optimal


BUGS = (
    Bug(
        "gd_ignores_initialization",
        "GD starts from zero whatever β₀ it is given",
        "min_norm",
        "implicit_reg.risk.algorithms:gd_path",
        _gd_from_zero,
        ("gd_random_init_reaches_shifted_limit", "norm_excess_matches_null_component"),
    ),
    Bug(
        "sgd_ignores_initialization",
        "SGD starts from zero whatever β₀ it is given",
        "min_norm",
        "implicit_reg.risk.algorithms:sgd_path",
        _sgd_from_zero,
        ("sgd_random_init_reaches_shifted_limit", "norm_excess_matches_null_component"),
    ),
    Bug(
        "sgd_init_jitter",
        f"SGD starts from β₀ plus a {INIT_JITTER:g}/√d Gaussian jitter (it leaks into the "
        "null space of X)",
        "min_norm",
        "implicit_reg.risk.algorithms:sgd_path",
        _jittered_sgd_init,
        ("sgd_zero_init_reaches_min_norm", "sgd_random_init_reaches_shifted_limit"),
    ),
    Bug(
        "gd_leaves_row_space",
        "GD's gradient carries a constant 1e-4 push (iterates leave the row space of X)",
        "min_norm",
        "implicit_reg.risk.algorithms:least_squares_gradient",
        _drift,
        ("gd_zero_init_reaches_min_norm",),
    ),
    Bug(
        "early_stopping_step_30pct_large",
        "early-stopped GD uses 1.3 η",
        "early_stopping",
        "implicit_reg.risk.algorithms:gd_gram_path",
        scaled_argument(2, 1.3, "eta"),
        ("gd_risk_matches_expected_risk",),
    ),
    Bug(
        "interpolant_singular_values_10pct_large",
        "the min-norm interpolant uses singular values 10% too large",
        "double_descent",
        "implicit_reg.risk.experiments:spectral_coordinates",
        _stretched_spectrum,
        ("min_norm_risk_matches_theory",),
    ),
    Bug(
        "double_descent_noise_dropped",
        "the F1b label noise is drawn but never added (y = Xβ*)",
        "double_descent",
        "implicit_reg.risk.experiments:seeded_gaussian_design",
        _noise_dropped,
        ("peak_below_upper_edge", "min_norm_risk_matches_theory"),
    ),
    Bug(
        "wide_branch_projects_signal",
        "the n ≤ d branch of the spectral coordinates projects Xβ* in place of y",
        "double_descent",
        "implicit_reg.risk.experiments:spectral_coordinates",
        _wide_branch_uses_signal,
        ("peak_above_lower_edge", "optimal_ridge_has_no_peak"),
    ),
    Bug(
        "ridge_penalty_not_scaled_by_n",
        "ridge is fitted as (XᵀX + λI)⁻¹Xᵀy, i.e. at λ/n",
        "double_descent",
        "implicit_reg.risk.experiments:filter_risks",
        _unscaled_penalty,
        ("ridge_risk_matches_theory", "optimal_ridge_has_no_peak"),
    ),
    Bug(
        "optimal_penalty_inverse_aspect_ratio",
        "ridge's λ* = γσ²/r² is evaluated at n/d instead of γ = d/n",
        "double_descent",
        "implicit_reg.risk.exact:optimal_ridge_lambda",
        _inverse_aspect_ratio,
        ("optimal_ridge_below_min_norm", "optimal_ridge_has_no_peak"),
    ),
)
