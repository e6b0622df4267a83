"""Checkpoint schedules shared by every simulated trajectory."""

from __future__ import annotations

import numpy as np


def log_checkpoints(n_steps: int, n_points: int) -> np.ndarray:
    """Log-spaced integer steps from 0 to ``n_steps``, both ends included.

    ``n_points`` values of ``round(geomspace(1, n_steps))`` are deduplicated, so the
    result may be shorter than ``n_points + 1`` when ``n_steps`` is small.

    Parameters
    ----------
    n_steps : int
        Last step, at least 1.
    n_points : int
        Number of log-spaced points between step 1 and ``n_steps``, at least 2.

    Returns
    -------
    ndarray of int64, shape (k,)
        Sorted unique steps starting with 0 and ending with ``n_steps``.
    """
    if n_steps < 1 or n_points < 2:
        raise ValueError("need n_steps >= 1 and n_points >= 2")
    steps = np.unique(np.rint(np.geomspace(1, n_steps, n_points)).astype(np.int64))
    return np.concatenate([[0], steps])
