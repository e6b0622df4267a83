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
    return problems


CHECKS = {"risk": _risk_problems}


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
