"""Plausible bugs of the dynamics simulations and the claims that catch them.

See `implicit_reg.bugs`.
"""

from __future__ import annotations

from implicit_reg.bugs import Bug, scaled_argument


def _null_space_push(original):
    """W₁'s gradient with a constant 1e-6 added: the rows of W₁ leave Col(X)."""

    def gradients(w1, w2, X, Y, weight=1.0):
        g1, g2 = original(w1, w2, X, Y, weight)
        return g1 + 1e-6, g2

    return gradients


BUGS = (
    Bug(
        "reference_clock_2pct_fast",
        "the exact singular values are evaluated at 1.02 t (dd' off by 2%)",
        "matrix_factorization",
        "implicit_reg.dynamics.exact:exact_singular_values",
        scaled_argument(0, 1.02, "t"),
        ("gd_error_shrinks_with_step",),
    ),
    Bug(
        "w1_gradient_leaks_into_null_space",
        "W₁'s gradient carries a constant 1e-6 push (rows of W₁ leave Col(X))",
        "linear_nets",
        "implicit_reg.dynamics.linear_nets:linear_net_gradients",
        _null_space_push,
        ("null_space_component_unchanged",),
    ),
    Bug(
        "least_squares_step_halved",
        "GD on least squares runs with η/2 while the recorded η is the intended one",
        "pl_rate",
        "implicit_reg.risk.algorithms:gd_path",
        scaled_argument(3, 0.5, "eta"),
        ("pl_linear_rate_least_squares",),
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
