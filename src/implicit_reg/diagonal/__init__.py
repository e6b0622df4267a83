"""F3: the ℓ1 ↔ ℓ2 crossover of diagonal linear networks (SCIENCE.md §F3a–F3b).

Experiments (keys of the ``diagonal`` config section):

- ``crossover``: exact Q_α limits over an α grid per n (Newton dual), with the ℓ1 and ℓ2
  interpolators, distances, population errors and KKT residuals;
- ``trajectories``: gradient descent on θ = u⊙u − v⊙v for a few α and two step sizes,
  distance to the exact limit along the path;
- ``sparse_recovery``: gradient descent on f_β = ⟨β⊙β, x⟩ from β₀ = α·1 (empirical and
  population losses), recovery error and on/off-support magnitudes.

References: seed 001 §9.2–9.3; Woodworth et al. (2020); Li, Ma & Zhang (2018).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from implicit_reg.claims import Claim
from implicit_reg.diagonal.dynamics import beta_gd_path, beta_population_gd_path, uv_gd_path
from implicit_reg.diagonal.exact import (
    kkt_residuals,
    min_l1_interpolator,
    q_alpha_limit,
)
from implicit_reg.experiment import Experiment
from implicit_reg.linalg import min_norm_solution
from implicit_reg.schedule import log_checkpoints

FAMILY = "diagonal"


def sparse_regression(
    rng: np.random.Generator, n_trials: int, n: int, d: int, r: int, noise_std: float
):
    """Gaussian design x ~ N(0, I_d) and an r-sparse θ* with entries ±1/√r.

    Returns
    -------
    X : ndarray, shape (trials, n, d)
    theta_star : ndarray, shape (trials, d)
        Support drawn uniformly per trial, signs uniform.
    y : ndarray, shape (trials, n)
        Xθ* + noise_std·N(0, 1).

    References
    ----------
    SCIENCE.md §F3a (data); Woodworth et al. (2020), §5.
    """
    X = rng.standard_normal((n_trials, n, d))
    theta_star = np.zeros((n_trials, d))
    support = np.argsort(rng.random((n_trials, d)), axis=1)[:, :r]
    signs = rng.choice([-1.0, 1.0], size=(n_trials, r))
    np.put_along_axis(theta_star, support, signs / np.sqrt(r), axis=1)
    y = np.einsum("tnd,td->tn", X, theta_star) + noise_std * rng.standard_normal((n_trials, n))
    return X, theta_star, y


def _relative_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """‖a − b‖ / ‖b‖ over the last axis (b broadcast against a)."""
    return np.linalg.norm(a - b, axis=-1) / np.linalg.norm(b, axis=-1)


def simulate_crossover(params: dict, rng: np.random.Generator) -> pd.DataFrame:
    """Exact Q_α limits over the α grid at one n, all trials and α in one Newton batch.

    Rows: one per (trial, alpha) with the population errors of θ_α, θ_ℓ1 and θ_ℓ2
    (‖θ − θ*‖², the excess risk for x ~ N(0, I)), relative distances of θ_α to θ_ℓ1 and
    θ_ℓ2, ‖θ_α‖₁, the KKT residuals and the Newton diagnostics.
    """
    n, d = int(params["n_samples"]), int(params["n_features"])
    X, theta_star, y = sparse_regression(
        rng, int(params["n_trials"]), n, d, int(params["sparsity"]), float(params["noise_std"])
    )
    alphas = np.geomspace(params["alpha_min"], params["alpha_max"], int(params["n_alphas"]))
    sol = q_alpha_limit(X, y, alphas)
    stationarity, feasibility = kkt_residuals(X, y, sol.theta, alphas)
    theta_l1 = min_l1_interpolator(X, y)
    theta_l2 = min_norm_solution(X, y)
    shape = sol.theta.shape[:2]

    def per_trial(values):
        return np.broadcast_to(values[:, None], shape).ravel()

    table = pd.DataFrame(
        {
            "trial": np.repeat(np.arange(shape[0]), shape[1]),
            "n_samples": n,
            "alpha": np.tile(alphas, shape[0]),
            "population_error": ((sol.theta - theta_star[:, None]) ** 2).sum(-1).ravel(),
            "population_error_l1": per_trial(((theta_l1 - theta_star) ** 2).sum(-1)),
            "population_error_l2": per_trial(((theta_l2 - theta_star) ** 2).sum(-1)),
            "dist_l1": _relative_distance(sol.theta, theta_l1[:, None]).ravel(),
            "dist_l2": _relative_distance(sol.theta, theta_l2[:, None]).ravel(),
            "l1_norm": np.abs(sol.theta).sum(-1).ravel(),
            "l1_norm_l1": per_trial(np.abs(theta_l1).sum(-1)),
            "kkt_stationarity": stationarity.ravel(),
            "kkt_feasibility": feasibility.ravel(),
            "newton_iterations": sol.iterations.ravel(),
            "converged": sol.converged.ravel(),
        }
    )
    return table


def step_size_scale(X: np.ndarray, theta_star: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """Smoothness scale L_α = 4 λ_max(XᵀX/n) √(‖θ*‖∞² + 4α⁴) of the (u, v) loss.

    Along the flow θ̇ = −4(u⊙u + v⊙v)⊙∇_θL and u_j v_j = α² is conserved, so
    u_j² + v_j² = √(θ_j² + 4α⁴); with |θ| of the order of ‖θ*‖∞ this bounds the
    curvature seen by GD. Step sizes are configured as fractions of 1/L_α.

    Returns
    -------
    ndarray, shape (trials, k)

    References
    ----------
    Woodworth et al. (2020), §2 (the flow in θ); seed 001 eq. (9.124).
    """
    n = X.shape[1]
    lam = np.linalg.eigvalsh(np.swapaxes(X, 1, 2) @ X / n)[:, -1]
    top = np.abs(theta_star).max(-1)
    return 4.0 * lam[:, None] * np.sqrt(top[:, None] ** 2 + 4.0 * np.asarray(alphas)[None] ** 4)


def simulate_trajectories(params: dict, rng: np.random.Generator) -> pd.DataFrame:
    """GD paths of θ = u⊙u − v⊙v for each (α, step fraction), against the exact limit.

    Rows: one per (trial, alpha, step_fraction, step) at log-spaced checkpoints, with
    t = η·step, the training loss, the relative distance ‖θ_t − θ_α‖/‖θ_α‖ to the Newton
    limit and the divergence flag.
    """
    n, d = int(params["n_samples"]), int(params["n_features"])
    n_trials = int(params["n_trials"])
    X, theta_star, y = sparse_regression(
        rng, n_trials, n, d, int(params["sparsity"]), float(params["noise_std"])
    )
    alphas = np.asarray(params["alphas"], dtype=float)
    fractions = np.asarray(params["step_fractions"], dtype=float)
    limit = q_alpha_limit(X, y, alphas).theta  # (trials, k, d)
    run_alpha = np.repeat(alphas, fractions.size)
    run_fraction = np.tile(fractions, alphas.size)
    etas = run_fraction[None] / step_size_scale(X, theta_star, run_alpha)
    # Every path covers the same time t = η·k: the smallest step runs longest, so the
    # final gaps compare limits rather than unequal amounts of training.
    n_steps = int(np.ceil(int(params["n_steps"]) * fractions.max() / fractions.min()))
    checkpoints = log_checkpoints(n_steps, int(params["n_checkpoints"]))
    thetas, losses, diverged = uv_gd_path(
        X, y, np.broadcast_to(run_alpha, etas.shape), etas, checkpoints
    )
    target = np.repeat(limit, fractions.size, axis=1)[None]
    with np.errstate(invalid="ignore", over="ignore"):
        gap = _relative_distance(thetas, target)  # (c, trials, m)
    c, m = len(checkpoints), run_alpha.size
    idx = np.indices((c, n_trials, m)).reshape(3, -1)
    steps = checkpoints[idx[0]]
    return pd.DataFrame(
        {
            "trial": idx[1],
            "n_samples": n,
            "alpha": run_alpha[idx[2]],
            "step_fraction": run_fraction[idx[2]],
            "eta": etas[idx[1], idx[2]],
            "step": steps,
            "t": etas[idx[1], idx[2]] * steps,
            "train_loss": losses.ravel(),
            "dist_to_limit": gap.ravel(),
            "diverged": diverged[idx[1], idx[2]],
        }
    )


def simulate_sparse_recovery(params: dict, rng: np.random.Generator) -> pd.DataFrame:
    """GD on f_β = ⟨β⊙β, x⟩ from β₀ = α·1: empirical loss and population loss.

    Rows: one per (trial, alpha, algorithm, step) with the recovery error
    ‖β_t⊙β_t − β*⊙β*‖², the smallest on-support |β_j|, the largest off-support |β_j|
    and whether step ≤ 1/(10ηα²) (the horizon of Theorem 9.13, case 2).
    β* = 1_S with |S| = r (S drawn per trial); y = ⟨β*⊙β*, x⟩, no noise.
    """
    n, d, r = int(params["n_samples"]), int(params["n_features"]), int(params["sparsity"])
    n_trials = int(params["n_trials"])
    eta = float(params["eta"])
    alphas = np.asarray(params["alphas"], dtype=float)
    X = rng.standard_normal((n_trials, n, d))
    support = np.argsort(rng.random((n_trials, d)), axis=1)[:, :r]
    on = np.zeros((n_trials, d), dtype=bool)
    np.put_along_axis(on, support, True, axis=1)
    beta_star = on.astype(float)
    y = np.einsum("tnd,td->tn", X, beta_star**2)
    checkpoints = log_checkpoints(int(params["n_steps"]), int(params["n_checkpoints"]))
    empirical, diverged = beta_gd_path(X, y, alphas, eta, checkpoints)
    # The population dynamics are coordinatewise and permutation-equivariant: one run
    # with S = {0..r-1} gives every trial's path after relabelling the coordinates.
    reference = np.zeros(d)
    reference[:r] = 1.0
    population = beta_population_gd_path(reference, alphas, eta, checkpoints)
    frames = []
    for name, betas, on_mask, star, div in (
        ("empirical", empirical, on[None, :, None, :], beta_star[None, :, None, :], diverged),
        (
            "population",
            np.broadcast_to(population[:, None], empirical.shape),
            (reference > 0)[None, None, None, :],
            reference[None, None, None, :],
            np.zeros_like(diverged),
        ),
    ):
        error = ((betas**2 - star**2) ** 2).sum(-1)
        on_min = np.where(on_mask, np.abs(betas), np.inf).min(-1)
        off_max = np.where(on_mask, 0.0, np.abs(betas)).max(-1)
        c, t, k = error.shape
        idx = np.indices((c, t, k)).reshape(3, -1)
        steps = checkpoints[idx[0]]
        frames.append(
            pd.DataFrame(
                {
                    "trial": idx[1],
                    "n_samples": n,
                    "alpha": alphas[idx[2]],
                    "algorithm": name,
                    "step": steps,
                    "t": eta * steps,
                    "recovery_error": error.ravel(),
                    "on_support_min": on_min.ravel(),
                    "off_support_max": off_max.ravel(),
                    "within_window": steps <= 1.0 / (10.0 * eta * alphas[idx[2]] ** 2),
                    "diverged": div[idx[1], idx[2]],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


EXPERIMENTS = {
    "crossover": Experiment(simulate_crossover, keys=("n_samples", "alpha")),
    "trajectories": Experiment(
        simulate_trajectories, keys=("n_samples", "alpha", "step_fraction", "step")
    ),
    "sparse_recovery": Experiment(
        simulate_sparse_recovery, keys=("n_samples", "alpha", "algorithm", "step")
    ),
}

SOURCE_F3A = "Woodworth et al. (2020) Thm 1; seed 001 Theorem 9.18, Remark 9.19"


def _trend_violation(frame: pd.DataFrame, column: str, ascending_alpha: bool) -> float:
    """Largest relative increase of the trial-mean ``column`` along α, per n.

    Walks α toward the limit (decreasing α if ``ascending_alpha`` is false) and returns
    max over n and consecutive grid points of (m_{k+1} − m_k)/m_k: ≤ 0 means the mean
    distance decreases monotonically toward that end of the grid.
    """
    worst = -np.inf
    for _, group in frame.groupby("n_samples"):
        means = group.groupby("alpha")[column].mean().sort_index(ascending=ascending_alpha)
        values = means.to_numpy()
        worst = max(worst, float(np.max((values[1:] - values[:-1]) / values[:-1])))
    return worst


def crossover_claims(trials: pd.DataFrame) -> list[Claim]:
    """F3a claims from the exact sweep (SCIENCE.md §F3a)."""
    means = trials.groupby(["n_samples", "alpha"]).mean(numeric_only=True).reset_index()
    ends = means.groupby("n_samples")["alpha"]
    smallest = means[means["alpha"] == ends.transform("min")]
    largest = means[means["alpha"] == ends.transform("max")]
    a_min, a_max = float(means["alpha"].min()), float(means["alpha"].max())

    def fraction(rows):
        gap = rows["population_error_l2"] - rows["population_error_l1"]
        return (rows["population_error"] - rows["population_error_l1"]) / gap

    claim = lambda cid, text, measured, thr, cmp, kind="claim": Claim(  # noqa: E731
        FAMILY, cid, text, SOURCE_F3A, measured, thr, cmp, kind
    )
    return [
        claim(
            "l1_distance_decreases_as_alpha_shrinks",
            "The trial-mean ‖θ_α − θ_ℓ1‖/‖θ_ℓ1‖ decreases monotonically as α decreases, "
            "for every n (largest relative increase between consecutive α ≤ 0).",
            _trend_violation(trials, "dist_l1", ascending_alpha=False),
            0.0,
            "<=",
        ),
        claim(
            "l1_distance_small_at_smallest_alpha",
            f"At the smallest α = {a_min:g}, ‖θ_α − θ_ℓ1‖/‖θ_ℓ1‖ ≤ 5% (trial mean, worst n).",
            smallest["dist_l1"].max(),
            0.05,
            "<=",
        ),
        claim(
            "l2_distance_decreases_as_alpha_grows",
            "The trial-mean ‖θ_α − θ_ℓ2‖/‖θ_ℓ2‖ decreases monotonically as α increases, "
            "for every n (largest relative increase between consecutive α ≤ 0).",
            _trend_violation(trials, "dist_l2", ascending_alpha=True),
            0.0,
            "<=",
        ),
        claim(
            "l2_distance_small_at_largest_alpha",
            f"At the largest α = {a_max:g}, ‖θ_α − θ_ℓ2‖/‖θ_ℓ2‖ ≤ 5% (trial mean, worst n).",
            largest["dist_l2"].max(),
            0.05,
            "<=",
        ),
        claim(
            "population_error_reaches_l2_value_at_large_alpha",
            f"At α = {a_max:g} the population error has crossed to the ℓ2 value: "
            "(err(θ_α) − err(θ_ℓ1))/(err(θ_ℓ2) − err(θ_ℓ1)) ≥ 0.95 (trial means, worst n).",
            fraction(largest).min(),
            0.95,
            ">=",
        ),
        claim(
            "population_error_reaches_l1_value_at_small_alpha",
            f"At α = {a_min:g} the population error has crossed to the ℓ1 value: "
            "(err(θ_α) − err(θ_ℓ1))/(err(θ_ℓ2) − err(θ_ℓ1)) ≤ 0.05 (trial means, worst n).",
            fraction(smallest).max(),
            0.05,
            "<=",
        ),
        claim(
            "kkt_stationarity_residual",
            "At θ_α the gradient arcsinh(θ/(2α²)) of Q_α lies in the row space of X: "
            "max relative residual ‖(I − P_row)g‖/‖g‖ ≤ 1e-8 over all n, α, trials.",
            trials["kkt_stationarity"].max(),
            1e-8,
            "<=",
            kind="check",
        ),
        claim(
            "kkt_feasibility_residual",
            "θ_α interpolates: max ‖Xθ_α − y‖/‖y‖ ≤ 1e-8 over all n, α, trials.",
            trials["kkt_feasibility"].max(),
            1e-8,
            "<=",
            kind="check",
        ),
    ]


def trajectory_claims(trials: pd.DataFrame) -> list[Claim]:
    """F3a claims comparing the GD limit with the exact dual limit."""
    ok = trials[~trials["diverged"]]
    final = ok[ok["step"] == ok["step"].max()]
    gaps = final.groupby(["alpha", "step_fraction"])["dist_to_limit"].mean().unstack()
    small, large = gaps.columns.min(), gaps.columns.max()
    source = "Woodworth et al. (2020) Thm 1; seed 001 §9.3.1 (GD → gradient flow as η → 0)"
    return [
        Claim(
            FAMILY,
            "gd_limit_matches_exact_limit",
            f"At the smallest step (η = {small:g}/L_α), GD on u⊙u − v⊙v ends within relative "
            "distance 1e-2 of the Newton dual limit θ_α (trial mean, worst α).",
            source,
            gaps[small].max(),
            1e-2,
            "<=",
        ),
        Claim(
            FAMILY,
            "gd_gap_shrinks_with_step_size",
            f"The GD-vs-exact gap shrinks with η: gap(η = {small:g}/L_α)/gap(η = {large:g}/L_α)"
            " ≤ 1 for every α (trial means, worst α).",
            source,
            (gaps[small] / gaps[large]).max(),
            1.0,
            "<=",
        ),
    ]


def sparse_recovery_claims(trials: pd.DataFrame) -> list[Claim]:
    """F3b claims (Li, Ma & Zhang 2018; seed 001 Theorems 9.4 and 9.13)."""
    empirical = trials[(trials["algorithm"] == "empirical") & ~trials["diverged"]]
    # Least-squares fit of log(min_t error) on log α pooled over trials (a log–log fit
    # weighs every trial equally instead of letting the worst trial set the mean).
    best = empirical.groupby(["alpha", "trial"])["recovery_error"].min().reset_index()
    slope = np.polyfit(np.log(best["alpha"]), np.log(best["recovery_error"]), 1)[0]
    population = trials[(trials["algorithm"] == "population") & trials["within_window"]]
    ratio = (population["off_support_max"] / population["alpha"]).max()
    return [
        Claim(
            FAMILY,
            "min_recovery_error_slope_in_alpha",
            "The minimum over t of ‖β_t⊙β_t − β*⊙β*‖² scales like α√d or faster: "
            "log–log slope in α, fitted over all trials, ≥ 0.9.",
            "Li, Ma & Zhang (2018) Thm 1.1; seed 001 Theorem 9.4",
            slope,
            0.9,
            ">=",
        ),
        Claim(
            FAMILY,
            "off_support_stays_below_two_alpha",
            "Population GD: every off-support |β_j,t| ≤ 2α while t ≤ 1/(10ηα²) "
            "(max of off-support |β|/α over α, trials and steps in the window ≤ 2).",
            "seed 001 Theorem 9.13 (case 2, eqs. 9.36–9.39)",
            ratio,
            2.0,
            "<=",
        ),
    ]


def claims(tables: Mapping[str, pd.DataFrame]) -> list[Claim]:
    """Every F3 claim computed from the trial-level tables present in ``tables``."""
    out: list[Claim] = []
    if "crossover" in tables:
        out += crossover_claims(tables["crossover"])
    if "trajectories" in tables:
        out += trajectory_claims(tables["trajectories"])
    if "sparse_recovery" in tables:
        out += sparse_recovery_claims(tables["sparse_recovery"])
    return out
