"""Exact reference: the hard-margin SVM without bias.

``ŵ = argmin ‖w‖² s.t. y_i wᵀx_i ≥ 1``. This module shares no code with the gradient
methods of `implicit_reg.margin.algorithms`: it solves the dual exactly with an active-set
non-negative least-squares solver (Lawson–Hanson, `scipy.optimize.nnls`) and polishes the
result with a direct linear solve on the support set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import nnls


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
