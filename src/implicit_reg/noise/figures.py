"""Figures of the noise family. Each function takes the family's tables, returns a Figure.

Exact references are drawn on top of the simulations (higher z-order, black or dark
dashed lines over coloured markers and bands), so a mismatch is visible.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from implicit_reg.noise.claims import (
    DROPOUT_TOLERANCE,
    INJECTION_TOLERANCE,
    LABEL_NOISE_TOLERANCE,
    SLOPE_TOLERANCE,
)
from implicit_reg.plotting import palette, subplots

THEORY = {"color": "k", "lw": 1.1, "ls": "--", "zorder": 5}
#: A legend under its panel, clear of every curve.
BELOW = {"loc": "upper center", "bbox_to_anchor": (0.5, -0.2), "ncol": 1, "frameon": False}
SHAPE_LABELS = {
    "isotropic": "isotropic noise σ²I",
    "curvature": "curvature noise σ²H",
    "streaming": "streaming SGD",
}
ALGORITHM_LABELS = {
    "gd": "GD",
    "sgd": "SGD (batch 1, clean labels)",
    "label_noise_sgd": "label-noise SGD",
}


def _section(table: pd.DataFrame, name: str) -> pd.DataFrame:
    return table[table["section"] == name]


def _band(ax, x, mean, ci, colour, floor=None, **kw):
    """Mean line with its 95% band (clipped at ``floor`` on log axes)."""
    lo, hi = mean - ci, mean + ci
    if floor is not None:
        lo = np.maximum(lo, floor)
    ax.fill_between(x, lo, hi, color=colour, alpha=0.25, linewidth=0)
    ax.plot(x, mean, color=colour, **kw)


# ---------------------------------------------------------------------------------------
# F5a


def _per_eta_a(ax, rows: pd.DataFrame, x: str, simulated: str, theory: str):
    """One colour per ηa: simulated points, the exact curve on top; yields (colour, rows)."""
    grid = sorted(rows["eta_a"].unique())
    drawn = []
    for colour, eta_a in zip(palette(len(grid)), grid, strict=True):
        curve = rows[rows["eta_a"] == eta_a].sort_values(x)
        ax.plot(
            curve[x], curve[simulated], "o", ms=4, color=colour, label=f"simulated, ηa = {eta_a:g}"
        )
        ax.plot(curve[x], curve[theory], **THEORY)
        drawn.append((colour, curve))
    return drawn


def ou_variance(tables: Mapping[str, pd.DataFrame]):
    """Var x_k vs k for every ηa against the exact transient and v_∞ (log–log)."""
    rows = _section(tables["ou_summary"], "scalar_transient")
    rows = rows[rows["step"] > 0]
    fig, ax = subplots(width=6.0, height=4.2)
    for colour, curve in _per_eta_a(ax, rows, "step", "variance_mean", "exact_variance_mean"):
        ax.axhline(curve["v_inf_mean"].iloc[0], color=colour, ls=":", lw=0.9, zorder=4)
    ax.plot([], [], **THEORY, label="exact v_∞(1 − (1 − ηa)^{2k})")
    ax.plot([], [], color="grey", ls=":", label="v_∞ = ησ²/(a(2 − ηa))")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="step k",
        ylabel="Var x_k across chains",
        title="1-D OU recursion: variance from x₀ to stationarity",
    )
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return fig


def ou_stationary_ratio(tables: Mapping[str, pd.DataFrame]):
    """Stationary variance over the SDE's ησ²/(2a) vs ηa: simulation, 2/(2 − ηa) and 1."""
    rows = _section(tables["ou_summary"], "scalar_stationary").sort_values("eta_a")
    fig, ax = subplots(width=5.0, height=3.8)
    colour = palette(1)[0]
    ax.errorbar(
        rows["eta_a"],
        rows["ratio_to_sde_mean"],
        yerr=rows["ratio_to_sde_ci95"],
        fmt="o",
        ms=6,
        color=colour,
        label="simulated (time average after burn-in)",
        zorder=3,
    )
    dense = np.linspace(0.0, float(rows["eta_a"].max()) * 1.02, 200)
    ax.plot(dense, 2.0 / (2.0 - dense), **{**THEORY, "ls": "-"}, label="exact discrete: 2/(2 − ηa)")
    ax.axhline(1.0, color="tab:red", ls="--", lw=1.1, zorder=4, label="SDE approximation: 1")
    ax.set(
        yscale="log",
        xlabel="ηa",
        ylabel="v_∞ / (ησ²/2a)",
        title="Stationary variance: discrete recursion vs SDE",
    )
    ax.legend(fontsize=8, loc="upper left")
    return fig


