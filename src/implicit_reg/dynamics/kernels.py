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


@compiled
def linear_net_kernel(X, Y, w1, w2, eta, first_step, n_steps, orders, first_epoch, batch_size):
    """``n_steps`` steps of GD or SGD on ``½‖W₂W₁X − Y‖²`` for every trial, in place.

    Step k (counted from ``first_step``) uses the columns B of X: all of them in order
    for GD (``batch_size`` 0), else batch ``k mod ⌈n/b⌉`` of epoch ``k // ⌈n/b⌉`` of the
    random reshuffling ``orders`` (the last batch of an epoch is shorter when b does not
    divide n). With ``E = (n/|B|)(W₂W₁X_B − Y_B)``: ``W₁ ← W₁ − η W₂ᵀ(E X_Bᵀ)``,
    ``W₂ ← W₂ − η E(W₁X_B)ᵀ`` (as `implicit_reg.dynamics.linear_nets.linear_net_gradients`).

    Parameters
    ----------
    X : ndarray, shape (trials, d, n)
    Y : ndarray, shape (trials, d', n)
    w1 : ndarray, shape (trials, N, d)
    w2 : ndarray, shape (trials, d', N)
        Updated in place.
    eta : ndarray, shape (trials,)
    first_step, n_steps : int
    orders : ndarray of int64, shape (epochs, trials, n)
        Epochs ``first_epoch, first_epoch + 1, …`` of the reshuffling (unused for GD).
    first_epoch, batch_size : int

    References
    ----------
    docs/science.md §F6b; Zhang et al. (2017).
    """
    n_trials, d, n = X.shape
    hidden, outputs = w1.shape[1], w2.shape[1]
    columns = np.arange(n)
    per_epoch = (n + batch_size - 1) // batch_size if batch_size > 0 else 1
    h = np.empty((hidden, n))
    error = np.empty((outputs, n))
    ex = np.empty((outputs, d))
    g1 = np.empty((hidden, d))
    g2 = np.empty((outputs, hidden))
    for trial in range(n_trials):
        for step in range(first_step, first_step + n_steps):
            if batch_size > 0:
                epoch, position = step // per_epoch, step % per_epoch
                start = position * batch_size
                size = min(batch_size, n - start)
                batch = orders[epoch - first_epoch, trial, start : start + size]
            else:
                size, batch = n, columns
            weight = n / size if batch_size > 0 else 1.0
            for i in range(hidden):
                for c in range(size):
                    total = 0.0
                    for k in range(d):
                        total += w1[trial, i, k] * X[trial, k, batch[c]]
                    h[i, c] = total
            for o in range(outputs):
                for c in range(size):
                    total = 0.0
                    for i in range(hidden):
                        total += w2[trial, o, i] * h[i, c]
                    error[o, c] = weight * (total - Y[trial, o, batch[c]])
            for o in range(outputs):
                for k in range(d):
                    total = 0.0
                    for c in range(size):
                        total += error[o, c] * X[trial, k, batch[c]]
                    ex[o, k] = total
                for i in range(hidden):
                    total = 0.0
                    for c in range(size):
                        total += error[o, c] * h[i, c]
                    g2[o, i] = total
            for i in range(hidden):
                for k in range(d):
                    total = 0.0
                    for o in range(outputs):
                        total += w2[trial, o, i] * ex[o, k]
                    g1[i, k] = total
            for i in range(hidden):
                for k in range(d):
                    w1[trial, i, k] -= eta[trial] * g1[i, k]
            for o in range(outputs):
                for i in range(hidden):
                    w2[trial, o, i] -= eta[trial] * g2[o, i]
