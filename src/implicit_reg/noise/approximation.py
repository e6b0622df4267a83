"""Stochastic approximation: dropout SGD, and GD/noise injection on a diagonal factorization.

docs/science.md §F5b: SGD, dropout and noise injection are instances of
w_{k+1} = w_k − α_k ∇L̃_k(w_k) with L̃_k a random function; with decaying steps they
converge to critical points of E[L̃], which for dropout and noise injection is the loss
plus an explicit regularizer (Robbins & Monro 1951; Srivastava et al. 2014; Bishop 1995).
These loops never call `implicit_reg.noise.exact`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from implicit_reg.compiled import compiled
from implicit_reg.problems import DIVERGENCE_LIMIT


def dropout_mask(rng: np.random.Generator, shape: tuple, keep_prob: np.ndarray) -> np.ndarray:
    """Inverted-dropout mask m/p with m_j ~ Bernoulli(p): E[m/p] = 1, so E_m[X(m⊙β)/p] = Xβ.

    References
    ----------
    Srivastava et al. (2014) (dropout; the 1/p rescaling keeps the expected output).
    """
    return (rng.random(shape) < keep_prob) / keep_prob


def robbins_monro(step0: np.ndarray, k: int, k0: float) -> np.ndarray:
    """Step α_k = α₀/(1 + k/k₀) of the k-th update (k = 0, 1, ...).

    Σα_k = ∞ and Σα_k² < ∞: the conditions of Robbins & Monro (1951).
    """
    return step0 / (1.0 + k / k0)


@dataclass(frozen=True)
class DropoutPath:
    """Result of `dropout_sgd` (c = checkpoints, T = trials, P = keep probabilities).

    Attributes
    ----------
    averaged : ndarray, shape (c, T, P, d)
        Polyak–Ruppert average (1/k)Σ_{j≤k} β_j (β₀ at step 0).
    last : ndarray, shape (c, T, P, d)
        Last iterate β_k.
    diverged : ndarray of bool, shape (T, P)
    """

    averaged: np.ndarray
    last: np.ndarray
    diverged: np.ndarray


def dropout_sgd(
    X: np.ndarray,
    y: np.ndarray,
    keep_probs: np.ndarray,
    step0: np.ndarray,
    k0: float,
    checkpoints: np.ndarray,
    rng: np.random.Generator,
) -> DropoutPath:
    """SGD on the inverted-dropout loss L̃(β) = (1/2n)‖y − X(m⊙β)/p‖² with a fresh mask per step.

    ∇L̃(β) = (m/p)⊙Xᵀ(X(m⊙β)/p − y)/n with m_j ~ Bernoulli(p) drawn anew every step (one
    mask for all n rows: the random function is the empirical loss of the thinned model),
    β_{k+1} = β_k − α_k∇L̃_k(β_k) with Robbins–Monro steps, from β₀ = 0.

    Parameters
    ----------
    X : ndarray, shape (T, n, d)
    y : ndarray, shape (T, n)
    keep_probs : ndarray, shape (P,)
    step0 : ndarray, shape (T, P)
        α₀ per trial and keep probability.
    k0 : float
    checkpoints : ndarray of int, shape (c,)
    rng : numpy.random.Generator

    Returns
    -------
    DropoutPath

    References
    ----------
    Srivastava et al. (2014); Wager, Wang & Liang (2013); Robbins & Monro (1951);
    Polyak & Juditsky (1992).
    """
    n_trials, n, d = X.shape
    p = np.asarray(keep_probs, float)[None, :, None]
    gram = np.swapaxes(X, 1, 2) @ X / n  # (T, d, d), symmetric
    target = np.einsum("tnd,tn->td", X, y)[:, None, :] / n  # Xᵀy/n, (T, 1, d)
    beta = np.zeros((n_trials, p.shape[1], d))
    average = beta.copy()
    averaged = np.empty((len(checkpoints), *beta.shape))
    last = np.empty_like(averaged)
    diverged = np.zeros(beta.shape[:2], dtype=bool)
    done = 0
    for c, stop in enumerate(checkpoints):
        for k in range(done, int(stop)):
            mask = dropout_mask(rng, beta.shape, p)
            thinned = mask * beta
            gradient = mask * (thinned @ gram - target)
            beta -= robbins_monro(step0, k, k0)[..., None] * gradient
            average += (beta - average) / (k + 1)
        done = int(stop)
        diverged |= ~(np.abs(beta) <= DIVERGENCE_LIMIT).all(-1)
        averaged[c], last[c] = average, beta
    averaged[:, diverged] = np.nan
    last[:, diverged] = np.nan
    return DropoutPath(averaged=averaged, last=last, diverged=diverged)


@dataclass(frozen=True)
class FactorizationPath:
    """Paths of (w₁, w₂) on L(w₁, w₂) = ½‖w* − w₂⊙w₁‖² (c = checkpoints, T = trials).

    Attributes
    ----------
    products : ndarray, shape (c, T, d)
        w₁⊙w₂ (for noise injection: its Polyak–Ruppert average).
    imbalance : ndarray, shape (c, T, d)
        D = w₁⊙w₁ − w₂⊙w₂.
    scale : ndarray, shape (c, T, d)
        w₁⊙w₁ + w₂⊙w₂ (the size of the squares D is the difference of).
    tracked : ndarray, shape (c, T, d) or None
        D₀ times the product of ``factor(r_k)`` over the steps so far, if a factor was given.
    last_products : ndarray, shape (c, T, d)
        w₁⊙w₂ of the last iterate.
    """

    products: np.ndarray
    imbalance: np.ndarray
    scale: np.ndarray
    tracked: np.ndarray | None
    last_products: np.ndarray


#: Steps of noise drawn ahead and handed to one call of `noise_injection_steps`.
INJECTION_BLOCK = 1024


@compiled
def factorization_gd_steps(
    w_star: np.ndarray,
    w1: np.ndarray,
    w2: np.ndarray,
    tracked: np.ndarray,
    step: float,
    penalty: float,
    n_steps: int,
    track: bool,
) -> None:
    """``n_steps`` steps of `factorization_gd` in place, for every trial and coordinate.

    w₁ ← (1 − αλ)w₁ + α r⊙w₂, w₂ ← (1 − αλ)w₂ + α r⊙w₁ with r = w* − w₁⊙w₂; if ``track``,
    ``tracked`` ← ``tracked``·((1 − αλ)² − α²r²) (the step's factor on w₁² − w₂²).
    Coordinates are independent; the loop over them is innermost (vectorizable).
    """
    shrink = 1.0 - step * penalty
    factor_shrink = shrink**2
    step2 = step**2
    n_trials, d = w1.shape
    for _ in range(n_steps):
        for t in range(n_trials):
            a, b, target, product = w1[t], w2[t], w_star[t], tracked[t]
            for j in range(d):
                r = target[j] - a[j] * b[j]
                a[j], b[j] = shrink * a[j] + step * r * b[j], shrink * b[j] + step * r * a[j]
                if track:
                    product[j] = product[j] * (factor_shrink - step2 * (r * r))


def factorization_gd(
    w_star: np.ndarray,
    w1: np.ndarray,
    w2: np.ndarray,
    step: float,
    penalty: float,
    checkpoints: np.ndarray,
    track_imbalance: bool = False,
) -> FactorizationPath:
    """GD on ½‖w* − w₂⊙w₁‖² + (λ/2)(‖w₁‖² + ‖w₂‖²) with constant step α.

    w₁ ← (1 − αλ)w₁ + α r⊙w₂, w₂ ← (1 − αλ)w₂ + α r⊙w₁, r = w* − w₂⊙w₁ (λ = 0: plain GD),
    by the compiled `factorization_gd_steps`.

    Parameters
    ----------
    w_star : ndarray, shape (d,) or (T, d)
    w1, w2 : ndarray, shape (T, d)
        Initialization.
    step, penalty : float
        α and λ (λ = η² for the expected loss of noise injection, Bishop 1995).
    checkpoints : ndarray of int, shape (c,)
    track_imbalance : bool
        Also multiply a copy of the imbalance D₀ by (1 − αλ)² − α²r² every step (the
        exact recursion of D to compare the iterates with).

    Returns
    -------
    FactorizationPath

    References
    ----------
    Hoff (2017) (ℓ2 penalty on the factors = ℓ1 penalty on the product); imbalance
    recursion: docs/science.md §F5b.
    """
    w1, w2 = np.array(w1, float), np.array(w2, float)
    target = np.ascontiguousarray(np.broadcast_to(np.asarray(w_star, float), w1.shape))
    shape = (len(checkpoints), *w1.shape)
    products, imbalance, scale = np.empty(shape), np.empty(shape), np.empty(shape)
    tracked_path = np.empty(shape) if track_imbalance else None
    tracked = w1 * w1 - w2 * w2
    done = 0
    for c, stop in enumerate(checkpoints):
        factorization_gd_steps(
            target, w1, w2, tracked, float(step), float(penalty), int(stop) - done, track_imbalance
        )
        done = int(stop)
        products[c] = w1 * w2
        imbalance[c] = w1 * w1 - w2 * w2
        scale[c] = w1 * w1 + w2 * w2
        if tracked_path is not None:
            tracked_path[c] = tracked
    return FactorizationPath(products, imbalance, scale, tracked_path, products.copy())


@compiled
def noise_injection_steps(
    w_star: np.ndarray,
    w1: np.ndarray,
    w2: np.ndarray,
    average: np.ndarray,
    noise: np.ndarray,
    noise_scale: float,
    steps: np.ndarray,
    first: int,
) -> None:
    """Steps k = ``first``, ``first`` + 1, ... of `noise_injection` in place.

    Step k uses ξ₁ = ``noise[k − first, 0]``, ξ₂ = ``noise[k − first, 1]`` (standard
    normal, shape (T, d)) and α_k = ``steps[k − first]``; ``average`` is the running mean
    of w₁⊙w₂ over steps 1..k.
    """
    n_trials, d = w1.shape
    for s in range(steps.size):
        count = first + s + 1
        for t in range(n_trials):
            a, b, mean, target = w1[t], w2[t], average[t], w_star[t]
            xi1, xi2 = noise[s, 0, t], noise[s, 1, t]
            for j in range(d):
                noisy1 = a[j] + noise_scale * xi1[j]
                noisy2 = b[j] + noise_scale * xi2[j]
                step_r = steps[s] * (target[j] - noisy1 * noisy2)
                a[j] += step_r * noisy2
                b[j] += step_r * noisy1
                mean[j] += (a[j] * b[j] - mean[j]) / count


def noise_injection(
    w_star: np.ndarray,
    w1: np.ndarray,
    w2: np.ndarray,
    noise_scale: float,
    step0: float,
    k0: float,
    checkpoints: np.ndarray,
    rng: np.random.Generator,
) -> FactorizationPath:
    """Stochastic SAM / noise injection: gradients of L at perturbed weights, decaying steps.

    With ξ₁, ξ₂ ~ N(0, η²I) fresh every step and r = w* − (w₂ + ξ₂)⊙(w₁ + ξ₁):
    w₁ ← w₁ + α_k r⊙(w₂ + ξ₂), w₂ ← w₂ + α_k r⊙(w₁ + ξ₁), α_k = α₀/(1 + k/k₀). The
    expected update is a GD step on the penalized loss L + (η²/2)(‖w₁‖² + ‖w₂‖²).
    ``products`` holds the Polyak–Ruppert average of w₁⊙w₂ over steps 1..k. The standard
    normals are drawn ``INJECTION_BLOCK`` steps at a time as one array (ξ₁ then ξ₂ of each
    step: the stream of one draw per factor and step) and the compiled
    `noise_injection_steps` takes the steps.

    Parameters
    ----------
    w_star : ndarray, shape (d,) or (T, d)
    w1, w2 : ndarray, shape (T, d)
    noise_scale : float
        η.
    step0, k0 : float
    checkpoints : ndarray of int, shape (c,)
    rng : numpy.random.Generator

    Returns
    -------
    FactorizationPath

    References
    ----------
    Bishop (1995) (noise injection = penalty in expectation); Robbins & Monro (1951);
    Polyak & Juditsky (1992); docs/science.md §F5b.
    """
    w1, w2 = np.array(w1, float), np.array(w2, float)
    target = np.ascontiguousarray(np.broadcast_to(np.asarray(w_star, float), w1.shape))
    shape = (len(checkpoints), *w1.shape)
    products, last, imbalance, scale = (np.empty(shape) for _ in range(4))
    average = w1 * w2
    done = 0
    for c, stop in enumerate(checkpoints):
        while done < stop:
            count = min(INJECTION_BLOCK, int(stop) - done)
            noise = rng.standard_normal((count, 2, *w1.shape))
            steps = robbins_monro(step0, np.arange(done, done + count), k0)
            noise_injection_steps(
                target, w1, w2, average, noise, float(noise_scale), steps.astype(float), done
            )
            done += count
        products[c], last[c] = average, w1 * w2
        imbalance[c] = w1 * w1 - w2 * w2
        scale[c] = w1 * w1 + w2 * w2
    return FactorizationPath(products, imbalance, scale, None, last)
