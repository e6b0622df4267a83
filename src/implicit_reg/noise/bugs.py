"""Plausible bugs of the noise simulations and the claims that catch them.

See `implicit_reg.bugs`.
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from implicit_reg.bugs import Bug, scaled_argument


class _BiasedNormals:
    """A generator whose standard normals have mean ``bias`` (everything else unchanged)."""

    def __init__(self, rng: np.random.Generator, bias: float) -> None:
        self._rng, self._bias = rng, bias

    def standard_normal(self, *args, **kwargs):
        return self._rng.standard_normal(*args, **kwargs) + self._bias

    def __getattr__(self, name):
        return getattr(self._rng, name)


def _biased_noise(original):
    """The 1-D OU chains driven by noise of mean 0.5 instead of 0."""

    def chains(*args, **kwargs):
        *head, rng = args
        return original(*head, _BiasedNormals(rng, 0.5), **kwargs)

    return chains


def _white_streaming_inputs(original):
    """Streaming SGD fed inputs x ~ N(0, I) instead of N(0, H) (H^{1/2} forgotten)."""

    def chains(H, root_H, *args, **kwargs):
        return original(H, np.eye(len(H)), *args, **kwargs)

    return chains


def _sde_transition(original):
    """The 1-D chains advanced by the SDE's exact transition over time η instead of the SGD
    recursion: x ← e^{−ηa}x + σ√(η(1 − e^{−2ηa})/(2a)) ξ (stationary variance ησ²/(2a)).

    Passed to the original as the contraction 1 − e^{−ηa} and a per-ηa noise level."""

    def chains(eta_a, a, sigma, *args, **kwargs):
        eta_a = np.asarray(eta_a, float)
        contraction = -np.expm1(-eta_a)
        eta = eta_a / a
        kick = sigma * np.sqrt(eta * -np.expm1(-2.0 * eta_a) / (2.0 * a))
        return original(contraction, a, kick * a / contraction, *args, **kwargs)

    return chains


def _unscaled_dropout(original):
    """Dropout masks m ~ Bernoulli(p) without the 1/p rescaling of inverted dropout."""

    def mask(rng, shape, keep_prob):
        return original(rng, shape, keep_prob) * keep_prob

    return mask


def _drop_probability_as_keep(original):
    """Dropout that keeps each coordinate with probability 1 − p (p read as the drop
    probability), rescaled by 1/(1 − p)."""

    def mask(rng, shape, keep_prob):
        return original(rng, shape, 1.0 - keep_prob)

    return mask


def _noise_variance_eta(original):
    """Noise injection with ξ ~ N(0, ηI): the noise scale η read as a variance."""

    def injection(w_star, w1, w2, noise_scale, *args, **kwargs):
        return original(w_star, w1, w2, np.sqrt(noise_scale), *args, **kwargs)

    return injection


def _second_factor_copies_first(original):
    """GD on the factorization started from (w₁, w₁): one draw used for both factors."""

    def gd(w_star, w1, w2, *args, **kwargs):
        return original(w_star, w1, np.array(w1, copy=True), *args, **kwargs)

    return gd


def _start_scaled(factor):
    """Full-batch GD on u⊙u − v⊙v started from ``factor`` times the configured (u, v)."""

    def wrap(original):
        def gd(X, y, u, v, *args, **kwargs):
            return original(X, y, factor * np.asarray(u), factor * np.asarray(v), *args, **kwargs)

        return gd

    return wrap


OU_SCALAR = "implicit_reg.noise.ou:scalar_chains"
OU_QUADRATIC = "implicit_reg.noise.ou:quadratic_chains"
FACTORIZATION = "implicit_reg.noise.approximation:factorization_gd"
DROPOUT_MASK = "implicit_reg.noise.approximation:dropout_mask"
INJECTION = "implicit_reg.noise.approximation:noise_injection"
UV_GD = "implicit_reg.noise.label_noise:gd_uv"
UV_SGD = "implicit_reg.noise.label_noise:sgd_uv"
#: The label-noise path alone: the noiseless GD runs cut to their minimum length.
PATH_ONLY = MappingProxyType({"gd_steps": 2, "theta_alpha_steps": 2, "phase_steps": 2})

BUGS = (
    Bug(
        "ou_step_2pct_large",
        "the 1-D OU recursion uses the step 1.02 η",
        "ou",
        OU_SCALAR,
        scaled_argument(0, 1.02, "eta_a"),
        (
            "ou_lag1_autocorrelation",
            "ou_variance_reaches_v_inf",
            "ou_variance_follows_transient",
            "ou_stationary_variance_matches_discrete",
        ),
    ),
    Bug(
        "ou_noise_2pct_large",
        "the 1-D OU recursion's noise has scale 1.02 σ",
        "ou",
        OU_SCALAR,
        scaled_argument(2, 1.02, "sigma"),
        (
            "ou_variance_reaches_v_inf",
            "ou_variance_follows_transient",
            "ou_stationary_variance_matches_discrete",
        ),
    ),
    Bug(
        "ou_noise_mean_half",
        "the 1-D OU recursion's noise has mean 0.5",
        "ou",
        OU_SCALAR,
        _biased_noise,
        ("ou_mean_follows_contraction",),
    ),
    Bug(
        "quadratic_noise_2pct_large",
        "noisy GD on the quadratic uses noise of scale 1.02 σ",
        "ou",
        OU_QUADRATIC,
        scaled_argument(4, 1.02, "sigma"),
        ("quadratic_covariance_matches_exact", "quadratic_eigen_variances_match_exact"),
    ),
    Bug(
        "streaming_inputs_white",
        "streaming SGD draws inputs x ~ N(0, I) instead of N(0, H)",
        "ou",
        OU_QUADRATIC,
        _white_streaming_inputs,
        ("quadratic_divergence_matches_stability_edge",),
    ),
    Bug(
        "penalty_2pct_large",
        "penalized GD on the factorization uses the penalty 1.02 η²",
        "stochastic_approximation",
        FACTORIZATION,
        scaled_argument(4, 1.02, "penalty"),
        ("penalized_gd_product_is_soft_threshold", "imbalance_decays_like_flow"),
    ),
    Bug(
        "ou_sde_transition",
        "the 1-D chains follow the SDE's exact transition over time η (contraction e^{−ηa}) "
        "instead of the SGD recursion",
        "ou",
        OU_SCALAR,
        _sde_transition,
        ("ou_sde_variance_is_off", "ou_stationary_variance_matches_discrete"),
    ),
    Bug(
        "dropout_without_rescaling",
        "dropout masks m ~ Bernoulli(p) without the 1/p rescaling",
        "stochastic_approximation",
        DROPOUT_MASK,
        _unscaled_dropout,
        ("dropout_sgd_reaches_expected_loss_minimizer",),
    ),
    Bug(
        "dropout_keep_is_drop",
        "dropout keeps each coordinate with probability 1 − p (p used as the drop probability)",
        "stochastic_approximation",
        DROPOUT_MASK,
        _drop_probability_as_keep,
        ("dropout_sgd_reaches_expected_loss_minimizer",),
    ),
    Bug(
        "injection_variance_eta",
        "noise injection draws ξ ~ N(0, ηI) (η read as the variance, not the scale)",
        "stochastic_approximation",
        INJECTION,
        _noise_variance_eta,
        ("noise_injection_reaches_soft_threshold",),
    ),
    Bug(
        "factors_start_equal",
        "GD on the factorization starts from (w₁, w₁): one draw used for both factors",
        "stochastic_approximation",
        FACTORIZATION,
        _second_factor_copies_first,
        ("gd_product_equals_w_star", "penalized_gd_product_is_soft_threshold"),
    ),
    Bug(
        "uv_gd_start_20pct_large",
        "full-batch GD on u⊙u − v⊙v starts from 1.2α instead of α",
        "label_noise",
        UV_GD,
        _start_scaled(1.2),
        ("gd_reaches_theta_alpha",),
    ),
    # Label noise of half the scale, or half the step: the products shrink 4× slower.
    *(
        Bug(
            name,
            description,
            "label_noise",
            UV_SGD,
            scaled_argument(position, 0.5, key),
            ("label_noise_shrinks_products_at_its_rate",),
            config=PATH_ONLY,
        )
        for name, description, position, key in (
            (
                "label_noise_half",
                "label-noise SGD draws labels y_i ± δ/2, not y_i ± δ",
                5,
                "label_noise",
            ),
            ("label_noise_sgd_step_half", "batch-1 SGD on u⊙u − v⊙v uses the step η/2", 4, "eta"),
        )
    ),
    Bug(
        "label_noise_missing",
        "the label-noise run is clean SGD (its labels get no noise)",
        "label_noise",
        UV_SGD,
        scaled_argument(5, 0.0, "label_noise"),
        (
            "label_noise_reaches_sparse_solution",
            "label_noise_shrinks_products_at_its_rate",
            "label_noise_regularizer_reaches_rich_limit",
        ),
    ),
)
