"""Figures of the risk family. Each function takes the family's tables, returns a Figure."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import seaborn as sns

from implicit_reg.plotting import (
    CATEGORICAL,
    THEORY,
    cycled,
    decade_ticks,
    subplots,
    threshold_line,
)
from implicit_reg.risk.claims import GD_TOLERANCE, RATIO_BOUND, SGD_TOLERANCE
from implicit_reg.risk.exact import gd_ridge_risk_bound


def _tolerance_lines(ax) -> None:
    """The claims' GD and SGD tolerances on the final iterate, labelled on their lines."""
    threshold_line(ax, SGD_TOLERANCE, f"claims' SGD tolerance {SGD_TOLERANCE:g}")
    threshold_line(ax, GD_TOLERANCE, f"claims' GD tolerance {GD_TOLERANCE:g}", below=True)


def _mean_band(ax, x, mean, half, colour, **line) -> None:
    """Trial mean with its Student-t 95% band; on log axes the band is cut at mean/10."""
    ax.plot(x, mean, color=colour, **line)
    low = np.maximum(mean - half.fillna(0.0), mean / 10)
    ax.fill_between(x, low, mean + half.fillna(0.0), color=colour, alpha=0.2, lw=0, zorder=1)


def min_norm_convergence(tables: Mapping[str, pd.DataFrame]):
    """Relative distance to the limit vs t, one panel per initialization, hue algorithm."""
    summary = tables["min_norm_summary"]
    summary = summary[(summary.step > 0) & (summary.diverged_mean == 0)]
    n_trials = int(tables["min_norm"].trial.nunique())
    inits = [i for i in ("zero", "random") if i in set(summary.init)]
    fig, axes = subplots(ncols=len(inits), width=4.0, height=3.2, sharey=True, squeeze=False)
    algorithms = sorted(summary.algorithm.unique())
    colours = cycled(algorithms, CATEGORICAL)
    # GD a thick line, each SGD a thin line with its own marks over it: curves that
    # coincide stay visible one over the other.
    marks = (
        {"lw": 3.4},
        {"lw": 1.2, "marker": "o", "ms": 3.5},
        {"lw": 0.9, "marker": "x", "ms": 4},
    )
    styles = cycled(algorithms, marks)
    titles = {"zero": r"from $\beta_0 = 0$: limit $X^+y$", "random": r"from a random $\beta_0$"}
    for ax, init in zip(axes[0], inits, strict=True):
        for algorithm in algorithms:
            rows = summary[(summary.init == init) & (summary.algorithm == algorithm)]
            rows = rows.sort_values("t_mean")
            _mean_band(
                ax,
                rows.t_mean,
                rows.rel_dist_limit_mean.clip(lower=1e-17),
                rows.rel_dist_limit_ci95,
                colours[algorithm],
                **styles[algorithm],
                markevery=0.08,
                label=_algorithm_label(algorithm),
                zorder=2,
            )
        _tolerance_lines(ax)
        ax.set(xscale="log", yscale="log", xlabel=r"time $t = \eta k$", title=titles[init])
    axes[0][0].set_ylabel(r"$\|\beta_t - \beta_\infty\|\,/\,\|\beta_\infty\|$")
    if "random" in inits:
        axes[0][-1].set_title(r"from a random $\beta_0$: limit $\beta_0 + X^+(y - X\beta_0)$")
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.08),
        ncol=len(labels),
        fontsize=8.5,
        title=f"trial means of {n_trials} trials, 95% t bands",
        title_fontsize=8.5,
    )
    return fig


def norm_excess(tables: Mapping[str, pd.DataFrame]):
    """‖β_∞‖ − ‖X⁺y‖ of the final iterate against its exact value, on the identity; the
    relative deviation from it."""
    table = tables["min_norm"]
    last = table.groupby("algorithm").step.transform("max")
    final = table[(table.step == last) & (table.init == "random") & ~table.diverged].copy()
    final["excess"] = final.norm - final.min_norm_norm
    # The limit X⁺y + P⊥β₀ has orthogonal parts: its norm excess is exact.
    final["exact"] = np.hypot(final.min_norm_norm, final.null_init_norm) - final.min_norm_norm
    final["deviation"] = (final.excess - final.exact).abs() / final.exact
    final["algorithm"] = final.algorithm.map(_algorithm_label)
    fig, (left, right) = subplots(ncols=2, width=4.0, height=3.3)
    algorithms = sorted(final.algorithm.unique())
    colours = cycled(algorithms, CATEGORICAL)
    # Open rings of decreasing size, one inside the other: the algorithms coincide.
    sizes = cycled(algorithms, (90, 40, 12))
    for algorithm in algorithms:
        rows = final[final.algorithm == algorithm]
        big = sizes[algorithm] > min(sizes.values())
        left.scatter(
            rows.exact,
            rows.excess,
            s=sizes[algorithm],
            facecolors="none" if big else colours[algorithm],
            edgecolors=colours[algorithm],
            linewidths=1.3,
            zorder=3,
            label=algorithm,
        )
    span = np.array([final.exact.min(), final.exact.max()]) if len(final) else np.array([0, 1])
    pad = 0.08 * (span[1] - span[0] or 1.0)
    x = np.array([span[0] - pad, span[1] + pad])
    left.plot(x, x, **THEORY, label="exact: identity")
    left.set(
        xlim=tuple(x),
        ylim=tuple(x),
        xlabel=r"exact $\sqrt{\|X^+y\|^2 + \|P_\perp\beta_0\|^2} - \|X^+y\|$",
        ylabel=r"$\|\beta_\infty\| - \|X^+y\|$ of the final iterate",
        title="Norm excess against its exact value",
    )
    left.set_aspect("equal", adjustable="box")
    sns.stripplot(
        data=final,
        x="algorithm",
        y="deviation",
        hue="algorithm",
        palette=colours,
        order=algorithms,
        ax=right,
        size=4,
        jitter=0.2,
        legend=False,
    )
    right.set(
        yscale="log",
        xlabel="",
        ylabel="|excess − exact| / exact",
        title="Deviation from the exact excess",
    )
    decade_ticks(right.yaxis)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    handles, labels = left.get_legend_handles_labels()
    n_trials = len(final) // max(len(algorithms), 1)
    fig.legend(
        handles,
        labels,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.1),
        ncol=len(labels),
        fontsize=8.5,
        title=rf"final iterates from a random $\beta_0$, {n_trials} trials",
        title_fontsize=8.5,
    )
    return fig


