"""Claims of the bounds family, computed from its trial-level tables (docs/science.md §F4).

Three groups:

- the postulates of Zhang et al. (2017): training and test errors of the simulated
  networks against the paper's findings (all ``kind = claim``);
- every bound is ≥ the loss it bounds. A bound on a loss in [0, 1] that is ≥ 1 holds by
  construction, so the comparison is a claim only over the runs where the bound is
  below 1; a bound that is ≥ 1 in every run gives a consistency check instead. The loss
  is the one the theorem is about: the expected loss on the distribution the training
  sample was drawn from (`experiments.population_loss`; for label corruption p the
  test labels are corrupted in expectation), for the PAC-Bayes bounds the Gibbs error
  of their posterior (Monte Carlo over posterior draws on the test set);
- bounds grow with p, claimed only over the corruption levels where the bound is
  informative (the upper 95% limit of its mean is below its cap ``1 − 1/m``; closer to
  1 than one example of its sample, a bound is saturated and any growth is not
  evidence), by one ordered-alternative test (a one-sided Jonckheere–Terpstra
  permutation p-value ≤ 5%) with no increment significantly negative at the
  Holm-corrected level (pooled-variance t); the norm-based capacity measures (the
  Frobenius bound's value and the spectral measure, vacuous as bounds) are claimed to
  grow with p as measures.

A bound is *informative* (non-vacuous) when it is below ``1 − 1/m``, m the size of the
sample it is computed on: a bound within one example's weight of 1 (e.g. the kl-inverse
bound ``1 − 10⁻⁸`` of a network fitted to random labels) only restates that a loss is at
most 1.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.special import stdtr, stdtrit

from implicit_reg.bounds.data import N_CLASSES
from implicit_reg.bounds.experiments import BOUNDS
from implicit_reg.claims import Claim

FAMILY = "bounds"
CHANCE_ERROR = 1.0 - 1.0 / N_CLASSES
#: Zhang et al. (2017), postulates 1–4: the training error every network reaches, the
#: test error of the clean run, the least test error with random labels, and the least
#: rise of the test error with half of the labels adversarial.
TRAIN_ERROR_MAX = 0.01
CLEAN_TEST_ERROR_MAX = 0.10
RANDOM_LABELS_TEST_ERROR_MIN = 0.80
ADVERSARIAL_RISE_MIN = 0.20
BOUND_LABELS = {
    "compression": "compression bound (ramp loss)",
    "frobenius": "Frobenius-norm margin bound (0-1 error)",
    "pacbayes_mcallester": "PAC-Bayes McAllester bound (Gibbs 0-1 error)",
    "pacbayes_kl": "PAC-Bayes kl-inverse bound (Gibbs 0-1 error)",
    "pacbayes_optimized": "PAC-Bayes bound of the optimized posterior (Gibbs 0-1 error)",
    "pacbayes_datadep": "PAC-Bayes bound with a data-dependent prior (Gibbs 0-1 error)",
}
#: The loss each bound is a bound on (claim ids ``<bound>_above_<loss>``).
BOUNDED_LOSS = {
    "compression": ("ramp_loss", "ramp loss of the network at the selected margin"),
    "frobenius": ("test_error", "0-1 error of the network"),
    "pacbayes_mcallester": ("gibbs_error", "Gibbs 0-1 error of its posterior"),
    "pacbayes_kl": ("gibbs_error", "Gibbs 0-1 error of its posterior"),
    "pacbayes_optimized": ("gibbs_error", "Gibbs 0-1 error of its posterior"),
    "pacbayes_datadep": ("gibbs_error", "Gibbs 0-1 error of its posterior"),
}
#: Capacity measures claimed to grow with p (column, label).
MEASURES = {
    "frobenius": ("frobenius_bound", "Frobenius-norm capacity measure (the vacuous bound's value)"),
    "spectral": ("spectral_measure", "spectral (Bartlett et al.) capacity measure"),
}
#: A bound on a loss in [0, 1] says something only below this value (less 1/m).
CAP = 1.0
#: One-sided level of the confidence limits on the increments with p.
LEVEL = 0.95
#: Level of the ordered-alternative trend test (one-sided Jonckheere–Terpstra, permutation
#: p-value over `PERMUTATIONS` relabellings drawn from `PERMUTATION_SEED`).
TREND_LEVEL = 0.05
PERMUTATIONS = 1999
PERMUTATION_SEED = 20170101
TREND_TEXT = (
    f"one ordered-alternative test over these levels: Jonckheere–Terpstra permutation "
    f"p-value ≤ {TREND_LEVEL:g} (exact, or over {PERMUTATIONS} random relabellings when "
    f"there are more), and no increment between "
    f"consecutive levels significantly negative at the Holm-corrected one-sided level "
    f"{1 - LEVEL:g} (pooled-variance t); measured: the p-value, or 1 if some increment is "
    f"significantly negative"
)
SOURCE_TREND = "; Jonckheere 1954; Terpstra 1952; Holm 1979"
#: Column with the size m of each bound's sample (default ``n_train``).
SAMPLE_SIZE = {"pacbayes_datadep": "pacbayes_datadep_m"}
#: Relative resolution below which two level means are treated as equal (float rounding).
RESOLUTION = 1e-6
SOURCE_ZHANG = "Zhang et al. 2017, Fig. 1 and Table 1; docs/science.md §F4, postulate {}"
SOURCE_BOUND = {
    "compression": "Arora, Ge, Neyshabur, Zhang 2018",
    "frobenius": "Golowich, Rakhlin, Shamir 2018, Thm 1; Mohri et al. 2018, Thm 9.2",
    "pacbayes_mcallester": "McAllester 1999; Langford and Seeger 2001",
    "pacbayes_kl": "Langford and Seeger 2001; Seeger 2002; Maurer 2004, Thm 5",
    "pacbayes_optimized": "Dziugaite and Roy 2017, §4-5; Maurer 2004",
    "pacbayes_datadep": "Dziugaite et al. 2021, §3; Pérez-Ortiz et al. 2021",
}
SOURCE_GROWTH = (
    "Zhang et al. 2017 §5; Neyshabur et al. 2017 (Exploring generalization), Fig. 1; "
    "Bartlett, Foster, Telgarsky 2017, Fig. 1; docs/science.md §F4"
)


def final_section(trials: pd.DataFrame) -> pd.DataFrame:
    """The ``final`` rows (one per trained network)."""
    return trials[trials["section"] == "final"]


def _postulate(final: pd.DataFrame, variant: str, column: str) -> float:
    rows = final[final["variant"] == variant]
    return float(rows[column].mean()) if len(rows) else float("nan")


def corruption_claims(trials: pd.DataFrame) -> list[Claim]:
    """Postulates 1–2 of Zhang et al. (2017) on the label-corruption networks."""
    corr = final_section(trials)
    train_by_p = corr.groupby("p")["train_error"].mean()
    test_by_p = corr.groupby("p")["test_error"].mean()
    clean = float(test_by_p.get(0.0, np.nan))
    random_labels = float(test_by_p.get(1.0, np.nan))
    return [
        Claim(
            FAMILY,
            "train_error_every_p",
            f"Training error reaches ≤ {TRAIN_ERROR_MAX:.0%} for every corruption level p ∈ "
            f"{[float(v) for v in train_by_p.index]} (worst mean over trials: "
            f"{train_by_p.max():.4f} at p = {train_by_p.idxmax():g}).",
            SOURCE_ZHANG.format(2),
            float(train_by_p.max()),
            TRAIN_ERROR_MAX,
            "<=",
        ),
        Claim(
            FAMILY,
            "test_error_clean",
            f"With true labels (p = 0) and no explicit regularization the test error is ≤ "
            f"{CLEAN_TEST_ERROR_MAX:.0%} (mean {clean:.4f}).",
            SOURCE_ZHANG.format(1),
            clean,
            CLEAN_TEST_ERROR_MAX,
            "<=",
        ),
        Claim(
            FAMILY,
            "test_error_random_labels",
            f"With random labels (p = 1) the network fits the training set but its test error "
            f"is ≥ {RANDOM_LABELS_TEST_ERROR_MIN:.0%}, near chance {CHANCE_ERROR:.2f} (mean "
            f"{random_labels:.4f}).",
            SOURCE_ZHANG.format(2),
            random_labels,
            RANDOM_LABELS_TEST_ERROR_MIN,
            ">=",
        ),
    ]


def postulate_claims(trials: pd.DataFrame) -> list[Claim]:
    """Postulates 2–4 of Zhang et al. (2017) on the four postulates' training sets."""
    post = final_section(trials)
    random_inputs = _postulate(post, "random_inputs", "train_error")
    half_random = _postulate(post, "half_random_inputs", "test_error")
    adversarial = _postulate(post, "half_adversarial", "test_error")
    true_labels = _postulate(post, "true_labels", "test_error")
    return [
        Claim(
            FAMILY,
            "train_error_random_inputs",
            f"With Gaussian random inputs and random labels the training error still reaches "
            f"≤ {TRAIN_ERROR_MAX:.0%} (mean {random_inputs:.4f}).",
            SOURCE_ZHANG.format(2),
            random_inputs,
            TRAIN_ERROR_MAX,
            "<=",
        ),
        Claim(
            FAMILY,
            "half_random_inputs_test_error",
            f"With half of the training images replaced by random inputs with random labels, "
            f"the test error ({half_random:.4f}) is well below chance: ≤ half the chance "
            f"error, {CHANCE_ERROR / 2:.2f}.",
            SOURCE_ZHANG.format(3),
            half_random,
            CHANCE_ERROR / 2,
            "<=",
        ),
        Claim(
            FAMILY,
            "half_adversarial_test_error_increase",
            f"With half of the training labels adversarial ((y + 1) mod 10) the test error "
            f"({adversarial:.4f}) is at least {100 * ADVERSARIAL_RISE_MIN:g} points above the "
            f"clean run's ({true_labels:.4f}).",
            SOURCE_ZHANG.format(4),
            adversarial - true_labels,
            ADVERSARIAL_RISE_MIN,
            ">=",
        ),
    ]


