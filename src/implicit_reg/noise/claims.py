"""Claims of the noise family, computed from its tables (docs/science.md §F5).

Thresholds are the ones §F5 states. Tolerances on simulated moments (3% on variances,
0.02 on an autocorrelation) sit several standard errors above the Monte Carlo error of
the default sizes (docs/science.md gives the count); tolerances on deterministic
iterations (1e-8, 1e-10) are those §F5 states.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from implicit_reg.claims import Claim, present_claims

FAMILY = "noise"
#: §F5a: relative tolerance on every simulated variance and covariance.
MOMENT_TOLERANCE = 0.03
#: §F5a: absolute tolerance on the lag-1 autocorrelation.
AUTOCORRELATION_TOLERANCE = 0.02
#: §F5a: the exact transient is compared where it exceeds v_∞ times this.
TRANSIENT_FLOOR = 0.1
#: §F5b tolerances.
DROPOUT_TOLERANCE = 0.01
INJECTION_TOLERANCE = 0.02
EXACT_TOLERANCE = 1e-8
SPARSITY_TOLERANCE = 1e-3
SLOPE_TOLERANCE = 1e-3
#: Relative tolerance of the exact recursions of D (F5b) and u⊙v (F5c).
RECURSION_TOLERANCE = 1e-10
#: §F5c tolerances.
LIMIT_TOLERANCE = 1e-2
LABEL_NOISE_TOLERANCE = 0.05
GD_DISTANCE = 0.30

SOURCE_OU = (
    "Mandt, Hoffman & Blei (2017) (SGD on a quadratic as an Ornstein–Uhlenbeck process); "
    "docs/science.md §F5a"
)
SOURCE_QUADRATIC = (
    "Mandt, Hoffman & Blei (2017) (multi-dimensional quadratics; noise shape); docs/science.md §F5a"
)
SOURCE_DROPOUT = (
    "Srivastava et al. (2014); Wager, Wang & Liang (2013); Robbins & Monro (1951); "
    "Polyak & Juditsky (1992)"
)
SOURCE_FACTOR = (
    "Hoff (2017) (ℓ2 penalty on the factors = ℓ1 penalty on the product); docs/science.md §F5b"
)
SOURCE_FLOW = "docs/science.md §F5b (imbalance under the ℓ2-penalized flow: D(t) = e^{−2η²t}D(0))"
SOURCE_INJECTION = (
    "Bishop (1995) (noise injection = penalty in expectation); Robbins & Monro (1951); Hoff (2017)"
)
SOURCE_LABEL = "HaoChen, Kale, Lee & Ma (2021); Blanc, Gupta, Valiant & Valiant (2020)"
SOURCE_WOODWORTH = "Woodworth et al. (2020) Thm 1; docs/science.md §F3a"


def _claim(cid, text, source, measured, threshold, comparison, kind="claim") -> Claim:
    return Claim(FAMILY, cid, text, source, measured, threshold, comparison, kind)


def _worst(values) -> float:
    """Maximum with NaN propagated (a missing number fails its claim); NaN if empty."""
    values = pd.Series(values, dtype=float)
    return float(values.max(skipna=False)) if len(values) else float("nan")


def _section(table: pd.DataFrame, name: str) -> pd.DataFrame:
    return table[table["section"] == name]


# ---------------------------------------------------------------------------------------
# F5a


def ou_claims(table: pd.DataFrame) -> list[Claim]:
    """F5a claims from the ``ou`` trial table."""
    out = []
    transient = _section(table, "scalar_transient")
    if len(transient):
        means = transient.groupby(["eta_a", "step"])[["variance", "exact_variance", "v_inf"]].mean()
        means = means.reset_index()
        last = means[means["step"] == means["step"].max()]
        compared = means[means["exact_variance"] >= TRANSIENT_FLOOR * means["v_inf"]]
        stationary = _section(table, "scalar_stationary").groupby("eta_a").mean(numeric_only=True)
        sde_gap = stationary["exact_ratio_to_sde"] > 1.0 + MOMENT_TOLERANCE
        lag1 = _section(table, "scalar_autocorrelation")
        lag1 = lag1[lag1["lag"] == 1].groupby("eta_a")[["autocorrelation", "exact_autocorrelation"]]
        lag1 = lag1.mean()
        out += [
            _claim(
                "ou_variance_reaches_v_inf",
                "1-D OU recursion: at the last checkpoint the variance across all chains is "
                "within 3% of v_∞ = ησ²/(a(2 − ηa)) at every ηa (max relative error).",
                SOURCE_OU,
                _worst(np.abs(last["variance"] / last["v_inf"] - 1.0)),
                MOMENT_TOLERANCE,
                "<=",
            ),
            _claim(
                "ou_variance_follows_transient",
                "1-D OU recursion: the variance across chains is within 3% of "
                "v_∞(1 − (1 − ηa)^{2k}) at every checkpoint k where that exceeds v_∞/10, at "
                "every ηa (max relative error).",
                SOURCE_OU,
                _worst(np.abs(compared["variance"] / compared["exact_variance"] - 1.0)),
                MOMENT_TOLERANCE,
                "<=",
            ),
            _claim(
                "ou_lag1_autocorrelation",
                "1-D OU recursion: the stationary lag-1 autocorrelation is within 0.02 of "
                "1 − ηa at every ηa (negative for ηa > 1; max absolute error).",
                SOURCE_OU,
                _worst(np.abs(lag1["autocorrelation"] - lag1["exact_autocorrelation"])),
                AUTOCORRELATION_TOLERANCE,
                "<=",
            ),
            _claim(
                "ou_sde_variance_is_off",
                "The SDE's stationary variance ησ²/(2a) misses the simulated (time-averaged) "
                "stationary variance by more than 3% at every ηa where 2/(2 − ηa) > 1.03: "
                "min over those ηa of |v_sim/v_SDE − 1| (the discrete formula is needed).",
                SOURCE_OU,
                float(np.abs(stationary["ratio_to_sde"][sde_gap] - 1.0).min())
                if sde_gap.any()
                else float("nan"),
                MOMENT_TOLERANCE,
                ">=",
            ),
        ]
    out += quadratic_claims(table)
    return out


def quadratic_claims(table: pd.DataFrame) -> list[Claim]:
    """F5a claims on the multi-dimensional quadratic (stable configurations only)."""
    covariance = _section(table, "quadratic_covariance")
    if covariance.empty:
        return []
    stable = covariance[~covariance["diverged"]]
    pooled = stable.groupby(["noise_shape", "eta", "row", "col"])[
        ["covariance", "exact_covariance"]
    ].mean()
    frobenius = pooled.groupby(["noise_shape", "eta"]).apply(
        lambda g: (
            np.linalg.norm(g["covariance"] - g["exact_covariance"])
            / np.linalg.norm(g["exact_covariance"])
        )
    )
    eigen = _section(table, "quadratic_eigen")
    eigen = (
        eigen[~eigen["diverged"]]
        .groupby(["noise_shape", "eta", "eigen_index"])[["stationary_variance", "exact_variance"]]
        .mean()
    )
    summary = _section(table, "quadratic_stationary")
    constant = summary[summary["noise_shape"] != "streaming"]
    streaming = summary[summary["noise_shape"] == "streaming"]
    eigenvalues = _section(table, "quadratic_eigen")["eigenvalue"]
    n_stable = len(frobenius)
    out = [
        _claim(
            "quadratic_covariance_matches_exact",
            "Noisy GD on ½xᵀHx (isotropic σ²I, curvature-shaped σ²H and streaming-SGD "
            f"noise; {n_stable} stable (shape, η) configurations): the stationary covariance "
            "pooled over chains, trials and steps after the burn-in is within 3% of the exact "
            "S (Lyapunov equation; d²-dimensional linear system for streaming SGD), in "
            "relative Frobenius norm (worst configuration).",
            SOURCE_QUADRATIC,
            _worst(frobenius),
            MOMENT_TOLERANCE,
            "<=",
        ),
        _claim(
            "quadratic_eigen_variances_match_exact",
            "Along every eigen-direction h_i of H, the simulated stationary variance is "
            "within 3% of the exact one (ησ²/(h_i(2 − ηh_i)) for isotropic noise, "
            "ησ²/(2 − ηh_i) for Σ = σ²H, the streaming fixed point otherwise): max relative "
            "error over directions and stable configurations.",
            SOURCE_QUADRATIC,
            _worst(np.abs(eigen["stationary_variance"] / eigen["exact_variance"] - 1.0)),
            MOMENT_TOLERANCE,
            "<=",
        ),
        _claim(
            "lyapunov_matches_linear_system",
            "Constant noise: scipy's discrete-Lyapunov solution S equals the solution of the "
            "d²-dimensional system (I − A⊗A)vec S = η²vec Σ (max relative Frobenius gap).",
            SOURCE_QUADRATIC,
            _worst(constant["lyapunov_vs_system"].dropna()),
            RECURSION_TOLERANCE,
            "<=",
            kind="check",
        ),
        _claim(
            "eigen_closed_forms_match_exact_covariance",
            "The per-direction closed forms (isotropic, curvature-shaped, streaming "
            "ησ²/(2(1 − ηh_i)(1 − g(η))) with g(η) = (η/2)Σh_j/(1 − ηh_j)) equal the "
            "eigen-direction variances of the exact S (max relative gap).",
            SOURCE_QUADRATIC,
            _worst(summary["closed_form_gap"].dropna()),
            RECURSION_TOLERANCE,
            "<=",
            kind="check",
        ),
    ]
    if len(streaming):
        limit = float(streaming["step_limit"].iloc[0])
        out += [
            _claim(
                "streaming_step_limit_is_stability_edge",
                f"Streaming SGD's largest stable step η_max = {limit:.6g} (root of "
                "g(η) = 1) is where the second-moment recursion's d²×d² operator has spectral "
                "radius 1: |ρ(T_{η_max}) − 1|.",
                SOURCE_QUADRATIC,
                abs(float(streaming["spectral_radius_at_limit"].iloc[0]) - 1.0),
                1e-8,
                "<=",
                kind="check",
            ),
            _claim(
                "streaming_step_limit_below_gd_limit",
                "The streaming-SGD stationary covariance exists only below a step smaller "
                "than GD's 2/λ_max: η_max·λ_max/2 < 1 (runs beyond η_max are recorded as "
                "diverged).",
                SOURCE_QUADRATIC,
                limit * float(eigenvalues.max()) / 2.0,
                1.0,
                "<=",
                kind="check",
            ),
        ]
    return out


# ---------------------------------------------------------------------------------------
# F5b


def _final(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Rows at the last step of each group in ``by``."""
    last = frame.groupby(by)["step"].transform("max")
    return frame[frame["step"] == last]


