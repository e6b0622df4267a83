"""Plausible bugs of the noise simulations and the claims that catch them.

See `implicit_reg.bugs`.
"""

from __future__ import annotations

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


OU_SCALAR = "implicit_reg.noise.ou:scalar_chains"
OU_QUADRATIC = "implicit_reg.noise.ou:quadratic_chains"
FACTORIZATION = "implicit_reg.noise.approximation:factorization_gd"

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
)
