"""Parse-time checks of the ``diagonal`` section: cross-key constraints and job costs.

Standard library only (the workflow imports it inside Snakemake); the section has its
schema defaults filled.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from implicit_reg.workflow.checks import Cost, grid_points_params


def _where(spec: Mapping, key: str, prefix: str) -> str:
    """Dotted path of ``key``: under ``grid`` when it is a grid axis of the section."""
    return f"{prefix}.grid.{key}" if key in spec["grid"] else f"{prefix}.{key}"


def problems(section: Mapping) -> list[str]:
    """Cross-key constraints of the F3 experiments, over every grid combination.

    - every experiment: sparsity r ≤ n_features d (θ* has r nonzeros among d);
    - crossover and trajectories: n_samples < n_features (the Q_α limit is the
      interpolator of an underdetermined system);
    - crossover: alpha_min < alpha_max;
    - trajectories: every step fraction < 1 (η = c/L_α with L_α a curvature estimate
      along the path; c ≥ 1 leaves no margin for the curvature growing past it) and at
      least two distinct fractions (the step-size claim compares the largest and the
      smallest);
    - sparse_recovery: r ≤ n < d (least squares on the true support needs r ≤ n; n < d
      is the overparametrized setting), n ≥ r²·(ln d)² (the regime of Li, Ma & Zhang 2018,
      Theorem 1.1, which the claims test), eta < 1 (GD on the population loss is stable
      at β = β* iff |1 − 2η| < 1) and distinct α values (a slope in α needs two).
    """
    found_all = []
    for name, spec in section.items():
        prefix = f"diagonal.{name}"
        seen = set()
        for params in grid_points_params(spec):
            d, r, n = params["n_features"], params["sparsity"], params["n_samples"]

            def at(key, spec=spec, prefix=prefix):
                return _where(spec, key, prefix)

            found = []
            if r > d:
                found.append(
                    f"{at('sparsity')} ({r}) exceeds {at('n_features')} ({d}): "
                    "θ* has r nonzeros among d coordinates"
                )
            if name in ("crossover", "trajectories") and n >= d:
                found.append(
                    f"{at('n_samples')} ({n}) must be below {at('n_features')} ({d}): "
                    "the exact limit interpolates an underdetermined system"
                )
            if name == "crossover" and params["alpha_min"] >= params["alpha_max"]:
                found.append(
                    f"{prefix}.alpha_min ({params['alpha_min']}) must be below "
                    f"{prefix}.alpha_max ({params['alpha_max']})"
                )
            if name == "trajectories":
                fractions = list(params["step_fractions"])
                unstable = [c for c in fractions if c >= 1]
                if unstable:
                    found.append(
                        f"{prefix}.step_fractions {unstable} must be below 1 "
                        "(η = c/L_α; c < 1 keeps GD stable as the curvature grows)"
                    )
                if len(set(fractions)) < 2:
                    found.append(
                        f"{prefix}.step_fractions {fractions} needs two distinct values "
                        "(the step-size claim compares the largest and the smallest)"
                    )
            if name == "sparse_recovery":
                if not r <= n < d:
                    found.append(
                        f"{at('n_samples')} ({n}) must satisfy {at('sparsity')} ({r}) ≤ n "
                        f"< {at('n_features')} ({d})"
                    )
                regime = r**2 * math.log(d) ** 2
                if n < regime:
                    found.append(
                        f"{at('n_samples')} ({n}) is below r²·(ln d)² = {regime:.0f} "
                        f"({at('sparsity')} = {r}, {at('n_features')} = {d}): the regime "
                        "n ≳ r² log² d of Li, Ma & Zhang (2018), Theorem 1.1, which the "
                        "claims test"
                    )
            if name == "sparse_recovery":
                if params["eta"] >= 1:
                    found.append(
                        f"{prefix}.eta ({params['eta']}) must be below 1 "
                        "(GD on the population loss is stable at β* iff |1 − 2η| < 1)"
                    )
                alphas = list(params["alphas"])
                if len(set(alphas)) < len(alphas):
                    found.append(f"{prefix}.alphas {alphas} repeats a value")
            found_all += [p for p in found if p not in seen]
            seen.update(found)
    return found_all


def crossover_cost(params: Mapping) -> Cost:
    """Newton dual: ~10 iterations × k × trials × (n²d Hessian + n³/3 Cholesky); LP."""
    t, n, d = params["n_trials"], params["n_samples"], params["n_features"]
    k = params["n_alphas"]
    memory = 8.0 * (t * n * d + 8 * t * k * d + 2 * t * n * n + t * n * d)
    work = 10.0 * k * t * (n * n * d + n**3 / 3) + t * n * n * d
    return Cost(memory, work, ("n_trials", "n_features", "n_alphas"))


def trajectories_cost(params: Mapping) -> Cost:
    """GD on (u, v): all 2k runs for n_steps·max/min fraction steps, 4nd flops each."""
    t, n, d = params["n_trials"], params["n_samples"], params["n_features"]
    fractions = params["step_fractions"]
    m = len(params["alphas"]) * len(fractions)
    steps = params["n_steps"] * max(fractions) / min(fractions)
    checkpoints = params["n_checkpoints"] + 1
    memory = 8.0 * (t * n * d + (checkpoints + 8) * t * m * d)
    work = steps * t * m * 4.0 * n * d + 10.0 * len(params["alphas"]) * t * n * n * d
    return Cost(memory, work, ("n_trials", "n_features", "n_steps"))


def sparse_recovery_cost(params: Mapping) -> Cost:
    """GD on β⊙β: 2k runs (two label vectors × k scales), n_steps steps of 4nd flops."""
    t, n, d = params["n_trials"], params["n_samples"], params["n_features"]
    m = 2 * len(params["alphas"])
    checkpoints = params["n_checkpoints"] + 1
    memory = 8.0 * (t * n * d + (checkpoints + 10) * t * m * d)
    work = params["n_steps"] * t * m * 4.0 * n * d
    return Cost(memory, work, ("n_trials", "n_features", "n_steps"))


COSTS = {
    "crossover": crossover_cost,
    "trajectories": trajectories_cost,
    "sparse_recovery": sparse_recovery_cost,
}

#: Slowest sustained rate of each experiment's jobs, floating-point operations per second
#: on one core (`COSTS` work / simulation seconds, default configuration, rounded down;
#: `benchmarks/bench_resources.py`): the simulate rules' runtime requests
#: (`implicit_reg.workflow.resources`).
THROUGHPUT = {
    "crossover": 5e8,
    "trajectories": 2e9,
    "sparse_recovery": 2e9,
}