def approximation_claims(table: pd.DataFrame) -> list[Claim]:
    """F5b claims from the ``stochastic_approximation`` trial table."""
    out = []
    dropout = _section(table, "dropout")
    if len(dropout):
        final = _final(dropout[dropout["estimator"] == "averaged"], ["keep_prob"])
        probs = ", ".join(f"{p:g}" for p in sorted(final["keep_prob"].unique()))
        out.append(
            _claim(
                "dropout_sgd_reaches_expected_loss_minimizer",
                "Dropout SGD (fresh Bernoulli(p) mask every step, Robbins–Monro steps, "
                f"Polyak–Ruppert averaging; p ∈ {{{probs}}}) ends within 1% of "
                "β_drop = (XᵀX + ((1 − p)/p)diag(XᵀX))⁻¹Xᵀy: max relative ℓ2 error over "
                "trials and p.",
                SOURCE_DROPOUT,
                _worst(final["rel_error"]),
                DROPOUT_TOLERANCE,
                "<=",
            )
        )
    factor = _section(table, "factorization")
    if len(factor):
        final = _final(factor, ["algorithm", "estimator"])

        def rows(algorithm, estimator="last_iterate"):
            return final[(final["algorithm"] == algorithm) & (final["estimator"] == estimator)]

        out += [
            _claim(
                "gd_product_equals_w_star",
                "Plain GD on ½‖w* − w₂⊙w₁‖² from a small generic initialization ends at a "
                "global minimum: ‖w₁⊙w₂ − w*‖/‖w*‖ ≤ 1e-8 (max over trials).",
                SOURCE_FACTOR,
                _worst(rows("gd")["rel_error"]),
                EXACT_TOLERANCE,
                "<=",
            ),
            _claim(
                "penalized_gd_product_is_soft_threshold",
                "GD on the penalized loss L + (η²/2)(‖w₁‖² + ‖w₂‖²) ends at the soft "
                "threshold sign(w*)(|w*| − η²)₊ (ℓ2 on the factors is ℓ1 on the product): "
                "relative ℓ2 distance ≤ 1e-8 (max over trials).",
                SOURCE_FACTOR,
                _worst(rows("penalized_gd")["rel_error"]),
                EXACT_TOLERANCE,
                "<=",
            ),
            _claim(
                "penalized_gd_zeroes_small_coordinates",
                "Penalized GD sets to zero every coordinate with |w*_i| < η²: "
                "max |w₁,i w₂,i| over those coordinates and trials ≤ 1e-3.",
                SOURCE_FACTOR,
                _worst(rows("penalized_gd")["max_small_product"]),
                SPARSITY_TOLERANCE,
                "<=",
            ),
            _claim(
                "noise_injection_reaches_soft_threshold",
                "Noise injection (gradients of L at w + ξ, ξ ~ N(0, η²I), Robbins–Monro "
                "steps) has the penalized loss as expected loss: its Polyak–Ruppert averaged "
                "product ends within 2% of the soft threshold (max relative ℓ2 error over "
                "trials).",
                SOURCE_INJECTION,
                _worst(rows("noise_injection", "averaged")["rel_error"]),
                INJECTION_TOLERANCE,
                "<=",
            ),
        ]
    imbalance = _section(table, "imbalance")
    if len(imbalance):
        slopes = _section(table, "imbalance_slope")
        smallest = slopes[slopes["step_size"] == slopes["step_size"].min()]
        alpha = float(smallest["step_size"].iloc[0])
        out += [
            _claim(
                "imbalance_follows_exact_recursion",
                "Penalized GD: D = w₁⊙w₁ − w₂⊙w₂ follows D_{k+1} = ((1 − αη²)² − α²r_k²)D_k "
                "at every step size: max over checkpoints of |D − D_rec|/(w₁² + w₂²) "
                "(D is a difference of squares, so it is compared at their scale).",
                SOURCE_FLOW,
                _worst(imbalance["recursion_error"]),
                RECURSION_TOLERANCE,
                "<=",
                kind="check",
            ),
            _claim(
                "imbalance_decays_like_flow",
                f"At the small step α = {alpha:g}, the log-slope of |D_i| over the run (in "
                "t = αk) is −2η², the rate of the penalized gradient flow, to 1e-3 relative "
                "(max over coordinates and trials; the error shrinks in proportion to α, "
                "as the figure's step sizes show).",
                SOURCE_FLOW,
                _worst(np.abs(smallest["slope"] / smallest["exact_slope"] - 1.0)),
                SLOPE_TOLERANCE,
                "<=",
            ),
        ]
    return out


