"""PAC-Bayes bounds for Gaussian posteriors around the trained network.

The prior is ``P = N(w_P, λI)``, the posterior ``Q = N(μ, diag(s))``. Two prior means are
used: the initialization θ₀ (drawn before any data is seen), with the whole training
sample as ``S``; and a data-dependent mean learned on a part ``S_prior`` of the training
set, with the disjoint rest ``S_bound`` as ``S`` (`split_sample`, `optimized_bound`).
Two theorems are used for the 0–1 loss, each holding with probability ≥ 1 − δ over the
sample ``S`` of size ``m`` for every posterior at once, provided the prior does not
depend on ``S``:

- McAllester (1999): ``L_D(Q) ≤ L_S(Q) + √((KL(Q‖P) + ln(2m/δ)) / (2(m−1)))``;
- Langford–Seeger / Maurer (kl form): ``kl(L_S(Q) ‖ L_D(Q)) ≤ (KL(Q‖P) + ln(2√m/δ)) / m``,
  i.e. ``L_D(Q) ≤ kl⁻¹(L_S(Q), (KL + ln(2√m/δ))/m)``.

A finite grid of K prior variances costs ``δ → δ/K`` (union bound). ``L_S(Q)`` is not
computable exactly: it is replaced by the upper confidence limit of a Monte Carlo estimate,
which holds with probability ≥ 1 − δ_mc (Hoeffding's kl inequality, as in Langford and
Caruana 2001 and Dziugaite and Roy 2017), so each final bound holds w.p. ≥ 1 − δ − δ_mc.

Monte Carlo uses the local reparameterization: for a fixed input the pre-activations of
a network with Gaussian weights are Gaussian, ``z = W₁x ~ N(μ₁x, diag(s₁ x²))``, and given
the hidden layer so are the logits. ``L_S(Q) = (1/m) Σᵢ P_{θ∼Q}[error on xᵢ]`` only needs
each example's marginal, so the draws are independent across examples and samples:
``n_samples · m`` independent Bernoulli variables whose average has mean exactly
``L_S(Q)``.

References
----------
McAllester (1999, 2003); Seeger (2002); Maurer (2004); Langford and Caruana (2001);
Dziugaite and Roy (2017), "Computing nonvacuous generalization bounds for deep
(stochastic) neural networks…"; Kingma, Salimans, Welling (2015) (local
reparameterization); Langford and Seeger (2001) (Gaussian KL, union over priors);
Ambroladze, Parrado-Hernández, Shawe-Taylor (2007) and Parrado-Hernández et al. (2012)
(priors learned on a held-out part of the sample); Dziugaite, Hsu, Gharbieh, Arpino,
Roy (2021), "On the role of data in PAC-Bayes bounds"; Pérez-Ortiz, Rivasplata,
Shawe-Taylor, Szepesvári (2021), "Tighter risk certificates for neural networks".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from implicit_reg.bounds.mlp import softmax_cross_entropy, subtract_one_hot, workspace
from implicit_reg.bounds.sampling import standard_normal
from implicit_reg.compiled import compiled

LN2 = np.log(2.0)


# --------------------------------------------------------------------------------------
# KL divergences


def gaussian_kl(mu0, cov0, mu1, cov1) -> float:
    """``KL(N(μ₀, Σ₀) ‖ N(μ₁, Σ₁))`` in closed form.

    ``½ [tr(Σ₁⁻¹Σ₀) + (μ₁ − μ₀)ᵀ Σ₁⁻¹ (μ₁ − μ₀) − r + ln(det Σ₁ / det Σ₀)]``.

    References
    ----------
    Standard Gaussian KL; Langford and Seeger (2001); Dziugaite and Roy (2017).
    """
    mu0, mu1 = np.asarray(mu0, float), np.asarray(mu1, float)
    cov0, cov1 = np.asarray(cov0, float), np.asarray(cov1, float)
    diff = mu1 - mu0
    trace = np.trace(np.linalg.solve(cov1, cov0))
    quad = diff @ np.linalg.solve(cov1, diff)
    logdet = np.linalg.slogdet(cov1)[1] - np.linalg.slogdet(cov0)[1]
    return 0.5 * (trace + quad - len(mu0) + logdet)


def isotropic_kl(dist_sq, n_params: int, var_post, var_prior):
    """KL of ``N(θ̂, σ̄²I)`` from ``N(θ₀, σ²I)`` in ``r = n_params`` dimensions.

    ``½ [r σ̄²/σ² + ‖θ̂ − θ₀‖²/σ² − r + r ln(σ²/σ̄²)]``, which is ``‖θ̂ − θ₀‖²/(2σ²)`` at
    ``σ̄ = σ``. Broadcasts over arrays.

    References
    ----------
    McAllester (1999); Dziugaite and Roy (2017) (isotropic Gaussian posterior and prior).
    """
    ratio = np.asarray(var_post) / np.asarray(var_prior)
    return 0.5 * (n_params * (ratio - 1.0 - np.log(ratio)) + np.asarray(dist_sq) / var_prior)


def diagonal_kl(means, variances, prior_means, prior_var) -> np.ndarray:
    """KL of ``N(μ, diag(s))`` from ``N(θ₀, λI)``, summed over parameter blocks.

    ``½ Σ_k [s_k/λ + (μ_k − θ₀_k)²/λ − 1 + ln λ − ln s_k]``, evaluated in float64 from the
    three sums ``Σ s_k``, ``Σ (μ_k − θ₀_k)²`` and ``Σ ln s_k`` (`kl_from_sums`).

    Parameters
    ----------
    means, variances, prior_means : sequence of ndarray, each shape (T, ...)
        One entry per weight matrix.
    prior_var : ndarray, shape (T,) or (J, T)
        One prior variance per trial, or a grid of J of them.

    Returns
    -------
    ndarray, shape of ``prior_var``
    """
    return kl_from_sums(*kl_sums(means, variances, prior_means), prior_var)


def kl_sums(means, variances, prior_means) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """``(Σ s_k, Σ (μ_k − θ₀_k)², Σ ln s_k, r)`` per trial in float64, r parameters."""
    sum_s = sum_dist = sum_log = 0.0
    n_params = 0
    for mu, s, mu0 in zip(means, variances, prior_means, strict=True):
        flat = (-1, int(np.prod(mu.shape[1:])))
        diff = (mu.astype(np.float64) - mu0).reshape(flat)
        s64 = np.broadcast_to(s, mu.shape).astype(np.float64).reshape(flat)
        sum_s = sum_s + s64.sum(axis=1)
        sum_dist = sum_dist + np.vecdot(diff, diff)
        sum_log = sum_log + np.log(s64).sum(axis=1)
        n_params += flat[1]
    return sum_s, sum_dist, sum_log, n_params


def kl_from_sums(sum_s, sum_dist, sum_log, n_params: int, prior_var) -> np.ndarray:
    """``½ [(Σs + Σ(μ − θ₀)²)/λ − r + r ln λ − Σ ln s]``: the diagonal KL for each λ."""
    lam = np.asarray(prior_var, float)
    return 0.5 * ((sum_s + sum_dist) / lam - n_params + n_params * np.log(lam) - sum_log)


# --------------------------------------------------------------------------------------
# Binary kl and its inverse


def binary_kl(q, p):
    """``kl(q ‖ p) = q ln(q/p) + (1 − q) ln((1 − q)/(1 − p))`` with ``0 ln 0 = 0``."""
    q, p = np.asarray(q, float), np.asarray(p, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(q > 0, q * np.log(q / p), 0.0)
        b = np.where(q < 1, (1 - q) * np.log((1 - q) / (1 - p)), 0.0)
    return a + b


def kl_inverse_upper(q, c, n_iter: int = 80):
    """``kl⁻¹(q, c) = sup{p ∈ [q, 1] : kl(q ‖ p) ≤ c}`` by bisection.

    ``p ↦ kl(q ‖ p)`` increases on ``[q, 1)`` to +∞, so the set is an interval
    ``[q, p*]``. The bisection keeps ``kl(q ‖ lo) ≤ c < kl(q ‖ hi)`` and returns ``hi``,
    so the returned value is never below the exact inverse (a conservative bound); after
    80 halvings the bracket is narrower than 1e-24. Broadcasts over arrays.

    References
    ----------
    Seeger (2002); Dziugaite and Roy (2017), §3.
    """
    q = np.clip(np.asarray(q, float), 0.0, 1.0)
    c = np.asarray(c, float)
    q, c = np.broadcast_arrays(q, c)
    lo, hi = q.copy(), np.ones_like(q)
    for _ in range(n_iter):
        mid = 0.5 * (lo + hi)
        inside = binary_kl(q, mid) <= c
        lo = np.where(inside, mid, lo)
        hi = np.where(inside, hi, mid)
    return hi


def mc_upper_limit(mean_loss, n_draws, delta):
    """Upper confidence limit ``kl⁻¹(L̂, ln(1/δ)/N)`` for the mean of ``N`` independent [0, 1] draws.

    Hoeffding (1963, Theorem 1) gives ``P(L̂ ≤ μ − t) ≤ exp(−N kl(μ − t ‖ μ))`` for
    independent (not necessarily identical) variables in [0, 1] with average mean μ, so
    ``μ ≤ kl⁻¹(L̂, ln(1/δ)/N)`` with probability ≥ 1 − δ.

    References
    ----------
    Langford and Caruana (2001); Dziugaite and Roy (2017), §3 (sample convergence bound).
    """
    return kl_inverse_upper(mean_loss, np.log(1.0 / delta) / n_draws)


def mcallester_bound(emp_loss, kl, m: int, delta):
    """``L̂ + √((KL + ln(2m/δ)) / (2(m − 1)))`` (McAllester 1999)."""
    return emp_loss + np.sqrt((kl + np.log(2.0 * m / delta)) / (2.0 * (m - 1)))


def kl_form_bound(emp_loss, kl, m: int, delta):
    """``kl⁻¹(L̂, (KL + ln(2√m/δ)) / m)`` (Langford–Seeger; Maurer 2004, Theorem 5)."""
    return kl_inverse_upper(emp_loss, (kl + np.log(2.0 * np.sqrt(m) / delta)) / m)


# --------------------------------------------------------------------------------------
# Monte Carlo estimate of the Gibbs error


def _per_trial_std(variance, n_trials: int):
    """``√s`` as a per-trial scalar if ``s`` is isotropic (a scalar or one value per trial)."""
    v = np.asarray(variance, np.float32)
    if v.size == 1:
        return np.full(n_trials, np.sqrt(v.reshape(())), np.float32)
    if v.size == n_trials:
        return np.sqrt(v.reshape(n_trials))
    return None


def gibbs_error(
    means: tuple[np.ndarray, np.ndarray],
    variances: tuple,
    x: np.ndarray,
    y: np.ndarray,
    n_samples: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, int]:
    """Monte Carlo 0–1 error of the stochastic network ``θ ∼ N(μ, diag(s))``.

    Local reparameterization (module docstring): per example and draw,
    ``z = μ₁x + √(s₁ x²) ⊙ ξ``, ``o = μ₂ relu(z) + √(s₂ relu(z)²) ⊙ ζ`` with independent
    standard normal ξ, ζ, which is exactly the law of ``(W₁x, W₂ relu(W₁x))`` for one
    input. For an isotropic block (``s = σ²``) the standard deviations are ``σ‖x‖`` and
    ``σ‖relu(z)‖``. The normals come from `sampling.standard_normal`; the loop runs over
    trials and draws with one (n, h) buffer, which stays in cache.

    Parameters
    ----------
    means : (ndarray (T, h, d), ndarray (T, k, h))
    variances : pair of arrays shaped like ``means``, or isotropic: scalars or per-trial
        arrays of T values (e.g. shape (T,) or (T, 1, 1))
    x : ndarray, shape (T, n, d) or (n, d)
    y : ndarray of int, shape (T, n) or (n,)
    n_samples : int
        Independent draws per example.

    Returns
    -------
    error : ndarray, shape (T,)
        Average of the ``n_samples · n`` 0–1 draws of each trial.
    n_draws : int
        ``n_samples · n``, the number of independent draws behind ``error``.
    """
    (mu1, mu2), (s1, s2) = means, variances
    n_trials, h, k = mu1.shape[0], mu1.shape[1], mu2.shape[1]
    n = x.shape[-2]
    iso1, iso2 = _per_trial_std(s1, n_trials), _per_trial_std(s2, n_trials)
    y = np.broadcast_to(y, (n_trials, n))
    hidden = np.empty((n, h), np.float32)
    noise_o = np.empty((n, k), np.float32)
    wrong = np.zeros(n_trials)
    for t in range(n_trials):
        xt = (x[t] if x.ndim == 3 else x).astype(np.float32, copy=False)
        mean_z = xt @ mu1[t].T
        if iso1 is not None:
            sd_z = iso1[t] * np.sqrt(np.vecdot(xt, xt))[:, None]
        else:
            sd_z = np.sqrt(np.square(xt) @ np.asarray(s1[t], np.float32).T)
        s2t = None if iso2 is not None else np.asarray(s2[t], np.float32).T
        for _ in range(n_samples):
            standard_normal(rng, (n, h), out=hidden)
            hidden *= sd_z
            hidden += mean_z
            np.maximum(hidden, 0, out=hidden)
            logits = hidden @ mu2[t].T
            if iso2 is not None:
                sd_o = iso2[t] * np.sqrt(np.vecdot(hidden, hidden))[:, None]
            else:
                np.square(hidden, out=hidden)
                sd_o = np.sqrt(hidden @ s2t)
            logits += sd_o * standard_normal(rng, (n, k), out=noise_o)
            wrong[t] += np.count_nonzero(logits.argmax(axis=-1) != y[t])
    return wrong / (n_samples * n), n_samples * n


# --------------------------------------------------------------------------------------
# Isotropic posterior N(θ̂, σ²I) on a σ grid


@dataclass(frozen=True)
class GridBound:
    """Best bound over the σ grid for each trial, and what it bounds.

    Attributes
    ----------
    bound : ndarray, shape (T,)
    sigma : ndarray, shape (T,)
        The grid value where the bound is smallest.
    kl : ndarray, shape (T,)
        ``‖θ̂ − θ₀‖²/(2σ²)`` at that σ.
    train_gibbs : ndarray, shape (T,)
        Monte Carlo training error of the posterior at that σ.
    test_gibbs : ndarray, shape (T,)
        Monte Carlo test error of the same posterior: the measured loss that is bounded.
    """

    bound: np.ndarray
    sigma: np.ndarray
    kl: np.ndarray
    train_gibbs: np.ndarray
    test_gibbs: np.ndarray


def sigma_grid_bounds(
    weights: tuple[np.ndarray, np.ndarray],
    init: tuple[np.ndarray, np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    *,
    sigmas,
    n_samples: int,
    delta: float,
    delta_mc: float,
    rng: np.random.Generator,
) -> dict[str, GridBound]:
    """McAllester and kl-form bounds for ``Q_σ = N(θ̂, σ²I)``, ``P_σ = N(θ₀, σ²I)``.

    For each σ of the grid (K values): ``KL = ‖θ̂ − θ₀‖²/(2σ²)``; the Monte Carlo
    training error ``L̂_σ`` from ``n_samples`` draws per example; its upper limit
    ``ū_σ = kl⁻¹(L̂_σ, ln(K/δ_mc)/N)``; then each form evaluated at ``δ/K``. The reported
    bound is the minimum over σ, valid simultaneously for the whole grid by the union
    bound, with probability ≥ 1 − δ − δ_mc.

    Returns
    -------
    dict
        ``{"mcallester": GridBound, "kl": GridBound}``.

    References
    ----------
    Langford and Seeger (2001); Dziugaite and Roy (2017), §3 (union bound over priors).
    """
    sigmas = np.asarray(sigmas, float)
    k = len(sigmas)
    m = y.shape[-1]
    dist_sq = sum(
        ((w - w0).astype(float) ** 2).sum(axis=(1, 2)) for w, w0 in zip(weights, init, strict=True)
    )
    rows = {name: np.zeros((k, len(dist_sq))) for name in ("mca", "klb", "kl", "tr", "te")}
    for j, sigma in enumerate(sigmas):
        var = (np.float32(sigma**2), np.float32(sigma**2))
        train, n_draws = gibbs_error(weights, var, x, y, n_samples, rng)
        test, _ = gibbs_error(weights, var, x_test, y_test, n_samples, rng)
        upper = mc_upper_limit(train, n_draws, delta_mc / k)
        kl = dist_sq / (2.0 * sigma**2)
        rows["mca"][j] = mcallester_bound(upper, kl, m, delta / k)
        rows["klb"][j] = kl_form_bound(upper, kl, m, delta / k)
        rows["kl"][j], rows["tr"][j], rows["te"][j] = kl, train, test
    out = {}
    cols = np.arange(len(dist_sq))
    for name, key in (("mcallester", "mca"), ("kl", "klb")):
        best = rows[key].argmin(axis=0)
        out[name] = GridBound(
            bound=rows[key][best, cols],
            sigma=sigmas[best],
            kl=rows["kl"][best, cols],
            train_gibbs=rows["tr"][best, cols],
            test_gibbs=rows["te"][best, cols],
        )
    return out


# --------------------------------------------------------------------------------------
# Optimized posterior (Dziugaite and Roy 2017)


def stochastic_gradients(means, variances, x, y, xi, zeta, *, scale=1.0, out=None, work=None):
    """Cross-entropy of the locally reparameterized network and its gradients.

    Forward: ``a = μ₁x``, ``q₁ = s₁x²``, ``z = a + √q₁ ⊙ ξ``, ``h = relu(z)``,
    ``c = μ₂h``, ``q₂ = s₂h²``, ``o = c + √q₂ ⊙ ζ``, loss = mean cross-entropy of ``o``.
    Backward with ``g = ∂L/∂o``: ``∂μ₂ = gᵀh``, ``∂s₂ = (g⊙ζ/(2√q₂))ᵀ h²``,
    ``∂h = gμ₂ + 2h ⊙ ((g⊙ζ/(2√q₂)) s₂)``, ``∂z = ∂h ⊙ 1[z>0]``, ``∂μ₁ = ∂zᵀx``,
    ``∂s₁ = (∂z⊙ξ/(2√q₁))ᵀ x²``.

    Parameters
    ----------
    means, variances : (ndarray (T, h, d), ndarray (T, k, h))
    x : ndarray, shape (T, b, d)
    y : ndarray of int, shape (T, b)
    xi : ndarray, shape (T, b, h)
    zeta : ndarray, shape (T, b, k)
        The standard normal noise (an argument so that tests can fix it).
    scale : float
        The gradients returned are those of ``scale · loss``.
    out : tuple of 4 ndarrays, optional
        Arrays (or views) shaped like ``μ₁, μ₂, s₁, s₂`` that receive the gradients.
    work : dict, optional
        Workspace of the (T, b, h) temporaries (`mlp.workspace`), reused across calls.

    Returns
    -------
    loss : ndarray, shape (T,)
    grads : tuple of 4 ndarrays
        Gradients of ``scale · loss`` with respect to ``μ₁, μ₂, s₁, s₂``.
    """
    (mu1, mu2), (s1, s2) = means, variances
    out = out or (None,) * 4
    work = {} if work is None else work
    big = xi.shape  # (T, b, h): every buffer of this shape is reused across calls
    dtype = np.result_type(x, xi, mu1, s1)
    sd1, z, h, h2, dz = (
        workspace(work, name, big, dtype) for name in ("sd1", "z", "h", "h2", "dz")
    )
    mask = workspace(work, "mask", big, bool)
    x2 = np.square(x)
    np.matmul(x2, s1.transpose(0, 2, 1), out=sd1)
    sd1 += 1e-30
    np.sqrt(sd1, out=sd1)
    np.matmul(x, mu1.transpose(0, 2, 1), out=z)
    np.multiply(sd1, xi, out=h)
    z += h
    np.maximum(z, 0, out=h)
    np.square(h, out=h2)
    sd2 = h2 @ s2.transpose(0, 2, 1)
    sd2 += 1e-30
    np.sqrt(sd2, out=sd2)
    o = sd2 * zeta
    o += h @ mu2.transpose(0, 2, 1)
    loss, g = softmax_cross_entropy(o, y)
    subtract_one_hot(g, y)
    g *= scale / o.shape[1]
    dq2 = g * zeta  # 2 ∂L/∂q₂ = g ⊙ ζ / √q₂
    dq2 /= sd2
    grad_mu2 = np.matmul(g.transpose(0, 2, 1), h, out=out[1])
    grad_s2 = np.matmul(dq2.transpose(0, 2, 1), h2, out=out[3])
    grad_s2 *= 0.5
    np.matmul(dq2, s2, out=dz)
    dz *= h
    dz += np.matmul(g, mu2, out=h2)
    np.greater(z, 0, out=mask)
    dz *= mask
    grad_mu1 = np.matmul(dz.transpose(0, 2, 1), x, out=out[0])
    dz *= xi
    sd1 *= 2.0
    dz /= sd1
    grad_s1 = np.matmul(dz.transpose(0, 2, 1), x2, out=out[2])
    return loss, (grad_mu1, grad_mu2, grad_s1, grad_s2)


@dataclass(frozen=True)
class OptimizedBound:
    """Result of `optimized_bound` per trial (arrays of shape (T,)).

    Attributes
    ----------
    bound : kl-form bound of the optimized posterior.
    prior_sigma : the grid prior standard deviation √λ used.
    kl : KL(Q‖P).
    train_gibbs, test_gibbs : Monte Carlo errors of the posterior on the bound's sample
        ``(x, y)`` and on the test set (the measured loss that is bounded).
    means, stds : the posterior (tuples of arrays shaped like the weights).
    """

    bound: np.ndarray
    prior_sigma: np.ndarray
    kl: np.ndarray
    train_gibbs: np.ndarray
    test_gibbs: np.ndarray
    means: tuple
    stds: tuple


def prior_grid(sigma_min: float, sigma_max: float, size: int) -> np.ndarray:
    """Prior variances ``λ_j``, log-uniform from ``σ_max²`` down to ``σ_min²`` (size values)."""
    return np.geomspace(sigma_max**2, sigma_min**2, size)


def split_sample(
    m: int, fraction: float, n_trials: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Split the indices ``0..m−1`` of each trial into ``S_prior`` and ``S_bound``.

    A uniformly random permutation per trial; its first ``round(fraction·m)`` indices
    form ``S_prior``, the rest ``S_bound``. The permutation must be drawn from a generator
    that does not depend on the data: then, for i.i.d. examples, ``S_bound`` is an i.i.d.
    sample of size ``m − round(fraction·m)`` independent of ``S_prior``, which is what
    the data-dependent prior bound needs (Dziugaite et al. 2021, §3).

    Returns
    -------
    prior_idx : ndarray of int, shape (n_trials, round(fraction·m))
    bound_idx : ndarray of int, shape (n_trials, m − round(fraction·m)), disjoint from
        ``prior_idx`` row by row.
    """
    m_prior = int(round(fraction * m))
    if not 0 < m_prior < m:
        raise ValueError(f"fraction {fraction} of m = {m} leaves an empty part")
    order = rng.permuted(np.tile(np.arange(m), (n_trials, 1)), axis=1)
    return order[:, :m_prior], order[:, m_prior:]


