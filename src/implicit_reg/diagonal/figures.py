"""Figures of the F3 family; each function maps the tables to a matplotlib Figure.

Lines are trial means; bands are Student-t 95% intervals of the mean over trials (the
``_ci95`` columns of the summaries), and every panel states its number of trials.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from implicit_reg.claims import sci
from implicit_reg.diagonal.claims import GD_LIMIT_DISTANCE, LIMIT_DISTANCE, OFF_SUPPORT_RATIO
from implicit_reg.plotting import cycled, palette, subplots

#: Reference curves (exact limits, theorem bounds) are drawn above the data.
REFERENCE_Z = 5


def _band(ax, x, mean, half, color, log=True):
    """Fill mean ± half-width, clipped at a tenth of the mean on log axes."""
    low = np.maximum(mean - half, mean / 10.0) if log else mean - half
    ax.fill_between(x, low, mean + half, color=color, alpha=0.2, lw=0)


def _trials(tables: Mapping[str, pd.DataFrame], name: str) -> int:
    """Number of trials of experiment ``name`` (the smallest over its grid points)."""
    trials = tables[name]
    return int(trials.groupby("n_samples")["trial"].nunique().min())


def population_error_vs_alpha(tables: Mapping[str, pd.DataFrame]):
    """Population error ‖θ_α − θ*‖² vs α, one line per n, dashed ℓ1 / dotted ℓ2 levels.

    References
    ----------
    Woodworth et al. (2020), Figure 1 (left).
    """
    summary = tables["crossover_summary"]
    fig, ax = subplots(width=5.2, height=3.6)
    ns = sorted(summary["n_samples"].unique())
    for color, n in zip(palette(len(ns)), ns, strict=True):
        rows = summary[summary["n_samples"] == n].sort_values("alpha")
        ax.plot(
            rows["alpha"],
            rows["population_error_mean"],
            color=color,
            marker="o",
            ms=3,
            label=rf"$\theta_\alpha$ (Newton dual), $n = {n}$",
        )
        _band(
            ax,
            rows["alpha"],
            rows["population_error_mean"],
            rows["population_error_ci95"],
            color,
        )
        for column, style in (("population_error_l1", "--"), ("population_error_l2", ":")):
            ax.axhline(
                rows[f"{column}_mean"].iloc[0], color=color, ls=style, lw=1.3, zorder=REFERENCE_Z
            )
    ax.plot([], [], "k--", lw=1.3, label=r"min-$\ell_1$ interpolator (LP)")
    ax.plot([], [], "k:", lw=1.3, label=r"min-$\ell_2$ interpolator $X^+y$")
    # Log y: the ℓ1 levels (exact recovery, near 1e-28) are not drawn onto zero.
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"initialization scale $\alpha$")
    ax.set_ylabel(r"population error $\|\theta - \theta^*\|^2$")
    ax.set_title(f"trial means, {_trials(tables, 'crossover')} trials", fontsize=9)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def distances_vs_alpha(tables: Mapping[str, pd.DataFrame]):
    """Relative distances of θ_α to θ_ℓ1 (solid) and θ_ℓ2 (dashed) vs α, one colour per n.

    References
    ----------
    Woodworth et al. (2020), Theorem 2; docs/science.md §F3a.
    """
    summary = tables["crossover_summary"]
    fig, ax = subplots(width=5.2, height=3.6)
    ns = sorted(summary["n_samples"].unique())
    for color, n in zip(palette(len(ns)), ns, strict=True):
        rows = summary[summary["n_samples"] == n].sort_values("alpha")
        for column, style, marker, target in (
            ("dist_l1", "-", "o", r"\theta_{\ell_1}"),
            ("dist_l2", "--", "s", r"\theta_{\ell_2}"),
        ):
            ax.plot(
                rows["alpha"],
                rows[f"{column}_mean"],
                color=color,
                ls=style,
                marker=marker,
                ms=3,
                label=rf"$\|\theta_\alpha - {target}\|\,/\,\|{target}\|$, $n = {n}$",
            )
            _band(ax, rows["alpha"], rows[f"{column}_mean"], rows[f"{column}_ci95"], color)
    ax.axhline(
        LIMIT_DISTANCE,
        color="black",
        lw=1.0,
        ls=":",
        label=f"{LIMIT_DISTANCE:.0%}",
        zorder=REFERENCE_Z,
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"initialization scale $\alpha$")
    ax.set_ylabel("relative distance (trial mean)")
    ax.set_title(f"trial means, {_trials(tables, 'crossover')} trials", fontsize=9)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def gd_distance_to_limit(tables: Mapping[str, pd.DataFrame]):
    """‖θ_t − θ_α‖/‖θ_α‖ of GD vs t = η·step, one colour per α, one line style per step.

    Diverged runs are left out.

    References
    ----------
    Woodworth et al. (2020), Theorem 1; docs/science.md §F3a.
    """
    trials = tables["trajectories"]
    trials = trials[~trials["diverged"] & (trials["step"] > 0)]
    grouped = trials.groupby(["alpha", "step_fraction", "step"])
    summary = grouped[["t", "dist_to_limit"]].mean()
    summary["ci95"] = _student_ci(grouped["dist_to_limit"])
    summary = summary.reset_index()
    fig, ax = subplots(width=5.2, height=3.6)
    alphas = sorted(summary["alpha"].unique())
    styles = ["-", "--", ":", "-."]
    fractions = sorted(summary["step_fraction"].unique(), reverse=True)
    for color, alpha in zip(palette(len(alphas)), alphas, strict=True):
        for frac, style in cycled(fractions, styles).items():
            rows = summary[(summary["alpha"] == alpha) & (summary["step_fraction"] == frac)]
            ax.plot(
                rows["t"],
                rows["dist_to_limit"],
                color=color,
                ls=style,
                label=rf"GD, $\alpha$ = {alpha:g}, $\eta = {frac:g}/L_\alpha$",
            )
            _band(ax, rows["t"], rows["dist_to_limit"], rows["ci95"], color)
    ax.axhline(
        GD_LIMIT_DISTANCE,
        color="black",
        lw=1.0,
        ls=":",
        label=sci(GD_LIMIT_DISTANCE),
        zorder=REFERENCE_Z,
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"time $t = \eta k$ ($k$: step)")
    ax.set_ylabel(r"$\|\theta_t - \theta_\alpha\|\,/\,\|\theta_\alpha\|$ (trial mean)")
    ax.set_title(f"trial means, {_trials(tables, 'trajectories')} trials", fontsize=9)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def _student_ci(grouped) -> pd.Series:
    """Student-t 95% half-width of the mean of each group of a grouped Series."""
    from implicit_reg.experiment import student_half_width

    stats = grouped.agg(["std", "count"])
    return pd.Series(student_half_width(stats["std"], stats["count"]), index=stats.index)


def recovery_window(tables: Mapping[str, pd.DataFrame]):
    """The β⊙β model: recovery error (left) and off-support max |β_j|/α (right) vs t.

    Solid: empirical GD with label noise σ; dashed: empirical GD on noiseless labels;
    dotted grey (right): GD on the population loss. Left: the rate σ²·r·ln d/n and the
    error of least squares on the true support (trial mean). Right: 2α and the horizon
    ln 2/(8δ√r) of the empirical-loss analysis under RIP (trial mean), in the same time
    units t = η·step.

    References
    ----------
    Li, Ma & Zhang (2018), Theorem 1.1 and its population and empirical-loss analyses;
    Vaškevičius, Kanade & Rebeschini (2019); docs/science.md §F3b.
    """
    summary = tables["sparse_recovery_summary"]
    summary = summary[summary["step"] > 0]
    trials = tables["sparse_recovery"]
    empirical = trials[trials["algorithm"] == "empirical"]
    n_max = summary["n_samples"].max()
    summary = summary[summary["n_samples"] == n_max]
    runs = empirical[(empirical["n_samples"] == n_max) & (empirical["step"] == 0)]
    noisy_runs = runs[runs["noise_std"] > 0]
    sigma = float(noisy_runs["noise_std"].iloc[0])
    fig, axes = subplots(ncols=2, width=4.6, height=3.6)
    alphas = sorted(summary["alpha"].unique(), reverse=True)
    colors = palette(len(alphas))
    for phase, (color, alpha) in enumerate(zip(colors, alphas, strict=True)):
        for style, noise in (("-", sigma), ("--", 0.0)):
            rows = summary[
                (summary["alpha"] == alpha)
                & (summary["algorithm"] == "empirical")
                & (summary["noise_std"] == noise)
                & (summary["diverged_mean"] == 0)
            ]
            for ax, column, scale in (
                (axes[0], "recovery_error", 1.0),
                (axes[1], "off_support_max", 1.0 / alpha),
            ):
                mean = rows[f"{column}_mean"] * scale
                ax.plot(rows["t_mean"], mean, color=color, ls=style)
                _band(ax, rows["t_mean"], mean, rows[f"{column}_ci95"] * scale, color)
        rows = summary[(summary["alpha"] == alpha) & (summary["algorithm"] == "population")]
        axes[1].plot(
            rows["t_mean"],
            rows["off_support_max_mean"] / alpha,
            color=color,
            ls="none",
            marker="x",
            ms=4,
            # Interleaved: population GD is the same for every α.
            markevery=(phase, len(alphas) * max(len(rows) // 24, 1)),
            zorder=REFERENCE_Z + 1,
        )
    rate = float(noisy_runs["rate"].mean())
    oracle = float(noisy_runs["oracle_error"].mean())
    # The levels as segments at the right edge, clear of the minima they are compared with.
    for level, style in ((rate, ":"), (oracle, "-.")):
        axes[0].axhline(level, xmin=0.82, color="black", ls=style, lw=1.4, zorder=REFERENCE_Z)
    axes[1].axhline(OFF_SUPPORT_RATIO, color="black", ls=":", lw=1.2, zorder=REFERENCE_Z)
    axes[1].set_ylim(bottom=0.5)
    axes[1].axvline(runs["t_lemma"].mean(), color="black", ls="-.", lw=1.0, zorder=REFERENCE_Z)
    k = _trials(tables, "sparse_recovery")
    axes[0].set_ylabel(r"recovery error $\|\beta\odot\beta - \beta^*\odot\beta^*\|^2$")
    axes[1].set_ylabel(r"max off-support $|\beta_j|\,/\,\alpha$")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(r"time $t = \eta k$ ($k$: step)")
        ax.set_title(f"$n = {n_max}$, trial means, {k} trials", fontsize=9)
    by_alpha = [
        Line2D([], [], color=c, label=rf"$\alpha$ = {a:g}")
        for c, a in zip(colors, alphas, strict=True)
    ]
    styles = [
        Line2D([], [], color="k", ls="-", label=rf"empirical GD, $\sigma = {sigma:g}$"),
        Line2D([], [], color="k", ls="--", label=r"empirical GD, $\sigma = 0$"),
    ]
    axes[0].legend(
        handles=by_alpha
        + styles
        + [
            Line2D(
                [], [], color="black", ls=":", label=r"rate $\sigma^2 r \ln d\,/\,n$, right end"
            ),
            Line2D([], [], color="black", ls="-.", label="least squares on $S$, right end"),
        ],
        fontsize=7.5,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.17),
        ncol=2,
    )
    axes[1].legend(
        handles=styles
        + [
            Line2D([], [], color="k", ls="none", marker="x", ms=4, label="population GD"),
            Line2D(
                [],
                [],
                color="black",
                ls=":",
                label=rf"${OFF_SUPPORT_RATIO:g}\alpha$ (population bound)",
            ),
            Line2D([], [], color="black", ls="-.", label=r"RIP horizon $\ln 2/(8\delta\sqrt{r})$"),
        ],
        fontsize=7.5,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.17),
        ncol=2,
    )
    return fig


FIGURES = {
    "population_error_vs_alpha": population_error_vs_alpha,
    "distances_vs_alpha": distances_vs_alpha,
    "gd_distance_to_limit": gd_distance_to_limit,
    "recovery_window": recovery_window,
}
