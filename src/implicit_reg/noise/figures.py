"""Figures of the noise family. Each function takes the family's tables, returns a Figure.

Exact references are thin lines drawn above the simulations (simulated values are markers
or thicker coloured lines), so a mismatch is visible; lines are trial means from the
summary tables with their stored Student-t 95% bands; legends sit below the panels.
Symbols: η is a step size, σ a noise standard deviation, α an initialization scale.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import MultipleLocator

from implicit_reg.noise.claims import (
    DROPOUT_TOLERANCE,
    INJECTION_TOLERANCE,
    LABEL_NOISE_TOLERANCE,
    REGULARIZER_TOLERANCE,
)
from implicit_reg.plotting import (
    PALETTE,
    THEORY,
    cycled,
    legend_below,
    no_line,
    palette,
    points,
    sequential,
    subplots,
    summary_lines,
)

#: A claim's tolerance: red dashed, the one red line of any noise figure.
CLAIM = {"color": "tab:red", "lw": 1.1, "ls": "--", "zorder": 9}
SHAPE_LABELS = {
    "isotropic": r"isotropic noise $\sigma^2 I$",
    "curvature": r"curvature noise $\sigma^2 H$",
    "streaming": "streaming SGD",
}
ALGORITHM_LABELS = {
    "gd": "GD",
    "sgd": "SGD (batch 1, clean labels)",
    "label_noise_sgd": "label-noise SGD",
}
ALGORITHM_COLOURS = dict(zip(ALGORITHM_LABELS.values(), palette(3), strict=True))
#: GD and clean SGD end on the same level: GD is drawn wide underneath, clean SGD
#: narrower on top, so that both stay visible where they coincide.
ALGORITHM_WIDTHS = dict(zip(ALGORITHM_LABELS.values(), (4.0, 1.7, 2.0), strict=True))
#: Label-noise SGD stopped and followed by noiseless GD (a colour no line uses).
THEN_GD = PALETTE[4]
MARKERS = "os^Dv"
#: One marker per ηa of the autocorrelation figure, beside its colour.
AUTOCORRELATION_MARKERS = "osD^vP"


def _section(table: pd.DataFrame, name: str) -> pd.DataFrame:
    return table[table["section"] == name]


def _labelled(rows: pd.DataFrame, column: str, template: str) -> tuple[pd.DataFrame, dict]:
    """``rows`` with a text column ``label`` naming each value of ``column`` (in
    increasing order), and a sequential colour per label: the value is ordered."""
    values = sorted(rows[column].dropna().unique())
    names = [template.format(v) for v in values]
    labels = rows[column].map(dict(zip(values, names, strict=True)))
    return rows.assign(label=labels), dict(zip(names, sequential(len(names)), strict=True))


def _handles(entries) -> tuple[list, list]:
    """Legend handles and labels from ``(label, Line2D keyword arguments)`` pairs."""
    handles = [Line2D([], [], **style) for _, style in entries]
    return handles, [label for label, _ in entries]


# ---------------------------------------------------------------------------------------
# F5a

ETA_A = r"$\eta a$ = {:g}"


def ou_variance(tables: Mapping[str, pd.DataFrame]):
    """Var x_k vs k for every ηa against the exact transient and v_∞ (log–log)."""
    rows = _section(tables["ou_summary"], "scalar_transient")
    rows, colours = _labelled(rows[rows["step"] > 0], "eta_a", ETA_A)
    fig, ax = subplots(width=6.6, height=4.0)
    points(ax, rows, "step", "variance_mean", "label", colours)
    for label, curve in rows.groupby("label"):
        curve = curve.sort_values("step")
        ax.plot(curve["step"], curve["exact_variance_mean"], **THEORY)
        level = curve["v_inf_mean"].iloc[0]
        ax.axhline(level, color=colours[label], ls=":", lw=1.0, zorder=2)
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="step $k$",
        ylabel=r"Var $x_k$ across chains",
        title="1-D recursion: variance from $x_0$ to stationarity",
    )
    fig.tight_layout()
    handles, labels = _handles(
        [
            *((name, {"color": c, "marker": "o", "ls": "none"}) for name, c in colours.items()),
            (r"exact $v_\infty\,(1 - (1 - \eta a)^{2k})$", {**THEORY}),
            (r"$v_\infty = \eta\sigma^2 / (a(2 - \eta a))$", {"color": "grey", "ls": ":"}),
        ]
    )
    legend_below(fig, ncol=4, handles=handles, labels=labels)
    return fig


def ou_stationary_ratio(tables: Mapping[str, pd.DataFrame]):
    """Stationary variance over the SDE's ησ²/(2a) vs ηa: simulation, 2/(2 − ηa) and 1."""
    rows = _section(tables["ou_summary"], "scalar_stationary").sort_values("eta_a")
    fig, ax = subplots(width=5.2, height=3.6)
    ax.errorbar(
        rows["eta_a"],
        rows["ratio_to_sde_mean"],
        yerr=rows["ratio_to_sde_ci95"],
        fmt="o",
        ms=7,
        color=palette(1)[0],
        label="simulated (time average after burn-in)",
        zorder=3,
    )
    dense = np.linspace(0.0, float(rows["eta_a"].max()) * 1.02, 200)
    ax.plot(dense, 2.0 / (2.0 - dense), **THEORY, label=r"exact discrete: $2/(2 - \eta a)$")
    ax.axhline(1.0, color="grey", ls="--", lw=1.2, zorder=4, label="SDE approximation: 1")
    ax.set(
        yscale="log",
        xlabel=r"$\eta a$",
        ylabel=r"$v_\infty \,/\, (\eta\sigma^2/2a)$",
        title="Stationary variance: discrete recursion vs SDE",
    )
    fig.tight_layout()
    legend_below(fig, ncol=1)
    return fig


