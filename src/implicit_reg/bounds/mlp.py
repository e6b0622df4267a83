"""Two-layer ReLU network ``f(x) = W₂ relu(W₁ x)`` trained by (mini-batch) SGD on cross-entropy.

All arrays carry a leading trial axis ``T``: ``W₁`` has shape ``(T, h, d)``, ``W₂`` has
shape ``(T, k, h)`` and inputs have shape ``(T, n, d)`` (or ``(n, d)`` when shared by all
trials), so the trials of a grid point train together with batched matmuls. The network
has no biases: the bounds of seed 002 are stated for ``x ↦ W_N σ(… σ(W₁ x))``.

References
----------
Zhang et al. (2017), "Understanding deep learning requires rethinking generalization";
seed 002, part 1 (the hypothesis class of the compression bound).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def init_weights(
    rng: np.random.Generator, n_trials: int, d_in: int, width: int, n_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """He initialization: ``W₁ ~ N(0, 2/d)``, ``W₂ ~ N(0, 1/h)`` entrywise, float32.

    Returns
    -------
    w1 : ndarray, shape (n_trials, width, d_in)
    w2 : ndarray, shape (n_trials, n_classes, width)
    """
    w1 = rng.standard_normal((n_trials, width, d_in)) * np.sqrt(2.0 / d_in)
    w2 = rng.standard_normal((n_trials, n_classes, width)) * np.sqrt(1.0 / width)
    return w1.astype(np.float32), w2.astype(np.float32)


def forward(w1: np.ndarray, w2: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pre-activations ``z = x W₁ᵀ`` and logits ``f = relu(z) W₂ᵀ``.

    Parameters
    ----------
    w1 : ndarray, shape (T, h, d)
    w2 : ndarray, shape (T, k, h)
    x : ndarray, shape (T, n, d) or (n, d)

    Returns
    -------
    z : ndarray, shape (T, n, h)
    logits : ndarray, shape (T, n, k)
    """
    z = x @ w1.transpose(0, 2, 1)
    return z, np.maximum(z, 0) @ w2.transpose(0, 2, 1)