def optimized_bound(
    weights: tuple[np.ndarray, np.ndarray],
    prior_mean: tuple[np.ndarray, np.ndarray],
    sigma0: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    *,
    steps: int,
    lr: float,
    batch_size: int,
    prior_vars: np.ndarray,
    n_samples: int,
    delta: float,
    delta_mc: float,
    rng: np.random.Generator,
) -> OptimizedBound:
    """Optimize ``Q = N(μ, diag(e^{2ρ}))`` and the prior variance λ against the bound.

    Following Dziugaite and Roy (2017), minimize by Adam the differentiable objective
    ``E_{θ∼Q} L̃_B(θ)/ln 2 + √((KL(Q ‖ N(w_P, λI)) + ln(2m/δ_J)) / (2(m − 1)))`` over
    ``(μ, ρ, ln λ)``, with ``L̃_B`` the cross-entropy on a mini-batch of ``(x, y)`` (one
    local reparameterization draw per example; cross-entropy in bits is ≥ the 0–1 error),
    from ``μ = weights``, ``ρ = ln σ₀``, ``λ = σ₀²``. Afterwards λ is replaced by the grid
    value ``λ_j`` (J values, union bound ``δ_J = δ/J``) that minimizes the exact KL, and
    the final bound is the kl form with the Monte Carlo upper limit of the 0–1 error on
    ``(x, y)``: ``kl⁻¹(kl⁻¹(L̂, ln(1/δ_mc)/N), (KL + ln(2√m J/δ))/m)``, valid for the
    Gibbs 0–1 error of ``Q`` w.p. ≥ 1 − δ − δ_mc, with ``m`` the size of ``(x, y)``.

    The same function serves both priors; only the arguments change:

    - prior at the initialization: ``prior_mean = θ₀``, ``weights = θ̂`` and ``(x, y)``
      the whole training sample;
    - data-dependent prior (Dziugaite et al. 2021; Pérez-Ortiz et al. 2021):
      ``prior_mean = w_prior`` learned on ``S_prior`` only, ``(x, y) = S_bound``, the
      disjoint rest of the sample. The theorem needs the prior to be independent of
      ``(x, y)``; the posterior's starting point and everything the optimizer does may
      depend on ``(x, y)``, since the bound holds for all posteriors at once.

    Parameters
    ----------
    weights : (ndarray (T, h, d), ndarray (T, k, h))
        Starting posterior mean (the trained weights θ̂, or ``w_prior``).
    prior_mean : same shapes
        Prior mean ``w_P``; must not depend on ``(x, y)``.
    sigma0 : ndarray, shape (T,)
        Starting posterior standard deviation and prior standard deviation.
    x, y : ndarray, shapes (T, m, d) and (T, m)
        The sample of the bound (objective, Monte Carlo error and ``m``).
    prior_vars : ndarray, shape (J,)
        The grid of prior variances, fixed before seeing any data.

    References
    ----------
    Dziugaite and Roy (2017), §4–5; Dziugaite et al. (2021), §3; Pérez-Ortiz et al.
    (2021), §4–5; Kingma and Ba (2015) (Adam).
    """
    n_trials, m = y.shape
    j_grid = len(prior_vars)
    const = np.log(2.0 * m * j_grid / delta)
    post = _Posterior(weights, prior_mean, sigma0)
    rows = np.arange(n_trials)[:, None]
    batch = min(batch_size, m) if batch_size > 0 else m
    h, k = weights[1].shape[2], weights[1].shape[1]
    adam = _Adam(post.theta.shape, lr)
    adam_lam = _Adam(post.log_lam.shape, lr)
    noise = np.empty((n_trials, batch, h + k), np.float32)
    diff = np.empty_like(post.mu)
    work: dict = {}
    n_par = post.mu.shape[1]
    all_idx = np.tile(np.arange(m), (n_trials, 1))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for _ in range(steps):
            post.update_variances()
            idx = rng.permuted(all_idx, axis=1)[:, :batch]
            standard_normal(rng, noise.shape, out=noise, exact_tails=False)
            stochastic_gradients(
                post.means(),
                post.variances(),
                x[rows, idx],
                y[rows, idx],
                noise[..., :h],
                noise[..., h:],
                scale=1.0 / LN2,
                out=post.gradient_views(),
                work=work,
            )
            # KL(Q ‖ N(w_P, λI)) from three sums (float32 inside the loop).
            np.subtract(post.mu, post.prior, out=diff)
            dist = np.vecdot(diff, diff).astype(float)
            sum_s = post.s.sum(axis=1, dtype=np.float32).astype(float)
            sum_rho = post.rho.sum(axis=1, dtype=np.float32).astype(float)
            lam = np.exp(post.log_lam)
            kl = 0.5 * ((sum_s + dist) / lam - n_par + n_par * post.log_lam - 2.0 * sum_rho)
            # d/dKL of √((KL + c)/(2(m−1))) is 1/(4(m−1)·√(...)).
            weight = 1.0 / (4.0 * (m - 1) * np.sqrt((kl + const) / (2.0 * (m - 1))))
            ratio = (weight / lam).astype(np.float32)[:, None]
            # ∂/∂μ: ∂L/∂μ/ln 2 + w(μ − w_P)/λ;  ∂/∂ρ = 2s ∂/∂s: s(2∂L/∂s/ln 2 + w/λ) − w,
            # then Adam on (μ, ρ): one compiled pass over the parameters.
            coef, epsilon = adam.advance()
            posterior_adam_step(
                post.theta,
                post.grad,
                diff,
                post.s,
                ratio[:, 0],
                weight.astype(np.float32),
                adam.m,
                adam.v,
                np.float32(adam.beta1),
                np.float32(adam.beta2),
                float(epsilon),
                float(coef),
            )
            grad_lam = weight * 0.5 * (n_par - (sum_s + dist) / lam)
            adam_lam.step(post.log_lam, grad_lam)
    mu1, mu2 = (np.array(a) for a in post.means())
    rho1, rho2 = (np.array(a) for a in post.rho_views())
    rho0 = post.rho0
    # A trial whose optimization left the finite range falls back to its start (weights, σ₀).
    bad = ~np.all([np.isfinite(p).all(axis=(1, 2)) for p in (mu1, mu2, rho1, rho2)], axis=0)
    if bad.any():
        mu1[bad], mu2[bad] = weights[0][bad], weights[1][bad]
        rho1[bad], rho2[bad] = rho0[bad], rho0[bad]
    s1, s2 = np.exp(2 * rho1), np.exp(2 * rho2)
    sums = kl_sums((mu1, mu2), (s1, s2), prior_mean)
    kl_grid = kl_from_sums(*sums, np.asarray(prior_vars, float)[:, None])
    best = np.nanargmin(kl_grid, axis=0)
    kl = kl_grid[best, np.arange(n_trials)]
    train, n_draws = gibbs_error((mu1, mu2), (s1, s2), x, y, n_samples, rng)
    test, _ = gibbs_error((mu1, mu2), (s1, s2), x_test, y_test, n_samples, rng)
    upper = mc_upper_limit(train, n_draws, delta_mc)
    bound = kl_form_bound(upper, kl, m, delta / j_grid)
    return OptimizedBound(
        bound=bound,
        prior_sigma=np.sqrt(prior_vars[best]),
        kl=kl,
        train_gibbs=train,
        test_gibbs=test,
        means=(mu1, mu2),
        stds=(np.sqrt(s1), np.sqrt(s2)),
    )


