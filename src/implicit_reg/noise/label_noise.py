"""(S)GD with and without label noise on the diagonal network θ = u⊙u − v⊙v (docs/science.md §F5c).

Both loops are compiled (`implicit_reg.compiled.compiled`): batch-1 SGD takes 10⁵–10⁶
sequential steps of a few hundred floating-point operations each, and the noiseless GD
phase tens of thousands of full-batch steps of small matrix-vector products, so through
numpy both were bound by the per-call overhead. The random numbers are drawn outside the
kernels with the caller's generator, in the order and shapes of the chunked numpy loop
(rows, then label signs, ``CHUNK`` steps at a time), so a seed gives the same stream.

Every run (trial × label-noise level) is independent; the kernels loop over runs and
steps and update u, v in place: u ← u(1 − 2ηg), v ← v(1 + 2ηg), g the gradient in θ.
Dot products use `dot`'s fixed order of summation (eight interleaved partial sums), so
the compiled kernel and its interpreted ``py_func`` compute the same numbers. Neither loop
calls `implicit_reg.noise.exact`; with ``track_products`` they also multiply a copy of
u₀⊙v₀ by the factor 1 − 4η²g² each step (the product identity the claims check the
iterates against).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from implicit_reg.compiled import compiled
from implicit_reg.problems import DIVERGENCE_LIMIT

#: Steps whose rows and label signs are drawn by one call each (the stream's unit), and
#: between two divergence checks and two updates of the tracked products.
CHUNK = 64
#: Chunks drawn ahead and handed to one kernel call (their rows stay in cache).
CHUNKS_PER_CALL = 64


@dataclass(frozen=True)
class UVPath:
    """(u, v) at checkpoints (c = checkpoints, R = runs, d = coordinates).

    Attributes
    ----------
    u, v : ndarray, shape (c, R, d)
    tracked_products : ndarray, shape (c, R, d) or None
        u₀⊙v₀ times the product of 1 − 4η²g² over the steps so far.
    diverged : ndarray of bool, shape (R,)
        The run left the float range; its later checkpoints are NaN.
    """

    u: np.ndarray
    v: np.ndarray
    tracked_products: np.ndarray | None
    diverged: np.ndarray


@compiled
def dot(a: np.ndarray, b: np.ndarray) -> float:
    """Σ_j a_j b_j summed in a fixed order: eight partial sums over j mod 8, combined
    pairwise, then the tail j ≥ 8⌊d/8⌋ (vectorizable without reassociating anything)."""
    d = a.size
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    top = d - d % 8
    for j in range(0, top, 8):
        s0 += a[j] * b[j]
        s1 += a[j + 1] * b[j + 1]
        s2 += a[j + 2] * b[j + 2]
        s3 += a[j + 3] * b[j + 3]
        s4 += a[j + 4] * b[j + 4]
        s5 += a[j + 5] * b[j + 5]
        s6 += a[j + 6] * b[j + 6]
        s7 += a[j + 7] * b[j + 7]
    total = ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7))
    for j in range(top, d):
        total += a[j] * b[j]
    return total


@compiled
def sgd_uv_steps(
    X: np.ndarray,
    y: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    tracked: np.ndarray,
    eta: float,
    label_noise: np.ndarray,
    rows: np.ndarray,
    signs: np.ndarray,
    chunk: int,
    track: bool,
    limit: float,
) -> None:
    """Batch-1 SGD steps on u⊙u − v⊙v for every run, in place.

    Step s of run r takes the sample i = ``rows[s, r]`` and the label
    ỹ = y_i + δ_r·``signs[s, r]``: with ρ = x_iᵀθ − ỹ and p = −2ηρx_i,
    u ← u⊙(1 + p), v ← v⊙(1 − p) (u(1 − 2ηg), v(1 + 2ηg) for g = ρx_i). Every ``chunk``
    steps the chunk's product of 1 − 4η²g² multiplies ``tracked`` (if ``track``) and a
    run with an entry beyond ``limit`` (or NaN) is set to NaN.

    Parameters
    ----------
    X : ndarray, shape (R, n, d)
    y : ndarray, shape (R, n)
    u, v, tracked : ndarray, shape (R, d)
        Updated in place.
    eta : float
    label_noise : ndarray, shape (R,)
    rows : ndarray of int, shape (S, R)
    signs : ndarray, shape (S, R)
        ±1.
    chunk : int
    track : bool
    limit : float
    """
    n_runs, d = u.shape
    n_steps = rows.shape[0]
    kick = -2.0 * eta
    shrink = -4.0 * (eta * eta)
    theta = np.empty(d)
    factors = np.empty(d)
    for r in range(n_runs):
        ur, vr = u[r], v[r]
        for j in range(d):
            theta[j] = ur[j] * ur[j] - vr[j] * vr[j]
        for start in range(0, n_steps, chunk):
            stop = min(start + chunk, n_steps)
            for s in range(start, stop):
                x = X[r, rows[s, r]]
                label = y[r, rows[s, r]] + label_noise[r] * signs[s, r]
                residual = dot(x, theta) - label
                if track:
                    if s == start:
                        for j in range(d):
                            g = x[j] * residual
                            factors[j] = g * g * shrink + 1.0
                    else:
                        for j in range(d):
                            g = x[j] * residual
                            factors[j] *= g * g * shrink + 1.0
                for j in range(d):
                    p = kick * x[j] * residual
                    ur[j] *= p + 1.0
                    vr[j] *= 1.0 - p
                    theta[j] = ur[j] * ur[j] - vr[j] * vr[j]
            if track:
                for j in range(d):
                    tracked[r, j] *= factors[j]
            bad = False
            for j in range(d):
                if not (abs(ur[j]) <= limit and abs(vr[j]) <= limit):
                    bad = True
            if bad:
                for j in range(d):
                    ur[j] = np.nan
                    vr[j] = np.nan
                    theta[j] = np.nan


def sgd_uv(
    X: np.ndarray,
    y: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    eta: float,
    label_noise: np.ndarray,
    checkpoints: np.ndarray,
    rng: np.random.Generator,
    track_products: bool = False,
) -> UVPath:
    """Batch-1 SGD on (u, v) for ½(x_iᵀθ − ỹ_i)², ỹ_i = y_i + δε_i, ε_i = ±1 fresh each step.

    g = x_i(x_iᵀθ − ỹ_i) is the gradient in θ; u ← u(1 − 2ηg), v ← v(1 + 2ηg) (the
    gradient step in u and v). The row i is uniform over the n samples of the run's trial.
    Each ``CHUNK`` steps (restarting at each checkpoint) draw their rows
    ``rng.integers(0, n, (m, R))`` and then their signs ``2·rng.integers(0, 2, (m, R)) − 1``;
    the compiled `sgd_uv_steps` takes the steps.

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
    track_products : bool
        Also track u₀⊙v₀ times the product of 1 − 4η²g² over the steps.

    Returns
    -------
    UVPath

    References
    ----------
    Blanc, Gupta, Valiant & Valiant (2020); HaoChen, Kale, Lee & Ma (2021);
    docs/science.md §F5c.
    """
    n_runs, n, d = X.shape
    X = np.ascontiguousarray(X, dtype=float)
    y = np.ascontiguousarray(y, dtype=float)
    u, v = np.array(u, dtype=float), np.array(v, dtype=float)
    delta = np.ascontiguousarray(np.broadcast_to(np.asarray(label_noise, float), (n_runs,)))
    tracked = u * v
    rows = np.empty((CHUNK * CHUNKS_PER_CALL, n_runs), dtype=np.int64)
    signs = np.empty((CHUNK * CHUNKS_PER_CALL, n_runs))
    shape = (len(checkpoints), n_runs, d)
    out_u, out_v = np.empty(shape), np.empty(shape)
    out_tracked = np.empty(shape) if track_products else None
    step = 0
    for c, stop in enumerate(checkpoints):
        while step < stop:
            drawn = 0
            while drawn < rows.shape[0] and step + drawn < stop:
                m = min(CHUNK, int(stop) - step - drawn)
                rows[drawn : drawn + m] = rng.integers(0, n, size=(m, n_runs))
                signs[drawn : drawn + m] = 2.0 * rng.integers(0, 2, size=(m, n_runs)) - 1.0
                drawn += m
            sgd_uv_steps(
                X,
                y,
                u,
                v,
                tracked,
                float(eta),
                delta,
                rows[:drawn],
                signs[:drawn],
                CHUNK,
                track_products,
                DIVERGENCE_LIMIT,
            )
            step += drawn
        out_u[c], out_v[c] = u, v
        if out_tracked is not None:
            out_tracked[c] = tracked
    diverged = np.isnan(u).any(-1)
    return UVPath(out_u, out_v, out_tracked, diverged)


@compiled
def gd_uv_steps(
    X: np.ndarray,
    y: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    tracked: np.ndarray,
    etas: np.ndarray,
    n_steps: int,
    track: bool,
) -> None:
    """``n_steps`` full-batch GD steps on (1/2n)‖X(u⊙u − v⊙v) − y‖² for every run, in place.

    With ρ = Xθ − y and g = Xᵀρ/n: u ← u − η(2u⊙g), v ← v − η(−2v⊙g) (the gradient of
    `implicit_reg.diagonal.algorithms.uv_gradient`), and ``tracked`` ← ``tracked``⊙(1 − 4η²g²)
    if ``track``.

    Parameters
    ----------
    X : ndarray, shape (T, n, d)
    y : ndarray, shape (T, n)
    u, v, tracked : ndarray, shape (T, m, d)
        Updated in place.
    etas : ndarray, shape (T, m)
    n_steps : int
    track : bool
    """
    n_trials, n_runs, d = u.shape
    n = X.shape[1]
    theta = np.empty(d)
    residual = np.empty(n)
    gradient = np.empty(d)
    for t in range(n_trials):
        Xt, yt = X[t], y[t]
        columns = np.ascontiguousarray(Xt.T)
        for k in range(n_runs):
            ut, vt, tracked_t = u[t, k], v[t, k], tracked[t, k]
            eta = etas[t, k]
            shrink = -4.0 * (eta * eta)
            for j in range(d):
                theta[j] = ut[j] * ut[j] - vt[j] * vt[j]
            for _ in range(n_steps):
                residual[:] = 0.0
                for j in range(d):
                    theta_j = theta[j]
                    column = columns[j]
                    for i in range(n):
                        residual[i] += column[i] * theta_j
                for i in range(n):
                    residual[i] -= yt[i]
                gradient[:] = 0.0
                for i in range(n):
                    rho = residual[i]
                    row = Xt[i]
                    for j in range(d):
                        gradient[j] += rho * row[j]
                for j in range(d):
                    g = gradient[j] / n
                    if track:
                        tracked_t[j] *= g * g * shrink + 1.0
                    ut[j] -= eta * (2.0 * ut[j] * g)
                    vt[j] -= eta * (-2.0 * vt[j] * g)
                    theta[j] = ut[j] * ut[j] - vt[j] * vt[j]


def gd_uv(
    X: np.ndarray,
    y: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    etas: np.ndarray,
    checkpoints: np.ndarray,
    track_products: bool = False,
) -> UVPath:
    """Full-batch GD on (1/2n)‖X(u⊙u − v⊙v) − y‖² from a given (u, v), m runs per trial.

    u ← u − η∇_u L, v ← v − η∇_v L with ∇_u L = 2u⊙g, ∇_v L = −2v⊙g, g = (1/n)Xᵀ(Xθ − y)
    (`implicit_reg.diagonal.algorithms.uv_gradient`), by the compiled `gd_uv_steps`. A run
    with an entry beyond `DIVERGENCE_LIMIT` at a checkpoint is set to NaN.

    Parameters
    ----------
    X : ndarray, shape (T, n, d)
    y : ndarray, shape (T, n)
    u, v : ndarray, shape (T, m, d)
    etas : ndarray, shape (T, m)
    checkpoints : ndarray of int, shape (c,)
    track_products : bool
        Also track u₀⊙v₀ times the product of 1 − 4η²g² over the steps.

    Returns
    -------
    UVPath
        With ``u``, ``v`` of shape (c, T, m, d) and ``diverged`` of shape (T, m).

    References
    ----------
    Woodworth et al. (2020), §2; docs/science.md §F3a.
    """
    X = np.ascontiguousarray(X, dtype=float)
    y = np.ascontiguousarray(y, dtype=float)
    u, v = np.array(u, dtype=float), np.array(v, dtype=float)
    etas = np.ascontiguousarray(np.broadcast_to(np.asarray(etas, float), u.shape[:2]))
    tracked = u * v
    shape = (len(checkpoints), *u.shape)
    out_u, out_v = np.empty(shape), np.empty(shape)
    out_tracked = np.empty(shape) if track_products else None
    diverged = np.zeros(u.shape[:2], dtype=bool)
    step = 0
    for c, stop in enumerate(checkpoints):
        gd_uv_steps(X, y, u, v, tracked, etas, int(stop) - step, track_products)
        step = int(stop)
        bad = ~(np.abs(u) <= DIVERGENCE_LIMIT).all(-1) | ~(np.abs(v) <= DIVERGENCE_LIMIT).all(-1)
        if bad.any():
            diverged |= bad
            u[bad], v[bad] = np.nan, np.nan
        out_u[c], out_v[c] = u, v
        if out_tracked is not None:
            out_tracked[c] = tracked
    return UVPath(out_u, out_v, out_tracked, diverged)
