"""Plausible bugs of the diagonal-network simulations and the claims that catch them.

See `implicit_reg.bugs`.
"""

from __future__ import annotations

from implicit_reg.bugs import Bug, scaled_argument

BUGS = (
    Bug(
        "uv_init_20pct_large",
        "GD on u⊙u − v⊙v starts from 1.2 α instead of α",
        "trajectories",
        "implicit_reg.diagonal.experiments:uv_gd_path",
        scaled_argument(2, 1.2, "alphas"),
        ("gd_limit_matches_exact_limit",),
    ),
    Bug(
        "beta_step_tenfold_small",
        "the empirical GD on β⊙β uses η/10 (its gradient carries a spurious 1/10)",
        "sparse_recovery",
        "implicit_reg.diagonal.experiments:beta_gd_path",
        scaled_argument(3, 0.1, "eta"),
        ("recovery_error_rises_after_minimum",),
    ),
)