class _Posterior:
    """Parameters ``(μ₁, μ₂, ρ₁, ρ₂)`` of ``Q = N(μ, diag(e^{2ρ}))`` in one flat buffer.

    ``theta`` has shape (T, 2r) = ``[μ₁ | μ₂ | ρ₁ | ρ₂]`` per trial (r parameters), so
    that the Adam update is a handful of passes over one array; the weight matrices are
    views of it. ``grad`` has the same layout; ``s = e^{2ρ}`` is kept in its own buffer.
    """

    def __init__(self, weights, prior_mean, sigma0):
        (w1, w2), n_trials = weights, weights[0].shape[0]
        self.shapes = (w1.shape[1:], w2.shape[1:])
        self.sizes = (int(np.prod(self.shapes[0])), int(np.prod(self.shapes[1])))
        r = sum(self.sizes)
        self.rho0 = np.log(np.asarray(sigma0, np.float32)).reshape(-1, 1, 1)
        self.theta = np.empty((n_trials, 2 * r), np.float32)
        self.grad = np.empty_like(self.theta)
        self.s = np.empty((n_trials, r), np.float32)
        self.mu, self.rho = self.theta[:, :r], self.theta[:, r:]
        self.grad_mu, self.grad_rho = self.grad[:, :r], self.grad[:, r:]
        self.mu[:] = np.concatenate([w.reshape(n_trials, -1) for w in weights], axis=1)
        self.rho[:] = self.rho0.reshape(-1, 1)
        self.prior = np.concatenate(
            [np.asarray(w, np.float32).reshape(n_trials, -1) for w in prior_mean], axis=1
        )
        self.log_lam = 2.0 * np.log(np.asarray(sigma0, float)).reshape(n_trials)

    def _split(self, flat):
        n1 = self.sizes[0]
        n_trials = flat.shape[0]
        return (
            flat[:, :n1].reshape(n_trials, *self.shapes[0]),
            flat[:, n1:].reshape(n_trials, *self.shapes[1]),
        )

    def update_variances(self) -> None:
        np.multiply(self.rho, 2.0, out=self.s)
        np.exp(self.s, out=self.s)

    def means(self):
        return self._split(self.mu)

    def rho_views(self):
        return self._split(self.rho)

    def variances(self):
        return self._split(self.s)

    def gradient_views(self):
        return (*self._split(self.grad_mu), *self._split(self.grad_rho))


