"""Linear algebra shared by several families."""

from __future__ import annotations

import numpy as np


def min_norm_solution(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Minimum-ℓ2-norm least-squares solution ``X⁺y`` for each trial.

    Parameters
    ----------
    X : ndarray, shape (..., n, d)
    y : ndarray, shape (..., n)

    Returns
    -------
    ndarray, shape (..., d)
        The interpolator of least norm when ``n ≤ d`` and X has full row rank.

    References
    ----------
    Seed 001 §9.1 and Corollary 9.2; seed 003 (GD from zero converges to it).
    """
    return np.einsum("...dn,...n->...d", np.linalg.pinv(X), y)