def ou_autocorrelation(tables: Mapping[str, pd.DataFrame]):
    """Stationary autocorrelation vs lag per ηa against (1 − ηa)^τ: ηa ≤ 1 (monotone)
    and ηa > 1 (alternating sign) in two panels."""
    rows = _section(tables["ou_summary"], "scalar_autocorrelation")
    rows, colours = _labelled(rows, "eta_a", ETA_A)
    markers = cycled(colours, AUTOCORRELATION_MARKERS)
    fig, axes = subplots(ncols=2, width=4.1, height=3.4, sharey=True)
    for ax, part, title in (
        (axes[0], rows["eta_a"] <= 1, r"$\eta a \leq 1$: monotone decay"),
        (axes[1], rows["eta_a"] > 1, r"$\eta a > 1$: alternating sign"),
    ):
        for label, curve in rows[part].groupby("label"):
            curve = curve.sort_values("lag")
            ax.plot(
                curve["lag"],
                curve["autocorrelation_mean"],
                markers.get(label, "o"),
                ls="none",
                ms=6,
                color=colours[label],
                zorder=3,
                label=label,
            )
            ax.plot(
                curve["lag"],
                curve["exact_autocorrelation_mean"],
                color=colours[label],
                lw=1.0,
                zorder=10,
            )
        ax.axhline(0.0, color="grey", lw=0.6)
        ax.xaxis.set_major_locator(MultipleLocator(5))
        ax.xaxis.set_minor_locator(MultipleLocator(1))
        ax.set(xlabel=r"lag $\tau$ (steps)", title=title)
    axes[0].set_ylabel(r"$\mathrm{Corr}(x_k, x_{k+\tau})$ at stationarity")
    fig.tight_layout()
    handles, labels = _handles(
        [
            *(
                (name, {"color": c, "marker": markers.get(name, "o"), "ls": "none"})
                for name, c in colours.items()
            ),
            (r"lines: exact $(1 - \eta a)^\tau$, same colour", {"color": "grey", "lw": 1.0}),
        ]
    )
    legend_below(fig, ncol=4, handles=handles, labels=labels)
    return fig