class _Adam:
    """Adam (Kingma and Ba 2015, Algorithm 1; β₁ = 0.9, β₂ = 0.999, ε = 1e-8) in place.

    The moments are stored divided by ``1 − β``: ``M ← β₁M + g``, ``V ← β₂V + g²`` (so
    ``m = (1 − β₁)M``, ``v = (1 − β₂)V``), and the bias-corrected step
    ``η m̂/(√v̂ + ε)`` is written ``c_t M/(√V + ε_t)`` with
    ``c_t = η(1 − β₁)/(1 − β₁ᵗ)·√((1 − β₂ᵗ)/(1 − β₂))`` and ``ε_t = ε√((1 − β₂ᵗ)/(1 − β₂))``:
    the same update in ten passes over the parameters.
    """

    beta1, beta2, eps = 0.9, 0.999, 1e-8

    def __init__(self, shape, lr: float):
        self.lr, self.t = lr, 0
        dtype = np.float32 if len(shape) > 1 else float
        self.m, self.v = np.zeros(shape, dtype), np.zeros(shape, dtype)
        self.tmp = np.empty(shape, dtype)

    def advance(self) -> tuple[float, float]:
        """Count one more step; return its ``(c_t, ε_t)``."""
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        root = np.sqrt((1.0 - b2**self.t) / (1.0 - b2))
        return self.lr * (1.0 - b1) / (1.0 - b1**self.t) * root, self.eps * root

    def step(self, param: np.ndarray, grad: np.ndarray) -> None:
        coef, epsilon = self.advance()
        self.m *= self.beta1
        self.m += grad
        np.square(grad, out=self.tmp)
        self.v *= self.beta2
        self.v += self.tmp
        np.sqrt(self.v, out=self.tmp)
        self.tmp += epsilon
        np.divide(self.m, self.tmp, out=self.tmp)
        self.tmp *= coef
        param -= self.tmp


