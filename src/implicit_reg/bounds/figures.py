"""Figures of the bounds family (F4), each a function of the tables dict.

Lines are means over trials; bands and error bars are Student-t 95% intervals of the
mean (`implicit_reg.experiment.student_half_width`). Legends sit outside the axes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from implicit_reg.bounds.claims import CAP, CHANCE_ERROR
from implicit_reg.experiment import student_half_width
from implicit_reg.plotting import palette, subplots

VARIANT_LABELS = {
    "true_labels": "true labels",
    "random_inputs": "random inputs",
    "half_random_inputs": "half random inputs",
    "half_adversarial": "half adversarial labels",
}
PANEL_TITLES = {
    "compression": "compression (ramp loss)",
    "frobenius": "Frobenius norm (0–1 error)",
    "pacbayes_mcallester": "PAC-Bayes, McAllester",
    "pacbayes_kl": "PAC-Bayes, kl-inverse",
    "pacbayes_optimized": "PAC-Bayes, optimized Q",
    "pacbayes_datadep": "PAC-Bayes, data-dep. prior",
}


def _rows(trials: pd.DataFrame, section: str) -> pd.DataFrame:
    return trials[(trials["section"] == section) & ~trials["diverged"].astype(bool)]


def mean_band(frame: pd.DataFrame, key: str, column: str) -> pd.DataFrame:
    """Mean, Student 95% half-width and count of ``column`` per value of ``key`` (NaN dropped)."""
    stats = frame.groupby(key)[column].agg(["mean", "std", "count"])
    stats = stats[stats["count"] > 0]
    stats["half"] = student_half_width(stats["std"].fillna(0.0), stats["count"])
    return stats


def _n_trials(frame: pd.DataFrame) -> int:
    return int(frame["trial"].nunique()) if len(frame) else 0


def error_vs_steps(tables: Mapping[str, pd.DataFrame]):
    """Training and test error vs SGD steps, one line per corruption level p (Zhang Fig. 1a)."""
    traj = _rows(tables["corruption"], "trajectory")
    traj = traj[traj["step"] > 0]
    levels = sorted(traj["p"].unique())
    colors = palette(len(levels))
    fig, axes = subplots(ncols=2, sharey=True, width=4.0, height=3.2)
    for ax, column, title in zip(
        axes, ("train_error", "test_error"), ("training error", "test error"), strict=True
    ):
        for color, p in zip(colors, levels, strict=True):
            stats = mean_band(traj[traj["p"] == p], "step", column)
            x, y = stats.index.to_numpy(), stats["mean"].to_numpy()
            ax.plot(x, y, color=color, marker=".", label=f"p = {p:g}")
            ax.fill_between(x, y - stats["half"], y + stats["half"], color=color, alpha=0.2, lw=0)
        ax.axhline(
            CHANCE_ERROR, color="0.4", ls=":", lw=1.2, label=f"chance ({CHANCE_ERROR:g})", zorder=3
        )
        ax.set_xscale("log")
        ax.set_xlabel("SGD steps")
        ax.set_title(title)
    axes[0].set_ylabel("0–1 error")
    axes[0].set_ylim(-0.03, 1.0)
    axes[1].legend(
        title=f"label corruption\n(mean of {_n_trials(traj)} trials,\n95% t band)",
        fontsize="small",
        loc="center left",
        bbox_to_anchor=(1.02, 0.5),
    )
    return fig


def test_error_vs_p(tables: Mapping[str, pd.DataFrame]):
    """Final training/test error vs p, and the four postulates' errors."""
    final = _rows(tables["corruption"], "final")
    fig, (ax, bx) = subplots(ncols=2, width=4.4, height=3.6)
    for column, label, marker in (
        ("test_error", "test error", "o"),
        ("train_error", "training error", "s"),
    ):
        stats = mean_band(final, "p", column)
        ax.errorbar(
            stats.index, stats["mean"], yerr=stats["half"], marker=marker, capsize=3, label=label
        )
    ax.axhline(CHANCE_ERROR, color="0.4", ls=":", lw=1.2)
    ax.set_xlabel("label corruption p")
    ax.set_ylabel("0–1 error")
    ax.set_ylim(-0.03, 1.0)
    ax.set_title("random labels")

    post = _rows(tables["postulates"], "final")
    variants = [v for v in VARIANT_LABELS if v in set(post["variant"])]
    pos = np.arange(len(variants))
    test = mean_band(post, "variant", "test_error").reindex(variants)
    train = mean_band(post, "variant", "train_error").reindex(variants)
    bx.bar(pos, test["mean"], yerr=test["half"], capsize=3, width=0.55, color=palette(1)[0])
    bx.errorbar(
        pos, train["mean"], yerr=train["half"], fmt="D", color="k", ms=5, capsize=3, zorder=5
    )
    bx.axhline(CHANCE_ERROR, color="0.4", ls=":", lw=1.2)
    bx.set_xticks(pos, [VARIANT_LABELS[v] for v in variants], rotation=20, ha="right")
    bx.set_ylim(-0.03, 1.0)
    bx.set_title("the four postulates")
    handles = [
        Line2D([], [], color=palette(1)[0], marker="o", label="test error (left)"),
        Line2D([], [], color=palette(2)[1], marker="s", label="training error (left)"),
        Patch(color=palette(1)[0], label="test error (right)"),
        Line2D([], [], color="k", marker="D", ls="", label="training error (right)"),
        Line2D([], [], color="0.4", ls=":", label=f"chance ({CHANCE_ERROR:g})"),
    ]
    fig.legend(
        handles=handles,
        loc="lower center",
        ncols=5,
        fontsize="small",
        bbox_to_anchor=(0.5, -0.02),
        title=f"mean ± 95% t interval over {_n_trials(final)} trials per level "
        f"({_n_trials(post)} per postulate)",
        title_fontsize="small",
    )
    fig.subplots_adjust(bottom=0.3, wspace=0.2)
    return fig


