"""The dynamics experiments: one function per experiment, returning a tidy table.

Each function runs every trial of one grid point at once (leading trial axis).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from implicit_reg.dynamics import exact, factorization, linear_nets, network
from implicit_reg.dynamics.data import smooth_target
from implicit_reg.experiment import Experiment
from implicit_reg.problems import gaussian_regression, random_rotation, sphere
from implicit_reg.schedule import log_checkpoints

# ---------------------------------------------------------------------------------------
# F6a


def factorization_step(step_fraction: float, s_max: float, depth: int, dd: float) -> float:
    """``η = c·dd'/(N s_max^{2−2/N})``: a fraction c of the inverse top curvature.

    At the target, the aligned singular value with the largest ``s`` relaxes at rate
    ``λ = N s_max^{2−2/N}/(dd')`` (linearization of σ̇ at σ = s), so GD on the factors is
    stable there for ``c < 2``; its error against gradient flow is ``O(c)``.
    """
    return step_fraction * dd / (depth * s_max ** (2.0 - 2.0 / depth))


#: Fractions f of s_r at whose exact crossing times checkpoints are added (transitions).
TRANSITION_FRACTIONS = np.linspace(0.05, 0.95, 19)


def time_grid(horizon: float, eta: float, n_points: int, times: np.ndarray) -> np.ndarray:
    """Checkpoint steps up to time ``horizon``: linear, log-spaced and at given times.

    ``n_points`` linear and ``n_points`` log-spaced steps, plus the steps nearest to
    ``times`` (here the exact times at which each σ_r crosses a fraction of s_r, so the
    transitions are sampled densely whatever the horizon).

    Returns
    -------
    ndarray of int
        Sorted unique steps from 0 to ``ceil(horizon/η)``.
    """
    last = int(np.ceil(horizon / eta))
    linear = np.rint(np.linspace(0, last, n_points + 1)).astype(np.int64)
    extra = np.clip(np.rint(np.asarray(times) / eta).astype(np.int64), 0, last)
    return np.union1d(np.union1d(linear, log_checkpoints(last, n_points)), extra)


def alignment_error(basis: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``‖B̃ᵀR − I‖_F`` with ``B̃`` the columns of ``basis`` flipped so ``diag(BᵀR) ≥ 0``.

    Parameters
    ----------
    basis, reference : ndarray, shape (..., d, r)

    Returns
    -------
    ndarray, shape (...)
    """
    cross = np.swapaxes(basis, -1, -2) @ reference
    signs = np.where(np.diagonal(cross, axis1=-2, axis2=-1) < 0, -1.0, 1.0)
    aligned = cross * signs[..., :, None]
    eye = np.eye(cross.shape[-1])
    return np.linalg.norm(aligned - eye, axis=(-2, -1))


def simulate_matrix_factorization(
    params: dict, rng: np.random.Generator
) -> tuple[pd.DataFrame, dict]:
    """F6a: GD on the factors of depth-N factorizations against the exact singular values.

    ``W* = U diag(s) Vᵀ`` (Haar U, V per trial; s log-spaced from ``s_max`` down to
    ``s_min``, shared by every depth), balanced aligned init ``W_{1:N}(0) = εUVᵀ``, loss
    ``(1/(dd'))·½‖W_{1:N} − W*‖²``; for every depth, every ε of ``init_scales`` and every
    fraction of ``step_fractions``, GD on all factors up to ``horizon`` times the exact
    time at which the smallest singular value reaches 90% of its target.

    Parameters
    ----------
    params : dict
        ``depths``, ``n_rows`` (d), ``n_cols`` (d'), ``s_min``, ``s_max``,
        ``init_scales``, ``step_fractions`` (of the inverse top curvature, see
        `factorization_step`), ``horizon``, ``n_trials``, ``n_checkpoints``.

    Returns
    -------
    table : DataFrame
        One row per (depth, init_scale, step_fraction, trial, step, index):
        ``t = η·step``, the target ``s``, GD's singular value ``sigma`` (SVD of the
        product, sorted), the exact ``sigma_exact``, ``error = |σ − σ_exact|/s``, the
        alignment errors ``align_u``, ``align_v`` (NaN at t = 0, where all singular
        values equal ε), the exact crossing times ``t10_exact``, ``t50_exact``,
        ``t90_exact`` and ``diverged``.
    arrays : dict
        U, V, s and, per (depth, ε, step fraction), the checkpoint steps and GD's products.

    References
    ----------
    Arora, Cohen, Hu, Luo (2019); Saxe, McClelland, Ganguli (2014); docs/science.md §F6a.
    """
    d, dp = int(params["n_rows"]), int(params["n_cols"])
    trials, r = int(params["n_trials"]), min(d, dp)
    s = np.geomspace(params["s_max"], params["s_min"], r)
    U = random_rotation(rng, d, trials)[:, :, :r]
    V = random_rotation(rng, dp, trials)[:, :, :r]
    arrays = {"U": U, "V": V, "s": s}
    frames = []
    for depth in params["depths"]:
        for eps in params["init_scales"]:
            for fraction in params["step_fractions"]:
                frame, products, steps = _factorization_run(
                    params, U, V, s, int(depth), float(eps), float(fraction), rng
                )
                frames.append(frame)
                label = f"N{depth}_eps{eps:g}_c{fraction:g}"
                arrays[f"steps_{label}"], arrays[f"products_{label}"] = steps, products
    table = pd.concat(frames, ignore_index=True)
    table["error"] = np.abs(table.sigma - table.sigma_exact) / table.s
    return table.assign(n_rows=d, n_cols=dp), arrays


def _factorization_run(params, U, V, s, depth, eps, fraction, rng):
    """One (depth, ε, step) run of `simulate_matrix_factorization`: rows, products, steps."""
    trials, d, r = U.shape[0], U.shape[1], len(s)
    dd = float(d * V.shape[1])
    target = U * s[None, None, :] @ np.swapaxes(V, 1, 2)
    times = {f: exact.crossing_time(f, s, eps, depth, dd) for f in (0.1, 0.5, 0.9)}
    transitions = np.concatenate(
        [exact.crossing_time(f, s, eps, depth, dd) for f in TRANSITION_FRACTIONS]
    )
    horizon = float(params["horizon"]) * float(times[0.9].max())
    # Every (ε, step) run starts from its own balanced aligned factors.
    factors = factorization.balanced_aligned_init(U, V, eps, depth, rng)
    eta = factorization_step(fraction, float(s[0]), depth, dd)
    steps = time_grid(horizon, eta, int(params["n_checkpoints"]), transitions)
    products, diverged = factorization.factor_gd_path(factors, target, eta, 1.0 / dd, steps)
    t = steps * eta
    reference = exact.exact_singular_values(t, s, eps, depth, dd)  # (c, r)
    left, sigma, right_t = np.linalg.svd(np.nan_to_num(products), full_matrices=False)
    sigma = np.where(diverged[..., None], np.nan, sigma[..., :r])
    align_u = alignment_error(left[..., :r], U[None])
    align_v = alignment_error(np.swapaxes(right_t, -1, -2)[..., :r], V[None])
    align_u[0], align_v[0] = np.nan, np.nan
    c = len(steps)
    frame = pd.DataFrame(
        {
            "depth": depth,
            "init_scale": eps,
            "step_fraction": fraction,
            "eta": eta,
            "trial": np.tile(np.repeat(np.arange(trials), r), c),
            "step": np.repeat(steps, trials * r),
            "t": np.repeat(t, trials * r),
            "index": np.tile(np.arange(r), c * trials),
            "s": np.tile(s, c * trials),
            "sigma": sigma.ravel(),
            "sigma_exact": np.repeat(reference, trials, axis=0).ravel(),
            "align_u": np.repeat(align_u.ravel(), r),
            "align_v": np.repeat(align_v.ravel(), r),
            "t10_exact": np.tile(times[0.1], c * trials),
            "t50_exact": np.tile(times[0.5], c * trials),
            "t90_exact": np.tile(times[0.9], c * trials),
            "diverged": np.repeat(diverged.ravel(), r),
        }
    )
    return frame, products, steps


# ---------------------------------------------------------------------------------------
# F6b


def _frobenius(M: np.ndarray) -> np.ndarray:
    return np.sqrt(np.sum(M * M, axis=(-2, -1)))


def simulate_linear_nets(params: dict, rng: np.random.Generator) -> tuple[pd.DataFrame, dict]:
    """F6b: GD and SGD on ``½‖W₂W₁X − Y‖²`` from row-space and generic initializations.

    ``X ∈ R^{d×n}`` with ``N(0, 1/d)`` entries, ``Y = A*X`` with ``A*`` of ``N(0, 1/d)``
    entries; ``W₂(0)`` has ``N(0, s²/N)`` entries and ``W₁(0)`` is either (b) generic,
    ``N(0, s²/d)`` entries (``s = init_scale``), or (a) the same matrix with its rows
    projected on Col(X) (``W₁QQᵀ``, Q an orthonormal basis of Col(X) from a QR
    factorization); the same ``W₂(0)`` for both.

    Parameters
    ----------
    params : dict
        ``n_samples`` (n), ``n_features`` (d), ``n_outputs`` (d'), ``hidden`` (N),
        ``n_trials``, ``gd_steps``, ``sgd_steps``, ``step_fraction`` (GD),
        ``sgd_step_fraction``, ``batch_size``, ``init_scale``, ``n_checkpoints``.

    Returns
    -------
    table : DataFrame
        One row per (init, algorithm, trial, step): ``t = ηk``, ``loss``,
        ``dist_min_norm = ‖W₂W₁ − A_min‖/‖A_min‖``,
        ``dist_limit = ‖W₂W₁ − A_min − W₂W₁(0)P⊥‖/‖A_min‖``,
        ``null_term = ‖W₂W₁(0)P⊥‖/‖A_min‖``,
        ``null_change = ‖W₁P⊥ − W₁(0)P⊥‖/‖W₁(0)‖`` and ``diverged``.
    arrays : dict
        X, Y, the initial weights and each run's final weights.

    References
    ----------
    docs/science.md §F6b (gradients of W₁ are W₂ᵀEXᵀ, with rows in Col(X));
    Zhang et al. (2017).
    """
    n, d = int(params["n_samples"]), int(params["n_features"])
    dp, hidden, trials = int(params["n_outputs"]), int(params["hidden"]), int(params["n_trials"])
    scale = float(params["init_scale"])
    X = rng.standard_normal((trials, d, n)) / np.sqrt(d)
    Y = rng.standard_normal((trials, dp, d)) / np.sqrt(d) @ X
    w2 = scale * rng.standard_normal((trials, dp, hidden)) / np.sqrt(hidden)
    generic = scale * rng.standard_normal((trials, hidden, d)) / np.sqrt(d)
    # Rows projected on Col(X) through an orthonormal basis Q of it (QR, not P⊥).
    basis = np.linalg.qr(X)[0]  # (trials, d, n)
    inits = {"row_space": generic @ basis @ np.swapaxes(basis, 1, 2), "generic": generic}
    a_min = exact.min_norm_product(X, Y)
    a_norm = _frobenius(a_min)
    projector = exact.null_projector(X)
    arrays = {"X": X, "Y": Y, "w2_init": w2, "a_min": a_min}
    frames = []
    for init, w1 in inits.items():
        arrays[f"w1_init_{init}"] = w1
        null0 = w1 @ projector
        runs = {
            "gd": (params["gd_steps"], params["step_fraction"], None),
            f"sgd_b{params['batch_size']}": (
                params["sgd_steps"],
                params["sgd_step_fraction"],
                int(params["batch_size"]),
            ),
        }
        for algorithm, (n_steps, fraction, batch) in runs.items():
            eta = linear_nets.step_size(X, w1, w2, float(fraction))
            steps = log_checkpoints(int(n_steps), int(params["n_checkpoints"]))
            path = linear_nets.linear_net_path(X, Y, w1, w2, eta, steps, batch, rng)
            product = path.w2 @ path.w1  # (c, trials, d', d)
            residual = product @ X[None] - Y[None]
            arrays[f"w1_final_{init}_{algorithm}"] = path.w1[-1]
            arrays[f"w2_final_{init}_{algorithm}"] = path.w2[-1]
            null_term = path.w2 @ null0[None]
            c = len(steps)
            frames.append(
                pd.DataFrame(
                    {
                        "init": init,
                        "algorithm": algorithm,
                        "trial": np.tile(np.arange(trials), c),
                        "step": np.repeat(steps, trials),
                        "t": (steps[:, None] * eta[None, :]).ravel(),
                        "loss": (0.5 * np.sum(residual**2, axis=(2, 3))).ravel(),
                        "dist_min_norm": (_frobenius(product - a_min) / a_norm).ravel(),
                        "dist_limit": (_frobenius(product - a_min - null_term) / a_norm).ravel(),
                        "null_term": (_frobenius(null_term) / a_norm).ravel(),
                        "null_change": (
                            _frobenius(path.w1 @ projector - null0) / _frobenius(w1)
                        ).ravel(),
                        "diverged": path.diverged.ravel(),
                    }
                )
            )
    table = pd.concat(frames, ignore_index=True)
    return table.assign(n_samples=n, n_features=d, n_outputs=dp, hidden=hidden), arrays


# ---------------------------------------------------------------------------------------
# F6c


def simulate_lazy_training(params: dict, rng: np.random.Generator) -> tuple[pd.DataFrame, dict]:
    """F6c: GD on the 1/√m two-layer tanh network against its linearization, per width.

    Per trial: n training and ``n_test`` held-out points on the unit sphere of R^d,
    labels from `smooth_target` (unit u, v drawn per trial), shared by every width. Per
    width m: ``w_j ~ N(0, I_d)``, ``a_j = ±1``, both layers trained by GD with
    ``η = step_fraction·n/λ_max(K₀)`` for ``n_steps`` steps. The linearized model's
    outputs come from the eigendecomposition of K₀ (`exact.linearized_outputs`), for
    GD with the same step (``e_k = (I − ηK₀/n)^k e₀``, the Euler scheme of its gradient
    flow) and for the gradient flow itself (``e(t) = e^{−K₀t/n} e₀``).

    Parameters
    ----------
    params : dict
        ``n_samples``, ``n_features``, ``n_test``, ``widths`` (list), ``n_trials``,
        ``n_steps``, ``step_fraction``, ``n_checkpoints``.

    Returns
    -------
    table : DataFrame
        One row per (width, trial, step): ``t = ηk``, ``loss``, the PL bounds
        ``pl_bound = R̂(0)e^{−2λ_min t/n}`` and ``pl_bound_half = R̂(0)e^{−λ_min t/n}``,
        ``lin_gap_train``, ``lin_gap_test`` (``‖f − f_lin‖/√p`` on the p training or
        held-out points, linearization trained by the same GD) and ``lin_gap_flow_train``
        (against the linearization's gradient flow), and per (width, trial)
        ``weight_change = ‖θ_T − θ₀‖/‖θ₀‖``, ``kernel_change = ‖K_T − K₀‖_F/‖K₀‖_F``,
        ``lambda_min``, ``lambda_max``, ``eta`` and ``diverged``.
    arrays : dict
        Data, and per width the initial and final weights and the outputs at checkpoints.

    References
    ----------
    Jacot, Gabriel, Hongler (2018); Chizat, Oyallon, Bach (2019); Du, Zhai, Póczos,
    Singh (2019); docs/science.md §F6c.
    """
    n, d, n_test = int(params["n_samples"]), int(params["n_features"]), int(params["n_test"])
    trials = int(params["n_trials"])
    X, X_test = sphere(rng, (trials, n, d)), sphere(rng, (trials, n_test, d))
    u, v = sphere(rng, (trials, 2, d)).transpose(1, 0, 2)
    y, y_test = smooth_target(X, u, v), smooth_target(X_test, u, v)
    steps = log_checkpoints(int(params["n_steps"]), int(params["n_checkpoints"]))
    arrays = {"X": X, "y": y, "X_test": X_test, "y_test": y_test, "steps": steps}
    frames = []
    for m in params["widths"]:
        m = int(m)
        W0, a0 = network.initial_weights(rng, trials, m, d)
        K0 = network.tangent_kernel(W0, a0, X, X)
        lam = np.linalg.eigvalsh(K0)
        eta = float(params["step_fraction"]) * n / lam[:, -1]
        path = network.gd_path(W0, a0, X, y, X_test, eta, steps)
        e0 = path.train[0] - y
        lin_train = exact.linearized_outputs(K0, K0, path.train[0], e0, steps, n, eta)
        cross = network.tangent_kernel(W0, a0, X_test, X)
        lin_test = exact.linearized_outputs(K0, cross, path.test[0], e0, steps, n, eta)
        t = steps[:, None] * eta[None, :]
        flow_train = exact.linearized_outputs(K0, K0, path.train[0], e0, t, n)
        KT = network.tangent_kernel(path.W, path.a, X, X)
        theta0 = np.concatenate([W0.reshape(trials, -1), a0], axis=1)
        thetaT = np.concatenate([path.W.reshape(trials, -1), path.a], axis=1)
        loss = 0.5 * np.mean((path.train - y[None]) ** 2, axis=2)
        c = len(steps)

        def per_run(values, c=c):
            return np.tile(values, c)

        frames.append(
            pd.DataFrame(
                {
                    "width": m,
                    "trial": np.tile(np.arange(trials), c),
                    "step": np.repeat(steps, trials),
                    "t": t.ravel(),
                    "loss": loss.ravel(),
                    "pl_bound": exact.pl_bound(loss[0], lam[:, 0], t, n).ravel(),
                    "pl_bound_half": exact.pl_bound(loss[0], lam[:, 0], t, n, 1.0).ravel(),
                    "lin_gap_train": _rms(path.train - lin_train).ravel(),
                    "lin_gap_test": _rms(path.test - lin_test).ravel(),
                    "lin_gap_flow_train": _rms(path.train - flow_train).ravel(),
                    "weight_change": per_run(
                        np.linalg.norm(thetaT - theta0, axis=1) / np.linalg.norm(theta0, axis=1)
                    ),
                    "kernel_change": per_run(_frobenius(KT - K0) / _frobenius(K0)),
                    "lambda_min": per_run(lam[:, 0]),
                    "lambda_max": per_run(lam[:, -1]),
                    "eta": per_run(eta),
                    "diverged": per_run(path.diverged),
                }
            )
        )
        arrays.update(
            {
                f"W0_m{m}": W0,
                f"a0_m{m}": a0,
                f"W_m{m}": path.W,
                f"a_m{m}": path.a,
                f"train_m{m}": path.train,
                f"test_m{m}": path.test,
            }
        )
    table = pd.concat(frames, ignore_index=True)
    return table.assign(n_samples=n, n_features=d), arrays


def _rms(values: np.ndarray) -> np.ndarray:
    """``‖v‖/√p`` over the last axis."""
    return np.sqrt(np.mean(values * values, axis=-1))


def simulate_pl_rate(params: dict, rng: np.random.Generator) -> tuple[pd.DataFrame, dict]:
    """F6c: GD on least squares converges at the PL rate ``(1 − ημ)^k``.

    ``L(β) = (1/2n)‖y − Xβ‖²`` with ``N(0, 1)`` design and ``y = Xβ* + σε``
    (`implicit_reg.problems.gaussian_regression`), GD from ``β₀ = 0`` with
    ``η = step_fraction/λ_max(XᵀX/n)``, for every n of ``n_samples`` (n > d: strongly
    convex; n < d: PL only, μ the smallest positive eigenvalue).

    Parameters
    ----------
    params : dict
        ``n_samples`` (list), ``n_features``, ``noise_std``, ``n_trials``, ``n_steps``,
        ``step_fraction`` (≤ 1), ``n_checkpoints``.

    Returns
    -------
    table : DataFrame
        One row per (n, trial, step): ``gap = L(β_k) − L*``, ``bound = (1 − ημ)^k·gap_0``,
        ``mu``, ``eta``, ``diverged``.
    arrays : dict
        X, y and the final iterate per n.

    References
    ----------
    Polyak (1963); Karimi, Nutini, Schmidt (2016), Theorem 1 (PL inequality ⇒ linear
    convergence).
    """
    from implicit_reg.risk.algorithms import gd_path, stable_step_size

    d, trials = int(params["n_features"]), int(params["n_trials"])
    steps = log_checkpoints(int(params["n_steps"]), int(params["n_checkpoints"]))
    frames, arrays = [], {}
    for n in params["n_samples"]:
        n = int(n)
        X, y, _ = gaussian_regression(rng, trials, n, d, float(params["noise_std"]))
        # η = fraction/λ_max: half of the 2/λ_max scale of `stable_step_size`.
        eta = stable_step_size(X, 0.5 * float(params["step_fraction"]))
        path = gd_path(X, y, np.zeros((trials, d)), eta, steps)
        mu, _ = exact.least_squares_constants(X)
        gap = exact.least_squares_gap(X, y, path.betas)
        bound = (1.0 - eta * mu)[None, :] ** steps[:, None] * gap[0][None, :]
        arrays.update({f"X_n{n}": X, f"y_n{n}": y, f"beta_n{n}": path.betas[-1]})
        frames.append(
            pd.DataFrame(
                {
                    "n_samples": n,
                    "trial": np.tile(np.arange(trials), len(steps)),
                    "step": np.repeat(steps, trials),
                    "gap": gap.ravel(),
                    "bound": bound.ravel(),
                    "mu": np.tile(mu, len(steps)),
                    "eta": np.tile(eta, len(steps)),
                    "diverged": path.diverged.ravel(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True).assign(n_features=d), arrays


#: The family's experiments, one per key of its config section: the simulation of one grid
#: point and the columns that identify a row of its table together with ``trial``.
EXPERIMENTS = {
    "matrix_factorization": Experiment(
        simulate_matrix_factorization,
        keys=("depth", "init_scale", "step_fraction", "step", "index"),
    ),
    "linear_nets": Experiment(
        simulate_linear_nets, keys=("n_samples", "init", "algorithm", "step")
    ),
    "lazy_training": Experiment(simulate_lazy_training, keys=("n_samples", "width", "step")),
    "pl_rate": Experiment(simulate_pl_rate, keys=("n_features", "n_samples", "step")),
}