def bound_above_loss(final: pd.DataFrame, bound: str) -> Claim | None:
    """``<bound>_above_<loss>``: bound ≥ the loss it bounds, claimed where the bound is < 1.

    Rows: every trained network whose training sample is i.i.d. from a test distribution
    (finite ``<bound>_population_loss``). Measured: the smallest ``bound − loss`` over
    the non-vacuous rows (a claim); if there are none, over all rows (a check, since a
    bound ≥ 1 is above any loss in [0, 1]). None when the bound was not computed.
    """
    loss_id, loss_label = BOUNDED_LOSS[bound]
    size = SAMPLE_SIZE.get(bound, "n_train")
    rows = final[[f"{bound}_bound", f"{bound}_population_loss", size]].dropna()
    if rows.empty:
        return None
    value, loss = rows[f"{bound}_bound"], rows[f"{bound}_population_loss"]
    useful = value < CAP - 1.0 / rows[size]
    label = BOUND_LABELS[bound]
    what = (
        f"the expected {loss_label} on the distribution of its training sample (labels "
        f"corrupted at rate p: (1 − p)·L_test + p·L_uniform label, measured on the test set)"
    )
    if useful.any():
        worst = float((value - loss)[useful].min())
        return Claim(
            FAMILY,
            f"{bound}_above_{loss_id}",
            f"The {label} is ≥ {what} in each of the {int(useful.sum())} runs where it is "
            f"non-vacuous (< 1 − 1/m, m its sample size; smallest bound − loss {worst:.4g}); "
            f"{int((~useful).sum())} other runs have a bound ≥ 1 − 1/m, above any loss "
            f"in [0, 1] by construction, and are not counted.",
            SOURCE_BOUND[bound],
            worst,
            0.0,
            ">=",
        )
    worst = float((value - loss).min())
    return Claim(
        FAMILY,
        f"{bound}_above_{loss_id}",
        f"The {label} is vacuous (≥ 1 − 1/m) in all {len(rows)} runs (smallest "
        f"{value.min():.4g}), so it is above {what} by construction (smallest bound − loss "
        f"{worst:.4g}); a consistency check, not evidence.",
        SOURCE_BOUND[bound],
        worst,
        0.0,
        ">=",
        kind="check",
    )