def _line(ax, stats: pd.DataFrame, **style) -> None:
    x, y = stats.index.to_numpy(float), stats["mean"].to_numpy()
    ax.plot(x, y, **style)
    if "half" in stats and np.any(stats["half"] > 0):
        ax.fill_between(
            x, y - stats["half"], y + stats["half"], color=style.get("color"), alpha=0.18, lw=0
        )


def bounds_vs_p(tables: Mapping[str, pd.DataFrame]):
    """One panel per bound: the bound, the loss it bounds and the network's error vs p.

    In each panel (log y): the bound (mean, Student 95% band); the loss it bounds, the
    expected loss on the training distribution; the same loss on the clean test labels
    (for PAC-Bayes bounds the Gibbs error of the posterior, Monte Carlo over posterior
    draws); the deterministic network's test error; the line 1 above which a bound is
    vacuous. A last panel shows the spectral measure.
    """
    final = _rows(tables["corruption"], "final")
    c_bound, c_pop, c_test = palette(3)
    c_det = "0.35"
    fig, axes = subplots(ncols=4, nrows=2, width=3.0, height=2.6, sharex=True)
    axes = axes.ravel()
    handles = {}
    for ax, (bound, title) in zip(axes, PANEL_TITLES.items(), strict=False):
        stats = mean_band(final, "p", f"{bound}_bound")
        det = mean_band(final, "p", "test_error")
        pop = mean_band(final, "p", f"{bound}_population_loss")
        test = mean_band(final, "p", f"{bound}_test_loss")
        loss = (
            "Gibbs error"
            if bound.startswith("pacbayes")
            else ("ramp loss" if bound == "compression" else "0–1 error")
        )
        _line(ax, det, color=c_det, ls="-", lw=1.2, marker="s", ms=3, zorder=2)
        if bound != "frobenius":  # its loss on the clean test set is the network's error
            _line(ax, test, color=c_test, ls=":", lw=1.6, marker="^", ms=4, zorder=3)
        _line(ax, pop, color=c_pop, ls="--", lw=1.6, marker="v", ms=4, zorder=4)
        _line(ax, stats, color=c_bound, ls="-", lw=2.0, marker="o", ms=4, zorder=5)
        ax.axhline(CAP, color="0.2", lw=0.8, ls="-.", zorder=1)
        ax.set_yscale("log")
        ax.set_title(title, fontsize="medium")
        ax.text(
            0.03,
            0.03,
            f"measured: {loss}",
            transform=ax.transAxes,
            fontsize="x-small",
            color="0.3",
        )
        if stats.empty:
            ax.text(0.5, 0.5, "not computed", transform=ax.transAxes, ha="center")
    handles = [
        (
            f"bound (mean of {_n_trials(final)} trials,\n95% t band)",
            dict(color=c_bound, ls="-", lw=2.0, marker="o"),
        ),
        (
            "loss it bounds: expected on the\ntraining distribution (label noise p)",
            dict(color=c_pop, ls="--", lw=1.6, marker="v"),
        ),
        ("same loss on the clean test labels", dict(color=c_test, ls=":", lw=1.6, marker="^")),
        (
            "deterministic network's test error\n(Frobenius panel: its loss)",
            dict(color=c_det, ls="-", lw=1.2, marker="s"),
        ),
        ("1: vacuous above", dict(color="0.2", lw=0.8, ls="-.")),
    ]
    sx = axes[6]
    spectral = mean_band(final, "p", "spectral_measure")
    _line(sx, spectral, color=c_bound, ls="-", lw=2.0, marker="o", ms=4)
    sx.set_yscale("log")
    sx.set_title("spectral measure", fontsize="medium")
    legend_ax = axes[7]
    legend_ax.axis("off")
    for label, style in handles:
        legend_ax.plot([], [], label=label, **style)
    legend_ax.legend(loc="center left", fontsize="small", frameon=False)
    for ax in axes[4:7]:
        ax.set_xlabel("label corruption p")
    for ax in (axes[0], axes[4]):
        ax.set_ylabel("loss or bound")
    fig.subplots_adjust(wspace=0.36, hspace=0.34)
    return fig


