"""Datasets of the margin family: all return signed samples ``z_i = y_i x_i``.

Linear classifiers without bias only see a sample through ``y_i x_i`` (the losses depend
on ``y_i wᵀx_i``), so the simulations work with the signed matrix ``Z``.
"""

from __future__ import annotations

import numpy as np

#: The four support vectors of Soudry et al. (2018), Fig. 1, already multiplied by
#: their labels: x₁ = (0.5, 1.5), x₂ = (1.5, 0.5) with y = +1 and x₃ = −x₁, x₄ = −x₂
#: with y = −1, so ``y₃x₃ = x₁`` and ``y₄x₄ = x₂``.
SOUDRY_SUPPORT = np.array([[0.5, 1.5], [1.5, 0.5], [0.5, 1.5], [1.5, 0.5]])
#: Their max-margin vector ŵ = (1, 1)/2 (functional margin 1 on the support vectors).
SOUDRY_W_HAT = np.array([0.5, 0.5])


def soudry_2d(
    rng: np.random.Generator, n_trials: int, n_extra: int, min_margin: float
) -> np.ndarray:
    """The Soudry et al. 2-D dataset with random points outside the margin.

    Each trial holds the four support vectors plus ``n_extra`` random points per class
    whose functional margin with the known ŵ = (½, ½) is at least ``min_margin`` > 1
    (strictly outside the margin), so ŵ stays the max-margin vector. Positive points are
    drawn uniformly in the square ``[0, 3]²`` conditioned on ``ŵᵀx ≥ min_margin``
    (rejection sampling); negative points are drawn the same way and negated, so the
    signed samples of both classes share that distribution.

    Parameters
    ----------
    rng : numpy.random.Generator
    n_trials : int
    n_extra : int
        Random points per class.
    min_margin : float
        Lower bound on ``ŵᵀ(y x)`` of the random points, in ``(1, 3)``.

    Returns
    -------
    ndarray, shape (n_trials, 4 + 2 n_extra, 2)
        Signed samples ``y_i x_i``.

    References
    ----------
    Soudry, Hoffer, Nacson, Gunasekar, Srebro (2018), JMLR 19, Fig. 1 and §3.
    """
    need = n_trials * 2 * n_extra
    accepted = np.empty((0, 2))
    while accepted.shape[0] < need:
        cand = rng.uniform(0.0, 3.0, size=(2 * need + 16, 2))
        accepted = np.vstack([accepted, cand[cand @ SOUDRY_W_HAT >= min_margin]])
    extra = accepted[:need].reshape(n_trials, 2 * n_extra, 2)
    support = np.broadcast_to(SOUDRY_SUPPORT, (n_trials, 4, 2))
    return np.concatenate([support, extra], axis=1)


def planted_separable(
    rng: np.random.Generator, n_trials: int, n_samples: int, dim: int, margin: float
) -> tuple[np.ndarray, np.ndarray]:
    """Random separable datasets with a planted margin.

    A unit vector ``w*`` is drawn uniformly on the sphere; samples are ``x ~ N(0, I_d/d)``
    (so ``E‖x‖² = 1``) labelled ``y = sign(w*ᵀx)``, and each signed sample is pushed
    along ``w*`` until its margin is at least ``margin``:
    ``z ← z + max(0, margin − w*ᵀz) w*``. Then ``min_i w*ᵀz_i ≥ margin`` exactly.

    Parameters
    ----------
    rng : numpy.random.Generator
    n_trials, n_samples, dim : int
    margin : float
        Planted margin γ > 0 of the unit separator ``w*``.

    Returns
    -------
    z : ndarray, shape (n_trials, n_samples, dim)
        Signed samples ``y_i x_i``.
    w_star : ndarray, shape (n_trials, dim)
        The planted unit separators.

    References
    ----------
    Block (1962), Novikoff (1962); seed 003, "The Perceptron Algorithm".
    """
    w_star = rng.standard_normal((n_trials, dim))
    w_star /= np.linalg.norm(w_star, axis=1, keepdims=True)
    x = rng.standard_normal((n_trials, n_samples, dim)) / np.sqrt(dim)
    proj = np.einsum("tnd,td->tn", x, w_star)
    z = np.where(proj[..., None] >= 0, x, -x)
    shift = np.maximum(margin - np.abs(proj), 0.0)
    return z + shift[..., None] * w_star[:, None, :], w_star


def gaussian_classes(
    rng: np.random.Generator,
    n_trials: int,
    n_samples: int,
    dim: int,
    separation: float,
    nuisance_dims: int,
    nuisance_scale: float,
) -> np.ndarray:
    """Two overlapping Gaussian classes ``x ~ N(y μ, Σ)``, returned as ``z = y x``.

    ``μ = separation·e₁`` and ``Σ = diag(1, s², …, s², 1, …, 1)`` with
    ``s = nuisance_scale`` on coordinates ``2 … 1 + nuisance_dims``: high-variance
    directions that carry no label information. Labels are ±1 with probability ½; the
    signed sample ``z = y x ~ N(μ, Σ)`` whatever the label. The Bayes error is
    ``Φ(−separation)``, so the classes overlap and a large test set is not separable.

    Parameters
    ----------
    rng : numpy.random.Generator
    n_trials, n_samples, dim : int
    separation : float
        ``‖μ‖``.
    nuisance_dims : int
        Number of high-variance coordinates, ``< dim``.
    nuisance_scale : float
        Their standard deviation ``s``.

    Returns
    -------
    ndarray, shape (n_trials, n_samples, dim)

    References
    ----------
    Soudry et al. (2018), §1 and Fig. 2 (test loss grows while test error does not).
    """
    scale = np.ones(dim)
    scale[1 : 1 + nuisance_dims] = nuisance_scale
    mean = np.zeros(dim)
    mean[0] = separation
    return mean + rng.standard_normal((n_trials, n_samples, dim)) * scale
