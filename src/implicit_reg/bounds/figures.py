"""Figures of the bounds family (F4), each a function of the tables dict.

Lines are means over trials; bands and error bars are Student-t 95% intervals of the
mean (`implicit_reg.experiment.student_half_width`). Legends sit outside the axes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from implicit_reg.bounds.claims import CAP, CHANCE_ERROR
from implicit_reg.experiment import student_half_width
from implicit_reg.plotting import legend_below, palette, subplots

VARIANT_LABELS = {
    "true_labels": "true labels",
    "random_inputs": "random inputs",
    "half_random_inputs": "half random inputs",
    "half_adversarial": "half adversarial labels",
}


def _rows(trials: pd.DataFrame, section: str) -> pd.DataFrame:
    return trials[(trials["section"] == section) & ~trials["diverged"].astype(bool)]


def mean_band(frame: pd.DataFrame, key: str, column: str) -> pd.DataFrame:
    """Mean, Student 95% half-width and count of ``column`` per value of ``key`` (NaN dropped)."""
    stats = frame.groupby(key)[column].agg(["mean", "std", "count"])
    stats = stats[stats["count"] > 0]
    stats["half"] = student_half_width(stats["std"].fillna(0.0), stats["count"])
    return stats


def _level_colours(n: int) -> list:
    """``n`` colours of an ordered map for the corruption levels p (dark: p = 0)."""
    return list(sns.color_palette("viridis", n))


def _n_trials(frame: pd.DataFrame) -> int:
    return int(frame["trial"].nunique()) if len(frame) else 0


def error_vs_steps(tables: Mapping[str, pd.DataFrame]):
    """Training and test error vs SGD steps, one line per corruption level p (Zhang Fig. 1a)."""
    traj = _rows(tables["corruption"], "trajectory")
    traj = traj[traj["step"] > 0]
    levels = sorted(traj["p"].unique())
    colors = _level_colours(len(levels))
    fig, axes = subplots(ncols=2, sharey=True, width=4.0, height=3.2)
    for ax, column, title in zip(
        axes, ("train_error", "test_error"), ("training error", "test error"), strict=True
    ):
        for color, p in zip(colors, levels, strict=True):
            stats = mean_band(traj[traj["p"] == p], "step", column)
            x, y = stats.index.to_numpy(), stats["mean"].to_numpy()
            ax.plot(x, y, color=color, marker=".", label=f"$p$ = {p:g}")
            ax.fill_between(x, y - stats["half"], y + stats["half"], color=color, alpha=0.2, lw=0)
        ax.axhline(
            CHANCE_ERROR, color="0.4", ls=":", lw=1.2, label=f"chance ({CHANCE_ERROR:g})", zorder=3
        )
        ax.set_xscale("log")
        ax.set_xlabel("SGD steps")
        ax.set_title(title)
    axes[0].set_ylabel("0–1 error")
    axes[0].set_ylim(-0.03, 1.08)  # room for the band of p = 1 about chance
    axes[1].legend(
        title=f"label corruption\n(mean of {_n_trials(traj)} trials,\n95% t band)",
        fontsize="small",
        loc="center left",
        bbox_to_anchor=(1.02, 0.5),
    )
    return fig


#: `test_error_vs_p`: one colour per error in both panels.
TEST_COLOUR, TRAIN_COLOUR = palette(2)
CHANCE_STYLE = {"color": "0.4", "ls": ":", "lw": 1.2}


def test_error_vs_p(tables: Mapping[str, pd.DataFrame]):
    """Final training/test error vs p, and the four postulates' errors: test error in
    blue (line, bars), training error in orange (markers) in both panels; the y axis
    reaches the top of every 95% interval, above 1 if one does."""
    final = _rows(tables["corruption"], "final")
    fig, (ax, bx) = subplots(ncols=2, width=4.2, height=3.4)
    for column, colour, marker in (
        ("test_error", TEST_COLOUR, "o"),
        ("train_error", TRAIN_COLOUR, "s"),
    ):
        stats = mean_band(final, "p", column)
        ax.errorbar(
            stats.index, stats["mean"], yerr=stats["half"], marker=marker, capsize=3, color=colour
        )
    ax.axhline(CHANCE_ERROR, **CHANCE_STYLE)
    ax.set_xlabel("label corruption $p$")
    ax.set_ylabel("0–1 error")
    ax.set_title("random labels")

    post = _rows(tables["postulates"], "final")
    variants = [v for v in VARIANT_LABELS if v in set(post["variant"])]
    pos = np.arange(len(variants))
    test = mean_band(post, "variant", "test_error").reindex(variants)
    train = mean_band(post, "variant", "train_error").reindex(variants)
    bx.bar(pos, test["mean"], yerr=test["half"], capsize=3, width=0.55, color=TEST_COLOUR)
    bx.errorbar(
        pos,
        train["mean"],
        yerr=train["half"],
        fmt="s",
        color=TRAIN_COLOUR,
        mec="k",
        mew=0.6,
        ms=6,
        capsize=3,
        zorder=5,
    )
    bx.axhline(CHANCE_ERROR, **CHANCE_STYLE)
    bx.set_xticks(pos, [VARIANT_LABELS[v] for v in variants], rotation=20, ha="right")
    # Room above 1 for the intervals: an error bar is never clipped.
    top = max(1.0, float((test["mean"] + test["half"]).max()), float(_stats_top(final)))
    for axis in (ax, bx):
        axis.set_ylim(-0.03, top + 0.05)
    bx.set_title("the four postulates")
    fig.tight_layout()
    handles = [
        Line2D([], [], color=TEST_COLOUR, marker="o", label="test error (left: line; right: bars)"),
        Line2D([], [], color=TRAIN_COLOUR, marker="s", label="training error"),
        Line2D([], [], **CHANCE_STYLE, label=f"chance ({CHANCE_ERROR:g})"),
    ]
    legend_below(
        fig,
        ncol=3,
        handles=handles,
        labels=[h.get_label() for h in handles],
        title=f"mean ± 95% t interval over {_n_trials(final)} networks per level "
        f"({_n_trials(post)} per postulate)",
    )
    return fig


def _stats_top(final: pd.DataFrame) -> float:
    """Top of the highest error bar of the left panel of `test_error_vs_p`."""
    columns = ("test_error", "train_error")
    tops = [mean_band(final, "p", c).eval("mean + half").max() for c in columns]
    return max([t for t in tops if np.isfinite(t)], default=1.0)


def _log_ticks(axis) -> None:
    """Labelled ticks at 1, 2 and 5 times the powers of ten on a log axis of two decades
    or less, which the default locator labels once, written as plain numbers (2, 5, 10)."""
    ax = axis.axes
    low, high = sorted(ax.get_ylim() if axis is ax.yaxis else ax.get_xlim())
    if low <= 0 or np.log10(high / low) > 2:
        return
    axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(NullFormatter())


def _line(ax, stats: pd.DataFrame, **style) -> None:
    """Mean with its Student-t band; on the log axes the band is cut at a tenth of the mean."""
    x, y = stats.index.to_numpy(float), stats["mean"].to_numpy()
    ax.plot(x, y, **style)
    if "half" in stats and np.any(stats["half"] > 0):
        low = np.maximum(y - stats["half"], y / 10)
        ax.fill_between(x, low, y + stats["half"], color=style.get("color"), alpha=0.18, lw=0)


#: The panels of `bounds_vs_p`: each bound's column prefix and title. The optimized
#: posterior shares the kl-inverse panel (its bound has the kl-inverse form), as stars.
BOUND_PANELS = {
    "compression": "compression",
    "frobenius": "Frobenius norm",
    "pacbayes_mcallester": "PAC-Bayes, McAllester",
    "pacbayes_kl": "PAC-Bayes, kl-inverse",
    "pacbayes_datadep": "PAC-Bayes, data-dep. prior",
}
OPTIMIZED = "pacbayes_optimized"
#: Colour: the quantity (bound, the loss it bounds, that loss on clean labels, the
#: network's error), the same in every panel; marker: the posterior in the kl panel.
BOUND_COLOUR, POPULATION_COLOUR, CLEAN_COLOUR = palette(3)
NETWORK_COLOUR = "0.35"
QUANTITY_STYLES = {
    "bound": {"color": BOUND_COLOUR, "ls": "-", "lw": 2.0, "marker": "o", "ms": 4, "zorder": 5},
    "population_loss": {
        "color": POPULATION_COLOUR,
        "ls": "--",
        "lw": 1.6,
        "marker": "v",
        "ms": 4,
        "zorder": 4,
    },
    "test_loss": {"color": CLEAN_COLOUR, "ls": ":", "lw": 1.6, "marker": "^", "ms": 4, "zorder": 3},
}
NETWORK_STYLE = {"color": NETWORK_COLOUR, "ls": "-", "lw": 1.2, "marker": "s", "ms": 3, "zorder": 2}
VACUOUS_STYLE = {"color": "0.2", "lw": 0.8, "ls": "-.", "zorder": 1}
STAR = {"marker": "*", "ms": 13, "mec": "white", "mew": 0.6}


def _bounded_loss(bound: str) -> str:
    """The loss a bound bounds: the Gibbs error of a PAC-Bayes posterior, the ramp loss
    of the compression bound, the 0–1 error of the Frobenius bound."""
    if bound.startswith("pacbayes"):
        return "Gibbs error"
    return "ramp loss" if bound == "compression" else "0–1 error"


def _optimized_stars(ax, final: pd.DataFrame) -> bool:
    """The optimized posterior's bound and Gibbs errors as stars (joined by their line
    style where it is computed at several levels); whether there was any."""
    drawn = False
    for quantity, style in QUANTITY_STYLES.items():
        stats = mean_band(final, "p", f"{OPTIMIZED}_{quantity}")
        if stats.empty:
            continue
        drawn = True
        star = {**style, **STAR, "zorder": style["zorder"] + 6}
        if len(stats) == 1:
            star["ls"] = "none"
        _line(ax, stats, **star)
    return drawn


def bounds_vs_p(tables: Mapping[str, pd.DataFrame]):
    """One panel per bound: the bound, the loss it bounds and the network's error vs p.

    In each panel (log y): the bound (mean, Student 95% band); the loss it bounds, the
    expected loss on the training distribution; the same loss on the clean test labels
    (for PAC-Bayes bounds the Gibbs error of the posterior, Monte Carlo over posterior
    draws); the deterministic network's test error; the line 1 above which a bound is
    vacuous. The optimized posterior (Dziugaite and Roy 2017) is drawn as stars in the
    kl-inverse panel; a last panel shows the spectral measure. Colour is the quantity,
    the same in every panel; the legend lies below the panels.
    """
    final = _rows(tables["corruption"], "final")
    fig, axes = subplots(ncols=3, nrows=2, width=2.65, height=2.45, sharex=True)
    axes = axes.ravel()
    optimized = False
    for ax, (bound, title) in zip(axes, BOUND_PANELS.items(), strict=False):
        _line(ax, mean_band(final, "p", "test_error"), **NETWORK_STYLE)
        for quantity, style in QUANTITY_STYLES.items():
            if quantity == "test_loss" and bound == "frobenius":
                continue  # its loss on the clean test set is the network's error
            _line(ax, mean_band(final, "p", f"{bound}_{quantity}"), **style)
        if bound == "pacbayes_kl":
            optimized = _optimized_stars(ax, final)
            title = f"{title}\n" + r"($\bigstar$: optimized $Q$)" * optimized
        ax.axhline(CAP, **VACUOUS_STYLE)
        ax.set_yscale("log")
        ax.set_title(f"{title}\nbounds the {_bounded_loss(bound)}", fontsize="medium")
        if final.get(f"{bound}_bound", pd.Series(dtype=float)).isna().all():
            ax.text(0.5, 0.5, "not computed", transform=ax.transAxes, ha="center")
    sx = axes[len(BOUND_PANELS)]
    _line(sx, mean_band(final, "p", "spectral_measure"), **QUANTITY_STYLES["bound"])
    sx.set_yscale("log")
    sx.set_title("spectral measure\n(Bartlett et al. 2017)", fontsize="medium")
    sx.set_ylabel("spectral measure")
    _log_ticks(sx.yaxis)
    for ax in axes[3:]:
        ax.set_xlabel("label corruption $p$")
    for ax in (axes[0], axes[3]):
        ax.set_ylabel("loss or bound")
    fig.tight_layout(h_pad=0.8, w_pad=0.6)
    entries = [
        (f"bound (mean of {_n_trials(final)} networks, 95% t band)", QUANTITY_STYLES["bound"]),
        (
            "loss it bounds, on the training distribution\n(labels corrupted with probability $p$)",
            QUANTITY_STYLES["population_loss"],
        ),
        ("that loss on the clean test labels", QUANTITY_STYLES["test_loss"]),
        ("trained network's 0–1 test error", NETWORK_STYLE),
        ("1: a bound above it is vacuous", VACUOUS_STYLE),
    ]
    if optimized:
        entries.append(
            (
                "optimized posterior (Dziugaite and Roy\n2017): its bound and Gibbs errors",
                {"color": "0.5", "ls": "none", **STAR, "mec": "0.5"},
            )
        )
    handles = [
        Line2D([], [], **{k: v for k, v in style.items() if k != "zorder"}) for _, style in entries
    ]
    legend_below(fig, ncol=2, handles=handles, labels=[label for label, _ in entries])
    return fig


#: Panels per row of `compression_terms`: one per corruption level, legible at the
#: report's width.
COMPRESSION_COLUMNS = 3


def compression_terms(tables: Mapping[str, pd.DataFrame]):
    """A_r, B_r and A_r + B_r vs the rank r, one panel per corruption level p (log y,
    rows of `COMPRESSION_COLUMNS`); the minimum of A_r + B_r over r, which enters the
    bound, marked by a star, its rank printed. Colour: p; black: the count term A_r, the
    same at every p."""
    ranks = _rows(tables["corruption"], "rank")
    levels = sorted(ranks["p"].unique())
    colors = _level_colours(len(levels))
    ncols = min(COMPRESSION_COLUMNS, max(len(levels), 1))
    nrows = max(-(-len(levels) // ncols), 1)
    fig, axes = subplots(
        ncols=ncols, nrows=nrows, width=2.75, height=2.2, sharex=True, sharey=True, squeeze=False
    )
    count = ranks.groupby("rank")["count_term"].mean()
    for ax, color, p in zip(axes.ravel(), colors, levels, strict=False):
        sub = ranks[ranks["p"] == p].groupby("rank")[["approx_term", "compression_sum"]].mean()
        ax.plot(count.index, count.to_numpy(), color="k", lw=1.2, zorder=4)
        ax.plot(sub.index, sub["approx_term"], color=color, ls="--", lw=1.4)
        ax.plot(sub.index, sub["compression_sum"], color=color, ls="-", lw=2.4)
        if len(sub):
            best = sub["compression_sum"].idxmin()
            value = sub["compression_sum"].min()
            ax.plot(best, value, "*", ms=13, color="k", mec="white", mew=0.6, zorder=6)
            ax.text(0.04, 0.06, f"minimum at $r$ = {best:g}", transform=ax.transAxes)
        ax.set_yscale("log")
        ax.set_title(f"$p$ = {p:g}", fontsize="medium")
    for ax in axes.ravel()[len(levels) :]:
        ax.set_axis_off()
    for ax in axes[-1]:
        ax.set_xlabel("rank $r$")
    for index in range(len(levels), ncols * nrows):  # an empty slot: label the panel above
        axes.ravel()[index - ncols].set_xlabel("rank $r$")
        axes.ravel()[index - ncols].xaxis.set_tick_params(labelbottom=True)
    for ax in axes[:, 0]:
        ax.set_ylabel("term of the bound")
    fig.tight_layout(h_pad=0.6)
    handles = [
        Line2D([], [], color="k", lw=1.2, label="$A_r$ (count term, every $p$)"),
        Line2D([], [], color="0.4", ls="--", lw=1.4, label="$B_r$ (approximation term)"),
        Line2D([], [], color="0.4", lw=2.4, label="$A_r + B_r$ (colour: $p$)"),
        Line2D(
            [],
            [],
            color="k",
            marker="*",
            ms=13,
            ls="",
            label=r"$\mathrm{min}_r\,(A_r + B_r)$, which enters the bound",
        ),
    ]
    legend_below(
        fig,
        ncol=2,
        handles=handles,
        labels=[h.get_label() for h in handles],
        title=f"mean of {_n_trials(ranks)} networks per level",
    )
    return fig


FIGURES: dict[str, Callable] = {
    "error_vs_steps": error_vs_steps,
    "test_error_vs_p": test_error_vs_p,
    "bounds_vs_p": bounds_vs_p,
    "compression_terms": compression_terms,
}
