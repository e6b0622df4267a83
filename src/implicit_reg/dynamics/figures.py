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
    resolved_pl_checkpoints,
    transition_times,
)
from implicit_reg.plotting import PALETTE, power_label, sequential, subplots, use_style

#: Exact references: thin black dashes drawn above the data.
EXACT = {"color": "k", "ls": "--", "lw": 0.9, "zorder": 5}
EXACT_LABEL = r"exact (closed form $N \leq 2$, solve_ivp $N \geq 3$)"
#: Categorical colours of the palette without its vermillion, which is hard to tell
#: from its orange: blue, orange, green, pink, brown... in that order.
CATEGORICAL = tuple(PALETTE[i] for i in (0, 1, 2, 4, 5, 9, 7))


def _finest(table: pd.DataFrame) -> pd.DataFrame:
    smallest = table.groupby("depth").step_fraction.transform("min")
    return table[table.step_fraction == smallest]


def _log_ticks(axis) -> None:
    """Major ticks at 1, 2 and 5 times the powers of ten, labelled (`power_label`).

    For a log axis spanning about a decade, which the default locator labels once.
    """
    axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(power_label))
    axis.set_minor_formatter(NullFormatter())


def _reference_label(ax, y: float, text: str, x: float = 0.02, colour="0.3", below=False):
    """Write ``text`` just above (or below) the horizontal reference line at ``y``."""
    ax.annotate(
        text,
        xy=(x, y),
        xycoords=("axes fraction", "data"),
        xytext=(0, -2 if below else 2),
        textcoords="offset points",
        ha="left",
        va="top" if below else "bottom",
        fontsize=8,
        color=colour,
    )