def ou_autocorrelation(tables: Mapping[str, pd.DataFrame]):
    """Stationary autocorrelation vs lag per ηa against (1 − ηa)^τ."""
    rows = _section(tables["ou_summary"], "scalar_autocorrelation")
    fig, ax = subplots(width=6.0, height=4.0)
    _per_eta_a(ax, rows, "lag", "autocorrelation_mean", "exact_autocorrelation_mean")
    ax.plot([], [], **THEORY, label="exact (1 − ηa)^τ")
    ax.axhline(0.0, color="grey", lw=0.6)
    ax.set(
        xlabel="lag τ (steps)",
        ylabel="Corr(x_k, x_{k+τ}) at stationarity",
        title="Autocorrelation (alternating sign for ηa > 1)",
    )
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return fig


def ou_noise_shapes(tables: Mapping[str, pd.DataFrame]):
    """Per-eigen-direction stationary variance vs eigenvalue per noise shape; transients."""
    summary = tables["ou_summary"]
    eigen = _section(summary, "quadratic_eigen")
    eigen = eigen[eigen["diverged_mean"] == 0]
    transient = _section(summary, "quadratic_transient")
    transient = transient[transient["step"] > 0]
    fig, (left, middle, right) = subplots(ncols=3, width=4.3, height=5.4)
    shapes = [s for s in SHAPE_LABELS if s in set(summary["noise_shape"].dropna())]
    colours = dict(zip(shapes, palette(len(shapes)), strict=True))
    etas = sorted(summary["eta"].dropna().unique())
    markers = dict(zip(etas, "os^Dv", strict=False))
    styles = dict(zip(etas, ["-", "-.", ":", "--"], strict=False))
    configs = [(s, e) for s in shapes for e in etas]
    for shape, eta in configs:
        curve = eigen[(eigen["noise_shape"] == shape) & (eigen["eta"] == eta)]
        if curve.empty:
            continue
        curve = curve.sort_values("eigenvalue_mean")
        left.plot(
            curve["eigenvalue_mean"],
            curve["stationary_variance_mean"],
            markers[eta],
            ms=6,
            color=colours[shape],
            label=f"{SHAPE_LABELS[shape]}, η = {eta:g}",
        )
        left.plot(curve["eigenvalue_mean"], curve["exact_variance_mean"], **THEORY)
    left.plot([], [], **THEORY, label="exact (Lyapunov / d² system)")
    left.set(
        xscale="log",
        yscale="log",
        xlabel="eigenvalue h_i of H",
        ylabel="stationary variance along h_i",
        title="Fluctuations follow the noise shape",
    )
    left.legend(fontsize=7, **BELOW)
    for shape, eta in configs:
        curve = transient[(transient["noise_shape"] == shape) & (transient["eta"] == eta)]
        if curve.empty:
            continue
        curve = curve.sort_values("step")
        exact = curve["exact_trace_covariance_mean"]
        ax = right if shape == "streaming" else middle
        ax.plot(
            curve["step"],
            curve["trace_covariance_mean"],
            styles[eta],
            color=colours[shape],
            lw=1.8,
            label=f"{SHAPE_LABELS[shape]}, η = {eta:g}",
        )
        shown = np.isfinite(exact) & (exact < 1e300)
        ax.plot(curve["step"][shown], exact[shown], **{**THEORY, "lw": 0.9})
    for ax in (middle, right):
        ax.plot([], [], **THEORY, label="exact second-moment recursion")
        ax.set(xscale="log", yscale="log", xlabel="step k", ylabel="tr Cov(x_k) across chains")
        ax.legend(fontsize=7, **BELOW)
    middle.set(title="Transient, constant noise")
    right.set(title="Streaming SGD (beyond η_max: diverges)")
    # A diverging run reaches 1e250: cap the axis four decades above the stable runs so
    # that their exact curves stay readable (the diverging one leaves through the top).
    streaming = transient[transient["noise_shape"] == "streaming"]
    values = streaming["trace_covariance_mean"]
    peaks = values.groupby(streaming["eta"]).max()
    peaks = peaks[np.isfinite(peaks)]
    if len(peaks) > 1:
        right.set_ylim(float(values[values > 0].min()) / 10, 1e4 * float(peaks.min()))
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------
# F5b