def _algorithm_label(algorithm: str) -> str:
    return algorithm.upper().replace("_B", ", batch ")


#: Realized risk has no finite mean at the interpolation threshold γ = 1.
THRESHOLD_TOLERANCE = 1e-9


def _risk_line(ax, rows: pd.DataFrame, colour, label: str, expected: bool = False):
    """Mean realized risk with its Student-t band (γ ≠ 1 only), theory on top.

    ``rows`` are summary rows of one curve. With ``expected``, the given-X expected risk
    is drawn too, as a black bar across each mean.
    """
    rows = rows.sort_values("gamma")
    at_one = np.abs(rows.gamma - 1.0) < THRESHOLD_TOLERANCE
    away = rows[~at_one]
    mean, ci = away.risk_mean, away.risk_ci95
    ax.plot(away.gamma, mean, "o-", ms=5, lw=1.4, color=colour, label=label, zorder=2)
    # On log axes a band reaching zero is drawn down to a tenth of the mean.
    ax.fill_between(
        away.gamma,
        np.maximum(mean - ci, mean / 10),
        mean + ci,
        color=colour,
        alpha=0.2,
        linewidth=0,
        zorder=1,
    )
    if expected:
        ax.plot(away.gamma, away.expected_risk_mean, **EXPECTED)
    finite = np.isfinite(rows.theory_risk_mean)
    ax.plot(rows.gamma[finite], rows.theory_risk_mean[finite], "--", color="k", lw=1.0, zorder=4)


#: The given-X expected risk: a black bar across each mean, above the theory's dashes.
EXPECTED = {"ls": "none", "marker": "_", "ms": 11, "mew": 1.6, "color": "k", "zorder": 5}


def _gamma_axis(ax) -> None:
    """Log γ axis with plain tick labels at 0.1, 0.2, 0.5, 1, 2, 5, 10."""
    from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator([0.1, 0.2, 0.5, 1, 2, 5, 10]))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())


def _legend_below(ax, ncol: int = 2) -> None:
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=ncol)


def double_descent(tables: Mapping[str, pd.DataFrame]):
    """Risk vs γ: min-norm per σ (left); ridge at λ* and fixed λ for the largest σ (right)."""
    summary = tables["double_descent_summary"]
    n_trials = int(tables["double_descent"].trial.nunique())
    fig, (left, right) = subplots(ncols=2, width=4.8, height=4.0)
    sigmas = sorted(summary.noise_std.unique())
    # Blues for the noise levels, the largest darkest: the right panel's min-norm curve
    # (the same runs) keeps its colour, and its ridge curves take colours of their own.
    blues = [
        tuple(c)
        for c in sns.color_palette("Blues", as_cmap=True)(np.linspace(0.35, 0.8, len(sigmas)))
    ]
    for colour, sigma in zip(blues, sigmas, strict=True):
        rows = summary[(summary.noise_std == sigma) & (summary.estimator == "min_norm")]
        _risk_line(left, rows, colour, f"min-norm, σ = {sigma:g}", expected=True)
    left.plot([], [], **EXPECTED, label="expected risk given X (closed form)")
    left.plot([], [], "--", color="k", lw=1.0, label=r"theory ($n, d \to \infty$)")
    left.axvline(1.0, color="grey", lw=0.8, ls=":")
    left.set(
        yscale="log",
        xlabel="γ = d/n (no mean at γ = 1)",
        ylabel=rf"realized risk $\|\hat\beta - \beta^*\|^2$ (mean of {n_trials})",
        title="Min-norm interpolant",
    )
    _gamma_axis(left)
    _legend_below(left)
    sigma = sigmas[-1]
    rows = summary[summary.noise_std == sigma]
    fixed = sorted(rows.ridge_lambda[rows.estimator == "ridge_fixed"].unique())
    variants = [("min_norm", None), ("ridge_optimal", None)]
    variants += [("ridge_fixed", lam) for lam in fixed]
    names = {"min_norm": "min-norm", "ridge_optimal": r"ridge, $\lambda^* = \gamma\sigma^2/r^2$"}
    right_colours = [blues[-1], *CATEGORICAL[1:]]
    for (estimator, lam), colour in cycled(variants, right_colours).items():
        sel = rows[rows.estimator == estimator]
        if lam is not None:
            sel = sel[sel.ridge_lambda == lam]
        label = names[estimator] if lam is None else rf"ridge, $\lambda$ = {lam:g}"
        _risk_line(right, sel, colour, label)
    right.plot([], [], "--", color="k", lw=1.0, label=r"theory ($n, d \to \infty$)")
    right.axvline(1.0, color="grey", lw=0.8, ls=":")
    right.set(
        yscale="log",
        xlabel="γ = d/n (no mean at γ = 1)",
        ylabel="realized risk",
        title=f"Ridge vs min-norm, σ = {sigma:g}",
    )
    _gamma_axis(right)
    _legend_below(right)
    fig.tight_layout()
    return fig