def compression_terms(tables: Mapping[str, pd.DataFrame]):
    """A_r, B_r and A_r + B_r vs the rank r, for each corruption level p (log y)."""
    ranks = _rows(tables["corruption"], "rank")
    levels = sorted(ranks["p"].unique())
    colors = palette(len(levels))
    fig, ax = subplots(width=5.4, height=3.8)
    count = ranks.groupby("rank")["count_term"].mean()
    ax.plot(count.index, count.to_numpy(), color="k", lw=2, label="$A_r$ (count term)", zorder=5)
    for color, p in zip(colors, levels, strict=True):
        sub = ranks[ranks["p"] == p].groupby("rank")[["approx_term", "compression_sum"]].mean()
        ax.plot(sub.index, sub["approx_term"], color=color, ls="--", label=f"$B_r$, p = {p:g}")
        ax.plot(
            sub.index, sub["compression_sum"], color=color, ls="-", label=f"$A_r + B_r$, p = {p:g}"
        )
    ax.set_yscale("log")
    ax.set_xlabel("rank r of every layer")
    ax.set_ylabel("term of the compression bound")
    ax.legend(
        fontsize="x-small",
        loc="center left",
        bbox_to_anchor=(1.02, 0.5),
        title=f"mean of {_n_trials(ranks)} trials",
        title_fontsize="x-small",
    )
    return fig


FIGURES: dict[str, Callable] = {
    "error_vs_steps": error_vs_steps,
    "test_error_vs_p": test_error_vs_p,
    "bounds_vs_p": bounds_vs_p,
    "compression_terms": compression_terms,
}
