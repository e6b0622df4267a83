"""Exact references for the diagonal linear network: the Q_α limit and its two endpoints.

The gradient-flow limit of θ = u⊙u − v⊙v from u₀ = v₀ = α·1 is the minimizer of
Q_α(θ) = α² Σ_i q(θ_i/α²) subject to Xθ = y. It is computed here through the smooth
n-dimensional dual with Newton's method; the endpoints are the minimum-ℓ1 interpolator
(a linear program) and the minimum-ℓ2 interpolator X⁺y. None of these functions share
code with the gradient-descent simulations in `implicit_reg.diagonal.dynamics`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

#: Largest exponent handed to ``exp``: exp(700) ≈ 1e304 is still finite in float64.
_MAX_EXPONENT = 700.0


def q_function(z: np.ndarray) -> np.ndarray:
    """Scalar potential of the implicit regularizer, elementwise.

    q(z) = 2 − √(4 + z²) + z·arcsinh(z/2) = ∫₀^z arcsinh(u/2) du,

    evaluated as z·arcsinh(z/2) − z²/(2 + √(4 + z²)) so that small |z| loses no digits
    to the cancellation 2 − √(4 + z²).

    References
    ----------
    Seed 001 §9.3.2, eq. (9.100); Woodworth et al. (2020), Theorem 1.
    """
    z = np.asarray(z, dtype=float)
    return z * np.arcsinh(z / 2.0) - z**2 / (2.0 + np.sqrt(4.0 + z**2))


def q_derivative(z: np.ndarray) -> np.ndarray:
    """q'(z) = arcsinh(z/2).

    References
    ----------
    Seed 001 §9.3.2, the integral form of eq. (9.100).
    """
    return np.arcsinh(np.asarray(z, dtype=float) / 2.0)


def q_alpha(theta: np.ndarray, alpha: float) -> np.ndarray:
    """Q_α(θ) = α² Σ_i q(θ_i/α²) over the last axis.

    References
    ----------
    Seed 001 Theorem 9.18, eq. (9.99).
    """
    alpha2 = float(alpha) ** 2
    return alpha2 * q_function(np.asarray(theta, dtype=float) / alpha2).sum(axis=-1)


def _cosh_terms(z: np.ndarray, log_scale: np.ndarray):
    """Overflow-safe c·(cosh z − 1), c·cosh z and c·sinh z for c = exp(log_scale).

    With m = log c + |z|:
    c(cosh z − 1) = e^m (1 − e^{−|z|})² / 2, c·cosh z = e^m (1 + e^{−2|z|}) / 2,
    c·sinh z = sign(z) e^m (1 − e^{−2|z|}) / 2.
    ``expm1`` keeps full relative precision for small |z| (large α), where cosh z − 1
    would otherwise be lost against the constant c·cosh 0 that dominates the sum.

    Returns
    -------
    excess, weight, value : ndarray
        The three quantities above, same shape as ``z``.
    too_large : ndarray of bool
        Where m exceeds the float64 range; the values there are capped and meaningless.
    """
    a = np.abs(z)
    m = log_scale + a
    too_large = m > _MAX_EXPONENT
    big = np.exp(np.minimum(m, _MAX_EXPONENT)) / 2.0
    e1 = -np.expm1(-a)
    e2 = -np.expm1(-2.0 * a)
    return big * e1**2, big * (2.0 - e2), np.sign(z) * big * e2, too_large


def _pseudo_solve(matrix: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Minimum-norm solution of A x = b for a batch of symmetric PSD matrices.

    x = V diag(1/λ) Vᵀ b over the eigenvalues λ > n·eps·λ_max: the dual Hessian is
    singular when n > d or X has dependent rows (ν is then not unique, θ_α still is).

    Parameters
    ----------
    matrix : ndarray, shape (b, n, n)
    rhs : ndarray, shape (b, n)
    """
    values, vectors = np.linalg.eigh(matrix)
    cutoff = matrix.shape[-1] * np.finfo(float).eps * values[:, -1:]
    keep = values > cutoff
    inverse = np.where(keep, 1.0 / np.where(keep, values, 1.0), 0.0)
    return np.einsum("bij,bj->bi", vectors, inverse * np.einsum("bji,bj->bi", vectors, rhs))


@dataclass(frozen=True)
class DualSolution:
    """Result of `q_alpha_limit`.

    Attributes
    ----------
    theta : ndarray, shape (..., d)
        θ_α = 2α² sinh(Xᵀν).
    nu : ndarray, shape (..., n)
        Dual variable.
    iterations : ndarray of int
        Newton iterations used per problem.
    converged : ndarray of bool
        Newton decrement criterion met.
    """

    theta: np.ndarray
    nu: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray


