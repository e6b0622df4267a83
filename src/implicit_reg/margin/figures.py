"""Figures of the margin family: one function per figure, tables → matplotlib Figure."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from implicit_reg.plotting import palette, subplots

LABELS = {
    "gd": "GD, constant step",
    "momentum": "GD + momentum 0.9",
    "normalized": "normalized GD (step ∝ 1/L)",
}


GUIDE = {"color": "black", "lw": 1.1, "zorder": 6}
EXACT = "exact asymptote ŵ log t + w̃ (GD)"
#: Gaps at or below this are rounding noise (see `implicit_reg.margin.claims.GAP_FLOOR`).
PLOT_FLOOR = 1e-12


def _band(ax, line: pd.DataFrame, column: str, colour, label: str) -> None:
    """Trial mean of ``column`` with its Student-t 95% band, positive values only."""
    x = line["step"].to_numpy(float)
    mean, half = line[f"{column}_mean"].to_numpy(), line[f"{column}_ci95"].to_numpy()
    keep = np.isfinite(mean) & (mean > PLOT_FLOOR)
    ax.plot(x[keep], mean[keep], color=colour, lw=1.4, label=label, zorder=3)
    # On log axes a band reaching below 0 is drawn down to a tenth of the mean.
    low = np.maximum(mean - half, mean / 10)
    ax.fill_between(x[keep], low[keep], (mean + half)[keep], color=colour, alpha=0.15, lw=0)


def _guide(ax, x, shape, anchor_x: float, anchor_y: float, forward: bool = False, **style):
    """Draw ``c·shape(x)`` through ``(anchor_x, anchor_y)``, over two decades up to it
    (or from it, if ``forward``)."""
    at = np.interp(np.log(anchor_x), np.log(x), shape)
    low, high = (anchor_x, 100 * anchor_x) if forward else (anchor_x / 100, anchor_x)
    span = (x >= low) & (x <= high)
    ax.plot(x[span], anchor_y * shape[span] / at, **{**GUIDE, **style})


def _last(line: pd.DataFrame, column: str) -> tuple[float, float]:
    """``(step, value)`` of the last checkpoint where ``column`` is resolved."""
    rows = line[line[column] > PLOT_FLOOR]
    return float(rows["step"].iloc[-1]), float(rows[column].iloc[-1])


def soudry_panels(tables: Mapping[str, pd.DataFrame]):
    """Soudry et al. Fig. 1 with the exact asymptote, one row per (dataset, loss).

    Columns: ‖w(t)‖ with the asymptote's ‖ŵ log t + w̃‖; the training loss with its
    limit ‖ŵ‖²/(ηt); the angle and margin gaps with a 1/log t guide (and the 1/t rate of
    normalized GD); the asymptote residual ‖w − ŵ log t − w̃‖ with the ``t^{−ν}`` guide
    of the linearized dynamics. Lines are trial means with Student-t 95% bands
    (``soudry_summary``); diverged runs are excluded.
    """
    summary = tables["soudry_summary"]
    summary = summary[(summary["step"] >= 1) & (summary["diverged_mean"] == 0)]
    cases = summary[["dataset", "loss"]].drop_duplicates().sort_values(["dataset", "loss"])
    fig, axes = subplots(ncols=5, nrows=len(cases), width=2.75, height=2.2, squeeze=False)
    colours = dict(zip(LABELS, palette(len(LABELS)), strict=True))
    columns = (
        ("norm_w", "‖w(t)‖"),
        ("train_loss", "training loss L(w(t))"),
        ("angle_gap", "angle gap"),
        ("margin_gap", "margin gap γ̄ − γ(w)"),
        ("asymptote_residual", "‖w − ŵ log t − w̃‖"),
    )
    for row, (_, case) in zip(axes, cases.iterrows(), strict=True):
        rows = summary[(summary["dataset"] == case["dataset"]) & (summary["loss"] == case["loss"])]
        lines = {a: rows[rows["algorithm"] == a].sort_values("step") for a in LABELS}
        gd = lines["gd"]
        t = gd["step"].to_numpy(float)
        for ax, (column, label) in zip(row, columns, strict=True):
            for algorithm, colour in colours.items():
                if column == "asymptote_residual" and algorithm == "normalized":
                    continue
                _band(ax, lines[algorithm], column, colour, LABELS[algorithm])
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_ylabel(label)
        norm_ax, loss_ax, angle_ax, margin_ax, residual_ax = row
        late = t >= 10
        asymptote = (gd["svm_norm_mean"] * gd["asymptote_log_time_mean"]).to_numpy()
        norm_ax.plot(t[late], asymptote[late], ls="--", label=EXACT, **GUIDE)
        limit = gd["svm_norm_mean"] ** 2 / (gd["eta_mean"] * t)
        loss_ax.plot(t, limit, ls="--", label="limit ‖ŵ‖²/(ηt)", **GUIDE)
        constant = rows[rows["algorithm"] != "normalized"]["train_loss_mean"]
        constant = constant[constant > 0]
        loss_ax.set_ylim(float(constant.min()) / 30, float(constant.max()) * 10)
        for ax, column in ((angle_ax, "angle_gap_mean"), (margin_ax, "margin_gap_mean")):
            _guide(
                ax,
                t[late],
                1.0 / np.log(t[late]),
                *_last(gd, column),
                ls=":",
                label=r"$\propto 1/\log t$",
            )
            if case["dataset"] == "random":
                ax.plot(t[late], gd[f"asymptote_{column}"][late], ls="--", label=EXACT, **GUIDE)
        normalized = lines["normalized"]
        x = normalized["step"].to_numpy(float)
        if case["dataset"] == "random":
            anchor, forward = _last(normalized, "margin_gap_mean"), False
        else:  # o(1/t): start the guide at t = 10 and let the gap fall below it
            first = normalized[normalized["step"] >= 10].iloc[0]
            anchor, forward = (float(first["step"]), float(first["margin_gap_mean"])), True
        _guide(
            margin_ax, x, 1.0 / x, *anchor, forward, ls="-.", label=r"$\propto 1/t$ (normalized GD)"
        )
        nu = float(gd["residual_rate_mean"].iloc[0])
        _guide(
            residual_ax,
            t,
            t**-nu,
            *_last(gd, "asymptote_residual_mean"),
            ls=":",
            label=r"$\propto t^{-\nu}$",
        )
        residual_ax.text(
            0.04, 0.06, f"ν = {nu:.2f}", transform=residual_ax.transAxes, fontsize="small"
        )
        trials = int(gd["norm_w_count"].iloc[-1])
        row[0].set_title(
            f"{case['dataset']}, {case['loss']} loss ({trials} trials)",
            fontsize="small",
            loc="left",
        )
    for ax in axes[-1]:
        ax.set_xlabel("iteration t")
    handles = {}
    for ax in axes.ravel():
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    fig.legend(
        handles.values(),
        handles.keys(),
        loc="lower center",
        ncol=4,
        fontsize="small",
        bbox_to_anchor=(0.5, 0.0),
    )
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def perceptron_bound(tables: Mapping[str, pd.DataFrame]):
    """Perceptron updates vs the Block–Novikoff bound (R/γ)², one point per dataset."""
    table = tables["perceptron"]
    fig, ax = subplots(width=4.6, height=3.8)
    groups = table.groupby(["dim", "planted_margin"], sort=True)
    for colour, ((dim, margin), rows) in zip(palette(groups.ngroups), groups, strict=True):
        ax.scatter(
            rows["bound"],
            rows["updates"],
            s=8,
            alpha=0.6,
            color=colour,
            label=f"d = {dim}, planted γ = {margin:g}",
        )
    lo = max(1.0, float(table["updates"].clip(lower=1).min()) / 2)
    hi = float(table["bound"].max()) * 1.5
    ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="bound: updates = (R/γ)²")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("(R/γ)², R = max‖x_i‖, γ = planted margin")
    ax.set_ylabel("perceptron updates until separation")
    ax.legend(fontsize="x-small")
    return fig


def test_loss_error(tables: Mapping[str, pd.DataFrame]):
    """Test loss and test 0–1 error vs t (trial means with 95% bands), F2c."""
    summary = tables["test_loss_summary"].sort_values("step")
    summary = summary[(summary["step"] >= 1) & (summary["diverged_mean"] == 0)]
    fig, (left, right) = subplots(ncols=2, width=4.2, height=3.3)
    colours = palette(3)
    for ax, column, label, colour in (
        (left, "test_loss", "test logistic loss (mean)", colours[0]),
        (left, "train_loss", "training logistic loss (mean)", colours[2]),
        (right, "test_error", "test 0–1 error", colours[1]),
    ):
        mean, band = summary[f"{column}_mean"], summary[f"{column}_ci95"]
        ax.plot(summary["step"], mean, color=colour, label=label)
        ax.fill_between(summary["step"], mean - band, mean + band, color=colour, alpha=0.2)
    at_min = summary["test_loss_mean"].idxmin()
    for ax in (left, right):
        ax.axvline(summary.loc[at_min, "step"], color="grey", ls=":", label="test-loss minimum")
        ax.set_xscale("log")
        ax.set_xlabel("GD iteration t (logistic loss, constant step)")
        ax.legend(fontsize="x-small")
    left.set_yscale("log")
    left.set_ylabel("logistic loss")
    right.set_ylabel("test 0–1 error")
    fig.tight_layout()
    return fig


FIGURES = {
    "soudry_panels": soudry_panels,
    "perceptron_bound": perceptron_bound,
    "test_loss_error": test_loss_error,
}