def ou_noise_shapes(tables: Mapping[str, pd.DataFrame]):
    """Per-eigen-direction stationary variance vs eigenvalue per noise shape; transients.

    Colour: the noise shape; marker: the step η; thin black lines: exact.
    """
    summary = tables["ou_summary"]
    shapes = [s for s in SHAPE_LABELS if s in set(summary["noise_shape"].dropna())]
    colours = dict(zip((SHAPE_LABELS[s] for s in shapes), palette(len(shapes)), strict=True))
    etas = sorted(summary["eta"].dropna().unique())
    markers = cycled((rf"$\eta$ = {e:g}" for e in etas), MARKERS)

    def tidy(rows):
        return rows.assign(
            shape=rows["noise_shape"].map(SHAPE_LABELS),
            step_size=rows["eta"].map(lambda e: rf"$\eta$ = {e:g}"),
        )

    eigen = tidy(_section(summary, "quadratic_eigen"))
    eigen = eigen[eigen["diverged_mean"] == 0]
    transient = tidy(_section(summary, "quadratic_transient"))
    transient = transient[transient["step"] > 0]
    fig, (left, middle, right) = subplots(ncols=3, width=2.7, height=3.1)
    panels = (
        (left, eigen, "eigenvalue_mean", "stationary_variance_mean", "exact_variance_mean"),
        (middle, transient[transient["noise_shape"] != "streaming"], "step", None, None),
        (right, transient[transient["noise_shape"] == "streaming"], "step", None, None),
    )
    for ax, rows, x, y, exact in panels:
        y = y or "trace_covariance_mean"
        exact = exact or "exact_trace_covariance_mean"
        points(ax, rows, x, y, "shape", colours, style="step_size", markers=markers, s=26)
        for _, curve in rows.groupby(["shape", "step_size"]):
            curve = curve.sort_values(x)
            shown = np.isfinite(curve[exact]) & (curve[exact] < 1e300)
            ax.plot(curve[x][shown], curve[exact][shown], **THEORY)
        ax.set(xscale="log", yscale="log")
    left.set(
        xlabel=r"eigenvalue $h_i$ of $H$",
        ylabel=r"stationary variance along $h_i$",
        title="Stationary, per direction",
    )
    for ax in (middle, right):
        ax.set(xlabel="step $k$", ylabel=r"$\mathrm{tr}\,\mathrm{Cov}(x_k)$ across chains")
    middle.set(title="Transient, constant noise")
    right.set(title=r"Streaming SGD (diverges past $\eta_{\max}$)")
    # A diverging run reaches 1e250: cap the axis four decades above the stable runs so
    # that their exact curves stay readable (the diverging one leaves through the top).
    streaming = transient[transient["noise_shape"] == "streaming"]
    values = streaming["trace_covariance_mean"]
    peaks = values.groupby(streaming["eta"]).max()
    peaks = peaks[np.isfinite(peaks)]
    if len(peaks) > 1:
        right.set_ylim(float(values[values > 0].min()) / 10, 1e4 * float(peaks.min()))
    fig.tight_layout()
    handles, labels = _handles(
        [
            *((name, {"color": c, "marker": "o", "ls": "none"}) for name, c in colours.items()),
            *((name, {"color": "grey", "marker": m, "ls": "none"}) for name, m in markers.items()),
            ("exact (Lyapunov equation, second-moment recursion)", {**THEORY}),
        ]
    )
    legend_below(fig, ncol=2, handles=handles, labels=labels)
    return fig


# ---------------------------------------------------------------------------------------
# F5b

ESTIMATOR_LABELS = {"averaged": "averaged iterate", "last_iterate": "last iterate"}
ESTIMATOR_DASHES = {"averaged iterate": "", "last iterate": (1.2, 1.6)}
ESTIMATOR_WIDTHS = {"averaged iterate": 2.2, "last iterate": 1.3}
GUIDE = {**THEORY, "ls": "-."}


def _slope_guide(ax, x, y_start, slope, label):
    x = np.asarray(x, float)
    ax.plot(x, y_start * (x / x[0]) ** slope, **GUIDE, label=label)


