"""The three noise experiments (docs/science.md §F5a–F5c): one function each, tidy tables out.

Each function runs every trial of its (single) grid point at once and returns
``(table, arrays)``: a long table whose ``section`` column names the kind of row (the
key columns that do not apply to a section are missing values), and the arrays an
outsider needs to recompute the claims without this package (data, exact references,
final iterates).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from implicit_reg.diagonal.algorithms import step_size_scale
from implicit_reg.diagonal.exact import min_l1_interpolator, q_alpha_limit
from implicit_reg.experiment import Experiment
from implicit_reg.linalg import min_norm_solution
from implicit_reg.noise import approximation, exact, label_noise, ou
from implicit_reg.problems import gaussian_regression, random_rotation, sparse_regression
from implicit_reg.schedule import log_checkpoints


def _frame(section: str, index: dict[str, np.ndarray], values: dict[str, np.ndarray]):
    """A tidy block: ``index`` columns and ``values`` raveled in the same (C) order."""
    columns = {"section": section}
    columns.update({k: np.ravel(v) for k, v in index.items()})
    columns.update({k: np.ravel(v) for k, v in values.items()})
    return pd.DataFrame(columns)


def _grid(**axes: np.ndarray) -> dict[str, np.ndarray]:
    """Meshgrid (``ij`` order) of named 1-D axes, as index columns for `_frame`."""
    names = list(axes)
    meshes = np.meshgrid(*(np.asarray(axes[n]) for n in names), indexing="ij")
    return dict(zip(names, meshes, strict=True))


#: Integer key columns (missing in the sections they do not apply to).
INTEGER_KEYS = ("step", "lag", "eigen_index", "row", "col", "coordinate", "noise_steps", "gd_step")


def _finish(table: pd.DataFrame) -> pd.DataFrame:
    """Typed columns after concatenating sections: flags False where a section has none,
    labels as strings."""
    for flag in ("diverged", "overflowed"):
        if flag in table:
            table[flag] = table[flag].astype("boolean").fillna(False).astype(bool)
    labels = [c for c in ("noise_shape", "algorithm", "estimator") if c in table]
    counts = [c for c in INTEGER_KEYS if c in table]
    return table.astype({**dict.fromkeys(labels, "string"), **dict.fromkeys(counts, "Int64")})


def _relative(a: np.ndarray, b: np.ndarray, axis=-1) -> np.ndarray:
    """‖a − b‖/‖b‖ over ``axis``."""
    return np.linalg.norm(a - b, axis=axis) / np.linalg.norm(b, axis=axis)


# ---------------------------------------------------------------------------------------
# F5a


def _scalar_tables(spec: dict, n_trials: int, rng: np.random.Generator) -> list[pd.DataFrame]:
    """The 1-D OU recursion over the ηa grid against its closed forms."""
    eta_a = np.asarray(spec["eta_a"], float)
    a, sigma, x0 = float(spec["curvature"]), float(spec["noise_std"]), float(spec["x0"])
    eta = eta_a / a
    checkpoints = log_checkpoints(int(spec["n_steps"]), int(spec["n_checkpoints"]))
    max_lag = int(spec["max_lag"])
    sim = ou.scalar_chains(
        eta_a,
        a,
        sigma,
        x0,
        n_trials,
        int(spec["n_chains"]),
        checkpoints,
        int(spec["burn_in"]),
        max_lag,
        rng,
    )
    trials = np.arange(n_trials)
    v_inf = exact.ou_stationary_variance(eta, a, sigma)
    v_sde = exact.ou_sde_variance(eta, a, sigma)
    shape = sim.means.shape  # (e, c, T)
    transient = _frame(
        "scalar_transient",
        _grid(eta_a=eta_a, step=checkpoints, trial=trials),
        {
            "mean": sim.means,
            "variance": sim.variances,
            "exact_mean": np.broadcast_to(exact.ou_mean(x0, eta_a, checkpoints)[..., None], shape),
            "exact_variance": np.broadcast_to(
                exact.ou_variance(eta, a, sigma, checkpoints)[..., None], shape
            ),
            "v_inf": np.broadcast_to(v_inf[:, None, None], shape),
            "v_sde": np.broadcast_to(v_sde[:, None, None], shape),
            "n_chains": np.full(shape, int(spec["n_chains"])),
        },
    )
    stationary = _frame(
        "scalar_stationary",
        _grid(eta_a=eta_a, trial=trials),
        {
            "stationary_variance": sim.stationary_variance,
            "v_inf": np.broadcast_to(v_inf[:, None], sim.stationary_variance.shape),
            "v_sde": np.broadcast_to(v_sde[:, None], sim.stationary_variance.shape),
            "ratio_to_sde": sim.stationary_variance / v_sde[:, None],
            "exact_ratio_to_sde": np.broadcast_to(
                (v_inf / v_sde)[:, None], sim.stationary_variance.shape
            ),
        },
    )
    lags = np.arange(max_lag + 1)
    autocorrelation = sim.autocovariance / sim.autocovariance[..., :1]  # (e, T, l)
    auto = _frame(
        "scalar_autocorrelation",
        _grid(eta_a=eta_a, trial=trials, lag=lags),
        {
            "autocorrelation": autocorrelation,
            "exact_autocorrelation": np.broadcast_to(
                exact.ou_autocorrelation(eta_a, lags)[:, None, :], autocorrelation.shape
            ),
            "n_chains": np.full(autocorrelation.shape, int(spec["n_chains"])),
            "n_blocks": np.full(autocorrelation.shape, sim.n_blocks),
            "block_spacing": np.full(autocorrelation.shape, max_lag + 1),
        },
    )
    return [transient, stationary, auto]


def _quadratic_reference(H, h, rotation, shape, eta, sigma, x0, checkpoints, step_limit):
    """Exact stationary covariance, its eigen-direction variances, transient and checks."""
    d = len(H)
    streaming = shape == "streaming"
    noise_cov = sigma**2 * (np.eye(d) if shape == "isotropic" else H)
    radius = exact.spectral_radius(H, eta, streaming)
    unstable = bool(radius >= 1.0)
    nan_matrix = np.full((d, d), np.nan)
    if unstable:
        S, closed, agreement = nan_matrix, np.full(d, np.nan), np.nan
    elif streaming:
        S = exact.streaming_covariance(H, eta, sigma)
        closed = exact.streaming_eigen_variance(h, eta, sigma)
        agreement = np.nan
    else:
        S = exact.lyapunov_covariance(H, eta, noise_cov)
        closed = (
            exact.isotropic_eigen_variance(h, eta, sigma)
            if shape == "isotropic"
            else exact.curvature_eigen_variance(h, eta, sigma**2)
        )
        # The same fixed point from the d²-dimensional linear system (I − A⊗A)vec S = η²vec Σ.
        system = np.eye(d * d) - exact.second_moment_operator(H, eta, streaming=False)
        S_system = np.linalg.solve(system, eta**2 * noise_cov.ravel()).reshape(d, d)
        agreement = np.linalg.norm(S_system - S) / np.linalg.norm(S)
    eigen = np.einsum("di,de,ei->i", rotation, S, rotation)
    means, covs = exact.second_moment_path(H, eta, noise_cov, streaming, x0, checkpoints)
    return {
        "S": S,
        "eigen": eigen,
        "closed": closed,
        "unstable": unstable,
        "spectral_radius": radius,
        "lyapunov_vs_system": agreement,
        "closed_form_gap": np.max(np.abs(closed / eigen - 1.0)) if not unstable else np.nan,
        "means": means,
        "covs": covs,
        "step_limit": step_limit if streaming else 2.0 / h.max(),
    }


def _quadratic_tables(spec: dict, n_trials: int, rng: np.random.Generator):
    """Noisy GD on ½xᵀHx with three noise shapes against the exact stationary covariances."""
    d = int(spec["n_features"])
    h = np.geomspace(float(spec["eig_min"]), float(spec["eig_max"]), d)
    rotation = random_rotation(rng, d)
    H = exact.curvature_matrix(h, rotation)
    root_H = exact.curvature_matrix(np.sqrt(h), rotation)
    x0 = rng.standard_normal(d)
    x0 /= np.linalg.norm(x0)
    sigma = float(spec["noise_std"])
    configs = [(s, float(e)) for s in spec["noise_shapes"] for e in spec["step_sizes"]]
    shapes, etas = [c[0] for c in configs], np.array([c[1] for c in configs])
    checkpoints = log_checkpoints(int(spec["n_steps"]), int(spec["n_checkpoints"]))
    step_limit = exact.streaming_step_limit(h)
    limit_radius = exact.spectral_radius(H, step_limit, streaming=True)
    sim = ou.quadratic_chains(
        H,
        root_H,
        shapes,
        etas,
        sigma,
        x0,
        n_trials,
        int(spec["n_chains"]),
        checkpoints,
        int(spec["burn_in"]),
        int(spec["thin"]),
        rng,
    )
    frames, arrays = [], {"eigenvalues": h, "rotation": rotation, "H": H, "x0": x0}
    trials = np.arange(n_trials)
    for i, (shape, eta) in enumerate(configs):
        ref = _quadratic_reference(H, h, rotation, shape, eta, sigma, x0, checkpoints, step_limit)
        label = {"noise_shape": shape, "eta": eta}
        diverged = sim.diverged[i] | ref["unstable"]  # (T,)
        cov = sim.covariances[i]  # (c, T, d, d)
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            exact_trace = np.trace(ref["covs"], axis1=-2, axis2=-1)
            exact_norm = np.linalg.norm(ref["covs"], axis=(-2, -1))[:, None]
            cov_error = np.linalg.norm(cov - ref["covs"][:, None], axis=(-2, -1)) / np.where(
                exact_norm > 0, exact_norm, np.nan
            )
        index = _grid(step=checkpoints, trial=trials)
        frames.append(
            _frame(
                "quadratic_transient",
                index,
                {
                    "trace_covariance": np.trace(cov, axis1=-2, axis2=-1),
                    "exact_trace_covariance": np.broadcast_to(exact_trace[:, None], cov.shape[:2]),
                    "covariance_error": cov_error,
                    "mean_norm": np.linalg.norm(sim.means[i], axis=-1),
                    "exact_mean_norm": np.broadcast_to(
                        np.linalg.norm(ref["means"], axis=-1)[:, None], cov.shape[:2]
                    ),
                    "diverged": np.broadcast_to(diverged[None], cov.shape[:2]),
                },
            ).assign(**label)
        )
        stationary = sim.stationary_covariance[i]  # (T, d, d)
        eigen_sim = np.einsum("di,tde,ei->ti", rotation, stationary, rotation)
        frames.append(
            _frame(
                "quadratic_eigen",
                _grid(trial=trials, eigen_index=np.arange(d)),
                {
                    "eigenvalue": np.broadcast_to(h[None], eigen_sim.shape),
                    "stationary_variance": eigen_sim,
                    "exact_variance": np.broadcast_to(ref["eigen"][None], eigen_sim.shape),
                    "closed_form_variance": np.broadcast_to(ref["closed"][None], eigen_sim.shape),
                    "diverged": np.broadcast_to(diverged[:, None], eigen_sim.shape),
                },
            ).assign(**label)
        )
        frames.append(
            _frame(
                "quadratic_covariance",
                _grid(trial=trials, row=np.arange(d), col=np.arange(d)),
                {
                    "covariance": stationary,
                    "exact_covariance": np.broadcast_to(ref["S"][None], stationary.shape),
                    "diverged": np.broadcast_to(diverged[:, None, None], stationary.shape),
                },
            ).assign(**label)
        )
        frames.append(
            pd.DataFrame(
                {
                    "section": "quadratic_stationary",
                    "trial": [0],
                    **{k: [v] for k, v in label.items()},
                    "spectral_radius": [ref["spectral_radius"]],
                    "step_limit": [ref["step_limit"]],
                    "spectral_radius_at_limit": [limit_radius if shape == "streaming" else np.nan],
                    "lyapunov_vs_system": [ref["lyapunov_vs_system"]],
                    "closed_form_gap": [ref["closed_form_gap"]],
                    "overflowed": [bool(sim.diverged[i].any())],
                    "diverged": [bool(diverged.any())],
                }
            )
        )
        arrays[f"exact_S_{shape}_eta={eta:g}"] = ref["S"]
        arrays[f"stationary_covariance_{shape}_eta={eta:g}"] = stationary
    return frames, arrays


def simulate_ou(params: dict, rng: np.random.Generator):
    """F5a: the 1-D OU recursion and noisy GD on a d-dimensional quadratic.

    Parameters
    ----------
    params : dict
        ``n_trials`` (batches of chains) and the sections ``scalar`` (``eta_a``,
        ``curvature`` a, ``noise_std`` σ, ``x0``, ``n_chains`` per trial, ``n_steps``,
        ``burn_in``, ``max_lag``, ``n_checkpoints``) and ``quadratic`` (``n_features`` d,
        ``eig_min``, ``eig_max``, ``noise_shapes``, ``step_sizes``, ``noise_std``,
        ``n_chains``, ``n_steps``, ``burn_in``, ``thin``, ``n_checkpoints``).
    rng : numpy.random.Generator

    Returns
    -------
    table : DataFrame
        Sections ``scalar_transient``, ``scalar_stationary``, ``scalar_autocorrelation``,
        ``quadratic_transient``, ``quadratic_eigen``, ``quadratic_covariance``,
        ``quadratic_stationary``.
    arrays : dict
        H, its eigenvalues and eigenvectors, x₀, and per configuration the exact S and the
        per-trial stationary covariances.
    """
    n_trials = int(params["n_trials"])
    frames = _scalar_tables(params["scalar"], n_trials, rng)
    quadratic, arrays = _quadratic_tables(params["quadratic"], n_trials, rng)
    return _finish(pd.concat(frames + quadratic, ignore_index=True)), arrays


# ---------------------------------------------------------------------------------------
# F5b


def _dropout_tables(spec: dict, n_trials: int, rng: np.random.Generator):
    """Dropout SGD with Robbins–Monro steps and averaging against β_drop."""
    n, d = int(spec["n_samples"]), int(spec["n_features"])
    X, y, _ = gaussian_regression(rng, n_trials, n, d, float(spec["noise_std"]))
    probs = np.asarray(spec["keep_probs"], float)
    target = np.stack([exact.dropout_minimizer(X, y, p) for p in probs], axis=1)  # (T, P, d)
    ols = exact.dropout_minimizer(X, y, 1.0)
    gram = np.swapaxes(X, 1, 2) @ X / n
    diag = np.einsum("tii->ti", gram)
    curvature = np.stack(
        [
            np.linalg.eigvalsh(gram + (1 - p) / p * diag[:, :, None] * np.eye(d))[:, -1]
            for p in probs
        ],
        axis=1,
    )  # λ_max of the expected loss's Hessian, (T, P)
    step0 = float(spec["step_fraction"]) / curvature
    checkpoints = log_checkpoints(int(spec["n_steps"]), int(spec["n_checkpoints"]))
    path = approximation.dropout_sgd(X, y, probs, step0, float(spec["k0"]), checkpoints, rng)
    frames = []
    for estimator, betas in (("averaged", path.averaged), ("last_iterate", path.last)):
        frames.append(
            _frame(
                "dropout",
                _grid(step=checkpoints, trial=np.arange(n_trials), keep_prob=probs),
                {
                    "rel_error": _relative(betas, target[None]),
                    "ols_gap": np.broadcast_to(
                        _relative(ols[:, None], target)[None], betas.shape[:3]
                    ),
                    "diverged": np.broadcast_to(path.diverged[None], betas.shape[:3]),
                },
            ).assign(estimator=estimator)
        )
    arrays = {
        "dropout_X": X,
        "dropout_y": y,
        "dropout_beta_drop": target,
        "dropout_keep_probs": probs,
        "dropout_averaged": path.averaged[-1],
    }
    return frames, arrays


def _imbalance_rows(w_star, w1, w2, eta, steps, horizon, n_checkpoints):
    """Penalized GD at several steps α over the time horizon: D against flow and recursion."""
    frames = []
    for alpha in steps:
        checkpoints = log_checkpoints(int(np.ceil(horizon / alpha)), n_checkpoints)
        path = approximation.factorization_gd(
            w_star,
            w1,
            w2,
            alpha,
            eta**2,
            checkpoints,
            track_imbalance=True,
        )
        t = alpha * checkpoints
        d0 = path.imbalance[0]
        flow = exact.imbalance_flow(d0, eta, t)
        n_trials = d0.shape[0]
        frames.append(
            _frame(
                "imbalance",
                _grid(step=checkpoints, trial=np.arange(n_trials)),
                {
                    "step_size": np.full((len(t), n_trials), alpha),
                    "t": np.broadcast_to(t[:, None], (len(t), n_trials)),
                    "imbalance_norm": np.linalg.norm(path.imbalance, axis=-1),
                    "flow_norm": np.linalg.norm(flow, axis=-1),
                    "recursion_error": (np.abs(path.imbalance - path.tracked) / path.scale).max(-1),
                    "diverged": np.zeros((len(t), n_trials), dtype=bool),
                },
            )
        )
        # Log-slope of |D_i| over the whole run (time t = αk), coordinate by coordinate,
        # against the flow's −2η²; each trial keeps its coordinate farthest from it.
        slopes = (np.log(np.abs(path.imbalance[-1])) - np.log(np.abs(path.imbalance[0]))) / t[-1]
        worst = np.argmax(np.abs(slopes / (-2.0 * eta**2) - 1.0), axis=-1)
        slope = np.take_along_axis(slopes, worst[:, None], axis=-1)[:, 0]
        frames.append(
            _frame(
                "imbalance_slope",
                {"trial": np.arange(n_trials)},
                {
                    "step_size": np.full(slope.shape, alpha),
                    "slope": slope,
                    "exact_slope": np.full(slope.shape, -2.0 * eta**2),
                    "slope_error_bound": np.full(
                        slope.shape,
                        exact.imbalance_slope_error(alpha, eta, np.max(np.abs(w_star)) ** 2),
                    ),
                    "diverged": np.zeros(slope.shape, dtype=bool),
                },
            )
        )
    return frames


def _factorization_tables(spec: dict, n_trials: int, rng: np.random.Generator):
    """GD, penalized GD and noise injection on ½‖w* − w₂⊙w₁‖² against the soft threshold."""
    d = int(spec["n_features"])
    eta = float(spec["noise_scale"])
    w_star = np.linspace(-float(spec["w_star_max"]), float(spec["w_star_max"]), d)
    soft = exact.soft_threshold(w_star, eta**2)
    small = np.abs(w_star) < eta**2
    scale = float(spec["init_scale"])
    w1 = scale * rng.standard_normal((n_trials, d))
    w2 = scale * rng.standard_normal((n_trials, d))
    gd_checkpoints = log_checkpoints(int(spec["gd_steps"]), int(spec["n_checkpoints"]))
    step = float(spec["gd_step"])
    runs = {
        ("gd", "last_iterate"): (
            approximation.factorization_gd(w_star, w1, w2, step, 0.0, gd_checkpoints),
            w_star,
            gd_checkpoints,
            "products",
        ),
        ("penalized_gd", "last_iterate"): (
            approximation.factorization_gd(w_star, w1, w2, step, eta**2, gd_checkpoints),
            soft,
            gd_checkpoints,
            "products",
        ),
    }
    injection_checkpoints = log_checkpoints(
        int(spec["injection_steps"]), int(spec["n_checkpoints"])
    )
    injection = approximation.noise_injection(
        w_star,
        w1,
        w2,
        eta,
        float(spec["injection_step"]),
        float(spec["injection_k0"]),
        injection_checkpoints,
        rng,
    )
    runs[("noise_injection", "averaged")] = (injection, soft, injection_checkpoints, "products")
    runs[("noise_injection", "last_iterate")] = (
        injection,
        soft,
        injection_checkpoints,
        "last_products",
    )
    frames = []
    arrays = {"w_star": w_star, "soft_threshold": soft, "w1_init": w1, "w2_init": w2}
    for (algorithm, estimator), (path, target, checkpoints, field) in runs.items():
        products = getattr(path, field)  # (c, T, d)
        shape = products.shape[:2]
        frames.append(
            _frame(
                "factorization",
                _grid(step=checkpoints, trial=np.arange(n_trials)),
                {
                    "rel_error": _relative(products, target[None, None]),
                    "max_small_product": np.abs(products[..., small]).max(-1)
                    if small.any()
                    else np.full(shape, np.nan),
                    "imbalance_norm": np.linalg.norm(path.imbalance, axis=-1),
                    "diverged": ~np.isfinite(products).all(-1),
                },
            ).assign(algorithm=algorithm, estimator=estimator)
        )
        frames.append(
            _frame(
                "factorization_final",
                _grid(trial=np.arange(n_trials), coordinate=np.arange(d)),
                {
                    "w_star": np.broadcast_to(w_star, products.shape[1:]),
                    "soft_threshold": np.broadcast_to(soft, products.shape[1:]),
                    "product": products[-1],
                    "diverged": np.broadcast_to(
                        ~np.isfinite(products[-1]).all(-1)[:, None], products.shape[1:]
                    ),
                },
            ).assign(algorithm=algorithm, estimator=estimator)
        )
        arrays[f"product_{algorithm}_{estimator}"] = products[-1]
    frames += _imbalance_rows(
        w_star,
        w1,
        w2,
        eta,
        [float(a) for a in spec["imbalance_steps"]],
        float(spec["imbalance_time"]),
        int(spec["n_checkpoints"]),
    )
    return frames, arrays


def simulate_stochastic_approximation(params: dict, rng: np.random.Generator):
    """F5b: dropout SGD, and GD / penalized GD / noise injection on a diagonal factorization.

    Parameters
    ----------
    params : dict
        ``n_trials`` and the sections ``dropout`` (``n_samples``, ``n_features``,
        ``noise_std``, ``keep_probs``, ``step_fraction`` (α₀ as a fraction of
        1/λ_max of the expected loss's Hessian), ``k0``, ``n_steps``, ``n_checkpoints``)
        and ``factorization`` (``n_features``, ``w_star_max``, ``noise_scale`` η,
        ``init_scale``, ``gd_step``, ``gd_steps``, ``injection_step``, ``injection_k0``,
        ``injection_steps``, ``imbalance_steps``, ``imbalance_time``, ``n_checkpoints``).
    rng : numpy.random.Generator

    Returns
    -------
    table : DataFrame
        Sections ``dropout``, ``factorization``, ``factorization_final``, ``imbalance``,
        ``imbalance_slope``.
    arrays : dict
    """
    n_trials = int(params["n_trials"])
    dropout, dropout_arrays = _dropout_tables(params["dropout"], n_trials, rng)
    factor, factor_arrays = _factorization_tables(params["factorization"], n_trials, rng)
    return _finish(pd.concat(dropout + factor, ignore_index=True)), {
        **dropout_arrays,
        **factor_arrays,
    }


# ---------------------------------------------------------------------------------------
# F5c


def _uv_metrics(u, v, tracked, X, y, theta_star):
    """Per-run quantities of (u, v) states of shape (..., T, m, d) against trial data."""
    n = X.shape[1]
    theta = u * u - v * v
    residual = np.einsum("tnd,...tmd->...tmn", X, theta) - y[:, None, :]
    product = u * v
    with np.errstate(divide="ignore", invalid="ignore"):
        metrics = {
            "rel_error": _relative(theta, theta_star[:, None, :]),
            "l1_norm": np.abs(theta).sum(-1),
            "train_loss": (residual**2).sum(-1) / (2 * n),
            "trace_hessian": exact.trace_hessian(u, v, (X**2).sum(1)[:, None, :] / n),
            "alpha_eff": np.exp(0.5 * np.log(np.abs(product)).mean(-1)),
            "product_error": np.max(np.abs(product - tracked) / np.abs(tracked), axis=-1),
        }
    return metrics


def phase_starts(checkpoints: np.ndarray, count: int) -> np.ndarray:
    """Indices of the checkpoints the noiseless GD phase starts from.

    Step 0 (the phase is then plain GD from α) and up to ``count`` − 1 checkpoints evenly
    spread (in index, hence in log-step) over the last two decades of steps, the last
    checkpoint included: where label noise has moved the state into the rich regime.
    """
    late = np.nonzero(checkpoints >= checkpoints[-1] / 100)[0]
    picks = late[np.unique(np.rint(np.linspace(0, late.size - 1, max(count - 1, 1))).astype(int))]
    return np.unique(np.r_[0, picks])


def simulate_label_noise(params: dict, rng: np.random.Generator):
    """F5c: GD, clean SGD and label-noise SGD (then noiseless GD) on u⊙u − v⊙v from α.

    Parameters
    ----------
    params : dict
        ``n_trials``, ``n_samples``, ``n_features``, ``sparsity``, ``alpha``, ``eta``
        (batch-1 step), ``label_noise`` δ, ``n_steps``, ``gd_step_fraction`` (GD step as a
        fraction of 1/L_α, `implicit_reg.diagonal.algorithms.step_size_scale`), ``gd_steps``,
        ``theta_alpha_init``, ``theta_alpha_step_fraction``, ``theta_alpha_steps`` (GD
        from that intermediate scale against its θ_α), ``n_checkpoints``.
    rng : numpy.random.Generator

    Returns
    -------
    table : DataFrame
        Sections ``path`` (algorithm ``gd``, ``sgd``, ``label_noise_sgd`` along their
        steps), ``gd_phase`` (the noiseless GD phase started from the label-noise state
        after ``noise_steps`` steps: the convergence study) and ``reference`` (θ_α and
        θ_ℓ1 against θ*; GD from ``theta_alpha_init`` against its θ_α, and that θ_α against
        θ_ℓ2 and θ_ℓ1).
    arrays : dict
    """
    n_trials, n, d = int(params["n_trials"]), int(params["n_samples"]), int(params["n_features"])
    alpha, eta, delta = float(params["alpha"]), float(params["eta"]), float(params["label_noise"])
    X, theta_star, y = sparse_regression(rng, n_trials, n, d, int(params["sparsity"]), 0.0)
    column_norms2 = (X**2).sum(1) / n  # ‖X_{:,j}‖²/n, (T, d)
    theta_alpha = q_alpha_limit(X, y, np.array([alpha])).theta[:, 0]
    theta_l1 = min_l1_interpolator(X, y)
    fraction = float(params["gd_step_fraction"])
    n_checkpoints = int(params["n_checkpoints"])
    trials = np.arange(n_trials)
    frames = []

    # Full-batch GD from α: its limit is θ_α.
    gd_checkpoints = log_checkpoints(int(params["gd_steps"]), n_checkpoints)
    gd_eta = fraction / step_size_scale(X, theta_star, np.array([alpha]))  # (T, 1)
    start = np.full((n_trials, 1, d), alpha)
    gd = label_noise.gd_uv(X, y, start, start, gd_eta, gd_checkpoints, track_products=True)
    metrics = _uv_metrics(gd.u, gd.v, gd.tracked_products, X, y, theta_star)
    frames.append(
        _frame(
            "path",
            _grid(step=gd_checkpoints, trial=trials),
            {
                **{k: m[..., 0] for k, m in metrics.items()},
                "diverged": np.broadcast_to(
                    gd.diverged[None, :, 0], (len(gd_checkpoints), n_trials)
                ),
            },
        ).assign(algorithm="gd")
    )

    # GD from an intermediate scale, where θ_α is far from both θ_ℓ2 and θ_ℓ1, at a small
    # step (GD's limit drifts from the flow's by O(step): u⊙v shrinks by 1 − 4η²g² a step).
    scale = float(params["theta_alpha_init"])
    theta_scale = q_alpha_limit(X, y, np.array([scale])).theta[:, 0]
    scale_eta = float(params["theta_alpha_step_fraction"]) / step_size_scale(
        X, theta_star, np.array([scale])
    )
    scale_start = np.full((n_trials, 1, d), scale)
    scale_gd = label_noise.gd_uv(
        X,
        y,
        scale_start,
        scale_start,
        scale_eta,
        np.array([int(params["theta_alpha_steps"])]),
    )
    theta_scale_gd = scale_gd.u[-1, :, 0] ** 2 - scale_gd.v[-1, :, 0] ** 2

    # Batch-1 SGD on clean labels (δ = 0) and with label noise, all runs in one loop.
    noise_checkpoints = log_checkpoints(int(params["n_steps"]), n_checkpoints)
    levels = np.array([0.0, delta])
    runs_X = np.concatenate([X] * len(levels))
    runs_y = np.concatenate([y] * len(levels))
    ones = np.full((len(levels) * n_trials, d), alpha)
    sgd = label_noise.sgd_uv(
        runs_X,
        runs_y,
        ones,
        ones,
        eta,
        np.repeat(levels, n_trials),
        noise_checkpoints,
        rng,
        track_products=True,
    )
    c = len(noise_checkpoints)

    # (c, levels·T, d) -> (c, T, levels, d): runs of a trial side by side.
    def per_trial(a):
        return np.moveaxis(a.reshape(c, len(levels), n_trials, d), 1, 2)

    metrics = _uv_metrics(
        per_trial(sgd.u), per_trial(sgd.v), per_trial(sgd.tracked_products), X, y, theta_star
    )
    sgd_diverged = sgd.diverged.reshape(len(levels), n_trials).T
    for j, name in enumerate(("sgd", "label_noise_sgd")):
        frames.append(
            _frame(
                "path",
                _grid(step=noise_checkpoints, trial=trials),
                {
                    **{k: m[..., j] for k, m in metrics.items()},
                    "diverged": np.broadcast_to(sgd_diverged[None, :, j], (c, n_trials)),
                },
            ).assign(algorithm=name)
        )

    # Noiseless GD from label-noise checkpoints: the error it converges to as a function of
    # the label-noise steps taken (the last one is the claimed endpoint).
    starts = phase_starts(noise_checkpoints, int(params["phase_starts"]))
    snap_u = per_trial(sgd.u)[starts, :, 1, :].swapaxes(0, 1)  # (T, s, d)
    snap_v = per_trial(sgd.v)[starts, :, 1, :].swapaxes(0, 1)
    with np.errstate(invalid="ignore"):
        snap_alpha = np.sqrt(np.nanmax(snap_u * snap_v, axis=(0, 2)))
    phase_eta = fraction / step_size_scale(X, theta_star, np.nan_to_num(snap_alpha, nan=alpha))
    phase_checkpoints = log_checkpoints(int(params["phase_steps"]), 8)
    phase = label_noise.gd_uv(
        X, y, snap_u, snap_v, phase_eta, phase_checkpoints, track_products=True
    )
    metrics = _uv_metrics(phase.u, phase.v, phase.tracked_products, X, y, theta_star)
    grid = _grid(gd_step=phase_checkpoints, trial=trials, noise_steps=noise_checkpoints[starts])
    frames.append(
        _frame(
            "gd_phase",
            grid,
            {
                **metrics,
                "diverged": np.broadcast_to(
                    phase.diverged[None] | sgd_diverged[None, :, 1:], grid["trial"].shape
                ),
            },
        ).assign(algorithm="label_noise_sgd_then_gd")
    )
    frames.append(
        pd.DataFrame(
            {
                "section": "reference",
                "trial": trials,
                "theta_alpha_error": _relative(theta_alpha, theta_star),
                "theta_l1_error": _relative(theta_l1, theta_star),
                "gd_to_theta_alpha": _relative(theta_scale_gd, theta_scale),
                "theta_alpha_init": np.full(n_trials, scale),
                "rich_trace_hessian": exact.rich_trace_hessian(theta_star, column_norms2),
                "product_decay_rate": exact.label_noise_product_decay(eta, delta, column_norms2),
                "alpha": np.full(n_trials, alpha),
                "theta_alpha_to_l2": _relative(theta_scale, min_norm_solution(X, y)),
                "theta_alpha_to_l1": _relative(theta_scale, theta_l1),
                "diverged": gd.diverged[:, 0] | scale_gd.diverged[:, 0],
            }
        )
    )
    table = _finish(pd.concat(frames, ignore_index=True))
    arrays = {
        "X": X,
        "y": y,
        "theta_star": theta_star,
        "theta_alpha": theta_alpha,
        "theta_l1": theta_l1,
        "theta_gd": gd.u[-1, :, 0] ** 2 - gd.v[-1, :, 0] ** 2,
        "theta_alpha_intermediate": theta_scale,
        "theta_gd_intermediate": theta_scale_gd,
        "theta_sgd": sgd.u[-1, :n_trials] ** 2 - sgd.v[-1, :n_trials] ** 2,
        "theta_label_noise_sgd": sgd.u[-1, n_trials:] ** 2 - sgd.v[-1, n_trials:] ** 2,
        "theta_label_noise_then_gd": phase.u[-1, :, -1] ** 2 - phase.v[-1, :, -1] ** 2,
    }
    return table, arrays


#: The family's experiments, one per key of its config section: the simulation of one grid
#: point and the columns that identify a row of its table together with ``trial``.
EXPERIMENTS = {
    "ou": Experiment(
        simulate_ou,
        keys=("section", "noise_shape", "eta", "eta_a", "step", "lag", "eigen_index", "row", "col"),
    ),
    "stochastic_approximation": Experiment(
        simulate_stochastic_approximation,
        keys=("section", "algorithm", "estimator", "keep_prob", "step_size", "step", "coordinate"),
    ),
    "label_noise": Experiment(
        simulate_label_noise,
        keys=("section", "algorithm", "noise_steps", "gd_step", "step"),
    ),
}
