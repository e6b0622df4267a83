"""One function per experiment of the margin family: params + rng → tidy table."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import log_expit

from implicit_reg.experiment import Experiment
from implicit_reg.margin.algorithms import (
    descent_path,
    log_total_loss,
    perceptron,
    smoothness,
)
from implicit_reg.margin.data import (
    SOUDRY_ALPHA,
    SOUDRY_W_HAT,
    alternating_labels,
    gaussian_classes,
    planted_dual,
    planted_separable,
    soudry_2d,
    soudry_labels,
)
from implicit_reg.margin.exact import (
    hard_margin_svm,
    residual_rate,
    soudry_offset,
    symmetric_duals,
)
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


def soudry_data(
    params: dict, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Signed samples, planted max-margin vectors and planted duals of one ``soudry`` job.

    Returns
    -------
    z : ndarray, shape (n_trials, n, d)
    w_hat : ndarray, shape (n_trials, d)
    alpha : ndarray, shape (n_trials, n)
    """
    trials, n_extra = params["n_trials"], params["n_extra"]
    if params["dataset"] == "soudry_2d":
        z = soudry_2d(rng, trials, n_extra, params["extra_margin"])
        alpha = np.concatenate([SOUDRY_ALPHA, np.zeros(2 * n_extra)])
        return z, np.tile(SOUDRY_W_HAT, (trials, 1)), np.tile(alpha, (trials, 1))
    return planted_dual(
        rng,
        trials,
        params["dim"],
        params["planted_margin"],
        n_extra,
        params["extra_margin"],
        params["dual_spread"],
    )


def soudry_labels_for(params: dict, n_samples: int) -> np.ndarray:
    """Labels ``y`` of the rows of `soudry_data` (the data are generated as ``z = y x``)."""
    if params["dataset"] == "soudry_2d":
        return soudry_labels(params["n_extra"])
    return alternating_labels(n_samples)


def soudry_rows(losses, n_trials: int) -> pd.DataFrame:
    """Layout of the batch: GD and heavy ball per loss, then normalized GD per loss.

    Constant steps first, normalized GD last.
    """
    runs = [(loss, a) for loss in losses for a in ("gd", "momentum")]
    runs += [(loss, "normalized") for loss in losses]
    return pd.DataFrame(
        [(loss, a, trial) for loss, a in runs for trial in range(n_trials)],
        columns=["loss", "algorithm", "trial"],
    )


def _per_row(values: dict, rows: pd.DataFrame) -> np.ndarray:
    """``values[loss][trial]`` for every batch row."""
    return np.array([values[loss][k] for loss, k in zip(rows["loss"], rows["trial"], strict=True)])


