"""Claims of the noise family, computed from its tables (docs/science.md §F5).

Thresholds are the ones §F5 states. Tolerances on simulated moments (3% on variances;
the mean and the lag-1 autocorrelation in standard errors) sit several standard errors
above the Monte Carlo error of the default sizes (docs/science.md gives the count);
tolerances on deterministic iterations (1e-8, 1e-10) are those §F5 states.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from implicit_reg.claims import Claim, final_rows, sci, worst

FAMILY = "noise"
#: §F5a: relative tolerance on every simulated variance and covariance.
MOMENT_TOLERANCE = 0.03
#: §F5a: largest |cross-chain mean − (1 − ηa)^k x₀| in standard errors √(Var x_k/N) over the
#: checkpoints k > 0 and ηa (N chains in all): a two-sided normal tail of 4.5 SE has
#: probability 7e-6, below 1e-3 over the ≤ 150 comparisons of the default configurations.
MEAN_Z_LIMIT = 4.5
#: §F5a: growth of the covariance's trace from step 1 to the last step that marks a run as
#: blowing up; a stable run grows to its stationary level, at most 1/(ηh_min(2 − ηh_min))
#: ≈ 200 times the first step's at the default sizes.
BLOWUP_FACTOR = 1e6
#: §F5a: the exact transient is compared where it exceeds v_∞ times this.
TRANSIENT_FLOOR = 0.1
#: §F5b tolerances.
DROPOUT_TOLERANCE = 0.01
INJECTION_TOLERANCE = 0.02
EXACT_TOLERANCE = 1e-8
SPARSITY_TOLERANCE = 1e-3
#: Relative tolerance of the exact recursions of D (F5b) and u⊙v (F5c).
RECURSION_TOLERANCE = 1e-10
#: §F5c tolerances.
LIMIT_TOLERANCE = 1e-2
#: §F5c: the intermediate scale's θ_α is at least this far (relative) from both θ_ℓ2 and
#: θ_ℓ1, ten times `LIMIT_TOLERANCE`: GD reaching either endpoint instead fails the claim.
THETA_ALPHA_SEPARATION = 0.1
LABEL_NOISE_TOLERANCE = 0.05
#: §F5c: relative band of the products' decay around the label-noise rate 4η²δ²‖X_j‖²/n
#: (the residual adds 4η²E x_ij² r_i², ⟨2L̂⟩/δ² relative, and nothing else is of that size).
PRODUCT_DECAY_TOLERANCE = 0.1
#: §F5c: largest relative excess of the final tr ∇²L̂ over its rich-regime value at θ*
#: (the label-noise iterate fluctuates around θ*, which moves Σ_j|θ_j|; at α the excess
#: is 2α²d/Σ|θ*_j|, about 90-fold here).
REGULARIZER_TOLERANCE = 0.2
GD_DISTANCE = 0.30
#: Relative distance of the linear program's minimum-ℓ1 interpolator to θ* (exact recovery).
L1_RECOVERY_TOLERANCE = 1e-6

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


def _section(table: pd.DataFrame, name: str) -> pd.DataFrame:
    return table[table["section"] == name]


# ---------------------------------------------------------------------------------------
# F5a


def _mean_z_scores(transient: pd.DataFrame) -> pd.Series:
    """|m̄_k − E x_k| / √(Var x_k / N) per (ηa, k > 0): m̄_k the mean over all N chains
    (the trial means of equal batches, averaged), Var x_k the exact variance."""
    rows = transient[transient["step"] > 0]
    n_chains = _chains_per_trial(rows)
    grouped = rows.groupby(["eta_a", "step"])
    means = grouped[["mean", "exact_mean", "exact_variance"]].mean()
    count = grouped["trial"].count() * n_chains
    return np.abs(means["mean"] - means["exact_mean"]) / np.sqrt(means["exact_variance"] / count)


def _lag1_z_scores(lag1: pd.DataFrame) -> pd.Series:
    """|ρ̂ − ρ|/SE per ηa, ρ̂ the trial mean of the lag-1 autocorrelations.

    ρ̂ of one reference step is the regression of x_{r+1} on x_r over N chains, of variance
    (1 − ρ²)/N; the n reference steps L apart are AR(1)-correlated with ρ^{2L}, so they
    count as n_eff = n(1 − ρ^{2L})/(1 + ρ^{2L}) (at least 1) independent ones.
    """
    grouped = lag1.groupby("eta_a")
    rho_hat = grouped["autocorrelation"].mean()
    rho = grouped["exact_autocorrelation"].first()
    chains = grouped["trial"].count() * grouped["n_chains"].first()
    lagged = rho ** (2 * grouped["block_spacing"].first())
    n_eff = np.maximum(grouped["n_blocks"].first() * (1 - lagged) / (1 + lagged), 1.0)
    return np.abs(rho_hat - rho) / np.sqrt((1 - rho**2) / (chains * n_eff))


def _chains_per_trial(rows: pd.DataFrame) -> int:
    """Chains per trial, recorded with the transient rows."""
    return int(rows["n_chains"].iloc[0])


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
        lag1_z = _lag1_z_scores(lag1[lag1["lag"] == 1])
        mean_z = _mean_z_scores(transient)
        out += [
            Claim(
                FAMILY,
                "ou_variance_reaches_v_inf",
                "1-D OU recursion: at the last checkpoint the variance across all chains is "
                "within 3% of v_∞ = ησ²/(a(2 − ηa)) at every ηa (max relative error).",
                SOURCE_OU,
                worst(np.abs(last["variance"] / last["v_inf"] - 1.0)),
                MOMENT_TOLERANCE,
                "<=",
            ),
            Claim(
                FAMILY,
                "ou_variance_follows_transient",
                "1-D OU recursion: the variance across chains is within 3% of "
                "v_∞(1 − (1 − ηa)^{2k}) at every checkpoint k where that exceeds v_∞/10, at "
                "every ηa (max relative error).",
                SOURCE_OU,
                worst(np.abs(compared["variance"] / compared["exact_variance"] - 1.0)),
                MOMENT_TOLERANCE,
                "<=",
            ),
            Claim(
                FAMILY,
                "ou_lag1_autocorrelation",
                "1-D OU recursion: the stationary lag-1 autocorrelation ρ̂ is 1 − ηa at "
                f"every ηa (negative for ηa > 1) within {MEAN_Z_LIMIT:g} standard errors "
                "√((1 − ρ²)/(N·n_eff)) (N chains, n_eff effective reference steps): max "
                "|ρ̂ − ρ|/SE.",
                SOURCE_OU,
                worst(lag1_z),
                MEAN_Z_LIMIT,
                "<=",
            ),
            Claim(
                FAMILY,
                "ou_mean_follows_contraction",
                "1-D OU recursion: the mean over all chains is (1 − ηa)^k x₀ at every checkpoint "
                f"k > 0 and every ηa, within {MEAN_Z_LIMIT:g} standard errors √(Var x_k/N) "
                "(max |error|/SE; zero-mean noise leaves the mean on the noiseless path).",
                SOURCE_OU,
                worst(mean_z),
                MEAN_Z_LIMIT,
                "<=",
            ),
            Claim(
                FAMILY,
                "ou_stationary_variance_matches_discrete",
                "1-D OU recursion: the simulated (time-averaged) stationary variance is within "
                f"{MOMENT_TOLERANCE:.0%} of the discrete v_∞ = ησ²/(a(2 − ηa)) at every ηa "
                "(max relative error): with `ou_sde_variance_is_off`, the simulation is at the "
                "discrete value and away from the SDE's.",
                SOURCE_OU,
                worst(np.abs(stationary["stationary_variance"] / stationary["v_inf"] - 1.0)),
                MOMENT_TOLERANCE,
                "<=",
            ),
            Claim(
                FAMILY,
                "ou_sde_variance_is_off",
                "The SDE's stationary variance ησ²/(2a) misses the simulated (time-averaged) "
                f"stationary variance by more than {MOMENT_TOLERANCE:.0%} at every ηa where "
                f"2/(2 − ηa) > {1 + MOMENT_TOLERANCE:g}: min over those ηa of |v_sim/v_SDE − 1| "
                "(the discrete formula is needed; `ou_stationary_variance_matches_discrete` "
                "is the other half: the simulation matches it).",
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


def blew_up(transient: pd.DataFrame, summary: pd.DataFrame) -> pd.Series:
    """Per (shape, η): the chains overflowed, or the trial-mean trace of their covariance
    grew by more than `BLOWUP_FACTOR` from the first step to the last (a stable run grows
    only to its stationary level, 1/(ηh_min(2 − ηh_min)) times the first step's)."""
    trace = transient[transient["step"] > 0].groupby(["noise_shape", "eta", "step"])
    trace = trace["trace_covariance"].mean().reset_index()
    first = trace.groupby(["noise_shape", "eta"]).first()["trace_covariance"]
    last = trace.groupby(["noise_shape", "eta"])["trace_covariance"].apply(lambda x: x.iloc[-1])
    grew = ~(last <= BLOWUP_FACTOR * first)  # NaN (overflowed) counts as grown
    key = pd.MultiIndex.from_frame(summary[["noise_shape", "eta"]])
    return pd.Series(
        grew.reindex(key).to_numpy() | summary["overflowed"].to_numpy(), index=summary.index
    )


def divergence_claim(transient: pd.DataFrame, summary: pd.DataFrame) -> Claim:
    """Runs blow up exactly where the exact second-moment recursion is unstable."""
    unstable = summary["spectral_radius"] >= 1.0
    mismatched = int((blew_up(transient, summary) != unstable).sum())
    return Claim(
        FAMILY,
        "quadratic_divergence_matches_stability_edge",
        "Noisy GD on ½xᵀHx: the chains blow up (overflow, or the trace of their covariance "
        f"grows by more than {sci(BLOWUP_FACTOR)} from step 1) in exactly the (shape, η) "
        "configurations "
        "whose exact second-moment recursion has spectral radius ≥ 1 (streaming SGD beyond "
        f"η_max; {int(unstable.sum())} of {len(summary)} here), and in no stable one: the "
        "number of configurations where simulation and stability edge disagree.",
        SOURCE_QUADRATIC,
        mismatched,
        0,
        "<=",
    )


def quadratic_claims(table: pd.DataFrame) -> list[Claim]:
    """F5a claims on the multi-dimensional quadratic (stable configurations only)."""
    covariance = _section(table, "quadratic_covariance")
    if covariance.empty:
        return []
    summary = _section(table, "quadratic_stationary")
    out = [divergence_claim(_section(table, "quadratic_transient"), summary)]
    stable = covariance[~covariance["diverged"]]
    if stable.empty:
        # Every configuration beyond its stability edge (recorded as diverged, as §F5a
        # says): no stationary covariance to compare.
        return out
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
    constant = summary[summary["noise_shape"] != "streaming"]
    streaming = summary[summary["noise_shape"] == "streaming"]
    eigenvalues = _section(table, "quadratic_eigen")["eigenvalue"]
    n_stable = len(frobenius)
    out += [
        Claim(
            FAMILY,
            "quadratic_covariance_matches_exact",
            "Noisy GD on ½xᵀHx (isotropic σ²I, curvature-shaped σ²H and streaming-SGD "
            f"noise; {n_stable} stable (shape, η) configurations): the stationary covariance "
            "pooled over chains, trials and steps after the burn-in is within 3% of the exact "
            "S (Lyapunov equation; d²-dimensional linear system for streaming SGD), in "
            "relative Frobenius norm (worst configuration).",
            SOURCE_QUADRATIC,
            worst(frobenius),
            MOMENT_TOLERANCE,
            "<=",
        ),
        Claim(
            FAMILY,
            "quadratic_eigen_variances_match_exact",
            "Along every eigen-direction h_i of H, the simulated stationary variance is "
            "within 3% of the exact one (ησ²/(h_i(2 − ηh_i)) for isotropic noise, "
            "ησ²/(2 − ηh_i) for Σ = σ²H, the streaming fixed point otherwise): max relative "
            "error over directions and stable configurations.",
            SOURCE_QUADRATIC,
            worst(np.abs(eigen["stationary_variance"] / eigen["exact_variance"] - 1.0)),
            MOMENT_TOLERANCE,
            "<=",
        ),
        Claim(
            FAMILY,
            "lyapunov_matches_linear_system",
            "Constant noise: scipy's discrete-Lyapunov solution S equals the solution of the "
            "d²-dimensional system (I − A⊗A)vec S = η²vec Σ (max relative Frobenius gap).",
            SOURCE_QUADRATIC,
            worst(constant["lyapunov_vs_system"].dropna()),
            RECURSION_TOLERANCE,
            "<=",
            kind="check",
        ),
        Claim(
            FAMILY,
            "eigen_closed_forms_match_exact_covariance",
            "The per-direction closed forms (isotropic, curvature-shaped, streaming "
            "ησ²/(2(1 − ηh_i)(1 − g(η))) with g(η) = (η/2)Σh_j/(1 − ηh_j)) equal the "
            "eigen-direction variances of the exact S (max relative gap).",
            SOURCE_QUADRATIC,
            worst(summary["closed_form_gap"].dropna()),
            RECURSION_TOLERANCE,
            "<=",
            kind="check",
        ),
    ]
    if len(streaming):
        limit = float(streaming["step_limit"].iloc[0])
        out += [
            Claim(
                FAMILY,
                "streaming_step_limit_is_stability_edge",
                f"Streaming SGD's largest stable step η_max = {limit:.6g} (root of "
                "g(η) = 1) is where the second-moment recursion's d²×d² operator has spectral "
                "radius 1: |ρ(T_{η_max}) − 1|.",
                SOURCE_QUADRATIC,
                abs(float(streaming["spectral_radius_at_limit"].iloc[0]) - 1.0),
                EXACT_TOLERANCE,
                "<=",
                kind="check",
            ),
            Claim(
                FAMILY,
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


def approximation_claims(table: pd.DataFrame) -> list[Claim]:
    """F5b claims from the ``stochastic_approximation`` trial table."""
    out = []
    dropout = _section(table, "dropout")
    if len(dropout):
        final = final_rows(dropout[dropout["estimator"] == "averaged"], ["keep_prob"])
        probs = ", ".join(f"{p:g}" for p in sorted(final["keep_prob"].unique()))
        out.append(
            Claim(
                FAMILY,
                "dropout_sgd_reaches_expected_loss_minimizer",
                "Dropout SGD (fresh Bernoulli(p) mask every step, Robbins–Monro steps, "
                f"Polyak–Ruppert averaging; p ∈ {{{probs}}}) ends within 1% of "
                "β_drop = (XᵀX + ((1 − p)/p)diag(XᵀX))⁻¹Xᵀy: max relative ℓ2 error over "
                "trials and p.",
                SOURCE_DROPOUT,
                worst(final["rel_error"]),
                DROPOUT_TOLERANCE,
                "<=",
            )
        )
    factor = _section(table, "factorization")
    if len(factor):
        final = final_rows(factor, ["algorithm", "estimator"])

        def rows(algorithm, estimator="last_iterate"):
            return final[(final["algorithm"] == algorithm) & (final["estimator"] == estimator)]

        out += [
            Claim(
                FAMILY,
                "gd_product_equals_w_star",
                "Plain GD on ½‖w* − w₂⊙w₁‖² from a small generic initialization ends at a "
                "global minimum: ‖w₁⊙w₂ − w*‖/‖w*‖ ≤ 1e-8 (max over trials).",
                SOURCE_FACTOR,
                worst(rows("gd")["rel_error"]),
                EXACT_TOLERANCE,
                "<=",
            ),
            Claim(
                FAMILY,
                "penalized_gd_product_is_soft_threshold",
                "GD on the penalized loss L + (η²/2)(‖w₁‖² + ‖w₂‖²) ends at the soft "
                "threshold sign(w*)(|w*| − η²)₊ (ℓ2 on the factors is ℓ1 on the product): "
                "relative ℓ2 distance ≤ 1e-8 (max over trials).",
                SOURCE_FACTOR,
                worst(rows("penalized_gd")["rel_error"]),
                EXACT_TOLERANCE,
                "<=",
            ),
            Claim(
                FAMILY,
                "penalized_gd_zeroes_small_coordinates",
                "Penalized GD sets to zero every coordinate with |w*_i| < η²: "
                "max |w₁,i w₂,i| over those coordinates and trials ≤ 1e-3 (a consistency "
                "check: implied by `penalized_gd_product_is_soft_threshold`).",
                SOURCE_FACTOR,
                worst(rows("penalized_gd")["max_small_product"]),
                SPARSITY_TOLERANCE,
                "<=",
                kind="check",
            ),
            Claim(
                FAMILY,
                "noise_injection_reaches_soft_threshold",
                "Noise injection (gradients of L at w + ξ, ξ ~ N(0, η²I), Robbins–Monro "
                "steps) has the penalized loss as expected loss: its Polyak–Ruppert averaged "
                "product ends within 2% of the soft threshold (max relative ℓ2 error over "
                "trials).",
                SOURCE_INJECTION,
                worst(rows("noise_injection", "averaged")["rel_error"]),
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
            Claim(
                FAMILY,
                "imbalance_follows_exact_recursion",
                "Penalized GD: D = w₁⊙w₁ − w₂⊙w₂ follows D_{k+1} = ((1 − αη²)² − α²r_k²)D_k "
                "at every step size: max over checkpoints of |D − D_rec|/(w₁² + w₂²) "
                "(D is a difference of squares, so it is compared at their scale).",
                SOURCE_FLOW,
                worst(imbalance["recursion_error"]),
                RECURSION_TOLERANCE,
                "<=",
                kind="check",
            ),
            Claim(
                FAMILY,
                "imbalance_decays_like_flow",
                "At every step α, the log-slope of |D_i| over the run (in t = αk; worst "
                "coordinate of each trial) is −2η², the rate of the penalized gradient flow, "
                "within the first-order error α(η⁴ + max w*²)/(2η²) (max w*² bounds the "
                f"run's ⟨r²⟩; {sci(float(smallest['slope_error_bound'].iloc[0]))} at "
                f"α = {alpha:g}): max over steps and trials of |slope/(−2η²) − 1| over "
                "that bound.",
                SOURCE_FLOW,
                worst(
                    np.abs(slopes["slope"] / slopes["exact_slope"] - 1.0)
                    / slopes["slope_error_bound"]
                ),
                1.0,
                "<=",
            ),
        ]
    return out


# ---------------------------------------------------------------------------------------
# F5c


def label_noise_claims(table: pd.DataFrame) -> list[Claim]:
    """F5c claims from the ``label_noise`` trial table."""
    path = _section(table, "path")
    phase = _section(table, "gd_phase")
    reference = _section(table, "reference")
    if path.empty:
        return []
    final = final_rows(path, ["algorithm"])
    phase_end = phase[phase["gd_step"] == phase["gd_step"].max()]
    starts = np.sort(phase_end["noise_steps"].unique())
    endpoint = phase_end[phase_end["noise_steps"] == starts[-1]]
    previous_start = int(starts[-2]) if len(starts) > 1 else 0
    previous_error = worst(phase_end[phase_end["noise_steps"] == previous_start]["rel_error"])
    phase_steps = int(phase["gd_step"].max())
    noisy = path[path["algorithm"] == "label_noise_sgd"]
    steps = int(noisy["step"].max())
    final_noisy = noisy[noisy["step"] == steps].set_index("trial")
    final_regularizer = float(final_noisy["trace_hessian"].mean())
    by_trial = reference.set_index("trial")
    decay = -2.0 * np.log(final_noisy["alpha_eff"] / by_trial["alpha"])
    predicted_decay = steps * by_trial["product_decay_rate"]
    scale = float(reference["theta_alpha_init"].iloc[0])
    separation_l2 = float(reference["theta_alpha_to_l2"].min())
    separation_l1 = float(reference["theta_alpha_to_l1"].min())
    return [
        Claim(
            FAMILY,
            "uv_product_follows_recursion",
            "Every (S)GD step on (u, v) multiplies u⊙v by 1 − 4η²g² (g = ∂L/∂θ): the "
            "recorded u⊙v equals the product of these factors recomputed from the recorded "
            "gradients, in every run (GD, SGD, label-noise SGD, noiseless GD phases): max "
            "relative error.",
            SOURCE_LABEL,
            worst(pd.concat([path["product_error"], phase["product_error"]])),
            RECURSION_TOLERANCE,
            "<=",
            kind="check",
        ),
        Claim(
            FAMILY,
            "gd_reaches_theta_alpha",
            "Full-batch GD on u⊙u − v⊙v from the intermediate scale α = "
            f"{scale:g} ends at the exact Q_α limit θ_α (Newton dual of the diagonal family): "
            f"‖θ_GD − θ_α‖/‖θ_α‖ ≤ {sci(LIMIT_TOLERANCE)} (max over trials); there θ_α is "
            f"{separation_l2:.2g} from the minimum-ℓ2 and {separation_l1:.2g} from the "
            "minimum-ℓ1 interpolator (relative, min over trials), so GD at either endpoint, "
            "or from a scale 20% off, fails.",
            SOURCE_WOODWORTH,
            worst(reference["gd_to_theta_alpha"]),
            LIMIT_TOLERANCE,
            "<=",
        ),
        Claim(
            FAMILY,
            "theta_alpha_is_intermediate",
            f"At α = {scale:g} the exact θ_α lies between the regimes: at least "
            f"{THETA_ALPHA_SEPARATION:g} (relative) from both the minimum-ℓ2 and the "
            "minimum-ℓ1 interpolator, min over trials and both (a consistency check of the "
            "exact references: it makes `gd_reaches_theta_alpha` discriminating).",
            SOURCE_WOODWORTH,
            min(separation_l2, separation_l1),
            THETA_ALPHA_SEPARATION,
            ">=",
            kind="check",
        ),
        Claim(
            FAMILY,
            "gd_is_far_from_sparse",
            "From the large initialization, GD's endpoint θ_α is at least 30% away from the "
            "sparse θ*: min over trials of ‖θ_GD − θ*‖/‖θ*‖ ≥ 0.3 (a consistency check: a "
            "property of the exact θ_α, which `gd_reaches_theta_alpha` compares GD with).",
            SOURCE_WOODWORTH,
            float(final[final["algorithm"] == "gd"]["rel_error"].min()),
            GD_DISTANCE,
            ">=",
            kind="check",
        ),
        Claim(
            FAMILY,
            "label_noise_reaches_sparse_solution",
            f"Label-noise SGD ({steps:,} batch-1 steps) followed by a noiseless GD phase "
            f"({phase_steps:,} steps) ends within {LABEL_NOISE_TOLERANCE:.0%} of θ* (= θ_ℓ1 "
            "here): max over trials of ‖θ − θ*‖/‖θ*‖, read where the convergence study has "
            f"converged (from the previous start, {previous_start:,} label-noise steps, it "
            f"ends at {previous_error:.2g}).",
            SOURCE_LABEL,
            worst(endpoint["rel_error"]),
            LABEL_NOISE_TOLERANCE,
            "<=",
        ),
        Claim(
            FAMILY,
            "label_noise_shrinks_products_at_its_rate",
            "Label noise shrinks the effective initialization at its rate: over the "
            f"{steps:,} label-noise steps, −mean_j log(u_j v_j/α²) is "
            "4η²δ²K·mean_j ‖X_{:,j}‖²/n (every step multiplies u_j v_j by 1 − 4η²g_j² and "
            "E g_j² ≥ δ²‖X_{:,j}‖²/n), within "
            f"{PRODUCT_DECAY_TOLERANCE:.0%} (the residual's own share): max over trials of "
            "|measured/predicted − 1|.",
            SOURCE_LABEL,
            worst(np.abs(decay / predicted_decay - 1.0)),
            PRODUCT_DECAY_TOLERANCE,
            "<=",
        ),
        Claim(
            FAMILY,
            "label_noise_regularizer_reaches_rich_limit",
            "The implicit regularizer tr ∇²L̂ = (4/n)Σ_j (u_j² + v_j²)‖X_{:,j}‖² of "
            "label-noise SGD falls from its value at α (8α²Σ_j‖X_{:,j}‖²/n) to its "
            "rich-regime value at θ*, R* = 4Σ_j |θ*_j| ‖X_{:,j}‖²/n (u_j² + v_j² → |θ_j| as "
            f"u_j v_j → 0), or below, by the last step: trial-mean tr ∇²L̂ / R* ≤ "
            f"1 + {REGULARIZER_TOLERANCE:g} (it may end below R*: the label-noise iterate is "
            "shrunk towards 0, as by an ℓ1 penalty).",
            SOURCE_LABEL,
            final_regularizer / float(reference["rich_trace_hessian"].mean()),
            1.0 + REGULARIZER_TOLERANCE,
            "<=",
        ),
        Claim(
            FAMILY,
            "theta_l1_equals_theta_star",
            "n is above the ℓ1 recovery threshold: the minimum-ℓ1 interpolator (linear "
            "program) equals θ*: max over trials of ‖θ_ℓ1 − θ*‖/‖θ*‖ ≤ "
            f"{sci(L1_RECOVERY_TOLERANCE)}.",
            "Candès & Tao (2005); Donoho (2006) (exact recovery by basis pursuit)",
            worst(reference["theta_l1_error"]),
            L1_RECOVERY_TOLERANCE,
            "<=",
            kind="check",
        ),
    ]


#: The family's claims, by the table they are computed from (`implicit_reg.claims.family_claims`).
CLAIMS = {
    "ou": ou_claims,
    "stochastic_approximation": approximation_claims,
    "label_noise": label_noise_claims,
}