# ---------------------------------------------------------------------------------------
# F5c


def decade_ratio(steps, values) -> float:
    """Mean of ``values`` over the last decade of steps over its mean one decade earlier.

    Last decade: K/10 < step ≤ K; the one before: K/100 < step ≤ K/10 (K the last step).
    NaN when either decade has no point.
    """
    steps, values = np.asarray(steps, float), np.asarray(values, float)
    last = steps.max()
    late = values[(steps > last / 10) & (steps <= last)]
    early = values[(steps > last / 100) & (steps <= last / 10)]
    if late.size == 0 or early.size == 0:
        return float("nan")
    return float(late.mean() / early.mean())


def label_noise_claims(table: pd.DataFrame) -> list[Claim]:
    """F5c claims from the ``label_noise`` trial table."""
    path = _section(table, "path")
    phase = _section(table, "gd_phase")
    reference = _section(table, "reference")
    if path.empty:
        return []
    final = _final(path, ["algorithm"])
    endpoint = phase[
        (phase["noise_steps"] == phase["noise_steps"].max())
        & (phase["gd_step"] == phase["gd_step"].max())
    ]
    noisy = path[path["algorithm"] == "label_noise_sgd"]
    regularizer = noisy.groupby("step")["trace_hessian"].mean()
    steps = int(noisy["step"].max())
    return [
        _claim(
            "uv_product_follows_recursion",
            "Every (S)GD step on (u, v) multiplies u⊙v by 1 − 4η²g² (g = ∂L/∂θ): the "
            "recorded u⊙v equals the product of these factors recomputed from the recorded "
            "gradients, in every run (GD, SGD, label-noise SGD, noiseless GD phases): max "
            "relative error.",
            SOURCE_LABEL,
            _worst(pd.concat([path["product_error"], phase["product_error"]])),
            RECURSION_TOLERANCE,
            "<=",
            kind="check",
        ),
        _claim(
            "gd_reaches_theta_alpha",
            "Full-batch GD on u⊙u − v⊙v from α ends at the exact Q_α limit θ_α (Newton dual "
            "of the diagonal family): ‖θ_GD − θ_α‖/‖θ_α‖ ≤ 1e-2 (max over trials).",
            SOURCE_WOODWORTH,
            _worst(reference["gd_to_theta_alpha"]),
            LIMIT_TOLERANCE,
            "<=",
        ),
        _claim(
            "gd_is_far_from_sparse",
            "From the large initialization, GD's endpoint θ_α is at least 30% away from the "
            "sparse θ*: min over trials of ‖θ_GD − θ*‖/‖θ*‖ ≥ 0.3.",
            SOURCE_WOODWORTH,
            float(final[final["algorithm"] == "gd"]["rel_error"].min()),
            GD_DISTANCE,
            ">=",
        ),
        _claim(
            "label_noise_reaches_sparse_solution",
            f"Label-noise SGD ({steps:,} batch-1 steps) followed by a noiseless GD phase ends "
            "within 5% of θ* (= θ_ℓ1 here): max over trials of ‖θ − θ*‖/‖θ*‖.",
            SOURCE_LABEL,
            _worst(endpoint["rel_error"]),
            LABEL_NOISE_TOLERANCE,
            "<=",
        ),
        _claim(
            "label_noise_regularizer_decreases",
            "Along label-noise SGD the implicit regularizer tr ∇²L̂ = (4/n)Σ_j (u_j² + v_j²)"
            "‖X_{:,j}‖² decreases: its trial-mean averaged over the last decade of steps over "
            "its average one decade earlier ≤ 1.",
            SOURCE_LABEL,
            decade_ratio(regularizer.index, regularizer.to_numpy()),
            1.0,
            "<=",
        ),
        _claim(
            "theta_l1_equals_theta_star",
            "n is above the ℓ1 recovery threshold: the minimum-ℓ1 interpolator (linear "
            "program) equals θ*: max over trials of ‖θ_ℓ1 − θ*‖/‖θ*‖ ≤ 1e-6.",
            "Candès & Tao (2005); Donoho (2006) (exact recovery by basis pursuit)",
            _worst(reference["theta_l1_error"]),
            1e-6,
            "<=",
            kind="check",
        ),
    ]


def claims(tables: Mapping[str, pd.DataFrame]) -> list[Claim]:
    """Every F5 claim for the experiments present in ``tables``."""
    return present_claims(
        tables,
        {
            "ou": ou_claims,
            "stochastic_approximation": approximation_claims,
            "label_noise": label_noise_claims,
        },
    )
