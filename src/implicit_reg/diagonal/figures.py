"""Figures of the F3 family; each function maps the tables to a matplotlib Figure."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from implicit_reg.plotting import palette, subplots


def population_error_vs_alpha(tables: Mapping[str, pd.DataFrame]):
    """Population error ‖θ_α − θ*‖² vs α, one line per n, dashed ℓ1 / dotted ℓ2 levels.

    References
    ----------
    Woodworth et al. (2020), Figure 1 (left).
    """
    summary = tables["crossover_summary"]
    fig, ax = subplots(width=5.0)
    ns = sorted(summary["n_samples"].unique())
    for color, n in zip(palette(len(ns)), ns, strict=True):
        rows = summary[summary["n_samples"] == n].sort_values("alpha")
        ax.errorbar(
            rows["alpha"],
            rows["population_error_mean"],
            yerr=rows["population_error_ci95"],
            color=color,
            marker="o",
            ms=3,
            label=f"θ_α (Newton dual), n = {n}",
        )
        ax.axhline(rows["population_error_l1_mean"].iloc[0], color=color, ls="--", lw=1)
        ax.axhline(rows["population_error_l2_mean"].iloc[0], color=color, ls=":", lw=1)
    ax.plot([], [], "k--", lw=1, label="min-ℓ1 interpolator (LP)")
    ax.plot([], [], "k:", lw=1, label="min-ℓ2 interpolator X⁺y")
    ax.set_xscale("log")
    ax.set_xlabel("initialization scale α")
    ax.set_ylabel("population error ‖θ − θ*‖²")
    ax.legend(fontsize=7)
    return fig


def distances_vs_alpha(tables: Mapping[str, pd.DataFrame]):
    """Relative distances of θ_α to θ_ℓ1 (solid) and θ_ℓ2 (dashed) vs α, one colour per n.

    References
    ----------
    Seed 001 Remark 9.19; Woodworth et al. (2020), Theorem 2.
    """
    summary = tables["crossover_summary"]
    fig, ax = subplots(width=5.0)
    ns = sorted(summary["n_samples"].unique())
    for color, n in zip(palette(len(ns)), ns, strict=True):
        rows = summary[summary["n_samples"] == n].sort_values("alpha")
        ax.plot(
            rows["alpha"],
            rows["dist_l1_mean"],
            color=color,
            marker="o",
            ms=3,
            label=f"‖θ_α − θ_ℓ1‖/‖θ_ℓ1‖, n = {n}",
        )
        ax.plot(
            rows["alpha"],
            rows["dist_l2_mean"],
            color=color,
            ls="--",
            marker="s",
            ms=3,
            label=f"‖θ_α − θ_ℓ2‖/‖θ_ℓ2‖, n = {n}",
        )
    ax.axhline(0.05, color="grey", lw=0.8, ls=":", label="5%")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("initialization scale α")
    ax.set_ylabel("relative distance (trial mean)")
    ax.legend(fontsize=6, ncol=2)
    return fig


def gd_distance_to_limit(tables: Mapping[str, pd.DataFrame]):
    """‖θ_t − θ_α‖/‖θ_α‖ of GD vs t = η·step, one colour per α, one line style per step.

    Diverged runs are left out.

    References
    ----------
    Woodworth et al. (2020), Theorem 1; seed 001 §9.3.1.
    """
    trials = tables["trajectories"]
    trials = trials[~trials["diverged"] & (trials["step"] > 0)]
    summary = (
        trials.groupby(["alpha", "step_fraction", "step"])[["t", "dist_to_limit"]]
        .mean()
        .reset_index()
    )
    fig, ax = subplots(width=5.0)
    alphas = sorted(summary["alpha"].unique())
    styles = ["-", "--", ":", "-."]
    fractions = sorted(summary["step_fraction"].unique(), reverse=True)
    for color, alpha in zip(palette(len(alphas)), alphas, strict=True):
        for style, frac in zip(styles, fractions, strict=False):
            rows = summary[(summary["alpha"] == alpha) & (summary["step_fraction"] == frac)]
            ax.plot(
                rows["t"],
                rows["dist_to_limit"],
                color=color,
                ls=style,
                label=f"GD, α = {alpha:g}, η = {frac:g}/L_α",
            )
    ax.axhline(1e-2, color="grey", lw=0.8, ls=":", label="1e-2")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("time t = η · step")
    ax.set_ylabel("‖θ_t − θ_α‖ / ‖θ_α‖ (trial mean)")
    ax.legend(fontsize=6)
    return fig


def recovery_window(tables: Mapping[str, pd.DataFrame]):
    """Recovery error ‖β_t⊙β_t − β*⊙β*‖² vs t (left) and off-support max |β|/α (right).

    Solid: GD on the empirical loss; dashed: GD on the population loss. Vertical dotted
    lines mark t = 1/(10ηα²) where it falls inside the plotted range.

    References
    ----------
    Li, Ma & Zhang (2018), Theorem 1.1; seed 001 Theorems 9.4 and 9.13.
    """
    summary = tables["sparse_recovery_summary"]
    summary = summary[summary["step"] > 0]
    fig, axes = subplots(ncols=2, width=4.6)
    alphas = sorted(summary["alpha"].unique(), reverse=True)
    t_max = summary["t_mean"].max()
    for color, alpha in zip(palette(len(alphas)), alphas, strict=True):
        for style, algorithm in (("-", "empirical"), ("--", "population")):
            rows = summary[(summary["alpha"] == alpha) & (summary["algorithm"] == algorithm)]
            rows = rows[rows["diverged_mean"] == 0]
            label = f"{algorithm} GD, α = {alpha:g}"
            axes[0].plot(
                rows["t_mean"], rows["recovery_error_mean"], color=color, ls=style, label=label
            )
            axes[1].plot(
                rows["t_mean"],
                rows["off_support_max_mean"] / alpha,
                color=color,
                ls=style,
                label=label,
            )
        eta = (rows["t_mean"] / rows["step"]).iloc[0] if len(rows) else np.nan
        horizon = 1.0 / (10.0 * eta * alpha**2)
        if np.isfinite(horizon) and horizon <= t_max:
            axes[1].axvline(horizon, color=color, ls=":", lw=1)
    axes[1].axhline(2.0, color="grey", ls=":", lw=1, label="2α (Theorem 9.13)")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("time t = η · step")
    axes[0].set_ylabel("recovery error ‖β⊙β − β*⊙β*‖²")
    axes[1].set_ylabel("max off-support |β_j| / α")
    axes[0].legend(fontsize=6)
    return fig


FIGURES = {
    "population_error_vs_alpha": population_error_vs_alpha,
    "distances_vs_alpha": distances_vs_alpha,
    "gd_distance_to_limit": gd_distance_to_limit,
    "recovery_window": recovery_window,
}