def _pooled_std(stats: pd.DataFrame) -> tuple[float, float]:
    """Standard deviation pooled over the levels and its degrees of freedom ``N − L``."""
    n, std = stats["count"].to_numpy(float), stats["std"].to_numpy(float)
    dof = n.sum() - len(n)
    if dof < 1:
        return float("nan"), 0.0
    return float(np.sqrt(np.sum((n - 1) * std**2) / dof)), float(dof)


def _level_stats(corr: pd.DataFrame, column: str, size: str | None = None) -> pd.DataFrame:
    """Mean, std, count of ``column`` per p, its 95% upper limit and the cap ``1 − 1/m``.

    The upper limit is ``mean + t_{0.975, N−L}·s_p/√n`` with the standard deviation
    ``s_p`` pooled over the L levels (N trials in all), as in `holm_decreases`.
    """
    stats = corr.groupby("p")[column].agg(["mean", "std", "count"]).dropna(subset=["mean"])
    stats["std"] = stats["std"].fillna(0.0)
    pooled, dof = _pooled_std(stats)
    half = stdtrit(max(dof, 1.0), 0.975) * pooled / np.sqrt(stats["count"]) if dof else np.inf
    stats["upper"] = stats["mean"] + half
    if size is not None:
        stats["cap"] = CAP - 1.0 / corr.groupby("p")[size].max().reindex(stats.index)
    return stats


