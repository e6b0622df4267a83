"""Two-layer tanh network in the lazy (NTK) scaling, its analytic Jacobian and GD.

``f(x; θ) = (1/√m) Σ_j a_j tanh(w_jᵀx)`` with ``θ = (W, a)``, ``W ∈ R^{m×d}`` (rows
``w_j``) and ``a ∈ R^m``; loss ``R̂(θ) = (1/2n)‖f_n(θ) − y‖²``. Derivatives are written
out by hand (no automatic differentiation); arrays carry a leading trial axis. Nothing
here calls `implicit_reg.dynamics.exact`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from implicit_reg.compiled import compiled
from implicit_reg.dynamics import NEURON_BLOCK
from implicit_reg.progress import Progress

#: Neurons per block of the compiled GD sweep (`gd_steps`): a block's weights,
#: activations and gradients, (2d + 2n + 4)·8 bytes per neuron, stay in the core's L2.
GD_NEURON_BLOCK = 512

#: GD steps per call of the compiled `gd_steps` between progress reports.
GD_STEPS_PER_CALL = 16


def output_normalization(m: int, squared: bool = False) -> float:
    """``√m``, the divisor of the output in the NTK (lazy) parametrization; ``m`` if squared.

    ``f(x; θ) = Σ_j a_j tanh(w_jᵀx)/√m`` keeps the outputs and the tangent kernel (whose
    divisor is ``m``) of order one as m grows, with every weight of order one (Jacot et
    al. 2018); the mean-field parametrization divides by m instead.
    """
    return float(m) if squared else float(np.sqrt(m))


def _blocks(m: int):
    return [slice(start, min(start + NEURON_BLOCK, m)) for start in range(0, m, NEURON_BLOCK)]


def initial_weights(rng: np.random.Generator, trials: int, m: int, d: int):
    """``w_j ~ N(0, I_d)`` and ``a_j = ±1`` (random signs): an init symmetric in law.

    Both layers' laws are invariant under a change of sign, and tanh is odd, so every
    first-order term of the kernel's change is odd in the weights and averages out over
    the m neurons: the kernel and the linearization gaps change like 1/m, not 1/√m
    (Dyer, Gur-Ari 2020; docs/science.md §F6c).

    Returns
    -------
    W : ndarray, shape (trials, m, d)
    a : ndarray, shape (trials, m)
    """
    W = rng.standard_normal((trials, m, d))
    a = rng.choice([-1.0, 1.0], size=(trials, m))
    return W, a


def forward(W: np.ndarray, a: np.ndarray, X: np.ndarray) -> np.ndarray:
    """``f(x_i; θ) = (1/√m) Σ_j a_j tanh(w_jᵀx_i)``.

    Parameters
    ----------
    W : ndarray, shape (trials, m, d)
    a : ndarray, shape (trials, m)
    X : ndarray, shape (trials, n, d)

    Returns
    -------
    ndarray, shape (trials, n)
    """
    out = np.zeros(X.shape[:2])
    for block in _blocks(W.shape[1]):
        hidden = np.tanh(X @ np.swapaxes(W[:, block], 1, 2))
        out += (hidden @ a[:, block, None])[..., 0]
    return out / output_normalization(W.shape[1])


def jacobian(W: np.ndarray, a: np.ndarray, X: np.ndarray) -> np.ndarray:
    """The Jacobian ``∂f(x_i)/∂θ`` with ``θ = (vec W, a)`` (W row-major, then a).

    ``∂f(x_i)/∂w_j = (1/√m) a_j tanh'(w_jᵀx_i) x_i`` and
    ``∂f(x_i)/∂a_j = (1/√m) tanh(w_jᵀx_i)``, with ``tanh' = 1 − tanh²``.

    Parameters
    ----------
    W : ndarray, shape (trials, m, d)
    a : ndarray, shape (trials, m)
    X : ndarray, shape (trials, n, d)

    Returns
    -------
    ndarray, shape (trials, n, m·d + m)

    References
    ----------
    Jacot et al. (2018); docs/science.md §F6c: [∇f(x; θ)]_{(j,k)} = (1/√m) a_j σ'(⟨w_j, x⟩) x_k.
    """
    trials, m, d = W.shape
    hidden = np.tanh(X @ np.swapaxes(W, 1, 2))  # (trials, n, m)
    slope = (1.0 - hidden**2) * a[:, None, :]
    dW = slope[..., None] * X[:, :, None, :]  # (trials, n, m, d)
    n = X.shape[1]
    return np.concatenate([dW.reshape(trials, n, m * d), hidden], axis=2) / output_normalization(m)


def tangent_kernel(W: np.ndarray, a: np.ndarray, XA: np.ndarray, XB: np.ndarray) -> np.ndarray:
    """The empirical NTK ``K(x, x') = J(x)J(x')ᵀ`` without forming J.

    ``K = (1/m)[T_A T_Bᵀ + (S_A S_Bᵀ) ⊙ (X_A X_Bᵀ)]`` with ``T = tanh(XWᵀ)`` and
    ``S = a ⊙ tanh'(XWᵀ)`` (rows: points, columns: neurons).

    Parameters
    ----------
    W : ndarray, shape (trials, m, d)
    a : ndarray, shape (trials, m)
    XA : ndarray, shape (trials, n_A, d)
    XB : ndarray, shape (trials, n_B, d)

    Returns
    -------
    ndarray, shape (trials, n_A, n_B)

    References
    ----------
    Jacot, Gabriel, Hongler (2018): K_t = ∇f_n(θ_t)ᵀ∇f_n(θ_t).
    """
    m = W.shape[1]
    features, slopes = np.zeros((W.shape[0], XA.shape[1], XB.shape[1])), 0.0
    for block in _blocks(m):
        Wt, ab = np.swapaxes(W[:, block], 1, 2), a[:, None, block]
        TA, TB = np.tanh(XA @ Wt), np.tanh(XB @ Wt)
        features += TA @ np.swapaxes(TB, 1, 2)
        slopes = slopes + ((1.0 - TA**2) * ab) @ np.swapaxes((1.0 - TB**2) * ab, 1, 2)
    return (features + slopes * (XA @ np.swapaxes(XB, 1, 2))) / output_normalization(
        m, squared=True
    )


def loss_gradient(
    W: np.ndarray, a: np.ndarray, X: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``∇R̂ = (1/n) Jᵀ(f_n − y)`` for ``R̂ = (1/2n)‖f_n(θ) − y‖²``, split into W and a.

    With ``e = f_n − y``: ``∇_a = (1/(n√m)) Tᵀe`` and
    ``∇_{w_j} = (a_j/(n√m)) Σ_i e_i (1 − T_ij²) x_i``; the second is computed as
    ``Σ_i e_i x_i − (T²)ᵀ(e ⊙ X)``. The activations are built neuron-major,
    ``T = tanh(W Xᵀ)`` of shape (m, n), in blocks of `NEURON_BLOCK` neurons: each block is
    squared and multiplied while it is still in cache (the step is memory-bound).

    Parameters
    ----------
    W : ndarray, shape (trials, m, d)
    a : ndarray, shape (trials, m)
    X : ndarray, shape (trials, n, d)
    y : ndarray, shape (trials, n)

    Returns
    -------
    grad_W : ndarray, shape (trials, m, d)
    grad_a : ndarray, shape (trials, m)
    residual : ndarray, shape (trials, n)
        ``e = f_n(θ) − y``.

    References
    ----------
    Du, Zhai, Póczos, Singh (2019); docs/science.md §F6c: θ̇ = −(1/n)∇f_n(θ)(f_n(θ) − y).
    """
    n, m = X.shape[1], W.shape[1]
    Xt = np.swapaxes(X, 1, 2)
    blocks = _blocks(m)
    hidden, outputs = [], np.zeros(y.shape)
    for block in blocks:
        T = W[:, block] @ Xt  # (trials, block, n)
        np.tanh(T, out=T)
        outputs += (a[:, None, block] @ T)[:, 0, :]
        hidden.append(T)
    residual = outputs / output_normalization(m) - y
    weighted = residual[..., None] * X  # (trials, n, d)
    total = weighted.sum(axis=1)[:, None, :]
    grad_W, grad_a = np.empty_like(W, dtype=float), np.empty_like(a, dtype=float)
    for T, block in zip(hidden, blocks, strict=True):
        grad_a[:, block] = (T @ residual[..., None])[..., 0]
        np.square(T, out=T)
        np.subtract(total, T @ weighted, out=grad_W[:, block])
    scale = 1.0 / (n * output_normalization(m))
    grad_W *= a[..., None] * scale
    grad_a *= scale
    return grad_W, grad_a, residual


