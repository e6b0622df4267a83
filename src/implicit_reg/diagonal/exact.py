"""Exact references for the diagonal linear network: the Q_α limit and its two endpoints.

The gradient-flow limit of θ = u⊙u − v⊙v from u₀ = v₀ = α·1 is the minimizer of
Q_α(θ) = α² Σ_i q(θ_i/α²) subject to Xθ = y. It is computed here through the smooth
n-dimensional dual with Newton's method; the endpoints are the minimum-ℓ1 interpolator
(a linear program) and the minimum-ℓ2 interpolator X⁺y. None of these functions share
code with the gradient-descent simulations in `implicit_reg.diagonal.algorithms`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Largest exponent handed to ``exp``: exp(700) ≈ 1e304 is still finite in float64.
_MAX_EXPONENT = 700.0


def q_function(z: np.ndarray) -> np.ndarray:
    """Scalar potential of the implicit regularizer, elementwise.

    q(z) = 2 − √(4 + z²) + z·arcsinh(z/2) = ∫₀^z arcsinh(u/2) du,

    evaluated as z·arcsinh(z/2) − z²/(2 + √(4 + z²)) so that small |z| loses no digits
    to the cancellation 2 − √(4 + z²).

    References
    ----------
    Woodworth et al. (2020), Theorem 1; docs/science.md §F3a.
    """
    z = np.asarray(z, dtype=float)
    return z * np.arcsinh(z / 2.0) - z**2 / (2.0 + np.sqrt(4.0 + z**2))


def q_derivative(z: np.ndarray) -> np.ndarray:
    """q'(z) = arcsinh(z/2).

    References
    ----------
    Woodworth et al. (2020), Theorem 1 (the derivative of their q); docs/science.md §F3a.
    """
    return np.arcsinh(np.asarray(z, dtype=float) / 2.0)


def q_alpha(theta: np.ndarray, alpha: float) -> np.ndarray:
    """Q_α(θ) = α² Σ_i q(θ_i/α²) over the last axis.

    References
    ----------
    Woodworth et al. (2020), Theorem 1; docs/science.md §F3a.
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


