"""Parse-time checks of the ``noise`` section: cross-key constraints and job costs.

Standard library only (the workflow imports it inside Snakemake); the section has its
schema defaults filled.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from implicit_reg.workflow.checks import Cost

#: Largest memory of x₀ left after the burn-in, (1 − η·eig_min)^(2·burn_in): a third of
#: the 3% tolerance of the stationary-covariance claims (docs/science.md §F5a).
BURN_IN_MEMORY = 1e-2
#: Relative gap 2/(2 − ηa) − 1 between the discrete and the SDE stationary variances above
#: which `ou_sde_variance_is_off` compares them: the 3% tolerance of the variance claims
#: (docs/science.md §F5a).
SDE_GAP = 0.03
#: Fewest independent samples behind a stationary variance: its standard error √(2/N) is
#: then at most 1%, a third of the claims' 3% (docs/science.md §F5a).
MIN_SAMPLES = 20_000


def mixing_problem(key: str, steps: int, contraction: float, where: str) -> str | None:
    """The line naming ``key`` when ``steps`` burn-in steps at the contraction factor
    ``contraction`` (|1 − ηa| or |1 − η·eig_min|) leave more than `BURN_IN_MEMORY` of x₀
    in the second moment, (contraction)^(2·steps) (docs/science.md §F5a)."""
    left = contraction ** (2 * steps)
    if left <= BURN_IN_MEMORY:
        return None
    needed = math.ceil(math.log(BURN_IN_MEMORY) / (2 * math.log(contraction)))
    return (
        f"{key} ({steps}) must be ≥ {needed} {where}: the memory of x₀ left after it, "
        f"{left:.2g}, exceeds {BURN_IN_MEMORY:g}: the chains have not mixed"
    )


def label_noise_step_limit(alpha: float, n_features: int) -> float:
    """Largest batch-1 step η of SGD on θ = u⊙u − v⊙v that is mean-square stable at the
    initialization u = v = α·1: η < 1/(4α²(d + 2)).

    Linearized at the start, one step moves θ by −γ x(xᵀθ − y) with the step in θ
    γ = 4η(u_j² + v_j²) = 8ηα²; for x ~ N(0, I_d), E[(I − γxxᵀ)²] = (1 − 2γ + γ²(d + 2))I
    (Isserlis: E‖x‖²xxᵀ = (d + 2)I), below 1 iff γ < 2/(d + 2) (docs/science.md §F5c).
    """
    return 1.0 / (4.0 * alpha**2 * (n_features + 2))


def label_noise_level_limit(eta: float, n_features: int) -> float:
    """Largest label noise δ with 2ηδ√d < 1: one step u ← u⊙(1 − 2ηg), g = x(xᵀθ − ỹ),
    changes (u, v) by the relative amount 2η|r|‖x‖, with |r| ≈ δ once the labels are fit
    and ‖x‖ ≈ √d; at 1 the multiplicative update overshoots (docs/science.md §F5c)."""
    return 1.0 / (2.0 * eta * math.sqrt(n_features))


def factorization_init_limit(step: float, coordinates: int) -> float:
    """Largest initialization scale s below which no coordinate of GD with step α on
    ½(w* − w₂⊙w₁)² starts unstable, with probability 99%: s < 1/√(α·ln(100·m)).

    One coordinate's Hessian is [[w₂², 2w₁w₂ − w*], [2w₁w₂ − w*, w₁²]]. At w₁, w₂ ~ N(0, s²)
    with s² ≫ |w*| (the only regime this limit binds in: near w* the stability limit is
    the step's own check, α < 1/max|w*|), its top eigenvalue lies between w₁² + w₂² =
    s²χ²₂ and 1.5 times that, so GD's map 1 − α·λ expands that direction from the first
    step unless α·s²·χ²₂ < 2 (a necessary condition). The largest of m draws of χ²₂
    exceeds 2·ln(100m) with probability about 1% (P(χ²₂ > x) = e^(−x/2), union bound),
    so s² < 1/(α·ln(100m)) is required for all m = d·n_trials coordinates.
    """
    return 1.0 / math.sqrt(step * math.log(100.0 * coordinates))


def problems(section: Mapping) -> list[str]:
    """Cross-key constraints of the noise family (docs/science.md §F5), every key by its path."""
    found = []
    ou = section.get("ou") or {}
    scalar = ou.get("scalar") or {}
    if scalar and scalar["burn_in"] + scalar["max_lag"] > scalar["n_steps"]:
        found.append(
            f"noise.ou.scalar.burn_in + noise.ou.scalar.max_lag ({scalar['burn_in']} + "
            f"{scalar['max_lag']}) must be ≤ noise.ou.scalar.n_steps ({scalar['n_steps']}): "
            "the stationary statistics need at least one block of max_lag steps"
        )
    if scalar:
        # x₀ is forgotten like (1 − ηa)^(2k) (docs/science.md §F5a); ηa = 1 at once.
        for eta_a in scalar["eta_a"]:
            if eta_a != 1.0:
                found.append(
                    mixing_problem(
                        "noise.ou.scalar.burn_in",
                        scalar["burn_in"],
                        abs(1.0 - eta_a),
                        f"at ηa = {eta_a:g} ((1 − ηa)^(2·burn_in))",
                    )
                )
        chains = ou["n_trials"] * scalar["n_chains"]
        if chains < MIN_SAMPLES:
            found.append(
                f"noise.ou.n_trials × noise.ou.scalar.n_chains ({ou['n_trials']} × "
                f"{scalar['n_chains']}) must be ≥ {MIN_SAMPLES}: the variance's standard "
                "error √(2/N) must be at most 1% for the 3% of the variance claims"
            )
        smallest = 2.0 * SDE_GAP / (1.0 + SDE_GAP)
        if not any(2.0 / (2.0 - eta_a) - 1.0 > SDE_GAP for eta_a in scalar["eta_a"]):
            found.append(
                f"noise.ou.scalar.eta_a {scalar['eta_a']} needs a value above "
                f"{smallest:.4g} (2/(2 − ηa) > {1 + SDE_GAP:g}): the claim "
                "ou_sde_variance_is_off compares the SDE's variance there"
            )
    quadratic = ou.get("quadratic") or {}
    if quadratic:
        low, high = quadratic["eig_min"], quadratic["eig_max"]
        if low >= high:
            found.append(
                f"noise.ou.quadratic.eig_min ({low}) must be below noise.ou.quadratic.eig_max "
                f"({high})"
            )
        unstable = [eta for eta in quadratic["step_sizes"] if eta * high >= 2.0]
        if unstable:
            found.append(
                f"noise.ou.quadratic.step_sizes {unstable} must be < 2/eig_max = {2.0 / high:g}: "
                "gradient descent itself diverges there (streaming SGD's smaller limit may be "
                "exceeded: those runs are recorded as diverged)"
            )
        # The slowest direction forgets x₀ like (1 − η·eig_min)^(2k) (docs/science.md §F5a).
        for eta in quadratic["step_sizes"]:
            if eta * high < 2.0:
                found.append(
                    mixing_problem(
                        "noise.ou.quadratic.burn_in",
                        quadratic["burn_in"],
                        abs(1.0 - eta * low),
                        f"at step {eta:g} ((1 − η·eig_min)^(2·burn_in), slowest direction)",
                    )
                )
        # About N·T·η·eig_min independent samples along the slowest direction, at most
        # N·T/thin (docs/science.md §F5a); streaming SGD may diverge by design, so only the
        # additive noise shapes, stable below 2/eig_max, are held to it.
        pooled = quadratic["n_steps"] - quadratic["burn_in"]
        chains = ou["n_trials"] * quadratic["n_chains"]
        if set(quadratic["noise_shapes"]) - {"streaming"} and pooled > 0:
            eta = min(quadratic["step_sizes"])
            samples = chains * min(pooled * eta * low, pooled / quadratic["thin"])
            if samples < MIN_SAMPLES:
                found.append(
                    f"noise.ou.quadratic.n_chains ({quadratic['n_chains']}, × noise.ou.n_trials "
                    f"{ou['n_trials']}) gives N·min((n_steps − burn_in)·η·eig_min, (n_steps − "
                    f"burn_in)/thin) = {samples:.0f} independent samples at step {eta:g}, "
                    f"must be ≥ {MIN_SAMPLES}: the covariance claims' 3% needs a standard "
                    "error of at most 1% (raise n_chains or n_steps, or lower thin)"
                )
        if quadratic["burn_in"] + quadratic["thin"] > quadratic["n_steps"]:
            found.append(
                f"noise.ou.quadratic.burn_in + noise.ou.quadratic.thin ({quadratic['burn_in']} + "
                f"{quadratic['thin']}) must be ≤ noise.ou.quadratic.n_steps "
                f"({quadratic['n_steps']}): no step left for the stationary covariance"
            )
    approximation = section.get("stochastic_approximation") or {}
    dropout = approximation.get("dropout") or {}
    if dropout and dropout["n_samples"] <= dropout["n_features"]:
        found.append(
            f"noise.stochastic_approximation.dropout.n_samples ({dropout['n_samples']}) must "
            f"exceed noise.stochastic_approximation.dropout.n_features "
            f"({dropout['n_features']}): least squares with a unique minimizer"
        )
    factorization = approximation.get("factorization") or {}
    if factorization:
        path = "noise.stochastic_approximation.factorization"
        top, d = factorization["w_star_max"], factorization["n_features"]
        level = factorization["noise_scale"] ** 2
        # w* = linspace(−top, top, d): its smallest |entry| is 0 (odd d) or top/(d − 1).
        smallest = 0.0 if d % 2 else top / (d - 1)
        if not smallest < level < top:
            found.append(
                f"{path}.noise_scale² ({level:g}) must lie strictly between the smallest "
                f"|w*_i| ({smallest:g}) and {path}.w_star_max ({top:g}): some coordinates must "
                "fall below the soft-threshold level η² and some above"
            )
        steps = [("gd_step", factorization["gd_step"])]
        steps += [("injection_step", factorization["injection_step"])]
        steps += [("imbalance_steps", a) for a in factorization["imbalance_steps"]]
        largest = max(step for _, step in steps)
        scale = factorization["init_scale"]
        limit = factorization_init_limit(largest, d * approximation["n_trials"])
        if scale >= limit:
            found.append(
                f"{path}.init_scale ({scale:g}) must be < 1/√(α·ln(100·d·n_trials)) = "
                f"{limit:.3g} (α = {largest:g}, the largest of gd_step, injection_step and "
                "imbalance_steps): GD diverges from a coordinate with α(w₁² + w₂²) ≥ 2"
            )
        for key, step in steps:
            if step * top >= 1.0:
                found.append(
                    f"{path}.{key} ({step:g}) must be < 1/{path}.w_star_max = {1.0 / top:g}: "
                    "GD's stability limit at the balanced minima (Hessian eigenvalue 2|w*_i|)"
                )
    label = section.get("label_noise") or {}
    if label and label["sparsity"] < label["n_samples"] < label["n_features"]:
        r, d = label["sparsity"], label["n_features"]
        needed = math.ceil(2 * r * math.log(d / r))
        if label["n_samples"] < needed:
            found.append(
                f"noise.label_noise.n_samples ({label['n_samples']}) must be ≥ 2r·ln(d/r) = "
                f"{needed} (r = sparsity, d = n_features): below the ℓ1 recovery threshold "
                "θ_ℓ1 ≠ θ* and label_noise_reaches_sparse_solution cannot hold"
            )
    if label:
        limits = (
            (
                "eta",
                label_noise_step_limit(label["alpha"], label["n_features"]),
                "1/(4α²(d + 2))",
                "α = noise.label_noise.alpha, d = n_features",
                "batch-1 SGD on u⊙u − v⊙v is mean-square unstable at its initialization beyond it",
            ),
            (
                "label_noise",
                label_noise_level_limit(label["eta"], label["n_features"]),
                "1/(2η√d)",
                "η = noise.label_noise.eta, d = n_features",
                "one label-noise step would change (u, v) by more than their own size",
            ),
        )
        for key, limit, formula, symbols, reason in limits:
            if label[key] >= limit:
                found.append(
                    f"noise.label_noise.{key} ({label[key]:g}) must be < {formula} = "
                    f"{limit:.4g} ({symbols}): {reason}"
                )
    if label and not label["sparsity"] < label["n_samples"] < label["n_features"]:
        found.append(
            f"noise.label_noise needs sparsity < n_samples < n_features (got "
            f"{label['sparsity']}, {label['n_samples']}, {label['n_features']}): an "
            "underdetermined sparse regression with more samples than nonzeros"
        )
    return [line for line in found if line]


def ou_cost(params: Mapping) -> Cost:
    """Both sections of one ``ou`` job: scalar chains over the ηa grid and the
    quadratic's chains for every noise shape and step size."""
    trials = params["n_trials"]
    scalar, quadratic = params["scalar"], params["quadratic"]
    chains = trials * scalar["n_chains"]
    configs = len(quadratic["noise_shapes"]) * len(quadratic["step_sizes"])
    d = quadratic["n_features"]
    states = configs * trials * quadratic["n_chains"] * d
    return Cost(
        memory_bytes=8.0 * (4 * len(scalar["eta_a"]) * chains + 4 * states),
        work=len(scalar["eta_a"]) * chains * scalar["n_steps"] * 4
        + states * quadratic["n_steps"] * (d + 8),
        drivers=(
            "n_trials",
            "scalar.eta_a",
            "scalar.n_chains",
            "scalar.n_steps",
            "quadratic.noise_shapes",
            "quadratic.step_sizes",
            "quadratic.n_chains",
            "quadratic.n_steps",
            "quadratic.n_features",
        ),
    )


def stochastic_approximation_cost(params: Mapping) -> Cost:
    """Dropout SGD for every keep probability and the factorization's GD, penalized GD,
    noise injection and imbalance runs."""
    trials = params["n_trials"]
    dropout, factor = params["dropout"], params["factorization"]
    runs = trials * len(dropout["keep_probs"])
    steps = (
        2 * factor["gd_steps"]
        + factor["injection_steps"]
        + sum(factor["imbalance_time"] / a for a in factor["imbalance_steps"])
    )
    return Cost(
        memory_bytes=8.0
        * (
            trials * dropout["n_samples"] * dropout["n_features"]
            + 4 * dropout["n_checkpoints"] * runs * dropout["n_features"]
        ),
        work=runs * dropout["n_steps"] * dropout["n_features"] ** 2
        + trials * factor["n_features"] * steps * 10,
        drivers=(
            "n_trials",
            "dropout.keep_probs",
            "dropout.n_steps",
            "dropout.n_features",
            "dropout.n_checkpoints",
            "factorization.gd_steps",
            "factorization.injection_steps",
            "factorization.imbalance_steps",
            "factorization.imbalance_time",
        ),
    )


def label_noise_cost(params: Mapping) -> Cost:
    """GD (from α and from the intermediate scale), clean SGD, label-noise SGD and the
    noiseless GD phases on u⊙u − v⊙v."""
    trials, n, d = params["n_trials"], params["n_samples"], params["n_features"]
    phases = params["phase_starts"]
    return Cost(
        memory_bytes=8.0
        * (2 * trials * n * d + 64 * 4 * trials * d + 2 * params["n_checkpoints"] * 2 * trials * d),
        work=2 * trials * d * params["n_steps"] * 8
        + trials
        * n
        * d
        * (params["gd_steps"] + params["theta_alpha_steps"] + phases * params["phase_steps"])
        * 4,
        drivers=(
            "n_trials",
            "n_steps",
            "n_samples",
            "n_features",
            "gd_steps",
            "theta_alpha_steps",
            "phase_starts",
            "phase_steps",
            "n_checkpoints",
        ),
    )


COSTS = {
    "ou": ou_cost,
    "stochastic_approximation": stochastic_approximation_cost,
    "label_noise": label_noise_cost,
}

#: Slowest sustained rate of each experiment's jobs, floating-point operations per second
#: on one core (`COSTS` work / simulation seconds, default configuration, rounded down;
#: `benchmarks/bench_resources.py`): the simulate rules' runtime requests
#: (`implicit_reg.workflow.resources`).
THROUGHPUT = {
    "ou": 6e8,
    "stochastic_approximation": 1e8,
    "label_noise": 4e8,
}
