"""The three risk experiments: one function per experiment, returning a tidy table.

Each function runs every trial of one grid point at once (leading trial axis).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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


def simulate_min_norm(params: dict, rng: np.random.Generator) -> pd.DataFrame:
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
    DataFrame
        One row per (algorithm, init, trial, step) with ``t = η·step``, ``train_loss``,
        ``rel_dist_min_norm = ‖β − X⁺y‖/‖X⁺y‖``, ``rel_dist_limit`` (to
        ``β₀ + X⁺(y − Xβ₀)``), ``norm``, ``min_norm_norm = ‖X⁺y‖``,
        ``null_init_norm = ‖P⊥β₀‖`` and ``diverged``.

    References
    ----------
    Seed 001 §9.1, seed 003 (min-norm interpolant); seed 002 part 3 Lemma 1 (nonzero init).
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
    for init, beta0 in inits.items():
        limit = theory.min_norm_limit_from(X, y, beta0)
        runs = {"gd": (algorithms.gd_path(X, y, beta0, eta_gd, gd_checkpoints), eta_gd)}
        for b in params["batch_sizes"]:
            path = algorithms.sgd_path(X, y, beta0, eta_sgd, b, sgd_checkpoints, rng)
            runs[f"sgd_b{b}"] = (path, eta_sgd)
        null_norm = _norm(theory.null_space_component(X, beta0))
        for name, (path, eta) in runs.items():
            rows = _path_rows(path, X, y, limit, beta_min_norm, eta, algorithm=name, init=init)
            rows["min_norm_norm"] = _norm(beta_min_norm)[rows.trial]
            rows["null_init_norm"] = null_norm[rows.trial]
            frames.append(rows)
    table = pd.concat(frames, ignore_index=True)
    return table.assign(n_samples=n, n_features=d)


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
    y, Xbeta_star : ndarray, shape (trials, n)
    beta_star : ndarray, shape (trials, d)

    Returns
    -------
    s, uy, vb : ndarray, shape (trials, min(n, d))
    """
    n, d = X.shape[1:]
    if n <= d:
        s2, U = np.linalg.eigh(X @ X.transpose(0, 2, 1))
    else:
        s2, V = np.linalg.eigh(X.transpose(0, 2, 1) @ X)
    s = np.sqrt(np.clip(s2, 0.0, None))
    positive = s > s.max(axis=1, keepdims=True) * 1e-10
    inv_s = np.where(positive, 1.0 / np.where(positive, s, 1.0), 0.0)
    if n <= d:
        uy = np.einsum("tnk,tn->tk", U, y)
        vb = inv_s * np.einsum("tnk,tn->tk", U, Xbeta_star)
    else:
        uy = inv_s * np.einsum("tdk,td->tk", V, np.einsum("tnd,tn->td", X, y))
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


def simulate_double_descent(params: dict, rng: np.random.Generator) -> pd.DataFrame:
    """F1b: risk of the min-norm interpolant and of ridge across ``γ = d/n``.

    For each ``γ``: ``d = round(γn)``, ``X`` with ``N(0, 1)`` entries, ``β*`` uniform on
    the sphere of radius ``r``, ``y = Xβ* + σε``. Estimators: min-norm ``X⁺y``, ridge at
    ``λ* = γσ²/r²`` and at each fixed ``λ`` of ``ridge_lambdas``.

    Parameters
    ----------
    params : dict
        ``n_samples``, ``gamma`` (list), ``noise_std``, ``signal_norm``,
        ``ridge_lambdas`` (list), ``n_trials``.

    Returns
    -------
    DataFrame
        One row per (gamma, estimator, trial): ``risk = ‖β̂ − β*‖²`` (isotropic test
        points), ``expected_risk`` (its average over noise and the prior given X, a
        lower-variance estimate of the same mean), and ``theory_risk`` (the asymptotic
        formula at this ``γ``).

    References
    ----------
    Hastie, Montanari, Rosset, Tibshirani (2019), Theorems 1 and 5.
    """
    n, sigma, r = params["n_samples"], params["noise_std"], params["signal_norm"]
    trials = params["n_trials"]
    frames = []
    for gamma in params["gamma"]:
        d = max(1, round(gamma * n))
        g = d / n
        X = rng.standard_normal((trials, n, d))
        beta_star = sphere(rng, (trials, d), r)
        signal = np.einsum("tnd,td->tn", X, beta_star)
        y = signal + sigma * rng.standard_normal((trials, n))
        s, uy, vb = spectral_coordinates(X, y, signal, beta_star)
        lam_star = float(theory.optimal_ridge_lambda(g, r, sigma))
        fixed = list(params["ridge_lambdas"])
        lambdas = [0.0, lam_star, *fixed]
        risk, expected = filter_risks(
            s, uy, vb, np.sum(beta_star**2, axis=1), d, lambdas, n, sigma, r
        )
        names = ["min_norm", "ridge_optimal", *["ridge_fixed"] * len(fixed)]
        theories = [
            float(theory.ridgeless_risk(g, r, sigma)),
            *(float(theory.ridge_risk(lam, g, r, sigma)) for lam in lambdas[1:]),
        ]
        for i, (name, lam) in enumerate(zip(names, lambdas, strict=True)):
            frames.append(
                pd.DataFrame(
                    {
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
    return pd.concat(frames, ignore_index=True).assign(
        n_samples=n, noise_std=sigma, signal_norm=r
    )


# ---------------------------------------------------------------------------------------
# F1c


def simulate_early_stopping(params: dict, rng: np.random.Generator) -> pd.DataFrame:
    """F1c: expected risk of gradient flow at time ``t`` and of ridge at ``λ = 1/t``.

    For each trial ``X`` has ``N(0, 1)`` entries; the risks are the closed-form averages
    over noise and the isotropic prior given X (`theory.expected_filter_risk`) with
    filters ``1 − e^{−ts}`` and ``s/(s + 1/t)``.

    Parameters
    ----------
    params : dict
        ``n_samples`` (a list, n > d and n < d, all in one job), ``n_features``,
        ``noise_std``, ``signal_norm``, ``n_trials``, ``t_min``, ``t_max``, ``n_times``.

    Returns
    -------
    DataFrame
        One row per (trial, t): ``risk_gf``, ``risk_ridge``, ``risk_ratio``.

    References
    ----------
    Ali, Kolter, Tibshirani (2019), Theorem 1; seed 003 (early stopping vs ridge).
    """
    d, trials = params["n_features"], params["n_trials"]
    sigma, r = params["noise_std"], params["signal_norm"]
    times = np.geomspace(params["t_min"], params["t_max"], params["n_times"])
    frames = []
    for n in np.atleast_1d(params["n_samples"]):
        X = rng.standard_normal((trials, int(n), d))
        s = np.linalg.eigvalsh(X.transpose(0, 2, 1) @ X / n)
        s = np.clip(s, 0.0, None)[:, None, :]  # (trials, 1, d): broadcast over times
        tt = times[None, :, None]
        gf = theory.expected_filter_risk(s, theory.gradient_flow_filter(s, tt), n, r, sigma)
        ridge = theory.expected_filter_risk(s, theory.ridge_filter(s, 1.0 / tt), n, r, sigma)
        frames.append(
            pd.DataFrame(
                {
                    "n_samples": int(n),
                    "n_features": d,
                    "trial": np.repeat(np.arange(trials), len(times)),
                    "t": np.tile(times, trials),
                    "risk_gf": gf.ravel(),
                    "risk_ridge": ridge.ravel(),
                    "risk_ratio": (gf / ridge).ravel(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
