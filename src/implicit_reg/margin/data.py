"""Datasets of the margin family: all return signed samples ``z_i = y_i x_i``.

Linear classifiers without bias only see a sample through ``y_i x_i`` (the losses depend
on ``y_i wᵀx_i``), so the simulations work with the signed matrix ``Z``.
"""

from __future__ import annotations

import numpy as np

from implicit_reg.problems import random_rotation

#: The four support vectors of Soudry et al. (2018), Fig. 1, already multiplied by
#: their labels: x₁ = (0.5, 1.5), x₂ = (1.5, 0.5) with y = +1 and x₃ = −x₁, x₄ = −x₂
#: with y = −1, so ``y₃x₃ = x₁`` and ``y₄x₄ = x₂``.
SOUDRY_SUPPORT = np.array([[0.5, 1.5], [1.5, 0.5], [0.5, 1.5], [1.5, 0.5]])
#: Their max-margin vector ŵ = (1, 1)/2 (functional margin 1 on the support vectors).
SOUDRY_W_HAT = np.array([0.5, 0.5])
#: Its dual variables on the four support vectors, split equally between the pairs of
#: identical signed samples: ŵ = Σ α_i y_i x_i with α_i = 1/8.
SOUDRY_ALPHA = np.full(4, 0.125)


def soudry_labels(n_extra: int) -> np.ndarray:
    """Labels of the rows of `soudry_2d`: ``(+1, +1, −1, −1)`` then ``n_extra`` of each class."""
    return np.concatenate([[1.0, 1.0, -1.0, -1.0], np.ones(n_extra), -np.ones(n_extra)])


def alternating_labels(n_samples: int) -> np.ndarray:
    """Labels ``+1, −1, +1, …`` for datasets generated as signed samples ``z = y x``."""
    return np.where(np.arange(n_samples) % 2 == 0, 1.0, -1.0)


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


def _unit_simplex(k: int) -> np.ndarray:
    """The ``k`` unit vertices of a regular simplex centred at 0, shape (k, k − 1)."""
    centred = np.eye(k) - 1.0 / k
    basis = np.linalg.svd(centred)[0][:, : k - 1]
    vertices = centred @ basis
    return vertices / np.linalg.norm(vertices, axis=1, keepdims=True)


def planted_dual(
    rng: np.random.Generator,
    n_trials: int,
    dim: int,
    margin: float,
    n_extra: int,
    extra_margin: float,
    dual_spread: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random separable datasets whose max-margin vector and dual variables are planted.

    The analogue in ``R^d`` of the 2-D construction of Soudry et al.: ``d`` support
    vectors whose hard-margin SVM is known in closed form, plus random points strictly
    outside the margin. With a uniformly random unit direction ``u``:

    - duals ``α_i = a_i/(γ² Σ_j a_j)``, ``a_i ~ U(1 − s, 1 + s)`` (``s = dual_spread``),
      so that ``Σ α_i = ‖ŵ‖² = 1/γ²``;
    - support vectors ``z_i = γ u + √(1 − γ²)(e_i − ē)``, ``i = 1 … d``, where ``e_i``
      are the unit vertices of a regular simplex in ``u^⊥`` (randomly rotated) and
      ``ē = Σ α_j e_j/Σ α_j``, so that ``Σ α_i z_i = u/γ = ŵ`` and ``ŵᵀz_i = 1``;
    - ``2·n_extra`` points ``x ~ N(0, I_d/d)`` pushed along ŵ until ``ŵᵀz ≥ extra_margin``.

    ``(ŵ, α)`` satisfies the KKT conditions of ``min ‖w‖² s.t. z_iᵀw ≥ 1`` (margins 1 on
    the support vectors, ≥ extra_margin > 1 elsewhere, ``α ≥ 0``, ``ŵ = Σ α_i z_i``), so
    ŵ is the max-margin vector, with margin ``γ``. The ``d`` support vectors are linearly
    independent and span ``R^d``; the duals differ (``s > 0``), so the offset w̃ of the
    asymptote is not parallel to ŵ and the gaps decay exactly like 1/log t.

    Parameters
    ----------
    rng : numpy.random.Generator
    n_trials, dim : int
    margin : float
        γ = 1/‖ŵ‖, in (0, 1).
    n_extra : int
        Random points per class.
    extra_margin : float
        Lower bound on ``ŵᵀz`` of the random points, > 1.
    dual_spread : float
        Relative spread ``s ∈ [0, 1)`` of the dual variables.

    Returns
    -------
    z : ndarray, shape (n_trials, dim + 2 n_extra, dim)
        Signed samples ``y_i x_i``, support vectors first.
    w_hat : ndarray, shape (n_trials, dim)
    alpha : ndarray, shape (n_trials, dim + 2 n_extra)
        Planted dual variables (0 on the random points).

    References
    ----------
    Soudry et al. (2018), Fig. 1 (the 2-D construction) and eq. (4) (the dual);
    Boyd & Vandenberghe (2004), §5.5.3 (KKT conditions).
    """
    simplex = _unit_simplex(dim)
    z = np.empty((n_trials, dim + 2 * n_extra, dim))
    w_hat = np.empty((n_trials, dim))
    alpha = np.zeros((n_trials, dim + 2 * n_extra))
    for trial in range(n_trials):
        rotation = random_rotation(rng, dim)
        u, complement = rotation[:, 0], rotation[:, 1:]
        weights = rng.uniform(1.0 - dual_spread, 1.0 + dual_spread, dim)
        duals = weights / (weights.sum() * margin**2)
        centred = simplex - duals @ simplex / duals.sum()
        support = margin * u + np.sqrt(1.0 - margin**2) * centred @ complement.T
        w = u / margin
        extra = rng.standard_normal((2 * n_extra, dim)) / np.sqrt(dim)
        extra += np.maximum(extra_margin - extra @ w, 0.0)[:, None] * w / (w @ w)
        z[trial] = np.vstack([support, extra])
        w_hat[trial] = w
        alpha[trial, :dim] = duals
    return z, w_hat, alpha


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
    Block (1962), Novikoff (1962) (perceptron convergence theorem).
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
