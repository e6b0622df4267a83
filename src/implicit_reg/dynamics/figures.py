"""Figures of the dynamics family. Each function takes the family's tables, returns a Figure."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from implicit_reg.dynamics.claims import (
    CURVE_TOLERANCE,
    NULL_TOLERANCE,
    PL_RESOLVED_GAP,
    lazy_quantities,
    loglog_fit,
    resolved_pl_checkpoints,
    transition_times,
)
from implicit_reg.plotting import palette, sequential, subplots

EXACT = {"color": "k", "ls": "--", "lw": 0.9, "zorder": 5}


def _finest(table: pd.DataFrame) -> pd.DataFrame:
    smallest = table.groupby("depth").step_fraction.transform("min")
    return table[table.step_fraction == smallest]


def singular_values(tables: Mapping[str, pd.DataFrame]):
    """σ_r(t)/s_r vs t: one column per depth N, one row per ε; exact curves dashed on top."""
    table = _finest(tables["matrix_factorization"])
    table = table[(table.trial == 0) & ~table.diverged]
    depths = sorted(table.depth.unique())
    scales = sorted(table.init_scale.unique(), reverse=True)
    fig, axes = subplots(
        ncols=len(depths), nrows=len(scales), width=3.0, height=2.5, squeeze=False, sharey=True
    )
    s_values = np.sort(table.s.unique())
    colours = dict(zip(s_values, sequential(len(s_values)), strict=True))
    for i, eps in enumerate(scales):
        for j, depth in enumerate(depths):
            ax = axes[i, j]
            runs = table[(table.depth == depth) & (table.init_scale == eps)]
            for s, curve in runs.groupby("s"):
                curve = curve.sort_values("t")
                ax.plot(curve.t, curve.sigma / s, color=colours[s], lw=2.2, alpha=0.75)
                ax.plot(curve.t, curve.sigma_exact / s, **EXACT)
            c = runs.step_fraction.iloc[0] if len(runs) else float("nan")
            ax.set_title(f"N = {depth}, ε = {eps:g}", fontsize=9)
            ax.set_ylim(-0.03, 1.05)
            if i == len(scales) - 1:
                ax.set_xlabel("time t = η·k")
            if j == 0:
                ax.set_ylabel("σ_r(t) / s_r")
    handles = [
        Line2D(
            [],
            [],
            color=colours[s_values[-1]],
            lw=2.2,
            alpha=0.75,
            label=f"GD on the factors (c = {c:g})",
        ),
        Line2D(
            [],
            [],
            **{k: v for k, v in EXACT.items() if k != "zorder"},
            label="exact (closed form N ≤ 2, solve_ivp N ≥ 3)",
        ),
    ]
    fig.tight_layout(rect=(0, 0, 0.92, 0.94))
    fig.legend(handles=handles, loc="upper center", ncol=2, fontsize=9, frameon=False)
    mappable = plt.cm.ScalarMappable(
        cmap="viridis", norm=plt.Normalize(s_values.min(), s_values.max())
    )
    fig.colorbar(mappable, ax=axes, fraction=0.02, pad=0.01, label="target singular value s_r")
    return fig


def half_times(tables: Mapping[str, pd.DataFrame]):
    """Half-times and relative transition widths vs s_r per (N, ε); GD error vs the step."""
    table = tables["matrix_factorization"]
    times = transition_times(table[~table.diverged])
    times = _finest(times)
    times = times[times.trial == 0]
    fig, (left, middle, right) = subplots(ncols=3, width=3.9, height=3.4)
    depths = sorted(times.depth.unique())
    colours = dict(zip(depths, palette(len(depths)), strict=True))
    scales = sorted(times.init_scale.unique(), reverse=True)
    markers = dict(zip(scales, ["o", "s", "^", "D"], strict=False))
    for (depth, eps), rows in times.groupby(["depth", "init_scale"]):
        rows = rows.sort_values("s")
        style = {"color": colours[depth], "marker": markers.get(eps, "o"), "ls": "none", "ms": 4}
        left.plot(rows.s, rows.t50, **style, label=f"N = {depth}, ε = {eps:g}")
        left.plot(rows.s, rows.t50_exact, color="k", lw=0.8, ls="--", zorder=5)
        middle.plot(rows.s, rows.width, **style)
        middle.plot(rows.s, rows.width_exact, color="k", lw=0.8, ls="--", zorder=5)
    left.set(
        xscale="log",
        yscale="log",
        xlabel="target singular value s_r",
        ylabel="half-time t_r (σ_r = s_r/2)",
        title="Half-times (GD marks, exact dashed)",
    )
    middle.set(
        xscale="log",
        yscale="log",
        xlabel="target singular value s_r",
        ylabel="(t_90% − t_10%) / t_r",
        title="Relative transition width",
    )
    errors = table.groupby(["depth", "init_scale", "step_fraction"]).error.max().reset_index()
    for (depth, eps), rows in errors.groupby(["depth", "init_scale"]):
        rows = rows.sort_values("step_fraction")
        right.plot(
            rows.step_fraction,
            rows.error,
            "-",
            marker=markers.get(eps, "o"),
            ms=4,
            color=colours[depth],
        )
    fractions = np.sort(errors.step_fraction.unique())
    anchor = errors[errors.step_fraction == fractions[-1]].error.max()
    right.plot(
        fractions,
        1.4 * anchor * fractions / fractions[-1],
        color="k",
        ls=":",
        lw=1,
        zorder=5,
        label="slope 1 (Euler: error ∝ η)",
    )
    right.axhline(
        CURVE_TOLERANCE, color="grey", lw=0.8, ls="--", label=f"claim threshold {CURVE_TOLERANCE:g}"
    )
    right.set(
        xscale="log",
        yscale="log",
        xlabel="step fraction c (η = c·dd'/(N s_max^(2−2/N)))",
        ylabel="max over t, r of |σ_r^GD − σ_r| / s_r",
        title="GD error vs step size",
    )
    right.set_xticks(fractions, [f"{c:g}" for c in fractions])
    right.xaxis.set_minor_locator(plt.NullLocator())
    right.legend(fontsize=7, loc="upper left")
    handles, labels = left.get_legend_handles_labels()
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.legend(
        handles, labels, loc="lower center", ncol=min(len(labels), 8), fontsize=7.5, frameon=False
    )
    return fig


def _band(ax, rows: pd.DataFrame, column: str, colour, style: str, label: str):
    curve = rows.groupby("step").agg(
        t=("t", "median"),
        mid=(column, "median"),
        lo=(column, lambda v: v.quantile(0.1)),
        hi=(column, lambda v: v.quantile(0.9)),
    )
    curve = curve[curve.t > 0]
    floor = 1e-17
    ax.plot(curve.t, curve.mid.clip(lower=floor), style, color=colour, label=label)
    ax.fill_between(
        curve.t,
        curve.lo.clip(lower=floor),
        curve.hi.clip(lower=floor),
        color=colour,
        alpha=0.15,
        linewidth=0,
    )


def linear_nets(tables: Mapping[str, pd.DataFrame]):
    """Distance to A_min and to the exact limit vs t; the null-space component's change."""
    table = tables["linear_nets"]
    table = table[~table.diverged]
    fig, axes = subplots(ncols=3, width=3.9, height=3.4)
    algorithms = sorted(table.algorithm.unique())
    colours = dict(zip(algorithms, palette(len(algorithms)), strict=True))
    names = {"row_space": "(a) W₁ rows in Col(X)", "generic": "(b) generic W₁"}
    styles = {"row_space": "-", "generic": "--"}
    for (init, algorithm), rows in table.groupby(["init", "algorithm"]):
        label = f"{algorithm.upper().replace('_B', ', batch ')}, {names[init]}"
        _band(axes[0], rows, "dist_min_norm", colours[algorithm], styles[init], label)
        _band(axes[1], rows, "dist_limit", colours[algorithm], styles[init], label)
        _band(axes[2], rows, "null_change", colours[algorithm], styles[init], label)
    generic = table[table.init == "generic"]
    if len(generic):
        last = generic[generic.step == generic.groupby("algorithm").step.transform("max")]
        plateau = float(last.null_term.median())
        axes[0].axhline(
            plateau, color="k", ls=":", lw=1.2, zorder=5, label="‖W₂(∞)W₁(0)P⊥‖/‖A_min‖ (median)"
        )
    axes[0].set(
        xscale="log",
        yscale="log",
        xlabel="time t = η·k",
        ylabel="‖W₂W₁ − A_min‖ / ‖A_min‖",
        title="Distance to A_min = YXᵀ(XXᵀ)⁺",
    )
    axes[1].set(
        xscale="log",
        yscale="log",
        xlabel="time t = η·k",
        ylabel="‖W₂W₁ − A_min − W₂W₁(0)P⊥‖ / ‖A_min‖",
        title="Distance to the exact limit",
    )
    axes[2].axhline(NULL_TOLERANCE, color="grey", ls="--", lw=0.8)
    axes[2].set(
        xscale="log",
        yscale="log",
        ylim=(1e-17, 1e-8),
        xlabel="time t = η·k",
        ylabel="‖W₁P⊥ − W₁(0)P⊥‖ / ‖W₁(0)‖",
        title="Null(Xᵀ) component of W₁",
    )
    axes[0].legend(fontsize=6.5, loc="lower left")
    fig.tight_layout()
    return fig