def dropout_convergence(tables: Mapping[str, pd.DataFrame]):
    """Convergence study: dropout SGD error vs steps per p; noise-injection error vs steps."""
    summary = tables["stochastic_approximation_summary"]
    dropout = _section(summary, "dropout")
    dropout, colours = _labelled(dropout[dropout["step"] > 0], "keep_prob", "dropout, $p$ = {:g}")
    colours = dict(zip(colours, palette(len(colours)), strict=True))
    fig, (left, right) = subplots(ncols=2, width=4.2, height=3.6)
    lines = {
        "style": "estimator",
        "dashes": ESTIMATOR_DASHES,
        "size": "estimator",
        "sizes": ESTIMATOR_WIDTHS,
        "relative_floor": 0.1,
    }
    dropout = dropout.assign(estimator=dropout["estimator"].map(ESTIMATOR_LABELS))
    summary_lines(left, dropout, "step", "rel_error", "label", colours, **lines)
    averaged = dropout[dropout["estimator"] == "averaged iterate"].sort_values("step")
    tail = averaged[averaged["step"] >= averaged["step"].max() / 100]
    if len(tail):
        _slope_guide(
            left,
            tail["step"].unique(),
            float(tail["rel_error_mean"].iloc[0]) * 1.5,
            -0.5,
            r"guide $\propto k^{-1/2}$",
        )
    left.axhline(DROPOUT_TOLERANCE, **CLAIM)
    left.set(
        xscale="log",
        yscale="log",
        xlabel="SGD steps $k$",
        ylabel=r"$\|\hat\beta_k - \beta_{\mathrm{drop}}\| \,/\, \|\beta_{\mathrm{drop}}\|$",
        title="Dropout SGD → expected-loss minimizer",
    )
    factor = _section(summary, "factorization")
    injection = factor[(factor["algorithm"] == "noise_injection") & (factor["step"] > 0)]
    injection = injection.assign(
        label="noise injection", estimator=injection["estimator"].map(ESTIMATOR_LABELS)
    )
    green = {"noise injection": palette(3)[2]}
    summary_lines(right, injection, "step", "rel_error", "label", green, **lines)
    right.axhline(INJECTION_TOLERANCE, **CLAIM)
    right.set(
        xscale="log",
        yscale="log",
        xlabel="steps $k$",
        ylabel=r"$\|w_1 \odot w_2 - s\| \,/\, \|s\|$, $s$ = soft threshold",
        title="Noise injection → penalized critical point",
    )
    fig.tight_layout()
    handles, labels = _handles(
        [
            *(
                (name, {"color": c, "lw": ESTIMATOR_WIDTHS["averaged iterate"]})
                for name, c in {**colours, **green}.items()
            ),
            *(
                (name, {"color": "grey", "lw": ESTIMATOR_WIDTHS[name], "dashes": d or (None, None)})
                for name, d in ESTIMATOR_DASHES.items()
            ),
            (r"guide $\propto k^{-1/2}$", {**GUIDE}),
            (
                f"claims: {DROPOUT_TOLERANCE:.0%} (dropout), {INJECTION_TOLERANCE:.0%} "
                "(noise injection)",
                {**CLAIM},
            ),
        ]
    )
    legend_below(fig, ncol=3, handles=handles, labels=labels)
    return fig


def factorization_products(tables: Mapping[str, pd.DataFrame]):
    """Final product w₁⊙w₂ vs w* for GD, penalized GD and noise injection."""
    final = _section(tables["stochastic_approximation"], "factorization_final")
    fig, axes = subplots(ncols=3, width=2.7, height=3.0, sharey=True)
    panels = (
        ("gd", "last_iterate", "GD on L", "w_star"),
        ("penalized_gd", "last_iterate", r"GD on $L + (\sigma^2/2)\|w\|^2$", "soft_threshold"),
        ("noise_injection", "averaged", "noise injection, averaged", "soft_threshold"),
    )
    threshold = None
    for ax, colour, (algorithm, estimator, title, column) in zip(
        axes, palette(3), panels, strict=True
    ):
        rows = final[(final["algorithm"] == algorithm) & (final["estimator"] == estimator)]
        ax.plot(rows["w_star"], rows["product"], "o", ms=5, color=colour, alpha=0.6, zorder=3)
        line = rows.drop_duplicates("coordinate").sort_values("w_star")
        ax.plot(line["w_star"], line[column], **THEORY)
        if column == "soft_threshold":
            zeroed = line.loc[line["soft_threshold"] == 0, "w_star"].abs()
            kept = line.loc[line["soft_threshold"] != 0, "w_star"].abs()
            if len(zeroed) and len(kept):  # σ² lies between the two
                threshold = (float(zeroed.max()) + float(kept.min())) / 2
                ax.axvspan(-threshold, threshold, color="0.9", lw=0, zorder=0)
        ax.set(xlabel=r"$w^*_i$", title=title)
    axes[0].set_ylabel(r"final $w_{1,i}\, w_{2,i}$")
    fig.tight_layout()
    entries = [
        *(
            (f"{title} (each coordinate, trial)", {"color": c, "marker": "o", "ls": "none"})
            for c, (_, _, title, _) in zip(palette(3), panels, strict=True)
        ),
        (r"exact: $w^*$ (GD), soft threshold sign$(w^*)(|w^*| - \sigma^2)_+$", {**THEORY}),
    ]
    if threshold is not None:
        entries.append(
            (
                r"$|w^*_i| < \sigma^2$: set to 0",
                {"color": "0.85", "lw": 8, "solid_capstyle": "butt"},
            )
        )
    handles, labels = _handles(entries)
    legend_below(fig, ncol=2, handles=handles, labels=labels)
    return fig


