"""Gradient descent and mini-batch SGD on two-layer linear networks.

Model ``A = W₂W₁`` with ``W₁ ∈ R^{N×d}``, ``W₂ ∈ R^{d'×N}``, data ``X ∈ R^{d×n}``
(columns are samples), ``Y ∈ R^{d'×n}``, loss ``L = ½‖W₂W₁X − Y‖²_F``. Arrays carry a
leading trial axis. Nothing here calls `implicit_reg.dynamics.exact`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LinearNetPath:
    """Weights of a batch of trials at checkpoints.

    Attributes
    ----------
    steps : ndarray of int, shape (c,)
    w1 : ndarray, shape (c, trials, N, d)
    w2 : ndarray, shape (c, trials, d', N)
    diverged : ndarray of bool, shape (c, trials)
        Whether the trial's weights stopped being finite by that checkpoint.
    """

    steps: np.ndarray
    w1: np.ndarray
    w2: np.ndarray
    diverged: np.ndarray


def linear_net_gradients(
    w1: np.ndarray, w2: np.ndarray, X: np.ndarray, Y: np.ndarray, weight: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """``∇_{W₁} = W₂ᵀ E Xᵀ`` and ``∇_{W₂} = E Xᵀ W₁ᵀ`` of ``weight·½‖W₂W₁X − Y‖²``.

    ``E = weight·(W₂W₁X − Y)``. Every row of ``∇_{W₁}`` is a combination of the columns
    of X, so no update adds a component in ``Null(Xᵀ)`` to the rows of W₁ (docs/science.md §F6b).

    Parameters
    ----------
    w1 : ndarray, shape (trials, N, d)
    w2 : ndarray, shape (trials, d', N)
    X : ndarray, shape (trials, d, b)
    Y : ndarray, shape (trials, d', b)
    weight : float
        ``n/b`` for a mini-batch of b of the n columns (an unbiased gradient).

    References
    ----------
    docs/science.md §F6b (the gradient of W₁, W₂ᵀEXᵀ, has rows in Col(X)).
    """
    hidden = w1 @ X  # (trials, N, b)
    error = weight * (w2 @ hidden - Y)
    ex = error @ np.swapaxes(X, 1, 2)  # E Xᵀ, (trials, d', d)
    return np.swapaxes(w2, 1, 2) @ ex, error @ np.swapaxes(hidden, 1, 2)


def step_size(X: np.ndarray, w1: np.ndarray, w2: np.ndarray, fraction: float) -> np.ndarray:
    """``η = fraction / (σ_max(X)²·(‖W₁(0)‖₂² + ‖W₂(0)‖₂²))`` per trial.

    The Gauss–Newton part of the Hessian of L at ``(W₁, W₂)`` has norm at most
    ``σ_max(X)²(‖W₂‖₂² + ‖W₁‖₂²)``; with a target whose minimum-norm product is no larger
    than the initial product the weights stay at this scale.

    Returns
    -------
    ndarray, shape (trials,)
    """
    top = np.linalg.norm(X, ord=2, axis=(1, 2)) ** 2
    weights = sum(np.linalg.norm(w, ord=2, axis=(1, 2)) ** 2 for w in (w1, w2))
    return fraction / (top * weights)


def _batches(rng: np.random.Generator, n_trials: int, n: int, batch_size: int):
    """Random reshuffling: per epoch a permutation per trial, cut into consecutive batches.

    Yields index arrays of shape (trials, b') with b' = batch_size (the last batch of an
    epoch is smaller when b does not divide n), forever.
    """
    while True:
        order = np.argsort(rng.random((n_trials, n)), axis=1)
        for start in range(0, n, batch_size):
            yield order[:, start : start + batch_size]


def linear_net_path(
    X: np.ndarray,
    Y: np.ndarray,
    w1: np.ndarray,
    w2: np.ndarray,
    eta: np.ndarray,
    checkpoints: np.ndarray,
    batch_size: int | None = None,
    rng: np.random.Generator | None = None,
) -> LinearNetPath:
    """GD (``batch_size`` None) or mini-batch SGD with random reshuffling on ``(W₁, W₂)``.

    ``W₁ ← W₁ − η∇_{W₁}``, ``W₂ ← W₂ − η∇_{W₂}`` on the full loss, or on
    ``(n/b)·½‖W₂W₁X_B − Y_B‖²`` for the batch B of the step (so ``t = ηk`` is comparable).

    Parameters
    ----------
    X : ndarray, shape (trials, d, n)
    Y : ndarray, shape (trials, d', n)
    w1 : ndarray, shape (trials, N, d)
    w2 : ndarray, shape (trials, d', N)
    eta : ndarray, shape (trials,)
    checkpoints : ndarray of int, shape (c,)
        Sorted steps at which the weights are kept (0 = the initialization).
    batch_size : int, optional
    rng : numpy.random.Generator, optional
        Needed for SGD.

    References
    ----------
    docs/science.md §F6b (W₁P⊥ never moves; the limit A_min + W₂(∞)W₁(0)P⊥);
    Zhang et al. (2017).
    """
    n_trials, _, n = X.shape
    w1, w2 = w1.astype(float, copy=True), w2.astype(float, copy=True)
    scale = eta[:, None, None]
    rows = np.arange(n_trials)[:, None]
    batches = _batches(rng, n_trials, n, batch_size) if batch_size else None
    steps = np.asarray(checkpoints, dtype=np.int64)
    out1 = np.empty((len(steps), *w1.shape))
    out2 = np.empty((len(steps), *w2.shape))
    diverged = np.zeros((len(steps), n_trials), dtype=bool)
    Xt, Yt = np.swapaxes(X, 1, 2), np.swapaxes(Y, 1, 2)
    step = 0
    with np.errstate(over="ignore", invalid="ignore"):
        for c, stop in enumerate(steps):
            for _ in range(step, int(stop)):
                if batches is None:
                    g1, g2 = linear_net_gradients(w1, w2, X, Y)
                else:
                    batch = next(batches)
                    Xb = np.swapaxes(Xt[rows, batch], 1, 2)
                    Yb = np.swapaxes(Yt[rows, batch], 1, 2)
                    g1, g2 = linear_net_gradients(w1, w2, Xb, Yb, n / batch.shape[1])
                w1 -= scale * g1
                w2 -= scale * g2
            step = int(stop)
            bad = ~(np.isfinite(w1).all(axis=(1, 2)) & np.isfinite(w2).all(axis=(1, 2)))
            diverged[c] = bad
            out1[c] = np.where(bad[:, None, None], np.nan, w1)
            out2[c] = np.where(bad[:, None, None], np.nan, w2)
    return LinearNetPath(steps=steps, w1=out1, w2=out2, diverged=diverged)
