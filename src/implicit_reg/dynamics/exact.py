"""Exact references of the dynamics family: closed forms, ODE solutions, exact limits.

Everything here is computed independently of the simulated algorithms it checks
(`factorization`, `linear_nets`, `network`): no function of this module calls them.
"""

from __future__ import annotations

import numpy as np

from implicit_reg.linalg import min_norm_solution

# ---------------------------------------------------------------------------------------
# F6a: singular values of deep matrix factorization under gradient flow


def singular_value_rate(sigma: np.ndarray, s: np.ndarray, depth: int, dd: float) -> np.ndarray:
    """``σ̇ = (N/(dd'))·σ^{2−2/N}·(s − σ)``, the gradient-flow rate of one singular value.

    Parameters
    ----------
    sigma, s : ndarray
        Current and target singular values (broadcast).
    depth : int
        N.
    dd : float
        ``d·d'``.

    References
    ----------
    Arora, Cohen, Hu, Luo (2019), Theorem 3; Saxe, McClelland, Ganguli (2014).
    """
    return (depth / dd) * np.abs(sigma) ** (2.0 - 2.0 / depth) * (s - sigma)


def closed_form_singular_values(
    t: np.ndarray, s: np.ndarray, eps: float, depth: int, dd: float
) -> np.ndarray:
    """Exact ``σ_r(t)`` for depth 1 and 2.

    ``N = 1``: ``σ(t) = s − (s − ε)e^{−t/(dd')}``;
    ``N = 2``: ``σ(t) = s / (1 + (s/ε − 1)e^{−2st/(dd')})``.

    Parameters
    ----------
    t : ndarray, shape (k,)
    s : ndarray, shape (r,)

    Returns
    -------
    ndarray, shape (k, r)

    References
    ----------
    Saxe, McClelland, Ganguli (2014) (the N = 2 logistic solution); docs/science.md §F6a.
    """
    t = np.asarray(t, dtype=float)[:, None]
    s = np.asarray(s, dtype=float)[None, :]
    if depth == 1:
        return s - (s - eps) * np.exp(-t / dd)
    if depth == 2:
        return s / (1.0 + (s / eps - 1.0) * np.exp(-2.0 * s * t / dd))
    raise ValueError(f"no closed form for depth {depth}")


def ode_singular_values(
    t: np.ndarray, s: np.ndarray, eps: float, depth: int, dd: float, rtol: float = 1e-10
) -> np.ndarray:
    """``σ_r(t)`` from `singular_value_rate` integrated by ``scipy.integrate.solve_ivp``.

    Each singular value is its own scalar ODE; they are integrated together (the system
    is diagonal) with DOP853 at relative tolerance ``rtol``.

    Parameters
    ----------
    t : ndarray, shape (k,)
        Sorted non-negative times.
    s : ndarray, shape (r,)

    Returns
    -------
    ndarray, shape (k, r)
    """
    from scipy.integrate import solve_ivp

    t = np.asarray(t, dtype=float)
    s = np.asarray(s, dtype=float)
    solution = solve_ivp(
        lambda _, sigma: singular_value_rate(sigma, s, depth, dd),
        (0.0, float(t[-1])),
        np.full(s.shape, float(eps)),
        method="DOP853",
        t_eval=t,
        rtol=rtol,
        atol=1e-14 * float(eps),
    )
    if not solution.success:
        raise RuntimeError(f"solve_ivp failed: {solution.message}")
    return solution.y.T


def exact_singular_values(
    t: np.ndarray, s: np.ndarray, eps: float, depth: int, dd: float
) -> np.ndarray:
    """Closed form for ``N ≤ 2``, `ode_singular_values` (rtol 1e-10) for ``N ≥ 3``.

    Returns
    -------
    ndarray, shape (len(t), len(s))
    """
    if depth <= 2:
        return closed_form_singular_values(t, s, eps, depth, dd)
    return ode_singular_values(t, s, eps, depth, dd)


def closed_form_crossing_time(
    fraction: float, s: np.ndarray, eps: float, depth: int, dd: float
) -> np.ndarray:
    """Time at which ``σ_r = fraction·s_r`` for depth 1 and 2 (``ε < fraction·s``).

    ``N = 1``: ``dd'·ln((s − ε)/((1 − f)s))`` (half-time ``dd'·ln(2(s − ε)/s)``);
    ``N = 2``: ``(dd'/(2s))·[ln(s/ε − 1) + ln(f/(1 − f))]`` (half-time
    ``(dd'/(2s))·ln(s/ε − 1)``).

    References
    ----------
    Arora, Cohen, Hu, Luo (2019); docs/science.md §F6a.
    """
    s = np.asarray(s, dtype=float)
    f = float(fraction)
    if depth == 1:
        return dd * np.log((s - eps) / ((1.0 - f) * s))
    if depth == 2:
        return dd / (2.0 * s) * (np.log(s / eps - 1.0) + np.log(f / (1.0 - f)))
    raise ValueError(f"no closed form for depth {depth}")