def imbalance_decay(tables: Mapping[str, pd.DataFrame]):
    """‖D(t)‖ vs t = ηk per step size η with e^{−2σ²t}‖D(0)‖; slope error vs η."""
    summary = tables["stochastic_approximation_summary"]
    rows = _section(summary, "imbalance")
    slopes = _section(tables["stochastic_approximation"], "imbalance_slope")
    rows, colours = _labelled(rows, "step_size", r"penalized GD, step $\eta$ = {:g}")
    markers = cycled(colours, MARKERS)
    fig, (left, right) = subplots(ncols=2, width=4.2, height=3.5)
    shown = {"style": "label", "markers": markers}
    points(left, rows, "t_mean", "imbalance_norm_mean", "label", colours, **shown)
    smallest = rows[rows["step_size"] == rows["step_size"].min()].sort_values("t_mean")
    left.plot(smallest["t_mean"], smallest["flow_norm_mean"], **THEORY)
    left.set(
        yscale="log",
        xlabel=r"time $t = \eta k$",
        ylabel=r"$\|D\|$, $D = w_1 \odot w_1 - w_2 \odot w_2$",
        title=r"Imbalance decays at rate $2\sigma^2$",
    )
    error = (slopes["slope"] / slopes["exact_slope"] - 1.0).abs()
    worst = error.groupby(slopes["step_size"]).max()
    by_step = dict(zip(sorted(rows["step_size"].unique()), colours, strict=True))
    for step, value in worst.items():
        label = by_step.get(step)
        style = {"color": colours.get(label, "grey"), "marker": markers.get(label, "o")}
        right.plot([step], [value], ls="none", ms=8, zorder=3, **style)
    eta = np.asarray(worst.index, float)
    right.plot(eta, worst.iloc[-1] * eta / eta[-1], **{**THEORY, "ls": ":", "lw": 1.4})
    bound = slopes.groupby("step_size")["slope_error_bound"].first()
    right.plot(bound.index, bound.to_numpy(), **CLAIM)
    right.set(
        xscale="log",
        yscale="log",
        xlabel=r"step $\eta$",
        ylabel=r"$|\mathrm{slope}/(-2\sigma^2) - 1|$, worst trial",
        title=r"GD → flow as $\eta \to 0$",
    )
    fig.tight_layout()
    handles, labels = _handles(
        [
            *(
                (name, {"color": c, "marker": markers[name], "ls": "none"})
                for name, c in colours.items()
            ),
            (r"flow: $e^{-2\sigma^2 t}\,\|D(0)\|$", {**THEORY}),
            (
                r"right: error of the log-slope of $\|D\|$, worst trial (colour: $\eta$)",
                {"color": "grey", "marker": "o", "ls": "none"},
            ),
            (r"guide $\propto \eta$", {**THEORY, "ls": ":", "lw": 1.4}),
            (r"claim: first-order bound $\eta(\sigma^4 + \max w^{*2})/(2\sigma^2)$", {**CLAIM}),
        ]
    )
    legend_below(fig, ncol=2, handles=handles, labels=labels)
    return fig


# ---------------------------------------------------------------------------------------
# F5c


def _algorithm_lines(ax, path: pd.DataFrame, column: str) -> None:
    """One line per algorithm of ``path`` (trial means, stored bands down to a tenth of the
    mean on the log axis), GD widest below."""
    path = path.assign(algorithm=path["algorithm"].map(ALGORITHM_LABELS))
    summary_lines(
        ax,
        path,
        "step",
        column,
        "algorithm",
        ALGORITHM_COLOURS,
        relative_floor=0.1,
        hue_order=list(ALGORITHM_COLOURS),
        size="algorithm",
        sizes=ALGORITHM_WIDTHS,
    )


def _algorithm_entries():
    return [
        (name, {"color": c, "lw": ALGORITHM_WIDTHS[name]}) for name, c in ALGORITHM_COLOURS.items()
    ]


