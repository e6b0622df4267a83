"""Parse-time checks of the ``dynamics`` section: cross-key constraints and job costs.

Standard library only (the workflow imports it inside Snakemake); the section has its
schema defaults filled.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from implicit_reg.dynamics import NEURON_BLOCK
from implicit_reg.workflow.checks import Cost

#: §F6a: tolerance of ``gd_singular_values_match_exact`` (|σ_r^GD − σ_r|/s_r).
CURVE_TOLERANCE = 1e-2
#: §F6a: GD's error per unit step fraction, ≈ 0.7·c (the step study of the half_times
#: figure: Euler's error of the flow, first order in c).
CURVE_ERROR_PER_STEP = 0.7
#: §F6a: largest step fraction at which the error's ratio between two steps is the step
#: ratio within the 0.1 of ``gd_error_shrinks_with_step``.
FIRST_ORDER_STEP = 0.04


def problems(section: Mapping) -> list[str]:
    """Cross-key constraints of the dynamics (F6) experiments, over every grid combination."""
    found = []
    prefix = "dynamics.matrix_factorization"
    factorization = section.get("matrix_factorization")
    if factorization:
        s_min, s_max = factorization["s_min"], factorization["s_max"]
        if s_min >= s_max:
            found.append(
                f"{prefix}.s_min ({s_min}) must be below {prefix}.s_max ({s_max}): the "
                "singular values of W* must be distinct"
            )
        for key, claim in (
            ("depths", "transition_width_shrinks_with_depth"),
            ("init_scales", "transition_width_shrinks_as_eps_falls"),
        ):
            if len(factorization[key]) < 2:
                found.append(
                    f"{prefix}.{key} {factorization[key]} needs at least two values: the claim "
                    f"{claim} compares them"
                )
        fractions = factorization["step_fractions"]
        finest = CURVE_TOLERANCE / CURVE_ERROR_PER_STEP
        if min(fractions) > finest:
            found.append(
                f"{prefix}.step_fractions {fractions} needs a value ≤ {finest:.3g}: GD's "
                f"error is about {CURVE_ERROR_PER_STEP:g}·c and gd_singular_values_match_exact "
                f"allows {CURVE_TOLERANCE:g} at the smallest c (docs/science.md §F6a)"
            )
        if max(fractions) > FIRST_ORDER_STEP:
            found.append(
                f"{prefix}.step_fractions {fractions} must all be ≤ {FIRST_ORDER_STEP:g}: "
                "gd_error_shrinks_with_step reads GD's error as first order in c, which "
                "docs/science.md §F6a establishes for c ≤ 0.04"
            )
        too_big = [e for e in factorization["init_scales"] if e >= 0.1 * s_min]
        if too_big:
            found.append(
                f"{prefix}.init_scales {too_big} must be below {prefix}.s_min/10 "
                f"({0.1 * s_min:g}): every singular value must start under 10% of its target"
            )
    prefix = "dynamics.linear_nets"
    nets = section.get("linear_nets")
    if nets:
        hidden, d = nets["hidden"], nets["n_features"]
        d_out, batch = nets["n_outputs"], nets["batch_size"]
        for n in nets["grid"]["n_samples"]:
            if not hidden >= d > n >= d_out:
                found.append(
                    f"{prefix}: need {prefix}.hidden ({hidden}) >= {prefix}.n_features ({d}) "
                    f"> {prefix}.grid.n_samples ({n}) >= {prefix}.n_outputs ({d_out}) "
                    "(N >= d > n >= d', docs/science.md §F6b: at n = d Null(Xᵀ) is empty and "
                    "the two initializations coincide)"
                )
            if batch > n:
                found.append(
                    f"{prefix}.batch_size ({batch}) must be at most {prefix}.grid.n_samples ({n})"
                )
    prefix = "dynamics.lazy_training"
    lazy = section.get("lazy_training")
    if lazy:
        widths = list(lazy["widths"])
        if any(b <= a for a, b in zip(widths, widths[1:], strict=False)):
            found.append(f"{prefix}.widths {widths} must be strictly increasing")
        d = lazy["n_features"]
        for n in lazy["grid"]["n_samples"]:
            if widths and n > min(widths) * (d + 1):
                found.append(
                    f"{prefix}.grid.n_samples ({n}) must be at most m·(d + 1) = "
                    f"{min(widths) * (d + 1)} for the smallest of {prefix}.widths and "
                    f"{prefix}.n_features ({d}), or the tangent kernel K₀ is singular"
                )
    return found


#: Cost of one factor's share of a GD step beyond its arithmetic, in floating-point
#: operations at the experiment's `THROUGHPUT`: the step is a fixed sequence of about four
#: numpy calls per factor (`implicit_reg.dynamics.factorization.FactorGradient`), about
#: 10 µs each whatever the size, so below r ≈ 15 the call overhead, not the r³ products,
#: sets the time (measured: 164 µs a step at r = 4, N = 8, one trial, against 165 µs at
#: r = 10, N = 4, two trials, in one run).
FACTOR_STEP_OVERHEAD = 8000.0


def matrix_factorization_steps(params: Mapping, depth: int, eps: float, fraction: float) -> float:
    """GD steps of one (depth, ε, c) run: ``horizon`` times the exact time at which the
    smallest singular value reaches 90% of s_min, over the step ``c·dd'/(N s_max^{2−2/N})``.

    That time is dominated by the escape from the saddle at 0 (docs/science.md §F6a:
    σ̇ = (N/(dd'))σ^{2−2/N}(s − σ)): in units of ``dd'/(N s_min)``, ≈ 2.3 for N = 1,
    ``ln(s_min/ε) + 2.2`` for N = 2 and ``(N/(N−2))(ε/s_min)^{−(N−2)/N}`` for N ≥ 3 (the
    product ε = (ε^{1/N})^N of N factors each at ε^{1/N}, so ∝ (ε^{1/N})^{−(N−2)}); the
    step brings ``(s_max/s_min)^{2−2/N}``.
    """
    s_min = params["s_min"]
    if depth == 1:
        plateau = 2.3
    elif depth == 2:
        plateau = math.log(s_min / eps) + 2.2
    else:
        plateau = depth / (depth - 2) * (eps / s_min) ** (-(depth - 2) / depth)
    ratio = params["s_max"] / s_min
    return params["horizon"] * ratio ** (2 - 2 / depth) * plateau / fraction


def matrix_factorization_cost(params: Mapping) -> Cost:
    """Every (depth, ε, c) run's GD steps (`matrix_factorization_steps`), each costing, per
    factor, 4 products of r × r matrices for every trial plus `FACTOR_STEP_OVERHEAD`."""
    d, dp = params["n_rows"], params["n_cols"]
    r = min(d, dp)
    trials = params["n_trials"]
    work, rows = 0.0, 0.0
    checkpoints = 2 * params["n_checkpoints"] + 19 * r
    for depth in params["depths"]:
        for eps in params["init_scales"]:
            for c in params["step_fractions"]:
                steps = matrix_factorization_steps(params, depth, eps, c)
                work += steps * depth * (4 * r**3 * trials + FACTOR_STEP_OVERHEAD)
                rows += checkpoints
    return Cost(
        memory_bytes=rows * trials * (r * 17 + d * dp) * 8,
        work=work,
        drivers=(
            "depths",
            "init_scales",
            "step_fractions",
            "s_min",
            "s_max",
            "horizon",
            "n_trials",
            "n_rows",
            "n_cols",
        ),
    )


def linear_nets_cost(params: Mapping) -> Cost:
    """GD then SGD on both layers; the weights kept at every checkpoint."""
    trials, n, d = params["n_trials"], params["n_samples"], params["n_features"]
    hidden, d_out = params["hidden"], params["n_outputs"]
    weights = hidden * (d + d_out)
    checkpoints = params["n_checkpoints"] + 1
    steps = params["gd_steps"] + params["sgd_steps"]
    return Cost(
        memory_bytes=4 * checkpoints * trials * weights * 8 * 3,
        work=2 * trials * steps * hidden * (d * n + d_out * n) * 4,
        drivers=(
            "n_trials",
            "gd_steps",
            "sgd_steps",
            "hidden",
            "n_features",
            "n_samples",
            "n_checkpoints",
        ),
    )


def lazy_training_cost(params: Mapping) -> Cost:
    """GD on every width; the tangent kernel and held-out activations in blocks of
    `NEURON_BLOCK` neurons."""
    trials, n, d = params["n_trials"], params["n_samples"], params["n_features"]
    widest, total = max(params["widths"]), sum(params["widths"])
    points = n + params["n_test"]
    block = min(widest, NEURON_BLOCK)
    return Cost(
        # Training activations of the widest network, its weights (initial, current,
        # gradient, final), and blocks of activations on train and held-out points.
        memory_bytes=trials * (2 * n * widest + 5 * widest * (d + 1) + 4 * points * block) * 8,
        work=trials * params["n_steps"] * total * n * (2 * d + 20),
        drivers=("n_trials", "n_steps", "widths", "n_samples", "n_test"),
    )


def pl_rate_cost(params: Mapping) -> Cost:
    """GD on least squares for every n: one d-vector matvec pair a step."""
    trials, d = params["n_trials"], params["n_features"]
    largest, total = max(params["n_samples"]), sum(params["n_samples"])
    return Cost(
        memory_bytes=trials * (largest * d + (params["n_checkpoints"] + 1) * d) * 8 * 3,
        work=trials * params["n_steps"] * total * d * 2,
        drivers=("n_trials", "n_steps", "n_samples", "n_features", "n_checkpoints"),
    )


COSTS = {
    "matrix_factorization": matrix_factorization_cost,
    "linear_nets": linear_nets_cost,
    "lazy_training": lazy_training_cost,
    "pl_rate": pl_rate_cost,
}

#: Slowest sustained rate of each experiment's jobs, floating-point operations per second
#: on one core (`COSTS` work / simulation seconds, default configuration, rounded down;
#: `benchmarks/bench_resources.py`; matrix_factorization's work counts the per-factor call
#: overhead `FACTOR_STEP_OVERHEAD`, twice its arithmetic at the default size, hence twice
#: the rate of its arithmetic alone): the simulate rules' runtime requests
#: (`implicit_reg.workflow.resources`).
THROUGHPUT = {
    "matrix_factorization": 8e8,
    "linear_nets": 3e9,
    "lazy_training": 1e9,
    "pl_rate": 3e7,
}
