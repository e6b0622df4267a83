"""Figures of the risk family. Each function takes the family's tables, returns a Figure."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from implicit_reg.plotting import palette, subplots
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
        ax.fill_between(curve.t, curve.lo.clip(lower=1e-17), curve.hi.clip(lower=1e-17),
                        color=colours[algorithm], alpha=0.15, linewidth=0)
    ax.axhline(1e-6, color="grey", lw=0.8, ls=":")
    ax.axhline(1e-4, color="grey", lw=0.8, ls=":")
    ax.set(xscale="log", yscale="log", xlabel="time t = η·k",
           ylabel="‖β_t − β_∞‖ / ‖β_∞‖",
           title="Convergence to β₀ + X⁺(y − Xβ₀) (X⁺y for β₀ = 0)")
    ax.legend(fontsize=7, ncol=1, loc="lower left")
    return fig


def norm_excess(tables: Mapping[str, pd.DataFrame]):
    """Scatter of ‖β_∞‖ − ‖X⁺y‖ against ‖P⊥β₀‖ with the line y = x."""
    table = tables["min_norm"]
    last = table.groupby("algorithm").step.transform("max")
    final = table[(table.step == last) & (table.init == "random") & ~table.diverged]
    fig, ax = subplots(width=4.4, height=4.0)
    algorithms = sorted(final.algorithm.unique())
    for colour, algorithm in zip(palette(len(algorithms)), algorithms, strict=True):
        rows = final[final.algorithm == algorithm]
        ax.scatter(rows.null_init_norm, rows.norm - rows.min_norm_norm, s=14, color=colour,
                   label=algorithm.upper().replace("_B", ", batch "), alpha=0.8)
    top = float(final.null_init_norm.max()) * 1.1 if len(final) else 1.0
    ax.plot([0, top], [0, top], color="k", lw=1, ls="--", label="y = x (bound)")
    ax.set(xlabel="‖P⊥β₀‖ (null-space part of the initialization)",
           ylabel="‖β_∞‖ − ‖X⁺y‖", title="Norm excess from a random β₀")
    ax.legend(fontsize=8)
    return fig


def _risk_line(ax, rows: pd.DataFrame, colour, label: str, theory: bool = True):
    rows = rows.sort_values("gamma")
    mean, ci = rows.expected_risk_mean, rows.expected_risk_ci95
    ax.plot(rows.gamma, mean, "o-", ms=3, color=colour, label=label)
    # On log axes a band reaching zero is drawn down to a tenth of the mean.
    ax.fill_between(rows.gamma, np.maximum(mean - ci, mean / 10), mean + ci, color=colour,
                    alpha=0.2, linewidth=0)
    if theory:
        finite = np.isfinite(rows.theory_risk_mean)
        ax.plot(rows.gamma[finite], rows.theory_risk_mean[finite], "--", color=colour, lw=1)


def double_descent(tables: Mapping[str, pd.DataFrame]):
    """Risk vs γ: min-norm per σ (left); ridge at λ* and fixed λ for the largest σ (right)."""
    summary = tables["double_descent_summary"]
    fig, (left, right) = subplots(ncols=2, width=4.6, height=3.8)
    sigmas = sorted(summary.noise_std.unique())
    for colour, sigma in zip(palette(len(sigmas)), sigmas, strict=True):
        rows = summary[(summary.noise_std == sigma) & (summary.estimator == "min_norm")]
        _risk_line(left, rows, colour, f"min-norm, σ = {sigma:g}")
    left.axvline(1.0, color="grey", lw=0.8, ls=":")
    left.set(xscale="log", yscale="log", xlabel="γ = d/n", ylabel="excess risk ‖β̂ − β*‖²",
             title="Min-norm interpolant (theory dashed)")
    left.legend(fontsize=8)
    sigma = sigmas[-1]
    rows = summary[summary.noise_std == sigma]
    fixed = sorted(rows.ridge_lambda[rows.estimator == "ridge_fixed"].unique())
    variants = [("min_norm", None), ("ridge_optimal", None)]
    variants += [("ridge_fixed", lam) for lam in fixed]
    colours = palette(len(variants))
    for colour, (estimator, lam) in zip(colours, variants, strict=True):
        sel = rows[rows.estimator == estimator]
        if lam is not None:
            sel = sel[sel.ridge_lambda == lam]
        names = {"min_norm": "min-norm", "ridge_optimal": "ridge, λ* = γσ²/r²"}
        label = names[estimator] if lam is None else f"ridge, λ = {lam:g}"
        _risk_line(right, sel, colour, label)
    right.axvline(1.0, color="grey", lw=0.8, ls=":")
    right.set(xscale="log", yscale="log", xlabel="γ = d/n", ylabel="excess risk",
              title=f"Ridge vs min-norm, σ = {sigma:g}")
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig


def early_stopping(tables: Mapping[str, pd.DataFrame]):
    """Risk of gradient flow vs t and of ridge vs 1/λ (left); their ratio with the bound."""
    table = tables["early_stopping"]
    summary = tables["early_stopping_summary"]
    fig, (left, right) = subplots(ncols=2, width=4.6, height=3.8)
    groups = sorted(summary.n_samples.unique())
    for colour, n in zip(palette(len(groups)), groups, strict=True):
        rows = summary[summary.n_samples == n].sort_values("t")
        d = int(rows.n_features.iloc[0])
        left.plot(rows.t, rows.risk_gf_mean, "-", color=colour,
                  label=f"gradient flow at t, n = {n}, d = {d}")
        left.plot(rows.t, rows.risk_ridge_mean, "--", color=colour,
                  label=f"ridge at λ = 1/t, n = {n}, d = {d}")
        for _, trial in table[table.n_samples == n].groupby("trial"):
            right.plot(trial.t, trial.risk_ratio, color=colour, alpha=0.15, lw=0.6)
        right.plot(rows.t, rows.risk_ratio_mean, color=colour, lw=2, label=f"n = {n}, d = {d}")
    right.axhline(RATIO_BOUND, color="k", ls="--", lw=1, label=f"bound {RATIO_BOUND}")
    right.axhline(1.0, color="grey", ls=":", lw=0.8)
    left.set(xscale="log", yscale="log", xlabel="t (gradient flow) = 1/λ (ridge)",
             ylabel="expected excess risk given X", title="Early stopping vs ridge")
    right.set(xscale="log", xlabel="t = 1/λ", ylabel="risk_GF(t) / risk_ridge(1/t)",
              title="Risk ratio (thin: trials)")
    left.legend(fontsize=7)
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig


FIGURES = {
    "min_norm_convergence": min_norm_convergence,
    "norm_excess": norm_excess,
    "double_descent": double_descent,
    "early_stopping": early_stopping,
}