def lazy_training(tables: Mapping[str, pd.DataFrame]):
    """Lazy-training quantities vs width (log–log, −½ and −1 guides); loss vs t with PL bounds."""
    table = tables["lazy_training"]
    table = table[~table.diverged]
    per_run = lazy_quantities(table)
    fig, (left, right) = subplots(ncols=2, width=5.0, height=3.9)
    series = {
        "weight_change": "‖θ_T − θ₀‖/‖θ₀‖",
        "lin_gap_train": "sup_t ‖f − f_lin‖/√n, train",
        "lin_gap_test": "sup_t ‖f − f_lin‖/√n, held-out",
        "kernel_change": "‖K_T − K₀‖_F/‖K₀‖_F",
    }
    colours = dict(zip(series, palette(len(series)), strict=True))
    widths = np.sort(per_run.width.unique())
    for name, label in series.items():
        slope, se = loglog_fit(per_run.width, per_run[name])
        means = per_run.groupby("width")[name].apply(lambda v: np.exp(np.log(v).mean()))
        left.scatter(per_run.width, per_run[name], s=10, color=colours[name], alpha=0.5)
        left.plot(
            means.index,
            means,
            "o-",
            ms=3,
            color=colours[name],
            label=f"{label}: slope {slope:.2f} ± {se:.2f}",
        )
    top = per_run[list(series)].to_numpy().max()
    for power, style in ((-0.5, "--"), (-1.0, ":")):
        guide = top * 1.5 * (widths / widths[0]) ** power
        left.plot(widths, guide, style, color="k", lw=1, zorder=5, label=f"slope {power:g}")
    left.set(
        xscale="log",
        yscale="log",
        xlabel="width m",
        ylabel="relative change or distance",
        title="Lazy training: how far the network moves",
    )
    left.set_xscale("log", base=2)
    left.legend(fontsize=6.5, loc="lower left")
    colours = dict(zip(widths, sequential(len(widths)), strict=True))
    for m, rows in table[table.trial == 0].groupby("width"):
        rows = rows.sort_values("t")
        loss0 = rows.loss.iloc[0]
        right.plot(
            rows.t[rows.t > 0],
            (rows.loss / loss0)[rows.t > 0],
            color=colours[m],
            lw=1.2,
            label=f"m = {m}",
        )
    widest = table[(table.trial == 0) & (table.width == widths[-1])].sort_values("t")
    loss0 = widest.loss.iloc[0]
    widest = widest[widest.t > 0]
    right.plot(
        widest.t,
        widest.pl_bound_half / loss0,
        "--",
        color="k",
        lw=1.1,
        zorder=5,
        label=f"e^(−λ_min t/n), m = {widths[-1]}",
    )
    right.plot(
        widest.t,
        widest.pl_bound / loss0,
        ":",
        color="k",
        lw=1.1,
        zorder=5,
        label=f"e^(−2λ_min t/n), m = {widths[-1]}",
    )
    right.set(
        xscale="log",
        yscale="log",
        xlabel="time t = η·k",
        ylabel="R̂(θ_t) / R̂(θ₀)",
        title="Loss and the PL bounds (first trial)",
    )
    right.legend(fontsize=6.5, ncol=2, loc="lower left")
    fig.tight_layout()
    return fig