def simulate_soudry(params: dict, rng: np.random.Generator) -> tuple[pd.DataFrame, dict]:
    """F2a: GD, momentum and normalized GD on one dataset family, every loss in one batch.

    Steps: constant-step GD ``η = eta_scale/(β σ_max²)`` (β = ¼ logistic, 1
    exponential); heavy ball with momentum ``μ`` and step ``(1 − μ)η``, whose effective
    step ``(1 − μ)η/(1 − μ) = η`` equals GD's, so both run on the same time scale and
    share the asymptote (with step η the heavy ball overshoots and sits in a plateau for
    decades of t); normalized GD ``w ← w − η_N ∇L/L`` with
    ``η_N = normalized_step/max_i‖z_i‖²`` (GD on ``log L``, whose Hessian is a
    covariance of the ``z_i`` and so bounded by ``max‖z_i‖²``). All algorithms, losses
    and trials run as one batch (`soudry_rows`).

    Exact references, per trial: the hard-margin SVM (ŵ, α) by `hard_margin_svm`,
    compared with the planted ones; per trial and loss, the offset w̃ of the asymptote
    ``w(t) = ŵ log t + w̃ + o(1)`` (`soudry_offset`) and the rate ν of its residual
    (`residual_rate`).

    Parameters
    ----------
    params : dict
        ``dataset`` ("soudry_2d" or "random"), ``losses``, ``n_trials``, ``n_steps``
        (mapping dataset → number of steps), ``n_checkpoints``, ``eta_scale``,
        ``momentum``, ``normalized_step``, ``n_extra``, ``extra_margin``, and for the
        random datasets ``dim``, ``planted_margin``, ``dual_spread``.
    rng : numpy.random.Generator

    Returns
    -------
    table : DataFrame
        One row per (loss, algorithm, trial, checkpoint); ``t`` is the iteration count,
        as in Soudry et al. Theorem 3. Columns of the asymptote (``asymptote_*``,
        ``offset_residual``, ``residual_rate``) are NaN for normalized GD, which has no
        such asymptote.
    arrays : dict of ndarray
        ``X``, ``y`` (trials, n, d), (trials, n); ``w_hat``, ``alpha`` (solver) and
        ``w_hat_planted``, ``alpha_planted``; ``losses`` and ``w_tilde`` (losses, trials,
        d); per batch row ``row_loss``, ``row_algorithm``, ``row_trial``, ``eta``,
        ``momentum``; ``steps`` (c,); ``w_path`` (c, rows, d) and ``w_final`` (rows, d).

    References
    ----------
    Soudry et al. (2018), Theorem 3 and Fig. 1; Nacson et al. (2019); Ji & Telgarsky
    (2021).
    """
    losses = list(params["losses"])
    z, w_planted, alpha_planted = soudry_data(params, rng)
    n_trials, n_samples, dim = z.shape
    svms = [hard_margin_svm(zi) for zi in z]
    w_hat = np.stack([s.w for s in svms])
    alpha = np.stack([symmetric_duals(zi, s.alpha) for zi, s in zip(z, svms, strict=True)])
    planted_error = np.maximum(
        np.abs(w_hat - w_planted).max(axis=1), np.abs(alpha - alpha_planted).max(axis=1)
    )
    eta_gd = {loss: params["eta_scale"] / smoothness(z, loss) for loss in losses}
    offsets = {
        loss: [soudry_offset(zi, ai, e) for zi, ai, e in zip(z, alpha, eta_gd[loss], strict=True)]
        for loss in losses
    }
    nu = np.array([residual_rate(zi, wi, ai) for zi, wi, ai in zip(z, w_hat, alpha, strict=True)])

    rows = soudry_rows(losses, n_trials)
    trial = rows["trial"].to_numpy()
    row_loss = rows["loss"].to_numpy(dtype=str)
    constant = (rows["algorithm"] != "normalized").to_numpy()
    mu = np.where(rows["algorithm"] == "momentum", params["momentum"], 0.0)
    eta_norm = params["normalized_step"] / np.max(np.sum(z**2, axis=2), axis=1)
    eta = np.where(constant, (1.0 - mu) * _per_row(eta_gd, rows), eta_norm[trial])
    batch = z[trial]
    steps = log_checkpoints(params["n_steps"][params["dataset"]], params["n_checkpoints"])
    t = steps.astype(float)
    w, diverged = descent_path(batch, row_loss, eta, mu, ~constant, steps)

    metrics = margin_metrics(batch, w, w_hat[trial], t)
    w_tilde = {loss: [o[0] for o in offsets[loss]] for loss in losses}
    w_inf = w_hat[trial][None] * np.log(np.maximum(t, 1.0))[:, None, None]
    w_inf = w_inf + _per_row(w_tilde, rows)[None]
    asymptote = margin_metrics(batch, w_inf, w_hat[trial], t)
    hidden = np.where(constant, 1.0, np.nan)
    svm_norm = np.linalg.norm(w_hat, axis=1)[trial]
    log_loss = np.stack(
        [
            log_total_loss(np.einsum("nd,cd->cn", batch[row], w[:, row]), row_loss[row])
            for row in range(len(rows))
        ],
        axis=1,
    )
    c, b = log_loss.shape
    per_row = {
        "eta": eta,
        "svm_norm": svm_norm,
        "kkt_residual": np.array([s.kkt_residual for s in svms])[trial],
        "svm_planted_error": planted_error[trial],
        "offset_residual": hidden
        * _per_row({k: [o[1] for o in v] for k, v in offsets.items()}, rows),
        "residual_rate": hidden * nu[trial],
    }
    frame = {
        "dataset": params["dataset"],
        **{k: np.tile(rows[k].to_numpy(), c) for k in ("loss", "algorithm", "trial")},
        "step": steps.repeat(b),
        "n_samples": n_samples,
        "dim": dim,
        **{k: np.tile(v, c) for k, v in per_row.items()},
        "log_train_loss": log_loss.ravel(),
        "train_loss": np.exp(log_loss).ravel(),
        **{k: v.ravel() for k, v in metrics.items()},
        "asymptote_residual": (np.linalg.norm(w - w_inf, axis=2) * hidden).ravel(),
        "asymptote_log_time": (asymptote["norm_w"] / svm_norm * hidden).ravel(),
        "asymptote_angle_gap": (asymptote["angle_gap"] * hidden).ravel(),
        "asymptote_margin_gap": (asymptote["margin_gap"] * hidden).ravel(),
        "diverged": diverged.ravel(),
    }
    table = pd.DataFrame(frame)
    table["t"] = t.repeat(b)
    table = table.astype({"dataset": "string", "loss": "string", "algorithm": "string"})
    y = soudry_labels_for(params, n_samples)
    arrays = {
        "X": y[None, :, None] * z,
        "y": np.tile(y, (n_trials, 1)),
        "w_hat": w_hat,
        "alpha": alpha,
        "w_hat_planted": w_planted,
        "alpha_planted": alpha_planted,
        "losses": np.array(losses),
        "w_tilde": np.array([w_tilde[loss] for loss in losses]),
        "row_loss": row_loss,
        "row_algorithm": rows["algorithm"].to_numpy(dtype=str),
        "row_trial": trial,
        "eta": eta,
        "momentum": mu,
        "steps": steps,
        "w_path": w,
        "w_final": w[-1],
    }
    return table, arrays