def _cholesky_factors(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower Cholesky factors L (A = L Lᵀ) of a batch, and which members are usable.

    A member is usable when LAPACK's factorization succeeds and every pivot satisfies
    L_ii² > n·eps·max_i A_ii (for the unit-diagonal Jacobi-scaled Hessians used here,
    the same relative cutoff as `_pseudo_solve` applies to eigenvalues); a numerically
    singular member is left to the eigendecomposition.

    Parameters
    ----------
    matrix : ndarray, shape (b, n, n)

    Returns
    -------
    factors : ndarray, shape (b, n, n)
        Meaningful only where ``usable``.
    usable : ndarray of bool, shape (b,)
    """
    from scipy.linalg import lapack

    n = matrix.shape[-1]
    try:
        factors = np.linalg.cholesky(matrix)
        ok = np.ones(matrix.shape[0], dtype=bool)
    except np.linalg.LinAlgError:
        # One non-positive-definite member fails the whole batch: factor one by one.
        factors = np.zeros_like(matrix)
        ok = np.zeros(matrix.shape[0], dtype=bool)
        for b, member in enumerate(matrix):
            lower, info = lapack.dpotrf(member, lower=1, clean=1)
            ok[b] = info == 0
            if ok[b]:
                factors[b] = lower
    pivots = np.einsum("bii->bi", factors) ** 2
    floor = n * np.finfo(float).eps * np.einsum("bii->bi", matrix).max(-1, keepdims=True)
    return factors, ok & (pivots > floor).all(-1)


def _scaled_hessian(X: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Jacobi-scaled dual Hessian S H S with H = X diag(w) Xᵀ and S = diag(H)^(−1/2).

    With Y = X diag(√w), H = Y Yᵀ; each member is one symmetric rank-d update (BLAS
    ``dsyrk``, n²d flops: half of a general product) of the rows of Y scaled by
    1/‖Y_i‖, so the scaled matrix has a unit diagonal.

    Parameters
    ----------
    X : ndarray, shape (b, n, d)
    weight : ndarray, shape (b, d)
        Positive weights w = 2α² cosh z.

    Returns
    -------
    scaled : ndarray, shape (b, n, n)
        Symmetric, both triangles filled.
    scale : ndarray, shape (b, n)
        The diagonal of S.
    """
    from scipy.linalg.blas import dsyrk

    Y = X * np.sqrt(weight)[:, None, :]
    scale = 1.0 / np.sqrt(np.einsum("bij,bij->bi", Y, Y))
    Y *= scale[:, :, None]
    scaled = np.empty((X.shape[0], X.shape[1], X.shape[1]))
    for b, rows in enumerate(Y):
        lower = dsyrk(1.0, rows, lower=1)  # the strict upper triangle is left at zero
        np.add(lower, lower.T, out=scaled[b])
    diagonal = np.einsum("bii->bi", scaled)
    diagonal /= 2.0
    return scaled, scale


def _newton_solve(matrix: np.ndarray, rhs: np.ndarray, factorization: str) -> np.ndarray:
    """Solve A x = b for a batch of symmetric PSD Newton systems.

    ``factorization="cholesky"``: x = L⁻ᵀ L⁻¹ b with A = L Lᵀ (n³/3 flops and two
    triangular solves) for every positive definite member, the minimum-norm solution of
    `_pseudo_solve` (a symmetric eigendecomposition, about 9n³ flops) for the others;
    ``"eigh"``: `_pseudo_solve` for every member.

    Parameters
    ----------
    matrix : ndarray, shape (b, n, n)
    rhs : ndarray, shape (b, n)
    factorization : {"cholesky", "eigh"}

    References
    ----------
    Golub & Van Loan (2013), Matrix Computations, §4.2 (Cholesky) and §8.1 (eigh).
    """
    if factorization == "eigh":
        return _pseudo_solve(matrix, rhs)
    if factorization != "cholesky":
        raise ValueError(f"factorization must be 'cholesky' or 'eigh', not {factorization!r}")
    from scipy.linalg import cho_solve

    factors, usable = _cholesky_factors(matrix)
    out = np.empty_like(rhs)
    if usable.any():
        out[usable] = cho_solve((factors[usable], True), rhs[usable, :, None])[..., 0]
    if not usable.all():
        out[~usable] = _pseudo_solve(matrix[~usable], rhs[~usable])
    return out


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
    factorization: str = "cholesky",
) -> DualSolution:
    """Minimizer of Q_α(θ) subject to Xθ = y for a batch of problems and of scales α.

    Solves the dual min_ν f(ν) = Σ_j 2α²(cosh((Xᵀν)_j) − 1) − νᵀy (the constant 2α²d
    removed) by damped Newton's method and returns θ_α = 2α² sinh(Xᵀν), which satisfies
    the KKT conditions X θ_α = y and arcsinh(θ_α/(2α²)) = Xᵀν ∈ row space of X.

    Numerics: every term is written as exp(log(2α²) + |z|) times a bounded factor (see
    `_cosh_terms`), so α from 1e-6 to 1e3 neither overflows nor loses the quadratic part
    for large α. The Newton system H Δ = −g with H = X diag(2α² cosh z) Xᵀ is solved after
    a Jacobi scaling (H spans many orders of magnitude when α is small) by a Cholesky
    factorization where the scaled H is positive definite, and by a symmetric
    eigendecomposition otherwise, taking the minimum-norm step when H is singular (n > d);
    see `_newton_solve`. Backtracking (halving) enforces the Armijo condition
    f(ν + tΔ) ≤ f(ν) + c·t·gᵀΔ up to the rounding of f; a trial point outside the float64
    range counts as f = +∞. Iteration stops when the Newton decrement λ² = −gᵀΔ satisfies
    λ²/2 ≤ rtol·max(|f|, tiny), i.e. the predicted suboptimality is negligible relative to
    the objective (at the optimum f* = −Q_α(θ_α) up to the constant), or when λ²/2 is
    below the rounding error of f (64·eps·Σ|terms|) and no longer halves from one
    iteration to the next: the gradient is then rounding noise and the iterate is as
    accurate as float64 allows.

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
    factorization : {"cholesky", "eigh"}
        Solver of the Newton systems (`_newton_solve`); ``"eigh"`` decomposes every
        system (kept for comparison in ``benchmarks/bench_diagonal.py``).

    Returns
    -------
    DualSolution
        With ``theta`` of shape (trials, k, d) and ``nu`` of shape (trials, k, n).

    References
    ----------
    Woodworth et al. (2020), Theorem 1 (dual form: docs/science.md §F3a);
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
    previous = np.full((n_trials, k), np.inf)

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
            # H = X diag(w) Xᵀ for the trials still active at this α, Jacobi-scaled.
            scaled, scale = _scaled_hessian(X[rows], weight[rows, j])
            step[rows, j] = -scale * _newton_solve(scaled, scale * grad[rows, j], factorization)
        decrement = -np.einsum("tkn,tkn->tk", grad, step)
        # Converged: the predicted suboptimality λ²/2 is below rtol·|f|, or it is below
        # the rounding error of f and stopped shrinking (the quadratic phase is over and
        # the computed gradient is rounding noise; no step could be verified anyway).
        slack = 64.0 * eps * size
        stalled = (decrement / 2.0 <= slack) & (decrement >= previous / 2.0)
        done = active & ((decrement / 2.0 <= rtol * np.maximum(np.abs(f), tiny)) | stalled)
        previous = decrement
        # Backtracking (halving) on the members that still move, from a first trial step
        # that changes no z_j by more than `max_dz`: far from the optimum (small α,
        # ν = 0) the full Newton step moves z by ~1/α², and halving down from there
        # would take ~log2(1/α²) objective evaluations.
        dz = np.abs(step @ X).max(axis=-1)
        t = max_dz / np.maximum(dz, max_dz)
        searching = active & ~done
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
    Woodworth et al. (2020), Theorem 1 (Lagrange condition ∇Q_α(θ) = Xᵀν);
    docs/science.md §F3a.
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
    Chen, Donoho & Saunders (1998), basis pursuit.
    """
    from scipy.optimize import linprog  # imported on use: 0.3 s that most jobs skip

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


