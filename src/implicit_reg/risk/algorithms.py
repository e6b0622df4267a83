"""Gradient descent and SGD on least squares, vectorized over trials.

Loss ``L(β) = (1/2n)‖y − Xβ‖²`` for each trial; arrays carry a leading trial axis.
A trial whose iterate stops being finite or grows beyond `DIVERGENCE_GROWTH` times its
data scale ``1 + ‖β₀‖ + ‖y‖`` is frozen and flagged as diverged from then on. Stable
GD/SGD on least squares stay within ``‖β₀‖ + ‖X⁺y‖``, and ``‖X⁺y‖ ≤ ‖y‖/σ_min(X)``, so
only a degenerate design (``σ_min < 1e-10``) could reach the limit without diverging.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from implicit_reg.progress import Progress

DIVERGENCE_GROWTH = 1e10
BATCH_BLOCK = 1000


@dataclass(frozen=True)
class Path:
    """Iterates of a batch of trials at checkpoints.

    Attributes
    ----------
    steps : ndarray of int, shape (k,)
    betas : ndarray, shape (k, trials, d)
        NaN from the first checkpoint after a trial diverged.
    diverged : ndarray of bool, shape (k, trials)
        Whether the trial had diverged by that checkpoint.
    """

    steps: np.ndarray
    betas: np.ndarray
    diverged: np.ndarray


def least_squares_gradient(X: np.ndarray, y: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """``∇L(β) = Xᵀ(Xβ − y)/n`` for each trial.

    Parameters
    ----------
    X : ndarray, shape (trials, n, d)
    y : ndarray, shape (trials, n)
    beta : ndarray, shape (trials, d)
    """
    residual = np.einsum("tnd,td->tn", X, beta) - y
    return np.einsum("tnd,tn->td", X, residual) / X.shape[1]


def stable_step_size(X: np.ndarray, fraction: float) -> np.ndarray:
    """``η = fraction · 2/λ_max(XᵀX/n)`` per trial: GD is stable iff ``fraction < 1``.

    Parameters
    ----------
    X : ndarray, shape (trials, n, d)

    Returns
    -------
    ndarray, shape (trials,)
    """
    top = np.linalg.norm(X, ord=2, axis=(1, 2)) ** 2 / X.shape[1]
    return fraction * 2.0 / top


def sgd_stable_step_size(X: np.ndarray, fraction: float) -> np.ndarray:
    """``η = fraction · 2/max_i ‖x_i‖²`` per trial.

    Every mini-batch Hessian ``X_Bᵀ X_B/b`` has top eigenvalue at most
    ``max_i ‖x_i‖²`` (its trace bound), so SGD with any batch size is stable for
    ``fraction < 1``.
    """
    return fraction * 2.0 / np.max(np.sum(X * X, axis=2), axis=1)


def _record(betas, diverged, beta, is_diverged, k):
    betas[k] = np.where(is_diverged[:, None], np.nan, beta)
    diverged[k] = is_diverged


def _check_divergence(beta: np.ndarray, is_diverged: np.ndarray, limit: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        norm = np.sqrt(np.sum(beta * beta, axis=1))
    return is_diverged | ~np.isfinite(norm) | (norm > limit)


def gd_path(
    X: np.ndarray, y: np.ndarray, beta0: np.ndarray, eta: np.ndarray, checkpoints: np.ndarray
) -> Path:
    """Full-batch gradient descent ``β_{k+1} = β_k − η Xᵀ(Xβ_k − y)/n``.

    Parameters
    ----------
    X : ndarray, shape (trials, n, d)
    y : ndarray, shape (trials, n)
    beta0 : ndarray, shape (trials, d)
    eta : ndarray, shape (trials,)
    checkpoints : ndarray of int, shape (k,)
        Sorted steps at which iterates are kept (0 = the initialization).

    References
    ----------
    Zhang et al. (2017), §5: from ``β₀ = 0`` the iterates stay in the row space of X and
    converge to ``X⁺y``; docs/science.md §F1a.
    """
    return _iterate(
        lambda beta, k: beta - eta[:, None] * least_squares_gradient(X, y, beta),
        beta0,
        y,
        checkpoints,
    )


def sgd_path(
    X: np.ndarray,
    y: np.ndarray,
    beta0: np.ndarray,
    eta: np.ndarray,
    batch_size: int,
    checkpoints: np.ndarray,
    rng: np.random.Generator,
) -> Path:
    """Mini-batch SGD ``β_{k+1} = β_k − η X_Bᵀ(X_Bβ_k − y_B)/b``, batches drawn uniformly.

    Each trial draws its own batch of ``b`` distinct rows at every step; the sample
    gradient is an unbiased estimate of ``∇L``, so ``t = ηk`` is comparable to GD.

    Parameters
    ----------
    batch_size : int
        ``b``, between 1 and n.
    rng : numpy.random.Generator
        Source of the batch indices.

    References
    ----------
    Zhang et al. (2017), §5 (SGD also converges to the minimum-norm interpolant: every
    update lies in the row space of X); docs/science.md §F1a.
    """
    n_trials, n, _ = X.shape
    rows = np.arange(n_trials)[:, None]
    scale = (eta / batch_size)[:, None, None]
    block: dict[str, np.ndarray] = {}

    def step(beta, k):
        # Batches are drawn a block of steps at a time: vectorized, bounded memory.
        if k % BATCH_BLOCK == 0:
            block["rows"] = _batch_indices(rng, BATCH_BLOCK, n_trials, n, batch_size)
        batch = block["rows"][k % BATCH_BLOCK]
        Xb, yb = X[rows, batch], y[rows, batch]
        residual = (Xb @ beta[:, :, None])[:, :, 0] - yb
        return beta - (scale * (Xb.transpose(0, 2, 1) @ residual[:, :, None]))[:, :, 0]

    return _iterate(step, beta0, y, checkpoints)


def _batch_indices(
    rng: np.random.Generator, n_steps: int, n_trials: int, n: int, batch_size: int
) -> np.ndarray:
    """Row indices of every step's batch, shape (steps, trials, b), drawn up front.

    Batches of distinct rows come from the ``b`` smallest of ``n`` uniforms
    (``argpartition``), so no Python loop runs over trials.
    """
    if batch_size == 1:
        return rng.integers(0, n, size=(n_steps, n_trials, 1))
    keys = rng.random((n_steps, n_trials, n))
    return np.argpartition(keys, batch_size - 1, axis=2)[:, :, :batch_size]


def _iterate(step, beta0: np.ndarray, y: np.ndarray, checkpoints: np.ndarray) -> Path:
    """Run ``beta = step(beta, k)`` up to the last checkpoint, freezing diverged trials."""
    checkpoints = np.asarray(checkpoints, dtype=np.int64)
    limit = DIVERGENCE_GROWTH * (
        1.0 + np.sqrt(np.sum(beta0 * beta0, axis=1)) + np.sqrt(np.sum(y * y, axis=1))
    )
    n_trials, d = beta0.shape
    betas = np.empty((len(checkpoints), n_trials, d))
    diverged = np.zeros((len(checkpoints), n_trials), dtype=bool)
    beta = beta0.astype(float).copy()
    is_diverged = np.zeros(n_trials, dtype=bool)
    next_index = 0
    progress = Progress(checkpoints[-1], "least-squares iterations")
    for k in range(int(checkpoints[-1]) + 1):
        progress.update(k)
        while next_index < len(checkpoints) and checkpoints[next_index] == k:
            _record(betas, diverged, beta, is_diverged, next_index)
            next_index += 1
        if k == checkpoints[-1]:
            break
        with np.errstate(over="ignore", invalid="ignore"):
            updated = step(beta, k)
        is_diverged = _check_divergence(updated, is_diverged, limit)
        beta = np.where(is_diverged[:, None], beta, updated)
    return Path(steps=checkpoints, betas=betas, diverged=diverged)


def gd_gram_path(
    gram: np.ndarray, moment: np.ndarray, eta: float, checkpoints: np.ndarray
) -> np.ndarray:
    """Gradient descent on least squares for many label draws sharing one design.

    ``B_{k+1} = B_k − η(G B_k − M)`` from ``B_0 = 0``, with ``G = XᵀX/n`` and
    ``M = XᵀY/n``: each column of ``B`` is the GD iterate ``β_k`` for one column of
    ``Y`` (one draw of β* and noise), the gradient of ``(1/2n)‖y − Xβ‖²`` being
    ``Gβ − Xᵀy/n``.

    Parameters
    ----------
    gram : ndarray, shape (trials, d, d)
    moment : ndarray, shape (trials, d, m)
    eta : float
        Step size, below ``2/λ_max(G)`` for stability.
    checkpoints : ndarray of int, shape (k,)
        Sorted steps to keep (0 = the initialization).

    Returns
    -------
    ndarray, shape (k, trials, d, m)
        Iterates at the checkpoints; NaN once an iterate stops being finite.

    References
    ----------
    Ali, Kolter, Tibshirani (2019), §2 (early-stopped GD on least squares).
    """
    checkpoints = np.asarray(checkpoints, dtype=np.int64)
    path = np.empty((len(checkpoints), *moment.shape))
    beta = np.zeros_like(moment, dtype=float)
    step_moment = eta * moment
    next_index = 0
    progress = Progress(checkpoints[-1], "gradient descent on label draws")
    for k in range(int(checkpoints[-1]) + 1):
        progress.update(k)
        while next_index < len(checkpoints) and checkpoints[next_index] == k:
            path[next_index] = beta
            next_index += 1
        if k == checkpoints[-1]:
            break
        with np.errstate(over="ignore", invalid="ignore"):
            beta = beta - eta * (gram @ beta) + step_moment
    path[~np.isfinite(path)] = np.nan
    return path
