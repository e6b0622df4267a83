"""Data of the F3b experiment (the diagonal family's own generator).

The F3a design, a sparse regression shared with the noise family, is
`implicit_reg.problems.sparse_regression`.
"""

from __future__ import annotations

import numpy as np


def support_recovery_data(rng: np.random.Generator, n_trials: int, n: int, d: int, r: int):
    """Data of the β⊙β model: x ~ N(0, I_d), β* = 1_S with |S| = r, standard noise ξ.

    Returns
    -------
    X : ndarray, shape (trials, n, d)
    support : ndarray of bool, shape (trials, d)
        The indicator of S (uniform per trial); θ* = β*⊙β* = 1_S.
    xi : ndarray, shape (trials, n)
        Standard normal label noise: the labels are y = Xθ* + σξ.

    References
    ----------
    Li, Ma & Zhang (2018) (the model; β* = 1_S as in docs/science.md §F3b);
    Vaškevičius et al. (2019), §2 (noisy labels).
    """
    X = rng.standard_normal((n_trials, n, d))
    order = np.argsort(rng.random((n_trials, d)), axis=1)[:, :r]
    support = np.zeros((n_trials, d), dtype=bool)
    np.put_along_axis(support, order, True, axis=1)
    xi = rng.standard_normal((n_trials, n))
    return X, support, xi
