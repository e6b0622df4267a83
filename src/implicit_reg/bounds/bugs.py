"""Plausible bugs of the bounds simulations and the claims that catch them.

See `implicit_reg.bugs`.
"""

from __future__ import annotations

import numpy as np

from implicit_reg.bounds import data
from implicit_reg.bugs import Bug


def _learning_rate_hundredfold_small(original):
    """`mlp.train` with ``lr/100``."""

    def train(*args, **kwargs):
        return original(*args, **{**kwargs, "lr": kwargs["lr"] / 100})

    return train


def _corruption_ignored(original):
    """`data.corrupt_labels` that keeps every true label whatever ``p``."""

    def corrupt(y, p, n_trials, rng):
        return original(y, 0.0, n_trials, rng)

    return corrupt


def _labels_misaligned(original):
    """`data.load_split` whose training labels are those of the first ``n_train`` digits
    of the data set (its stored order) instead of the split's training images."""

    def load(n_train, split_seed):
        digits = original(n_train, split_seed)
        labels = data.digits_arrays()[1][:n_train].copy()
        return data.Digits(digits.x_train, labels, digits.x_test, digits.y_test)

    return load


def _training_labels_off_by_one(original):
    """`data.load_split` whose training labels are ``(y + 1) mod 10`` (class indices
    shifted by one, as when 1-based labels are read as 0-based); test labels correct."""

    def load(n_train, split_seed):
        digits = original(n_train, split_seed)
        labels = (digits.y_train + 1) % data.N_CLASSES
        return data.Digits(digits.x_train, labels, digits.x_test, digits.y_test)

    return load


def _relabelling_dropped(original):
    """`data.adversarial_labels` that returns the labels unchanged."""

    def relabel(y):
        return np.array(y, copy=True)

    return relabel


def _prior_at_trained_weights(original):
    """`pacbayes.sigma_grid_bounds` with the prior centred at the trained weights θ̂
    (the trained weights passed twice, so KL = 0) instead of the initialization θ₀."""

    def grid(weights, init, *args, **kwargs):
        return original(weights, weights, *args, **kwargs)

    return grid


def _prior_sample_is_whole_sample(original):
    """`pacbayes.split_sample` whose ``S_prior`` is the whole training sample (``S_bound``
    included): the data-dependent prior sees the examples the bound is computed on."""

    def split(m, fraction, n_trials, rng):
        _, bound_idx = original(m, fraction, n_trials, rng)
        return np.tile(np.arange(m), (n_trials, 1)), bound_idx

    return split


BUGS = (
    Bug(
        "sgd_learning_rate_hundredfold_small",
        "SGD trains with η/100 (the loss gradient averaged over the batch twice)",
        "corruption",
        "implicit_reg.bounds.mlp:train",
        _learning_rate_hundredfold_small,
        (
            "train_error_every_p",
            "frobenius_measure_increases_with_p",
            "spectral_measure_increases_with_p",
        ),
    ),
    Bug(
        "postulates_sgd_learning_rate_hundredfold_small",
        "SGD of the postulates' networks trains with η/100",
        "postulates",
        "implicit_reg.bounds.mlp:train",
        _learning_rate_hundredfold_small,
        ("train_error_random_inputs",),
    ),
    Bug(
        "labels_not_corrupted",
        "the corruption level p is recorded but ignored: every training set keeps its true labels",
        "corruption",
        "implicit_reg.bounds.data:corrupt_labels",
        _corruption_ignored,
        (
            "test_error_random_labels",
            "pacbayes_datadep_above_gibbs_error",
            "pacbayes_datadep_increases_with_p",
            "frobenius_measure_increases_with_p",
            "spectral_measure_increases_with_p",
        ),
    ),
    Bug(
        "training_labels_misaligned",
        "the training labels are those of the data set's first m digits, not of the "
        "split's training images",
        "corruption",
        "implicit_reg.bounds.data:load_split",
        _labels_misaligned,
        (
            "test_error_clean",
            "pacbayes_datadep_increases_with_p",
            "frobenius_measure_increases_with_p",
            "spectral_measure_increases_with_p",
        ),
    ),
    Bug(
        "training_labels_off_by_one",
        "the training labels are shifted by one class ((y + 1) mod 10); the test labels "
        "are correct",
        "corruption",
        "implicit_reg.bounds.data:load_split",
        _training_labels_off_by_one,
        (
            "test_error_clean",
            "pacbayes_optimized_above_gibbs_error",
            "pacbayes_datadep_above_gibbs_error",
        ),
    ),
    Bug(
        "postulates_training_labels_misaligned",
        "the postulates' training labels are those of the data set's first m digits, not of "
        "the split's training images",
        "postulates",
        "implicit_reg.bounds.data:load_split",
        _labels_misaligned,
        ("half_random_inputs_test_error", "half_adversarial_test_error_increase"),
    ),
    Bug(
        "adversarial_relabelling_dropped",
        "the half_adversarial variant keeps its true labels ((y + 1) mod 10 never applied)",
        "postulates",
        "implicit_reg.bounds.data:adversarial_labels",
        _relabelling_dropped,
        ("half_adversarial_test_error_increase",),
    ),
    Bug(
        "pacbayes_prior_at_trained_weights",
        "the σ-grid PAC-Bayes prior is centred at the trained weights, not at the "
        "initialization (KL = 0)",
        "corruption",
        "implicit_reg.bounds.pacbayes:sigma_grid_bounds",
        _prior_at_trained_weights,
        ("pacbayes_kl_above_gibbs_error",),
    ),
    Bug(
        "datadep_prior_sees_bound_sample",
        "the data-dependent prior is trained on the whole training sample, S_bound included",
        "corruption",
        "implicit_reg.bounds.pacbayes:split_sample",
        _prior_sample_is_whole_sample,
        ("pacbayes_datadep_above_gibbs_error", "pacbayes_datadep_increases_with_p"),
    ),
)