def jonckheere_statistic(groups: list[np.ndarray]) -> float:
    """Jonckheere–Terpstra statistic ``J = Σ_{a<b} Σ_{x∈a, y∈b} [x < y] + ½[x = y]``.

    Large when the values grow with the group order (Jonckheere 1954; Terpstra 1952).
    """
    total = 0.0
    for a in range(len(groups)):
        for b in range(a + 1, len(groups)):
            diff = groups[b][None, :] - groups[a][:, None]
            total += float(np.sum(diff > 0) + 0.5 * np.sum(diff == 0))
    return total


def _splits(indices: tuple[int, ...], sizes: tuple[int, ...]):
    """Every split of ``indices`` into ordered groups of ``sizes`` (as index tuples)."""
    if len(sizes) == 1:
        yield (indices,)
        return
    for first in itertools.combinations(indices, sizes[0]):
        rest = tuple(i for i in indices if i not in first)
        for tail in _splits(rest, sizes[1:]):
            yield (first, *tail)


def trend_p_value(groups: list[np.ndarray], n_permutations: int = PERMUTATIONS) -> float:
    """One-sided permutation p-value of the Jonckheere–Terpstra test for an increasing trend.

    Exact, the fraction of all relabellings π of the pooled values into groups of the
    same sizes with ``J(π) ≥ J_obs``, when there are at most ``n_permutations`` of them;
    otherwise ``(1 + #{J(π) ≥ J_obs})/(1 + B)`` over ``B = n_permutations`` random
    relabellings (fixed generator, so the claim is reproducible).
    """
    observed = jonckheere_statistic(groups) - 1e-9
    pooled = np.concatenate(groups)
    sizes = tuple(len(g) for g in groups)
    count = math.factorial(len(pooled)) // math.prod(math.factorial(k) for k in sizes)
    if count <= n_permutations:
        hits = [
            jonckheere_statistic([pooled[list(g)] for g in split]) >= observed
            for split in _splits(tuple(range(len(pooled))), sizes)
        ]
        return float(np.mean(hits))
    edges = np.cumsum(sizes)[:-1]
    rng = np.random.default_rng(PERMUTATION_SEED)
    exceed = sum(
        jonckheere_statistic(np.split(rng.permutation(pooled), edges)) >= observed
        for _ in range(n_permutations)
    )
    return (1 + exceed) / (1 + n_permutations)


def holm_decreases(stats: pd.DataFrame) -> int:
    """How many increments between consecutive levels are significantly negative at the
    Holm-corrected level ``1 − LEVEL`` (one-sided pooled-variance t; Holm 1979)."""
    mean, n = stats["mean"].to_numpy(float), stats["count"].to_numpy(float)
    pooled, dof = _pooled_std(stats)
    if dof < 1 or len(mean) < 2:
        return 0
    se = pooled * np.sqrt(1.0 / n[:-1] + 1.0 / n[1:])
    floor = RESOLUTION * np.maximum(np.abs(mean[:-1]), np.abs(mean[1:]))
    t = np.diff(mean) / np.maximum(se, floor)
    p = np.sort(stdtr(dof, t))
    alpha = (1.0 - LEVEL) / (len(p) - np.arange(len(p)))
    rejected = np.cumprod(p <= alpha).astype(bool)
    return int(rejected.sum())


