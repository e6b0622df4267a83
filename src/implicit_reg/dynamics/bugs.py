"""Plausible bugs of the dynamics simulations and the claims that catch them.

See `implicit_reg.bugs`.
"""

from __future__ import annotations

import numpy as np

from implicit_reg.bugs import Bug, scaled_argument

# ---------------------------------------------------------------------------------------
# F6a: deep matrix factorization


def _depth(build):
    """The factorization's init built with ``build(N)`` factors instead of N."""

    def wrap(original):
        def init(U, V, eps, depth, rng):
            return original(U, V, eps, build(depth), rng)

        return init

    return wrap


def _gained_factors(original):
    """Every factor scaled by a gain √2 (He's gain): the product starts at 2^{N/2}·ε."""

    def init(U, V, eps, depth, rng):
        return original(U, V, eps * np.sqrt(2.0) ** depth, depth, rng)

    return init


def _untransposed_v(original):
    """W₁ built from V instead of Vᵀ (a missing transpose, silent for square factors)."""

    def init(U, V, eps, depth, rng):
        return original(U, np.swapaxes(V, 1, 2), eps, depth, rng)

    return init


FACTORIZATION = "implicit_reg.dynamics.factorization"

MATRIX_FACTORIZATION_BUGS = (
    Bug(
        "reference_clock_2pct_fast",
        "the exact singular values are evaluated at 1.02 t (dd' off by 2%)",
        "matrix_factorization",
        "implicit_reg.dynamics.exact:exact_singular_values",
        scaled_argument(0, 1.02, "t"),
        ("gd_error_shrinks_with_step", "gd_singular_values_match_exact"),
    ),
    Bug(
        "factor_step_2pct_large",
        "GD on the factors runs with 1.02 η while the recorded η (and time t = ηk) is the "
        "intended one",
        "matrix_factorization",
        f"{FACTORIZATION}:factor_gd_path",
        scaled_argument(2, 1.02, "eta"),
        ("gd_singular_values_match_exact", "half_times_match_exact"),
    ),
    Bug(
        "factor_target_2pct_large",
        "GD on the factors fits 1.02 W* (the target's singular values 2% too large)",
        "matrix_factorization",
        f"{FACTORIZATION}:factor_gd_path",
        scaled_argument(1, 1.02, "target"),
        (
            "gd_singular_values_match_exact",
            "depth1_relative_width",
            "depth2_relative_width",
            "deep_relative_width_matches_exact",
        ),
    ),
    Bug(
        "factors_built_for_depth_two",
        "every factorization deeper than 2 is built with two factors (depth-2 dynamics at "
        "every depth)",
        "matrix_factorization",
        f"{FACTORIZATION}:balanced_aligned_init",
        _depth(lambda depth: min(depth, 2)),
        (
            "deep_relative_width_matches_exact",
            "transition_width_shrinks_with_depth",
            "transition_width_shrinks_as_eps_falls",
            "half_times_match_exact",
        ),
    ),
    Bug(
        "single_factor_at_every_depth",
        "every factorization is built with one factor whatever N (the depth is not passed)",
        "matrix_factorization",
        f"{FACTORIZATION}:balanced_aligned_init",
        _depth(lambda depth: 1),
        ("half_times_ordered_by_s", "half_times_match_exact", "depth2_relative_width"),
    ),
    Bug(
        "factor_init_gain_sqrt2",
        "every factor of the init carries a gain √2 (the product starts at 2^(N/2)·ε, not ε)",
        "matrix_factorization",
        f"{FACTORIZATION}:balanced_aligned_init",
        _gained_factors,
        (
            "half_times_match_exact",
            "depth2_relative_width",
            "deep_relative_width_matches_exact",
            "transition_width_shrinks_with_depth",
            "transition_width_shrinks_as_eps_falls",
        ),
    ),
    Bug(
        "first_factor_from_untransposed_v",
        "W₁ is built from V instead of Vᵀ (the init is not aligned with W*)",
        "matrix_factorization",
        f"{FACTORIZATION}:balanced_aligned_init",
        _untransposed_v,
        ("singular_vectors_stay_fixed",),
    ),
)

