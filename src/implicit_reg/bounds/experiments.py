"""The two experiments of the bounds family: label corruption and the four postulates.

A ``corruption`` job is one corruption level ``p``; the ``postulates`` job trains every
variant (``n_trials`` networks each). A job trains all its networks together (leading
trial axis), then computes every bound right after training, so the tidy table holds each
network's errors, losses, bounds and the losses they bound.

The table has three kinds of rows, told apart by ``section``:

- ``trajectory``: one row per (network, checkpoint epoch) with training/test error and loss;
- ``final``: one row per network with the final errors, the norms, every bound, its
  parameters (selected σ, margin, rank), the loss it bounds on the clean test set
  (``<bound>_test_loss``: Gibbs error of the posterior for PAC-Bayes) and on the
  distribution of the training sample (``<bound>_population_loss``, `population_loss`;
  NaN for a sample that is not i.i.d.), the sample sizes ``n_train`` and
  ``pacbayes_datadep_m``, and ``label_noise``;
- ``rank``: one row per (network, rank r) with the compression terms ``A_r``, ``B_r``.

Every row carries ``trial`` (the network's index within its level or variant) and the
level ``p`` or the ``variant``.

References
----------
Zhang et al. (2017) (postulates); Arora, Ge, Neyshabur, Zhang (2018) (compression);
McAllester (1999), Langford and Seeger (2001) (PAC-Bayes); Dziugaite and Roy (2017);
Dziugaite et al. (2021); Pérez-Ortiz et al. (2021).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from implicit_reg.bounds import compression, data, mlp, norms, pacbayes
from implicit_reg.experiment import Experiment
from implicit_reg.schedule import log_checkpoints

SECTIONS = ("trajectory", "final", "rank")
BOUNDS = (
    "compression",
    "frobenius",
    "pacbayes_mcallester",
    "pacbayes_kl",
    "pacbayes_optimized",
    "pacbayes_datadep",
)
POSTERIOR_COLUMNS = ("bound", "sigma", "kl", "train_loss", "test_loss")
#: 0–1 error of a predictor on an example whose label is uniform over the 10 classes.
UNIFORM_LABEL_ERROR = 1.0 - 1.0 / data.N_CLASSES


def train_networks(params: dict, rng: np.random.Generator, make_set: Callable, n_trials: int):
    """Build the training sets of all trials and train the networks.

    Parameters
    ----------
    params : dict
        One grid point of the experiment's configuration.
    make_set : callable ``(digits, center, rng) -> (x, y)``
        Training inputs (T, m, 64) and labels (T, m) of all ``n_trials`` trials.
    n_trials : int
        T, the number of networks trained together.

    Returns
    -------
    digits, x, y, init, result
    """
    digits = data.load_split(params["n_train"], params["split_seed"])
    init = mlp.init_weights(rng, n_trials, digits.x_train.shape[1], params["width"], data.N_CLASSES)
    x, y = make_set(digits, params["center"], rng)
    x_test = data.features(digits.x_test, params["center"])
    result = mlp.train(
        *init,
        x,
        y,
        x_test,
        digits.y_test,
        lr=params["lr"],
        batch_size=params["batch_size"],
        checkpoints=log_checkpoints(params["n_epochs"], params["n_checkpoints"]),
        stop_loss=params["stop_loss"],
        rng=rng,
    )
    return digits, x, y, init, result


def optimize_posterior(
    params, weights, prior_mean, sigma, x, y, x_test, y_test, rng, *, steps=None, lr=None
):
    """`pacbayes.optimized_bound` with the settings of ``params["posterior"]``.

    Starts from ``weights`` and ``sigma`` (for the prior at the initialization: the
    trained weights and the grid's best σ); the prior variance is chosen on the
    configured log grid (union bound), see `pacbayes.prior_grid`. ``steps`` and ``lr``
    default to ``posterior.steps`` and ``posterior.lr``.
    """
    post = params["posterior"]
    return pacbayes.optimized_bound(
        weights,
        prior_mean,
        sigma,
        x,
        y,
        x_test,
        y_test,
        steps=post["steps"] if steps is None else steps,
        lr=post["lr"] if lr is None else lr,
        batch_size=post["batch_size"],
        prior_vars=pacbayes.prior_grid(
            post["prior_sigma_min"], post["prior_sigma_max"], post["prior_grid_size"]
        ),
        n_samples=params["mc_samples"],
        delta=params["delta"],
        delta_mc=params["delta_mc"],
        rng=rng,
    )


@dataclass(frozen=True)
class DataDependentBound:
    """Result of `datadep_bound` (per-trial arrays of shape (T,) unless noted).

    Attributes
    ----------
    bound : `pacbayes.OptimizedBound`
        Certificate, KL, prior σ and Gibbs errors (on ``S_bound`` and the test set).
    prior_idx, bound_idx : ndarray of int, shapes (T, m_prior) and (T, m_bound)
        Indices of ``S_prior`` and ``S_bound`` in the training set (disjoint per row).
    prior_weights : (ndarray (T, h, d), ndarray (T, k, h))
        The prior mean ``w_prior``, trained from θ₀ on ``S_prior`` only.
    prior_test_error : ndarray
        0–1 test error of the deterministic network ``w_prior``.
    """

    bound: pacbayes.OptimizedBound
    prior_idx: np.ndarray
    bound_idx: np.ndarray
    prior_weights: tuple
    prior_test_error: np.ndarray


def datadep_bound(params, init, x, y, x_test, y_test, rng) -> DataDependentBound:
    """PAC-Bayes bound with a data-dependent prior (Dziugaite et al. 2021; Pérez-Ortiz et al. 2021).

    1. Split each trial's training set ``S`` (size m) into ``S_prior`` (a fraction
       ``posterior.datadep_fraction``) and ``S_bound`` (the other ``m_b`` examples) by a
       random permutation (`pacbayes.split_sample`).
    2. Train the prior mean ``w_prior`` from the initialization θ₀ on ``S_prior`` only,
       with the same SGD settings and stopping rule as the network itself.
    3. Prior ``P_λ = N(w_prior, λI)``, λ on the fixed log grid of ``posterior``
       (J values). Posterior ``Q = N(μ, diag s)`` from ``μ = w_prior``,
       ``s = posterior.datadep_sigma²``, optimized by `pacbayes.optimized_bound` for
       ``posterior.datadep_steps`` Adam steps against the McAllester objective on
       ``S_bound`` with ``m = m_b``.
    4. Certificate on ``S_bound``: ``kl⁻¹(kl⁻¹(L̂, ln(1/δ_mc)/N), (KL + ln(2√m_b J/δ))/m_b)``
       with ``L̂`` the Monte Carlo Gibbs 0–1 error of ``Q`` on ``S_bound`` from
       ``N = mc_samples · m_b`` independent draws.

    Validity: the kl-form theorem (Maurer 2004) needs ``P_λ`` independent of ``S_bound``.
    θ₀ is drawn before any data; the split and the SGD order of the prior's training are
    drawn from a child generator spawned from the job's seed sequence (``rng.spawn``,
    which depends on neither the data nor the state ``rng`` reached during the
    data-dependent training before); the λ grid is fixed by the configuration. Hence
    ``S_bound`` is an i.i.d. sample independent of ``P_λ`` for i.i.d. examples (true for
    label corruption, where each label is replaced independently; not for the
    postulates that replace exactly half of the sample). The posterior may depend on
    ``S_bound``: the bound holds for all posteriors at once. With the union bound over
    the J prior variances (δ/J each) and the Monte Carlo term (δ_mc), the certificate
    bounds the Gibbs 0–1 error of ``Q`` on the sampling distribution w.p. ≥ 1 − δ − δ_mc.
    For label corruption p that distribution has noisy labels; its error
    ``(1 − p)·err_clean + p·0.9`` is ≥ the clean test error whenever ``err_clean ≤ 0.9``.
    """
    post = params["posterior"]
    prior_rng = rng.spawn(1)[0]
    n_trials, m = y.shape
    prior_idx, bound_idx = pacbayes.split_sample(m, post["datadep_fraction"], n_trials, prior_rng)
    rows = np.arange(n_trials)[:, None]
    prior = mlp.train(
        *init,
        x[rows, prior_idx],
        y[rows, prior_idx],
        x_test,
        y_test,
        lr=params["lr"],
        batch_size=params["batch_size"],
        checkpoints=np.array([0, params["n_epochs"]]),
        stop_loss=params["stop_loss"],
        rng=prior_rng,
    )
    w_prior = (prior.w1, prior.w2)
    opt = optimize_posterior(
        params,
        w_prior,
        w_prior,
        np.full(n_trials, float(post["datadep_sigma"])),
        x[rows, bound_idx],
        y[rows, bound_idx],
        x_test,
        y_test,
        rng,
        steps=post["datadep_steps"],
        lr=post["datadep_lr"],
    )
    return DataDependentBound(opt, prior_idx, bound_idx, w_prior, prior.test_error[-1])


def _subset(arrays, rows):
    """Rows ``rows`` of every array of a (possibly nested) tuple."""
    if isinstance(arrays, tuple):
        return tuple(_subset(a, rows) for a in arrays)
    return arrays[rows]


def population_loss(clean_loss, uniform_loss, label_noise):
    """Expected loss on the distribution the training sample was drawn from.

    A label replaced with probability p by a uniform class gives
    ``(1 − p)·L(y) + p·L(uniform label)`` exactly; for the 0–1 and Gibbs errors the
    second term is ``0.9`` whatever the predictor. NaN where ``label_noise`` is NaN
    (training sets that are not an i.i.d. sample of a test distribution).
    """
    p = np.asarray(label_noise, float)
    return (1.0 - p) * np.asarray(clean_loss, float) + p * np.asarray(uniform_loss, float)


def compute_bounds(
    params: dict,
    digits: data.Digits,
    x: np.ndarray,
    y: np.ndarray,
    init: tuple,
    result: mlp.TrainResult,
    rng: np.random.Generator,
    clean: np.ndarray,
    label_noise: np.ndarray,
) -> tuple[dict[str, np.ndarray], pd.DataFrame, dict[str, np.ndarray]]:
    """Every bound and measure for the trained networks of one grid point.

    Parameters
    ----------
    clean : ndarray of bool, shape (T,)
        Trials trained on true labels (for ``posterior.clean_only``).
    label_noise : ndarray, shape (T,)
        Fraction p of labels replaced by uniform ones in each trial's i.i.d. training
        sample (0 for true labels), NaN when the sample is not i.i.d. from the test
        distribution; gives the ``<bound>_population_loss`` columns, the loss each
        bound is a bound on (`population_loss`).

    Returns
    -------
    final : dict of ndarray, each shape (T,)
        Columns of the ``final`` rows: ``<bound>_bound``, ``<bound>_test_loss`` (on the
        clean test set: the Monte Carlo Gibbs error for the PAC-Bayes bounds, the 0–1
        error for the Frobenius bound, the ramp loss for the compression bound) and
        ``<bound>_population_loss``.
    ranks : DataFrame
        Columns ``trial, rank, count_term, approx_term, compression_sum``.
    arrays : dict of ndarray
        Optimized posterior means and standard deviations; the data-dependent prior's
        mean and the indices of ``S_prior`` and ``S_bound``.

    The posterior is optimized only when ``posterior.steps > 0`` and, if
    ``posterior.clean_only``, only for the ``clean`` trials; the data-dependent prior
    bound (`datadep_bound`) only when ``posterior.datadep_fraction > 0`` and, if
    ``posterior.datadep_clean_only``, only for the ``clean`` trials. Columns of a bound
    that is not computed are NaN.
    """
    x_test = data.features(digits.x_test, params["center"])
    n_trials, m = y.shape
    layers = [result.w1, result.w2]
    margin = np.asarray(params["margins"], float)
    _, logits = mlp.forward(result.w1, result.w2, x)
    _, logits_test = mlp.forward(result.w1, result.w2, x_test)
    ramp = mlp.ramp_loss(mlp.margins(logits, y)[..., None], margin).mean(axis=1)
    ramp_test = mlp.ramp_loss(mlp.margins(logits_test, digits.y_test)[..., None], margin)
    ramp_test = ramp_test.mean(axis=1)
    ramp_uniform = mlp.uniform_label_ramp_loss(logits_test, margin).mean(axis=1)
    cols = np.arange(n_trials)
    delta, delta_mc = params["delta"], params["delta_mc"]
    final: dict[str, np.ndarray] = {
        "label_noise": np.asarray(label_noise, float),
        "n_train": np.full(n_trials, m),
    }

    # Compression at every margin (union bound over the margins); keep the best margin.
    cb = compression.compression_bound(
        layers,
        ramp,
        beta=np.sqrt(2.0) / margin,
        m=m,
        bits=params["bits"],
        delta=delta / len(margin),
    )
    best_g = cb.bound.argmin(axis=1)
    approx = cb.approx[cols, best_g]
    final["compression_bound"] = cb.bound[cols, best_g]
    final["compression_margin"] = margin[best_g]
    final["compression_rank"] = cb.best_rank[cols, best_g]
    final["compression_full_rank"] = np.full(n_trials, cb.ranks[-1])
    final["compression_train_loss"] = ramp[cols, best_g]
    final["compression_test_loss"] = ramp_test[cols, best_g]
    final["compression_population_loss"] = population_loss(
        ramp_test[cols, best_g], ramp_uniform[cols, best_g], label_noise
    )
    ranks = pd.DataFrame(
        {
            "trial": np.repeat(cols, len(cb.ranks)),
            "rank": np.tile(cb.ranks, len(cols)),
            "count_term": np.tile(cb.count, len(cols)),
            "approx_term": approx.ravel(),
        }
    )
    ranks["compression_sum"] = ranks["count_term"] + ranks["approx_term"]

    # Frobenius margin bound (0-1 error) and the spectral measure.
    frob = norms.frobenius_bound(ramp, layers, margin, n_classes=data.N_CLASSES, m=m, delta=delta)
    g_frob = frob.argmin(axis=1)
    final["frobenius_bound"] = frob[cols, g_frob]
    final["frobenius_margin"] = margin[g_frob]
    final["frobenius_test_loss"] = mlp.error_rate(logits_test, digits.y_test)
    final["frobenius_population_loss"] = population_loss(
        final["frobenius_test_loss"], UNIFORM_LABEL_ERROR, label_noise
    )
    x_frobenius = float(np.sqrt(np.square(x.astype(float)).sum(axis=(1, 2))).max())
    spec = ramp + norms.spectral_measure(layers, list(init), x_frobenius, margin, m)
    final["spectral_measure"] = spec.min(axis=1)
    for name, w, w0 in (("w1", result.w1, init[0]), ("w2", result.w2, init[1])):
        final[f"{name}_spectral_norm"] = norms.spectral_norm(w)
        final[f"{name}_frobenius_norm"] = norms.frobenius_norm(w)
        final[f"{name}_distance_from_init"] = norms.frobenius_norm(w - w0)

    # PAC-Bayes, isotropic posterior on the σ grid.
    weights = (result.w1, result.w2)
    grid = pacbayes.sigma_grid_bounds(
        weights,
        init,
        x,
        y,
        x_test,
        digits.y_test,
        sigmas=params["sigmas"],
        n_samples=params["mc_samples"],
        delta=delta,
        delta_mc=delta_mc,
        rng=rng,
    )
    for form, gb in grid.items():
        prefix = f"pacbayes_{form}"
        final[f"{prefix}_bound"] = gb.bound
        final[f"{prefix}_sigma"] = gb.sigma
        final[f"{prefix}_kl"] = gb.kl
        final[f"{prefix}_train_loss"] = gb.train_gibbs
        final[f"{prefix}_test_loss"] = gb.test_gibbs

    # PAC-Bayes with the posterior optimized against the bound (Dziugaite and Roy 2017).
    arrays: dict[str, np.ndarray] = {}
    post = params["posterior"]
    for suffix in POSTERIOR_COLUMNS:
        final[f"pacbayes_optimized_{suffix}"] = np.full(n_trials, np.nan)
    rows = np.flatnonzero(clean) if post["clean_only"] else cols
    if post["steps"] > 0 and rows.size:
        opt = optimize_posterior(
            params,
            _subset(weights, rows),
            _subset(init, rows),
            grid["kl"].sigma[rows],
            x[rows],
            y[rows],
            x_test,
            digits.y_test,
            rng,
        )
        for suffix, values in zip(
            POSTERIOR_COLUMNS,
            (opt.bound, opt.prior_sigma, opt.kl, opt.train_gibbs, opt.test_gibbs),
            strict=True,
        ):
            final[f"pacbayes_optimized_{suffix}"][rows] = values
        arrays = {
            "posterior_trials": rows,
            "posterior_mean_w1": opt.means[0],
            "posterior_mean_w2": opt.means[1],
            "posterior_std_w1": opt.stds[0],
            "posterior_std_w2": opt.stds[1],
        }

    # PAC-Bayes with a prior learned on S_prior, certified on S_bound (last, so that the
    # other columns do not depend on whether it runs).
    for suffix in (*POSTERIOR_COLUMNS, "prior_test_error", "m"):
        final[f"pacbayes_datadep_{suffix}"] = np.full(n_trials, np.nan)
    rows = np.flatnonzero(clean) if post["datadep_clean_only"] else cols
    if post["datadep_fraction"] > 0 and rows.size:
        dd = datadep_bound(
            params, _subset(init, rows), x[rows], y[rows], x_test, digits.y_test, rng
        )
        for suffix, values in zip(
            (*POSTERIOR_COLUMNS, "prior_test_error", "m"),
            (
                dd.bound.bound,
                dd.bound.prior_sigma,
                dd.bound.kl,
                dd.bound.train_gibbs,
                dd.bound.test_gibbs,
                dd.prior_test_error,
                dd.bound_idx.shape[1],
            ),
            strict=True,
        ):
            final[f"pacbayes_datadep_{suffix}"][rows] = values
        arrays |= {
            "datadep_trials": rows,
            "datadep_prior_index": dd.prior_idx,
            "datadep_bound_index": dd.bound_idx,
            "datadep_prior_w1": dd.prior_weights[0],
            "datadep_prior_w2": dd.prior_weights[1],
        }
    for bound in ("pacbayes_mcallester", "pacbayes_kl", "pacbayes_optimized", "pacbayes_datadep"):
        final[f"{bound}_population_loss"] = population_loss(
            final[f"{bound}_test_loss"], UNIFORM_LABEL_ERROR, label_noise
        )
    return final, ranks, arrays


def assemble_table(
    columns: dict[str, np.ndarray],
    result: mlp.TrainResult,
    final: dict,
    ranks: pd.DataFrame,
    m: int,
    batch_size: int,
) -> pd.DataFrame:
    """Tidy table of one grid point (trajectory, final and rank rows).

    Parameters
    ----------
    columns : dict of ndarray, each shape (T,)
        Per-network columns that identify it: ``trial`` (the trial index within its
        grid value) and the grid value (``p`` or ``variant``), repeated on every row.
    """
    n_ckpt, n_trials = result.train_error.shape
    steps_per_epoch = m // (batch_size if 0 < batch_size < m else m)
    last = int(result.checkpoints[-1])
    trajectory = pd.DataFrame(
        {
            "section": "trajectory",
            "network": np.tile(np.arange(n_trials), n_ckpt),
            "epoch": np.repeat(result.checkpoints, n_trials),
            "rank": 0,
            "train_error": result.train_error.ravel(),
            "train_loss": result.train_loss.ravel(),
            "test_error": result.test_error.ravel(),
            "test_loss": result.test_loss.ravel(),
            "diverged": np.tile(result.diverged, n_ckpt),
        }
    )
    trajectory["step"] = trajectory["epoch"] * steps_per_epoch
    summary = pd.DataFrame(
        {
            "section": "final",
            "network": np.arange(n_trials),
            "epoch": last,
            "step": last * steps_per_epoch,
            "rank": 0,
            "train_error": result.train_error[-1],
            "train_loss": result.train_loss[-1],
            "test_error": result.test_error[-1],
            "test_loss": result.test_loss[-1],
            "gap": result.test_error[-1] - result.train_error[-1],
            "epochs_trained": result.epochs_trained,
            "steps_trained": result.epochs_trained * steps_per_epoch,
            "diverged": result.diverged,
            **final,
        }
    )
    rank_rows = ranks.rename(columns={"trial": "network"}).assign(
        section="rank",
        epoch=last,
        step=last * steps_per_epoch,
        diverged=result.diverged[ranks["trial"].to_numpy()],
    )
    table = pd.concat([trajectory, summary, rank_rows], ignore_index=True)
    network = table.pop("network").to_numpy()
    for key, values in reversed(columns.items()):
        table.insert(0, key, np.asarray(values)[network])
    table["section"] = table["section"].astype("string")
    table["diverged"] = table["diverged"].astype(bool)
    for col in ("trial", "epoch", "step", "rank"):
        table[col] = table[col].astype(np.int64)
    return table


def simulate_networks(
    params: dict,
    rng: np.random.Generator,
    make_set: Callable,
    columns: dict[str, np.ndarray],
    clean: np.ndarray,
    label_noise: np.ndarray,
    random_inputs: np.ndarray | None = None,
):
    """Train, bound and tabulate the T networks of one job; returns ``(table, arrays)``.

    ``arrays`` holds what an outsider needs to recompute every bound without this code:
    the split (``train_index``, ``test_index`` into the 1,797 digits in scikit-learn's
    order), each network's training labels (``labels``, T × m), the training inputs
    (after the feature map) of the networks flagged in ``random_inputs``
    (``random_inputs``, with their network indices ``random_inputs_networks``), the
    initial and final weights, and the posteriors of the PAC-Bayes bounds.
    """
    n_trials = len(clean)
    digits, x, y, init, result = train_networks(params, rng, make_set, n_trials)
    final, ranks, post_arrays = compute_bounds(
        params, digits, x, y, init, result, rng, clean, label_noise
    )
    table = assemble_table(columns, result, final, ranks, y.shape[1], params["batch_size"])
    train_index, test_index = data.split_indices(params["n_train"], params["split_seed"])
    arrays = {
        "train_index": train_index,
        "test_index": test_index,
        "labels": y,
        "w1": result.w1,
        "w2": result.w2,
        "w1_init": init[0],
        "w2_init": init[1],
        **{f"column_{k}": np.asarray(v) for k, v in columns.items()},
        **post_arrays,
    }
    if random_inputs is not None and random_inputs.any():
        arrays["random_inputs_networks"] = np.flatnonzero(random_inputs)
        arrays["random_inputs"] = x[random_inputs]
    return table, arrays


def simulate_corruption(params: dict, rng: np.random.Generator):
    """Grid point ``p``: a fraction p of the training labels replaced by uniform labels."""
    p = float(params["p"])
    n = params["n_trials"]

    def make_set(digits, center, rng):
        return data.corrupted_training_set(digits, p, n, center, rng)

    columns = {"p": np.full(n, p), "trial": np.arange(n)}
    return simulate_networks(params, rng, make_set, columns, np.full(n, p == 0.0), np.full(n, p))


def simulate_postulates(params: dict, rng: np.random.Generator):
    """The four postulates' training sets, ``n_trials`` networks each, trained together.

    All variants of ``params["variants"]`` run in one job (the networks are batched along
    the trial axis), so the postulates cost one job's fixed overhead.
    """
    variants = list(params["variants"])
    n = params["n_trials"]

    def make_set(digits, center, rng):
        sets = [data.variant_training_set(digits, v, n, center, rng) for v in variants]
        return tuple(np.concatenate(parts) for parts in zip(*sets, strict=True))

    names = np.repeat(np.array(variants, dtype=object), n)
    columns = {"variant": names, "trial": np.tile(np.arange(n), len(variants))}
    # Only the true-label sample is i.i.d. from the (clean) test distribution.
    noise = np.where(names == "true_labels", 0.0, np.nan)
    random = np.isin(names, data.RANDOM_INPUT_VARIANTS)
    table, arrays = simulate_networks(
        params, rng, make_set, columns, names == "true_labels", noise, random
    )
    table["variant"] = table["variant"].astype("string")
    arrays["column_variant"] = np.asarray(names, dtype=str)
    return table, arrays


#: The family's experiments, one per key of its config section: the simulation of one grid
#: point and the columns that identify a row of its table together with ``trial``.
EXPERIMENTS = {
    "corruption": Experiment(simulate_corruption, keys=("p", "section", "epoch", "rank")),
    "postulates": Experiment(simulate_postulates, keys=("variant", "section", "epoch", "rank")),
}