def q_alpha_limit(
    X: np.ndarray,
    y: np.ndarray,
    alphas: np.ndarray,
    *,
    rtol: float = 1e-22,
    max_iter: int = 200,
    armijo: float = 0.25,
    max_dz: float = 20.0,
) -> DualSolution:
    """Minimizer of Q_α(θ) subject to Xθ = y for a batch of problems and of scales α.

    Solves the dual min_ν f(ν) = Σ_j 2α²(cosh((Xᵀν)_j) − 1) − νᵀy (the constant 2α²d
    removed) by damped Newton's method and returns θ_α = 2α² sinh(Xᵀν), which satisfies
    the KKT conditions X θ_α = y and arcsinh(θ_α/(2α²)) = Xᵀν ∈ row space of X.

    Numerics: every term is written as exp(log(2α²) + |z|) times a bounded factor (see
    `_cosh_terms`), so α from 1e-6 to 1e3 neither overflows nor loses the quadratic part
    for large α. The Newton system H Δ = −g with H = X diag(2α² cosh z) Xᵀ is solved after
    a Jacobi scaling (H spans many orders of magnitude when α is small) by a symmetric
    eigendecomposition, taking the minimum-norm step when H is singular (n > d). Backtracking
    (halving) enforces the Armijo condition f(ν + tΔ) ≤ f(ν) + c·t·gᵀΔ up to the rounding
    of f; a trial point outside the float64 range counts as f = +∞. Iteration stops when
    the Newton decrement λ² = −gᵀΔ satisfies λ²/2 ≤ rtol·max(|f|, tiny), i.e. the
    predicted suboptimality is negligible relative to the objective (at the optimum
    f* = −Q_α(θ_α) up to the constant).

    Parameters
    ----------
    X : ndarray, shape (trials, n, d)
    y : ndarray, shape (trials, n)
    alphas : ndarray, shape (k,)
        Initialization scales, all > 0.
    rtol : float
        Relative Newton-decrement tolerance.
    max_iter : int
    armijo : float
        Sufficient-decrease constant c in (0, 1/2).
    max_dz : float
        Largest change of any z_j = (Xᵀν)_j tried in one step (the first trial step is
        shortened to it; close to the optimum the full Newton step is far smaller).

    Returns
    -------
    DualSolution
        With ``theta`` of shape (trials, k, d) and ``nu`` of shape (trials, k, n).

    References
    ----------
    Seed 001 Theorem 9.18 and eq. (9.125); Woodworth et al. (2020), Theorem 1;
    Boyd & Vandenberghe (2004), §9.5 (damped Newton, Newton decrement).
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    alphas = np.asarray(alphas, dtype=float)
    n_trials, n, _ = X.shape
    k = alphas.size
    # log(2α²) broadcast against z of shape (trials, k, d).
    log_scale = np.log(2.0 * alphas**2)[None, :, None]
    Xt = np.swapaxes(X, 1, 2)  # (trials, d, n), a view: matmul passes it to BLAS transposed
    nu = np.zeros((n_trials, k, n))
    active = np.ones((n_trials, k), dtype=bool)
    converged = np.zeros((n_trials, k), dtype=bool)
    iterations = np.zeros((n_trials, k), dtype=np.int64)
    tiny = np.finfo(float).tiny
    eps = np.finfo(float).eps

    def evaluate(nu_):
        """f, the magnitude of its terms (for the rounding slack) and z = Xᵀν, batched."""
        z = nu_ @ X  # (trials, k, d)
        excess, weight, value, bad = _cosh_terms(z, log_scale)
        lin = np.einsum("tkn,tn->tk", nu_, y)
        f = np.where(bad.any(-1), np.inf, excess.sum(-1) - lin)
        return f, excess.sum(-1) + np.abs(lin), weight, value

    for _ in range(max_iter):
        if not active.any():
            break
        f, size, weight, value = evaluate(nu)
        grad = value @ Xt - y[:, None, :]  # (trials, k, n)
        step = np.zeros_like(nu)
        for j in np.nonzero(active.any(axis=0))[0]:
            rows = np.nonzero(active[:, j])[0]
            # H = X diag(w) Xᵀ for the trials still active at this α.
            hess = (X[rows] * weight[rows, j, None, :]) @ Xt[rows]
            scale = 1.0 / np.sqrt(np.einsum("bii->bi", hess))
            scaled = hess * scale[:, :, None] * scale[:, None, :]
            step[rows, j] = -scale * _pseudo_solve(scaled, scale * grad[rows, j])
        decrement = -np.einsum("tkn,tkn->tk", grad, step)
        done = active & (decrement / 2.0 <= rtol * np.maximum(np.abs(f), tiny))
        # Backtracking (halving) on the members that still move, from a first trial step
        # that changes no z_j by more than `max_dz`: far from the optimum (small α,
        # ν = 0) the full Newton step moves z by ~1/α², and halving down from there
        # would take ~log2(1/α²) objective evaluations.
        dz = np.abs(step @ X).max(axis=-1)
        t = max_dz / np.maximum(dz, max_dz)
        searching = active & ~done
        slack = 64.0 * eps * size
        for _ in range(100):
            if not searching.any():
                break
            f_new = evaluate(nu + np.where(searching, t, 0.0)[..., None] * step)[0]
            ok = f_new <= f - armijo * t * decrement + slack
            searching &= ~ok
            t = np.where(searching, t / 2.0, t)
        moved = active & ~done & ~searching
        nu = nu + np.where(moved, t, 0.0)[..., None] * step
        iterations += moved
        converged |= done
        # Converged members stop; a member whose line search failed cannot progress.
        active = moved
    theta = _cosh_terms(np.einsum("tkn,tnd->tkd", nu, X), log_scale)[2]
    return DualSolution(theta=theta, nu=nu, iterations=iterations, converged=converged)


def kkt_residuals(X: np.ndarray, y: np.ndarray, theta: np.ndarray, alphas: np.ndarray):
    """Relative KKT residuals of min Q_α(θ) s.t. Xθ = y at ``theta``.

    stationarity = ‖(I − P_row) g‖ / ‖g‖ with g = ∇Q_α(θ) = arcsinh(θ/(2α²)) and P_row the
    orthogonal projector onto the row space of X (an orthonormal basis from a QR of Xᵀ);
    feasibility = ‖Xθ − y‖ / ‖y‖.

    Parameters
    ----------
    X : ndarray, shape (trials, n, d)
    y : ndarray, shape (trials, n)
    theta : ndarray, shape (trials, k, d)
    alphas : ndarray, shape (k,)

    Returns
    -------
    stationarity, feasibility : ndarray, shape (trials, k)

    References
    ----------
    Seed 001 §9.3.2 (Lagrange condition ∇Q_α(θ) = Xᵀν); Woodworth et al. (2020), Thm 1.
    """
    alphas = np.asarray(alphas, dtype=float)
    g = np.arcsinh(theta / (2.0 * alphas[None, :, None] ** 2))
    basis, _ = np.linalg.qr(np.swapaxes(X, 1, 2))  # (trials, d, n)
    proj = np.einsum("tdn,tkn->tkd", basis, np.einsum("tdn,tkd->tkn", basis, g))
    stationarity = np.linalg.norm(g - proj, axis=-1) / np.maximum(
        np.linalg.norm(g, axis=-1), np.finfo(float).tiny
    )
    fit = np.einsum("tnd,tkd->tkn", X, theta) - y[:, None, :]
    feasibility = np.linalg.norm(fit, axis=-1) / np.linalg.norm(y, axis=-1)[:, None]
    return stationarity, feasibility


def min_l1_interpolator(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """θ_ℓ1 = argmin ‖θ‖₁ s.t. Xθ = y, for each trial, by a linear program.

    With θ = p − m, p, m ≥ 0: minimize 1ᵀp + 1ᵀm subject to [X, −X][p; m] = y, solved by
    HiGHS (dual simplex returns a vertex, i.e. a basic solution with at most n nonzeros).

    Parameters
    ----------
    X : ndarray, shape (trials, n, d)
    y : ndarray, shape (trials, n)

    Returns
    -------
    ndarray, shape (trials, d)

    References
    ----------
    Seed 001 eq. (9.11); Chen, Donoho & Saunders (1998), basis pursuit.
    """
    n_trials, _, d = X.shape
    out = np.empty((n_trials, d))
    cost = np.ones(2 * d)
    for i in range(n_trials):
        res = linprog(
            cost,
            A_eq=np.hstack([X[i], -X[i]]),
            b_eq=y[i],
            bounds=(0, None),
            method="highs-ds",
            options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10},
        )
        if res.status != 0:
            raise RuntimeError(f"ℓ1 linear program failed on trial {i}: {res.message}")
        out[i] = res.x[:d] - res.x[d:]
    return out