def _slope_guide(ax, x, y_start, slope, label):
    x = np.asarray(x, float)
    ax.plot(x, y_start * (x / x[0]) ** slope, color="grey", lw=0.8, ls="-.", label=label)


def dropout_convergence(tables: Mapping[str, pd.DataFrame]):
    """Convergence study: dropout SGD error vs steps per p; noise-injection error vs steps."""
    summary = tables["stochastic_approximation_summary"]
    dropout = _section(summary, "dropout")
    dropout = dropout[dropout["step"] > 0]
    fig, (left, right) = subplots(ncols=2, width=5.0, height=4.0)
    probs = sorted(dropout["keep_prob"].unique())
    for colour, p in zip(palette(len(probs)), probs, strict=True):
        for estimator, style, label in (
            ("averaged", "-", "averaged"),
            ("last_iterate", ":", "last iterate"),
        ):
            curve = dropout[(dropout["keep_prob"] == p) & (dropout["estimator"] == estimator)]
            curve = curve.sort_values("step")
            _band(
                left,
                curve["step"],
                curve["rel_error_mean"],
                curve["rel_error_ci95"],
                colour,
                floor=1e-6,
                ls=style,
                lw=1.6 if estimator == "averaged" else 1.0,
                label=f"dropout SGD, p = {p:g}, {label}",
            )
    averaged = dropout[dropout["estimator"] == "averaged"].sort_values("step")
    tail = averaged[averaged["step"] >= averaged["step"].max() / 100]
    if len(tail):
        _slope_guide(
            left,
            tail["step"].unique(),
            float(tail["rel_error_mean"].iloc[0]) * 1.5,
            -0.5,
            "slope −1/2",
        )
    left.axhline(
        DROPOUT_TOLERANCE,
        color="tab:red",
        lw=1,
        ls="--",
        zorder=5,
        label=f"claim: {DROPOUT_TOLERANCE:.0%}",
    )
    left.set(
        xscale="log",
        yscale="log",
        xlabel="SGD steps k",
        ylabel="‖β̂_k − β_drop‖ / ‖β_drop‖",
        title="Dropout SGD → minimizer of the expected loss",
    )
    left.legend(fontsize=7, loc="lower left")
    factor = _section(summary, "factorization")
    injection = factor[(factor["algorithm"] == "noise_injection") & (factor["step"] > 0)]
    colour = palette(3)[2]
    for estimator, style, label in (
        ("averaged", "-", "averaged product"),
        ("last_iterate", ":", "last iterate"),
    ):
        curve = injection[injection["estimator"] == estimator].sort_values("step")
        _band(
            right,
            curve["step"],
            curve["rel_error_mean"],
            curve["rel_error_ci95"],
            colour,
            floor=1e-6,
            ls=style,
            lw=1.6 if estimator == "averaged" else 1.0,
            label=f"noise injection, {label}",
        )
    right.axhline(
        INJECTION_TOLERANCE,
        color="tab:red",
        lw=1,
        ls="--",
        zorder=5,
        label=f"claim: {INJECTION_TOLERANCE:.0%}",
    )
    right.set(
        xscale="log",
        yscale="log",
        xlabel="steps k",
        ylabel="‖w₁⊙w₂ − soft threshold‖ / ‖soft threshold‖",
        title="Noise injection → penalized critical point",
    )
    right.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return fig


