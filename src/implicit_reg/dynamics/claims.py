"""Claims of the dynamics family, computed from its tables (docs/science.md §F6)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from implicit_reg.claims import Claim, worst
from implicit_reg.dynamics.exact import (
    closed_form_crossing_time,
    closed_form_singular_values,
    ode_singular_values,
    quadrature_crossing_time,
)

FAMILY = "dynamics"

#: §F6a: GD vs the exact singular values, half-times and relative transition widths.
CURVE_TOLERANCE = 1e-2
TIME_TOLERANCE = 1e-2
#: §F6a: GD's relative transition widths (and their ratios) carry Euler's error, first order
#: in the step fraction c: the step study of docs/science.md §F6a measures relative width
#: errors of at most 0.33·c (N = 2) and 0.13·c (N ≥ 3), so 0.5·c bounds them with room
#: while a wrong depth or init scale moves the widths by tens of percent.
WIDTH_ERROR_PER_STEP = 0.5
#: §F6a: U and V stay fixed.
ALIGNMENT_TOLERANCE = 1e-6
#: Consistency of the exact references (closed forms against solve_ivp and quadrature):
#: four orders of magnitude below the 1e-2 at which they judge GD.
REFERENCE_TOLERANCE = 1e-6
#: §F6b.
#: One tolerance for GD and SGD: random-reshuffling SGD on an interpolating problem has no
#: noise floor (every batch gradient vanishes at a global minimum), so both reach rounding.
GD_TOLERANCE = 1e-6
NULL_TOLERANCE = 1e-10
#: §F6a: Euler's error is first order, a·c + b·c², so the ratio of the errors at two steps
#: is the step ratio times 1 + O(c_large − c_small); with c ≤ 0.04 the relative deviation
#: stays well inside 0.1, while an error that does not scale with the step gives ratio ≈ 1.
STEP_RATIO_TOLERANCE = 0.1
#: §F6c: slope of the relative weight change −½ ± 0.1.
WEIGHT_SLOPE = -0.5
WEIGHT_SLOPE_TOLERANCE = 0.1
#: §F6c: linearization gaps and kernel change fall like 1/m (symmetric cancellation of the
#: second-order terms); the fitted slopes have standard errors 0.03–0.06, so ±0.25 is about
#: four of them and excludes a wrong m^(−3/4) scaling.
GAP_SLOPE = -1.0
GAP_SLOPE_TOLERANCE = 0.25

SAXE = "Arora, Cohen, Hu, Luo (2019); Saxe, McClelland, Ganguli (2014); docs/science.md §F6a"
LINEAR_NETS = (
    "docs/science.md §F6b (W₁'s gradients W₂ᵀEXᵀ have rows in Col(X), so W₁P⊥ never "
    "moves); Zhang et al. (2017) (minimum-norm solutions of GD)"
)
LAZY = (
    "Jacot et al. (2018); Chizat, Oyallon, Bach (2019) (linearization); Dyer, Gur-Ari (2020) "
    "(1/m corrections); docs/science.md §F6c"
)
PL = (
    "Polyak (1963); Karimi, Nutini, Schmidt (2016) (PL inequality ⇒ linear rate); "
    "Du, Zhai, Póczos, Singh (2019), Theorem 4.1"
)


# ---------------------------------------------------------------------------------------
# F6a


def crossing_time(t: np.ndarray, ratio: np.ndarray, fraction: float) -> float:
    """First time at which ``ratio = σ/s`` reaches ``fraction``, between checkpoints.

    The logit ``ln(q/(1 − q))`` of ``q = σ/s`` is interpolated linearly in t between
    the two checkpoints that bracket the crossing (exact for the depth-2 logistic
    curve); NaN if the curve never reaches ``fraction``.

    Parameters
    ----------
    t, ratio : ndarray, shape (c,)
        Sorted times and ``σ_r(t)/s_r``.
    fraction : float
        In (0, 1).
    """
    above = np.flatnonzero(ratio >= fraction)
    if len(above) == 0 or above[0] == 0:
        return float("nan")
    i = above[0]
    q = np.clip(ratio[i - 1 : i + 1], 1e-300, 1 - 1e-16)
    logit = np.log(q / (1 - q))
    target = np.log(fraction / (1 - fraction))
    return float(t[i - 1] + (t[i] - t[i - 1]) * (target - logit[0]) / (logit[1] - logit[0]))


def transition_times(table: pd.DataFrame) -> pd.DataFrame:
    """GD's times to 10%, 50% and 90% of s_r per run and singular value, with the exact ones.

    Returns
    -------
    DataFrame
        One row per (depth, init_scale, step_fraction, trial, index) with ``s``,
        ``t10``, ``t50``, ``t90`` (GD), the exact ``t10_exact``, ``t50_exact``,
        ``t90_exact``, and the relative widths ``width = (t90 − t10)/t50`` and
        ``width_exact``.
    """
    keys = ["depth", "init_scale", "step_fraction", "trial", "index"]
    rows = []
    for key, curve in table.sort_values("t").groupby(keys, sort=True):
        t, ratio = curve.t.to_numpy(), (curve.sigma / curve.s).to_numpy()
        first = curve.iloc[0]
        rows.append(
            {
                **dict(zip(keys, key, strict=True)),
                "s": first.s,
                "t10": crossing_time(t, ratio, 0.1),
                "t50": crossing_time(t, ratio, 0.5),
                "t90": crossing_time(t, ratio, 0.9),
                "t10_exact": first.t10_exact,
                "t50_exact": first.t50_exact,
                "t90_exact": first.t90_exact,
            }
        )
    times = pd.DataFrame(rows)
    times["width"] = (times.t90 - times.t10) / times.t50
    times["width_exact"] = (times.t90_exact - times.t10_exact) / times.t50_exact
    return times


def _finest(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows at the smallest step fraction of each depth (the step of the GD-vs-exact claims)."""
    smallest = frame.groupby("depth").step_fraction.transform("min")
    return frame[frame.step_fraction == smallest]