def quadrature_crossing_time(
    fraction: float, s: np.ndarray, eps: float, depth: int, dd: float
) -> np.ndarray:
    """Time at which ``σ_r = fraction·s_r``, by quadrature of ``dt = dσ/σ̇``.

    ``t_f = (dd'/N) ∫_ε^{f s} du / (u^{2−2/N}(s − u))``, integrated in ``v = ln u``
    (``du = u dv``), where the integrand ``u^{2/N−1}/(s − u)`` is smooth.

    Parameters
    ----------
    fraction : float
        f in (ε/s, 1).
    s : ndarray, shape (r,)

    Returns
    -------
    ndarray, shape (r,)
    """
    from scipy.integrate import quad

    def one(sr: float) -> float:
        value, _ = quad(
            lambda v: np.exp(v * (2.0 / depth - 1.0)) / (sr - np.exp(v)),
            np.log(eps),
            np.log(fraction * sr),
            epsabs=0.0,
            epsrel=1e-12,
            limit=200,
        )
        return dd / depth * value

    return np.array([one(float(sr)) for sr in np.atleast_1d(s)])


def crossing_time(fraction: float, s: np.ndarray, eps: float, depth: int, dd: float) -> np.ndarray:
    """Closed form for ``N ≤ 2``, `quadrature_crossing_time` for ``N ≥ 3``."""
    if depth <= 2:
        return closed_form_crossing_time(fraction, s, eps, depth, dd)
    return quadrature_crossing_time(fraction, s, eps, depth, dd)


# ---------------------------------------------------------------------------------------
# F6b: two-layer linear networks


