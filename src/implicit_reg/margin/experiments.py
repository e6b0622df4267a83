"""One function per experiment of the margin family: params + rng → tidy table."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import log_expit

from implicit_reg.margin.algorithms import (
    descent_path,
    log_total_loss,
    perceptron,
    smoothness,
)
from implicit_reg.margin.data import gaussian_classes, planted_separable, soudry_2d
from implicit_reg.margin.svm import hard_margin_svm
from implicit_reg.schedule import log_checkpoints

ALGORITHMS = ("gd", "momentum", "normalized")


def margin_metrics(z: np.ndarray, w: np.ndarray, w_hat: np.ndarray, t: np.ndarray) -> dict:
    """Distances of iterates to the max-margin solution.

    - angle gap ``‖w/‖w‖ − ŵ/‖ŵ‖‖``;
    - margin gap ``γ̄ − γ(w)`` with ``γ(w) = min_i z_iᵀw/‖w‖`` and ``γ̄ = 1/‖ŵ‖``;
    - residual ``‖w(t) − ŵ log t‖`` (``log max(t, 1)``, so 0 at ``t = 0``).

    At ``w = 0`` the direction is undefined: both gaps are reported as NaN there.

    Parameters
    ----------
    z : ndarray, shape (b, n, d)
    w : ndarray, shape (c, b, d)
        Iterates at ``c`` checkpoints.
    w_hat : ndarray, shape (b, d)
    t : ndarray, shape (c,)

    Returns
    -------
    dict of ndarray, shape (c, b)
        ``norm_w``, ``angle_gap``, ``margin_gap``, ``residual_norm``.

    References
    ----------
    Soudry et al. (2018), eqs. (3), (12), (13).
    """
    norm = np.linalg.norm(w, axis=2)
    safe = np.where(norm > 0, norm, np.nan)
    hat_norm = np.linalg.norm(w_hat, axis=1)
    unit = w / safe[..., None]
    angle = np.linalg.norm(unit - (w_hat / hat_norm[:, None])[None], axis=2)
    margin = np.einsum("bnd,cbd->cbn", z, w).min(axis=2) / safe
    residual = np.linalg.norm(w - w_hat[None] * np.log(np.maximum(t, 1.0))[:, None, None], axis=2)
    return {
        "norm_w": norm,
        "angle_gap": angle,
        "margin_gap": 1.0 / hat_norm[None] - margin,
        "residual_norm": residual,
    }


def _soudry_data(params: dict, rng: np.random.Generator) -> np.ndarray:
    if params["dataset"] == "soudry_2d":
        return soudry_2d(rng, params["n_trials"], params["n_extra"], params["extra_margin"])
    z, _ = planted_separable(
        rng, params["n_trials"], params["n_samples"], params["dim"], params["planted_margin"]
    )
    return z


def simulate_soudry(params: dict, rng: np.random.Generator) -> pd.DataFrame:
    """F2a: GD, momentum and normalized GD on one dataset family and loss.

    Steps: constant-step GD ``η = eta_scale/(β σ_max²)`` (β = ¼ logistic, 1
    exponential); heavy ball with momentum ``μ`` and step ``(1 − μ)η``, whose effective
    step ``(1 − μ)η/(1 − μ) = η`` equals GD's, so both run on the same time scale (with
    step η the heavy ball overshoots and sits in a plateau for decades of t);
    normalized GD ``w ← w − η_N ∇L/L``
    with ``η_N = normalized_step/max_i‖z_i‖²`` (GD on ``log L``, whose Hessian is a
    covariance of the ``z_i`` and so bounded by ``max‖z_i‖²``). All three algorithms and
    all trials run as one batch.

    Parameters
    ----------
    params : dict
        ``dataset`` ("soudry_2d" or "random"), ``loss``, ``n_trials``, ``n_steps``
        (mapping dataset → number of steps),
        ``n_checkpoints``, ``eta_scale``, ``momentum``, ``normalized_step``, ``n_extra``,
        ``extra_margin`` (2-D), ``n_samples``, ``dim``, ``planted_margin`` (random).
    rng : numpy.random.Generator

    Returns
    -------
    DataFrame
        One row per (algorithm, trial, checkpoint); ``t`` is the iteration count, as in
        Soudry et al. Theorem 3.

    References
    ----------
    Soudry et al. (2018), Theorem 3 and Fig. 1; Nacson et al. (2019).
    """
    loss = params["loss"]
    z = _soudry_data(params, rng)
    n_trials, n_samples, dim = z.shape
    svms = [hard_margin_svm(zi) for zi in z]
    w_hat = np.stack([s.w for s in svms])
    eta_gd = params["eta_scale"] / smoothness(z, loss)
    mu = params["momentum"]
    eta_norm = params["normalized_step"] / np.max(np.sum(z**2, axis=2), axis=1)
    batch = np.concatenate([z, z, z])
    eta = np.concatenate([eta_gd, (1.0 - mu) * eta_gd, eta_norm])
    momentum = np.repeat([0.0, mu, 0.0], n_trials)
    normalized = np.repeat([False, False, True], n_trials)
    steps = log_checkpoints(params["n_steps"][params["dataset"]], params["n_checkpoints"])
    w, diverged = descent_path(batch, loss, eta, momentum, normalized, steps)
    w_hat_b = np.concatenate([w_hat] * 3)
    metrics = margin_metrics(batch, w, w_hat_b, steps.astype(float))
    margins = np.einsum("bnd,cbd->cbn", batch, w)
    log_loss = log_total_loss(margins, loss)
    c, b = log_loss.shape
    frame = {
        "dataset": params["dataset"],
        "loss": loss,
        "algorithm": np.repeat(ALGORITHMS, n_trials)[None].repeat(c, 0).ravel(),
        "trial": np.tile(np.arange(n_trials), 3)[None].repeat(c, 0).ravel(),
        "step": steps.repeat(b),
        "n_samples": n_samples,
        "dim": dim,
        "eta": np.tile(eta, c),
        "svm_norm": np.tile(np.linalg.norm(w_hat_b, axis=1), c),
        "kkt_residual": np.tile([s.kkt_residual for s in svms] * 3, c),
        "log_train_loss": log_loss.ravel(),
        "train_loss": np.exp(log_loss).ravel(),
        **{k: v.ravel() for k, v in metrics.items()},
        "diverged": diverged.ravel(),
    }
    table = pd.DataFrame(frame)
    table["t"] = table["step"].astype(float)
    return table.astype({"dataset": "string", "loss": "string", "algorithm": "string"})


def simulate_perceptron(params: dict, rng: np.random.Generator) -> pd.DataFrame:
    """F2b: perceptron updates against the Block–Novikoff bound on random datasets.

    Parameters
    ----------
    params : dict
        ``n_datasets``, ``n_samples``, ``dim``, ``planted_margin`` (a list: every
        margin's datasets are drawn and run in the same job), ``max_updates``.
    rng : numpy.random.Generator

    Returns
    -------
    DataFrame
        One row per dataset (``trial``): ``radius`` R = max‖x_i‖, ``gamma_planted`` =
        min_i y_i w*ᵀx_i, ``svm_margin`` γ̄ = 1/‖ŵ‖, ``updates``, ``bound`` = (R/γ)²
        with the planted margin, ``bound_svm`` = (R/γ̄)², ``converged``.

    References
    ----------
    Block (1962), Novikoff (1962); seed 003, Theorem 1 (without bias: k ≤ (R/γ)²).
    """
    frames = []
    for margin in np.atleast_1d(params["planted_margin"]):
        z, w_star = planted_separable(
            rng, params["n_datasets"], params["n_samples"], params["dim"], float(margin)
        )
        _, updates, converged = perceptron(z, params["max_updates"])
        radius = np.linalg.norm(z, axis=2).max(axis=1)
        gamma = np.einsum("bnd,bd->bn", z, w_star).min(axis=1)
        svm_margin = np.array([hard_margin_svm(zi).margin for zi in z])
        frames.append(
            pd.DataFrame(
                {
                    "trial": np.arange(len(z)),
                    "n_samples": params["n_samples"],
                    "dim": params["dim"],
                    "planted_margin": float(margin),
                    "radius": radius,
                    "gamma_planted": gamma,
                    "svm_margin": svm_margin,
                    "updates": updates,
                    "bound": (radius / gamma) ** 2,
                    "bound_svm": (radius / svm_margin) ** 2,
                    "converged": converged,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def separable_gaussian_trials(params: dict, rng: np.random.Generator) -> np.ndarray:
    """Training sets of `gaussian_classes` kept only when separable through the origin.

    Draws are repeated (from the same generator, so the result is reproducible) until
    ``n_trials`` separable sets are found; separability is decided by the exact SVM
    solver. Raises after ``100·n_trials`` draws.
    """
    kept = []
    for _ in range(100 * params["n_trials"]):
        z = gaussian_classes(
            rng,
            1,
            params["n_train"],
            params["dim"],
            params["separation"],
            params["nuisance_dims"],
            params["nuisance_scale"],
        )[0]
        try:
            hard_margin_svm(z)
        except ValueError:
            continue
        kept.append(z)
        if len(kept) == params["n_trials"]:
            return np.stack(kept)
    raise ValueError("could not draw separable training sets; increase dim or separation")


def simulate_test_loss(params: dict, rng: np.random.Generator) -> pd.DataFrame:
    """F2c: test loss and test 0–1 error along constant-step GD on the logistic loss.

    GD from 0 with ``η = eta_scale/(¼ σ_max²)`` on a separable training set; the test
    loss is the mean logistic loss ``mean_j log(1 + e^{−z_jᵀw})`` and the test error the
    fraction of ``z_jᵀw ≤ 0`` over a fresh test set from the same distribution.

    Returns
    -------
    DataFrame
        One row per (trial, checkpoint).

    References
    ----------
    Soudry et al. (2018), Fig. 2 and §1.
    """
    z = separable_gaussian_trials(params, rng)
    z_test = gaussian_classes(
        rng,
        params["n_trials"],
        params["n_test"],
        params["dim"],
        params["separation"],
        params["nuisance_dims"],
        params["nuisance_scale"],
    )
    n_trials = len(z)
    eta = params["eta_scale"] / smoothness(z, "logistic")
    steps = log_checkpoints(params["n_steps"], params["n_checkpoints"])
    w, diverged = descent_path(
        z, "logistic", eta, np.zeros(n_trials), np.zeros(n_trials, dtype=bool), steps
    )
    test_margins = np.einsum("bnd,cbd->cbn", z_test, w)
    train_margins = np.einsum("bnd,cbd->cbn", z, w)
    c = len(steps)
    table = pd.DataFrame(
        {
            "trial": np.tile(np.arange(n_trials), c),
            "step": steps.repeat(n_trials),
            "n_train": params["n_train"],
            "dim": params["dim"],
            "separation": float(params["separation"]),
            "train_loss": (-log_expit(train_margins)).mean(axis=2).ravel(),
            "test_loss": (-log_expit(test_margins)).mean(axis=2).ravel(),
            "test_error": (test_margins <= 0).mean(axis=2).ravel(),
            "norm_w": np.linalg.norm(w, axis=2).ravel(),
            "diverged": diverged.ravel(),
        }
    )
    table["t"] = table["step"].astype(float)
    return table
