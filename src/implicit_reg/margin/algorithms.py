"""Gradient methods on separable data, in the log domain, vectorized over a batch.

Every method runs on signed samples ``z_i = y_i x_i``, margins ``m_i = z_iᵀw`` and the
loss ``L(w) = Σ_i ℓ(m_i)`` with ``ℓ`` logistic ``log(1 + e^{−u})`` or exponential
``e^{−u}``. Quantities that under- or overflow when ‖w‖ is large (the loss itself, the
derivative weights) are handled as logarithms: normalized GD drives the margins to
1e5 and beyond, where ``e^{−m}`` is not representable.
"""

from __future__ import annotations

import numpy as np
from scipy.special import log_expit

LOSSES = ("logistic", "exponential")

# Beyond this margin log(log1p(e^{-m})) is evaluated by its series, so that e^{-m} is
# only ever used where it is not dwarfed by rounding.
_SERIES_FROM = 20.0


def log_loss_terms(m: np.ndarray, loss: str) -> np.ndarray:
    """``log ℓ(m)`` elementwise, finite for every finite margin.

    - exponential: ``log e^{−m} = −m``;
    - logistic: ``log log(1 + e^{−m})``; for ``m ≥ 20`` the series
      ``log log1p(u) = log u + log1p(−u/2 + u²/3)`` with ``u = e^{−m}`` avoids
      ``log(0)`` when ``u`` underflows.

    Parameters
    ----------
    m : ndarray
        Margins ``y_i wᵀx_i``.
    loss : {"logistic", "exponential"}

    Returns
    -------
    ndarray, same shape as ``m``

    References
    ----------
    Soudry et al. (2018), Assumption 3 (exponential tail).
    """
    if loss == "exponential":
        return -m
    if loss != "logistic":
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    near = np.minimum(m, _SERIES_FROM)
    far = np.maximum(m, _SERIES_FROM)
    u = np.exp(-far)
    return np.where(
        m < _SERIES_FROM,
        np.log(np.logaddexp(0.0, -near)),
        -far + np.log1p(u * (-0.5 + u / 3.0)),
    )


def log_neg_derivative(m: np.ndarray, loss: str) -> np.ndarray:
    """``log(−ℓ'(m))`` elementwise.

    - exponential: ``−ℓ'(m) = e^{−m}``, log ``−m``;
    - logistic: ``−ℓ'(m) = σ(−m) = 1/(1 + e^{m})``, log ``log_expit(−m)``.

    Parameters
    ----------
    m : ndarray
    loss : {"logistic", "exponential"}

    Returns
    -------
    ndarray, same shape as ``m``
    """
    if loss == "exponential":
        return -m
    if loss != "logistic":
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    return log_expit(-m)


def log_sum_exp(a: np.ndarray) -> np.ndarray:
    """``log Σ_i e^{a_i}`` over the last axis, as ``max a + log Σ e^{a_i − max a}``.

    Written out rather than `scipy.special.logsumexp`, whose input validation costs more
    than the arithmetic on the small arrays of one descent step. ``a`` must be finite.
    """
    top = a.max(axis=-1)
    return top + np.log(np.exp(a - top[..., None]).sum(axis=-1))


def log_total_loss(m: np.ndarray, loss: str) -> np.ndarray:
    """``log L = log Σ_i ℓ(m_i)`` over the last axis (`log_sum_exp` of `log_loss_terms`)."""
    return log_sum_exp(log_loss_terms(m, loss))


def smoothness(z: np.ndarray, loss: str) -> np.ndarray:
    """Smoothness constant ``β σ_max(Z)²`` of ``L`` for each dataset of a batch.

    ``β = 1/4`` for the logistic loss. The exponential loss is not globally smooth; on
    the sublevel set ``{L ≤ L(0) = n}`` of a monotone descent method its Hessian
    ``Σ e^{−m_i} z_i z_iᵀ`` is bounded by ``σ_max²`` near 0, and the same ``β = 1`` is
    used as its scale (Soudry et al. use η = 1/σ_max² for both losses).

    Parameters
    ----------
    z : ndarray, shape (b, n, d)
    loss : {"logistic", "exponential"}

    Returns
    -------
    ndarray, shape (b,)

    References
    ----------
    Soudry et al. (2018), Assumption 2 and Theorem 3 (η < 2 β⁻¹ σ_max⁻²).
    """
    sigma_max = np.linalg.norm(z, ord=2, axis=(1, 2))
    beta = 0.25 if loss == "logistic" else 1.0
    return beta * sigma_max**2


