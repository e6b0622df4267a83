"""Compiled loops of the margin family: the descent step of `descent_path`, the perceptron.

A descent step on a few dozen samples in ten dimensions is a few hundred floating-point
operations; through numpy it costs the calls. The kernels here run the same formulas
(`implicit_reg.margin.algorithms`) sample by sample: products sum in index order and
``exp``, ``log1p`` come from the C library, so they differ from numpy's by rounding only.
"""

from __future__ import annotations

import numpy as np

from implicit_reg.compiled import compiled

#: Codes of the weight maps (`implicit_reg.margin.algorithms.weight_kinds`) in `descent_kernel`:
#: e^{−m_i}, σ(−m_i), softmax(−m)_i, and σ(−m_i)/L(w) in the log domain.
WEIGHT_CODES = {"exp": 0, "expit": 1, "softmax": 2, "log_domain": 3}

#: Below this margin ``log log(1 + e^{−m})`` is evaluated directly, beyond it by its series
#: (`implicit_reg.margin.algorithms.log_loss_terms`).
_SERIES_FROM = 20.0


@compiled
def _log_expit(x):
    """``log σ(x)``: ``x − log1p(eˣ)`` for ``x < 0``, ``−log1p(e^{−x})`` otherwise."""
    if x < 0:
        return x - np.log1p(np.exp(x))
    return -np.log1p(np.exp(-x))


@compiled
def _log_logistic_term(m):
    """``log log(1 + e^{−m})`` (`implicit_reg.margin.algorithms.log_loss_terms`)."""
    if m < _SERIES_FROM:
        # logaddexp(0, −m) = max(0, −m) + log1p(e^{−|m|})
        if m == 0.0:
            return np.log(np.log(2.0))
        if -m > 0:
            return np.log(-m + np.log1p(np.exp(m)))
        return np.log(np.log1p(np.exp(-m)))
    u = np.exp(-m)
    return -m + np.log1p(u * (-0.5 + u / 3.0))


@compiled
def _weights(neg_m, kind, out, scratch):
    """``out_i = (−ℓ'(m_i))/L(w)^ν`` from ``neg_m = −m`` with the map of code ``kind``."""
    n = neg_m.size
    if kind == 0:
        for i in range(n):
            out[i] = np.exp(neg_m[i])
    elif kind == 1:
        for i in range(n):
            out[i] = 1.0 / (1.0 + np.exp(-neg_m[i]))
    elif kind == 2:
        top = neg_m[0]
        for i in range(1, n):
            top = max(top, neg_m[i])
        total = 0.0
        for i in range(n):
            out[i] = np.exp(neg_m[i] - top)
            total += out[i]
        for i in range(n):
            out[i] /= total
    else:
        for i in range(n):
            scratch[i] = _log_logistic_term(-neg_m[i])
        top = scratch[0]
        for i in range(1, n):
            top = max(top, scratch[i])
        total = 0.0
        for i in range(n):
            total += np.exp(scratch[i] - top)
        log_loss = top + np.log(total)
        for i in range(n):
            out[i] = np.exp(_log_expit(neg_m[i]) - log_loss)


@compiled
def descent_kernel(neg_z, step_zt, w, velocity, mu, kinds, heavy, n_steps):
    """``n_steps`` steps of GD / heavy ball / normalized GD on every row, in place.

    Row b: ``m = z_b w``, ``v ← μ_b v + η_b z_bᵀ g(m)``, ``w ← w + v`` (``w ← w + η_b z_bᵀ
    g(m)`` when no row has momentum), ``g`` the weight map ``kinds[b]`` (`WEIGHT_CODES`).

    Parameters
    ----------
    neg_z : ndarray, shape (b, n, d)
        ``−z``.
    step_zt : ndarray, shape (b, d, n)
        ``η_b z_bᵀ``.
    w, velocity : ndarray, shape (b, d)
        Iterates and velocities, updated.
    mu : ndarray, shape (b,)
    kinds : ndarray of int64, shape (b,)
    heavy : bool
        Whether any row has momentum.
    n_steps : int

    References
    ----------
    Soudry et al. (2018), eq. (2); Nacson et al. (2019), normalized GD.
    """
    b, n, d = neg_z.shape
    neg_m = np.empty(n)
    weights = np.empty(n)
    scratch = np.empty(n)
    descent = np.empty(d)
    for row in range(b):
        for _ in range(n_steps):
            for i in range(n):
                total = 0.0
                for k in range(d):
                    total += neg_z[row, i, k] * w[row, k]
                neg_m[i] = total
            _weights(neg_m, kinds[row], weights, scratch)
            for k in range(d):
                total = 0.0
                for i in range(n):
                    total += step_zt[row, k, i] * weights[i]
                descent[k] = total
            if heavy:
                for k in range(d):
                    velocity[row, k] = velocity[row, k] * mu[row] + descent[k]
                    w[row, k] = w[row, k] + velocity[row, k]
            else:
                for k in range(d):
                    w[row, k] = w[row, k] + descent[k]


@compiled
def perceptron_kernel(z, max_updates, w, updates):
    """The cyclic perceptron on every dataset: ``w ← w + z_i`` at each ``z_iᵀw ≤ 0``.

    Samples are visited in order from the one after the last update; a dataset stops
    after a full cycle without a mistake or after ``max_updates`` updates.

    Parameters
    ----------
    z : ndarray, shape (b, n, d)
    max_updates : int
    w : ndarray, shape (b, d)
        Output (start at 0).
    updates : ndarray of int64, shape (b,)
        Output: number of updates per dataset.

    References
    ----------
    Block (1962), Novikoff (1962).
    """
    b, n, d = z.shape
    for row in range(b):
        pointer = 0
        while updates[row] < max_updates:
            mistake = -1
            for offset in range(n):
                i = (pointer + offset) % n
                total = 0.0
                for k in range(d):
                    total += z[row, i, k] * w[row, k]
                if total <= 0:
                    mistake = i
                    break
            if mistake < 0:
                break
            for k in range(d):
                w[row, k] += z[row, mistake, k]
            updates[row] += 1
            pointer = (mistake + 1) % n
