"""Data of the F1b experiment (the risk family's own generator).

F1a draws the Gaussian regression shared with other families,
`implicit_reg.problems.gaussian_regression`.
"""

from __future__ import annotations

import numpy as np


def seeded_gaussian_design(seed: int, n: int, d: int, signal_norm: float):
    """One dataset of F1b from its own integer seed, in a documented order.

    ``rng = numpy.random.default_rng(seed)``; ``X = rng.standard_normal((n, d))``;
    ``b = rng.standard_normal(d)``, ``β* = r·b/‖b‖`` (uniform on the sphere of radius r);
    ``ε = rng.standard_normal(n)``. The labels at noise level σ are ``y = Xβ* + σε``, so
    anyone can rebuild the data from the seeds kept beside the table.

    Returns
    -------
    X : ndarray, shape (n, d)
    beta_star : ndarray, shape (d,)
    eps : ndarray, shape (n,)
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    b = rng.standard_normal(d)
    eps = rng.standard_normal(n)
    return X, signal_norm * b / np.linalg.norm(b), eps