def softmax_cross_entropy(logits: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean cross-entropy ``(1/n) Σᵢ [log Σⱼ e^{f_ij} − f_{i,yᵢ}]`` and the softmax.

    Parameters
    ----------
    logits : ndarray, shape (T, n, k)
    y : ndarray of int, shape (T, n) or (n,)

    Returns
    -------
    loss : ndarray, shape (T,)
    probs : ndarray, shape (T, n, k)
    """
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    log_probs = shifted - log_norm
    y = np.broadcast_to(y, logits.shape[:-1])
    picked = np.take_along_axis(log_probs, y[..., None], axis=-1)[..., 0]
    return -picked.mean(axis=-1), np.exp(log_probs)


def gradients(
    w1: np.ndarray, w2: np.ndarray, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cross-entropy and its gradients by backpropagation.

    With ``g = (softmax(f) − e_y)/n``: ``∇W₂ = gᵀ relu(z)`` and
    ``∇W₁ = ((g W₂) ⊙ 1[z > 0])ᵀ x``, summed over the examples of each trial.

    Returns
    -------
    loss : ndarray, shape (T,)
    grad_w1 : ndarray, shape (T, h, d)
    grad_w2 : ndarray, shape (T, k, h)
    """
    z, logits = forward(w1, w2, x)
    loss, probs = softmax_cross_entropy(logits, y)
    n = logits.shape[1]
    y = np.broadcast_to(y, logits.shape[:-1])
    g = probs
    np.put_along_axis(g, y[..., None], np.take_along_axis(g, y[..., None], -1) - 1.0, -1)
    g /= n
    hidden = np.maximum(z, 0)
    grad_w2 = g.transpose(0, 2, 1) @ hidden
    back = (g @ w2) * (z > 0)
    xb = np.broadcast_to(x, (*back.shape[:2], x.shape[-1]))
    grad_w1 = back.transpose(0, 2, 1) @ xb
    return loss, grad_w1, grad_w2


def error_rate(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    """0–1 error ``(1/n) Σᵢ 1[argmaxⱼ f_ij ≠ yᵢ]`` per trial, shape (T,)."""
    return (logits.argmax(axis=-1) != y).mean(axis=-1)


def margins(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Multiclass margin ``f_y − max_{j≠y} f_j`` of every example, shape (T, n).

    It is √2-Lipschitz in ``f`` for the Euclidean norm (a minimum of the √2-Lipschitz maps
    ``f ↦ f_y − f_j``), which fixes the constant β of the compression bound.
    """
    y = np.broadcast_to(y, logits.shape[:-1])
    true = np.take_along_axis(logits, y[..., None], axis=-1)[..., 0]
    others = logits.copy()
    np.put_along_axis(others, y[..., None], -np.inf, axis=-1)
    return true - others.max(axis=-1)


def ramp_loss(margin: np.ndarray, gamma: float | np.ndarray) -> np.ndarray:
    """Ramp loss ``ℓ_γ = clip(1 − margin/γ, 0, 1)``.

    In [0, 1], ≥ the 0–1 error, (1/γ)-Lipschitz in the margin.
    """
    return np.clip(1.0 - margin / gamma, 0.0, 1.0)


@dataclass(frozen=True)
class TrainResult:
    """Outcome of `train` for ``T`` trials.

    Attributes
    ----------
    w1, w2 : ndarray
        Final weights (the last finite ones for a diverged trial).
    checkpoints : ndarray of int, shape (C,)
        Epochs at which the history is recorded.
    train_error, train_loss, test_error, test_loss : ndarray, shape (C, T)
    epochs_trained : ndarray of int, shape (T,)
        Epoch at which the trial stopped (the stopping rule or the budget).
    diverged : ndarray of bool, shape (T,)
    """

    w1: np.ndarray
    w2: np.ndarray
    checkpoints: np.ndarray
    train_error: np.ndarray
    train_loss: np.ndarray
    test_error: np.ndarray
    test_loss: np.ndarray
    epochs_trained: np.ndarray
    diverged: np.ndarray


def evaluate(w1, w2, x, y) -> tuple[np.ndarray, np.ndarray]:
    """0–1 error and mean cross-entropy per trial on ``(x, y)``."""
    _, logits = forward(w1, w2, x)
    loss, _ = softmax_cross_entropy(logits, y)
    return error_rate(logits, y), loss


def train(
    w1: np.ndarray,
    w2: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    *,
    lr: float,
    batch_size: int,
    checkpoints: np.ndarray,
    stop_loss: float,
    rng: np.random.Generator,
) -> TrainResult:
    """Mini-batch SGD ``W ← W − η ∇L_B(W)`` on all trials until zero training error.

    Every epoch visits each example once in a fresh random order per trial. A trial stops
    (its weights freeze) at the end of the first epoch where its training error is 0 and
    its training cross-entropy is ≤ ``stop_loss``, or at the budget ``checkpoints[-1]``.
    A trial whose loss becomes non-finite is marked diverged and frozen at its last finite
    weights. ``batch_size`` ≥ m (or 0) is full-batch GD.

    Parameters
    ----------
    w1, w2 : ndarray
        Initial weights, shapes (T, h, d) and (T, k, h); not modified.
    x : ndarray, shape (T, m, d)
    y : ndarray of int, shape (T, m)
    x_test : ndarray, shape (n_test, d)
    y_test : ndarray of int, shape (n_test,)
    lr : float
    batch_size : int
    checkpoints : ndarray of int
        Sorted epochs (0 = initialization) at which errors and losses are recorded.
    stop_loss : float
    rng : numpy.random.Generator

    Returns
    -------
    TrainResult
    """
    w1, w2 = w1.copy(), w2.copy()
    n_trials, m = y.shape
    batch = m if batch_size <= 0 or batch_size >= m else batch_size
    n_batches = m // batch  # the incomplete last batch of an epoch is dropped
    rows = np.arange(n_trials)[:, None]
    history = np.zeros((4, len(checkpoints), n_trials))
    active = np.ones(n_trials, dtype=bool)
    diverged = np.zeros(n_trials, dtype=bool)
    epochs_trained = np.zeros(n_trials, dtype=np.int64)
    record = {int(c): i for i, c in enumerate(checkpoints)}
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch in range(int(checkpoints[-1]) + 1):
            if epoch > 0 and active.any():
                start1, start2 = w1.copy(), w2.copy()
                step = (lr * active).astype(w1.dtype)[:, None, None]
                order = rng.permuted(np.tile(np.arange(m), (n_trials, 1)), axis=1)
                for b in range(n_batches):
                    idx = order[:, b * batch : (b + 1) * batch]
                    _, g1, g2 = gradients(w1, w2, x[rows, idx], y[rows, idx])
                    w1 -= step * g1
                    w2 -= step * g2
                epochs_trained[active] = epoch
            train_err, train_loss = evaluate(w1, w2, x, y)
            if epoch > 0 and active.any():
                bad = active & ~(np.isfinite(train_loss) & np.isfinite(w1).all(axis=(1, 2)))
                if bad.any():
                    # Restore the last finite weights: the trial is recorded as diverged.
                    w1[bad], w2[bad] = start1[bad], start2[bad]
                    diverged |= bad
                    epochs_trained[bad] = epoch - 1
                    train_err, train_loss = evaluate(w1, w2, x, y)
                active &= ~bad
                active &= ~((train_err == 0) & (train_loss <= stop_loss))
            done = not active.any()
            if epoch in record or done:
                test_err, test_loss = evaluate(w1, w2, x_test, y_test)
                state = np.stack([train_err, train_loss, test_err, test_loss])
                # Once every trial has stopped, the remaining checkpoints repeat the state.
                later = [i for c, i in record.items() if c == epoch or (done and c > epoch)]
                history[:, later] = state[:, None, :]
            if done:
                break
    return TrainResult(
        w1,
        w2,
        np.asarray(checkpoints),
        *history,
        epochs_trained=epochs_trained,
        diverged=diverged,
    )
