"""Deep matrix factorization: balanced aligned initialization and GD on the factors.

The model is the end-to-end matrix ``W_{1:N} = W_N ⋯ W_1`` with loss
``L(W) = (1/(dd'))·½‖W_{1:N} − W*‖²_F``; gradient descent updates every factor.
Nothing here calls the exact references of `implicit_reg.dynamics.exact`.
"""

from __future__ import annotations

import numpy as np

from implicit_reg.dynamics.kernels import factor_gd_kernel, pack_factors
from implicit_reg.problems import random_rotation


def balanced_aligned_init(
    U: np.ndarray, V: np.ndarray, eps: float, depth: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """Factors with ``W_{1:N}(0) = ε U Vᵀ``, balanced (``W_{j+1}ᵀW_{j+1} = W_j W_jᵀ``).

    ``W_1 = ε^{1/N} O_1 Vᵀ``, ``W_j = ε^{1/N} O_j O_{j−1}ᵀ``, ``W_N = ε^{1/N} U O_{N−1}ᵀ``
    with Haar orthogonal ``O_j`` (``W_1 = ε U Vᵀ`` for ``N = 1``).

    Parameters
    ----------
    U : ndarray, shape (trials, d, r)
    V : ndarray, shape (trials, d', r)
        Orthonormal columns; the hidden width is r.
    eps : float
        Initial singular value ε of the product.
    depth : int
        N ≥ 1.
    rng : numpy.random.Generator
        Source of the ``O_j``.

    Returns
    -------
    list of ndarray
        ``[W_1, …, W_N]``: ``W_1`` (trials, r, d'), middle factors (trials, r, r),
        ``W_N`` (trials, d, r).

    References
    ----------
    Arora, Cohen, Hu, Luo (2019), §3; Saxe, McClelland, Ganguli (2014).
    """
    scale = eps ** (1.0 / depth)
    Vt = np.swapaxes(V, 1, 2)
    if depth == 1:
        return [eps * U @ Vt]
    n_trials, _, r = U.shape
    rotations = [random_rotation(rng, r, n_trials) for _ in range(depth - 1)]
    factors = [scale * rotations[0] @ Vt]
    factors += [
        scale * rotations[j] @ np.swapaxes(rotations[j - 1], 1, 2) for j in range(1, depth - 1)
    ]
    factors.append(scale * U @ np.swapaxes(rotations[-1], 1, 2))
    return factors


def end_to_end(factors: list[np.ndarray]) -> np.ndarray:
    """``W_{1:N} = W_N ⋯ W_1``, shape (trials, d, d')."""
    product = factors[0]
    for W in factors[1:]:
        product = W @ product
    return product


class FactorGradient:
    """Gradients of ``L = scale·½‖W_{1:N} − W*‖²_F`` for factors updated in place.

    ``∇_{W_j} L = (W_N ⋯ W_{j+1})ᵀ G (W_{j−1} ⋯ W_1)ᵀ`` with
    ``G = scale·(W_{1:N} − W*)``: prefix products forward, ``G`` propagated backward.
    Buffers (and their transposed views) are allocated once, so a GD step is a fixed
    sequence of ``matmul(..., out=...)`` calls: at 10 × 10 factors the cost of a step is
    the call overhead, not the arithmetic.

    Parameters
    ----------
    factors : list of ndarray
        ``[W_1, …, W_N]`` as returned by `balanced_aligned_init`; read at every call, so
        in-place updates of these arrays are seen.
    target : ndarray, shape (trials, d, d')
    scale : float
        ``1/(dd')`` for the loss of docs/science.md §F6a (``η/(dd')`` gives ``η∇L``, a GD
        step).

    References
    ----------
    Arora, Cohen, Hu, Luo (2019), eq. (4).
    """

    def __init__(self, factors: list[np.ndarray], target: np.ndarray, scale: float):
        self.factors, self.target, self.scale = factors, target, scale
        self.transposed = [np.swapaxes(W, 1, 2) for W in factors]
        self.prefix = [factors[0]] + [
            np.empty(W.shape[:2] + factors[0].shape[2:]) for W in factors[1:]
        ]
        self.prefix_t = [np.swapaxes(P, 1, 2) for P in self.prefix]
        self.grads = [np.empty_like(W) for W in factors]
        # back[j] = (W_N ⋯ W_{j+2})ᵀ G, the signal reaching W_{j+1}'s input side.
        self.back = [np.empty((target.shape[0], W.shape[2], target.shape[2])) for W in factors[1:]]
        self.residual = np.empty_like(target, dtype=float)

    def __call__(self) -> list[np.ndarray]:
        """The gradient of every factor (arrays reused by the next call)."""
        Ws, prefix, n = self.factors, self.prefix, len(self.factors)
        for j in range(1, n):
            np.matmul(Ws[j], prefix[j - 1], out=prefix[j])
        back = self.residual
        np.subtract(prefix[n - 1], self.target, out=back)
        back *= self.scale
        for j in range(n - 1, 0, -1):
            np.matmul(back, self.prefix_t[j - 1], out=self.grads[j])
            np.matmul(self.transposed[j], back, out=self.back[j - 1])
            back = self.back[j - 1]
        self.grads[0][...] = back
        return self.grads


def factor_gradients(factors: list[np.ndarray], target: np.ndarray, scale: float):
    """Gradients of ``scale·½‖W_{1:N} − W*‖²_F`` for every factor (see `FactorGradient`).

    Returns
    -------
    list of ndarray
        Same shapes as ``factors``.
    """
    return [g.copy() for g in FactorGradient(factors, target, scale)()]


def factor_gd_path(
    factors: list[np.ndarray],
    target: np.ndarray,
    eta: float,
    scale: float,
    checkpoints: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient descent ``W_j ← W_j − η ∇_{W_j} L`` on every factor at once.

    Parameters
    ----------
    factors : list of ndarray
        Initial factors (copied, not modified).
    target : ndarray, shape (trials, d, d')
    eta : float
        Step size; time is ``t = η·k``.
    scale : float
        Loss scale ``1/(dd')``.
    checkpoints : ndarray of int, shape (c,)
        Sorted steps at which the product is recorded (0 included).

    Returns
    -------
    products : ndarray, shape (c, trials, d, d')
        ``W_{1:N}`` at each checkpoint; NaN once a trial diverged.
    diverged : ndarray of bool, shape (c, trials)
        Whether the trial's factors stopped being finite by that checkpoint (a diverged
        trial's factors turn to inf/NaN and stay so; other trials are unaffected).

    References
    ----------
    Arora, Cohen, Hu, Luo (2019); Saxe, McClelland, Ganguli (2014): gradient flow from a
    balanced init keeps U, V fixed; GD is its Euler scheme (docs/science.md §F6a).
    """
    Ws, dims = pack_factors([np.asarray(W, dtype=float) for W in factors])
    steps = np.asarray(checkpoints, dtype=np.int64)
    products = np.empty((len(steps), *target.shape))
    with np.errstate(over="ignore", invalid="ignore"):
        factor_gd_kernel(Ws, dims, np.asarray(target, dtype=float), eta * scale, steps, products)
    # A diverged trial's factors turn to inf/NaN and stay so; other trials are unaffected.
    diverged = ~np.isfinite(products).all(axis=(2, 3))
    products[diverged] = np.nan
    return products, diverged
