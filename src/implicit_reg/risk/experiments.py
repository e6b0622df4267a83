"""The three risk experiments: one function per experiment, returning a tidy table.

Each function runs every trial of one grid point at once (leading trial axis).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from implicit_reg.progress import Progress
from implicit_reg.risk import algorithms, theory
from implicit_reg.schedule import log_checkpoints


def _norm(v: np.ndarray) -> np.ndarray:
    return np.sqrt(np.sum(v * v, axis=-1))


def gaussian_regression(
    rng: np.random.Generator, n_trials: int, n: int, d: int, noise_std: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``X ~ N(0, I_d)`` rows, ``β* ~ N(0, I/d)``, ``y = Xβ* + σε`` for each trial.

    Returns
    -------
    X : ndarray, shape (trials, n, d)
    y : ndarray, shape (trials, n)
    beta_star : ndarray, shape (trials, d)
    """
    X = rng.standard_normal((n_trials, n, d))
    beta_star = rng.standard_normal((n_trials, d)) / np.sqrt(d)
    y = np.einsum("tnd,td->tn", X, beta_star) + noise_std * rng.standard_normal((n_trials, n))
    return X, y, beta_star


def sphere(rng: np.random.Generator, shape: tuple[int, ...], radius: float) -> np.ndarray:
    """Uniform points on the sphere of the given radius in the last axis of ``shape``."""
    v = rng.standard_normal(shape)
    return radius * v / _norm(v)[..., None]


# ---------------------------------------------------------------------------------------
# F1a


def _path_rows(path, X, y, beta_limit, beta_min_norm, eta, **labels) -> pd.DataFrame:
    """Tidy rows of one algorithm's path: loss, distances, norms at each checkpoint."""
    k, n_trials = path.diverged.shape
    residual = np.einsum("tnd,ktd->ktn", X, path.betas) - y[None]
    min_norm_norm = _norm(beta_min_norm)
    limit_norm = _norm(beta_limit)
    return pd.DataFrame(
        {
            **{key: value for key, value in labels.items()},
            "trial": np.tile(np.arange(n_trials), k),
            "step": np.repeat(path.steps, n_trials),
            "t": (path.steps[:, None] * eta[None, :]).ravel(),
            "train_loss": (0.5 * np.mean(residual**2, axis=2)).ravel(),
            "rel_dist_min_norm": (_norm(path.betas - beta_min_norm) / min_norm_norm).ravel(),
            "rel_dist_limit": (_norm(path.betas - beta_limit) / limit_norm).ravel(),
            "norm": _norm(path.betas).ravel(),
            "diverged": path.diverged.ravel(),
        }
    )


def simulate_min_norm(params: dict, rng: np.random.Generator):
    """F1a: GD and SGD from zero and from a random ``β₀`` versus ``X⁺y``.

    Parameters
    ----------
    params : dict
        ``n_samples``, ``n_features``, ``noise_std``, ``n_trials``, ``gd_steps``,
        ``sgd_steps``, ``gd_step_fraction`` (of the stability limit ``2/λ_max(XᵀX/n)``),
        ``sgd_step_fraction`` (of ``2/max_i‖x_i‖²``), ``batch_sizes``, ``init_scale``
        (``β₀ ~ N(0, init_scale²/d · I)``), ``n_checkpoints``.

    Returns
    -------
    table : DataFrame
        One row per (algorithm, init, trial, step) with ``t = η·step``, ``train_loss``,
        ``rel_dist_min_norm = ‖β − X⁺y‖/‖X⁺y‖``, ``rel_dist_limit`` (to
        ``β₀ + X⁺(y − Xβ₀)``), ``norm``, ``min_norm_norm = ‖X⁺y‖``,
        ``null_init_norm = ‖P⊥β₀‖`` and ``diverged``.
    arrays : dict
        ``X`` (trials, n, d), ``y`` (trials, n), ``beta0_random`` (trials, d) and the
        final iterate ``final_<algorithm>_<init>`` (trials, d) of every run.

    References
    ----------
    Zhang et al. (2017), §5 (min-norm interpolant); docs/science.md §F1a (nonzero init).
    """
    n, d, trials = params["n_samples"], params["n_features"], params["n_trials"]
    X, y, _ = gaussian_regression(rng, trials, n, d, params["noise_std"])
    beta_min_norm = theory.min_norm_solution(X, y)
    inits = {
        "zero": np.zeros((trials, d)),
        "random": params["init_scale"] / np.sqrt(d) * rng.standard_normal((trials, d)),
    }
    eta_gd = algorithms.stable_step_size(X, params["gd_step_fraction"])
    eta_sgd = algorithms.sgd_stable_step_size(X, params["sgd_step_fraction"])
    gd_checkpoints = log_checkpoints(params["gd_steps"], params["n_checkpoints"])
    sgd_checkpoints = log_checkpoints(params["sgd_steps"], params["n_checkpoints"])
    frames = []
    arrays = {"X": X, "y": y, "beta0_random": inits["random"]}
    for init, beta0 in inits.items():
        limit = theory.min_norm_limit_from(X, y, beta0)
        runs = {"gd": (algorithms.gd_path(X, y, beta0, eta_gd, gd_checkpoints), eta_gd)}
        for b in params["batch_sizes"]:
            path = algorithms.sgd_path(X, y, beta0, eta_sgd, b, sgd_checkpoints, rng)
            runs[f"sgd_b{b}"] = (path, eta_sgd)
        null_norm = _norm(theory.null_space_component(X, beta0))
        for name, (path, eta) in runs.items():
            arrays[f"final_{name}_{init}"] = path.betas[-1]
            rows = _path_rows(path, X, y, limit, beta_min_norm, eta, algorithm=name, init=init)
            rows["min_norm_norm"] = _norm(beta_min_norm)[rows.trial]
            rows["null_init_norm"] = null_norm[rows.trial]
            frames.append(rows)
    table = pd.concat(frames, ignore_index=True)
    return table.assign(n_samples=n, n_features=d), arrays


