"""Exact references of the noise family (docs/science.md §F5), not sharing simulation code.

- F5a: the 1-D OU recursion's mean, variance, stationary variance and autocorrelation in
  closed form; stationary covariances of noisy GD on a quadratic by the discrete
  Lyapunov equation (constant noise) and by a d²-dimensional linear system (streaming
  SGD on least squares); per-eigen-direction closed forms; the largest stable step of
  the streaming recursion; exact second-moment recursions along the transient.
- F5b: the dropout ridge β_drop, the soft threshold of the ℓ2-penalized factorization,
  the imbalance's flow e^{−2η²t} and its GD product factor.
- F5c: the trace of the Hessian at interpolation and the u⊙v product factor.

Everything here is deterministic: no random numbers, no simulated iterates (the product
recursions take the residuals a simulation recorded, and recompute the factors from them).
"""

from __future__ import annotations

import numpy as np

# ---------------------------------------------------------------------------------------
# F5a, one dimension: x_{k+1} = x_k − η(a x_k + σ ξ_k)


def ou_mean(x0: float, eta_a: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """E x_k = (1 − ηa)^k x₀.

    Parameters
    ----------
    x0 : float
    eta_a : ndarray, shape (e,)
    steps : ndarray of int, shape (c,)

    Returns
    -------
    ndarray, shape (e, c)

    References
    ----------
    Mandt, Hoffman & Blei (2017) (SGD on a quadratic as an OU process); the discrete
    recursion's contraction: docs/science.md §F5a.
    """
    return x0 * (1.0 - np.asarray(eta_a, float))[:, None] ** np.asarray(steps)[None, :]


def ou_stationary_variance(eta: np.ndarray, a: float, sigma: float) -> np.ndarray:
    """v_∞ = ησ²/(a(2 − ηa)), the stationary variance of the discrete recursion.

    References
    ----------
    Mandt, Hoffman & Blei (2017); docs/science.md §F5a: Var x_{k+1} = (1 − ηa)² Var x_k
    + η²σ² has the fixed point v_∞.
    """
    eta = np.asarray(eta, float)
    return eta * sigma**2 / (a * (2.0 - eta * a))


def ou_sde_variance(eta: np.ndarray, a: float, sigma: float) -> np.ndarray:
    """v_SDE = ησ²/(2a): the stationary variance of the continuous-time OU approximation.

    dX = −aX dt + √η σ dW has stationary variance ησ²/(2a); it differs from v_∞ by the
    factor 2/(2 − ηa).

    References
    ----------
    Mandt, Hoffman & Blei (2017) (SDE approximation of SGD); docs/science.md §F5a.
    """
    return np.asarray(eta, float) * sigma**2 / (2.0 * a)


def ou_variance(eta: np.ndarray, a: float, sigma: float, steps: np.ndarray) -> np.ndarray:
    """Var x_k = v_∞ (1 − (1 − ηa)^{2k}) from a deterministic x₀.

    Returns
    -------
    ndarray, shape (e, c)
    """
    eta = np.asarray(eta, float)
    decay = (1.0 - eta * a)[:, None] ** (2 * np.asarray(steps)[None, :])
    return ou_stationary_variance(eta, a, sigma)[:, None] * (1.0 - decay)


def ou_autocorrelation(eta_a: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """Stationary autocorrelation Corr(x_k, x_{k+τ}) = (1 − ηa)^τ (alternating for ηa > 1).

    Returns
    -------
    ndarray, shape (e, l)
    """
    return (1.0 - np.asarray(eta_a, float))[:, None] ** np.asarray(lags)[None, :]


# ---------------------------------------------------------------------------------------
# F5a, quadratics: x_{k+1} = x_k − η(Hx_k + ξ_k)


def curvature_matrix(eigenvalues: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """H = Q diag(h) Qᵀ for an orthogonal Q (columns are the eigen-directions)."""
    return (rotation * eigenvalues) @ rotation.T


def lyapunov_covariance(H: np.ndarray, eta: float, noise_cov: np.ndarray) -> np.ndarray:
    """Stationary covariance S of x_{k+1} = (I − ηH)x_k − ηξ_k, Cov ξ = Σ constant.

    S solves the discrete Lyapunov equation S = (I − ηH) S (I − ηH) + η²Σ, solved by
    ``scipy.linalg.solve_discrete_lyapunov`` (it exists when ρ(I − ηH) < 1, η < 2/λ_max).

    Parameters
    ----------
    H, noise_cov : ndarray, shape (d, d)
    eta : float

    References
    ----------
    Mandt, Hoffman & Blei (2017) (the multi-dimensional quadratic splits into OU
    processes); docs/science.md §F5a.
    """
    import scipy.linalg  # imported on use: 0.3 s that most jobs skip

    A = np.eye(len(H)) - eta * H
    return scipy.linalg.solve_discrete_lyapunov(A, eta**2 * noise_cov)


def second_moment_operator(H: np.ndarray, eta: float, streaming: bool) -> np.ndarray:
    """The d²×d² matrix of M ↦ (I − ηH)M(I − ηH) + [streaming] η²(HMH + tr(HM)H).

    Acting on vec(M) (row-major ``ravel``): A⊗A + η²(H⊗H + vec(H)vec(H)ᵀ). The second
    moment of streaming SGD on least squares with x ~ N(0, H) obeys
    E[ΔΔᵀ]_{k+1} = T(E[ΔΔᵀ]_k) + η²σ²H, since for Gaussian x,
    E[(I − ηxxᵀ)M(I − ηxxᵀ)] = (I − ηH)M(I − ηH) + η²(HMH + tr(HM)H) (Isserlis).

    References
    ----------
    docs/science.md §F5a; Bach & Moulines (2013), §3 (least-mean-squares recursions).
    """
    d = len(H)
    A = np.eye(d) - eta * H
    op = np.kron(A, A)
    if streaming:
        op = op + eta**2 * (np.kron(H, H) + np.outer(H.ravel(), H.ravel()))
    return op


def streaming_covariance(H: np.ndarray, eta: float, sigma: float) -> np.ndarray:
    """Stationary covariance of streaming SGD on least squares (batch 1, x ~ N(0, H)).

    S = (I − ηH)S(I − ηH) + η²(HSH + tr(HS)H + σ²H), solved exactly as the
    d²-dimensional linear system (I − T) vec(S) = η²σ² vec(H) with `second_moment_operator`.
    Meaningful only below `streaming_step_limit` (above it the solution is not PSD).

    References
    ----------
    docs/science.md §F5a (gradient-noise covariance HΔΔᵀH + tr(HΔΔᵀ)H + σ²H).
    """
    d = len(H)
    system = np.eye(d * d) - second_moment_operator(H, eta, streaming=True)
    return np.linalg.solve(system, eta**2 * sigma**2 * H.ravel()).reshape(d, d)


def streaming_gain(eigenvalues: np.ndarray, eta: float) -> float:
    """g(η) = (η/2) Σ_i h_i/(1 − ηh_i); the streaming recursion is stable iff g(η) < 1."""
    h = np.asarray(eigenvalues, float)
    return float(eta / 2.0 * np.sum(h / (1.0 - eta * h)))


def streaming_step_limit(eigenvalues: np.ndarray) -> float:
    """Largest stable step η_max of the streaming-SGD second-moment recursion.

    In the eigenbasis of H the diagonal of the second moment obeys
    s_i ← (1 − 2ηh_i + 2η²h_i²)s_i + η²h_i Σ_j h_j s_j; its Perron root crosses 1 where
    det(diag(2ηh(1 − ηh)) − η²hhᵀ) = 0, i.e. g(η) = (η/2)Σ h_i/(1 − ηh_i) = 1, a root
    found by Brent's method on (0, 1/h_max). It is below 2/tr(H) ≤ 2/λ_max.

    References
    ----------
    docs/science.md §F5a; Bach & Moulines (2013) (step-size limit of averaged LMS).
    """
    import scipy.optimize  # imported on use: 0.3 s that most jobs skip

    h = np.asarray(eigenvalues, float)
    upper = 1.0 / h.max()
    return scipy.optimize.brentq(
        lambda eta: streaming_gain(h, eta) - 1.0,
        1e-12 * upper,
        upper * (1 - 1e-12),
        xtol=1e-15,
        rtol=4 * np.finfo(float).eps,
    )


def spectral_radius(H: np.ndarray, eta: float, streaming: bool) -> float:
    """Spectral radius of `second_moment_operator` (the recursion is stable iff < 1)."""
    return float(np.abs(np.linalg.eigvals(second_moment_operator(H, eta, streaming))).max())


def isotropic_eigen_variance(h: np.ndarray, eta: float, sigma: float) -> np.ndarray:
    """Stationary variance along eigen-direction h_i for Σ = σ²I: ησ²/(h_i(2 − ηh_i))."""
    h = np.asarray(h, float)
    return eta * sigma**2 / (h * (2.0 - eta * h))


def curvature_eigen_variance(h: np.ndarray, eta: float, c: float) -> np.ndarray:
    """Stationary variance along eigen-direction h_i for Σ = cH: ηc/(2 − ηh_i)."""
    h = np.asarray(h, float)
    return eta * c / (2.0 - eta * h)


def streaming_eigen_variance(h: np.ndarray, eta: float, sigma: float) -> np.ndarray:
    """Stationary variance along eigen-direction h_i for streaming SGD on least squares.

    s_i = ησ²/(2(1 − ηh_i)(1 − g(η))) with g(η) = (η/2)Σ_j h_j/(1 − ηh_j): the diagonal
    of the fixed point in H's eigenbasis (τ = Σ h_j s_j solves τ = (τ + σ²)g).
    """
    h = np.asarray(h, float)
    return eta * sigma**2 / (2.0 * (1.0 - eta * h) * (1.0 - streaming_gain(h, eta)))


def second_moment_path(
    H: np.ndarray,
    eta: float,
    noise_cov: np.ndarray,
    streaming: bool,
    x0: np.ndarray,
    checkpoints: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact mean and covariance of the iterates at each checkpoint, from a fixed x₀.

    m_{k+1} = (I − ηH)m_k; M_{k+1} = T(M_k) + η²Σ (with `second_moment_operator`'s T and,
    for streaming SGD, Σ = σ²H) is iterated from M_0 = x₀x₀ᵀ; Cov_k = M_k − m_k m_kᵀ.

    Parameters
    ----------
    H, noise_cov : ndarray, shape (d, d)
    eta : float
    streaming : bool
    x0 : ndarray, shape (d,)
    checkpoints : ndarray of int, shape (c,), sorted

    Returns
    -------
    means : ndarray, shape (c, d)
    covariances : ndarray, shape (c, d, d)
        Entries beyond float range (an unstable recursion) are inf.
    """
    d = len(H)
    A = np.eye(d) - eta * H
    mean, second = np.array(x0, float), np.outer(x0, x0)
    means, covs = np.empty((len(checkpoints), d)), np.empty((len(checkpoints), d, d))
    step = 0
    with np.errstate(over="ignore", invalid="ignore"):
        for c, target in enumerate(checkpoints):
            for _ in range(step, int(target)):
                extra = H @ second @ H + np.trace(H @ second) * H if streaming else 0.0
                second = A @ second @ A + eta**2 * (noise_cov + extra)
                mean = A @ mean
            step = int(target)
            means[c] = mean
            covs[c] = second - np.outer(mean, mean)
    return means, covs


# ---------------------------------------------------------------------------------------
# F5b


def dropout_minimizer(X: np.ndarray, y: np.ndarray, keep_prob: float) -> np.ndarray:
    """β_drop = (XᵀX + ((1 − p)/p) diag(XᵀX))⁻¹ Xᵀy, minimizer of the expected dropout loss.

    With inverted dropout β ↦ (m⊙β)/p, m_j ~ Bernoulli(p), E_m (1/2n)‖y − X(m⊙β)/p‖² =
    (1/2n)‖y − Xβ‖² + ((1 − p)/(2pn)) Σ_j ‖X_{:,j}‖² β_j²: a ridge penalty weighted by
    the column norms.

    Parameters
    ----------
    X : ndarray, shape (trials, n, d)
    y : ndarray, shape (trials, n)
    keep_prob : float in (0, 1]

    Returns
    -------
    ndarray, shape (trials, d)

    References
    ----------
    Srivastava et al. (2014), §9.1; Wager, Wang & Liang (2013), §2; dropout SGD as
    stochastic approximation of the expected randomized loss: Robbins & Monro (1951),
    docs/science.md §F5b.
    """
    gram = np.swapaxes(X, 1, 2) @ X
    diag = np.einsum("tii->ti", gram)
    system = gram + (1.0 - keep_prob) / keep_prob * diag[:, :, None] * np.eye(X.shape[2])
    return np.linalg.solve(system, np.einsum("tnd,tn->td", X, y)[..., None])[..., 0]


def dropout_expected_loss(
    X: np.ndarray, y: np.ndarray, beta: np.ndarray, keep_prob: float
) -> np.ndarray:
    """(1/2n)‖y − Xβ‖² + ((1 − p)/(2pn)) Σ_j ‖X_{:,j}‖² β_j² for each trial (shape (trials,))."""
    n = X.shape[1]
    residual = y - np.einsum("tnd,td->tn", X, beta)
    penalty = ((X**2).sum(1) * beta**2).sum(-1)
    return (residual**2).sum(-1) / (2 * n) + (1.0 - keep_prob) / (2 * keep_prob * n) * penalty


def soft_threshold(w_star: np.ndarray, threshold: float) -> np.ndarray:
    """sign(w*)(|w*| − λ)₊: the product w₁⊙w₂ at the critical points GD reaches.

    Every critical point of ½‖w* − w₂⊙w₁‖² + (η²/2)(‖w₁‖² + ‖w₂‖²) has
    |w₁,i| = |w₂,i| = √(|w*_i| − η²) for i ∈ S with |w*_i| ≥ η², else 0, and
    sign(w₁,i w₂,i) = sign(w*_i); from a generic initialization S is every allowed i, so
    the product is the soft threshold at λ = η²: an ℓ2 penalty on the factors is an ℓ1
    penalty on the product.

    References
    ----------
    Hoff (2017) (ℓ2 penalty on the factors of w₂⊙w₁ = ℓ1 penalty on the product);
    docs/science.md §F5b.
    """
    w_star = np.asarray(w_star, float)
    return np.sign(w_star) * np.maximum(np.abs(w_star) - threshold, 0.0)


def imbalance_flow(d0: np.ndarray, eta: float, t: np.ndarray) -> np.ndarray:
    """D(t) = e^{−2η²t} D(0), D = w₁⊙w₁ − w₂⊙w₂ under the flow of the penalized loss.

    Ḋ = 2w₁⊙ẇ₁ − 2w₂⊙ẇ₂ = −2η²D because the loss terms r⊙w₂⊙w₁ cancel.

    Returns
    -------
    ndarray, shape (len(t), *d0.shape)

    References
    ----------
    docs/science.md §F5b (imbalance identities).
    """
    t = np.asarray(t, float)
    return np.exp(-2.0 * eta**2 * t)[(...,) + (None,) * np.ndim(d0)] * d0


def imbalance_factor(residual: np.ndarray, step: float, eta: float) -> np.ndarray:
    """One GD step with step α multiplies D by (1 − αη²)² − α²r², r = w* − w₂⊙w₁.

    From w₁' = (1 − αη²)w₁ + αr⊙w₂ and w₂' = (1 − αη²)w₂ + αr⊙w₁ (the cross terms cancel
    in w₁'² − w₂'²).
    """
    return (1.0 - step * eta**2) ** 2 - step**2 * residual**2


def imbalance_slope_error(step, eta: float, residual2) -> np.ndarray:
    """First-order relative error of GD's log-slope of |D_i| against the flow's −2η².

    log((1 − αη²)² − α²r²)/α = −2η² − α(η⁴ + r²) + O(α²), so the slope's relative error
    is α(η⁴ + ⟨r²⟩)/(2η²), ⟨r²⟩ the squared residual averaged over the run (bounded by
    max w*² from a small initialization: |r_i| shrinks from |w*_i|).

    References
    ----------
    docs/science.md §F5b (imbalance identities).
    """
    return np.asarray(step, float) * (eta**4 + np.asarray(residual2, float)) / (2.0 * eta**2)


# ---------------------------------------------------------------------------------------
# F5c


def product_factor(gradient: np.ndarray, eta, out: np.ndarray | None = None) -> np.ndarray:
    """One (S)GD step on (u, v) multiplies u⊙v by 1 − 4η²g², g = ∂L/∂θ at θ = u⊙u − v⊙v.

    u' = u(1 − 2ηg), v' = v(1 + 2ηg), so u'v' = uv(1 − 4η²g²): gradient flow conserves
    u⊙v, discrete steps shrink it in proportion to the squared gradient.

    Parameters
    ----------
    gradient : ndarray
    eta : float or ndarray broadcasting against ``gradient``
    out : ndarray, optional
        Where to write the factors (may be ``gradient`` itself).

    References
    ----------
    docs/science.md §F5c; HaoChen, Kale, Lee & Ma (2021); Pesme, Pillaud-Vivien & Flammarion
    (2021).
    """
    out = np.square(gradient, out=out)
    out *= -4.0 * np.square(eta)
    out += 1.0
    return out


def trace_hessian(u: np.ndarray, v: np.ndarray, column_norms2: np.ndarray) -> np.ndarray:
    """tr ∇²L̂ at interpolation: (4/n) Σ_j (u_j² + v_j²) ‖X_{:,j}‖².

    At zero residual the Hessian of (1/2n)‖X(u⊙u − v⊙v) − y‖² in (u, v) is
    (1/n)Σ_i ∇f_i∇f_iᵀ with ∇_u f_i = 2u⊙x_i, ∇_v f_i = −2v⊙x_i.

    Parameters
    ----------
    u, v : ndarray, shape (..., d)
    column_norms2 : ndarray, shape (..., d)
        ‖X_{:,j}‖²/n, broadcast against u.

    References
    ----------
    Blanc, Gupta, Valiant & Valiant (2020); HaoChen et al. (2021), §4; docs/science.md §F5c.
    """
    return 4.0 * ((u * u + v * v) * column_norms2).sum(-1)


def rich_trace_hessian(theta: np.ndarray, column_norms2: np.ndarray) -> np.ndarray:
    """Rich-regime limit of tr ∇²L̂ at the interpolator θ: (4/n)Σ_j |θ_j| ‖X_{:,j}‖².

    `trace_hessian` with u_j² + v_j² = √(θ_j² + 4(u_j v_j)²) → |θ_j| as u_j v_j → 0
    (label noise drives the products to 0).

    Parameters
    ----------
    theta : ndarray, shape (..., d)
    column_norms2 : ndarray, shape (..., d)
        ‖X_{:,j}‖²/n.

    References
    ----------
    Blanc, Gupta, Valiant & Valiant (2020); HaoChen et al. (2021); docs/science.md §F5c.
    """
    return 4.0 * (np.abs(theta) * column_norms2).sum(-1)


def label_noise_product_decay(eta: float, delta: float, column_norms2: np.ndarray) -> np.ndarray:
    """Per-step decrease of mean_j log(u_j v_j) due to label noise: 4η²δ² mean_j ‖X_{:,j}‖²/n.

    A batch-1 step multiplies u_j v_j by 1 − 4η²g_j² with g_j = x_ij(r_i − δε_i); as ε_i = ±1
    is fresh, E g_j² = E x_ij² r_i² + δ²‖X_{:,j}‖²/n, and −log(1 − z) ≥ z: the label noise
    alone shrinks log(u_j v_j) by 4η²δ²‖X_{:,j}‖²/n a step, the residual adds
    4η²E x_ij² r_i² (small once the labels are fit).

    Parameters
    ----------
    eta, delta : float
    column_norms2 : ndarray, shape (..., d)

    Returns
    -------
    ndarray, shape (...)

    References
    ----------
    HaoChen, Kale, Lee & Ma (2021) (label noise shrinks the effective initialization);
    docs/science.md §F5c.
    """
    return 4.0 * eta**2 * delta**2 * np.mean(column_norms2, axis=-1)