def _width_ratios(times: pd.DataFrame, axis: str, order: str, column: str = "width") -> pd.Series:
    """Relative width at the next value of ``axis`` over the width at the current one.

    ``axis`` is ``depth`` (next = larger depth) or ``init_scale`` (next = smaller ε);
    ratios of ``column`` (GD's ``width`` or the exact ``width_exact``) are taken per
    (other keys, trial, index), in the same order for every column.
    """
    others = [k for k in ("depth", "init_scale") if k != axis] + ["trial", "index"]
    ratios = []
    for _, group in times.groupby(others):
        widths = group.sort_values(axis, ascending=(order == "increasing"))[column].to_numpy()
        ratios.append(widths[1:] / widths[:-1])
    return pd.Series(np.concatenate(ratios) if ratios else [], dtype=float)


def width_ratio_deviation(times: pd.DataFrame, axis: str, order: str) -> tuple[float, float]:
    """Max of ``|ratio_GD/ratio_exact − 1|`` over the ratios of `_width_ratios`, and the
    largest exact ratio (below 1 when the width shrinks along ``axis``)."""
    gd = _width_ratios(times, axis, order)
    exact = _width_ratios(times, axis, order, "width_exact")
    return worst(np.abs(gd / exact - 1.0)), float(exact.max())


