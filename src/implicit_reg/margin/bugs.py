"""Plausible bugs of the margin simulations and the claims that catch them.

See `implicit_reg.bugs`.
"""

from __future__ import annotations

import numpy as np

from implicit_reg.bugs import Bug, scaled_argument


def _normalization_dropped(original):
    """Normalized GD run with the constant step (the 1/L(w) factor never applied)."""

    def path(z, loss, eta, momentum, normalized, checkpoints):
        return original(z, loss, eta, momentum, np.zeros_like(normalized), checkpoints)

    return path


BUGS = (
    Bug(
        "gd_step_5pct_large",
        "GD takes steps of 1.05 η (the η recorded and used by the asymptote is η)",
        "soudry",
        "implicit_reg.margin.experiments:descent_path",
        scaled_argument(2, 1.05, "eta"),
        ("asymptote_residual_decays",),
    ),
    Bug(
        "gd_step_20pct_large",
        "GD takes steps of 1.2 η (the η recorded and used by the asymptote is η)",
        "soudry",
        "implicit_reg.margin.experiments:descent_path",
        scaled_argument(2, 1.2, "eta"),
        ("loss_times_t_limit", "asymptote_residual_decays"),
    ),
    Bug(
        "normalized_gd_not_normalized",
        "normalized GD omits its 1/L(w) step factor",
        "soudry",
        "implicit_reg.margin.experiments:descent_path",
        _normalization_dropped,
        ("normalized_gd_margin_rate", "normalized_gd_margin_rate_symmetric"),
    ),
    Bug(
        "test_loss_gd_step_tenfold_small",
        "GD of the test-loss experiment uses η/10",
        "test_loss",
        "implicit_reg.margin.experiments:descent_path",
        scaled_argument(2, 0.1, "eta"),
        ("test_loss_rises",),
    ),
)