@compiled
def exp_tanh(z: float) -> float:
    """``tanh z = sign(z)·(1 − e^{−2|z|})/(1 + e^{−2|z|})``, one exponential, in float64.

    Within a few units of 2⁻⁵³ of libm's tanh in absolute terms (cancellation near 0
    costs relative, not absolute, accuracy); compiled, it runs about 2.6 times faster
    than ``numpy.tanh``, which has no vectorized float64 path on AVX2.
    """
    t = math.exp(-2.0 * abs(z))
    return math.copysign((1.0 - t) / (1.0 + t), z)


@compiled
def hidden_and_outputs(Wt, a, X, Tt, outputs):
    """``Tᵀ = tanh(X W ᵀ)`` point-major (shape (trials, n, m)) and ``outputs = Σ_j a_j T_j``
    (not yet divided by √m), written into ``Tt`` and ``outputs``; ``Wt`` is Wᵀ, (trials, d, m).
    """
    trials, d, m = Wt.shape
    n = X.shape[1]
    z = np.empty(m)
    for r in range(trials):
        for i in range(n):
            z[:] = 0.0
            for k in range(d):
                x = X[r, i, k]
                for j in range(m):
                    z[j] += Wt[r, k, j] * x
            total = 0.0
            for j in range(m):
                t = exp_tanh(z[j])
                Tt[r, i, j] = t
                total += a[r, j] * t
            outputs[r, i] = total


