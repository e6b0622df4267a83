"""Gradient descent on the two diagonal models, vectorized over trials and scales.

- F3a: θ = u⊙u − v⊙v, loss (1/2n)‖Xθ − y‖², u₀ = v₀ = α·1.
- F3b: f_β(x) = ⟨β⊙β, x⟩, loss (1/4n)Σ(y − ⟨β⊙β, x⟩)², β₀ = α·1, and its population
  counterpart L(β) = ¼‖β⊙β − β*⊙β*‖² for x ~ N(0, I).

These paths never call the exact references of `implicit_reg.diagonal.exact`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from implicit_reg.problems import DIVERGENCE_LIMIT


def step_size_scale(X: np.ndarray, theta_star: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """Smoothness scale L_α = 4 λ_max(XᵀX/n) √(‖θ*‖∞² + 4α⁴) of the (u, v) loss.

    Along the flow θ̇ = −4(u⊙u + v⊙v)⊙∇_θL and u_j v_j = α² is conserved, so
    u_j² + v_j² = √(θ_j² + 4α⁴); with |θ| of the order of ‖θ*‖∞ this bounds the
    curvature seen by GD. Step sizes are configured as fractions of 1/L_α.

    Returns
    -------
    ndarray, shape (trials, k)

    References
    ----------
    Woodworth et al. (2020), §2 (the flow in θ); docs/science.md §F3a (L_α).
    """
    n = X.shape[1]
    lam = np.linalg.eigvalsh(np.swapaxes(X, 1, 2) @ X / n)[:, -1]
    top = np.abs(theta_star).max(-1)
    return 4.0 * lam[:, None] * np.sqrt(top[:, None] ** 2 + 4.0 * np.asarray(alphas)[None] ** 4)


def uv_gradient(u: np.ndarray, v: np.ndarray, X: np.ndarray, y: np.ndarray):
    """Gradient of L(u, v) = (1/2n)‖X(u⊙u − v⊙v) − y‖².

    With r = (1/n)Xᵀ(Xθ − y): ∇_u L = 2 u⊙r, ∇_v L = −2 v⊙r.

    Parameters
    ----------
    u, v : ndarray, shape (trials, m, d)
        m independent runs (scales, step sizes) per trial.
    X : ndarray, shape (trials, n, d)
    y : ndarray, shape (trials, n)

    Returns
    -------
    grad_u, grad_v : ndarray, shape (trials, m, d)
    residual : ndarray, shape (trials, m, n)
        Xθ − y.

    References
    ----------
    Woodworth et al. (2020), §2 (the 1/2 loss rescaled by 1/n); docs/science.md §F3a.
    """
    n = X.shape[1]
    residual = (u * u - v * v) @ np.swapaxes(X, 1, 2) - y[:, None, :]
    r = (residual @ X) / n
    return 2.0 * u * r, -2.0 * v * r, residual


def uv_gd_path(
    X: np.ndarray,
    y: np.ndarray,
    alphas: np.ndarray,
    etas: np.ndarray,
    checkpoints: np.ndarray,
):
    """Gradient descent u ← u − η∇_u L, v ← v − η∇_v L from u₀ = v₀ = α·1.

    Parameters
    ----------
    X : ndarray, shape (trials, n, d)
    y : ndarray, shape (trials, n)
    alphas, etas : ndarray, shape (trials, m)
        Initialization scale and step size of each of the m runs of a trial.
    checkpoints : ndarray of int, shape (c,)
        Sorted steps at which θ is recorded (0 included).

    Returns
    -------
    thetas : ndarray, shape (c, trials, m, d)
    losses : ndarray, shape (c, trials, m)
        Training loss (1/2n)‖Xθ − y‖² at each checkpoint.
    diverged : ndarray of bool, shape (trials, m)
        Runs stopped because a coordinate exceeded `DIVERGENCE_LIMIT` or became
        non-finite; their later checkpoints repeat the last finite state.

    References
    ----------
    Woodworth et al. (2020), §2; docs/science.md §F3a.
    """
    n_trials, n, d = X.shape
    u = np.broadcast_to(alphas[..., None], (*alphas.shape, d)).astype(float)
    v = u.copy()
    step_size = etas[..., None]
    diverged = np.zeros(alphas.shape, dtype=bool)
    thetas = np.empty((len(checkpoints), *alphas.shape, d))
    losses = np.empty((len(checkpoints), *alphas.shape))
    step = 0
    for c, target in enumerate(checkpoints):
        for _ in range(step, target):
            gu, gv, _ = uv_gradient(u, v, X, y)
            u_new, v_new = u - step_size * gu, v - step_size * gv
            bad = ~(np.abs(u_new) <= DIVERGENCE_LIMIT).all(-1)
            bad |= ~(np.abs(v_new) <= DIVERGENCE_LIMIT).all(-1)
            diverged |= bad
            # Diverged runs keep their last finite state instead of overflowing further.
            keep = diverged[..., None]
            u = np.where(keep, u, u_new)
            v = np.where(keep, v, v_new)
        step = target
        thetas[c] = u * u - v * v
        residual = thetas[c] @ np.swapaxes(X, 1, 2) - y[:, None, :]
        losses[c] = (residual**2).sum(-1) / (2 * n)
    return thetas, losses, diverged


@dataclass(frozen=True)
class BetaPath:
    """Result of `beta_gd_path` for m runs per trial.

    Attributes
    ----------
    betas : ndarray, shape (c, trials, m, d)
        β at each checkpoint.
    losses : ndarray, shape (c, trials, m)
        Training loss (1/4n)‖X(β⊙β) − y‖² at each checkpoint.
    diverged : ndarray of bool, shape (trials, m)
    min_error, argmin_step : ndarray, shape (trials, m)
        min over every step k ≤ the last checkpoint of ‖β_k⊙β_k − reference‖², and the
        first step attaining it (NaN and −1 without a reference).
    beta_at_min : ndarray, shape (trials, m, d)
        β at ``argmin_step`` (the last iterate without a reference).
    escape_step : ndarray of int, shape (trials, m)
        First step k at which some coordinate with reference_j = 0 has |β_j,k| > 2α
        (−1 if none did up to the last checkpoint, or without a reference).
    """

    betas: np.ndarray
    losses: np.ndarray
    diverged: np.ndarray
    min_error: np.ndarray
    argmin_step: np.ndarray
    beta_at_min: np.ndarray
    escape_step: np.ndarray


def beta_gd_path(
    X: np.ndarray,
    y: np.ndarray,
    alphas: np.ndarray,
    eta: float,
    checkpoints: np.ndarray,
    reference: np.ndarray | None = None,
) -> BetaPath:
    """Gradient descent on the empirical loss (1/4n)Σ(y − ⟨β⊙β, x⟩)² from β₀ = α·1.

    ∇L̂(β) = m ⊙ β with m = (1/n)Xᵀ(X(β⊙β) − y), so β ← β − η m⊙β.

    Parameters
    ----------
    X : ndarray, shape (trials, n, d)
    y : ndarray, shape (trials, m, n) or (trials, n)
        Labels of each of the m runs of a trial (shared by every run when 2-D).
    alphas : ndarray, shape (m,)
        Initialization scale of each run.
    eta : float
    checkpoints : ndarray of int, shape (c,)
        Sorted steps at which β is recorded (0 included).
    reference : ndarray, shape (trials, d), optional
        θ against which the error ‖β⊙β − θ‖² is tracked at every step (its minimum
        over steps is returned, not only its value at checkpoints), with the first step
        at which a coordinate where θ_j = 0 exceeds 2α.

    Returns
    -------
    BetaPath

    References
    ----------
    Li, Ma & Zhang (2018); docs/science.md §F3b.
    """
    n_trials, n, d = X.shape
    alphas = np.asarray(alphas, float)
    m = alphas.size
    y = np.asarray(y, float)
    y = np.broadcast_to(y[:, None, :] if y.ndim == 2 else y, (n_trials, m, n))
    beta = np.broadcast_to(alphas[None, :, None], (n_trials, m, d)).copy()
    diverged = np.zeros((n_trials, m), dtype=bool)
    out = np.empty((len(checkpoints), n_trials, m, d))
    losses = np.empty((len(checkpoints), n_trials, m))
    Xt = np.swapaxes(X, 1, 2)
    tracked = reference is not None
    target = reference[:, None, :] if tracked else None
    min_error = np.full((n_trials, m), np.inf if tracked else np.nan)
    argmin_step = np.full((n_trials, m), -1, dtype=np.int64)
    beta_at_min = beta.copy()
    escape_step = np.full((n_trials, m), -1, dtype=np.int64)
    off = (reference == 0)[:, None, :] if tracked else None
    bound = 2.0 * alphas[None, :]

    def track(step_index):
        error = ((beta * beta - target) ** 2).sum(-1)
        better = error < min_error
        min_error[better] = error[better]
        argmin_step[better] = step_index
        beta_at_min[better] = beta[better]
        escaped = (np.where(off, np.abs(beta), 0.0).max(-1) > bound) & (escape_step < 0)
        escape_step[escaped] = step_index

    step = 0
    for c, stop in enumerate(checkpoints):
        for k in range(step, stop):
            if tracked:
                track(k)
            m_t = (((beta * beta) @ Xt - y) @ X) / n
            new = beta - eta * m_t * beta
            diverged |= ~(np.abs(new) <= DIVERGENCE_LIMIT).all(-1)
            beta = np.where(diverged[..., None], beta, new)
        step = stop
        out[c] = beta
        residual = (beta * beta) @ Xt - y
        losses[c] = (residual**2).sum(-1) / (4 * n)
    if tracked:
        track(step)
    else:
        beta_at_min = beta
    return BetaPath(out, losses, diverged, min_error, argmin_step, beta_at_min, escape_step)


def beta_population_gd_path(
    beta_star: np.ndarray, alphas: np.ndarray, eta: float, checkpoints: np.ndarray
) -> np.ndarray:
    """Gradient descent on the population loss L(β) = ¼‖β⊙β − β*⊙β*‖² from β₀ = α·1.

    ∇L(β) = (β⊙β − β*⊙β*)⊙β, so β ← β − η(β⊙β − β*⊙β*)⊙β coordinatewise.

    Parameters
    ----------
    beta_star : ndarray, shape (d,)
    alphas : ndarray, shape (k,)
    eta : float
    checkpoints : ndarray of int, shape (c,)

    Returns
    -------
    ndarray, shape (c, k, d)

    References
    ----------
    Li, Ma & Zhang (2018), population analysis (gradient descent keeps off-support
    coordinates below 2α for 1/(10ηα²) steps); docs/science.md §F3b.
    """
    target2 = beta_star**2
    beta = np.repeat(np.asarray(alphas, float)[:, None], beta_star.size, axis=1)
    out = np.empty((len(checkpoints), *beta.shape))
    step = 0
    for c, target in enumerate(checkpoints):
        for _ in range(step, target):
            beta = beta - eta * (beta * beta - target2) * beta
        step = target
        out[c] = beta
    return out