def min_norm_product(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """``A_min = Y Xᵀ (X Xᵀ)⁺``, the global minimizer of ``½‖AX − Y‖²`` of least norm.

    Parameters
    ----------
    X : ndarray, shape (..., d, n)
    Y : ndarray, shape (..., d', n)

    Returns
    -------
    ndarray, shape (..., d', d)

    References
    ----------
    docs/science.md §F6b: A*_min = YXᵀ(XXᵀ)⁺.
    """
    Xt = np.swapaxes(X, -1, -2)
    return Y @ Xt @ np.linalg.pinv(X @ Xt, hermitian=True)


def null_projector(X: np.ndarray) -> np.ndarray:
    """``P⊥ = I − X(XᵀX)⁺Xᵀ``, the orthogonal projector onto ``Null(Xᵀ)``.

    Parameters
    ----------
    X : ndarray, shape (..., d, n)

    Returns
    -------
    ndarray, shape (..., d, d)
    """
    Xt = np.swapaxes(X, -1, -2)
    return np.eye(X.shape[-2]) - X @ np.linalg.pinv(Xt @ X, hermitian=True) @ Xt


def linear_net_limit(
    X: np.ndarray, Y: np.ndarray, w1_init: np.ndarray, w2_final: np.ndarray
) -> np.ndarray:
    """``A_min + W₂(∞)·W₁(0)·P⊥``: the product GD/SGD converge to from ``W₁(0)``.

    The rows of W₁ keep their ``Null(Xᵀ)`` component ``W₁(0)P⊥``, and the
    Col(X) part of the converged product interpolates with rows in Col(X), so it equals
    ``A_min``.

    Parameters
    ----------
    X : ndarray, shape (..., d, n)
    Y : ndarray, shape (..., d', n)
    w1_init : ndarray, shape (..., N, d)
    w2_final : ndarray, shape (..., d', N)

    References
    ----------
    docs/science.md §F6b (W₁'s gradients W₂ᵀEXᵀ have rows in Col(X)); Zhang et al. (2017).
    """
    return min_norm_product(X, Y) + w2_final @ w1_init @ null_projector(X)


# ---------------------------------------------------------------------------------------
# F6c: the linearized (NTK) model and the PL rate


def linearized_outputs(
    kernel: np.ndarray,
    cross_kernel: np.ndarray,
    outputs0: np.ndarray,
    residual0: np.ndarray,
    times: np.ndarray,
    n: int,
    eta: np.ndarray | None = None,
) -> np.ndarray:
    """Outputs of the linearized model ``f(θ₀) + J₀(θ − θ₀)`` trained from ``θ₀``.

    With ``K₀ = J₀J₀ᵀ = V diag(λ) Vᵀ`` and ``e₀ = f_n(θ₀) − y``, the parameters move in
    the row space of ``J₀``, ``θ − θ₀ = J₀ᵀc``, so at any point x the output is
    ``f(x; θ₀) + K₀(x, X)c`` with ``c = −V diag(g(λ)/λ) Vᵀ e₀``:

    - gradient flow (``eta`` None): ``g(λ) = 1 − e^{−λt/n}``, i.e. the training residual
      is ``e(t) = e^{−K₀t/n} e₀``;
    - gradient descent with step η (its Euler scheme, t = ηk):
      ``g(λ) = 1 − (1 − ηλ/n)^k``, i.e. ``e_k = (I − ηK₀/n)^k e₀``.

    Parameters
    ----------
    kernel : ndarray, shape (trials, n, n)
        ``K₀`` on the training points.
    cross_kernel : ndarray, shape (trials, p, n)
        ``K₀(x, X)`` for the p points where outputs are wanted (``kernel`` itself for
        the training points).
    outputs0 : ndarray, shape (trials, p)
        ``f(x; θ₀)`` at those points.
    residual0 : ndarray, shape (trials, n)
        ``e₀ = f_n(θ₀) − y``.
    times : ndarray, shape (c,) or (c, trials)
        Gradient-flow times t, or with ``eta`` the GD step counts k.
    n : int
        Number of training points.
    eta : ndarray, shape (trials,), optional
        GD step of each trial (time ``t = ηk``).

    Returns
    -------
    ndarray, shape (c, trials, p)

    References
    ----------
    Jacot et al. (2018); Lee et al. (2019) (R̂_lin minimized by gradient flow, in closed
    form); docs/science.md §F6c.
    """
    lam, V = np.linalg.eigh(kernel)  # (trials, n), (trials, n, n)
    lam = np.clip(lam, 0.0, None)
    coords = np.einsum("tnk,tn->tk", V, residual0)  # Vᵀ e₀
    times = np.asarray(times, dtype=float)
    times = times.reshape(times.shape[0], -1, 1)  # (c, 1 or trials, 1)
    if eta is None:
        gain = -np.expm1(-lam[None] / n * times)
    else:
        x = (np.asarray(eta)[:, None] * lam / n)[None]
        # 1 − (1 − x)^k, accurate for small x; a step beyond 1/x oscillates (power form).
        with np.errstate(invalid="ignore", divide="ignore"):
            stable = -np.expm1(times * np.log1p(-np.minimum(x, 0.5)))
        gain = np.where(x < 0.5, stable, 1.0 - (1.0 - x) ** times)
    # g(λ)/λ, continuous at λ → 0 (limit t/n, or ηk/n for GD).
    per_lam = np.where(lam[None] > 0, gain / np.where(lam[None] > 0, lam[None], 1.0), 0.0)
    c = -np.einsum("tnk,ctk->ctn", V, per_lam * coords[None])
    return outputs0[None] + np.einsum("tpn,ctn->ctp", cross_kernel, c)


def pl_bound(loss0: np.ndarray, lam_min: np.ndarray, t: np.ndarray, n: int, rate: float = 2.0):
    """``R̂(0)·e^{−rate·λ_min(K₀)t/n}``: the PL bound of gradient flow (rate 2), or a
    weaker rate (1: the half-rate bound checked at the widest network).

    Parameters
    ----------
    loss0, lam_min : ndarray, shape (trials,)
    t : ndarray, shape (c,) or (c, trials)

    Returns
    -------
    ndarray, shape (c, trials)

    References
    ----------
    Polyak (1963); Karimi, Nutini, Schmidt (2016) (PL ⇒ exponential convergence); Du, Zhai,
    Póczos, Singh (2019), Theorem 4.1.
    """
    t = np.asarray(t, dtype=float)
    t = t[:, None] if t.ndim == 1 else t
    return loss0[None] * np.exp(-rate * lam_min[None] * t / n)


def least_squares_constants(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``μ = λ_min⁺(XᵀX/n)`` (smallest positive eigenvalue) and ``L = λ_max(XᵀX/n)``.

    Parameters
    ----------
    X : ndarray, shape (trials, n, d)

    Returns
    -------
    mu, top : ndarray, shape (trials,)
    """
    n = X.shape[1]
    lam = np.linalg.eigvalsh(np.swapaxes(X, 1, 2) @ X / n)
    top = lam[:, -1]
    positive = lam > 1e-10 * top[:, None]
    mu = np.where(positive, lam, np.inf).min(axis=1)
    return mu, top


def least_squares_gap(X: np.ndarray, y: np.ndarray, betas: np.ndarray) -> np.ndarray:
    """``L(β) − L* = (1/2n)‖X(β − X⁺y)‖²`` for ``L(β) = (1/2n)‖y − Xβ‖²``.

    Exact by Pythagoras (``y − X X⁺y`` is orthogonal to the column space of X), and free
    of the cancellation of ``L(β) − L*`` computed as a difference.

    Parameters
    ----------
    X : ndarray, shape (trials, n, d)
    y : ndarray, shape (trials, n)
    betas : ndarray, shape (c, trials, d)

    Returns
    -------
    ndarray, shape (c, trials)
    """
    n = X.shape[1]
    best = min_norm_solution(X, y)
    fit = np.einsum("tnd,ctd->ctn", X, betas - best[None])
    return 0.5 * np.sum(fit * fit, axis=2) / n
