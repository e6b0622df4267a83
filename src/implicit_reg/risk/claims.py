"""Claims of the risk family, computed from its tables (docs/science.md §F1)."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd

from implicit_reg.claims import Claim, final_rows, sci, worst
from implicit_reg.risk.exact import gd_ridge_risk_bound, max_variance_ratio

FAMILY = "risk"
#: Tolerances stated in docs/science.md §F1a for the final iterate.
GD_TOLERANCE = 1e-6
SGD_TOLERANCE = 1e-4
#: §F1b: simulated risk within 10% of theory away from the interpolation threshold.
THEORY_TOLERANCE = 0.10
#: The interpolation threshold d = n: at finite n the min-norm variance
#: E‖X⁺ε‖² = σ²d/(n − d − 1) (d ≤ n − 2) and σ²n/(d − n − 1) (d ≥ n + 2) is infinite for
#: |d − n| ≤ 1, so the risk peaks at the grid's γ nearest 1 from below or from above.
INTERPOLATION_THRESHOLD = 1.0
EXCLUDED_LOG_GAMMA = 0.2
#: Family-wise false-alarm rate of the "no peak" test over all adjacent γ pairs.
MONOTONE_FALSE_ALARM = 0.01
#: §F1c: sup_x of the per-direction variance ratio, and the tolerance on its value.
VARIANCE_RATIO_MAX = 1.68591
RATIO_BOUND = 1.6860
#: Absolute tolerance on the located maximum of the variance ratio (a 1-D search).
VARIANCE_RATIO_TOLERANCE = 1e-5


def min_norm_claims(table: pd.DataFrame) -> list[Claim]:
    """F1a claims from the ``min_norm`` trial table."""
    final = final_rows(table, "algorithm")
    gd = final[final.algorithm == "gd"]
    sgd = final[final.algorithm.str.startswith("sgd")]
    random = final[final.init == "random"]
    limit_norm = np.hypot(random.min_norm_norm, random.null_init_norm)
    norm_error = np.abs(random.norm - limit_norm) / limit_norm
    source = "Zhang et al. (2017), §5 (GD/SGD from zero converge to X⁺y)"
    lemma = "docs/science.md §F1a (limit from a nonzero initialization)"
    return [
        Claim(
            FAMILY,
            "gd_zero_init_reaches_min_norm",
            f"GD from β₀ = 0 ends at X⁺y: max over trials of ‖β − X⁺y‖/‖X⁺y‖ ≤ {GD_TOLERANCE:g}.",
            source,
            worst(gd[gd.init == "zero"].rel_dist_min_norm),
            GD_TOLERANCE,
            "<=",
        ),
        Claim(
            FAMILY,
            "sgd_zero_init_reaches_min_norm",
            "SGD (every batch size) from β₀ = 0 ends at X⁺y: max relative distance "
            f"≤ {SGD_TOLERANCE:g}.",
            source,
            worst(sgd[sgd.init == "zero"].rel_dist_min_norm),
            SGD_TOLERANCE,
            "<=",
        ),
        Claim(
            FAMILY,
            "gd_random_init_reaches_shifted_limit",
            "GD from a random β₀ ends at β₀ + X⁺(y − Xβ₀): max relative distance "
            f"≤ {GD_TOLERANCE:g}.",
            lemma,
            worst(gd[gd.init == "random"].rel_dist_limit),
            GD_TOLERANCE,
            "<=",
        ),
        Claim(
            FAMILY,
            "sgd_random_init_reaches_shifted_limit",
            "SGD from a random β₀ ends at β₀ + X⁺(y − Xβ₀): max relative distance "
            f"≤ {SGD_TOLERANCE:g}.",
            lemma,
            worst(sgd[sgd.init == "random"].rel_dist_limit),
            SGD_TOLERANCE,
            "<=",
        ),
        Claim(
            FAMILY,
            "norm_excess_matches_null_component",
            "From a random β₀ the limit X⁺y + P⊥β₀ has orthogonal parts, so its norm excess "
            "‖β_∞‖ − ‖X⁺y‖ is √(‖X⁺y‖² + ‖P⊥β₀‖²) − ‖X⁺y‖ (below ‖P⊥β₀‖): max over trials "
            "and algorithms of |‖β_∞‖ − √(‖X⁺y‖² + ‖P⊥β₀‖²)|/√(‖X⁺y‖² + ‖P⊥β₀‖²) ≤ "
            f"{SGD_TOLERANCE:g} (the SGD distance tolerance, which bounds it).",
            lemma,
            worst(norm_error),
            SGD_TOLERANCE,
            "<=",
        ),
    ]


def _away_from_threshold(gamma: pd.Series) -> pd.Series:
    return np.abs(np.log(gamma)) >= EXCLUDED_LOG_GAMMA


def _one_sided_level(n_tests: int) -> float:
    """Bonferroni one-sided z level for a `MONOTONE_FALSE_ALARM` family-wise false alarm."""
    return NormalDist().inv_cdf(1.0 - MONOTONE_FALSE_ALARM / max(1, n_tests))


def threshold_neighbours(gamma: pd.Series) -> tuple[float, float]:
    """The grid's γ nearest the interpolation threshold from below and from above.

    ``(max{γ ≤ 1}, min{γ ≥ 1})`` (both 1 when the grid holds γ = 1); a side without
    grid points falls back to the grid's end on the other side.
    """
    values = np.unique(np.asarray(gamma, float))
    below = values[values <= INTERPOLATION_THRESHOLD]
    above = values[values >= INTERPOLATION_THRESHOLD]
    lower = float(below.max()) if below.size else float(values.min())
    upper = float(above.min()) if above.size else float(values.max())
    return lower, upper


def realized_risk_summary(trials: pd.DataFrame) -> pd.DataFrame:
    """Mean, standard error and median over trials of the realized risk ‖β̂ − β*‖².

    One row per (noise_std, gamma, estimator, ridge_lambda) with ``mean``, ``se``,
    ``median`` and ``theory`` (the asymptotic formula).
    """
    keys = ["noise_std", "gamma", "estimator", "ridge_lambda"]
    grouped = trials.groupby(keys, sort=True)
    out = grouped.risk.agg(mean="mean", std="std", count="count", median="median")
    out["se"] = out["std"] / np.sqrt(out["count"])
    out["theory"] = grouped.theory_risk.first()
    return out.reset_index()


def theory_error(summary: pd.DataFrame, estimators: list[str]) -> tuple[float, float]:
    """Largest relative error of the mean realized risk against theory, and the largest
    relative standard error, over γ with |log γ| ≥ 0.2 and the given estimators."""
    rows = summary[summary.estimator.isin(estimators) & _away_from_threshold(summary.gamma)]
    error = np.abs(rows["mean"] - rows.theory) / rows.theory
    return worst(error), worst(rows.se / rows.theory)


def largest_standardized_drop(summary: pd.DataFrame) -> float:
    """Largest decrease of mean risk between adjacent γ, in combined standard errors.

    ``max_i (R̄_i − R̄_{i+1}) / √(se_i² + se_{i+1}²)`` over adjacent grid values within
    each noise level (``summary`` from `realized_risk_summary`); a monotone increasing
    curve gives a negative value.
    """
    drops = []
    for _, curve in summary.sort_values("gamma").groupby("noise_std"):
        mean, se = curve["mean"].to_numpy(), curve.se.to_numpy()
        drops.append((mean[:-1] - mean[1:]) / np.sqrt(se[:-1] ** 2 + se[1:] ** 2))
    return float(np.max(np.concatenate(drops))) if drops else float("nan")


def largest_paired_excess(trials: pd.DataFrame) -> tuple[float, int]:
    """Largest standardized mean of realized risk(ridge at λ*) − risk(min-norm).

    Per (σ, γ): the mean over trials of the paired difference divided by its standard
    error. Returns the largest value and the number of (σ, γ) pairs.
    """
    paired = trials.pivot_table(
        index=["noise_std", "gamma", "trial"], columns="estimator", values="risk"
    )
    diff = (paired["ridge_optimal"] - paired["min_norm"]).groupby(level=[0, 1])
    z = diff.mean() / (diff.std() / np.sqrt(diff.count()))
    return worst(z), len(z)


def double_descent_claims(trials: pd.DataFrame) -> list[Claim]:
    """F1b claims on the realized risks ‖β̂ − β*‖² of the ``double_descent`` trials."""
    hastie = "Hastie, Montanari, Rosset, Tibshirani (2019), Theorems 1 and 5"
    summary = realized_risk_summary(trials)
    n_trials = int(trials.trial.nunique())
    min_norm = summary[summary.estimator == "min_norm"]
    peaks = min_norm.loc[min_norm.groupby("noise_std")["median"].idxmax(), "gamma"]
    optimal = summary[summary.estimator == "ridge_optimal"]
    n_pairs = max(1, len(optimal) - optimal.noise_std.nunique())
    excess, n_points = largest_paired_excess(trials)
    mn_error, mn_se = theory_error(summary, ["min_norm"])
    ridge_error, ridge_se = theory_error(summary, ["ridge_optimal", "ridge_fixed"])
    lo, hi = threshold_neighbours(min_norm.gamma)
    finite_n = "; finite n: E‖X⁺ε‖² = σ²d/(n − d − 1), infinite for |d − n| ≤ 1"
    return [
        Claim(
            FAMILY,
            "min_norm_risk_matches_theory",
            f"Mean realized min-norm risk ‖X⁺y − β*‖² over {n_trials} datasets is within "
            f"{THEORY_TOLERANCE:.0%} of R(γ) at every γ with |log γ| ≥ "
            f"{EXCLUDED_LOG_GAMMA}: max relative error (largest relative standard error "
            f"{mn_se:.3f}).",
            hastie,
            mn_error,
            THEORY_TOLERANCE,
            "<=",
        ),
        Claim(
            FAMILY,
            "ridge_risk_matches_theory",
            f"Mean realized ridge risk (at λ* and every fixed λ) over {n_trials} datasets is "
            f"within {THEORY_TOLERANCE:.0%} of the Marchenko–Pastur formula at every γ with "
            f"|log γ| ≥ {EXCLUDED_LOG_GAMMA}: max relative error (largest relative standard "
            f"error {ridge_se:.3f}).",
            hastie,
            ridge_error,
            THEORY_TOLERANCE,
            "<=",
        ),
        Claim(
            FAMILY,
            "peak_above_lower_edge",
            "The median realized min-norm risk peaks at the interpolation threshold d = n: "
            f"at γ ≥ {lo:g}, the grid's γ nearest 1 from below (smallest peak over σ; the "
            "median, because the mean is infinite at γ = 1).",
            hastie + finite_n,
            float(peaks.min()),
            lo,
            ">=",
        ),
        Claim(
            FAMILY,
            "peak_below_upper_edge",
            "The median realized min-norm risk peaks at the interpolation threshold d = n: "
            f"at γ ≤ {hi:g}, the grid's γ nearest 1 from above (largest peak over σ).",
            hastie + finite_n,
            float(peaks.max()),
            hi,
            "<=",
        ),
        Claim(
            FAMILY,
            "optimal_ridge_has_no_peak",
            "Optimally tuned ridge risk (mean realized) is monotone in γ within noise: the "
            "largest drop between adjacent γ, in combined standard errors, stays below the "
            f"one-sided Bonferroni level for a {MONOTONE_FALSE_ALARM:.0%} family-wise false "
            f"alarm over {n_pairs} pairs.",
            "Hastie et al. (2019), Corollary 5 (R* increasing in γ)",
            largest_standardized_drop(optimal),
            _one_sided_level(n_pairs),
            "<=",
        ),
        Claim(
            FAMILY,
            "optimal_ridge_below_min_norm",
            "Ridge at λ* never exceeds min-norm on realized test risk: the largest mean "
            "paired difference risk(ridge λ*) − risk(min-norm) over (σ, γ), in standard "
            "errors, stays below the one-sided Bonferroni level for a "
            f"{MONOTONE_FALSE_ALARM:.0%} family-wise false alarm over {n_points} points.",
            "Hastie et al. (2019), Corollary 5 (λ* is Bayes-optimal given X)",
            excess,
            _one_sided_level(n_points),
            "<=",
        ),
    ]


def gd_expected_risk_z(table: pd.DataFrame) -> tuple[float, int]:
    """Largest |simulated − exact| GD risk in standard errors, over (n, step).

    The simulated risk is the mean over trials of the draw-averaged realized risk of the
    GD run; the exact one the mean over trials of the closed-form expected risk given X
    (filter ``1 − (1 − ηs)^k``). The standard error pools the draws' standard errors.
    """
    grouped = table.groupby(["n_samples", "step"])
    sim = grouped.risk_gd.mean()
    exact = grouped.expected_risk_gd.mean()
    se = np.sqrt(grouped.risk_gd_se.apply(lambda v: np.sum(v**2))) / grouped.risk_gd.count()
    return worst(np.abs(sim - exact) / se), len(sim)


def early_stopping_claims(table: pd.DataFrame) -> list[Claim]:
    """F1c claims from the ``early_stopping`` table (GD run on draws) and closed forms."""
    akt = "Ali, Kolter, Tibshirani (2019), Theorem 1"
    x_star, ratio_max = max_variance_ratio()
    fraction = float(table.step_fraction.max())
    bound = gd_ridge_risk_bound(fraction)
    z, n_points = gd_expected_risk_z(table)
    draws_note = f"{table.trial.nunique()} designs X per n, n > d and n < d"
    return [
        Claim(
            FAMILY,
            "gd_risk_matches_expected_risk",
            "Gradient descent run on label draws has the closed-form expected risk given X "
            "(filter 1 − (1 − ηs)^k): largest |simulated − exact| over (n, step) in "
            "standard errors, below the two-sided Bonferroni level for a "
            f"{MONOTONE_FALSE_ALARM:.0%} family-wise false alarm over {n_points} points "
            f"({draws_note}).",
            "Ali, Kolter, Tibshirani (2019), Lemma 2",
            z,
            _one_sided_level(2 * n_points),
            "<=",
        ),
        Claim(
            FAMILY,
            "gradient_descent_within_ridge_bound",
            "Consistency check (the theorem's statement on the simulated runs): realized "
            f"risk of GD stopped at t = ηk (ηλ_max ≤ {fraction:g}), averaged over draws, is "
            "at most the per-direction bound times that of ridge at λ = 1/t fitted on the "
            f"same draws, for every t, design and n: max ratio ≤ {bound:.4f} (the flow's "
            f"{RATIO_BOUND:.4f} with GD's filter 1 − (1 − ηs)^k; {draws_note}). A bound with "
            "this margin does not test the simulated GD (steps 20% off, η/2 or η/3 still "
            "satisfy it): the simulation is tested by gd_risk_matches_expected_risk.",
            akt + ", per-direction argument with GD's filter",
            worst(table.risk_ratio_gd),
            bound,
            "<=",
            kind="check",
        ),
        Claim(
            FAMILY,
            "gradient_flow_within_ridge_bound",
            f"Closed-form expected risk of gradient flow at t is at most {RATIO_BOUND:.4f} "
            "times that of ridge at λ = 1/t for every t and design: max ratio.",
            akt,
            worst(table.risk_ratio),
            RATIO_BOUND,
            "<=",
            kind="check",
        ),
        Claim(
            FAMILY,
            "variance_ratio_maximum",
            f"The per-direction variance ratio [(1 − e^(−x))(1 + x)/x]² has maximum "
            f"{VARIANCE_RATIO_MAX} (found {ratio_max:.7f} at x = {x_star:.5f}): "
            f"absolute difference ≤ {sci(VARIANCE_RATIO_TOLERANCE)}.",
            akt,
            abs(ratio_max - VARIANCE_RATIO_MAX),
            VARIANCE_RATIO_TOLERANCE,
            "<=",
            kind="check",
        ),
    ]


#: The family's claims, by the table they are computed from (`implicit_reg.claims.family_claims`).
CLAIMS = {
    "min_norm": min_norm_claims,
    "double_descent": double_descent_claims,
    "early_stopping": early_stopping_claims,
}
