"""Figures of the bounds family (F4), each a function of the tables dict.

Diverged runs are excluded from every line; trial means are plotted with their 95%
interval where it is informative.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from implicit_reg.bounds import BOUND_LABELS, CHANCE_ERROR
from implicit_reg.plotting import palette, subplots

VARIANT_LABELS = {
    "true_labels": "true labels",
    "random_inputs": "random inputs",
    "half_random_inputs": "half random inputs",
    "half_adversarial": "half adversarial labels",
}


def _rows(trials: pd.DataFrame, section: str) -> pd.DataFrame:
    rows = trials[(trials["section"] == section) & ~trials["diverged"].astype(bool)]
    return rows


def error_vs_steps(tables: Mapping[str, pd.DataFrame]):
    """Training and test error vs SGD steps, one line per corruption level p (Zhang Fig. 1a)."""
    traj = _rows(tables["corruption"], "trajectory")
    traj = traj[traj["step"] > 0]
    levels = sorted(traj["p"].unique())
    colors = palette(len(levels))
    fig, axes = subplots(ncols=2, sharey=True)
    for ax, column, title in zip(
        axes, ("train_error", "test_error"), ("training error", "test error"), strict=True
    ):
        for color, p in zip(colors, levels, strict=True):
            mean = traj[traj["p"] == p].groupby("step")[column].mean()
            ax.plot(mean.index, mean.to_numpy(), color=color, marker=".", label=f"p = {p:g}")
        ax.axhline(CHANCE_ERROR, color="0.5", ls=":", lw=1, label="chance")
        ax.set_xscale("log")
        ax.set_xlabel("SGD steps")
        ax.set_title(title)
    axes[0].set_ylabel("0–1 error (mean over trials)")
    axes[1].legend(title="label corruption", fontsize="small")
    fig.suptitle("2-layer ReLU MLP on digits, mini-batch SGD")
    return fig


def test_error_vs_p(tables: Mapping[str, pd.DataFrame]):
    """Final training/test error vs p, and the four postulates' errors."""
    final = _rows(tables["corruption"], "final")
    fig, (ax, bx) = subplots(ncols=2)
    for column, label, marker in (
        ("test_error", "test error", "o"),
        ("train_error", "training error", "s"),
    ):
        stats = final.groupby("p")[column].agg(["mean", "std", "count"])
        ci = 1.96 * stats["std"].fillna(0) / np.sqrt(stats["count"])
        ax.errorbar(stats.index, stats["mean"], yerr=ci, marker=marker, capsize=3, label=label)
    ax.axhline(CHANCE_ERROR, color="0.5", ls=":", lw=1, label="chance (0.9)")
    ax.set_xlabel("label corruption p")
    ax.set_ylabel("0–1 error (mean ± 95% CI)")
    ax.set_title("random labels")
    ax.legend(fontsize="small")

    post = _rows(tables["postulates"], "final")
    variants = [v for v in VARIANT_LABELS if v in set(post["variant"])]
    pos = np.arange(len(variants))
    colors = palette(2)
    for shift, column, label, color in (
        (-0.2, "train_error", "training error", colors[1]),
        (0.2, "test_error", "test error", colors[0]),
    ):
        means = [post.loc[post["variant"] == v, column].mean() for v in variants]
        bx.bar(pos + shift, means, width=0.4, color=color, label=label)
    bx.axhline(CHANCE_ERROR, color="0.5", ls=":", lw=1, label="chance")
    bx.set_xticks(pos, [VARIANT_LABELS[v] for v in variants], rotation=20, ha="right")
    bx.set_ylabel("0–1 error (mean over trials)")
    bx.set_title("the four postulates")
    bx.legend(fontsize="small")
    return fig


def bounds_vs_p(tables: Mapping[str, pd.DataFrame]):
    """Every bound, the spectral measure, the measured test error and gap vs p (log y)."""
    final = _rows(tables["corruption"], "final")
    series = [(f"{b}_bound", BOUND_LABELS[b], "-") for b in BOUND_LABELS]
    series += [
        ("spectral_measure", "spectral measure (Bartlett et al., no constants)", "--"),
        ("test_error", "measured test error", ":"),
        ("gap", "measured gap (test − train error)", ":"),
    ]
    colors = palette(len(series))
    fig, ax = subplots(width=7.0, height=4.4)
    for (column, label, ls), color in zip(series, colors, strict=True):
        stats = final.groupby("p")[column].mean().dropna()
        stats = stats[stats > 0]
        if len(stats) == 0:
            continue
        ax.plot(stats.index, stats.to_numpy(), ls=ls, marker="o", color=color, label=label)
    ax.axhline(1.0, color="0.3", lw=1, label="vacuous above 1")
    ax.set_yscale("log")
    ax.set_xlabel("label corruption p")
    ax.set_ylabel("bound on the test loss / measured value")
    ax.set_title("Generalization bounds vs measured test error")
    ax.legend(fontsize="x-small", loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig


def compression_terms(tables: Mapping[str, pd.DataFrame]):
    """A_r, B_r and A_r + B_r vs the rank r, for each corruption level p (log y)."""
    ranks = _rows(tables["corruption"], "rank")
    levels = sorted(ranks["p"].unique())
    colors = palette(len(levels))
    fig, ax = subplots(width=6.0, height=4.2)
    count = ranks.groupby("rank")["count_term"].mean()
    ax.plot(count.index, count.to_numpy(), color="k", lw=2, label="$A_r$ (count term)")
    for color, p in zip(colors, levels, strict=True):
        sub = ranks[ranks["p"] == p].groupby("rank")[["approx_term", "compression_sum"]].mean()
        ax.plot(sub.index, sub["approx_term"], color=color, ls="--", label=f"$B_r$, p = {p:g}")
        ax.plot(
            sub.index, sub["compression_sum"], color=color, ls="-", label=f"$A_r + B_r$, p = {p:g}"
        )
    ax.set_yscale("log")
    ax.set_xlabel("rank r of every layer")
    ax.set_ylabel("term of the compression bound")
    ax.set_title("Compression bound terms (selected margin)")
    ax.legend(fontsize="x-small", ncols=2)
    return fig


FIGURES: dict[str, Callable] = {
    "error_vs_steps": error_vs_steps,
    "test_error_vs_p": test_error_vs_p,
    "bounds_vs_p": bounds_vs_p,
    "compression_terms": compression_terms,
}
