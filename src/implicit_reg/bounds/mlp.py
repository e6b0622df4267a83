"""Two-layer ReLU network ``f(x) = W₂ relu(W₁ x)`` trained by (mini-batch) SGD on cross-entropy.

All arrays carry a leading trial axis ``T``: ``W₁`` has shape ``(T, h, d)``, ``W₂`` has
shape ``(T, k, h)`` and inputs have shape ``(T, n, d)`` (or ``(n, d)`` when shared by all
trials), so the trials of a grid point train together with batched matmuls. The network
has no biases: the compression bound is stated for ``x ↦ W_N σ(… σ(W₁ x))``.

References
----------
Zhang et al. (2017), "Understanding deep learning requires rethinking generalization";
Arora, Ge, Neyshabur, Zhang (2018) (the hypothesis class of the compression bound).
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


def subtract_one_hot(probs: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``probs − e_y`` in place (the cross-entropy gradient in the logits, times n).

    Parameters
    ----------
    probs : ndarray, shape (T, n, k)
    y : ndarray of int, shape (T, n) or (n,)
    """
    k = probs.shape[-1]
    flat = probs.reshape(-1)
    y = np.broadcast_to(y, probs.shape[:-1]).reshape(-1)
    flat[np.arange(y.size) * k + y] -= 1.0
    return probs