@compiled
def gd_steps(Wt, a, X, y, eta, norm, count, Tt, outputs):
    """``count`` GD steps ``θ ← θ − η∇R̂(θ)`` in place, one sweep over the neurons per step.

    On entry ``Tt = tanh(X Wᵀ)`` and ``outputs = Σ_j a_j T_j`` for the current weights
    (`hidden_and_outputs`); on exit the same for the new weights. Per step, with
    ``e = outputs/√m − y`` from the previous sweep, each neuron's gradient
    ``∇_{a_j} = (1/(n√m)) Σ_i T_ij e_i`` and
    ``∇_{w_j} = (a_j/(n√m)) Σ_i e_i (1 − T_ij²) x_i`` (`loss_gradient`) needs only its own
    activations, so a block of `GD_NEURON_BLOCK` neurons is updated and its new
    activations and output share computed while the block is in cache: one pass over W
    and T per step. The layouts are neuron-last (``Wt`` (trials, d, m), ``Tt``
    (trials, n, m)) so that every inner loop runs over contiguous neurons, in SIMD lanes,
    each neuron's sums still taken in the order of the points.

    Parameters
    ----------
    Wt, a, X, y : ndarrays (trials, d, m), (trials, m), (trials, n, d), (trials, n)
    eta : ndarray, shape (trials,)
    norm : float
        `output_normalization` (√m).
    count : int
    Tt, outputs : ndarrays (trials, n, m), (trials, n)
    """
    trials, d, m = Wt.shape
    n = X.shape[1]
    scale = 1.0 / (n * norm)
    size = min(GD_NEURON_BLOCK, m)
    e, fresh = np.empty(n), np.empty(n)
    grad_a, slope, z = np.empty(size), np.empty(size), np.empty(size)
    grad_w = np.empty((d, size))
    for _ in range(count):
        for r in range(trials):
            for i in range(n):
                e[i] = outputs[r, i] / norm - y[r, i]
                fresh[i] = 0.0
            for start in range(0, m, size):
                b = min(size, m - start)
                ab, stop = a[r, start : start + b], start + b
                grad_a[:b] = 0.0
                grad_w[:, :b] = 0.0
                for i in range(n):
                    ei, Ti = e[i], Tt[r, i, start:stop]
                    for j in range(b):
                        t = Ti[j]
                        grad_a[j] += t * ei
                        slope[j] = ei * (1.0 - t * t)
                    for k in range(d):
                        x = X[r, i, k]
                        for j in range(b):
                            grad_w[k, j] += slope[j] * x
                for k in range(d):
                    Wk = Wt[r, k, start:stop]
                    for j in range(b):
                        Wk[j] -= eta[r] * (grad_w[k, j] * (ab[j] * scale))
                for j in range(b):
                    ab[j] -= eta[r] * (grad_a[j] * scale)
                for i in range(n):
                    z[:b] = 0.0
                    for k in range(d):
                        x, Wk = X[r, i, k], Wt[r, k, start:stop]
                        for j in range(b):
                            z[j] += Wk[j] * x
                    Ti, total = Tt[r, i, start:stop], 0.0
                    for j in range(b):
                        t = exp_tanh(z[j])
                        Ti[j] = t
                        total += ab[j] * t
                    fresh[i] += total
            for i in range(n):
                outputs[r, i] = fresh[i]


