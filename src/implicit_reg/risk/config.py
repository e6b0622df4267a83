"""Parse-time checks of the ``risk`` section: cross-key constraints and job costs.

Standard library only (the workflow imports it inside Snakemake); the section has its
schema defaults filled.
"""

from __future__ import annotations

from collections.abc import Mapping

from implicit_reg.risk import DESIGN_BATCH_FLOATS
from implicit_reg.workflow.checks import FLOAT, Cost


def problems(section: Mapping) -> list[str]:
    """Cross-key constraints of §F1a: the minimum-norm interpolant needs n < d, and an
    SGD batch needs distinct rows (batch ≤ the smallest n)."""
    found = []
    min_norm = section.get("min_norm")
    if min_norm:
        d = min_norm["n_features"]
        too_many = [n for n in min_norm["grid"]["n_samples"] if n >= d]
        if too_many:
            found.append(
                f"risk.min_norm.grid.n_samples {too_many} must be below "
                f"risk.min_norm.n_features ({d}): the minimum-norm interpolant needs n < d"
            )
        smallest_n = min(min_norm["grid"]["n_samples"])
        too_big = [b for b in min_norm["batch_sizes"] if b > smallest_n]
        if too_big:
            found.append(
                f"risk.min_norm.batch_sizes {too_big} exceed the smallest "
                f"risk.min_norm.grid.n_samples ({smallest_n}); a batch needs distinct rows"
            )
    return found


def min_norm_cost(p: Mapping) -> Cost:
    """GD and one SGD run per batch size, on and off the origin; SVDs of the design."""
    t, n, d = p["n_trials"], p["n_samples"], p["n_features"]
    checkpoints = p["n_checkpoints"] + 1
    runs = 2 * (1 + len(p["batch_sizes"]))
    memory = FLOAT * t * (n * d + 3 * checkpoints * d + 1000 * n)
    work = 2 * t * n * d * (p["gd_steps"] + p["sgd_steps"] * len(p["batch_sizes"]))
    return Cost(
        memory * 2,
        work + runs * t * min(n, d) ** 2 * max(n, d),
        ("n_trials", "n_features", "gd_steps", "sgd_steps"),
    )


def double_descent_cost(p: Mapping) -> Cost:
    """One decomposition per design (it serves every noise level), designs in batches of
    at most `DESIGN_BATCH_FLOATS` floats."""
    n, t = p["n_samples"], p["n_trials"]
    dims = [max(1, round(g * n)) for g in p["gamma"]]
    memory = FLOAT * (min(DESIGN_BATCH_FLOATS, t * n * max(dims)) * 3 + t * len(p["gamma"]) * 40)
    work = sum(t * (min(n, d) ** 2 * max(n, d) + 10 * min(n, d) ** 3) for d in dims)
    return Cost(memory, work, ("n_trials", "n_samples", "gamma"))


def early_stopping_cost(p: Mapping) -> Cost:
    """GD to t_max for every n: η = step_fraction/λ_max with λ_max ≤ (1 + √(d/n))², so
    t_max/η steps of 2d² flops per draw."""
    d, t, m = p["n_features"], p["n_trials"], p["n_draws"]
    memory = work = 0.0
    for n in p["n_samples"]:
        steps = p["t_max"] * (1 + (d / n) ** 0.5) ** 2 / p["step_fraction"]
        work += 2 * t * d * d * m * steps
        memory = max(memory, FLOAT * t * (n * d + 3 * n * m + (p["n_checkpoints"] + 4) * d * m))
    return Cost(memory, work, ("n_trials", "n_draws", "n_features", "t_max", "step_fraction"))


COSTS = {
    "min_norm": min_norm_cost,
    "double_descent": double_descent_cost,
    "early_stopping": early_stopping_cost,
}

#: Slowest sustained rate of each experiment's jobs, floating-point operations per second
#: on one core (`COSTS` work / simulation seconds, default configuration, rounded down;
#: `benchmarks/bench_resources.py`): the simulate rules' runtime requests
#: (`implicit_reg.workflow.resources`).
THROUGHPUT = {
    "min_norm": 8e8,
    "double_descent": 3e9,
    "early_stopping": 9e9,
}
