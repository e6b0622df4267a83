"""(S)GD with and without label noise on the diagonal network θ = u⊙u − v⊙v (docs/science.md §F5c).

The batch-1 loop is the expensive part of the family (10⁵–10⁶ sequential steps), so it
runs every trial and every label-noise level in one array and does no Python work per
step beyond seven in-place array operations: sample rows, labels and their label noise
are drawn for a chunk of steps at once, and u, v are stacked so that one multiplication
applies u ← u(1 − 2ηg), v ← v(1 + 2ηg). Full-batch GD reuses the diagonal family's
gradient (`implicit_reg.diagonal.algorithms.uv_gradient`). Neither loop calls
`implicit_reg.noise.exact`; the product recursion they can track is passed in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from implicit_reg.diagonal.algorithms import uv_gradient
from implicit_reg.problems import DIVERGENCE_LIMIT

#: Steps whose rows and labels are drawn at once: large enough to amortize the draws,
#: small enough that the chunk's arrays stay in cache.
CHUNK = 64


@dataclass(frozen=True)
class UVPath:
    """(u, v) at checkpoints (c = checkpoints, R = runs, d = coordinates).

    Attributes
    ----------
    u, v : ndarray, shape (c, R, d)
    tracked_products : ndarray, shape (c, R, d) or None
        u₀⊙v₀ times the product of ``factor(g_k)`` over the steps so far.
    diverged : ndarray of bool, shape (R,)
        The run left the float range; its later checkpoints are NaN.
    """

    u: np.ndarray
    v: np.ndarray
    tracked_products: np.ndarray | None
    diverged: np.ndarray


def sgd_uv(
    X: np.ndarray,
    y: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    eta: float,
    label_noise: np.ndarray,
    checkpoints: np.ndarray,
    rng: np.random.Generator,
    factor: Callable[..., np.ndarray] | None = None,
) -> UVPath:
    """Batch-1 SGD on (u, v) for ½(x_iᵀθ − ỹ_i)², ỹ_i = y_i + δε_i, ε_i = ±1 fresh each step.

    g = x_i(x_iᵀθ − ỹ_i) is the gradient in θ; u ← u(1 − 2ηg), v ← v(1 + 2ηg) (the
    gradient step in u and v). The row i is uniform over the n samples of the run's trial.

    Parameters
    ----------
    X : ndarray, shape (R, n, d)
    y : ndarray, shape (R, n)
    u, v : ndarray, shape (R, d)
        Initialization (positive).
    eta : float
    label_noise : ndarray, shape (R,)
        δ of each run (0: SGD on the clean labels).
    checkpoints : ndarray of int, shape (c,)
    rng : numpy.random.Generator
    factor : callable, optional
        ``factor(g, η, out=)`` for the gradients g (shape (..., d)) of a chunk of steps;
        its product over the steps is tracked from u₀⊙v₀.

    Returns
    -------
    UVPath

    References
    ----------
    Blanc, Gupta, Valiant & Valiant (2020); HaoChen, Kale, Lee & Ma (2021);
    docs/science.md §F5c.
    """
    n_runs, n, d = X.shape
    # Flat row index r·n + i of sample i of run r: rows are gathered by np.take into
    # preallocated chunk buffers (fresh large temporaries per chunk cost more than the loop).
    offsets = (np.arange(n_runs) * n)[None, :]
    flat_X, flat_y = X.reshape(n_runs * n, d), y.reshape(n_runs * n)
    uv = np.stack([u, v]).astype(float)  # (2, R, d)
    squares, update = np.empty_like(uv), np.empty_like(uv)
    theta = np.empty((n_runs, d))
    signed = np.array([-2.0 * eta, 2.0 * eta])[None, :, None, None]
    delta = np.asarray(label_noise, float)[None, :]
    x_buffer = np.empty((CHUNK, n_runs, d))
    label_buffer = np.empty((CHUNK, n_runs))
    kick_buffer = np.empty((CHUNK, 2, n_runs, d))
    residual_buffer = np.empty((CHUNK, n_runs))
    gradient_buffer = np.empty((CHUNK, n_runs, d))
    chunk_product = np.empty((n_runs, d))
    tracked = uv[0] * uv[1] if factor is not None else None
    shape = (len(checkpoints), n_runs, d)
    out_u, out_v = np.empty(shape), np.empty(shape)
    out_tracked = np.empty(shape) if factor is not None else None
    diverged = np.zeros(n_runs, dtype=bool)
    step = 0
    for c, stop in enumerate(checkpoints):
        while step < stop:
            m = min(CHUNK, int(stop) - step)
            idx = rng.integers(0, n, size=(m, n_runs)) + offsets
            signs = 2.0 * rng.integers(0, 2, size=(m, n_runs)) - 1.0
            x = np.take(flat_X, idx, axis=0, out=x_buffer[:m])  # (m, R, d)
            labels = np.take(flat_y, idx, out=label_buffer[:m])  # (m, R)
            labels += delta * signs
            kicks = np.multiply(signed, x[:, None], out=kick_buffer[:m])  # ∓2η x
            residuals = residual_buffer[:m]
            for j in range(m):
                np.multiply(uv, uv, out=squares)
                np.subtract(squares[0], squares[1], out=theta)
                r = residuals[j]
                np.vecdot(x[j], theta, out=r)
                r -= labels[j]
                np.multiply(kicks[j], r[:, None], out=update)
                update += 1.0
                uv *= update
            step += m
            if factor is not None:
                gradients = np.multiply(x, residuals[..., None], out=gradient_buffer[:m])
                factors = factor(gradients, eta, out=gradients)
                tracked *= np.multiply.reduce(factors, axis=0, out=chunk_product)
            bad = ~(np.abs(uv) <= DIVERGENCE_LIMIT).all(axis=(0, 2))
            if bad.any():
                diverged |= bad
                uv[:, bad] = np.nan
        out_u[c], out_v[c] = uv
        if out_tracked is not None:
            out_tracked[c] = tracked
    return UVPath(out_u, out_v, out_tracked, diverged)


def gd_uv(
    X: np.ndarray,
    y: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    etas: np.ndarray,
    checkpoints: np.ndarray,
    factor: Callable[..., np.ndarray] | None = None,
) -> UVPath:
    """Full-batch GD on (1/2n)‖X(u⊙u − v⊙v) − y‖² from a given (u, v), m runs per trial.

    u ← u − η∇_u L, v ← v − η∇_v L with the gradient of
    `implicit_reg.diagonal.algorithms.uv_gradient`; the gradient in θ is
    g = (1/n)Xᵀ(Xθ − y).

    Parameters
    ----------
    X : ndarray, shape (T, n, d)
    y : ndarray, shape (T, n)
    u, v : ndarray, shape (T, m, d)
    etas : ndarray, shape (T, m)
    checkpoints : ndarray of int, shape (c,)
    factor : callable, optional
        ``factor(g, η)`` multiplied into a tracked copy of u⊙v every step.

    Returns
    -------
    UVPath
        With ``u``, ``v`` of shape (c, T, m, d) and ``diverged`` of shape (T, m).

    References
    ----------
    Woodworth et al. (2020), §2; docs/science.md §F3a.
    """
    n = X.shape[1]
    u, v = np.array(u, float), np.array(v, float)
    step_size = np.asarray(etas, float)[..., None]
    tracked = u * v if factor is not None else None
    shape = (len(checkpoints), *u.shape)
    out_u, out_v = np.empty(shape), np.empty(shape)
    out_tracked = np.empty(shape) if factor is not None else None
    diverged = np.zeros(u.shape[:2], dtype=bool)
    step = 0
    for c, stop in enumerate(checkpoints):
        for _ in range(step, int(stop)):
            grad_u, grad_v, residual = uv_gradient(u, v, X, y)
            if factor is not None:
                tracked = tracked * factor((residual @ X) / n, step_size)
            u -= step_size * grad_u
            v -= step_size * grad_v
        step = int(stop)
        bad = ~(np.abs(u) <= DIVERGENCE_LIMIT).all(-1) | ~(np.abs(v) <= DIVERGENCE_LIMIT).all(-1)
        if bad.any():
            diverged |= bad
            u[bad], v[bad] = np.nan, np.nan
        out_u[c], out_v[c] = u, v
        if out_tracked is not None:
            out_tracked[c] = tracked
    return UVPath(out_u, out_v, out_tracked, diverged)
