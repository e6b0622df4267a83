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
    Zhang et al. (2017), "Understanding deep learning requires rethinking
    generalization", §5 (GD and SGD from zero converge to it); docs/science.md §F1a.
    """
    return np.einsum("...dn,...n->...d", np.linalg.pinv(X), y)