def factorization_products(tables: Mapping[str, pd.DataFrame]):
    """Final product w₁⊙w₂ vs w* for GD, penalized GD and noise injection."""
    final = _section(tables["stochastic_approximation"], "factorization_final")
    fig, axes = subplots(ncols=3, width=3.6, height=3.6, sharey=True)
    panels = (
        ("gd", "last_iterate", "GD on L", "w₁⊙w₂ = w* (global minima)", "w_star"),
        (
            "penalized_gd",
            "last_iterate",
            "GD on L + (η²/2)‖w‖²",
            "soft threshold sign(w*)(|w*| − η²)₊",
            "soft_threshold",
        ),
        (
            "noise_injection",
            "averaged",
            "noise injection (averaged)",
            "soft threshold sign(w*)(|w*| − η²)₊",
            "soft_threshold",
        ),
    )
    colours = palette(3)
    for ax, colour, (algorithm, estimator, title, theory, column) in zip(
        axes, colours, panels, strict=True
    ):
        rows = final[(final["algorithm"] == algorithm) & (final["estimator"] == estimator)]
        ax.plot(
            rows["w_star"],
            rows["product"],
            "o",
            ms=5,
            color=colour,
            alpha=0.6,
            label=f"{title}, all trials",
        )
        line = rows.drop_duplicates("coordinate").sort_values("w_star")
        ax.plot(line["w_star"], line[column], **{**THEORY, "ls": "-", "lw": 0.9}, label=theory)
        ax.set(xlabel="w*_i", title=title)
        ax.legend(fontsize=7, loc="upper left")
    axes[0].set_ylabel("final w₁,i w₂,i")
    fig.tight_layout()
    return fig


def imbalance_decay(tables: Mapping[str, pd.DataFrame]):
    """‖D(t)‖ vs t per step size with e^{−2η²t}‖D(0)‖; slope error vs step size."""
    table = tables["stochastic_approximation"]
    rows = _section(table, "imbalance")
    slopes = _section(table, "imbalance_slope")
    fig, (left, right) = subplots(ncols=2, width=5.0, height=4.0)
    steps = sorted(rows["step_size"].unique(), reverse=True)
    for colour, alpha in zip(palette(len(steps)), steps, strict=True):
        curve = rows[rows["step_size"] == alpha].groupby("t")[["imbalance_norm", "flow_norm"]]
        curve = curve.mean().reset_index()
        left.plot(
            curve["t"],
            curve["imbalance_norm"],
            "o",
            ms=3.5,
            color=colour,
            label=f"penalized GD, step α = {alpha:g}",
        )
    flow = rows[rows["step_size"] == steps[-1]].groupby("t")["flow_norm"].mean()
    left.plot(flow.index, flow.to_numpy(), **{**THEORY, "ls": "-"}, label="flow: e^{−2η²t}‖D(0)‖")
    left.set(
        yscale="log",
        xlabel="t = αk",
        ylabel="‖D‖, D = w₁⊙w₁ − w₂⊙w₂ (trial mean)",
        title="Imbalance decays at rate 2η²",
    )
    left.legend(fontsize=7, loc="lower left")
    error = (slopes["slope"] / slopes["exact_slope"] - 1.0).abs()
    worst = error.groupby(slopes["step_size"]).max()
    right.plot(
        worst.index,
        worst.to_numpy(),
        "o-",
        color=palette(1)[0],
        ms=6,
        label="GD: max over trials of |slope/(−2η²) − 1|",
    )
    right.axhline(
        SLOPE_TOLERANCE,
        color="tab:red",
        lw=1,
        ls="--",
        zorder=5,
        label="claim: 1e-3 at the smallest step",
    )
    right.set(
        xscale="log",
        yscale="log",
        xlabel="step α",
        ylabel="relative error of the log-slope of |D_i| (worst i)",
        title="GD → flow as α → 0 (error ∝ α)",
    )
    right.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------
# F5c


