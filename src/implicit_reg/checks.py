"""Checks of a configuration that JSON Schema cannot express (cross-key constraints).

Run by the Snakefile right after schema validation, before any job, so a bad
configuration fails with a message naming the key and never touches finished results.
Standard library only: it runs at parse time.
"""

from __future__ import annotations

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
    drivers : tuple of str
        The experiment's keys that the estimate grows with (named in the error).
    """

    memory_bytes: float
    work: float
    drivers: tuple[str, ...] = ()


#: ``COSTS[family][experiment](params) -> Cost`` for one grid point's parameters
#: (the experiment's section with its grid replaced by one combination).
COSTS: dict[str, dict[str, Callable[[Mapping], Cost]]] = {}


#: Top-level keys of a configuration that are not figure families.
SETTINGS = ("seed", "strict_claims", "limits")


def families(config: Mapping) -> list[str]:
    """Family sections of a configuration: the top-level mappings that are not settings."""
    return [k for k, v in config.items() if isinstance(v, Mapping) and k not in SETTINGS]


def _risk_problems(section: Mapping) -> list[str]:
    problems = []
    min_norm = section.get("min_norm")
    if min_norm:
        d = min_norm["n_features"]
        too_many = [n for n in min_norm["grid"]["n_samples"] if n >= d]
        if too_many:
            problems.append(
                f"risk.min_norm.grid.n_samples {too_many} must be below "
                f"risk.min_norm.n_features ({d}): the minimum-norm interpolant needs n < d"
            )
        smallest_n = min(min_norm["grid"]["n_samples"])
        too_big = [b for b in min_norm.get("batch_sizes", []) if b > smallest_n]
        if too_big:
            problems.append(
                f"risk.min_norm.batch_sizes {too_big} exceed the smallest "
                f"risk.min_norm.grid.n_samples ({smallest_n}); a batch needs distinct rows"
            )
    return problems


FLOAT = 8  # bytes


def _risk_min_norm_cost(p: Mapping) -> Cost:
    t, n, d = p["n_trials"], p["n_samples"], p["n_features"]
    checkpoints = p.get("n_checkpoints", 40) + 1
    runs = 2 * (1 + len(p.get("batch_sizes", [])))
    memory = FLOAT * t * (n * d + 3 * checkpoints * d + 1000 * n)
    work = 2 * t * n * d * (p["gd_steps"] + p["sgd_steps"] * len(p.get("batch_sizes", [])))
    return Cost(memory * 2, work + runs * t * min(n, d) ** 2 * max(n, d),
                ("n_trials", "n_features", "gd_steps", "sgd_steps"))


def _risk_double_descent_cost(p: Mapping) -> Cost:
    n, t = p["n_samples"], p["n_trials"]
    dims = [max(1, round(g * n)) for g in p["gamma"]]
    batch = 2**24  # floats per design batch (risk.experiments.DESIGN_BATCH_FLOATS)
    memory = FLOAT * (min(batch, t * n * max(dims)) * 3 + t * len(p["gamma"]) * 40)
    work = sum(t * (min(n, d) ** 2 * max(n, d) + 10 * min(n, d) ** 3) for d in dims)
    return Cost(memory, work * max(1, len(p.get("noise_stds", [1])) // 2),
                ("n_trials", "n_samples", "gamma"))


def _risk_early_stopping_cost(p: Mapping) -> Cost:
    d, t, m = p["n_features"], p["n_trials"], p["n_draws"]
    memory = work = 0.0
    for n in p["n_samples"]:
        # η = step_fraction/λ_max, λ_max ≤ (1 + √(d/n))²: the number of steps is t_max/η.
        steps = p["t_max"] * (1 + (d / n) ** 0.5) ** 2 / p["step_fraction"]
        work += 2 * t * d * d * m * steps
        memory = max(memory, FLOAT * t * (n * d + 3 * n * m + (p["n_checkpoints"] + 4) * d * m))
    return Cost(memory, work, ("n_trials", "n_draws", "n_features", "t_max", "step_fraction"))


CHECKS = {"risk": _risk_problems}
COSTS["risk"] = {
    "min_norm": _risk_min_norm_cost,
    "double_descent": _risk_double_descent_cost,
    "early_stopping": _risk_early_stopping_cost,
}


def config_problems(config: Mapping) -> list[str]:
    """Every cross-key problem of ``config`` (empty when consistent)."""
    problems = []
    for family, check in CHECKS.items():
        if family in config:
            problems += check(config[family])
    for family in families(config):
        for experiment, spec in config[family].items():
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