def early_stopping(tables: Mapping[str, pd.DataFrame]):
    """Risk of GD (run on draws) vs t and ridge vs 1/λ, closed forms on top; their ratio."""
    table = tables["early_stopping"]
    summary = tables["early_stopping_summary"]
    fraction = float(table.step_fraction.max())
    bound = gd_ridge_risk_bound(fraction)
    fig, (left, right) = subplots(ncols=2, width=4.8, height=4.2)
    groups = sorted(summary.n_samples.unique())
    for n, colour in cycled(groups, CATEGORICAL).items():
        rows = summary[summary.n_samples == n].sort_values("step")
        d = int(rows.n_features.iloc[0])
        left.plot(
            rows.t_mean,
            rows.risk_gd_mean,
            "o",
            ms=3,
            color=colour,
            zorder=2,
            label=f"GD at t = ηk, n = {n}, d = {d}",
        )
        left.plot(
            rows.t_mean,
            rows.risk_ridge_draws_mean,
            "s",
            ms=3,
            mfc="none",
            color=colour,
            zorder=2,
            label=f"ridge at λ = 1/t, n = {n}",
        )
        left.plot(rows.t_mean, rows.risk_gf_mean, "-", color=colour, lw=1, zorder=3)
        left.plot(rows.t_mean, rows.risk_ridge_mean, "--", color=colour, lw=1, zorder=3)
        # The designs' ratios lie within a few per cent of each other: their range as a band.
        spread = (
            table[table.n_samples == n]
            .groupby("step")
            .agg(t=("t", "mean"), low=("risk_ratio_gd", "min"), high=("risk_ratio_gd", "max"))
        )
        right.fill_between(spread.t, spread.low, spread.high, color=colour, alpha=0.35, lw=0)
        right.plot(
            rows.t_mean,
            rows.risk_ratio_gd_mean,
            "o",
            ms=3,
            mfc="none",
            mew=1.1,
            color=colour,
            zorder=3,
            label=f"GD / ridge, $n = {n}$ (dots: mean; band: range over designs)",
        )
        right.plot(rows.t_mean, rows.risk_ratio_mean, "-", color="k", lw=0.9, zorder=4)
    left.plot([], [], "-", color="grey", label="gradient flow (closed form)")
    left.plot([], [], "--", color="grey", label="ridge (closed form)")
    right.plot([], [], "-", color="k", lw=0.9, label="flow / ridge, closed form")
    right.axhline(
        bound,
        color="k",
        ls="--",
        lw=1,
        label=rf"GD bound {bound:.4f} ($\eta\lambda_{{\max}}$ = {fraction:g})",
    )
    right.axhline(RATIO_BOUND, color="k", ls=":", lw=1, label=f"flow bound {RATIO_BOUND}")
    right.axhline(1.0, color="grey", ls=":", lw=0.8)
    n_trials, n_draws = table.trial.nunique(), int(table.n_draws.iloc[0])
    left.set(
        xscale="log",
        yscale="log",
        xlabel="t (GD, flow) = 1/λ (ridge)",
        ylabel="excess risk (mean over draws and designs)",
        title=f"Early stopping vs ridge ({n_trials} designs × {n_draws} draws)",
    )
    right.set(
        xscale="log",
        xlabel="t = 1/λ",
        ylabel=r"risk$(t)\,/\,$risk$_{\mathrm{ridge}}(1/t)$",
        ylim=(0.8, bound * 1.08),
        title="Risk ratio",
    )
    decade_ticks(left.yaxis)
    _legend_below(left)
    _legend_below(right)
    fig.tight_layout()
    return fig


FIGURES = {
    "min_norm_convergence": min_norm_convergence,
    "norm_excess": norm_excess,
    "double_descent": double_descent,
    "early_stopping": early_stopping,
}
