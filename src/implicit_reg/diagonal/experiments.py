"""The three F3 experiments: one function per experiment, returning a tidy table.

Each function runs every trial of one grid point at once (leading trial axis) and
returns ``(table, arrays)``: the arrays (data, exact references, final iterates) are kept
beside the run table so that the claims can be recomputed without this package.

References: Woodworth et al. (2020); Li, Ma & Zhang (2018); Vaškevičius, Kanade &
Rebeschini (2019); docs/science.md §F3.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from implicit_reg.diagonal.algorithms import (
    beta_gd_path,
    beta_population_gd_path,
    step_size_scale,
    uv_gd_path,
)
from implicit_reg.diagonal.data import support_recovery_data
from implicit_reg.diagonal.exact import (
    kkt_residuals,
    lemma_growth_rate,
    min_l1_interpolator,
    oracle_least_squares,
    q_alpha_limit,
)
from implicit_reg.experiment import Experiment
from implicit_reg.linalg import min_norm_solution
from implicit_reg.problems import sparse_regression
from implicit_reg.schedule import log_checkpoints


def _relative_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """‖a − b‖ / ‖b‖ over the last axis (b broadcast against a)."""
    return np.linalg.norm(a - b, axis=-1) / np.linalg.norm(b, axis=-1)


def simulate_crossover(params: dict, rng: np.random.Generator):
    """Exact Q_α limits over the α grid at one n, all trials and α in one Newton batch.

    Rows: one per (trial, alpha) with the population errors of θ_α, θ_ℓ1 and θ_ℓ2
    (‖θ − θ*‖², the excess risk for x ~ N(0, I)), relative distances of θ_α to θ_ℓ1 and
    θ_ℓ2, ‖θ_α‖₁, the KKT residuals and the Newton diagnostics.

    Arrays: ``X`` (trials, n, d), ``y`` (trials, n), ``theta_star`` (trials, d),
    ``alphas`` (k,), ``theta_alpha`` (trials, k, d), ``theta_l1``, ``theta_l2``
    (trials, d).
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
    arrays = {
        "X": X,
        "y": y,
        "theta_star": theta_star,
        "alphas": alphas,
        "theta_alpha": sol.theta,
        "theta_l1": theta_l1,
        "theta_l2": theta_l2,
    }
    return table, arrays