@dataclass(frozen=True)
class NetworkPath:
    """A GD run of the network at checkpoints.

    Attributes
    ----------
    steps : ndarray of int, shape (c,)
    train : ndarray, shape (c, trials, n)
        Network outputs on the training points.
    test : ndarray, shape (c, trials, n_test)
        Network outputs on the held-out points.
    W, a : ndarray, shapes (trials, m, d) and (trials, m)
        The final weights.
    diverged : ndarray of bool, shape (trials,)
    """

    steps: np.ndarray
    train: np.ndarray
    test: np.ndarray
    W: np.ndarray
    a: np.ndarray
    diverged: np.ndarray


def gd_path(
    W: np.ndarray,
    a: np.ndarray,
    X: np.ndarray,
    y: np.ndarray,
    X_test: np.ndarray,
    eta: np.ndarray,
    checkpoints: np.ndarray,
) -> NetworkPath:
    """Gradient descent ``θ ← θ − η∇R̂(θ)`` on both layers, outputs kept at checkpoints.

    Parameters
    ----------
    W : ndarray, shape (trials, m, d)
    a : ndarray, shape (trials, m)
    X : ndarray, shape (trials, n, d)
    y : ndarray, shape (trials, n)
    X_test : ndarray, shape (trials, n_test, d)
    eta : ndarray, shape (trials,)
    checkpoints : ndarray of int, shape (c,)
        Sorted steps (0 included).

    References
    ----------
    GD is the Euler scheme of gradient flow (docs/science.md §F6c); Chizat, Oyallon, Bach
    (2019).
    """
    W, a = W.astype(float, copy=True), a.astype(float, copy=True)
    steps = np.asarray(checkpoints, dtype=np.int64)
    train = np.empty((len(steps), *y.shape))
    test = np.empty((len(steps), X_test.shape[0], X_test.shape[1]))
    X = np.ascontiguousarray(X, dtype=float)
    y = np.ascontiguousarray(y, dtype=float)
    eta = np.ascontiguousarray(eta, dtype=float)
    norm = output_normalization(W.shape[1])
    Wt = np.ascontiguousarray(np.swapaxes(W, 1, 2))
    hidden, outputs = np.empty((X.shape[0], X.shape[1], W.shape[1])), np.empty(y.shape)
    hidden_and_outputs(Wt, a, X, hidden, outputs)
    step = 0
    progress = Progress(int(steps[-1]), f"gradient descent, width {W.shape[1]}")
    with np.errstate(over="ignore", invalid="ignore"):
        for c, stop in enumerate(steps):
            while step < int(stop):
                progress.update(step)
                count = min(int(stop) - step, GD_STEPS_PER_CALL)
                gd_steps(Wt, a, X, y, eta, norm, count, hidden, outputs)
                step += count
            W = np.swapaxes(Wt, 1, 2)
            train[c] = forward(W, a, X)
            test[c] = forward(W, a, X_test)
    W = np.ascontiguousarray(W)
    diverged = ~(np.isfinite(train).all(axis=(0, 2)) & np.isfinite(W).all(axis=(1, 2)))
    return NetworkPath(steps=steps, train=train, test=test, W=W, a=a, diverged=diverged)
