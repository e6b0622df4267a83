"""Plausible bugs of the diagonal-network simulations and the claims that catch them.

See `implicit_reg.bugs`.
"""

from __future__ import annotations

import numpy as np

from implicit_reg.bugs import Bug, scaled_argument


def _init_from_square_root(original):
    """GD on β⊙β started from β₀ = √α·1: α read as the scale of θ₀ = β₀⊙β₀."""

    def path(X, y, alphas, eta, checkpoints, reference=None):
        return original(X, y, np.sqrt(alphas), eta, checkpoints, reference)

    return path


def _init_from_first_alpha(original):
    """GD on β⊙β started from the grid's first α in every run (the loop's scale unused)."""

    def path(X, y, alphas, eta, checkpoints, reference=None):
        return original(X, y, np.full_like(alphas, alphas[0]), eta, checkpoints, reference)

    return path


BUGS = (
    Bug(
        "uv_init_20pct_large",
        "GD on u⊙u − v⊙v starts from 1.2 α instead of α",
        "trajectories",
        "implicit_reg.diagonal.experiments:uv_gd_path",
        scaled_argument(2, 1.2, "alphas"),
        ("gd_limit_matches_exact_limit", "gd_gap_shrinks_with_step_size"),
    ),
    Bug(
        "beta_step_tenfold_small",
        "the empirical GD on β⊙β uses η/10 (its gradient carries a spurious 1/10)",
        "sparse_recovery",
        "implicit_reg.diagonal.experiments:beta_gd_path",
        scaled_argument(3, 0.1, "eta"),
        ("recovery_error_rises_after_minimum",),
    ),
    Bug(
        "beta_gradient_of_unnormalized_loss",
        "the empirical GD on β⊙β steps along the gradient of (1/n)Σ(y − ⟨β⊙β, x⟩)², 4 times "
        "that of the (1/4n) loss, while t = η·step",
        "sparse_recovery",
        "implicit_reg.diagonal.experiments:beta_gd_path",
        scaled_argument(3, 4.0, "eta"),
        ("off_support_below_two_alpha_until_lemma_horizon",),
    ),
    Bug(
        "beta_init_square_root_of_alpha",
        "the empirical GD on β⊙β starts from β₀ = √α·1 (α taken as the scale of β₀⊙β₀)",
        "sparse_recovery",
        "implicit_reg.diagonal.experiments:beta_gd_path",
        _init_from_square_root,
        ("min_recovery_error_at_statistical_rate",),
    ),
    Bug(
        "beta_init_first_alpha_only",
        "every empirical GD run on β⊙β starts from the grid's first α",
        "sparse_recovery",
        "implicit_reg.diagonal.experiments:beta_gd_path",
        _init_from_first_alpha,
        ("min_recovery_error_slope_in_alpha",),
    ),
)
