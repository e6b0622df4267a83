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

from implicit_reg.margin.kernels import WEIGHT_CODES, descent_kernel, perceptron_kernel

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


#: Smallest margin above which ``σ(−m_i)/Σ_j log(1 + e^{−m_j}) = softmax(−m)_i`` to
#: rounding: the relative difference is below ``e^{−m} < 3e-20``.
_SOFTMAX_FROM = 45.0


def weight_kinds(loss: np.ndarray, normalized: np.ndarray, min_margin: np.ndarray) -> np.ndarray:
    """Which weight map of `descent_kernel` (`WEIGHT_CODES`) each row uses.

    Chosen from the row's loss, whether it is normalized and its smallest margin.

    Normalized GD on the logistic loss is computed in the log domain (its loss is a sum
    of underflowing terms) until every margin of the row exceeds 45; from there on
    ``σ(−m_i)/Σ_j log(1 + e^{−m_j})`` equals ``softmax(−m)_i`` to rounding and the cheap
    form is used.
    """
    constant = np.where(loss == "exponential", "exp", "expit")
    logistic = np.where(min_margin >= _SOFTMAX_FROM, "softmax", "log_domain")
    return np.where(normalized, np.where(loss == "exponential", "softmax", logistic), constant)


def descent_path(
    z: np.ndarray,
    loss,
    eta: np.ndarray,
    momentum: np.ndarray,
    normalized: np.ndarray,
    checkpoints: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """GD, heavy-ball momentum and normalized GD from ``w₀ = 0``, batched.

    Row ``b`` of the batch runs

    ``v_{k+1} = μ_b v_k − η_b ∇L_b(w_k)/L_b(w_k)^{ν_b}``, ``w_{k+1} = w_k + v_{k+1}``

    (heavy ball: ``v_k = w_k − w_{k−1}``) with ``ν_b = 1`` for normalized GD (step
    ∝ 1/L, i.e. GD on ``log L``) and 0 otherwise. The negative gradient is
    ``Σ_i (−ℓ'(m_i)) z_i`` with margins ``m_i = z_iᵀw``; the step is folded into the
    transposed data (``η_b z_bᵀ``) so one product gives ``η_b(−∇L_b)``. The steps
    between checkpoints run compiled (`implicit_reg.margin.kernels.descent_kernel`),
    each row with its weight map (`weight_kinds`, chosen again at every checkpoint):
    only normalized GD on the logistic loss pays for the log-domain loss, and only while
    its margins are small. Every row may have its own loss.

    A row whose iterate stops being finite is detected at the next checkpoint, frozen
    at the previous checkpoint's iterate and flagged as diverged.

    Parameters
    ----------
    z : ndarray, shape (b, n, d)
        Signed samples of each batch row.
    loss : {"logistic", "exponential"} or sequence of those, length b
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
    b, n, d = z.shape
    losses = np.broadcast_to(np.asarray(loss, dtype=object), (b,))
    unknown = set(losses) - set(LOSSES)
    if unknown:
        raise ValueError(f"loss must be one of {LOSSES}, got {sorted(unknown)}")
    losses = losses.astype(str)
    normalized = np.broadcast_to(np.asarray(normalized, dtype=bool), (b,))
    eta = np.broadcast_to(np.asarray(eta, dtype=float), (b,))
    mu = np.broadcast_to(np.asarray(momentum, dtype=float), (b,)).copy()
    neg_z = -np.asarray(z, dtype=float)
    step_zt = np.ascontiguousarray(eta[:, None, None] * np.swapaxes(z, 1, 2))  # η_b z_bᵀ
    w = np.zeros((b, d))
    velocity = np.zeros((b, d))
    heavy = bool(mu.any())
    ok = np.ones(b, dtype=bool)
    out = np.empty((len(checkpoints), b, d))
    bad = np.empty((len(checkpoints), b), dtype=bool)
    done = 0
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        for position, stop in enumerate(np.asarray(checkpoints, dtype=np.int64)):
            min_margin = -(neg_z @ w[..., None]).max(axis=1)[:, 0]
            kinds = weight_kinds(losses, normalized, min_margin)
            codes = np.array([WEIGHT_CODES[str(kind)] for kind in kinds], dtype=np.int64)
            descent_kernel(neg_z, step_zt, w, velocity, mu, codes, heavy, int(stop) - done)
            done = max(done, int(stop))
            finite = np.isfinite(w).all(axis=1)
            if not finite[ok].all():
                # Freeze the rows that blew up at the previous checkpoint's iterate.
                newly = ok & ~finite
                ok &= finite
                w[newly] = out[position - 1, newly] if position else 0.0
                velocity[newly] = 0.0
                step_zt[newly] = 0.0
                mu[newly] = 0.0
            out[position] = w
            bad[position] = ~ok
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
    Block (1962), Novikoff (1962) (perceptron convergence theorem).
    """
    b, n, d = z.shape
    z = np.ascontiguousarray(z, dtype=float)
    w = np.zeros((b, d))
    updates = np.zeros(b, dtype=np.int64)
    perceptron_kernel(z, int(max_updates), w, updates)
    mistakes = np.einsum("bnd,bd->bn", z, w) <= 0
    return w, updates, ~mistakes.any(axis=1)