# ---------------------------------------------------------------------------------------
# F1b


def spectral_coordinates(
    X: np.ndarray, y: np.ndarray, Xbeta_star: np.ndarray, beta_star: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Singular values of X and the data in the right singular basis, via the smaller Gram.

    With the thin SVD ``X = U S Vᵀ``, returns ``s``, ``Uᵀy`` and ``Vᵀβ*`` without forming
    V: if ``n ≤ d`` the ``n × n`` Gram ``XXᵀ = U S² Uᵀ`` gives ``Vᵀβ* = S⁻¹Uᵀ(Xβ*)``;
    otherwise ``XᵀX = V S² Vᵀ`` gives ``Uᵀy = S⁻¹Vᵀ(Xᵀy)``. Directions with
    ``s_i ≤ 1e-10·s_max`` get zero coordinates.

    Parameters
    ----------
    X : ndarray, shape (trials, n, d)
    y : ndarray, shape (trials, n) or (trials, n, m)
        Labels; a trailing axis holds several label vectors per design (e.g. noise levels).
    Xbeta_star : ndarray, shape (trials, n)
    beta_star : ndarray, shape (trials, d)

    Returns
    -------
    s, vb : ndarray, shape (trials, min(n, d))
    uy : ndarray, shape (trials, min(n, d)) or (trials, min(n, d), m)
    """
    n, d = X.shape[1:]
    if n <= d:
        s2, U = np.linalg.eigh(X @ X.transpose(0, 2, 1))
    else:
        s2, V = np.linalg.eigh(X.transpose(0, 2, 1) @ X)
    s = np.sqrt(np.clip(s2, 0.0, None))
    positive = s > s.max(axis=1, keepdims=True) * 1e-10
    inv_s = np.where(positive, 1.0 / np.where(positive, s, 1.0), 0.0)
    inv_s_labels = inv_s.reshape(inv_s.shape + (1,) * (y.ndim - 2))
    if n <= d:
        uy = np.einsum("tnk,tn...->tk...", U, y)
        vb = inv_s * np.einsum("tnk,tn->tk", U, Xbeta_star)
    else:
        uy = inv_s_labels * np.einsum("tdk,td...->tk...", V, np.einsum("tnd,tn...->td...", X, y))
        vb = np.einsum("tdk,td->tk", V, beta_star)
    return np.where(positive, s, 0.0), uy, vb


def filter_risks(
    s, uy, vb, beta_norm2, d, lambdas, n, noise_std, signal_norm
) -> tuple[np.ndarray, np.ndarray]:
    """Realized and given-X expected risks of min-norm (``λ = 0``) and ridge estimators.

    In the right singular basis the estimator with penalty ``λ`` is ``β̂ = V c`` with
    ``c_i = s_i/(s_i² + nλ) · (Uᵀy)_i`` (``1/s_i`` for ``λ = 0``), so
    ``‖β̂ − β*‖² = ‖β*‖² − 2cᵀVᵀβ* + ‖c‖²``. The expected risk given X is
    `theory.expected_filter_risk` with ``φ_i = s_i²/(s_i² + nλ)``.

    Returns
    -------
    risk, expected : ndarray, shape (len(lambdas), trials)
    """
    positive = s > 0
    eig = np.zeros((s.shape[0], d))
    eig[:, : s.shape[1]] = s**2 / n
    inv_s = np.where(positive, 1.0 / np.where(positive, s, 1.0), 0.0)
    risks, expected = [], []
    for lam in lambdas:
        gain = s / (s**2 + n * lam) if lam > 0 else inv_s
        c = gain * uy
        risks.append(beta_norm2 - 2 * np.sum(c * vb, axis=1) + np.sum(c * c, axis=1))
        phi = np.ones_like(eig) if lam == 0 else eig / (eig + lam)
        expected.append(theory.expected_filter_risk(eig, phi, n, signal_norm, noise_std))
    return np.array(risks), np.array(expected)


def seeded_gaussian_design(seed: int, n: int, d: int, signal_norm: float):
    """One dataset of F1b from its own integer seed, in a documented order.

    ``rng = numpy.random.default_rng(seed)``; ``X = rng.standard_normal((n, d))``;
    ``b = rng.standard_normal(d)``, ``β* = r·b/‖b‖`` (uniform on the sphere of radius r);
    ``ε = rng.standard_normal(n)``. The labels at noise level σ are ``y = Xβ* + σε``, so
    anyone can rebuild the data from the seeds kept beside the table.

    Returns
    -------
    X : ndarray, shape (n, d)
    beta_star : ndarray, shape (d,)
    eps : ndarray, shape (n,)
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    b = rng.standard_normal(d)
    eps = rng.standard_normal(n)
    return X, signal_norm * b / np.linalg.norm(b), eps


#: Largest design batch (trials × n × d floats) held at once by `simulate_double_descent`.
DESIGN_BATCH_FLOATS = 2**24


def trial_chunk(n: int, d: int) -> int:
    """Trials per batch so that a batch of designs holds at most `DESIGN_BATCH_FLOATS`."""
    return max(1, DESIGN_BATCH_FLOATS // (n * d))


def design_risks(seeds, n: int, d: int, r: float, sigmas: list[float], lambdas: list[list]):
    """Realized and given-X expected risks on the datasets of ``seeds``, per noise level.

    One spectral decomposition per design serves every noise level: ``Uᵀy`` is linear in
    ``y = Xβ* + σε``.

    Parameters
    ----------
    seeds : array of int, shape (trials,)
    sigmas : list of float
    lambdas : list of list of float
        Penalties per noise level (0 for min-norm).

    Returns
    -------
    list of (risk, expected), one per noise level, each of shape (len(lambdas[j]), trials)
    """
    data = [seeded_gaussian_design(int(s), n, d, r) for s in seeds]
    X = np.stack([x for x, _, _ in data])
    beta_star = np.stack([b for _, b, _ in data])
    eps = np.stack([e for _, _, e in data])
    del data
    signal = np.einsum("tnd,td->tn", X, beta_star)
    y = signal[:, :, None] + eps[:, :, None] * np.asarray(sigmas)[None, None, :]
    s, uy, vb = spectral_coordinates(X, y, signal, beta_star)
    norm2 = np.sum(beta_star**2, axis=1)
    return [
        filter_risks(s, uy[:, :, j], vb, norm2, d, lambdas[j], n, sigma, r)
        for j, sigma in enumerate(sigmas)
    ]


def simulate_double_descent(params: dict, rng: np.random.Generator):
    """F1b: realized risk of the min-norm interpolant and of ridge across ``γ = d/n``.

    For each ``γ`` and trial: ``d = round(γn)``, a dataset from `seeded_gaussian_design`
    (its own seed), and for every noise level σ of ``noise_stds`` the labels
    ``y = Xβ* + σε``. Estimators: min-norm ``X⁺y``, ridge at ``λ* = γσ²/r²`` and at each
    fixed ``λ`` of ``ridge_lambdas``. All noise levels share the designs; designs are
    drawn in batches of bounded memory (`trial_chunk`).

    Parameters
    ----------
    params : dict
        ``n_samples``, ``gamma`` (list), ``noise_stds`` (list), ``signal_norm``,
        ``ridge_lambdas`` (list), ``n_trials``.

    Returns
    -------
    table : DataFrame
        One row per (noise_std, gamma, estimator, trial): ``risk = ‖β̂ − β*‖²`` (the
        realized excess risk for isotropic test points), ``expected_risk`` (its average
        over noise and the prior given X, a second, lower-variance line) and
        ``theory_risk`` (the asymptotic formula at this ``γ``).
    arrays : dict
        ``seeds`` (len(gamma), trials) int64: each dataset's seed; ``gamma``,
        ``n_features``, ``noise_stds``; enough to rebuild every dataset.

    References
    ----------
    Hastie, Montanari, Rosset, Tibshirani (2019), Theorems 1 and 5.
    """
    n, r, trials = params["n_samples"], params["signal_norm"], params["n_trials"]
    sigmas = [float(s) for s in params["noise_stds"]]
    gammas = [float(g) for g in params["gamma"]]
    seeds = rng.integers(0, 2**63 - 1, size=(len(gammas), trials), dtype=np.int64)
    dims = [max(1, round(g * n)) for g in gammas]
    fixed = [float(lam) for lam in params["ridge_lambdas"]]
    names = ["min_norm", "ridge_optimal", *["ridge_fixed"] * len(fixed)]
    frames = []
    progress = Progress(trials * len(dims), "double descent", "trials")
    for done, (gamma_seeds, d) in enumerate(zip(seeds, dims, strict=True)):
        progress.update(done * trials)
        g = d / n
        lambdas = [
            [0.0, float(theory.optimal_ridge_lambda(g, r, sigma)), *fixed] for sigma in sigmas
        ]
        chunk = trial_chunk(n, d)
        batches = [
            design_risks(gamma_seeds[i : i + chunk], n, d, r, sigmas, lambdas)
            for i in range(0, trials, chunk)
        ]
        for j, sigma in enumerate(sigmas):
            risk = np.concatenate([b[j][0] for b in batches], axis=1)
            expected = np.concatenate([b[j][1] for b in batches], axis=1)
            theories = [
                float(theory.ridgeless_risk(g, r, sigma)),
                *(float(theory.ridge_risk(lam, g, r, sigma)) for lam in lambdas[j][1:]),
            ]
            for i, (name, lam) in enumerate(zip(names, lambdas[j], strict=True)):
                frames.append(
                    pd.DataFrame(
                        {
                            "noise_std": sigma,
                            "gamma": g,
                            "n_features": d,
                            "estimator": name,
                            "ridge_lambda": lam,
                            "trial": np.arange(trials),
                            "risk": risk[i],
                            "expected_risk": expected[i],
                            "theory_risk": theories[i],
                        }
                    )
                )
    table = pd.concat(frames, ignore_index=True).assign(n_samples=n, signal_norm=r)
    arrays = {
        "seeds": seeds,
        "gamma": np.array(gammas),
        "n_features": np.array(dims),
        "noise_stds": np.array(sigmas),
    }
    return table, arrays


# ---------------------------------------------------------------------------------------
# F1c


def simulate_early_stopping(params: dict, rng: np.random.Generator):
    """F1c: gradient descent stopped at ``t = ηk`` against ridge at ``λ = 1/t``, on draws.

    For each sample size n and trial: a design X with ``N(0, 1)`` entries; ``n_draws``
    draws of ``β* ~ N(0, (r²/d)I)`` and ``ε ~ N(0, σ²I)``, ``y = Xβ* + ε``. Gradient
    descent from zero runs on every draw (`algorithms.gd_gram_path`) with
    ``η = step_fraction/max_trials λ_max(XᵀX/n)`` (one step for all trials, so ``t``
    is shared), and ridge at ``λ = 1/t`` is fitted on the same draws. Realized risks
    ``‖β̂ − β*‖²`` (isotropic test points) are averaged over the draws. Beside them the
    closed-form expected risks given X: GD's (filter ``1 − (1 − ηs)^k``), the flow's
    (``1 − e^{−ts}``) and ridge's.

    Parameters
    ----------
    params : dict
        ``n_samples`` (a list: n > d and n < d, all in one job), ``n_features``,
        ``noise_std``, ``signal_norm``, ``n_trials``, ``n_draws``, ``step_fraction``,
        ``t_max``, ``n_checkpoints``.

    Returns
    -------
    table : DataFrame
        One row per (n_samples, trial, step): ``t``, ``eta``, ``risk_gd`` and
        ``risk_ridge_draws`` (draw means of the realized risks), ``risk_gd_se`` (their
        standard error over draws), ``risk_ratio_gd = risk_gd/risk_ridge_draws``,
        ``expected_risk_gd`` (closed form for GD), ``risk_gf``, ``risk_ridge`` and
        ``risk_ratio = risk_gf/risk_ridge`` (closed forms for the flow and ridge).
    arrays : dict
        Per n: ``X_n<n>`` (trials, n, d), ``beta_star_n<n>`` (trials, d, draws),
        ``noise_n<n>`` (trials, n, draws) and ``eta_n<n>``.

    References
    ----------
    Ali, Kolter, Tibshirani (2019), Theorem 1 and Lemma 2 (early stopping vs ridge).
    """
    d, trials, draws = params["n_features"], params["n_trials"], params["n_draws"]
    sigma, r = params["noise_std"], params["signal_norm"]
    frames, arrays = [], {}
    for n in (int(v) for v in np.atleast_1d(params["n_samples"])):
        X = rng.standard_normal((trials, n, d))
        beta_star = rng.standard_normal((trials, d, draws)) * (r / np.sqrt(d))
        noise = sigma * rng.standard_normal((trials, n, draws))
        Y = X @ beta_star + noise
        gram = X.transpose(0, 2, 1) @ X / n
        moment = X.transpose(0, 2, 1) @ Y / n
        s, V = np.linalg.eigh(gram)
        s = np.clip(s, 0.0, None)
        eta = params["step_fraction"] / float(s.max())
        n_steps = int(np.ceil(params["t_max"] / eta))
        steps = log_checkpoints(n_steps, params["n_checkpoints"])[1:]
        times = eta * steps
        path = algorithms.gd_gram_path(gram, moment, eta, steps)  # (k, trials, d, draws)
        risk_gd = np.sum((path - beta_star[None]) ** 2, axis=2)  # (k, trials, draws)
        # Ridge on the same draws, in the eigenbasis of XᵀX/n: c̃_i/(s_i + λ) − (Vᵀβ*)_i.
        coef = V.transpose(0, 2, 1) @ moment  # (trials, d, draws)
        target = V.transpose(0, 2, 1) @ beta_star
        lam = 1.0 / times[:, None, None, None]
        risk_ridge = np.sum((coef[None] / (s[None, :, :, None] + lam) - target[None]) ** 2, axis=2)
        eig = s[None, :, :]  # (1, trials, d) against times (k, 1, 1)
        tt = times[:, None, None]
        expected_gd = theory.expected_filter_risk(
            eig, theory.gradient_descent_filter(eig, eta, steps[:, None, None]), n, r, sigma
        )
        gf = theory.expected_filter_risk(eig, theory.gradient_flow_filter(eig, tt), n, r, sigma)
        ridge = theory.expected_filter_risk(eig, theory.ridge_filter(eig, 1.0 / tt), n, r, sigma)
        mean_gd, mean_ridge = risk_gd.mean(axis=2), risk_ridge.mean(axis=2)
        frames.append(
            pd.DataFrame(
                {
                    "n_samples": n,
                    "n_features": d,
                    "trial": np.tile(np.arange(trials), len(steps)),
                    "step": np.repeat(steps, trials),
                    "t": np.repeat(times, trials),
                    "eta": eta,
                    "step_fraction": params["step_fraction"],
                    "n_draws": draws,
                    "risk_gd": mean_gd.ravel(),
                    "risk_gd_se": (risk_gd.std(axis=2, ddof=1) / np.sqrt(draws)).ravel(),
                    "risk_ridge_draws": mean_ridge.ravel(),
                    "risk_ratio_gd": (mean_gd / mean_ridge).ravel(),
                    "expected_risk_gd": expected_gd.ravel(),
                    "risk_gf": gf.ravel(),
                    "risk_ridge": ridge.ravel(),
                    "risk_ratio": (gf / ridge).ravel(),
                    "diverged": (~np.isfinite(path).all(axis=(2, 3))).ravel(),
                }
            )
        )
        arrays.update(
            {
                f"X_n{n}": X,
                f"beta_star_n{n}": beta_star,
                f"noise_n{n}": noise,
                f"eta_n{n}": np.array(eta),
            }
        )
    return pd.concat(frames, ignore_index=True), arrays