@compiled
def posterior_adam_step(theta, grad, diff, s, ratio, weight, m, v, beta1, beta2, epsilon, coef):
    """The objective's gradient completed and one `_Adam` step, fused, in float32.

    Per trial t and parameter j (``theta = [μ | ρ]``, r parameters each): the μ part
    ``g = ∂L/∂μ + (w/λ)(μ − w_P)`` (``diff = μ − w_P``, ``ratio = w/λ``), the ρ part
    ``g = (2∂L/∂s + w/λ)s − w``, then ``M ← β₁M + g``, ``V ← β₂V + g²``,
    ``θ ← θ − c_t M/(√V + ε_t)``: the same float32 operations, in the same order, as the
    numpy passes of `_Adam.step` (β₁, β₂ float32, ε_t and c_t float64 as there), in one
    pass over the parameters instead of sixteen.
    """
    trials, r = s.shape
    two = np.float32(2.0)
    for t in range(trials):
        g = grad[t]
        for j in range(r):
            g[j] = g[j] + diff[t, j] * ratio[t]
        for j in range(r):
            g[r + j] = (g[r + j] * two + ratio[t]) * s[t, j] - weight[t]
        M, V, P = m[t], v[t], theta[t]
        for j in range(2 * r):
            M[j] = M[j] * beta1 + g[j]
            V[j] = V[j] * beta2 + g[j] * g[j]
            # ε_t and c_t are float64 (numpy scalars): numpy adds and multiplies them
            # in float64 and rounds the result back to float32.
            root = np.float32(np.float64(np.sqrt(V[j])) + epsilon)
            P[j] -= np.float32(np.float64(M[j] / root) * coef)
