"""Plausible bugs of the risk simulations and the claims that catch them (`implicit_reg.bugs`)."""

from __future__ import annotations

from implicit_reg.bugs import Bug, scaled_argument


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


BUGS = (
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
)