def trend_measured(corr: pd.DataFrame, column: str, levels) -> tuple[float, int]:
    """Jonckheere–Terpstra p-value of ``column`` over ``levels`` of p, and the number of
    Holm-significant decreases; the measured value is the p-value, or 1 when some
    increment is significantly negative (a trend with a significant dip is not growth)."""
    rows = corr[corr["p"].isin(levels)].dropna(subset=[column])
    groups = [rows.loc[rows["p"] == p, column].to_numpy(float) for p in sorted(levels)]
    stats = _level_stats(rows, column)
    decreases = holm_decreases(stats)
    value = trend_p_value(groups)
    return (1.0 if decreases else value), decreases


def _levels_text(stats: pd.DataFrame) -> str:
    return ", ".join(f"{p:g}: {v:.3g}" for p, v in stats["mean"].items())


def bound_grows_with_p(corr: pd.DataFrame, bound: str) -> Claim | None:
    """``<bound>_increases_with_p`` over the informative corruption levels.

    Informative: the Student 95% upper limit of the level's mean bound is below
    ``1 − 1/m``. With two or more informative levels, a claim that the bound grows over
    them (`trend_measured`). Otherwise a check that ``min(bound, 1)`` does not
    decrease (it is 1 at every level but at most one, by construction). None when fewer
    than two levels have the bound.
    """
    stats = _level_stats(corr, f"{bound}_bound", SAMPLE_SIZE.get(bound, "n_train"))
    if len(stats) < 2:
        return None
    informative = stats[stats["upper"] < stats["cap"]]
    label = BOUND_LABELS[bound]
    if len(informative) >= 2:
        value, decreases = trend_measured(corr, f"{bound}_bound", informative.index)
        return Claim(
            FAMILY,
            f"{bound}_increases_with_p",
            f"The {label} increases with the corruption level p over the levels where it is "
            f"informative (95% upper limit of the mean < 1 − 1/m): means "
            f"{_levels_text(informative)}; {TREND_TEXT} ({decreases} significant "
            f"decreases; measured {value:.3g}). Levels left out as saturated: "
            f"{[float(p) for p in stats.index.difference(informative.index)]}.",
            SOURCE_GROWTH + SOURCE_TREND,
            value,
            TREND_LEVEL,
            "<=",
        )
    capped = np.minimum(stats["mean"].to_numpy(), CAP)
    worst = float(np.diff(capped).min())
    return Claim(
        FAMILY,
        f"{bound}_increases_with_p",
        f"The {label} is saturated (≥ 1 − 1/m within its 95% interval) at all but "
        f"{len(informative)} of the corruption levels (means {_levels_text(stats)}), so "
        f"its growth with p is not evidence; checked only that min(bound, 1) does not "
        f"decrease (smallest increment {worst:.3g}).",
        SOURCE_GROWTH,
        worst,
        0.0,
        ">=",
        kind="check",
    )


def measure_grows_with_p(corr: pd.DataFrame, name: str) -> Claim | None:
    """``<measure>_measure_increases_with_p``: a capacity measure grows with p (claim)."""
    column, label = MEASURES[name]
    stats = _level_stats(corr, column)
    if len(stats) < 2:
        return None
    value, decreases = trend_measured(corr, column, stats.index)
    return Claim(
        FAMILY,
        f"{name}_measure_increases_with_p",
        f"The {label} grows with the corruption level p: means {_levels_text(stats)}; "
        f"{TREND_TEXT} ({decreases} significant decreases; measured {value:.3g}). Fitting "
        f"more random labels needs weights farther from the initialization and of larger "
        f"norm.",
        SOURCE_GROWTH + SOURCE_TREND,
        value,
        TREND_LEVEL,
        "<=",
    )


def bound_claims(tables: Mapping[str, pd.DataFrame]) -> list[Claim]:
    """The bounds' claims and consistency checks (module docstring): each bound above the
    loss it bounds on every trained network of both experiments, and, across the
    corruption levels, each bound and measure growing with p."""
    both = pd.concat([final_section(trials) for trials in tables.values()], ignore_index=True)
    out = [bound_above_loss(both, bound) for bound in BOUNDS]
    if "corruption" in tables:
        corr = final_section(tables["corruption"])
        out += [bound_grows_with_p(corr, bound) for bound in BOUNDS]
        out += [measure_grows_with_p(corr, name) for name in MEASURES]
    return [c for c in out if c is not None]


#: The family's claims, by the tables they are computed from (`implicit_reg.claims.family_claims`).
CLAIMS = {
    "corruption": corruption_claims,
    "postulates": postulate_claims,
    ("corruption", "postulates"): bound_claims,
}