def label_noise_error(tables: Mapping[str, pd.DataFrame]):
    """Relative error vs steps per algorithm; error after the noiseless GD phase."""
    table = tables["label_noise"]
    summary = tables["label_noise_summary"]
    path = _section(summary, "path")
    path = path[path["step"] > 0]
    fig, ax = subplots(width=6.4, height=4.4)
    colours = dict(zip([*ALGORITHM_LABELS, "then_gd"], palette(4), strict=True))
    for algorithm, label in ALGORITHM_LABELS.items():
        curve = path[path["algorithm"] == algorithm].sort_values("step")
        _band(
            ax,
            curve["step"],
            curve["rel_error_mean"],
            curve["rel_error_ci95"],
            colours[algorithm],
            floor=1e-4,
            lw=1.5,
            label=label,
        )
    phase = _section(summary, "gd_phase")
    phase = phase[(phase["gd_step"] == phase["gd_step"].max()) & (phase["noise_steps"] > 0)]
    phase = phase.sort_values("noise_steps")
    ax.errorbar(
        phase["noise_steps"],
        phase["rel_error_mean"],
        yerr=phase["rel_error_ci95"],
        fmt="s",
        ms=6,
        color=colours["then_gd"],
        zorder=6,
        label="label-noise SGD for k steps, then noiseless GD",
    )
    reference = _section(table, "reference")
    level = float(reference["theta_alpha_error"].mean())
    ax.axhline(
        level, **{**THEORY, "color": "tab:purple"}, label=f"θ_α (exact Q_α limit): {level:.2f}"
    )
    l1 = float(reference["theta_l1_error"].max())
    ax.axhline(
        max(l1, 1.1e-4),
        color="k",
        lw=1.1,
        ls=":",
        zorder=5,
        label=f"θ_ℓ1 = θ* (error {l1:.0e}, at the axis floor)",
    )
    ax.axhline(
        LABEL_NOISE_TOLERANCE,
        color="tab:red",
        lw=1,
        ls="--",
        zorder=5,
        label=f"claim: {LABEL_NOISE_TOLERANCE:.0%}",
    )
    ax.set(
        xscale="log",
        yscale="log",
        ylim=(1e-4, 5.0),
        xlabel="steps k (batch 1 for SGD)",
        ylabel="‖θ_k − θ*‖ / ‖θ*‖ (mean over trials)",
        title="Label noise selects the sparse solution (from α = 1)",
    )
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return fig


def label_noise_regularizer(tables: Mapping[str, pd.DataFrame]):
    """tr ∇²L̂ and the effective α = geometric mean of √(u_j v_j) vs steps."""
    path = _section(tables["label_noise_summary"], "path")
    path = path[path["step"] > 0]
    fig, (left, right) = subplots(ncols=2, width=4.8, height=3.9)
    colours = dict(zip(ALGORITHM_LABELS, palette(3), strict=True))
    # GD and clean SGD nearly coincide: GD is drawn dashed on top so both stay visible.
    styles = {
        "gd": {"ls": "--", "lw": 2.0, "zorder": 4},
        "sgd": {"lw": 1.5},
        "label_noise_sgd": {"lw": 1.5},
    }
    for algorithm, label in ALGORITHM_LABELS.items():
        curve = path[path["algorithm"] == algorithm].sort_values("step")
        _band(
            left,
            curve["step"],
            curve["trace_hessian_mean"],
            curve["trace_hessian_ci95"],
            colours[algorithm],
            floor=1e-6,
            label=label,
            **styles[algorithm],
        )
        _band(
            right,
            curve["step"],
            curve["alpha_eff_mean"],
            curve["alpha_eff_ci95"],
            colours[algorithm],
            floor=1e-12,
            label=label,
            **styles[algorithm],
        )
    left.set(
        xscale="log",
        yscale="log",
        xlabel="steps k",
        ylabel="tr ∇²L̂ = (4/n)Σ_j (u_j² + v_j²)‖X_{:,j}‖²",
        title="Implicit regularizer of label noise",
    )
    right.set(
        xscale="log",
        yscale="log",
        xlabel="steps k",
        ylabel="α_eff = geometric mean of √(u_j v_j)",
        title="Effective initialization shrinks",
    )
    left.legend(fontsize=7, loc="lower left")
    right.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return fig


FIGURES = {
    "ou_variance": ou_variance,
    "ou_stationary_ratio": ou_stationary_ratio,
    "ou_autocorrelation": ou_autocorrelation,
    "ou_noise_shapes": ou_noise_shapes,
    "dropout_convergence": dropout_convergence,
    "factorization_products": factorization_products,
    "imbalance_decay": imbalance_decay,
    "label_noise_error": label_noise_error,
    "label_noise_regularizer": label_noise_regularizer,
}
