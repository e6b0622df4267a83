"""Data of the F6c lazy-training experiment (the dynamics family's own target).

The inputs are points on the unit sphere (`implicit_reg.problems.sphere`) and the PL
experiment draws the shared Gaussian regression (`implicit_reg.problems.gaussian_regression`).
"""

from __future__ import annotations

import numpy as np


def smooth_target(X: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``f*(x) = sin(2⟨u, x⟩) + ⟨v, x⟩²``: a smooth target with odd and even parts.

    Parameters
    ----------
    X : ndarray, shape (trials, n, d)
    u, v : ndarray, shape (trials, d)

    Returns
    -------
    ndarray, shape (trials, n)
    """
    return np.sin(2.0 * np.einsum("tnd,td->tn", X, u)) + np.einsum("tnd,td->tn", X, v) ** 2