def pl_rate(tables: Mapping[str, pd.DataFrame]):
    """GD on least squares: the loss gap vs k with (1 − ημ)^k, and their ratio per trial.

    The ratio is drawn where the claim compares it (`resolved_pl_checkpoints`: the bound
    at least ε·gap_0); the left panel marks ε, below which the gap is at its rounding
    floor.
    """
    table = tables["pl_rate"]
    table = table[~table.diverged].copy()
    gap0 = table[table.step == 0].set_index(["n_features", "n_samples", "trial"]).gap
    index = pd.MultiIndex.from_frame(table[["n_features", "n_samples", "trial"]])
    table["relative_gap"] = table.gap.to_numpy() / gap0.reindex(index).to_numpy()
    table["relative_bound"] = table.bound.to_numpy() / gap0.reindex(index).to_numpy()
    table["ratio"] = table.gap / table.bound
    table["resolved"] = resolved_pl_checkpoints(table)
    fig, (left, right) = subplots(ncols=2, width=4.4, height=3.9)
    groups = sorted(table.groupby(["n_features", "n_samples"]).groups)
    colours = dict(zip(groups, palette(len(groups)), strict=True))
    for (d, n), rows in table.groupby(["n_features", "n_samples"]):
        colour = colours[(d, n)]
        curve = rows.groupby("step").agg(
            mid=("relative_gap", "median"),
            lo=("relative_gap", "min"),
            hi=("relative_gap", "max"),
            bound=("relative_bound", "median"),
        )
        left.plot(curve.index, curve.mid, color=colour)
        left.fill_between(curve.index, curve.lo, curve.hi, color=colour, alpha=0.15, lw=0)
        left.plot(curve.index, curve.bound, "--", color=colour, zorder=5)
        for _, run in rows[rows.resolved].groupby("trial"):
            right.plot(run.step, run.ratio, color=colour, lw=0.8, alpha=0.6)
    left.axhline(PL_RESOLVED_GAP, color="0.4", ls=":", lw=1.2, zorder=4)
    right.axhline(1.0, color="k", ls="--", lw=1, zorder=5)
    left.set(
        yscale="log",
        xlabel="GD step k",
        ylabel="(L(β_k) − L*) / (L(β₀) − L*)",
        title="Median gap (band: all trials)",
    )
    right.set(
        yscale="log",
        xlabel="GD step k",
        ylabel="gap_k / ((1 − ημ)^k gap_0)",
        title="Gap over the PL bound (compared checkpoints)",
    )
    handles = [Line2D([], [], color=colours[g], label=f"n = {g[1]}, d = {g[0]}") for g in groups]
    handles += [
        Line2D([], [], color="0.3", label="GD gap (median)"),
        Line2D([], [], color="0.3", ls="--", label="PL bound (1 − ημ)^k"),
        Line2D([], [], color="0.4", ls=":", label="ε: not compared below"),
        Line2D([], [], color="k", ls="--", lw=1, label="ratio 1"),
    ]
    fig.legend(handles=handles, loc="lower center", ncol=5, fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.11, 1, 1))
    return fig


FIGURES = {
    "singular_values": singular_values,
    "half_times": half_times,
    "linear_nets": linear_nets,
    "lazy_training": lazy_training,
    "pl_rate": pl_rate,
}