def descent_path(
    z: np.ndarray,
    loss: str,
    eta: np.ndarray,
    momentum: np.ndarray,
    normalized: np.ndarray,
    checkpoints: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """GD, heavy-ball momentum and normalized GD from ``w₀ = 0``, batched.

    Row ``b`` of the batch runs

    ``w_{k+1} = w_k − η_b ∇L(w_k) / L(w_k)^{ν_b} + μ_b (w_k − w_{k−1})``

    with ``ν_b = 1`` for normalized GD (step ∝ 1/L, i.e. GD on ``log L``) and 0
    otherwise. The gradient is ``∇L = −Σ_i (−ℓ'(m_i)) z_i`` and its weights
    ``(−ℓ'(m_i))/L^ν = exp(log(−ℓ'(m_i)) − ν log L)`` are formed in the log domain, so
    normalized GD stays finite when every ``ℓ(m_i)`` underflows. A row whose iterate
    stops being finite is frozen and flagged as diverged.

    Parameters
    ----------
    z : ndarray, shape (b, n, d)
        Signed samples of each batch row.
    loss : {"logistic", "exponential"}
    eta, momentum : ndarray, shape (b,)
        Step sizes and momentum coefficients.
    normalized : ndarray of bool, shape (b,)
    checkpoints : ndarray of int, shape (c,)
        Sorted steps at which ``w`` is recorded (0 is ``w₀``).

    Returns
    -------
    w : ndarray, shape (c, b, d)
        Iterates at the checkpoints.
    diverged : ndarray of bool, shape (c, b)
        Whether the row had diverged by that checkpoint.

    References
    ----------
    Soudry et al. (2018), eq. (2) and §4 (momentum); Nacson, Lee, Gunasekar, Savarese,
    Srebro, Soudry (2019), AISTATS, normalized GD; Ji & Telgarsky (2021), ALT.
    """
    b, _, d = z.shape
    eta = np.asarray(eta, dtype=float)
    mu = np.asarray(momentum, dtype=float)[:, None]
    nu = np.asarray(normalized, dtype=float)[:, None]
    w = np.zeros((b, d))
    previous = w.copy()
    ok = np.ones(b, dtype=bool)
    out = np.empty((len(checkpoints), b, d))
    bad = np.empty((len(checkpoints), b), dtype=bool)
    zt = np.ascontiguousarray(np.swapaxes(z, 1, 2))
    position = 0
    last = int(checkpoints[-1])
    for k in range(last + 1):
        if k == checkpoints[position]:
            out[position] = w
            bad[position] = ~ok
            position += 1
            if k == last:
                break
        m = np.matmul(z, w[:, :, None])[..., 0]
        log_weights = log_neg_derivative(m, loss)
        if nu.any():
            log_weights -= nu * log_total_loss(m, loss)[:, None]
        neg_grad = np.matmul(zt, np.exp(log_weights)[:, :, None])[..., 0]
        step = eta[:, None] * neg_grad + mu * (w - previous)
        previous = w
        w = w + step
        finite = np.isfinite(w).all(axis=1)
        if not finite.all():
            # Freeze the rows that blew up at their last finite iterate.
            ok &= finite
            w = np.where(ok[:, None], w, previous)
    return out, bad


def perceptron(z: np.ndarray, max_updates: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cyclic perceptron from ``w₀ = 0``, batched over datasets.

    Samples are visited in order ``0, 1, …, n−1, 0, …``; a sample with
    ``z_iᵀw ≤ 0`` triggers ``w ← w + z_i``. Visiting correctly classified samples does
    not change ``w``, so each loop iteration jumps, in every dataset, to the next
    mistaken sample after the current position: one iteration per update, not per
    visit. A dataset stops when a full cycle makes no mistake.

    Parameters
    ----------
    z : ndarray, shape (b, n, d)
        Signed samples ``y_i x_i``.
    max_updates : int
        Safety cap on the number of updates.

    Returns
    -------
    w : ndarray, shape (b, d)
    updates : ndarray of int, shape (b,)
    converged : ndarray of bool, shape (b,)

    References
    ----------
    Block (1962), Novikoff (1962); seed 003, "The Perceptron Algorithm", Theorem 1.
    """
    b, n, d = z.shape
    w = np.zeros((b, d))
    updates = np.zeros(b, dtype=np.int64)
    pointer = np.zeros(b, dtype=np.int64)
    active = np.ones(b, dtype=bool)
    rows = np.arange(b)
    for _ in range(max_updates):
        mistakes = np.einsum("bnd,bd->bn", z, w) <= 0
        active &= mistakes.any(axis=1)
        if not active.any():
            break
        # Cyclic order starting at the pointer: rotate the mistake mask.
        order = (pointer[:, None] + np.arange(n)) % n
        first = np.argmax(np.take_along_axis(mistakes, order, axis=1), axis=1)
        index = order[rows, first]
        w[active] += z[rows[active], index[active]]
        updates += active
        pointer = np.where(active, (index + 1) % n, pointer)
    mistakes = np.einsum("bnd,bd->bn", z, w) <= 0
    return w, updates, ~mistakes.any(axis=1)
