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


def soudry_panels(tables: Mapping[str, pd.DataFrame]):
    """Soudry et al. Fig. 1: ‖w‖, loss, angle gap and margin gap vs t, per algorithm.

    One row of four panels per (dataset, loss); lines are trial means of non-diverged
    runs, from the ``soudry_summary`` table.
    """
    summary = tables["soudry_summary"]
    summary = summary[(summary["step"] >= 1) & (summary["diverged_mean"] == 0)]
    cases = summary[["dataset", "loss"]].drop_duplicates().sort_values(["dataset", "loss"])
    fig, axes = subplots(ncols=4, nrows=len(cases), width=3.4, height=2.8, squeeze=False)
    colours = dict(zip(LABELS, palette(len(LABELS)), strict=True))
    panels = (
        # Log y: normalized GD grows linearly in t, constant steps like log t.
        ("norm_w_mean", "‖w(t)‖", "log"),
        ("train_loss_mean", "training loss L(w(t))", "log"),
        ("angle_gap_mean", "angle gap ‖w/‖w‖ − ŵ/‖ŵ‖‖", "log"),
        ("margin_gap_mean", "margin gap γ̄ − γ(w(t))", "log"),
    )
    for row, (_, case) in zip(axes, cases.iterrows(), strict=True):
        rows = summary[(summary["dataset"] == case["dataset"]) & (summary["loss"] == case["loss"])]
        for ax, (column, label, scale) in zip(row, panels, strict=True):
            for algorithm, colour in colours.items():
                line = rows[rows["algorithm"] == algorithm].sort_values("step")
                values = line[column].to_numpy()
                keep = values > 0 if scale == "log" else np.isfinite(values)
                ax.plot(line["step"][keep], values[keep], color=colour, label=LABELS[algorithm])
            if column == "norm_w_mean":
                gd = rows[(rows["algorithm"] == "gd") & (rows["step"] >= 2)].sort_values("step")
                ax.plot(
                    gd["step"],
                    gd["svm_norm_mean"] * np.log(gd["step"]),
                    "k--",
                    lw=1,
                    label="‖ŵ‖ log t",
                )
            ax.set_xscale("log")
            ax.set_yscale(scale)
            if column == "train_loss_mean":
                # Normalized GD drives L to 1e-300; keep the O(1/t) decay of the
                # constant-step runs readable.
                constant = rows[rows["algorithm"] != "normalized"][column]
                positive = constant[constant > 0]
                ax.set_ylim(float(positive.min()) / 100, float(positive.max()) * 10)
            ax.set_xlabel("iteration t")
            ax.set_ylabel(label)
            ax.set_title(f"{case['dataset']}, {case['loss']} loss", fontsize="small")
    axes[0, 0].legend(fontsize="x-small")
    fig.tight_layout()
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
