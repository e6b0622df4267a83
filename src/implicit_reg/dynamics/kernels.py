"""Compiled loops of the dynamics family: gradient descent on deep factorizations.

A step of GD on a 10 × 10 factorization is a dozen products of small matrices: through
numpy its cost is the call overhead, compiled it is the arithmetic. The products here
sum in the order of their inner index (``C_ik = (((A_i0 B_0k) + A_i1 B_1k) + …)``), with
no fused multiply-add and no reassociation (`implicit_reg.compiled`); a BLAS ``gemm``
sums in blocks of its own, so the two differ by rounding only.
"""

from __future__ import annotations

import numpy as np

from implicit_reg.compiled import compiled


@compiled
def _product(A, B, C, rows, inner, cols):
    """``C[:rows, :cols] = A[:rows, :inner] @ B[:inner, :cols]``, summed over ``inner`` in order.

    A transposed operand is copied to a contiguous buffer first (`_transpose`).
    """
    for i in range(rows):
        for k in range(cols):
            C[i, k] = 0.0
        for j in range(inner):
            a = A[i, j]
            for k in range(cols):
                C[i, k] += a * B[j, k]


@compiled
def _transpose(A, out, rows, cols):
    """``out[:cols, :rows] = A[:rows, :cols]ᵀ``."""
    for i in range(rows):
        for k in range(cols):
            out[k, i] = A[i, k]


@compiled
def _end_to_end(Ws, dims, trial, prefix):
    """``prefix[j] = W_j ⋯ W_0`` of one trial for every j (the last is the product)."""
    depth = dims.size - 1
    for i in range(dims[1]):
        for k in range(dims[0]):
            prefix[0, i, k] = Ws[0, trial, i, k]
    for j in range(1, depth):
        _product(Ws[j, trial], prefix[j - 1], prefix[j], dims[j + 1], dims[j], dims[0])


@compiled
def factor_gd_kernel(Ws, dims, target, step_scale, checkpoints, products):
    """GD ``W_j ← W_j − η∇_{W_j}L`` on every factor, every trial, products at checkpoints.

    ``∇_{W_j}L = (W_{N−1} ⋯ W_{j+1})ᵀ G (W_{j−1} ⋯ W_0)ᵀ`` with
    ``G = η/(dd')·(W_{1:N} − W*)`` (factors numbered from 0): prefix products forward,
    ``G`` propagated backward, then every factor updated (as
    `implicit_reg.dynamics.factorization.FactorGradient` does with numpy).

    Parameters
    ----------
    Ws : ndarray, shape (N, trials, p, p)
        Factor j of trial t in ``Ws[j, t, :dims[j+1], :dims[j]]``; updated in place.
    dims : ndarray of int64, shape (N + 1,)
        ``dims[0] = d'``, ``dims[N] = d``, the hidden widths between.
    target : ndarray, shape (trials, d, d')
    step_scale : float
        ``η/(dd')``.
    checkpoints : ndarray of int64, shape (c,)
        Sorted steps at which the product is written.
    products : ndarray, shape (c, trials, d, d')
        Output: ``W_{1:N}`` at each checkpoint.

    References
    ----------
    Arora, Cohen, Hu, Luo (2019), eq. (4).
    """
    depth, n_trials, p = Ws.shape[0], Ws.shape[1], Ws.shape[2]
    d, dp = dims[depth], dims[0]
    prefix = np.zeros((depth, p, dp))
    back = np.zeros((2, p, dp))
    grads = np.zeros((depth, p, p))
    flipped = np.zeros((p, p))
    for trial in range(n_trials):
        step = 0
        for c in range(checkpoints.size):
            for _ in range(step, checkpoints[c]):
                _end_to_end(Ws, dims, trial, prefix)
                for i in range(d):
                    for k in range(dp):
                        back[0, i, k] = prefix[depth - 1, i, k] - target[trial, i, k]
                        back[0, i, k] *= step_scale
                side = 0
                for j in range(depth - 1, 0, -1):
                    _transpose(prefix[j - 1], flipped, dims[j], dp)
                    _product(back[side], flipped, grads[j], dims[j + 1], dp, dims[j])
                    _transpose(Ws[j, trial], flipped, dims[j + 1], dims[j])
                    _product(flipped, back[side], back[1 - side], dims[j], dims[j + 1], dp)
                    side = 1 - side
                for i in range(dims[1]):
                    for k in range(dp):
                        grads[0, i, k] = back[side, i, k]
                for j in range(depth):
                    for i in range(dims[j + 1]):
                        for k in range(dims[j]):
                            Ws[j, trial, i, k] -= grads[j, i, k]
            step = max(step, checkpoints[c])
            _end_to_end(Ws, dims, trial, prefix)
            for i in range(d):
                for k in range(dp):
                    products[c, trial, i, k] = prefix[depth - 1, i, k]


def pack_factors(factors: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``[W_1, …, W_N]`` as one zero-padded array and their dimensions (`factor_gd_kernel`).

    Returns
    -------
    Ws : ndarray, shape (N, trials, p, p)
    dims : ndarray of int64, shape (N + 1,)
    """
    dims = np.array([factors[0].shape[2]] + [W.shape[1] for W in factors], dtype=np.int64)
    p = int(dims.max())
    Ws = np.zeros((len(factors), factors[0].shape[0], p, p))
    for j, W in enumerate(factors):
        Ws[j, :, : W.shape[1], : W.shape[2]] = W
    return Ws, dims