def oracle_least_squares(X: np.ndarray, y: np.ndarray, support: np.ndarray) -> np.ndarray:
    """Least squares with oracle knowledge of the support: θ̂_S = (X_SᵀX_S)⁻¹X_Sᵀy, 0 off S.

    The estimator that early-stopped gradient descent on the β⊙β model matches when the
    signal dominates the noise (the "oracle" rate σ²·r/n of Vaškevičius et al. 2019);
    without noise it equals θ*.

    Parameters
    ----------
    X : ndarray, shape (trials, n, d)
    y : ndarray, shape (trials, n)
    support : ndarray of bool, shape (trials, d)
        Every trial has the same support size r ≤ n.

    Returns
    -------
    ndarray, shape (trials, d)

    References
    ----------
    Vaškevičius, Kanade & Rebeschini (2019), §1 and §3 (comparison with the oracle
    least-squares estimator).
    """
    n_trials, _, d = X.shape
    r = int(support[0].sum())
    index = np.nonzero(support)[1].reshape(n_trials, r)
    XS = np.take_along_axis(X, index[:, None, :], axis=2)  # (trials, n, r)
    XSt = np.swapaxes(XS, 1, 2)
    coef = np.linalg.solve(XSt @ XS, (XSt @ y[:, :, None]))[..., 0]  # normal equations
    out = np.zeros((n_trials, d))
    np.put_along_axis(out, index, coef, axis=1)
    return out


def lemma_growth_rate(X: np.ndarray, support: np.ndarray) -> np.ndarray:
    """Growth rate 8δ√r of the off-support coordinates on the empirical loss under RIP.

    The (r, δ)-RIP bounds ‖(X̂ − I)v‖∞ ≤ 4δ‖v‖₂ (X̂ = XᵀX/n) for the sparse vectors the
    proof applies it to, v = (r_t² − 1)·1_S. For v supported on S the smallest such
    constant is computable: 4δ = max_j ‖(X̂ − I)_{j,S}‖₂ (Cauchy–Schwarz, attained).
    With ‖v‖₂ ≤ √r the proof's bound on the multiplier of the off-support
    update ζ_{t+1} = ζ_t ⊙ (1 − ηρ_t) reads ‖ρ_t‖∞ ≤ 8δ√r, so ‖ζ_t‖∞ ≤ α(1 + 8ηδ√r)^k
    ≤ 2α for t = ηk ≤ ln 2/(8δ√r).

    Parameters
    ----------
    X : ndarray, shape (trials, n, d)
    support : ndarray of bool, shape (trials, d)

    Returns
    -------
    ndarray, shape (trials,)
        8δ√r per trial, in units of 1/t (t = η·step).

    References
    ----------
    Li, Ma & Zhang (2018), empirical-loss analysis under RIP (off-support coordinates grow
    at most like (1 + cηδ)^t); Vaškevičius, Kanade & Rebeschini (2019); the derivation
    with ‖v‖₂ ≤ √r is in docs/science.md §F3b.
    """
    n_trials, n, d = X.shape
    r = int(support[0].sum())
    index = np.nonzero(support)[1].reshape(n_trials, r)
    XS = np.take_along_axis(X, index[:, None, :], axis=2)  # (trials, n, r)
    cross = np.swapaxes(X, 1, 2) @ XS / n  # (trials, d, r): X̂_{:,S}
    cross[np.arange(n_trials)[:, None], index, np.arange(r)[None, :]] -= 1.0  # − I_{:,S}
    four_delta = np.linalg.norm(cross, axis=-1).max(-1)
    return 2.0 * np.sqrt(r) * four_delta
