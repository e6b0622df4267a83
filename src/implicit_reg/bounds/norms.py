"""Norm-based capacity: a Frobenius-norm margin bound and the spectral (Bartlett) measure.

For ``f(x) = W_N relu(… relu(W₁x))`` with k outputs, inputs ``‖x‖ ≤ 1`` and the ramp loss
at margin γ:

- Frobenius bound. Golowich, Rakhlin and Shamir (2018, Theorem 1): the scalar networks
  with ``∏_j ‖W_j‖_F ≤ M`` have empirical Rademacher complexity
  ``≤ M (√(2N ln 2) + 1) √(Σᵢ‖xᵢ‖²)/m ≤ M (√(2N ln 2) + 1)/√m``. Each output
  ``x ↦ f_y(x)`` is such a network (row y of W_N has norm ≤ ‖W_N‖_F), so the multiclass
  margin bound (Mohri, Rostamizadeh, Talwalkar 2018, Theorem 9.2) gives, w.p. ≥ 1 − δ,
  ``L_D^{0-1}(f) ≤ L̂_{S,γ}(f) + (4k/γ) M (√(2N ln 2) + 1)/√m + √(ln(1/δ)/(2m))``.
  The class is fixed in advance by a grid ``M = 2^{i/8}`` (i = −512 … 512) and a grid
  of margins; the union bound over both replaces δ by δ/(1025·K_γ).
- Spectral measure (Bartlett, Foster, Telgarsky 2017): ``R_A ‖X‖_F/(γ m)`` with the
  spectral complexity ``R_A = (∏‖W_j‖₂)(Σ_j (‖W_j − W_j⁰‖_{2,1}/‖W_j‖₂)^{2/3})^{3/2}``
  and reference matrices ``W_j⁰`` = the initialization. Their theorem adds log factors and
  unspecified constants, so this is reported as a measure, not as a bound.

References
----------
Golowich, Rakhlin, Shamir (2018), Theorem 1; Mohri, Rostamizadeh, Talwalkar (2018),
Foundations of Machine Learning, 2nd ed., Theorem 9.2; Bartlett, Foster, Telgarsky (2017),
Theorem 1.1; Neyshabur et al. (2017), "Exploring generalization in deep learning".
"""

from __future__ import annotations

import numpy as np

# Exponents i of the norm grid M = 2^{i/8}: fine enough that rounding up costs < 9%.
NORM_GRID = np.arange(-512, 513)
NORM_GRID_BASE = 2.0 ** (1.0 / 8.0)


def frobenius_norm(w: np.ndarray) -> np.ndarray:
    """``‖W‖_F`` of each matrix of a (T, a, b) stack, shape (T,)."""
    return np.sqrt((w.astype(np.float64) ** 2).sum(axis=(1, 2)))


def spectral_norm(w: np.ndarray) -> np.ndarray:
    """``‖W‖₂`` (largest singular value) of each matrix of a (T, a, b) stack, shape (T,).

    ``√λ_max(G)`` of the Gram matrix ``G = WᵀW`` (or ``WWᵀ``, whichever is smaller), in
    float64: two to three times faster than an SVD of W, and accurate to a few units of
    1e-16 relative for the largest singular value. ``inf`` for a matrix with a non-finite
    entry (e.g. a weight beyond the range of the b-bit format it is rounded to).
    """
    w = np.asarray(w, np.float64)
    finite = np.isfinite(w).all(axis=(1, 2))
    w = np.where(finite[:, None, None], w, 0.0)
    gram = w.transpose(0, 2, 1) @ w if w.shape[1] >= w.shape[2] else w @ w.transpose(0, 2, 1)
    norm = np.sqrt(np.maximum(np.linalg.eigvalsh(gram)[:, -1], 0.0))
    return np.where(finite & np.isfinite(norm), norm, np.inf)


def norm_21(w: np.ndarray) -> np.ndarray:
    """``‖Wᵀ‖_{2,1} = Σ_rows ‖W_{i,:}‖₂`` (Bartlett et al.'s ‖Aᵀ − Mᵀ‖_{2,1}), shape (T,)."""
    return np.sqrt((w.astype(np.float64) ** 2).sum(axis=2)).sum(axis=1)


def frobenius_complexity(layers: list[np.ndarray], m: int) -> np.ndarray:
    """Rademacher complexity bound ``M (√(2N ln 2) + 1)/√m`` (Golowich et al., Theorem 1).

    ``M`` is the product ``∏‖W_j‖_F`` rounded up to the grid ``2^{i/8}`` that the union
    bound pays for.

    Returns
    -------
    ndarray, shape (T,)
    """
    product = np.prod([frobenius_norm(w) for w in layers], axis=0)
    grid_value = NORM_GRID_BASE ** np.ceil(np.log(product) / np.log(NORM_GRID_BASE))
    return grid_value * (np.sqrt(2 * len(layers) * np.log(2.0)) + 1.0) / np.sqrt(m)


def frobenius_bound(
    ramp_train, layers: list[np.ndarray], margin, *, n_classes: int, m: int, delta: float
):
    """``L̂_{S,γ} + (4k/γ) R_m + √(ln(1025 K_γ/δ)/(2m))`` per margin (Mohri et al. Thm 9.2).

    Parameters
    ----------
    ramp_train : ndarray, shape (T, K_γ)
        Training ramp loss at each margin of the grid.
    layers : list of ndarray
    margin : ndarray, shape (K_γ,)
    n_classes, m : int
    delta : float

    Returns
    -------
    ndarray, shape (T, K_γ)
    """
    margin = np.asarray(margin, float)
    complexity = frobenius_complexity(layers, m)[:, None]
    confidence = np.sqrt(np.log(len(NORM_GRID) * len(margin) / delta) / (2.0 * m))
    return ramp_train + 4.0 * n_classes / margin * complexity + confidence


def spectral_complexity(layers: list[np.ndarray], init: list[np.ndarray]) -> np.ndarray:
    """``R_A = (∏‖W_j‖₂)(Σ_j (‖(W_j − W_j⁰)ᵀ‖_{2,1}/‖W_j‖₂)^{2/3})^{3/2}``, shape (T,)."""
    spec = [spectral_norm(w) for w in layers]
    ratio = sum(
        (norm_21(w - w0) / s) ** (2.0 / 3.0) for w, w0, s in zip(layers, init, spec, strict=True)
    )
    return np.prod(spec, axis=0) * ratio**1.5


def spectral_measure(layers, init, x_frobenius: float, margin, m: int) -> np.ndarray:
    """``R_A ‖X‖_F / (γ m)`` per trial and margin, shape (T, K_γ) (a measure, not a bound)."""
    margin = np.asarray(margin, float)
    return spectral_complexity(layers, init)[:, None] * x_frobenius / (margin[None, :] * m)