def matrix_factorization_claims(table: pd.DataFrame) -> list[Claim]:
    """F6a claims from the ``matrix_factorization`` trial table."""
    fine = _finest(table)
    times = transition_times(table)
    fine_times = _finest(times)
    errors = table.groupby(["depth", "init_scale", "step_fraction"]).error.max().unstack()
    step_ratio = errors.columns.min() / errors.columns.max()
    ratios = errors[errors.columns.min()] / errors[errors.columns.max()]
    shrink = np.max(np.abs(ratios / step_ratio - 1.0))
    deep = fine_times[fine_times.depth >= 2]
    order = []
    for _, group in deep.groupby(["depth", "init_scale", "trial"]):
        group = group.sort_values("s")
        order.append(group.t50.to_numpy()[:-1] / group.t50.to_numpy()[1:])
    depth1 = fine_times[fine_times.depth == 1]
    depth2 = fine_times[fine_times.depth == 2]
    ln_ratio_1 = np.log(9.0) / np.log(2.0 * (depth1.s - depth1.init_scale) / depth1.s)
    ln_ratio_2 = np.log(81.0) / np.log(depth2.s / depth2.init_scale - 1.0)
    alignment = np.maximum(table.align_u, table.align_v)[table.step > 0]
    out = [
        Claim(
            FAMILY,
            "gd_singular_values_match_exact",
            "GD on the factors (smaller step) follows the exact singular values: max over "
            "depths, ε, trials, checkpoints and r of |σ_r^GD(t) − σ_r(t)|/s_r ≤ "
            f"{CURVE_TOLERANCE:g} (closed forms for N ≤ 2, solve_ivp for N ≥ 3).",
            SAXE,
            worst(fine.error),
            CURVE_TOLERANCE,
            "<=",
        ),
        Claim(
            FAMILY,
            "gd_error_shrinks_with_step",
            "The GD error is first order in the step (Euler): max over depths and ε of "
            "|(max error at the smaller step)/(max error at the larger step)/"
            f"{step_ratio:g} − 1| ≤ {STEP_RATIO_TOLERANCE:g}, {step_ratio:g} being the step "
            "ratio (the second-order term shifts it by O(c)).",
            "docs/science.md §F6a (GD is the Euler scheme of gradient flow)",
            float(shrink),
            STEP_RATIO_TOLERANCE,
            "<=",
        ),
        Claim(
            FAMILY,
            "singular_vectors_stay_fixed",
            "From the balanced aligned init U and V stay fixed: max over runs and "
            "checkpoints t > 0 of ‖U_GDᵀU − I‖_F and ‖V_GDᵀV − I‖_F after sign alignment "
            f"≤ {ALIGNMENT_TOLERANCE:g}.",
            SAXE,
            worst(alignment),
            ALIGNMENT_TOLERANCE,
            "<=",
        ),
        Claim(
            FAMILY,
            "half_times_match_exact",
            "GD's half-times t_r (σ_r = s_r/2) match the exact ones: max relative error "
            f"≤ {TIME_TOLERANCE:g} (N = 1: dd'·ln(2(s_r − ε)/s_r), nearly equal for every r; "
            "N = 2: (dd'/(2s_r))·ln(s_r/ε − 1), inversely proportional to s_r; N ≥ 3: "
            "quadrature of dt = dσ/σ̇).",
            SAXE,
            worst(np.abs(fine_times.t50 - fine_times.t50_exact) / fine_times.t50_exact),
            TIME_TOLERANCE,
            "<=",
        ),
    ]
    if len(order):
        out.append(
            Claim(
                FAMILY,
                "half_times_ordered_by_s",
                "For N ≥ 2 the singular values are learned one by one, larger first: min over "
                "depths, ε, trials and adjacent r of t_r(smaller s)/t_r(larger s) ≥ 1.",
                SAXE,
                float(np.min(np.concatenate(order))),
                1.0,
                ">=",
            )
        )
    if len(depth1):
        out.append(
            Claim(
                FAMILY,
                "depth1_relative_width",
                "N = 1: GD's transition width (10% → 90% of s_r) over its half-time equals "
                "ln 9/ln(2(s_r − ε)/s_r) ≈ 3.17 whatever ε: max relative deviation "
                f"≤ {TIME_TOLERANCE:g}.",
                SAXE,
                worst(np.abs(depth1.width - ln_ratio_1) / ln_ratio_1),
                TIME_TOLERANCE,
                "<=",
            )
        )
    if len(depth2):
        out.append(
            Claim(
                FAMILY,
                "depth2_relative_width",
                "N = 2: GD's relative transition width equals ln 81/ln(s_r/ε − 1): max relative "
                f"deviation ≤ {TIME_TOLERANCE:g}.",
                SAXE,
                worst(np.abs(depth2.width - ln_ratio_2) / ln_ratio_2),
                TIME_TOLERANCE,
                "<=",
            )
        )
    width_tolerance = WIDTH_ERROR_PER_STEP * float(fine_times.step_fraction.max())
    deeper = fine_times[fine_times.depth >= 3]
    if len(deeper):
        out.append(
            Claim(
                FAMILY,
                "deep_relative_width_matches_exact",
                "N ≥ 3 (no closed form): GD's relative transition width (t_0.9 − t_0.1)/t_0.5 "
                "equals the one from the quadrature of dt = dσ/σ̇: max over depths, ε, trials "
                f"and r of the relative deviation ≤ {WIDTH_ERROR_PER_STEP:g}·c = "
                f"{width_tolerance:.3g} at the smaller step c (Euler's error is first order "
                "in c; "
                f"exact widths {deeper.width_exact.min():.3g} … "
                f"{deeper.width_exact.max():.3g}).",
                SAXE,
                worst(np.abs(deeper.width - deeper.width_exact) / deeper.width_exact),
                width_tolerance,
                "<=",
            )
        )
    if fine_times.depth.nunique() > 1:
        deviation, largest = width_ratio_deviation(fine_times, "depth", "increasing")
        out.append(
            Claim(
                FAMILY,
                "transition_width_shrinks_with_depth",
                "GD's relative transition width shrinks as N grows as the exact widths say: "
                "max over ε, trials, r and consecutive depths of "
                "|(width(N + 1)/width(N))_GD/(width(N + 1)/width(N))_exact − 1| ≤ "
                f"{WIDTH_ERROR_PER_STEP:g}·c = {width_tolerance:.3g} at the smaller step c "
                "(largest exact ratio "
                f"{largest:.3g}).",
                SAXE,
                deviation,
                width_tolerance,
                "<=",
            )
        )
    if deep.init_scale.nunique() > 1:
        deviation, largest = width_ratio_deviation(deep, "init_scale", "decreasing")
        out.append(
            Claim(
                FAMILY,
                "transition_width_shrinks_as_eps_falls",
                "For N ≥ 2 GD's relative transition width shrinks as ε falls as the exact "
                "widths say: max over depths, trials, r and consecutive ε of "
                "|(width(smaller ε)/width(larger ε))_GD/(same)_exact − 1| ≤ "
                f"{WIDTH_ERROR_PER_STEP:g}·c = {width_tolerance:.3g} at the smaller step c "
                "(largest exact ratio "
                f"{largest:.3g}).",
                SAXE,
                deviation,
                width_tolerance,
                "<=",
            )
        )
    out += reference_checks(table)
    return out