def label_noise_error(tables: Mapping[str, pd.DataFrame]):
    """Relative error vs steps per algorithm; error after the noiseless GD phase."""
    table = tables["label_noise"]
    summary = tables["label_noise_summary"]
    path = _section(summary, "path")
    path = path[path["step"] > 0]
    fig, ax = subplots(width=6.6, height=4.0)
    _algorithm_lines(ax, path, "rel_error")
    phase = _section(summary, "gd_phase")
    phase = phase[(phase["gd_step"] == phase["gd_step"].max()) & (phase["noise_steps"] > 0)]
    phase = phase.sort_values("noise_steps")
    ax.errorbar(
        phase["noise_steps"],
        phase["rel_error_mean"],
        yerr=phase["rel_error_ci95"],
        fmt="s",
        ms=6,
        color=THEN_GD,
        zorder=8,
    )
    reference = _section(table, "reference")
    level = float(reference["theta_alpha_error"].mean())
    ax.axhline(level, **THEORY)
    ax.axhline(LABEL_NOISE_TOLERANCE, **CLAIM)
    l1 = float(reference["theta_l1_error"].max())
    low = float((phase["rel_error_mean"] - phase["rel_error_ci95"]).clip(lower=0).min())
    low = min(low if low > 0 else float(phase["rel_error_mean"].min()), LABEL_NOISE_TOLERANCE)
    ax.set(
        xscale="log",
        yscale="log",
        ylim=(low / 3, 5.0),
        xlabel="steps $k$ (batch 1 for SGD)",
        ylabel=r"$\|\theta_k - \theta^*\| \,/\, \|\theta^*\|$ (mean over trials)",
        title=r"Label noise selects the sparse solution (from $\alpha$ = 1)",
    )
    fig.tight_layout()
    handles, labels = _handles(
        [
            *_algorithm_entries(),
            (
                "label-noise SGD for $k$ steps, then noiseless GD",
                {"color": THEN_GD, "marker": "s", "ls": "none"},
            ),
            (rf"exact $Q_\alpha$ limit $\theta_\alpha$: {level:.2f}", {**THEORY}),
            (f"claim: {LABEL_NOISE_TOLERANCE:.0%}", {**CLAIM}),
        ]
    )
    exact_l1 = no_line(rf"$\theta_{{\ell_1}} = \theta^*$ (error {l1:.0e}: below the axis)")
    legend_below(fig, ncol=2, handles=[*handles, exact_l1], labels=[*labels, exact_l1.get_label()])
    return fig


def label_noise_regularizer(tables: Mapping[str, pd.DataFrame]):
    """tr ∇²L̂ and the effective initialization α_eff (geometric mean of √(u_j v_j)), with
    the rich-regime value R* = 4Σ_j|θ*_j|‖X_{:,j}‖²/n and the claim's bound (1 + tol)·R*."""
    path = _section(tables["label_noise_summary"], "path")
    path = path[path["step"] > 0]
    rich = float(_section(tables["label_noise"], "reference")["rich_trace_hessian"].mean())
    fig, (left, right) = subplots(ncols=2, width=4.2, height=3.5)
    _algorithm_lines(left, path, "trace_hessian")
    left.axhline(rich, **THEORY)
    left.axhline((1.0 + REGULARIZER_TOLERANCE) * rich, **CLAIM)
    _algorithm_lines(right, path, "alpha_eff")
    left.set(
        xscale="log",
        yscale="log",
        xlabel="steps $k$",
        ylabel=r"$\mathrm{tr}\,\nabla^2 \hat L$",
        title=r"$\mathrm{tr}\,\nabla^2 \hat L = (4/n)\,\Sigma_j\, (u_j^2 + v_j^2)\,\|X_{:,j}\|^2$",
    )
    right.set(
        xscale="log",
        yscale="log",
        xlabel="steps $k$",
        ylabel=r"$\alpha_{\mathrm{eff}}$",
        title=r"$\alpha_{\mathrm{eff}}$ = geometric mean of $\sqrt{u_j v_j}$",
    )
    fig.tight_layout()
    handles, labels = _handles(_algorithm_entries())
    limits = [
        Line2D(
            [],
            [],
            **THEORY,
            label=r"rich-regime value $R^* = 4\Sigma_j|\theta^*_j|\,\|X_{:,j}\|^2/n$",
        ),
        Line2D([], [], **CLAIM, label=rf"claim: final $\leq {1 + REGULARIZER_TOLERANCE:g}\,R^*$"),
    ]
    handles, labels = [*handles, *limits], [*labels, *(h.get_label() for h in limits)]
    legend_below(fig, ncol=3, handles=handles, labels=labels)
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