def gradients(
    w1: np.ndarray,
    w2: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    work: dict | None = None,
    scale: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cross-entropy and the gradients of ``scale`` times it, by backpropagation.

    With ``g = scale·(softmax(f) − e_y)/n``: ``∇W₂ = gᵀ relu(z)`` and
    ``∇W₁ = ((g W₂) ⊙ 1[z > 0])ᵀ x``, summed over the examples of each trial.

    Parameters
    ----------
    scale : float
        The step size of SGD, so that the step ``η∇L`` comes out of the matmuls without
        two more passes over the weights. A power of two, such as the configs' η = 2,
        scales exactly: the step is then bit for bit ``η·∇L``.
    work : dict, optional
        Workspace (`workspace`) holding the (T, n, h) temporaries and the
        gradient of ``W₁`` across calls: the returned ``grad_w1`` is then overwritten by
        the next call.

    Returns
    -------
    loss : ndarray, shape (T,)
    grad_w1 : ndarray, shape (T, h, d)
    grad_w2 : ndarray, shape (T, k, h)
    """
    work = {} if work is None else work
    n_trials, h = w1.shape[0], w1.shape[1]
    shape = (n_trials, x.shape[-2], h)
    dtype = np.result_type(x, w1)
    z, hidden = workspace(work, "z", shape, dtype), workspace(work, "hidden", shape, dtype)
    mask = workspace(work, "mask", shape, bool)
    np.matmul(x, w1.transpose(0, 2, 1), out=z)
    np.maximum(z, 0, out=hidden)
    logits = hidden @ w2.transpose(0, 2, 1)
    loss, g = softmax_cross_entropy(logits, y)
    subtract_one_hot(g, y)
    g /= logits.shape[1]
    if scale != 1.0:
        g *= np.float32(scale)
    grad_w2 = g.transpose(0, 2, 1) @ hidden
    back = np.matmul(g, w2, out=hidden)
    np.greater(z, 0, out=mask)
    back *= mask
    if x.ndim == 2:
        x = np.broadcast_to(x, (n_trials, *x.shape))
    grad_w1 = np.matmul(back.transpose(0, 2, 1), x, out=workspace(work, "grad_w1", w1.shape, dtype))
    return loss, grad_w1, grad_w2


def workspace(work: dict, name: str, shape: tuple, dtype=np.float32) -> np.ndarray:
    """The array ``work[name]`` of ``shape`` and ``dtype``, allocated on first use.

    Loops that run thousands of steps pass the same ``work`` dict, so their large
    temporaries are allocated once instead of on every step (a fresh multi-megabyte
    array costs page faults every time).
    """
    array = work.get(name)
    if array is None or array.shape != tuple(shape) or array.dtype != dtype:
        array = work[name] = np.empty(shape, dtype)
    return array


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


def uniform_label_ramp_loss(logits: np.ndarray, gamma) -> np.ndarray:
    """Ramp loss against a label drawn uniformly from the k classes, in expectation.

    ``(1/k) Σ_j ℓ_γ(f_j − max_{i≠j} f_i)``: the margin of class j is ``f_j`` minus the
    largest logit if j is not the argmax, minus the second largest if it is.

    Parameters
    ----------
    logits : ndarray, shape (T, n, k)
    gamma : ndarray, shape (G,)

    Returns
    -------
    ndarray, shape (T, n, G)
    """
    top2 = np.sort(logits, axis=-1)[..., -2:]
    first = logits.argmax(axis=-1)[..., None]
    k = logits.shape[-1]
    rival = np.where(np.arange(k) == first, top2[..., :1], top2[..., 1:])
    margins = logits - rival
    return ramp_loss(margins[..., None], np.asarray(gamma, float)).mean(axis=-2)


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
    """0–1 error and mean cross-entropy per trial on ``(x, y)``.

    One trial at a time into one reused (n, h) buffer, so that the hidden layer stays in
    cache; the arithmetic is that of `forward` and `softmax_cross_entropy`, trial by
    trial (bit for bit the same numbers).

    Parameters
    ----------
    w1 : ndarray, shape (T, h, d)
    w2 : ndarray, shape (T, k, h)
    x : ndarray, shape (T, n, d) or (n, d)
    y : ndarray of int, shape (T, n) or (n,)

    Returns
    -------
    error, loss : ndarray, shape (T,)
    """
    n_trials = w1.shape[0]
    n = x.shape[-2]
    y = np.broadcast_to(y, (n_trials, n))
    error, loss = np.empty(n_trials), np.empty(n_trials)
    hidden = np.empty((n, w1.shape[1]), np.result_type(x, w1))
    for t in range(n_trials):
        np.matmul(x[t] if x.ndim == 3 else x, w1[t].T, out=hidden)
        np.maximum(hidden, 0, out=hidden)
        logits = (hidden @ w2[t].T)[None]
        loss[t] = softmax_cross_entropy(logits, y[t])[0][0]
        error[t] = error_rate(logits, y[t])[0]
    return error, loss


def may_stop(w1, w2, x, y, stop_loss: float, first: int = 16, chunk: int = 128) -> np.ndarray:
    """Trials that may meet the stopping rule (0 training errors, mean loss ≤ ``stop_loss``).

    A screen before `evaluate`: the examples are visited in chunks (all undecided trials
    at once) of ``first`` examples, then twice as many each time up to ``chunk`` (a
    network still far from the rule misclassifies one of the first few examples, so the
    first chunks are small). A trial is ruled out as soon as one example is misclassified
    by more than the rounding of a float32 forward pass (its margin below
    ``−10⁻³·(1 + max|f|)``) or the cross-entropy summed so far exceeds ``stop_loss·n`` by
    more than ``10⁻³`` per example. Both can only happen if the full evaluation also
    fails the rule, so the decisions of `train` are those of evaluating every example; a
    trial that is not ruled out (or whose outputs are not finite) is evaluated in full.

    Returns
    -------
    ndarray of bool, shape (T,)
    """
    n_trials = w1.shape[0]
    n = x.shape[-2]
    x = np.broadcast_to(x, (n_trials, n, x.shape[-1]))
    y = np.broadcast_to(y, (n_trials, n))
    maybe = np.ones(n_trials, dtype=bool)
    open_ = np.arange(n_trials)
    total = np.zeros(n_trials)
    for start, stop in chunk_bounds(n, first, chunk):
        rows = slice(start, stop)
        _, logits = forward(w1[open_], w2[open_], x[open_, rows])
        labels = y[open_, rows]
        finite = np.isfinite(logits).all(axis=(1, 2))
        tol = 1e-3 * (1.0 + np.abs(np.where(np.isfinite(logits), logits, 0)).max(axis=(1, 2)))
        wrong = (margins(logits, labels) < -tol[:, None]).any(axis=1)
        loss, _ = softmax_cross_entropy(logits, labels)
        total[open_] += loss * logits.shape[1]
        over = total[open_] > stop_loss * n + 1e-3 * stop
        ruled_out = finite & (wrong | over)
        maybe[open_[ruled_out]] = False
        open_ = open_[finite & ~ruled_out]
        if not open_.size:
            break
    return maybe


def chunk_bounds(n: int, first: int, largest: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of consecutive chunks covering ``range(n)``.

    Sizes ``first, 2·first, 4·first, …`` up to ``largest``, then ``largest`` (the last
    chunk is cut at ``n``).
    """
    bounds, start, size = [], 0, max(1, min(first, largest))
    while start < n:
        bounds.append((start, min(start + size, n)))
        start, size = start + size, min(2 * size, largest)
    return bounds


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
    history = np.zeros((4, len(checkpoints), n_trials))
    active = np.ones(n_trials, dtype=bool)
    diverged = np.zeros(n_trials, dtype=bool)
    epochs_trained = np.zeros(n_trials, dtype=np.int64)
    train_err, train_loss = np.zeros(n_trials), np.zeros(n_trials)
    record = {int(c): i for i, c in enumerate(checkpoints)}
    all_idx = np.tile(np.arange(m), (n_trials, 1))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch in range(int(checkpoints[-1]) + 1):
            # Every trial draws its order (the random stream does not depend on which
            # trials are still training); only the active ones are updated and evaluated.
            order = rng.permuted(all_idx, axis=1) if epoch > 0 else None
            act = np.flatnonzero(active)
            if epoch > 0 and act.size:
                start1, start2 = w1[act], w2[act]
                a1, a2 = start1.copy(), start2.copy()
                xa, ya = (x[act], y[act]) if act.size < n_trials else (x, y)
                rows = np.arange(act.size)[:, None]
                work: dict = {}
                for b in range(n_batches):
                    idx = order[act, b * batch : (b + 1) * batch]
                    _, g1, g2 = gradients(a1, a2, xa[rows, idx], ya[rows, idx], work, lr)
                    a1 -= g1
                    a2 -= g2
                w1[act], w2[act] = a1, a2
                epochs_trained[act] = epoch
            if epoch == 0:
                train_err, train_loss = evaluate(w1, w2, x, y)
            elif act.size:
                # Between checkpoints only the stopping rule needs the training error and
                # loss: trials that cannot stop are screened out (exactly, `may_stop`).
                err_a, loss_a = train_err[act], train_loss[act]
                full = np.isfinite(a1).all(axis=(1, 2)) & np.isfinite(a2).all(axis=(1, 2))
                full = ~full | (epoch in record) | may_stop(a1, a2, xa, ya, stop_loss)
                if full.any():
                    err_a[full], loss_a[full] = evaluate(a1[full], a2[full], xa[full], ya[full])
                err_a[~full], loss_a[~full] = np.nan, np.inf
                bad = ~(np.isfinite(loss_a[full]) & np.isfinite(a1[full]).all(axis=(1, 2)))
                bad = np.isin(np.arange(act.size), np.flatnonzero(full)[bad])
                if bad.any():
                    # Restore the last finite weights: the trial is recorded as diverged.
                    w1[act[bad]], w2[act[bad]] = start1[bad], start2[bad]
                    diverged[act[bad]] = True
                    epochs_trained[act[bad]] = epoch - 1
                    err_a[bad], loss_a[bad] = evaluate(start1[bad], start2[bad], xa[bad], ya[bad])
                train_err[act], train_loss[act] = err_a, loss_a
                active[act[bad]] = False
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