def reference_checks(table: pd.DataFrame) -> list[Claim]:
    """Consistency of the exact references at the table's ε, s and horizon.

    solve_ivp (rtol 1e-10) against the closed forms for N = 1, 2, and the quadrature of
    the crossing times against their closed forms: two exact references compared.
    """
    s = np.sort(table.s.unique())[::-1]
    dd = float(table.n_rows.iloc[0] * table.n_cols.iloc[0])
    horizon = float(table.t.max())
    curve, times = [], []
    for eps in table.init_scale.unique():
        t = np.linspace(0.0, horizon, 200)
        for depth in (1, 2):
            closed = closed_form_singular_values(t, s, eps, depth, dd)
            solved = ode_singular_values(t, s, eps, depth, dd)
            curve.append(np.max(np.abs(solved - closed) / closed))
            for f in (0.1, 0.5, 0.9):
                exact = closed_form_crossing_time(f, s, eps, depth, dd)
                quad = quadrature_crossing_time(f, s, eps, depth, dd)
                times.append(np.max(np.abs(quad - exact) / exact))
    return [
        Claim(
            FAMILY,
            "ode_solver_matches_closed_forms",
            "solve_ivp (rtol 1e-10) on σ̇ = (N/(dd'))σ^{2−2/N}(s − σ) reproduces the closed "
            f"forms for N = 1, 2: max relative difference ≤ {REFERENCE_TOLERANCE:g}.",
            SAXE,
            float(max(curve)),
            REFERENCE_TOLERANCE,
            "<=",
            kind="check",
        ),
        Claim(
            FAMILY,
            "quadrature_matches_closed_form_times",
            "The quadrature of dt = dσ/σ̇ reproduces the closed-form 10%, 50% and 90% times "
            f"for N = 1, 2: max relative difference ≤ {REFERENCE_TOLERANCE:g}.",
            SAXE,
            float(max(times)),
            REFERENCE_TOLERANCE,
            "<=",
            kind="check",
        ),
    ]


# ---------------------------------------------------------------------------------------
# F6b