# ---------------------------------------------------------------------------------------
# F6b: two-layer linear networks


def _null_space_push(original):
    """W₁'s gradient with a constant 1e-6 added: the rows of W₁ leave Col(X)."""

    def gradients(w1, w2, X, Y, weight=1.0):
        g1, g2 = original(w1, w2, X, Y, weight)
        return g1 + 1e-6, g2

    return gradients


LINEAR_NETS_BUGS = (
    Bug(
        "w1_gradient_leaks_into_null_space",
        "W₁'s gradient carries a constant 1e-6 push (rows of W₁ leave Col(X))",
        "linear_nets",
        "implicit_reg.dynamics.linear_nets:linear_net_gradients",
        _null_space_push,
        ("null_space_component_unchanged",),
    ),
    Bug(
        "sgd_linear_net_step_10x_small",
        "SGD on the linear network runs with η/10 (stops far from its limit)",
        "linear_nets",
        "implicit_reg.dynamics.linear_nets:step_size",
        scaled_argument(3, 0.1, "fraction"),
        (
            "gd_row_space_init_reaches_min_norm",
            "sgd_row_space_init_reaches_min_norm",
            "gd_generic_init_reaches_shifted_limit",
            "sgd_generic_init_reaches_shifted_limit",
        ),
    ),
)

# ---------------------------------------------------------------------------------------
# F6c: lazy training and the PL rate


def _output_power(exponent):
    """The network's output divided by ``m^exponent`` instead of √m (kernel by m^(2·exponent))."""

    def wrap(original):
        def normalization(m, squared=False):
            return float(m) ** (2 * exponent if squared else exponent)

        return normalization

    return wrap


def _mean_field_outputs_only(original):
    """Outputs and gradients divided by m (mean-field) while the kernel keeps its 1/m."""

    def normalization(m, squared=False):
        return original(m, squared) if squared else float(m)

    return normalization


NETWORK = "implicit_reg.dynamics.network"

LAZY_TRAINING_BUGS = (
    Bug(
        "mean_field_network_ntk_kernel",
        "the network's output and gradients are divided by m (mean-field) while its tangent "
        "kernel, the step η = c·n/λ_max(K₀) and the linearization keep the 1/√m scaling",
        "lazy_training",
        f"{NETWORK}:output_normalization",
        _mean_field_outputs_only,
        (
            "weight_change_slope_lower",
            "linearization_gap_train_slope",
            "linearization_gap_test_slope",
            "kernel_change_slope",
            "pl_bound_widest_network",
        ),
    ),
    Bug(
        "output_power_three_quarters",
        "the network's output is divided by m^(3/4) instead of √m (kernel by m^(3/2), and "
        "the step follows it)",
        "lazy_training",
        f"{NETWORK}:output_normalization",
        _output_power(0.75),
        (
            "weight_change_slope_upper",
            "linearization_gap_train_slope",
            "linearization_gap_test_slope",
            "kernel_change_slope",
        ),
    ),
    Bug(
        "network_gd_step_tenth",
        "GD on the network runs with η/10 while the recorded η is the intended one",
        "lazy_training",
        f"{NETWORK}:gd_path",
        scaled_argument(5, 0.1, "eta"),
        (
            "linearization_gap_train_slope",
            "linearization_gap_test_slope",
            "pl_bound_widest_network",
        ),
    ),
)

PL_RATE_BUGS = (
    Bug(
        "least_squares_step_halved",
        "GD on least squares runs with η/2 while the recorded η is the intended one",
        "pl_rate",
        "implicit_reg.risk.algorithms:gd_path",
        scaled_argument(3, 0.5, "eta"),
        ("pl_linear_rate_least_squares",),
    ),
)

BUGS = MATRIX_FACTORIZATION_BUGS + LINEAR_NETS_BUGS + LAZY_TRAINING_BUGS + PL_RATE_BUGS
