"""Plausible bugs of the margin simulations and the claims that catch them.

See `implicit_reg.bugs`.
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from implicit_reg.bugs import Bug, scaled_argument


def _normalization_dropped(original):
    """Normalized GD run with the constant step (the 1/L(w) factor never applied)."""

    def path(z, loss, eta, momentum, normalized, checkpoints):
        return original(z, loss, eta, momentum, np.zeros_like(normalized), checkpoints)

    return path


def _labels_flipped(count: int):
    """``wrap``: the first ``count`` samples of every dataset enter the algorithm with
    their label sign inverted (``z_i → −z_i``); the references (SVM, asymptote, bound)
    keep the correct data."""

    def wrap(original):
        def run(z, *args, **kwargs):
            z = np.array(z, dtype=float)
            z[:, :count] = -z[:, :count]
            return original(z, *args, **kwargs)

        return run

    return wrap


def _standardized_samples(original):
    """GD on samples whose coordinates are divided by their standard deviation over the
    training samples, while the references (and the test set) use the raw samples."""

    def path(z, *args, **kwargs):
        return original(z / np.std(z, axis=1, keepdims=True), *args, **kwargs)

    return path


#: Claims of constant-step GD's asymptote that any change of GD's limit direction breaks.
_GD_DIRECTION_CLAIMS = (
    "residual_bounded",
    "loss_times_t_levels_off",
    "angle_gap_vanishing_coefficient",
    "margin_gap_vanishing_coefficient",
)

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
    Bug(
        "gd_first_label_flipped",
        "GD runs with the first sample's label inverted (ŵ, w̃ from the correct labels)",
        "soudry",
        "implicit_reg.margin.experiments:descent_path",
        _labels_flipped(1),
        (
            *_GD_DIRECTION_CLAIMS,
            "angle_gap_inverse_log_rate",
            "margin_gap_inverse_log_rate",
            "asymptote_residual_decays",
        ),
    ),
    Bug(
        "gd_standardized_samples",
        "GD runs on samples standardized per coordinate; ŵ, w̃ are those of the raw samples",
        "soudry",
        "implicit_reg.margin.experiments:descent_path",
        _standardized_samples,
        _GD_DIRECTION_CLAIMS,
    ),
    Bug(
        "perceptron_first_label_flipped",
        "the perceptron runs with the first sample's label inverted (R, γ, ŵ from the "
        "correct labels)",
        "perceptron",
        "implicit_reg.margin.experiments:perceptron",
        _labels_flipped(1),
        (
            "perceptron_mistake_bound",
            "perceptron_mistake_bound_svm_margin",
            "perceptron_converges",
        ),
        # A cap above the bound (R/γ)² ≈ 400 of every dataset, small enough that the runs
        # that never separate stop in a second.
        MappingProxyType({"max_updates": 2000}),
    ),
    Bug(
        "test_loss_standardized_training_samples",
        "GD trains on standardized samples, the test set is not standardized",
        "test_loss",
        "implicit_reg.margin.experiments:descent_path",
        _standardized_samples,
        ("test_error_does_not_rise",),
    ),
    Bug(
        "test_loss_three_training_labels_flipped",
        "GD of the test-loss experiment runs with 3 of its 60 training labels inverted",
        "test_loss",
        "implicit_reg.margin.experiments:descent_path",
        _labels_flipped(3),
        ("test_error_does_not_rise",),
    ),
)