def linear_nets_claims(table: pd.DataFrame) -> list[Claim]:
    """F6b claims from the ``linear_nets`` trial table."""
    last = table.groupby(["init", "algorithm"]).step.transform("max")
    final = table[table.step == last]
    gd = final.algorithm == "gd"
    sgd = final.algorithm.str.startswith("sgd")
    row = final.init == "row_space"
    generic = final.init == "generic"
    return [
        Claim(
            FAMILY,
            "gd_row_space_init_reaches_min_norm",
            "GD from W₁ rows in Col(X) ends at A_min = YXᵀ(XXᵀ)⁺: max over trials of "
            f"‖W₂W₁ − A_min‖/‖A_min‖ ≤ {GD_TOLERANCE:g}.",
            LINEAR_NETS,
            worst(final[gd & row].dist_min_norm),
            GD_TOLERANCE,
            "<=",
        ),
        Claim(
            FAMILY,
            "sgd_row_space_init_reaches_min_norm",
            "Mini-batch SGD from W₁ rows in Col(X) ends at A_min: max relative distance "
            f"≤ {GD_TOLERANCE:g}.",
            LINEAR_NETS,
            worst(final[sgd & row].dist_min_norm),
            GD_TOLERANCE,
            "<=",
        ),
        Claim(
            FAMILY,
            "null_space_component_unchanged",
            "GD and SGD never change W₁'s component in Null(Xᵀ): max over runs and "
            f"checkpoints of ‖W₁P⊥ − W₁(0)P⊥‖/‖W₁(0)‖ ≤ {NULL_TOLERANCE:g}.",
            LINEAR_NETS,
            worst(table.null_change),
            NULL_TOLERANCE,
            "<=",
        ),
        Claim(
            FAMILY,
            "gd_generic_init_reaches_shifted_limit",
            "GD from a generic W₁ ends at A_min + W₂(∞)W₁(0)P⊥, so its distance to A_min "
            "is ‖W₂(∞)W₁(0)P⊥‖: max of ‖W₂W₁ − A_min − W₂(∞)W₁(0)P⊥‖/‖A_min‖ "
            f"≤ {GD_TOLERANCE:g}.",
            LINEAR_NETS,
            worst(final[gd & generic].dist_limit),
            GD_TOLERANCE,
            "<=",
        ),
        Claim(
            FAMILY,
            "sgd_generic_init_reaches_shifted_limit",
            "SGD from a generic W₁ ends at A_min + W₂(∞)W₁(0)P⊥: max relative distance "
            f"≤ {GD_TOLERANCE:g}.",
            LINEAR_NETS,
            worst(final[sgd & generic].dist_limit),
            GD_TOLERANCE,
            "<=",
        ),
    ]


# ---------------------------------------------------------------------------------------
# F6c


def loglog_fit(x, y) -> tuple[float, float]:
    """Least-squares slope of ``ln y`` on ``ln x`` and its standard error.

    ``se = √(Σ residual²/(k − 2) / Σ(ln x − mean)²)`` over the k points (NaN if k < 3).
    """
    lx, ly = np.log(np.asarray(x, dtype=float)), np.log(np.asarray(y, dtype=float))
    if len(lx) < 2 or not np.all(np.isfinite(ly)):
        return float("nan"), float("nan")
    centred = lx - lx.mean()
    slope = float(np.sum(centred * (ly - ly.mean())) / np.sum(centred**2))
    if len(lx) < 3:
        return slope, float("nan")
    residual = ly - ly.mean() - slope * centred
    se = float(np.sqrt(np.sum(residual**2) / (len(lx) - 2) / np.sum(centred**2)))
    return slope, se


def lazy_quantities(table: pd.DataFrame) -> pd.DataFrame:
    """Per (width, trial): weight change, kernel change and sup over t of the linearization gaps."""
    return (
        table.groupby(["width", "trial"])
        .agg(
            weight_change=("weight_change", "first"),
            kernel_change=("kernel_change", "first"),
            lin_gap_train=("lin_gap_train", "max"),
            lin_gap_test=("lin_gap_test", "max"),
            lin_gap_flow_train=("lin_gap_flow_train", "max"),
        )
        .reset_index()
    )