def _panel_note(ax, text: str, x: float = 0.03, y: float = 0.05) -> None:
    """A short key written inside a panel's empty lower-left corner."""
    ax.text(x, y, text, transform=ax.transAxes, fontsize=8, color="0.25", va="bottom")


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
        lw=2.6,
        alpha=0.8,
        height=2.1,
        aspect=1.2,
        legend=False,
        facet_kws={"sharex": True, "sharey": True, "margin_titles": False},
    )
    for (eps, depth), ax in grid.axes_dict.items():
        runs = table[(table.depth == depth) & (table.init_scale == eps)]
        for _, curve in runs.groupby("index"):
            ax.plot(curve.t, curve.ratio_exact, **EXACT)
    # Log time, the same in all panels, from half the earliest time a σ_r reaches 5% of s_r.
    start = table[table.ratio >= 0.05].groupby(["depth", "init_scale", "index"]).t.min()
    left = 0.5 * float(start.min()) if len(start) else float(table.t.min())
    grid.set(xscale="log", xlim=(left, table.t.max() * 1.2), ylim=(-0.03, 1.05))
    grid.set_titles("N = {col_name}, ε = {row_name}")
    grid.set_axis_labels("time t = η·k", r"$\sigma_r(t)\,/\,s_r$")
    c = float(table.step_fraction.iloc[0]) if len(table) else float("nan")
    fig = grid.figure
    fig.subplots_adjust(right=0.88, bottom=0.2)
    handles = [
        Line2D([], [], color="0.55", lw=2.6, alpha=0.8, label=f"GD on the factors (c = {c:g})"),
        Line2D([], [], **{k: v for k, v in EXACT.items() if k != "zorder"}, label=EXACT_LABEL),
    ]
    _legend_below(fig, handles, ncol=2, top=0.075)
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
    colours = dict(zip(depths, sequential(len(depths)), strict=True))
    scales = sorted(times.init_scale.unique(), reverse=True)
    # Large open circles under small filled squares: at N = 1 the two ε coincide.
    markers = dict(zip(scales, ["o", "s", "^", "D"], strict=False))
    sizes = dict(zip(scales, [70, 18, 18, 18], strict=False))
    times["N"] = times.depth
    times["ε"] = times.init_scale
    fig, (left, middle, right) = subplots(ncols=3, width=3.25, height=3.0)
    for ax, column in ((left, "t50"), (middle, "width")):
        for _, rows in times.groupby(["depth", "init_scale"]):
            rows = rows.sort_values("s")
            ax.plot(rows.s, rows[f"{column}_exact"], color="k", lw=0.9, ls="--", zorder=5)
        sns.scatterplot(
            data=times,
            x="s",
            y=column,
            hue="N",
            palette=colours,
            style="ε",
            markers=markers,
            size="ε",
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
    errors["N"], errors["ε"] = errors.depth, errors.init_scale
    sns.lineplot(
        data=errors,
        x="step_fraction",
        y="error",
        hue="N",
        palette=colours,
        style="ε",
        markers=markers,
        dashes=False,
        estimator=None,
        legend=False,
        ax=right,
    )
    fractions = np.sort(errors.step_fraction.unique())
    anchor = errors[errors.step_fraction == fractions[-1]].error.max()
    right.plot(fractions, 1.4 * anchor * fractions / fractions[-1], color="k", ls=":", lw=1.2)
    right.axhline(CURVE_TOLERANCE, color="0.3", lw=0.9, ls="--", zorder=5)
    right.set(
        xscale="log",
        yscale="log",
        xlabel=r"step fraction $c$",
        ylabel=r"$\mathrm{max}_{t,r}\,|\sigma_r^{\mathrm{GD}} - \sigma_r|\,/\,s_r$",
        title="GD error vs step size",
    )
    right.set_xticks(fractions, [f"{c:g}" for c in fractions])
    right.xaxis.set_minor_locator(plt.NullLocator())
    _log_ticks(right.yaxis)
    handles, labels = left.get_legend_handles_labels()
    left.get_legend().remove()
    rings = {str(eps) for eps, size in sizes.items() if size == max(sizes.values())}
    for handle, label in zip(handles, labels, strict=True):
        if label in rings:
            handle.set_markerfacecolor("none")
    handles += [
        Line2D([], [], color="k", ls="--", lw=0.9),
        Line2D([], [], color="k", ls=":", lw=1.2),
        Line2D([], [], color="0.3", ls="--", lw=0.9),
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


def _summary_band(ax, rows, column: str, colour, ls: str = "-", lw: float = 1.8, label=None):
    """Trial mean of ``column`` against ``t_mean`` with its Student-t 95% band.

    Log axes: where the interval reaches zero the band is cut at a tenth of the mean.
    """
    rows = rows[rows.t_mean > 0].sort_values("t_mean")
    mean, half = rows[f"{column}_mean"], rows[f"{column}_ci95"].fillna(0.0)
    ax.plot(rows.t_mean, mean, ls=ls, color=colour, lw=lw, label=label, zorder=3)
    low = np.maximum(mean - half, mean / 10)
    ax.fill_between(rows.t_mean, low, mean + half, color=colour, alpha=0.2, lw=0, zorder=2)


def _algorithm_label(algorithm: str) -> str:
    return algorithm.upper().replace("_B", ", batch ")


def linear_nets(tables: Mapping[str, pd.DataFrame]):
    """(a) distance to A_min from a row-space W₁; (b) from a generic W₁, to A_min and to the
    exact limit; the change of W₁'s null-space component. Trial means against t = η·k."""
    summary = tables["linear_nets_summary"]
    summary = summary[summary.diverged_mean == 0]
    n_trials = int(tables["linear_nets"].trial.nunique())
    fig, axes = subplots(ncols=3, width=3.25, height=3.1)
    algorithms = sorted(summary.algorithm.unique())
    colours = dict(zip(algorithms, CATEGORICAL, strict=False))
    # The first algorithm thicker, so that the next one drawn over it leaves it visible.
    widths = dict(zip(algorithms, [2.8] + [1.4] * len(algorithms), strict=False))
    for algorithm in algorithms:
        colour, lw = colours[algorithm], widths[algorithm]
        rows = summary[summary.algorithm == algorithm]
        row_space, generic = rows[rows.init == "row_space"], rows[rows.init == "generic"]
        _summary_band(axes[0], row_space, "dist_min_norm", colour, lw=lw)
        _summary_band(axes[1], generic, "dist_min_norm", colour, ls="--", lw=lw)
        _summary_band(axes[1], generic, "dist_limit", colour, lw=lw)
        _summary_band(axes[2], row_space, "null_change", colour, lw=lw)
        _summary_band(axes[2], generic, "null_change", colour, ls="--", lw=lw)
        if len(generic):
            plateau = float(generic.sort_values("step").null_term_mean.iloc[-1])
            axes[1].axhline(plateau, color="k", ls=":", lw=1.3, zorder=5)
    axes[0].axhline(GD_TOLERANCE, color="0.3", ls="--", lw=0.9, zorder=4)
    _reference_label(axes[0], GD_TOLERANCE, f"GD and SGD tolerance {GD_TOLERANCE:g}")
    axes[1].axhline(GD_TOLERANCE, color="0.3", ls="--", lw=0.9, zorder=4)
    _reference_label(axes[1], GD_TOLERANCE, f"tolerance {GD_TOLERANCE:g}")
    axes[2].axhline(NULL_TOLERANCE, color="0.3", ls="--", lw=0.9, zorder=4)
    _reference_label(axes[2], NULL_TOLERANCE, f"tolerance {NULL_TOLERANCE:g}")
    distance = r"$\|W_2W_1 - A_{\min}\|\,/\,\|A_{\min}\|$"
    axes[0].set(ylabel=distance, title=r"(a) $W_1$ rows in Col($X$)")
    axes[1].set(ylabel="relative distance", title=r"(b) generic $W_1$")
    axes[2].set(
        ylabel=r"$\|W_1P_\perp - W_1(0)P_\perp\|\,/\,\|W_1(0)\|$",
        title=r"$W_1$'s component in Null($X^\top$)",
    )
    for ax in axes:
        ax.set(xscale="log", yscale="log", xlabel="time t = η·k")
    for ax in axes[:2]:
        low, _ = ax.get_ylim()
        ax.set_ylim(low, 30)  # room above the plateau at about 1
    positive = summary.null_change_mean[summary.null_change_mean > 0]
    low = float(positive.min()) if len(positive) else 1e-16
    axes[2].set_ylim(low / 10, NULL_TOLERANCE * 30)
    _panel_note(axes[1], "dashed: to $A_{\\min}$\nsolid: to the exact limit")
    _panel_note(axes[2], "solid: from (a)\ndashed: from (b)", y=0.3)
    handles = [
        Line2D([], [], color=colours[a], lw=widths[a], label=_algorithm_label(a))
        for a in algorithms
    ]
    handles.append(
        Line2D(
            [],
            [],
            color="k",
            ls=":",
            lw=1.3,
            label=r"(b): theory $\|W_2(\infty)W_1(0)P_\perp\|\,/\,\|A_{\min}\|$",
        )
    )
    fig.suptitle(f"Trial means of {n_trials} trials, 95% t bands", fontsize=9, y=0.99)
    fig.tight_layout(rect=(0, 0.12, 1, 0.97))
    _legend_below(fig, handles, ncol=3, top=0.12)
    return fig


def lazy_training(tables: Mapping[str, pd.DataFrame]):
    """Lazy-training quantities vs width (log–log, −½ and −1 guides); loss vs t with PL bounds."""
    table = tables["lazy_training"]
    table = table[~table.diverged]
    per_run = lazy_quantities(table)
    fig, (left, right) = subplots(ncols=2, width=4.3, height=3.4)
    series = {
        "weight_change": r"$\|\theta_T - \theta_0\|\,/\,\|\theta_0\|$",
        "lin_gap_train": r"$\mathrm{sup}_t\,\|f - f_{\mathrm{lin}}\|/\sqrt{p}$, p training points",
        "lin_gap_test": r"$\mathrm{sup}_t\,\|f - f_{\mathrm{lin}}\|/\sqrt{p}$, p held-out points",
        "kernel_change": r"$\|K_T - K_0\|_F\,/\,\|K_0\|_F$",
    }
    colours = dict(zip(series, CATEGORICAL, strict=False))
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
        (line,) = left.plot(
            widths, guide, style, color="k", lw=1.1, zorder=5, label=f"slope {power:g}"
        )
        handles.append(line)
    left.set(
        xscale="log",
        yscale="log",
        xlabel="width m",
        ylabel="relative change or distance",
        title="How far the network moves",
    )
    left.set_xscale("log", base=2)
    # Every other width: nine shades of one map are not told apart.
    shown = widths[::2] if len(widths) > 5 else widths
    colours = dict(zip(shown, sns.color_palette("viridis", len(shown)), strict=True))
    first = table[(table.trial == table.trial.min()) & (table.t > 0)].sort_values("t")
    loss0 = table[table.step == 0].groupby(["width", "trial"]).loss.first()
    for m in shown:
        rows = first[first.width == m]
        start = loss0.loc[(m, rows.trial.iloc[0])] if len(rows) else 1.0
        right.plot(rows.t, rows.loss / start, color=colours[m], lw=1.5, label=f"m = {m}")
    widest = first[first.width == widths[-1]]
    start = loss0.loc[(widths[-1], widest.trial.iloc[0])] if len(widest) else 1.0
    for column, style, rate in (("pl_bound_half", "--", ""), ("pl_bound", ":", "2")):
        right.plot(
            widest.t,
            widest[column] / start,
            style,
            color="k",
            lw=1.2,
            zorder=5,
            label=rf"$e^{{-{rate}\lambda_{{\min}}t/n}}$, m = {widths[-1]}",
        )
    right.set(
        xscale="log",
        yscale="log",
        xlabel="time t = η·k",
        ylabel=r"$\hat R(\theta_t)\,/\,\hat R(\theta_0)$",
        title="Loss and the PL bounds (first trial)",
    )
    fig.tight_layout()
    below = {"loc": "upper center", "bbox_to_anchor": (0.5, -0.18), "fontsize": 8}
    left.legend(handles=handles, **below)
    right.legend(ncol=2, **below)
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
    colours = dict(zip(groups, CATEGORICAL, strict=False))
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
    left.axhline(PL_RESOLVED_GAP, color="0.3", ls=":", lw=1.2, zorder=4)
    right.axhline(1.0, color="k", ls="--", lw=1, zorder=5)
    _reference_label(right, 1.0, "ratio 1: the bound", x=0.6, colour="k")
    left.set(
        yscale="log",
        xlabel="GD step k",
        ylabel=r"$(L(\beta_k) - L^*)\,/\,(L(\beta_0) - L^*)$",
        title="Median gap (band: all trials)",
    )
    right.set(
        yscale="log",
        ylim=(None, 30),
        xlabel="GD step k",
        ylabel=r"gap$_k\,/\,((1 - \eta\mu)^{2k}\,$gap$_0)$",
        title="Gap over the PL bound, per trial",
    )
    handles = [Line2D([], [], color=colours[g], label=f"n = {g[1]}, d = {g[0]}") for g in groups]
    handles += [
        Line2D([], [], color="0.3", label="GD gap (median)"),
        Line2D([], [], color="0.3", ls="--", label=r"exact rate $(1 - \eta\mu)^{2k}$ (median)"),
        Line2D(
            [],
            [],
            color="0.3",
            ls=":",
            lw=1.2,
            label="float64 ε: checkpoints whose bound is below it are not compared",
        ),
    ]
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    _legend_below(fig, handles, ncol=3, top=0.07)
    return fig


FIGURES = {
    "singular_values": singular_values,
    "half_times": half_times,
    "linear_nets": linear_nets,
    "lazy_training": lazy_training,
    "pl_rate": pl_rate,
}
