"""Figures of the dynamics family. Each function takes the family's tables, returns a Figure."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.colors import LogNorm
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from implicit_reg.dynamics.claims import (
    CURVE_TOLERANCE,
    GD_TOLERANCE,
    NULL_TOLERANCE,
    PL_RESOLVED_GAP,
    lazy_quantities,
    least_squares_rate_bound,
    loglog_fit,
    pl_interval_rates,
    resolved_pl_checkpoints,
    transition_times,
)
from implicit_reg.plotting import (
    CATEGORICAL,
    SPLIT_TUPLES,
    THEORY,
    THRESHOLD,
    colour_scale_entry,
    cycled,
    decade_ticks,
    stored_band,
    subplots,
    threshold_line,
    use_style,
)

#: Exact references: thin black dashes drawn above the data.
EXACT = {**THEORY, "ls": "--", "lw": 0.9}
EXACT_LABEL = r"exact gradient flow (closed form for $N \leq 2$, ODE solver for $N \geq 3$)"
#: Limits predicted by theory: black dots above the data.
LIMIT = {**THEORY, "ls": ":", "lw": 1.4}


def _finest(table: pd.DataFrame) -> pd.DataFrame:
    smallest = table.groupby("depth").step_fraction.transform("min")
    return table[table.step_fraction == smallest]


def _legend_below(fig, handles, ncol: int, top: float = 0.0) -> None:
    """One legend for the whole figure, centred below its panels."""
    fig.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, top),
        ncol=ncol,
        fontsize=8.5,
        frameon=False,
    )


def singular_values(tables: Mapping[str, pd.DataFrame]):
    """σ_r(t)/s_r vs t (log): columns depth N, rows ε, hue s_r; exact curves dashed on top."""
    table = _finest(tables["matrix_factorization"])
    table = table[(table.trial == 0) & ~table.diverged & (table.t > 0)].copy()
    table["ratio"] = table.sigma / table.s
    table["ratio_exact"] = table.sigma_exact / table.s
    s_values = np.sort(table.s.unique())
    norm = LogNorm(s_values.min(), s_values.max())
    use_style()
    gd_line = {"lw": 2.6, "alpha": 0.8}
    grid = sns.relplot(
        data=table,
        x="t",
        y="ratio",
        hue="s",
        hue_norm=norm,
        palette="viridis",
        units="index",
        estimator=None,
        col="depth",
        row="init_scale",
        row_order=sorted(table.init_scale.unique(), reverse=True),
        kind="line",
        height=2.1,
        aspect=1.2,
        legend=False,
        facet_kws={"sharex": True, "sharey": True, "margin_titles": False},
        **gd_line,
    )
    for (eps, depth), ax in grid.axes_dict.items():
        runs = table[(table.depth == depth) & (table.init_scale == eps)]
        for _, curve in runs.groupby("index"):
            ax.plot(curve.t, curve.ratio_exact, **EXACT)
    # Log time, the same in all panels, from half the earliest time a σ_r reaches 5% of s_r.
    start = table[table.ratio >= 0.05].groupby(["depth", "init_scale", "index"]).t.min()
    left = 0.5 * float(start.min()) if len(start) else float(table.t.min())
    grid.set(xscale="log", xlim=(left, table.t.max() * 1.2), ylim=(-0.03, 1.05))
    grid.set_titles(r"$N = {col_name}$, $\varepsilon = {row_name}$")
    grid.set_axis_labels(r"time $t = \eta k$", r"$\sigma_r(t)\,/\,s_r$")
    c = float(table.step_fraction.iloc[0]) if len(table) else float("nan")
    fig = grid.figure
    fig.subplots_adjust(right=0.88, bottom=0.2)
    # The GD entry shows the colours of the bar: the colour of a GD line is its s_r.
    scale = colour_scale_entry(plt.cm.viridis(np.linspace(0, 1, 6)), **gd_line)
    fig.legend(
        [scale, Line2D([], [], **{k: v for k, v in EXACT.items() if k != "zorder"})],
        [rf"GD on the factors ($c = {c:g}$), colour: $s_r$", EXACT_LABEL],
        handler_map=SPLIT_TUPLES,
        handlelength=3.5,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.075),
        ncol=2,
        fontsize=8.5,
        frameon=False,
    )
    bar = fig.add_axes((0.9, 0.2, 0.015, 0.72))
    fig.colorbar(plt.cm.ScalarMappable(cmap="viridis", norm=norm), cax=bar)
    bar.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    bar.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    bar.yaxis.set_minor_formatter(NullFormatter())
    bar.set_ylabel(r"target singular value $s_r$ (line colour)")
    return fig


def half_times(tables: Mapping[str, pd.DataFrame]):
    """Half-times and relative transition widths vs s_r per (N, ε); GD error vs the step."""
    table = tables["matrix_factorization"]
    times = transition_times(table[~table.diverged])
    times = _finest(times)
    times = times[times.trial == 0].sort_values("init_scale", ascending=False)
    depths = sorted(times.depth.unique())
    colours = cycled(depths, CATEGORICAL)
    scales = sorted(times.init_scale.unique(), reverse=True)
    # Large open circles under small filled squares: at N = 1 the two ε coincide.
    markers = cycled(scales, ["o", "s", "^", "D"])
    sizes = cycled(scales, [70, 18, 18, 18])
    times["$N$"] = times.depth
    times[r"$\varepsilon$"] = times.init_scale
    fig, (left, middle, right) = subplots(ncols=3, width=3.25, height=3.0)
    for ax, column in ((left, "t50"), (middle, "width")):
        for _, rows in times.groupby(["depth", "init_scale"]):
            rows = rows.sort_values("s")
            ax.plot(rows.s, rows[f"{column}_exact"], **EXACT)
        sns.scatterplot(
            data=times,
            x="s",
            y=column,
            hue="$N$",
            palette=colours,
            style=r"$\varepsilon$",
            markers=markers,
            size=r"$\varepsilon$",
            sizes=sizes,
            edgecolor="face",
            linewidth=1.3,
            legend=ax is left,
            ax=ax,
            zorder=3,
        )
    for ax in (left, middle):
        _open_large_marks(ax.collections, max(sizes.values()))
    left.set(
        xscale="log",
        yscale="log",
        xlabel=r"target singular value $s_r$",
        ylabel=r"half-time $t_r$ ($\sigma_r = s_r/2$)",
        title="Half-times",
    )
    middle.set(
        xscale="log",
        yscale="log",
        xlabel=r"target singular value $s_r$",
        ylabel=r"$(t_{90\%} - t_{10\%})\,/\,t_r$",
        title="Relative transition width",
    )
    errors = table.groupby(["depth", "init_scale", "step_fraction"]).error.max().reset_index()
    errors["$N$"], errors[r"$\varepsilon$"] = errors.depth, errors.init_scale
    sns.lineplot(
        data=errors,
        x="step_fraction",
        y="error",
        hue="$N$",
        palette=colours,
        style=r"$\varepsilon$",
        markers=markers,
        dashes=False,
        estimator=None,
        legend=False,
        ax=right,
    )
    # The same open rings as on the left: at N = 1 the two ε coincide here too.
    ring = markers[scales[0]]
    for line in right.lines:
        if line.get_marker() == ring:
            line.set(markersize=7, markerfacecolor="none", markeredgewidth=1.3)
            line.set_markeredgecolor(line.get_color())
    fractions = np.sort(errors.step_fraction.unique())
    anchor = errors[errors.step_fraction == fractions[-1]].error.max()
    right.plot(fractions, 1.4 * anchor * fractions / fractions[-1], **{**LIMIT, "lw": 1.2})
    right.axhline(CURVE_TOLERANCE, **THRESHOLD)
    right.set(
        xscale="log",
        yscale="log",
        xlabel=r"step fraction $c$",
        ylabel=r"$\max_{t,r}\,|\sigma_r^{\mathrm{GD}} - \sigma_r|\,/\,s_r$",
        title="GD error vs step size",
    )
    right.set_xticks(fractions, [f"{c:g}" for c in fractions])
    right.xaxis.set_minor_locator(plt.NullLocator())
    for ax in (left, middle, right):
        decade_ticks(ax.yaxis)
    handles, labels = left.get_legend_handles_labels()
    left.get_legend().remove()
    rings = {str(eps) for eps, size in sizes.items() if size == max(sizes.values())}
    for handle, label in zip(handles, labels, strict=True):
        if label in rings:
            handle.set_markerfacecolor("none")
    handles += [
        Line2D([], [], **{k: v for k, v in EXACT.items() if k != "zorder"}),
        Line2D([], [], color="k", ls=":", lw=1.2),
        Line2D([], [], **{k: v for k, v in THRESHOLD.items() if k != "zorder"}),
    ]
    labels += [
        "exact (gradient flow)",
        r"slope 1 (Euler: error $\propto\eta$)",
        f"claim threshold {CURVE_TOLERANCE:g}",
    ]
    fig.tight_layout(rect=(0, 0.13, 1, 1))
    fig.legend(
        handles,
        labels,
        loc="lower center",
        ncol=len(labels),
        fontsize=8.5,
        frameon=False,
        handletextpad=0.2,
        columnspacing=1.0,
    )
    return fig


def _open_large_marks(collections, size: float) -> None:
    """Draw the marks of area ``size`` as open rings in their colour (others stay filled)."""
    for collection in collections:
        colours = collection.get_facecolors()
        if len(colours) != len(collection.get_sizes()):
            continue
        collection.set_edgecolors(colours.copy())
        colours[collection.get_sizes() >= size, 3] = 0.0
        collection.set_facecolors(colours)


def _summary_band(ax, rows, column: str, colour, log: bool = True, **line):
    """Trial mean of ``column`` against ``t_mean`` with its Student-t 95% band.

    Log axes: where the interval reaches zero the band is cut at a tenth of the mean.
    """
    rows = rows[rows.t_mean > 0].sort_values("t_mean")
    mean, half = rows[f"{column}_mean"], rows[f"{column}_ci95"].fillna(0.0)
    ax.plot(rows.t_mean, mean, color=colour, zorder=3, **line)
    stored_band(
        ax, rows.t_mean, mean, half, colour, relative_floor=0.1 if log else None, opaque=True
    )


def _algorithm_label(algorithm: str) -> str:
    return algorithm.upper().replace("_B", ", batch ")


def linear_nets(tables: Mapping[str, pd.DataFrame]):
    """(a) distance to A_min from a row-space W₁; (b) from a generic W₁, to the exact limit
    and to A_min with its predicted plateau; the change of W₁'s null-space component.
    Trial means against t = η·k."""
    summary = tables["linear_nets_summary"]
    summary = summary[summary.diverged_mean == 0]
    n_trials = int(tables["linear_nets"].trial.nunique())
    fig, axes = subplots(ncols=2, nrows=2, width=4.2, height=2.75)
    (row_ax, limit_ax), (plateau_ax, null_ax) = axes
    algorithms = sorted(summary.algorithm.unique())
    colours = cycled(algorithms, CATEGORICAL)
    # The first algorithm a thick line, the others thin lines with dots over it: where
    # the curves coincide both stay visible.
    styles = {
        a: {"lw": 3.2} if i == 0 else {"lw": 1.1, "marker": "o", "ms": 2.2}
        for i, a in enumerate(algorithms)
    }
    null_styles = {"row_space": "-", "generic": "--"}
    for algorithm in algorithms:
        colour, style = colours[algorithm], styles[algorithm]
        rows = summary[summary.algorithm == algorithm]
        row_space, generic = rows[rows.init == "row_space"], rows[rows.init == "generic"]
        _summary_band(row_ax, row_space, "dist_min_norm", colour, **style)
        _summary_band(limit_ax, generic, "dist_limit", colour, **style)
        _summary_band(plateau_ax, generic, "dist_min_norm", colour, log=False, **style)
        for init, ls in null_styles.items():
            thin = {**style, "lw": min(style["lw"], 1.6)}
            _summary_band(null_ax, rows[rows.init == init], "null_change", colour, ls=ls, **thin)
        if len(generic):
            plateau = float(generic.sort_values("step").null_term_mean.iloc[-1])
            plateau_ax.axhline(plateau, **LIMIT)
    threshold_line(row_ax, GD_TOLERANCE, f"claims' GD and SGD tolerance {GD_TOLERANCE:g}")
    threshold_line(limit_ax, GD_TOLERANCE, f"claims' tolerance {GD_TOLERANCE:g}")
    distance = r"$\|W_2W_1 - A_{\min}\|\,/\,\|A_{\min}\|$"
    row_ax.set(ylabel=distance, title=r"(a) $W_1$ rows in Col($X$): to $A_{\min}$")
    limit_ax.set(
        ylabel=r"$\|W_2W_1 - A_\infty\|\,/\,\|A_{\min}\|$",
        title=r"(b) generic $W_1$: to the exact limit $A_\infty$",
    )
    plateau_ax.set(ylabel=distance, title=r"(b) generic $W_1$: to $A_{\min}$")
    null_ax.set(
        ylabel=r"$\|(W_1 - W_1(0))P_\perp\|\,/\,\|W_1(0)\|$",
        title=r"$W_1$'s component in Null($X^\top$)",
    )
    for ax in axes.flat:
        ax.set(xscale="log", xlabel=r"time $t = \eta k$")
        if ax is not plateau_ax:
            ax.set_yscale("log")
    # The null-space change is at rounding level, decades below its tolerance: the axis
    # spans the data and the tolerance is stated at its top.
    positive = summary.null_change_mean[summary.null_change_mean > 0]
    low, high = (float(positive.min()), float(positive.max())) if len(positive) else (1e-17, 1e-15)
    null_ax.set_ylim(low / 3, high * 100)
    for ax in (row_ax, limit_ax):
        ax.set_ylim(None, 10)  # room above the start at about 1
    decades = np.log10(NULL_TOLERANCE / high)
    null_ax.text(
        0.03,
        0.95,
        f"claim tolerance {NULL_TOLERANCE:g}: {decades:.0f} decades higher ↑",
        transform=null_ax.transAxes,
        va="top",
        fontsize=8,
        color=THRESHOLD["color"],
    )
    handles = [
        Line2D([], [], color=colours[a], **styles[a], label=_algorithm_label(a)) for a in algorithms
    ]
    handles += [
        Line2D(
            [],
            [],
            **{k: v for k, v in LIMIT.items() if k != "zorder"},
            label=r"theory: plateau $\|W_2(\infty)W_1(0)P_\perp\|\,/\,\|A_{\min}\|$",
        ),
        Line2D([], [], color="0.3", ls="-", lw=1.1, label="Null($X^\\top$) panel: from (a)"),
        Line2D([], [], color="0.3", ls="--", lw=1.1, label="Null($X^\\top$) panel: from (b)"),
    ]
    fig.suptitle(f"Trial means of {n_trials} trials, 95% t bands", fontsize=9, y=0.995)
    fig.tight_layout(rect=(0, 0.08, 1, 0.98))
    _legend_below(fig, handles, ncol=3, top=0.08)
    return fig


def _interval_rates(table: pd.DataFrame) -> pd.DataFrame:
    """`pl_interval_rates` with the time ``t_end`` at the end of each interval."""
    rates = pl_interval_rates(table)
    runs = table.sort_values("step").groupby(["width", "trial"])
    ends = table.sort_values("step").assign(t_end=runs.t.shift(-1))
    return rates.merge(ends[["width", "trial", "step", "t_end"]], on=["width", "trial", "step"])


#: Line colours of the narrowest and the widest network in lazy_training's right panel.
WIDTH_GREYS = ("0.65", "0.15")


def lazy_training(tables: Mapping[str, pd.DataFrame]):
    """Lazy-training quantities vs width (log–log, −½ and −1 guides); the loss's decay
    rate on every checkpoint interval in units of λ_min(K₀)/n, with the PL threshold 1."""
    table = tables["lazy_training"]
    table = table[~table.diverged]
    per_run = lazy_quantities(table)
    fig, (left, right) = subplots(ncols=2, width=4.3, height=3.4)
    gap = r"$\mathrm{sup}_t\,\|f - f_{\mathrm{lin}}\|/\sqrt{%s}$ on the $%s$ %s points"
    series = {
        "weight_change": r"$\|\theta_T - \theta_0\|\,/\,\|\theta_0\|$",
        "lin_gap_train": gap % ("n", "n", "training"),
        "lin_gap_test": gap % (r"n_{\mathrm{test}}", r"n_{\mathrm{test}}", "held-out"),
        "kernel_change": r"$\|K_T - K_0\|_F\,/\,\|K_0\|_F$",
    }
    colours = cycled(series, CATEGORICAL)
    widths = np.sort(per_run.width.unique())
    handles = []
    for name, label in series.items():
        slope, se = loglog_fit(per_run.width, per_run[name])
        means = per_run.groupby("width")[name].apply(lambda v: np.exp(np.log(v).mean()))
        left.scatter(per_run.width, per_run[name], s=10, color=colours[name], alpha=0.45, lw=0)
        (line,) = left.plot(
            means.index,
            means,
            "o-",
            ms=3.5,
            color=colours[name],
            label=f"{label}: slope {slope:.2f} ± {se:.2f}",
        )
        handles.append(line)
    top = per_run[list(series)].to_numpy().max()
    for power, style in ((-0.5, "--"), (-1.0, ":")):
        guide = top * 1.5 * (widths / widths[0]) ** power
        (line,) = left.plot(widths, guide, **{**THEORY, "ls": style, "lw": 1.1})
        line.set_label(f"slope {power:g}")
        handles.append(line)
    left.set(
        yscale="log",
        xlabel="width $m$",
        ylabel="relative change or distance",
        title="How far the network moves",
    )
    left.set_xscale("log", base=2)
    rates = _interval_rates(table)
    widest, narrowest = int(widths[-1]), int(widths[0])
    # Widths in greys (the claim's darkest): the left panel's colours are its quantities.
    for m, colour, style in (
        (narrowest, WIDTH_GREYS[0], {"lw": 1.0}),
        (widest, WIDTH_GREYS[1], {"lw": 1.6, "marker": "o", "ms": 2.5}),
    ):
        for _, run in rates[rates.width == m].groupby("trial"):
            right.plot(run.t_end, run.rate, color=colour, zorder=3, **style)
    right.axhline(2.0, **{**LIMIT, "lw": 1.2})
    threshold_line(right, 1.0, "claim threshold 1 (the PL bound with half the rate)", below=True)
    right.set(
        xscale="log",
        yscale="log",
        ylim=(0.5, None),
        xlabel=r"time $t_{j+1} = \eta k_{j+1}$ at the interval's end",
        ylabel=r"decay rate in units of $\lambda_{\min}(K_0)/n$",
        title=r"Loss decay rate on each checkpoint interval",
    )
    n_trials = int(table.trial.nunique())
    right_handles = [
        Line2D([], [], color=WIDTH_GREYS[1], lw=1.6, marker="o", ms=2.5),
        Line2D([], [], color=WIDTH_GREYS[0], lw=1.0),
        Line2D([], [], **{k: v for k, v in LIMIT.items() if k != "zorder"}),
    ]
    right_labels = [
        f"$m = {widest}$ (the claim), {n_trials} trials",
        f"$m = {narrowest}$ (for contrast)",
        "linearized model's slowest rate, 2",
    ]
    fig.tight_layout()
    below = {"loc": "upper center", "bbox_to_anchor": (0.5, -0.18), "fontsize": 8}
    left.legend(handles=handles, **below)
    right.legend(right_handles, right_labels, **below)
    return fig


def pl_rate(tables: Mapping[str, pd.DataFrame]):
    """GD on least squares: the loss gap vs k with (1 − ημ)^{2k}, and their ratio per trial.

    The ratio is drawn where the claim compares it (`resolved_pl_checkpoints`: the bound
    at least ε·gap_0); the left panel marks ε, below which the gap is at its rounding
    floor.
    """
    table = tables["pl_rate"]
    table = table[~table.diverged].copy()
    gap0 = table[table.step == 0].set_index(["n_features", "n_samples", "trial"]).gap
    index = pd.MultiIndex.from_frame(table[["n_features", "n_samples", "trial"]])
    table["relative_gap"] = table.gap.to_numpy() / gap0.reindex(index).to_numpy()
    bound = least_squares_rate_bound(table)
    table["relative_bound"] = bound.to_numpy() / gap0.reindex(index).to_numpy()
    table["ratio"] = table.gap / bound
    table["resolved"] = resolved_pl_checkpoints(table)
    fig, (left, right) = subplots(ncols=2, width=4.3, height=3.4)
    groups = sorted(table.groupby(["n_features", "n_samples"]).groups)
    colours = cycled(groups, CATEGORICAL)
    for (d, n), rows in table.groupby(["n_features", "n_samples"]):
        colour = colours[(d, n)]
        curve = rows.groupby("step").agg(
            mid=("relative_gap", "median"),
            lo=("relative_gap", "min"),
            hi=("relative_gap", "max"),
            bound=("relative_bound", "median"),
        )
        left.plot(curve.index, curve.mid, color=colour, lw=1.8)
        left.fill_between(curve.index, curve.lo, curve.hi, color=colour, alpha=0.15, lw=0)
        left.plot(curve.index, curve.bound, "--", color=colour, lw=1.3, zorder=5)
        for _, run in rows[rows.resolved].groupby("trial"):
            right.plot(run.step, run.ratio, color=colour, lw=0.8, alpha=0.6)
    epsilon = {"ls": ":", "lw": 1.2}
    threshold_line(left, PL_RESOLVED_GAP, f"float64 ε = {PL_RESOLVED_GAP:.1e}", x=0.6, **epsilon)
    threshold_line(right, 1.0, "claim threshold 1: the bound", x=0.45)
    left.set(
        yscale="log",
        xlabel="GD step $k$",
        ylabel=r"$(L(\beta_k) - L^*)\,/\,(L(\beta_0) - L^*)$",
        title="Median gap (band: all trials)",
    )
    right.set(
        yscale="log",
        ylim=(None, 30),
        xlabel="GD step $k$",
        ylabel=r"$\mathrm{gap}_k\,/\,((1 - \eta\mu)^{2k}\,\mathrm{gap}_0)$",
        title="Gap over the PL bound, per trial",
    )
    handles = [
        Line2D([], [], color=colours[g], label=f"$n = {g[1]}$, $d = {g[0]}$") for g in groups
    ]
    handles += [
        Line2D([], [], color="0.3", label="GD gap (median; right: every trial)"),
        Line2D([], [], color="0.3", ls="--", label=r"exact rate $(1 - \eta\mu)^{2k}$ (median)"),
        Line2D(
            [],
            [],
            **{**THRESHOLD, **epsilon, "zorder": None},
            label="float64 ε: the claim compares the checkpoints whose bound is above it\n"
            "(below it the computed gap is rounding error)",
        ),
    ]
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    _legend_below(fig, handles, ncol=2, top=0.07)
    return fig


FIGURES = {
    "singular_values": singular_values,
    "half_times": half_times,
    "linear_nets": linear_nets,
    "lazy_training": lazy_training,
    "pl_rate": pl_rate,
}