def pl_interval_rates(table: pd.DataFrame) -> pd.DataFrame:
    """The loss's decay rate between consecutive checkpoints, in units of the PL half rate.

    ``ln(R̂(t_j)/R̂(t_{j+1}))/((t_{j+1} − t_j)·λ_min(K₀)/n)`` for every width, trial and
    pair of consecutive checkpoints whose later loss is at least `PL_RESOLVED_GAP` times
    R̂(0) (above the float64 floor). Du et al. (2019), Theorem 4.1: while
    ``λ_min(K_t) ≥ λ_min(K₀)/2``, ``dR̂/dt = −eᵀK_t e/n² ≤ −(λ_min(K₀)/n)R̂``, so the rate
    is ≥ 1 on *every* interval, not only from t = 0; the linearized model's own slowest
    rate is 2 (``2λ_min/n``).

    Returns
    -------
    DataFrame
        ``width``, ``trial``, ``step`` (start of the interval) and ``rate``.
    """
    rows = []
    for (width, trial), run in table.sort_values("step").groupby(["width", "trial"]):
        loss, t = run.loss.to_numpy(), run.t.to_numpy()
        half_rate = float(run.lambda_min.iloc[0] / run.n_samples.iloc[0])
        resolved = loss[1:] >= PL_RESOLVED_GAP * loss[0]
        rate = np.log(loss[:-1] / loss[1:]) / (np.diff(t) * half_rate)
        rows.append(
            pd.DataFrame(
                {
                    "width": width,
                    "trial": trial,
                    "step": run.step.to_numpy()[:-1][resolved],
                    "rate": rate[resolved],
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def lazy_training_claims(table: pd.DataFrame) -> list[Claim]:
    """F6c claims from the ``lazy_training`` trial table."""
    per_run = lazy_quantities(table)
    fits = {
        name: loglog_fit(per_run.width, per_run[name])
        for name in ("weight_change", "lin_gap_train", "lin_gap_test", "kernel_change")
    }

    def text(name):
        slope, se = fits[name]
        return f"fitted slope {slope:.3f} ± {se:.3f} (standard error)"

    lo, hi = WEIGHT_SLOPE - WEIGHT_SLOPE_TOLERANCE, WEIGHT_SLOPE + WEIGHT_SLOPE_TOLERANCE
    widths = f"m = {per_run.width.min()} … {per_run.width.max()}"
    rates = pl_interval_rates(table)
    widest, narrowest = int(rates.width.max()), int(rates.width.min())
    wide = rates[rates.width == widest]
    return [
        Claim(
            FAMILY,
            "weight_change_slope_lower",
            f"The relative weight change ‖θ_T − θ₀‖/‖θ₀‖ falls like m^(−1/2) ({widths}, "
            f"log–log least squares over widths and trials): {text('weight_change')} "
            f"≥ {lo:g}.",
            LAZY,
            fits["weight_change"][0],
            lo,
            ">=",
        ),
        Claim(
            FAMILY,
            "weight_change_slope_upper",
            f"The relative weight change falls like m^(−1/2): {text('weight_change')} ≤ {hi:g}.",
            LAZY,
            fits["weight_change"][0],
            hi,
            "<=",
        ),
        Claim(
            FAMILY,
            "linearization_gap_train_slope",
            "The distance to the linearized model on the training points, "
            "sup_t ‖f_n(θ_t) − f_lin,n(t)‖/√n, falls like 1/m (the O(1/√m) bound's "
            "second-order terms cancel at the symmetric initialization): "
            f"{text('lin_gap_train')}, |slope − ({GAP_SLOPE:g})| ≤ {GAP_SLOPE_TOLERANCE:g}.",
            LAZY,
            abs(fits["lin_gap_train"][0] - GAP_SLOPE),
            GAP_SLOPE_TOLERANCE,
            "<=",
        ),
        Claim(
            FAMILY,
            "linearization_gap_test_slope",
            "The same distance on held-out points falls like 1/m: "
            f"{text('lin_gap_test')}, |slope − ({GAP_SLOPE:g})| ≤ {GAP_SLOPE_TOLERANCE:g}.",
            LAZY,
            abs(fits["lin_gap_test"][0] - GAP_SLOPE),
            GAP_SLOPE_TOLERANCE,
            "<=",
        ),
        Claim(
            FAMILY,
            "kernel_change_slope",
            "The kernel's change ‖K_T − K₀‖_F/‖K₀‖_F falls like 1/m: "
            f"{text('kernel_change')}, |slope − ({GAP_SLOPE:g})| ≤ {GAP_SLOPE_TOLERANCE:g}.",
            LAZY,
            abs(fits["kernel_change"][0] - GAP_SLOPE),
            GAP_SLOPE_TOLERANCE,
            "<=",
        ),
        Claim(
            FAMILY,
            "pl_bound_widest_network",
            f"At the largest width (m = {widest}) the loss decays at least at the PL rate "
            "with half the rate, λ_min(K₀)/n, between every pair of consecutive checkpoints "
            "(so R̂(t) ≤ R̂(s)e^(−λ_min(K₀)(t − s)/n) for every s < t, not only from 0): min "
            "over trials and checkpoint intervals of ln(R̂(t_j)/R̂(t_(j+1)))/"
            f"((t_(j+1) − t_j)λ_min(K₀)/n) ≥ 1 ({len(wide)} intervals with the later loss "
            f"above {PL_RESOLVED_GAP:.2g}·R̂(0); the linearized model's slowest rate is 2; "
            f"at the narrowest width, m = {narrowest}, the min is "
            f"{rates.rate[rates.width == narrowest].min():.3g}).",
            PL,
            worst(wide.rate, "min"),
            1.0,
            ">=",
        ),
    ]


#: The PL bound is compared where it is at least machine epsilon times the initial gap:
#: there ``β_k − X⁺y`` is still ≥ √ε ≈ 1.5e-8 of its initial size, far above the
#: rounding of the float64 iterate, whose gap bottoms out near 1e-30 of the initial one.
PL_RESOLVED_GAP = float(np.finfo(float).eps)


def least_squares_rate_bound(table: pd.DataFrame) -> pd.Series:
    """``(1 − ημ)^{2k}·gap_0``: the exact least-squares rate of the slowest direction.

    With ``η ≤ 1/λ_max`` every eigen-component of ``β_k − X⁺y`` shrinks by ``1 − ηλ_i``
    per step and the gap, quadratic in it, by ``(1 − ηλ_i)²`` ≤ ``(1 − ημ)²``.
    """
    run = ["n_features", "n_samples", "trial"]
    gap_0 = table.join(table[table.step == 0].set_index(run).gap.rename("gap_0"), on=run).gap_0
    return (1.0 - table.eta * table.mu) ** (2 * table.step) * gap_0


def resolved_pl_checkpoints(table: pd.DataFrame) -> pd.Series:
    """Rows of the ``pl_rate`` table with k ≥ 1 and ``(1 − ημ)^{2k} gap_0 ≥ ε·gap_0``.

    Below that the bound asks for a gap under what float64 resolves (the computed gap
    stalls at its rounding floor, 1e-31 to 1e-29 of ``gap_0`` in the paper configuration),
    so the comparison would test rounding instead of the theorem.
    """
    run = ["n_features", "n_samples", "trial"]
    initial = table[table.step == 0].set_index(run).gap.rename("gap_0")
    gap_0 = table.join(initial, on=run).gap_0
    return (table.step > 0) & (least_squares_rate_bound(table) >= PL_RESOLVED_GAP * gap_0)


def pl_rate_claims(table: pd.DataFrame) -> list[Claim]:
    """The PL-rate claim (Polyak 1963; Karimi et al. 2016) from the ``pl_rate`` table."""
    resolved = resolved_pl_checkpoints(table)
    below = int(((table.step > 0) & ~resolved).sum())
    exact_rate = least_squares_rate_bound(table)
    return [
        Claim(
            FAMILY,
            "pl_linear_rate_least_squares",
            "GD on least squares with η ≤ 1/λ_max and μ = λ_min⁺(XᵀX/n) (n > d and n < d): "
            "the loss gap after k steps is at most (1 − ημ)^{2k} times the initial gap (the "
            "exact rate of the slowest direction; PL alone gives (1 − ημ)^k) at "
            "every checkpoint where that bound is at least float64's ε times the initial "
            f"gap ({int(resolved.sum())} checkpoints of all runs; {below} beneath it, where "
            "the gap sits at its rounding floor, are not compared): "
            "max of gap_k/((1 − ημ)^{2k} gap_0) ≤ 1.",
            "Polyak (1963); Karimi, Nutini, Schmidt (2016) (PL ⇒ linear convergence of GD); "
            "docs/science.md §F6c (the (1 − ημ)^{2k} rate on least squares)",
            worst(table.gap[resolved] / exact_rate[resolved]),
            1.0,
            "<=",
        ),
    ]


#: The family's claims, by the table they are computed from (`implicit_reg.claims.family_claims`).
CLAIMS = {
    "matrix_factorization": matrix_factorization_claims,
    "linear_nets": linear_nets_claims,
    "lazy_training": lazy_training_claims,
    "pl_rate": pl_rate_claims,
}
