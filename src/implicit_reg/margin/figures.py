"""Figures of the margin family: one function per figure, tables → matplotlib Figure."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from implicit_reg.plotting import (
    DATA_WIDTH,
    THEORY,
    cycled,
    legend_below,
    palette,
    points,
    subplots,
    summary_lines,
)

LABELS = {
    "gd": "GD, constant step",
    "momentum": "GD + momentum 0.9",
    "normalized": r"normalized GD (step $\propto 1/L$)",
}
#: One colour per algorithm, the same in every panel.
COLOURS = dict(zip(LABELS.values(), palette(len(LABELS)), strict=True))
#: GD and momentum share their asymptote: momentum is drawn thinner over GD, so both
#: stay visible where they coincide, and the black references thinner still on top.
WIDTHS = dict(zip(LABELS.values(), (3.4, 1.6, DATA_WIDTH), strict=True))
DATASETS = {"soudry_2d": "2-D dataset", "random": "random planted-dual datasets"}

#: Every black line is exact or a rate, one line style per meaning.
EXACT = {**THEORY, "ls": "-"}
INVERSE_LOG = {**THEORY, "ls": "--"}
INVERSE_T = {**THEORY, "ls": "-.", "lw": 1.2}
RESIDUAL_RATE = {**THEORY, "ls": ":", "lw": 1.5}
EXACT_LABEL = r"exact asymptote $\hat w\,\log t + \tilde w$ of GD (its norm, loss, gaps)"
#: Rate guides pass through twice the value they are anchored at, beside the curve and
#: the exact asymptote they would otherwise hide.
GUIDE_OFFSET = 2.0
#: Gaps at or below this are rounding noise (see `implicit_reg.margin.claims.GAP_FLOOR`).
PLOT_FLOOR = 1e-12
#: The five quantities, one row each, with their axis labels.
QUANTITIES = (
    ("norm_w", r"$\|w(t)\|$"),
    ("train_loss", r"training loss $L(w(t))$"),
    ("angle_gap", "angle gap\n" r"$\|w/\|w\| - \hat w/\|\hat w\|\|$"),
    ("margin_gap", "margin gap\n" r"$\bar\gamma - \gamma(w)$"),
    ("asymptote_residual", "residual\n" r"$\|w - \hat w\,\log t - \tilde w\|$"),
)


def _guide(ax, x, shape, anchor_x: float, anchor_y: float, forward: bool = False, **style):
    """Draw ``c·shape(x)`` through ``(anchor_x, GUIDE_OFFSET·anchor_y)``, over two
    decades up to it (or from it, if ``forward``)."""
    anchor_y = anchor_y * GUIDE_OFFSET
    at = np.interp(np.log(anchor_x), np.log(x), shape)
    low, high = (anchor_x, 100 * anchor_x) if forward else (anchor_x / 100, anchor_x)
    span = (x >= low) & (x <= high)
    ax.plot(x[span], anchor_y * shape[span] / at, **style)


def _last(line: pd.DataFrame, column: str) -> tuple[float, float]:
    """``(step, value)`` of the last checkpoint where ``column`` is resolved."""
    rows = line[line[column] > PLOT_FLOOR]
    return float(rows["step"].iloc[-1]), float(rows[column].iloc[-1])


def _soudry_column(axes, rows: pd.DataFrame, dataset: str) -> None:
    """One loss: the five quantities of the three algorithms and their exact references."""
    rows = rows.assign(algorithm=rows["algorithm"].map(LABELS))
    for ax, (column, label) in zip(axes, QUANTITIES, strict=True):
        shown = rows[rows[f"{column}_mean"] > PLOT_FLOOR]
        if column == "asymptote_residual":  # normalized GD has no such asymptote
            shown = shown[shown["algorithm"] != LABELS["normalized"]]
        summary_lines(
            ax,
            shown,
            "step",
            column,
            "algorithm",
            COLOURS,
            relative_floor=0.1,
            opaque=True,
            hue_order=list(COLOURS),
            size="algorithm",
            sizes=WIDTHS,
        )
        ax.set(xscale="log", yscale="log", xlabel="", ylabel=label)
    norm_ax, loss_ax, angle_ax, margin_ax, residual_ax = axes
    gd = rows[rows["algorithm"] == LABELS["gd"]].sort_values("step")
    t = gd["step"].to_numpy(float)
    late = t >= 10
    asymptote = (gd["svm_norm_mean"] * gd["asymptote_log_time_mean"]).to_numpy()
    norm_ax.plot(t[late], asymptote[late], **EXACT, label=EXACT_LABEL)
    loss_ax.plot(t, gd["svm_norm_mean"] ** 2 / (gd["eta_mean"] * t), **EXACT)
    constant = rows[rows["algorithm"] != LABELS["normalized"]]["train_loss_mean"]
    constant = constant[constant > 0]
    loss_ax.set_ylim(float(constant.min()) / 30, float(constant.max()) * 10)
    for ax, column in ((angle_ax, "angle_gap_mean"), (margin_ax, "margin_gap_mean")):
        _guide(
            ax,
            t[late],
            1.0 / np.log(t[late]),
            *_last(gd, column),
            **INVERSE_LOG,
            label=r"rate $\propto 1/\log t$ (GD)",
        )
        if dataset == "random":  # on the 2-D dataset w̃ ∥ ŵ: the asymptote's gaps vanish
            ax.plot(t[late], gd[f"asymptote_{column}"][late], **EXACT)
    normalized = rows[rows["algorithm"] == LABELS["normalized"]].sort_values("step")
    x = normalized["step"].to_numpy(float)
    if dataset == "random":
        anchor, forward = _last(normalized, "margin_gap_mean"), False
    else:  # o(1/t): start the guide at t = 10 and let the gap fall below it
        first = normalized[normalized["step"] >= 10].iloc[0]
        anchor, forward = (float(first["step"]), float(first["margin_gap_mean"])), True
    _guide(
        margin_ax,
        x,
        1.0 / x,
        *anchor,
        forward,
        **INVERSE_T,
        label=r"rate $\propto 1/t$ (normalized GD)",
    )
    nu = float(gd["residual_rate_mean"].iloc[0])
    _guide(
        residual_ax,
        t,
        t**-nu,
        *_last(gd, "asymptote_residual_mean"),
        **RESIDUAL_RATE,
        label=r"rate $\propto t^{-\nu}$ of the linearized dynamics (GD)",
    )
    residual_ax.text(0.04, 0.08, rf"$\nu = {nu:.2f}$", transform=residual_ax.transAxes)


def soudry_figure(tables: Mapping[str, pd.DataFrame], dataset: str):
    """Soudry et al. Fig. 1 with the exact asymptote on one dataset family: one column
    per loss, one row per quantity.

    Rows: ‖w(t)‖ with the asymptote's ‖ŵ log t + w̃‖; the training loss with its limit
    ‖ŵ‖²/(ηt); the angle and margin gaps with a 1/log t guide (and the 1/t rate of
    normalized GD); the asymptote residual ‖w − ŵ log t − w̃‖ with the ``t^{−ν}`` guide
    of the linearized dynamics. Lines are trial means with Student-t 95% bands
    (``soudry_summary``); diverged runs are excluded.
    """
    summary = tables["soudry_summary"]
    summary = summary[
        (summary["step"] >= 1) & (summary["diverged_mean"] == 0) & (summary["dataset"] == dataset)
    ]
    if summary.empty:  # the configuration's grid leaves this dataset family out
        fig, ax = subplots(height=1.0)
        ax.set_axis_off()
        ax.text(0.5, 0.5, f"no {DATASETS[dataset]} in this configuration", ha="center")
        return fig
    losses = sorted(summary["loss"].unique())
    fig, axes = subplots(
        ncols=len(losses),
        nrows=len(QUANTITIES),
        width=4.2 if len(losses) > 1 else 5.5,
        height=1.9,
        squeeze=False,
        sharex=True,
        sharey="row",
    )
    for column, loss in zip(axes.T, losses, strict=True):
        rows = summary[summary["loss"] == loss]
        _soudry_column(column, rows, dataset)
        trials = int(rows["norm_w_count"].max())
        column[0].set_title(f"{loss} loss ({trials} trials)")
        column[-1].set_xlabel(r"iteration $t$")
    for ax in axes[:, 1:].ravel():
        ax.set_ylabel("")
    fig.tight_layout(h_pad=0.4)
    handles = [
        *(Line2D([], [], color=c, lw=WIDTHS[a], label=a) for a, c in COLOURS.items()),
        Line2D([], [], **EXACT, label=EXACT_LABEL),
        *(
            Line2D([], [], **style, label=label)
            for style, label in (
                (INVERSE_LOG, r"rate $\propto 1/\log t$ (GD)"),
                (INVERSE_T, r"rate $\propto 1/t$ (normalized GD)"),
                (RESIDUAL_RATE, r"rate $\propto t^{-\nu}$ of the linearized dynamics (GD)"),
            )
        ),
    ]
    legend_below(fig, ncol=2, handles=handles, labels=[h.get_label() for h in handles])
    return fig


def soudry_panels(tables: Mapping[str, pd.DataFrame]):
    """`soudry_figure` on the 2-D dataset of Soudry et al. (2018), Fig. 1."""
    return soudry_figure(tables, "soudry_2d")


def soudry_random(tables: Mapping[str, pd.DataFrame]):
    """`soudry_figure` on the random datasets with planted unequal duals."""
    return soudry_figure(tables, "random")


#: Legend names of the perceptron datasets' dimension (colour) and planted margin (marker).
DIMENSION = "$d$ = {}"
PLANTED = r"planted $\gamma$ = {:g}"
BOUND_LABEL = r"Block–Novikoff bound: updates = $(R/\gamma)^2$ (left), $(R/\bar\gamma)^2$ (right)"


def perceptron_bound(tables: Mapping[str, pd.DataFrame]):
    """Perceptron updates vs the Block–Novikoff bound (R/γ)², one point per dataset:
    left with the planted margin γ, right with the exact SVM margin γ̄ ≥ γ."""
    table = tables["perceptron"].assign(
        dimension=lambda t: t["dim"].map(DIMENSION.format),
        margin=lambda t: t["planted_margin"].map(PLANTED.format),
    )
    dims = sorted(table["dim"].unique())
    hue = dict(zip(map(DIMENSION.format, dims), palette(len(dims)), strict=True))
    margins = sorted(table["planted_margin"].unique())
    markers = cycled(map(PLANTED.format, margins), "o^sDv")
    fig, axes = subplots(ncols=2, width=4.1, height=3.6, sharey=True)
    lo = max(1.0, float(table["updates"].clip(lower=1).min()) / 2)
    hi = float(table[["bound", "bound_svm"]].max().max()) * 1.5
    for ax, column, label in (
        (axes[0], "bound", r"$(R/\gamma)^2$, $\gamma$ = planted margin"),
        (axes[1], "bound_svm", r"$(R/\bar\gamma)^2$, $\bar\gamma$ = SVM margin"),
    ):
        points(
            ax,
            table,
            column,
            "updates",
            "dimension",
            hue,
            style="margin",
            markers=markers,
            s=20,
            alpha=0.6,
            legend=ax is axes[0],
        )
        ax.plot([lo, hi], [lo, hi], **THEORY, label=BOUND_LABEL)
        ax.set(xscale="log", yscale="log", xlabel=label, ylabel="perceptron updates")
    fig.tight_layout()
    legend = axes[0].get_legend()
    entries = [
        (handle, text.get_text())
        for handle, text in zip(legend.legend_handles, legend.texts, strict=True)
        if text.get_text() in {*hue, *markers}  # not seaborn's group headings
    ]
    bound = axes[0].lines[-1]
    handles = [h for h, _ in entries] + [bound]
    labels = [label for _, label in entries] + [bound.get_label()]
    legend_below(fig, ncol=3, handles=handles, labels=labels, markerscale=1.6)
    return fig


def test_loss_error(tables: Mapping[str, pd.DataFrame]):
    """Test and training loss, test 0–1 error vs t (trial means with 95% bands), F2c."""
    summary = tables["test_loss_summary"]
    summary = summary[(summary["step"] >= 1) & (summary["diverged_mean"] == 0)]
    colours = dict(zip(("test set", "training set"), palette(3)[::2], strict=True))
    long = pd.concat(
        [
            summary.assign(data="test set").rename(
                columns={"test_loss_mean": "loss_mean", "test_loss_ci95": "loss_ci95"}
            ),
            summary.assign(data="training set").rename(
                columns={"train_loss_mean": "loss_mean", "train_loss_ci95": "loss_ci95"}
            ),
        ]
    )
    fig, (left, right) = subplots(ncols=2, width=4.1, height=3.2, sharex=True)
    summary_lines(left, long, "step", "loss", "data", colours, lw=2.0)
    test = summary.assign(data="test set")
    summary_lines(right, test, "step", "test_error", "data", colours, lw=2.0)
    at_min = float(summary.loc[summary["test_loss_mean"].idxmin(), "step"])
    for ax in (left, right):
        ax.axvline(at_min, color="grey", ls=":", lw=1.3, label="minimum of the test loss")
        ax.set(xscale="log", xlabel=r"GD iteration $t$")
    left.set(yscale="log", ylabel="logistic loss")
    right.set(ylabel="test 0–1 error")
    fig.tight_layout()
    handles = [Line2D([], [], color=c, lw=2.0, label=k) for k, c in colours.items()]
    handles.append(Line2D([], [], color="grey", ls=":", lw=1.3, label="minimum of the test loss"))
    legend_below(fig, ncol=3, handles=handles, labels=[h.get_label() for h in handles])
    return fig


FIGURES = {
    "soudry_panels": soudry_panels,
    "soudry_random": soudry_random,
    "perceptron_bound": perceptron_bound,
    "test_loss_error": test_loss_error,
}
