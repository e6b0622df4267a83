"""Exact reference: the hard-margin SVM without bias.

``ŵ = argmin ‖w‖² s.t. y_i wᵀx_i ≥ 1``. This module shares no code with the gradient
methods of `implicit_reg.margin.algorithms`: it solves the dual exactly with an active-set
non-negative least-squares solver (Lawson–Hanson, `scipy.optimize.nnls`) and polishes the
result with a direct linear solve on the support set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SVMSolution:
    """The hard-margin SVM solution of one dataset.

    Attributes
    ----------
    w : ndarray, shape (d,)
        ŵ, the minimum-norm vector with all functional margins ≥ 1.
    alpha : ndarray, shape (n,)
        Dual variables, ``ŵ = Σ_i α_i y_i x_i``, ``α ≥ 0``.
    kkt_residual : float
        `kkt_residual` of ``(ŵ, α)``.
    """

    w: np.ndarray
    alpha: np.ndarray
    kkt_residual: float

    @property
    def margin(self) -> float:
        """The normalized max margin ``γ̄ = 1/‖ŵ‖``."""
        return 1.0 / float(np.linalg.norm(self.w))


def kkt_residual(z: np.ndarray, w: np.ndarray, alpha: np.ndarray) -> float:
    """Largest violation of the KKT conditions of the hard-margin SVM.

    With ``z_i = y_i x_i`` the conditions are stationarity ``w = Σ α_i z_i``, primal
    feasibility ``z_iᵀw ≥ 1``, dual feasibility ``α_i ≥ 0`` and complementary slackness
    ``α_i (z_iᵀw − 1) = 0``; the residual is the maximum absolute violation.

    Parameters
    ----------
    z : ndarray, shape (n, d)
        Signed samples ``y_i x_i``.
    w : ndarray, shape (d,)
    alpha : ndarray, shape (n,)

    Returns
    -------
    float

    References
    ----------
    Boyd & Vandenberghe (2004), §5.5.3; Soudry et al. (2018), eq. (6).
    """
    slack = z @ w - 1.0
    return float(
        max(
            np.max(np.abs(w - z.T @ alpha)),
            np.max(np.maximum(-slack, 0.0)),
            np.max(np.maximum(-alpha, 0.0)),
            np.max(np.abs(alpha * slack)),
        )
    )


def hard_margin_svm(z: np.ndarray, support_tol: float = 1e-12) -> SVMSolution:
    """Solve ``min ½‖w‖² s.t. z_iᵀw ≥ 1`` exactly through its dual.

    The dual is ``min_{α ≥ 0} ½ αᵀGα − 1ᵀα`` with ``G = ZZᵀ``. It is solved as the
    non-negative least-squares problem ``min_{β ≥ 0} ‖Zᵀβ‖² + (1ᵀβ − 1)²``, whose KKT
    conditions ``(G + 11ᵀ)β − 1 = μ ≥ 0``, ``βᵀμ = 0`` become those of the dual after
    the rescaling ``α = β/(1 − 1ᵀβ)`` (and ``s(1 − s) = βᵀGβ`` with ``s = 1ᵀβ`` shows
    ``s < 1`` exactly when the data are separable). The active set found by the
    Lawson–Hanson solver is then polished by solving ``G_SS α_S = 1`` on the support
    set ``S`` in least squares, so the returned pair satisfies the KKT conditions to
    rounding error.

    Parameters
    ----------
    z : ndarray, shape (n, d)
        Signed samples ``y_i x_i``; must be linearly separable through the origin.
    support_tol : float
        Relative size below which a dual variable is treated as zero.

    Returns
    -------
    SVMSolution

    Raises
    ------
    ValueError
        If the data are not separable (0 lies in the convex hull of the ``z_i``).

    References
    ----------
    Lawson & Hanson (1974), *Solving Least Squares Problems*, ch. 23;
    Soudry et al. (2018), eq. (4).
    """
    from scipy.optimize import nnls  # imported on use: 0.3 s that most jobs skip

    z = np.asarray(z, dtype=float)
    n = z.shape[0]
    design = np.vstack([z.T, np.ones((1, n))])
    target = np.zeros(design.shape[0])
    target[-1] = 1.0
    beta, _ = nnls(design, target, maxiter=50 * n)
    total = beta.sum()
    if not total < 1.0 - 1e-12:
        raise ValueError("data not linearly separable through the origin")
    alpha = beta / (1.0 - total)
    support = alpha > support_tol * max(alpha.max(), 1.0)
    gram = z[support] @ z[support].T
    alpha_s, *_ = np.linalg.lstsq(gram, np.ones(support.sum()), rcond=None)
    polished = np.zeros(n)
    polished[support] = alpha_s
    # Keep the polished solution only when it stays dual feasible and improves the KKT
    # residual (a degenerate support set can make the small solve ill-posed).
    candidates = [alpha]
    if np.all(alpha_s >= 0):
        candidates.append(polished)
    best = min(candidates, key=lambda a: kkt_residual(z, z.T @ a, a))
    w = z.T @ best
    return SVMSolution(w=w, alpha=best, kkt_residual=kkt_residual(z, w, best))


# --- the asymptote of gradient descent (Soudry et al. 2018, Theorem 3) ---------------


def symmetric_duals(z: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Dual variables with equal shares on identical signed samples.

    Identical rows of ``z`` enter the dual only through the sum of their ``α_i``, so any
    split of that sum is optimal; the gradient of the loss weighs identical rows equally,
    so the asymptote of gradient descent needs the equal split (e.g. the 2-D dataset of
    Soudry et al., where ``y₃x₃ = y₁x₁`` and ``y₄x₄ = y₂x₂``).

    Parameters
    ----------
    z : ndarray, shape (n, d)
    alpha : ndarray, shape (n,)

    Returns
    -------
    ndarray, shape (n,)
    """
    _, group, count = np.unique(z, axis=0, return_inverse=True, return_counts=True)
    group = np.ravel(group)
    return (np.bincount(group, weights=alpha) / count)[group]


