"""Noisy gradient descent on quadratics: many chains at once (docs/science.md §F5a).

- `scalar_chains`: x_{k+1} = x_k − η(a x_k + σξ_k) for every ηa of a grid, all chains of
  all trials in one array; cross-chain moments at checkpoints, time-averaged stationary
  variance and lag autocovariances after a burn-in.
- `quadratic_chains`: x_{k+1} = x_k − η(Hx_k + ξ_k) on f(x) = ½xᵀHx with constant noise
  covariance (isotropic σ²I or curvature-shaped cH), and streaming SGD on least squares,
  whose gradient noise depends on the iterate.

In the 1-D recursion the noise of one step is shared by every ηa; on the quadratic, by
the step sizes of one noise shape, each shape drawing its own (common random numbers:
each chain still has the law of its own recursion, comparisons between step sizes are
sharper, and the shapes are independent configurations). These functions never call
`implicit_reg.noise.exact`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from implicit_reg.problems import DIVERGENCE_LIMIT

#: Divergence is tested every this many steps (an unstable run needs hundreds of steps
#: to grow from O(1) to the limit, and to overflow from there).
CHECK_EVERY = 25


@dataclass(frozen=True)
class ScalarChains:
    """Result of `scalar_chains` (e = grid values of ηa, T = trials, c = checkpoints).

    Attributes
    ----------
    means, variances : ndarray, shape (e, c, T)
        Cross-chain mean and variance (ddof = 1) of x_k at each checkpoint.
    stationary_variance : ndarray, shape (e, T)
        Cross-chain variance averaged over the reference steps r after the burn-in.
    autocovariance : ndarray, shape (e, T, max_lag + 1)
        Cov(x_r, x_{r+τ}) across chains, averaged over reference steps r after the burn-in.
    n_blocks : int
        Number of reference steps r.
    """

    means: np.ndarray
    variances: np.ndarray
    stationary_variance: np.ndarray
    autocovariance: np.ndarray
    n_blocks: int


def scalar_chains(
    eta_a: np.ndarray,
    a: float,
    sigma: float,
    x0: float,
    n_trials: int,
    n_chains: int,
    checkpoints: np.ndarray,
    burn_in: int,
    max_lag: int,
    rng: np.random.Generator,
) -> ScalarChains:
    """Simulate x_{k+1} = x_k − η(a x_k + σξ_k), ξ_k ~ N(0, 1), for each ηa at once.

    Every chain starts at x₀. One draw ξ_k per (trial, chain) and step drives the chains
    of every ηa. Reference steps r = burn_in, burn_in + (max_lag + 1), ... (with
    r + max_lag ≤ last step) each contribute Cov(x_r, x_{r+τ}) for τ = 0..max_lag.

    Parameters
    ----------
    eta_a : ndarray, shape (e,)
        Products ηa (the step is η = ηa/a).
    a, sigma, x0 : float
    n_trials, n_chains : int
        Chains are split in ``n_trials`` batches of ``n_chains`` (the batches give
        confidence intervals).
    checkpoints : ndarray of int, shape (c,)
        Sorted steps, the last one the length of the run.
    burn_in, max_lag : int
    rng : numpy.random.Generator

    Returns
    -------
    ScalarChains

    References
    ----------
    Mandt, Hoffman & Blei (2017) (SGD on a 1-D quadratic is an Ornstein–Uhlenbeck
    recursion); docs/science.md §F5a.
    """
    eta_a = np.asarray(eta_a, float)
    n_steps = int(checkpoints[-1])
    e = eta_a.size
    contraction = (1.0 - eta_a)[:, None, None]
    kick = (eta_a / a * sigma)[:, None, None]
    x = np.full((e, n_trials, n_chains), float(x0))
    means = np.empty((e, len(checkpoints), n_trials))
    variances = np.empty_like(means)
    stationary = np.zeros((e, n_trials))
    n_stationary = 0
    autocov = np.zeros((e, n_trials, max_lag + 1))
    n_blocks = max(0, (n_steps - max_lag - burn_in) // (max_lag + 1) + 1)
    block_end = burn_in + n_blocks * (max_lag + 1)
    ref = ref_mean = None
    position = {int(k): i for i, k in enumerate(checkpoints)}
    for k in range(n_steps + 1):
        if k > 0:
            x *= contraction
            x -= kick * rng.standard_normal((n_trials, n_chains))
        in_block = burn_in <= k < block_end
        lag = (k - burn_in) % (max_lag + 1)
        reference = in_block and lag == 0
        if not (k in position or in_block):
            continue
        mean = x.mean(-1)
        if k in position or reference:
            variance = (np.vecdot(x, x) - n_chains * mean**2) / (n_chains - 1)
        if k in position:
            means[:, position[k]] = mean
            variances[:, position[k]] = variance
        if reference:
            # The stationary variance pools the reference steps (spaced max_lag + 1 apart).
            stationary += variance
            n_stationary += 1
            ref, ref_mean = x.copy(), mean
        if in_block:
            autocov[..., lag] += np.vecdot(ref, x) / n_chains - ref_mean * mean
    return ScalarChains(
        means=means,
        variances=variances,
        stationary_variance=stationary / max(n_stationary, 1),
        autocovariance=autocov / max(n_blocks, 1),
        n_blocks=n_blocks,
    )


@dataclass(frozen=True)
class QuadraticChains:
    """Result of `quadratic_chains` (m = configurations, T = trials, c = checkpoints).

    Attributes
    ----------
    means : ndarray, shape (m, c, T, d)
        Cross-chain mean at each checkpoint.
    covariances : ndarray, shape (m, c, T, d, d)
        Cross-chain covariance (ddof = 1) at each checkpoint.
    stationary_covariance : ndarray, shape (m, T, d, d)
        Covariance of the iterates pooled over chains and over every ``thin``-th step
        after the burn-in.
    diverged : ndarray of bool, shape (m, T)
        A coordinate exceeded `DIVERGENCE_LIMIT` (or overflowed); the batch's statistics
        from then on, and its stationary covariance, are NaN.
    """

    means: np.ndarray
    covariances: np.ndarray
    stationary_covariance: np.ndarray
    diverged: np.ndarray


def quadratic_chains(
    H: np.ndarray,
    root_H: np.ndarray,
    shapes: list[str],
    etas: np.ndarray,
    sigma: float,
    x0: np.ndarray,
    n_trials: int,
    n_chains: int,
    checkpoints: np.ndarray,
    burn_in: int,
    thin: int,
    rng: np.random.Generator,
) -> QuadraticChains:
    """Noisy GD on f(x) = ½xᵀHx for several (noise shape, step) configurations at once.

    - ``isotropic``: x ← x − η(Hx + σz), noise covariance σ²I;
    - ``curvature``: x ← x − η(Hx + σH^{1/2}z), noise covariance σ²H;
    - ``streaming``: streaming SGD on least squares, Δ = β − β*:
      Δ ← Δ − ηx(xᵀΔ − σε) with fresh inputs x = H^{1/2}z ~ N(0, H) and ε ~ N(0, 1), whose
      gradient noise covariance at Δ is HΔΔᵀH + tr(HΔΔᵀ)H + σ²H.

    z ~ N(0, I_d) and ε are drawn once per (trial, chain, step) and noise shape, shared by
    the step sizes of that shape: the three shapes are independent. Every chain starts at
    ``x0``. Configurations of the same kind are updated as one array (the loop is bound
    by the random draws and memory traffic).

    Parameters
    ----------
    H, root_H : ndarray, shape (d, d)
        The curvature and its symmetric square root.
    shapes : list of str, length m
    etas : ndarray, shape (m,)
    sigma : float
    x0 : ndarray, shape (d,)
    n_trials, n_chains : int
    checkpoints : ndarray of int, shape (c,)
    burn_in, thin : int
        The stationary covariance pools the steps burn_in < k ≤ last with
        (k − burn_in) divisible by ``thin``.
    rng : numpy.random.Generator

    Returns
    -------
    QuadraticChains

    References
    ----------
    Mandt, Hoffman & Blei (2017) (multi-dimensional quadratics: the fluctuation follows
    the noise shape); docs/science.md §F5a.
    """
    d = len(H)
    m = len(shapes)
    etas = np.asarray(etas, float)
    # Order: isotropic, curvature, streaming; each kind is a contiguous block.
    kinds = ("isotropic", "curvature", "streaming")
    order = np.array(sorted(range(m), key=lambda i: kinds.index(shapes[i])), dtype=int)
    block = {
        kind: slice(
            *np.searchsorted(
                [kinds.index(shapes[i]) for i in order], [kinds.index(kind), kinds.index(kind) + 1]
            )
        )
        for kind in kinds
    }
    eta = etas[order][:, None, None, None]
    x = np.broadcast_to(np.asarray(x0, float), (m, n_trials, n_chains, d)).copy()
    constant = slice(0, block["curvature"].stop)
    steps = (np.eye(d) - etas[order][:, None, None] * H)[constant, None]  # (mc, 1, d, d)
    n_steps = int(checkpoints[-1])
    c = len(checkpoints)
    means = np.full((m, c, n_trials, d), np.nan)
    covariances = np.full((m, c, n_trials, d, d), np.nan)
    first = np.zeros((m, n_trials, d))
    second = np.zeros((m, n_trials, d, d))
    n_pooled = 0
    diverged = np.zeros((m, n_trials), dtype=bool)
    position = {int(k): i for i, k in enumerate(checkpoints)}
    iso, curv, stream = block["isotropic"], block["curvature"], block["streaming"]
    for k in range(n_steps + 1):
        if k > 0:
            if constant.stop > 0:
                x[constant] = x[constant] @ steps
            if iso.stop > iso.start:
                x[iso] -= (sigma * eta[iso]) * rng.standard_normal((n_trials, n_chains, d))
            if curv.stop > curv.start:
                shaped = rng.standard_normal((n_trials, n_chains, d)) @ root_H
                x[curv] -= (sigma * eta[curv]) * shaped
            if stream.stop > stream.start:
                shaped = rng.standard_normal((n_trials, n_chains, d)) @ root_H
                eps = rng.standard_normal((n_trials, n_chains))
                residual = np.vecdot(x[stream], shaped) - sigma * eps
                x[stream] -= (eta[stream] * shaped) * residual[..., None]
        if k % CHECK_EVERY == 0 or k == n_steps:
            bad = ~(np.abs(x) <= DIVERGENCE_LIMIT).all(axis=(2, 3))
            if bad.any():
                # A diverged batch is reset to 0 and keeps running; it records no more.
                diverged |= bad
                x[bad] = 0.0
        if k in position:
            mean = x.mean(2)
            centred = x - mean[:, :, None, :]
            cov = np.swapaxes(centred, 2, 3) @ centred / (n_chains - 1)
            mean[diverged] = np.nan
            cov[diverged] = np.nan
            means[:, position[k]] = mean
            covariances[:, position[k]] = cov
        if k > burn_in and (k - burn_in) % thin == 0:
            first += x.sum(2)
            second += np.swapaxes(x, 2, 3) @ x
            n_pooled += 1
    count = max(n_pooled * n_chains, 1)
    mean = first / count
    stationary = second / count - mean[..., :, None] * mean[..., None, :]
    stationary[diverged] = np.nan
    back = np.argsort(order)  # configuration order of the caller
    return QuadraticChains(
        means=means[back],
        covariances=covariances[back],
        stationary_covariance=stationary[back],
        diverged=diverged[back],
    )
