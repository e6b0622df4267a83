"""Figures of the risk family. Each function takes the family's tables, returns a Figure."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from implicit_reg.plotting import palette, subplots
from implicit_reg.risk import theory
from implicit_reg.risk.claims import RATIO_BOUND


def min_norm_convergence(tables: Mapping[str, pd.DataFrame]):
    """Relative distance to the limit vs t, per algorithm and initialization (log–log)."""
    table = tables["min_norm"]
    table = table[(table.step > 0) & ~table.diverged]
    fig, ax = subplots(width=5.2, height=3.8)
    algorithms = sorted(table.algorithm.unique())
    colours = dict(zip(algorithms, palette(len(algorithms)), strict=True))
    for (algorithm, init), rows in table.groupby(["algorithm", "init"]):
        curve = rows.groupby("step").agg(
            t=("t", "median"),
            mid=("rel_dist_limit", "median"),
            lo=("rel_dist_limit", lambda v: v.quantile(0.1)),
            hi=("rel_dist_limit", lambda v: v.quantile(0.9)),
        )
        style = "-" if init == "zero" else "--"
        label = f"{algorithm.upper().replace('_B', ', batch ')}, β₀ {init}"
        ax.plot(curve.t, curve.mid.clip(lower=1e-17), style, color=colours[algorithm], label=label)
        ax.fill_between(
            curve.t,
            curve.lo.clip(lower=1e-17),
            curve.hi.clip(lower=1e-17),
            color=colours[algorithm],
            alpha=0.15,
            linewidth=0,
        )
    ax.axhline(1e-6, color="grey", lw=0.8, ls=":")
    ax.axhline(1e-4, color="grey", lw=0.8, ls=":")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="time t = η·k",
        ylabel="‖β_t − β_∞‖ / ‖β_∞‖",
        title=f"Convergence to β₀ + X⁺(y − Xβ₀) ({table.trial.nunique()} trials)",
    )
    ax.legend(fontsize=7, ncol=1, loc="lower left")
    return fig


def norm_excess(tables: Mapping[str, pd.DataFrame]):
    """‖β_∞‖ − ‖X⁺y‖ against ‖P⊥β₀‖ with the line y = x, one panel per algorithm."""
    table = tables["min_norm"]
    last = table.groupby("algorithm").step.transform("max")
    final = table[(table.step == last) & (table.init == "random") & ~table.diverged]
    algorithms = sorted(final.algorithm.unique()) or ["gd"]
    fig, axes = subplots(
        ncols=len(algorithms), width=3.3, height=3.3, sharex=True, sharey=True, squeeze=False
    )
    top = float(final.null_init_norm.max()) * 1.1 if len(final) else 1.0
    for ax, colour, algorithm in zip(axes[0], palette(len(algorithms)), algorithms, strict=True):
        rows = final[final.algorithm == algorithm]
        ax.plot([0, top], [0, top], color="k", lw=1, ls="--", label="y = x (bound)", zorder=1)
        ax.scatter(
            rows.null_init_norm,
            rows.norm - rows.min_norm_norm,
            s=16,
            color=colour,
            alpha=0.85,
            zorder=2,
            label=f"final iterate ({len(rows)} trials)",
        )
        # The limit X⁺y + P⊥β₀ has orthogonal parts: its norm excess is exact.
        exact = np.hypot(rows.min_norm_norm, rows.null_init_norm) - rows.min_norm_norm
        ax.scatter(
            rows.null_init_norm,
            exact,
            s=46,
            facecolors="none",
            edgecolors="k",
            linewidths=0.8,
            zorder=3,
            label="exact √(‖X⁺y‖² + ‖P⊥β₀‖²) − ‖X⁺y‖",
        )
        ax.set(title=_algorithm_label(algorithm), xlabel="‖P⊥β₀‖")
        ax.legend(fontsize=7, loc="upper left")
    axes[0][0].set_ylabel("‖β_∞‖ − ‖X⁺y‖")
    fig.suptitle("Norm excess from a random β₀ (null-space part of β₀ on x)", y=1.02)
    fig.tight_layout()
    return fig


def _algorithm_label(algorithm: str) -> str:
    return algorithm.upper().replace("_B", ", batch ")


#: Realized risk has no finite mean at the interpolation threshold γ = 1.
THRESHOLD_TOLERANCE = 1e-9


def _risk_line(ax, rows: pd.DataFrame, colour, label: str, expected: bool = False):
    """Mean realized risk with its Student-t band (γ ≠ 1 only), theory on top.

    ``rows`` are summary rows of one curve. With ``expected``, the given-X expected risk
    is drawn too (thin dotted).
    """
    rows = rows.sort_values("gamma")
    at_one = np.abs(rows.gamma - 1.0) < THRESHOLD_TOLERANCE
    away = rows[~at_one]
    mean, ci = away.risk_mean, away.risk_ci95
    ax.plot(away.gamma, mean, "o-", ms=3, lw=1.2, color=colour, label=label, zorder=2)
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
        ax.plot(away.gamma, away.expected_risk_mean, ":", lw=1, color=colour, zorder=2)
    finite = np.isfinite(rows.theory_risk_mean)
    ax.plot(rows.gamma[finite], rows.theory_risk_mean[finite], "--", color="k", lw=1.1, zorder=4)


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
    for colour, sigma in zip(palette(len(sigmas)), sigmas, strict=True):
        rows = summary[(summary.noise_std == sigma) & (summary.estimator == "min_norm")]
        _risk_line(left, rows, colour, f"min-norm, σ = {sigma:g}", expected=True)
    left.plot([], [], ":", color="grey", lw=1, label="expected risk given X")
    left.plot([], [], "--", color="k", lw=1.1, label="theory (n, d → ∞)")
    left.axvline(1.0, color="grey", lw=0.8, ls=":")
    left.set(
        yscale="log",
        xlabel="γ = d/n (no mean at γ = 1)",
        ylabel=f"realized risk ‖β̂ − β*‖² (mean of {n_trials})",
        title="Min-norm interpolant",
    )
    _gamma_axis(left)
    _legend_below(left)
    sigma = sigmas[-1]
    rows = summary[summary.noise_std == sigma]
    fixed = sorted(rows.ridge_lambda[rows.estimator == "ridge_fixed"].unique())
    variants = [("min_norm", None), ("ridge_optimal", None)]
    variants += [("ridge_fixed", lam) for lam in fixed]
    names = {"min_norm": "min-norm", "ridge_optimal": "ridge, λ* = γσ²/r²"}
    for colour, (estimator, lam) in zip(palette(len(variants)), variants, strict=True):
        sel = rows[rows.estimator == estimator]
        if lam is not None:
            sel = sel[sel.ridge_lambda == lam]
        label = names[estimator] if lam is None else f"ridge, λ = {lam:g}"
        _risk_line(right, sel, colour, label)
    right.plot([], [], "--", color="k", lw=1.1, label="theory (n, d → ∞)")
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
    bound = theory.gd_ridge_risk_bound(fraction)
    fig, (left, right) = subplots(ncols=2, width=4.8, height=4.2)
    groups = sorted(summary.n_samples.unique())
    for colour, n in zip(palette(len(groups)), groups, strict=True):
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
        for _, trial in table[table.n_samples == n].groupby("trial"):
            right.plot(trial.t, trial.risk_ratio_gd, color=colour, alpha=0.25, lw=0.6)
        right.plot(
            rows.t_mean,
            rows.risk_ratio_gd_mean,
            "o",
            ms=3,
            color=colour,
            zorder=3,
            label=f"GD / ridge on draws, n = {n}",
        )
        right.plot(rows.t_mean, rows.risk_ratio_mean, "-", color="k", lw=0.9, zorder=4)
    left.plot([], [], "-", color="grey", label="gradient flow (closed form)")
    left.plot([], [], "--", color="grey", label="ridge (closed form)")
    right.plot([], [], "-", color="k", lw=0.9, label="flow / ridge, closed form")
    right.axhline(
        bound, color="#a31515", ls="--", lw=1, label=f"GD bound {bound:.4f} (ηλ_max = {fraction:g})"
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
        ylabel="risk(t) / risk_ridge(1/t)",
        ylim=(0.8, bound * 1.08),
        title="Risk ratio (thin: designs)",
    )
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