def simulate_perceptron(params: dict, rng: np.random.Generator):
    """F2b: perceptron updates against the Block–Novikoff bound on random datasets.

    Parameters
    ----------
    params : dict
        ``n_datasets``, ``n_samples``, ``dim``, ``planted_margin`` (a list: every
        margin's datasets are drawn and run in the same job), ``max_updates``.
    rng : numpy.random.Generator

    Returns
    -------
    table : DataFrame
        One row per dataset (``trial``): ``radius`` R = max‖x_i‖, ``gamma_planted`` =
        min_i y_i w*ᵀx_i, ``svm_margin`` γ̄ = 1/‖ŵ‖, ``updates``, ``bound`` = (R/γ)²
        with the planted margin, ``bound_svm`` = (R/γ̄)², ``converged``.
    arrays : dict
        Per planted margin γ (index i in ``planted_margins``): the signed samples
        ``z_<i>`` = y_i x_i (datasets, n, d), the planted unit separators ``w_star_<i>``
        and the perceptron's ``updates_<i>``.

    References
    ----------
    Block (1962), Novikoff (1962) (without bias: k ≤ (R/γ)²).
    """
    frames = []
    margins = np.atleast_1d(params["planted_margin"]).astype(float)
    arrays = {"planted_margins": margins}
    for i, margin in enumerate(margins):
        z, w_star = planted_separable(
            rng, params["n_datasets"], params["n_samples"], params["dim"], float(margin)
        )
        _, updates, converged = perceptron(z, params["max_updates"])
        arrays.update({f"z_{i}": z, f"w_star_{i}": w_star, f"updates_{i}": updates})
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
    return pd.concat(frames, ignore_index=True), arrays


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


def simulate_test_loss(params: dict, rng: np.random.Generator):
    """F2c: test loss and test 0–1 error along constant-step GD on the logistic loss.

    GD from 0 with ``η = eta_scale/(¼ σ_max²)`` on a separable training set; the test
    loss is the mean logistic loss ``mean_j log(1 + e^{−z_jᵀw})`` and the test error the
    fraction of ``z_jᵀw ≤ 0`` over a fresh test set from the same distribution.

    Returns
    -------
    table : DataFrame
        One row per (trial, checkpoint).
    arrays : dict
        The signed training samples ``z_train`` (trials, n_train, d), the test samples
        ``z_test`` (trials, n_test, d, float32 to keep the file small), the step ``eta``,
        the ``steps`` and the iterates ``w_path`` (checkpoints, trials, d).

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
    # One checkpoint at a time: the test margins of every checkpoint at once would take
    # checkpoints × trials × n_test floats (0.5 GB at the paper's sizes).
    test_loss, test_error = np.empty((2, len(steps), n_trials))
    for k, w_k in enumerate(w):
        margins = np.einsum("bnd,bd->bn", z_test, w_k)
        test_loss[k] = -log_expit(margins).mean(axis=1)
        test_error[k] = (margins <= 0).mean(axis=1)
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
            "test_loss": test_loss.ravel(),
            "test_error": test_error.ravel(),
            "norm_w": np.linalg.norm(w, axis=2).ravel(),
            "diverged": diverged.ravel(),
        }
    )
    table["t"] = table["step"].astype(float)
    arrays = {
        "z_train": z,
        "z_test": z_test.astype(np.float32),
        "eta": np.asarray(eta),
        "steps": steps,
        "w_path": w,
    }
    return table, arrays


#: The family's experiments, one per key of its config section: the simulation of one grid
#: point and the columns that identify a row of its table together with ``trial``.
EXPERIMENTS = {
    "soudry": Experiment(simulate_soudry, keys=("dataset", "loss", "algorithm", "step")),
    "perceptron": Experiment(simulate_perceptron, keys=("n_samples", "dim", "planted_margin")),
    "test_loss": Experiment(simulate_test_loss, keys=("step",)),
}