def soudry_offset(
    z: np.ndarray, alpha: np.ndarray, eta: float, support_tol: float = 1e-9
) -> tuple[np.ndarray, float]:
    """The offset w̃ of ``w(t) = ŵ log t + w̃ + o(1)`` for GD with step η, ``t`` in steps.

    On the support vectors ``S = {α_n > 0}``, ``η exp(−z_nᵀw̃) = α_n``, i.e.
    ``z_nᵀw̃ = log(η/α_n)``, with α split equally between identical rows
    (`symmetric_duals`). Substituting ``w = ŵ log t + w̃`` into the GD step
    ``w(t+1) − w(t) = η Σ_n e^{−z_nᵀw(t)} z_n`` gives ``(η/t) Σ_S e^{−z_nᵀw̃} z_n =
    (1/t) Σ_S α_n z_n = ŵ/t = ŵ(log(t+1) − log t) + O(1/t²)``; non-support vectors
    contribute ``O(t^{−θ_n})``, ``θ_n = z_nᵀŵ > 1``. The logistic loss has the same
    tail (``−ℓ'(u) = e^{−u} + O(e^{−2u})``) and the same w̃. The solution returned is the
    minimum-norm one (``w̃ ∈ span{z_n : n ∈ S}``), unique when the support vectors span
    the data, as in every dataset of this family.

    Parameters
    ----------
    z : ndarray, shape (n, d)
        Signed samples.
    alpha : ndarray, shape (n,)
        Dual variables of the hard-margin SVM.
    eta : float
        Constant step of GD (the effective step η of the heavy ball with step (1 − μ)η).
    support_tol : float
        Relative size below which a dual variable is treated as zero.

    Returns
    -------
    w_tilde : ndarray, shape (d,)
    residual : float
        ``max_{n∈S} |log(η e^{−z_nᵀw̃}/α_n)|``, the solve's own residual.

    References
    ----------
    Soudry, Hoffer, Nacson, Gunasekar, Srebro (2018), JMLR 19, Theorem 3 (the residual
    ``ρ(t) = w(t) − ŵ log t`` converges to w̃ defined by ``η exp(−x_nᵀw̃) = α_n``).
    """
    shared = symmetric_duals(z, alpha)
    support = shared > support_tol * shared.max()
    target = np.log(eta / shared[support])
    w_tilde = np.linalg.lstsq(z[support], target, rcond=None)[0]
    return w_tilde, float(np.max(np.abs(z[support] @ w_tilde - target)))


def residual_rate(z: np.ndarray, w_hat: np.ndarray, alpha: np.ndarray) -> float:
    """Decay exponent ν of ``‖w(t) − ŵ log t − w̃‖ = O(t^{−ν})`` from the linearized dynamics.

    With ``r = w − ŵ log t − w̃`` and ``τ = log t``, the GD step gives
    ``dr/dτ = Σ_S α_n (e^{−z_nᵀr} − 1) z_n + Σ_{n∉S} O(t^{1−θ_n}) z_n + O(1/t)``;
    linearized, ``dr/dτ = −M r + …`` with ``M = Σ_S α_n z_n z_nᵀ``. So
    ``ν = min(λ_min⁺(M), min_{n∉S} θ_n − 1, 1)`` with ``λ_min⁺`` the smallest eigenvalue
    on the span of the support vectors (``M ŵ/‖ŵ‖ = ŵ/‖ŵ‖`` has eigenvalue 1) and
    ``θ_n = z_nᵀŵ`` the margins of the other samples.

    Parameters
    ----------
    z : ndarray, shape (n, d)
    w_hat : ndarray, shape (d,)
    alpha : ndarray, shape (n,)

    Returns
    -------
    float

    References
    ----------
    Soudry et al. (2018), proof of Theorem 3 (the terms of ``r(t+1) − r(t)``).
    """
    shared = symmetric_duals(z, alpha)
    support = shared > 1e-9 * shared.max()
    curvature = z[support].T @ (shared[support, None] * z[support])
    eigen = np.linalg.eigvalsh(curvature)
    rates = [eigen[eigen > 1e-9 * eigen.max()].min(), 1.0]
    if (~support).any():
        rates.append((z[~support] @ w_hat).min() - 1.0)
    return float(min(rates))
