"""Two-layer tanh network in the lazy (NTK) scaling, its analytic Jacobian and GD.

``f(x; θ) = (1/√m) Σ_j a_j tanh(w_jᵀx)`` with ``θ = (W, a)``, ``W ∈ R^{m×d}`` (rows
``w_j``) and ``a ∈ R^m``; loss ``R̂(θ) = (1/2n)‖f_n(θ) − y‖²``. Derivatives are written
out by hand (no automatic differentiation); arrays carry a leading trial axis. Nothing
here calls `implicit_reg.dynamics.exact`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from implicit_reg.dynamics import NEURON_BLOCK
from implicit_reg.progress import Progress


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
    step_W, step_a = eta[:, None, None], eta[:, None]
    step = 0
    progress = Progress(int(steps[-1]), f"gradient descent, width {W.shape[1]}")
    with np.errstate(over="ignore", invalid="ignore"):
        for c, stop in enumerate(steps):
            for k in range(step, int(stop)):
                progress.update(k)
                grad_W, grad_a, _ = loss_gradient(W, a, X, y)
                W -= step_W * grad_W
                a -= step_a * grad_a
            step = int(stop)
            train[c] = forward(W, a, X)
            test[c] = forward(W, a, X_test)
    diverged = ~(np.isfinite(train).all(axis=(0, 2)) & np.isfinite(W).all(axis=(1, 2)))
    return NetworkPath(steps=steps, train=train, test=test, W=W, a=a, diverged=diverged)
