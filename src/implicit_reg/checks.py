"""Checks of a configuration that JSON Schema cannot express (cross-key constraints).

Run by the Snakefile right after schema validation, before any job, so a bad
configuration fails with a message naming the key and never touches finished results.
Standard library only: it runs at parse time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass


class ConfigError(ValueError):
    """A configuration value that is valid alone but inconsistent with another key."""


@dataclass(frozen=True)
class Cost:
    """Estimated resources of one job (one grid point of one experiment).

    Attributes
    ----------
    memory_bytes : float
        Peak memory of the job's arrays (the largest arrays alive at once), in bytes.
    work : float
        Floating-point operations of the job, to an order of magnitude
        (e.g. ``trials × steps × n × d`` for a batched gradient loop).
    """

    memory_bytes: float
    work: float


#: ``COSTS[family][experiment](params) -> Cost`` for one grid point's parameters
#: (the experiment's section with its grid replaced by one combination).
COSTS: dict[str, dict[str, Callable[[Mapping], Cost]]] = {}


def _risk_problems(section: Mapping) -> list[str]:
    problems = []
    min_norm = section.get("min_norm")
    if min_norm:
        smallest_n = min(min_norm["grid"]["n_samples"])
        too_big = [b for b in min_norm.get("batch_sizes", []) if b > smallest_n]
        if too_big:
            problems.append(
                f"risk.min_norm.batch_sizes {too_big} exceed the smallest "
                f"risk.min_norm.grid.n_samples ({smallest_n}); a batch needs distinct rows"
            )
    early = section.get("early_stopping")
    if early and early.get("t_min", 0) >= early.get("t_max", float("inf")):
        problems.append(
            f"risk.early_stopping.t_min ({early['t_min']}) must be below "
            f"risk.early_stopping.t_max ({early['t_max']})"
        )
    return problems


def _dynamics_problems(section: Mapping) -> list[str]:
    """Cross-key constraints of the dynamics (F6) experiments, over every grid combination."""
    problems = []
    prefix = "dynamics.matrix_factorization"
    factorization = section.get("matrix_factorization")
    if factorization:
        s_min, s_max = factorization.get("s_min", 1.0), factorization.get("s_max", 10.0)
        if s_min >= s_max:
            problems.append(
                f"{prefix}.s_min ({s_min}) must be below {prefix}.s_max ({s_max}): the "
                "singular values of W* must be distinct"
            )
        too_big = [e for e in factorization.get("init_scales", [1e-2, 1e-4]) if e >= 0.1 * s_min]
        if too_big:
            problems.append(
                f"{prefix}.init_scales {too_big} must be below {prefix}.s_min/10 "
                f"({0.1 * s_min:g}): every singular value must start under 10% of its target"
            )
    prefix = "dynamics.linear_nets"
    nets = section.get("linear_nets")
    if nets:
        hidden, d = nets.get("hidden", 50), nets.get("n_features", 40)
        d_out, batch = nets.get("n_outputs", 3), nets.get("batch_size", 5)
        for n in nets["grid"]["n_samples"]:
            if not hidden >= d >= n >= d_out:
                problems.append(
                    f"{prefix}: need {prefix}.hidden ({hidden}) >= {prefix}.n_features ({d}) "
                    f">= {prefix}.grid.n_samples ({n}) >= {prefix}.n_outputs ({d_out}) "
                    "(N >= d >= n >= d', seed 003 Theorem 2)"
                )
            if batch > n:
                problems.append(
                    f"{prefix}.batch_size ({batch}) must be at most {prefix}.grid.n_samples ({n})"
                )
    prefix = "dynamics.lazy_training"
    lazy = section.get("lazy_training")
    if lazy:
        widths = list(lazy.get("widths", []))
        if any(b <= a for a, b in zip(widths, widths[1:], strict=False)):
            problems.append(f"{prefix}.widths {widths} must be strictly increasing")
        d = lazy.get("n_features", 8)
        for n in lazy["grid"]["n_samples"]:
            if widths and n > min(widths) * (d + 1):
                problems.append(
                    f"{prefix}.grid.n_samples ({n}) must be at most m·(d + 1) = "
                    f"{min(widths) * (d + 1)} for the smallest of {prefix}.widths and "
                    f"{prefix}.n_features ({d}), or the tangent kernel K₀ is singular"
                )
    return problems


def _factorization_cost(params: Mapping) -> Cost:
    """GD steps from the plateau time ``(N/(N−2))(ε/s_min)^{−(N−2)/N}`` (in units of the
    slowest rate) over the step ``c/(top rate)``; 4N products of r × r matrices a step."""
    d, dp = params["n_rows"], params["n_cols"]
    r = min(d, dp)
    ratio = params["s_max"] / params["s_min"]
    steps, rows = 0.0, 0.0
    checkpoints = 2 * params["n_checkpoints"] + 19 * r
    for depth in params["depths"]:
        for eps in params["init_scales"]:
            if depth == 1:
                plateau = 2.3
            elif depth == 2:
                plateau = math.log(params["s_min"] / eps) + 2.2
            else:
                plateau = depth / (depth - 2) * (eps / params["s_min"]) ** (-(depth - 2) / depth)
            for c in params["step_fractions"]:
                run = params["horizon"] * ratio ** (2 - 2 / depth) * plateau / c
                steps += run * 4 * depth * r**3
                rows += checkpoints
    trials = params["n_trials"]
    return Cost(memory_bytes=rows * trials * (r * 17 + d * dp) * 8, work=steps * trials)


def _linear_nets_cost(params: Mapping) -> Cost:
    trials, n, d = params["n_trials"], params["n_samples"], params["n_features"]
    hidden, d_out = params["hidden"], params["n_outputs"]
    weights = hidden * (d + d_out)
    checkpoints = params["n_checkpoints"] + 1
    steps = params["gd_steps"] + params["sgd_steps"]
    return Cost(
        memory_bytes=4 * checkpoints * trials * weights * 8 * 3,
        work=2 * trials * steps * hidden * (d * n + d_out * n) * 4,
    )


def _lazy_cost(params: Mapping) -> Cost:
    trials, n, d = params["n_trials"], params["n_samples"], params["n_features"]
    widest, total = max(params["widths"]), sum(params["widths"])
    points = n + params["n_test"]
    block = min(widest, 4096)  # implicit_reg.dynamics.network.NEURON_BLOCK
    return Cost(
        # Training activations of the widest network, its weights (initial, current,
        # gradient, final), and blocks of activations on train and held-out points.
        memory_bytes=trials * (2 * n * widest + 5 * widest * (d + 1) + 4 * points * block) * 8,
        work=trials * params["n_steps"] * total * n * (2 * d + 20),
    )


def _pl_cost(params: Mapping) -> Cost:
    trials, d = params["n_trials"], params["n_features"]
    largest, total = max(params["n_samples"]), sum(params["n_samples"])
    return Cost(
        memory_bytes=trials * (largest * d + (params["n_checkpoints"] + 1) * d) * 8 * 3,
        work=trials * params["n_steps"] * total * d * 2,
    )


COSTS["dynamics"] = {
    "matrix_factorization": _factorization_cost,
    "linear_nets": _linear_nets_cost,
    "lazy_training": _lazy_cost,
    "pl_rate": _pl_cost,
}

CHECKS = {"risk": _risk_problems, "dynamics": _dynamics_problems}


def config_problems(config: Mapping) -> list[str]:
    """Every cross-key problem of ``config`` (empty when consistent)."""
    problems = []
    for family, check in CHECKS.items():
        if family in config:
            problems += check(config[family])
    for family, section in config.items():
        if not isinstance(section, Mapping):
            continue
        for experiment, spec in section.items():
            grid = spec.get("grid", {}) if isinstance(spec, Mapping) else {}
            for axis, values in grid.items():
                if len(set(map(repr, values))) != len(values):
                    problems.append(f"{family}.{experiment}.grid.{axis} repeats a value: {values}")
    return problems


def check_config(config: Mapping) -> None:
    """Raise `ConfigError` listing every cross-key problem of ``config``."""
    problems = config_problems(config)
    if problems:
        raise ConfigError("invalid configuration:\n  - " + "\n  - ".join(problems))