def simulate_trajectories(params: dict, rng: np.random.Generator):
    """GD paths of θ = u⊙u − v⊙v for each (α, step fraction), against the exact limit.

    Rows: one per (trial, alpha, step_fraction, step) at log-spaced checkpoints, with
    t = η·step, the training loss, the relative distance ‖θ_t − θ_α‖/‖θ_α‖ to the Newton
    limit and the divergence flag.

    Arrays: ``X``, ``y``, ``theta_star``, ``alphas`` (m,) and ``step_fractions`` (m,) of
    the m runs, ``eta`` (trials, m), ``steps`` (m,) run by each, ``theta_limit``
    (trials, m, d) the Newton limit of each run, ``theta_final`` (trials, m, d) the last
    GD iterate.
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
    target = np.repeat(limit, fractions.size, axis=1)
    with np.errstate(invalid="ignore", over="ignore"):
        gap = _relative_distance(thetas, target[None])  # (c, trials, m)
    c, m = len(checkpoints), run_alpha.size
    idx = np.indices((c, n_trials, m)).reshape(3, -1)
    steps = checkpoints[idx[0]]
    table = pd.DataFrame(
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
    arrays = {
        "X": X,
        "y": y,
        "theta_star": theta_star,
        "alphas": run_alpha,
        "step_fractions": run_fraction,
        "eta": etas,
        "steps": np.full(m, checkpoints[-1]),
        "theta_limit": target,
        "theta_final": thetas[-1],
    }
    return table, arrays


def simulate_sparse_recovery(params: dict, rng: np.random.Generator):
    """GD on f_β = ⟨β⊙β, x⟩ from β₀ = α·1, with noiseless and noisy labels.

    Every trial draws X, S and ξ once and runs GD on the empirical loss
    (1/4n)Σ(y_i − ⟨β⊙β, x_i⟩)² for each α and each label vector y = Xθ* (σ = 0) and
    y = Xθ* + σξ (σ = ``noise_std``), plus GD on the population loss ¼‖β⊙β − θ*‖²
    (the setting of the population analysis of Li, Ma & Zhang 2018) for each α.

    Rows: one per (trial, alpha, noise_std, algorithm, step) at log-spaced checkpoints,
    with t = η·step, the recovery error ‖β_t⊙β_t − θ*‖², the training loss, the smallest
    on-support |β_j| and the largest off-support |β_j|. Per-run columns (repeated on the
    run's rows): ``min_recovery_error`` and ``t_min`` (minimum of the recovery error
    over every step, and when), ``oracle_error`` (‖θ̂_S − θ*‖² of least squares on the
    true support, 0 without noise), ``rate`` = σ²·r·ln d/n, and ``t_lemma``, the horizon
    ln 2/(8δ√r) of the empirical-loss analysis under RIP with δ computed from X
    (`lemma_growth_rate`), and
    ``t_escape``, the first time an off-support |β_j| exceeds 2α (the run's last time
    if it never does).

    Arrays: ``X``, ``support``, ``xi``, ``noise_stds`` (2,), ``alphas`` (k,), ``eta``,
    ``steps`` (the last step), ``theta_oracle`` (trials, d), ``beta_final`` and
    ``beta_at_min`` (trials, 2, k, d): the last iterate and the iterate of least
    recovery error, per (noise level, α).

    References
    ----------
    Li, Ma & Zhang (2018), Thm 1.1 and its population and empirical-loss analyses;
    Vaškevičius, Kanade & Rebeschini (2019); docs/science.md §F3b.
    """
    n, d, r = int(params["n_samples"]), int(params["n_features"]), int(params["sparsity"])
    n_trials, eta, sigma = int(params["n_trials"]), float(params["eta"]), float(params["noise_std"])
    alphas = np.asarray(params["alphas"], dtype=float)
    noise_stds = np.array([0.0, sigma])
    X, support, xi = support_recovery_data(rng, n_trials, n, d, r)
    theta_star = support.astype(float)
    clean = np.einsum("tnd,td->tn", X, theta_star)
    # Runs ordered (noise level, α): y of shape (trials, m, n), m = 2k.
    y = clean[:, None, :] + noise_stds[None, :, None] * xi[:, None, :]
    y_runs = np.repeat(y, alphas.size, axis=1)
    run_noise = np.repeat(noise_stds, alphas.size)
    run_alpha = np.tile(alphas, noise_stds.size)
    checkpoints = log_checkpoints(int(params["n_steps"]), int(params["n_checkpoints"]))
    path = beta_gd_path(X, y_runs, run_alpha, eta, checkpoints, reference=theta_star)
    theta_oracle = oracle_least_squares(X, y[:, 1], support)
    oracle_error = np.stack(
        [np.zeros(n_trials), ((theta_oracle - theta_star) ** 2).sum(-1)], axis=1
    )  # (trials, 2)
    t_lemma = np.log(2.0) / lemma_growth_rate(X, support)  # (trials,)
    # The population dynamics are coordinatewise and permutation-equivariant: one run
    # with S = {0..r-1} gives every trial's path after relabelling the coordinates.
    reference = np.zeros(d)
    reference[:r] = 1.0
    population = beta_population_gd_path(reference, alphas, eta, checkpoints)  # (c, k, d)

    frames = []
    c, m = len(checkpoints), run_alpha.size
    idx = np.indices((c, n_trials, m)).reshape(3, -1)
    betas = path.betas
    on = support[None, :, None, :]
    frames.append(
        pd.DataFrame(
            {
                "trial": idx[1],
                "n_samples": n,
                "alpha": run_alpha[idx[2]],
                "noise_std": run_noise[idx[2]],
                "algorithm": "empirical",
                "step": checkpoints[idx[0]],
                "t": eta * checkpoints[idx[0]],
                "recovery_error": ((betas**2 - theta_star[None, :, None]) ** 2).sum(-1).ravel(),
                "train_loss": path.losses.ravel(),
                "on_support_min": np.where(on, np.abs(betas), np.inf).min(-1).ravel(),
                "off_support_max": np.where(on, 0.0, np.abs(betas)).max(-1).ravel(),
                "min_recovery_error": path.min_error[idx[1], idx[2]],
                "t_min": eta * path.argmin_step[idx[1], idx[2]],
                "oracle_error": oracle_error[idx[1], idx[2] // alphas.size],
                "rate": run_noise[idx[2]] ** 2 * r * np.log(d) / n,
                "t_lemma": t_lemma[idx[1]],
                "t_escape": eta
                * np.where(path.escape_step < 0, checkpoints[-1], path.escape_step)[idx[1], idx[2]],
                "diverged": path.diverged[idx[1], idx[2]],
            }
        )
    )
    pop_on = reference > 0
    k = alphas.size
    pidx = np.indices((c, n_trials, k)).reshape(3, -1)
    frames.append(
        pd.DataFrame(
            {
                "trial": pidx[1],
                "n_samples": n,
                "alpha": alphas[pidx[2]],
                "noise_std": 0.0,
                "algorithm": "population",
                "step": checkpoints[pidx[0]],
                "t": eta * checkpoints[pidx[0]],
                "recovery_error": ((population**2 - reference) ** 2).sum(-1)[pidx[0], pidx[2]],
                "on_support_min": np.abs(population[..., pop_on]).min(-1)[pidx[0], pidx[2]],
                "off_support_max": np.abs(population[..., ~pop_on]).max(-1)[pidx[0], pidx[2]],
                "diverged": False,
            }
        )
    )
    table = pd.concat(frames, ignore_index=True)
    shape = (n_trials, noise_stds.size, alphas.size, d)
    arrays = {
        "X": X,
        "support": support,
        "xi": xi,
        "noise_stds": noise_stds,
        "alphas": alphas,
        "eta": np.float64(eta),
        "steps": np.int64(checkpoints[-1]),
        "theta_oracle": theta_oracle,
        "beta_final": betas[-1].reshape(shape),
        "beta_at_min": path.beta_at_min.reshape(shape),
    }
    return table, arrays


#: The family's experiments, one per key of its config section: the simulation of one grid
#: point and the columns that identify a row of its table together with ``trial``.
EXPERIMENTS = {
    "crossover": Experiment(simulate_crossover, keys=("n_samples", "alpha")),
    "trajectories": Experiment(
        simulate_trajectories,
        keys=("n_samples", "alpha", "step_fraction", "step"),
    ),
    "sparse_recovery": Experiment(
        simulate_sparse_recovery,
        keys=("n_samples", "alpha", "noise_std", "algorithm", "step"),
    ),
}
