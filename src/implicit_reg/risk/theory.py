"""Exact references for the risk family: closed forms, no iteration.

Everything here is computed independently of the simulated algorithms in
`implicit_reg.risk.algorithms`, which it checks.
"""

from __future__ import annotations

import numpy as np

from implicit_reg.linalg import min_norm_solution  # noqa: F401 (F1a's reference)

# ---------------------------------------------------------------------------------------
# Minimum-norm solutions (F1a)


def min_norm_limit_from(X: np.ndarray, y: np.ndarray, beta0: np.ndarray) -> np.ndarray:
    """Limit of GD/SGD on least squares from ``beta0``: ``β₀ + X⁺(y − Xβ₀)``.

    Parameters
    ----------
    X : ndarray, shape (..., n, d)
    y : ndarray, shape (..., n)
    beta0 : ndarray, shape (..., d)

    References
    ----------
    docs/science.md §F1a (minimum distance to the initialization: updates lie in the row
    space of X).
    """
    residual = y - np.einsum("...nd,...d->...n", X, beta0)
    return beta0 + min_norm_solution(X, residual)


def null_space_component(X: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``P⊥ v = v − X⁺X v``, the projection of ``v`` onto the null space of ``X``.

    Parameters
    ----------
    X : ndarray, shape (..., n, d)
    v : ndarray, shape (..., d)
    """
    row_part = np.einsum("...dn,...n->...d", np.linalg.pinv(X), np.einsum("...nd,...d->...n", X, v))
    return v - row_part


# ---------------------------------------------------------------------------------------
# Double descent (F1b): Hastie, Montanari, Rosset, Tibshirani (2019)


def ridgeless_risk(gamma: np.ndarray, signal_norm: float, noise_std: float) -> np.ndarray:
    """Asymptotic excess risk of the min-norm interpolant, isotropic features.

    ``R(γ) = σ²γ/(1 − γ)`` for ``γ < 1`` and ``R(γ) = r²(1 − 1/γ) + σ²/(γ − 1)`` for
    ``γ > 1`` (``+∞`` at ``γ = 1``).

    Parameters
    ----------
    gamma : array_like
        Aspect ratio ``d/n``.
    signal_norm : float
        ``r = ‖β*‖``.
    noise_std : float
        ``σ``.

    References
    ----------
    Hastie, Montanari, Rosset, Tibshirani (2019), Theorem 1.
    """
    gamma = np.asarray(gamma, dtype=float)
    r2, s2 = signal_norm**2, noise_std**2
    with np.errstate(divide="ignore", invalid="ignore"):
        under = s2 * gamma / (1.0 - gamma)
        over = r2 * (1.0 - 1.0 / gamma) + s2 / (gamma - 1.0)
    return np.where(gamma < 1.0, under, np.where(gamma > 1.0, over, np.inf))


def mp_stieltjes(lam: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """Marchenko–Pastur Stieltjes transform ``m`` at ``z = −λ``.

    ``m(λ) = [−(1 − γ + λ) + √((1 − γ + λ)² + 4γλ)] / (2γλ)`` = ``∫ dμ_γ(s)/(s + λ)``
    for the MP law of ``XᵀX/n`` with ratio ``γ = d/n`` (unit variance).

    References
    ----------
    Hastie et al. (2019), §5 (isotropic ridge).
    """
    lam, gamma = np.broadcast_arrays(np.asarray(lam, float), np.asarray(gamma, float))
    a = 1.0 - gamma + lam
    return (-a + np.sqrt(a * a + 4.0 * gamma * lam)) / (2.0 * gamma * lam)


def mp_stieltjes_derivative(lam: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """``m'`` = derivative of the Stieltjes transform in ``z`` at ``z = −λ``.

    ``m'(−λ) = ∫ dμ_γ(s)/(s + λ)² = −d m(λ)/dλ``, differentiated in closed form from
    `mp_stieltjes`: with ``a = 1 − γ + λ`` and ``D = √(a² + 4γλ)``,
    ``dm/dλ = [(−1 + (a + 2γ)/D)·λ − (−a + D)] / (2γλ²)``.
    """
    lam, gamma = np.broadcast_arrays(np.asarray(lam, float), np.asarray(gamma, float))
    a = 1.0 - gamma + lam
    root = np.sqrt(a * a + 4.0 * gamma * lam)
    dm = ((-1.0 + (a + 2.0 * gamma) / root) * lam - (-a + root)) / (2.0 * gamma * lam * lam)
    return -dm


def ridge_risk(lam, gamma, signal_norm: float, noise_std: float) -> np.ndarray:
    """Asymptotic excess risk of ridge ``(XᵀX/n + λI)⁻¹Xᵀy/n``, isotropic features.

    ``R(λ) = r²λ²m'(−λ) + σ²γ(m(−λ) − λm'(−λ))``.

    References
    ----------
    Hastie et al. (2019), Theorem 5 (isotropic case).
    """
    m = mp_stieltjes(lam, gamma)
    dm = mp_stieltjes_derivative(lam, gamma)
    lam = np.asarray(lam, float)
    return signal_norm**2 * lam**2 * dm + noise_std**2 * np.asarray(gamma) * (m - lam * dm)


def optimal_ridge_lambda(gamma, signal_norm: float, noise_std: float) -> np.ndarray:
    """Optimal ridge penalty ``λ* = γσ²/r²`` (Hastie et al. 2019, Corollary 5)."""
    return np.asarray(gamma, float) * noise_std**2 / signal_norm**2


def optimal_ridge_risk(gamma, signal_norm: float, noise_std: float) -> np.ndarray:
    """Risk at the optimal penalty: ``R* = σ²γ·m(λ*)``."""
    lam = optimal_ridge_lambda(gamma, signal_norm, noise_std)
    return noise_std**2 * np.asarray(gamma, float) * mp_stieltjes(lam, gamma)


# ---------------------------------------------------------------------------------------
# Spectral filters: ridge and gradient flow (F1c) and expected risk given X


def ridge_filter(eigenvalues: np.ndarray, lam) -> np.ndarray:
    """Ridge shrinkage ``φ = s/(s + λ)`` for eigenvalues ``s`` of ``XᵀX/n``."""
    return eigenvalues / (eigenvalues + lam)


def gradient_flow_filter(eigenvalues: np.ndarray, t) -> np.ndarray:
    """Gradient-flow shrinkage ``φ = 1 − exp(−t s)`` after time ``t`` from zero.

    References
    ----------
    Ali, Kolter, Tibshirani (2019), Lemma 1.
    """
    return -np.expm1(-np.multiply(t, eigenvalues))


def gradient_descent_filter(eigenvalues: np.ndarray, eta: float, k) -> np.ndarray:
    """Gradient-descent shrinkage ``φ = 1 − (1 − ηs)^k`` after ``k`` steps of size η from zero.

    Closed form of ``β_{k+1} = β_k − η(Gβ_k − c)`` in the eigenbasis of ``G = XᵀX/n``
    (the reference that the simulated GD of `implicit_reg.risk.algorithms` is checked
    against; it tends to `gradient_flow_filter` at ``t = ηk`` as ``η → 0``).
    """
    return -np.expm1(np.multiply(k, np.log1p(-eta * np.asarray(eigenvalues, float))))


def filtered_estimate(X: np.ndarray, y: np.ndarray, filter_values: np.ndarray) -> np.ndarray:
    """``β = V diag(φ_i/s_i) Vᵀ Xᵀy/n`` for a spectral filter ``φ`` of ``XᵀX/n = V diag(s) Vᵀ``.

    With ``φ = 1 − e^{−ts}`` this is gradient flow at time ``t`` from zero; with
    ``φ = s/(s + λ)`` it is ridge. Zero eigenvalues get coefficient ``t`` resp.
    ``1/λ`` times zero data, i.e. nothing.

    Parameters
    ----------
    X : ndarray, shape (n, d)
    y : ndarray, shape (n,)
    filter_values : callable ``s -> φ`` applied to the eigenvalues.
    """
    n = X.shape[0]
    s, V = np.linalg.eigh(X.T @ X / n)
    phi = filter_values(s)
    safe = s > s.max() * 1e-12
    coef = np.where(safe, phi / np.where(safe, s, 1.0), 0.0)
    return V @ (coef * (V.T @ (X.T @ y / n)))


def expected_filter_risk(
    eigenvalues: np.ndarray,
    filter_values: np.ndarray,
    n_samples: int,
    signal_norm: float,
    noise_std: float,
) -> np.ndarray:
    """Excess risk of a spectral-filter estimator, averaged over noise and prior, given X.

    For ``β̂ = V diag(φ_i/s_i) Vᵀ Xᵀy/n`` with ``y = Xβ* + ε``, ``E εεᵀ = σ²I`` and
    ``E β*β*ᵀ = (r²/d) I``, and isotropic test points,

    ``E‖β̂ − β*‖² = (r²/d) Σ_i (1 − φ_i)² + (σ²/n) Σ_{s_i > 0} φ_i²/s_i``

    where the first sum runs over all ``d`` eigen-directions (``φ = 0`` on the null space).

    Parameters
    ----------
    eigenvalues : ndarray, shape (..., d)
        Eigenvalues ``s`` of ``XᵀX/n`` (zeros included).
    filter_values : ndarray, shape (..., d)
        ``φ_i``, broadcastable against ``eigenvalues``.

    References
    ----------
    Ali, Kolter, Tibshirani (2019), Lemma 2 (isotropic prior).
    """
    d = eigenvalues.shape[-1]
    positive = eigenvalues > eigenvalues.max(axis=-1, keepdims=True) * 1e-12
    phi = np.where(positive, filter_values, 0.0)
    bias = signal_norm**2 / d * np.sum((1.0 - phi) ** 2, axis=-1)
    inv = np.where(positive, 1.0 / np.where(positive, eigenvalues, 1.0), 0.0)
    variance = noise_std**2 / n_samples * np.sum(phi**2 * inv, axis=-1)
    return bias + variance


def bias_ratio(x):
    """Per-direction bias ratio of gradient flow to ridge at ``λ = 1/t``: ``e^{−2x}(1 + x)²``."""
    x = np.asarray(x, float)
    return np.exp(-2.0 * x) * (1.0 + x) ** 2


def variance_ratio(x):
    """Per-direction variance ratio ``[(1 − e^{−x})(1 + x)/x]²`` with ``x = t·s``.

    References
    ----------
    Ali, Kolter, Tibshirani (2019), proof of Theorem 1.
    """
    x = np.asarray(x, float)
    return (-np.expm1(-x) * (1.0 + x) / x) ** 2


def gd_rate_factor(step_fraction: float) -> float:
    """``c(h) = −log(1 − h)/h`` for ``h = ηλ_max``: ``(1 − ηs)^k = e^{−c(ηs)·x}`` with ``x = ηks``.

    ``c`` increases with ``h`` from ``c(0⁺) = 1`` (gradient flow), so ``c(ηλ_max)`` is the
    worst direction's factor.
    """
    return float(-np.log1p(-step_fraction) / step_fraction)


def gd_variance_ratio(x, step_fraction: float):
    """Worst per-direction variance ratio of GD at ``t = ηk`` to ridge at ``λ = 1/t``.

    ``[(1 − e^{−c x})(1 + x)/x]²`` with ``c = gd_rate_factor(ηλ_max)`` and ``x = t·s``;
    for ``c = 1`` it is `variance_ratio` (gradient flow).
    """
    x = np.asarray(x, float)
    c = gd_rate_factor(step_fraction)
    return (-np.expm1(-c * x) * (1.0 + x) / x) ** 2


def gd_ridge_risk_bound(step_fraction: float) -> float:
    """Bound on risk_GD(t)/risk_ridge(1/t) for GD with ``ηλ_max(XᵀX/n) ≤ step_fraction``.

    Ali, Kolter and Tibshirani bound the risk ratio of gradient flow by the largest
    per-direction ratio: both risks are sums over the eigen-directions of ``XᵀX/n`` of
    non-negative bias and variance terms, so their ratio is at most the largest term
    ratio. With GD's filter ``1 − (1 − ηs)^k = 1 − e^{−c(ηs)x}`` the bias ratio
    ``e^{−2cx}(1 + x)²`` stays ≤ 1 (``c ≥ 1``) and the variance ratio is
    `gd_variance_ratio`, largest at the largest ``ηs``. The bound is
    ``max(1, sup_x gd_variance_ratio(x))``: 1.7527 at ``ηλ_max = 0.1``, 1.6920 at 0.01,
    → 1.68591 as ``η → 0``.

    References
    ----------
    Ali, Kolter, Tibshirani (2019), proof of Theorem 1, with GD's filter in place of the
    flow's.
    """
    from scipy import optimize  # imported here: simulation jobs never need it

    result = optimize.minimize_scalar(
        lambda x: -gd_variance_ratio(x, step_fraction),
        bounds=(1e-3, 50.0),
        method="bounded",
        options={"xatol": 1e-10},
    )
    return max(1.0, float(-result.fun))


def max_variance_ratio() -> tuple[float, float]:
    """Numerical maximum of `variance_ratio` over ``x > 0``: returns ``(x*, ratio(x*))``.

    Brent's method on a bracket around the stationary point; the known values are
    ``x* ≈ 1.7933`` and ``ratio ≈ 1.68591`` (Ali, Kolter, Tibshirani 2019, Theorem 1).
    """
    from scipy import optimize  # imported here: simulation jobs never need it

    result = optimize.minimize_scalar(
        lambda x: -variance_ratio(x), bracket=(0.5, 1.8, 5.0), tol=1e-12
    )
    return float(result.x), float(-result.fun)
