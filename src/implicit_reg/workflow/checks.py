"""Checks of a configuration that JSON Schema cannot express: the shared part.

Each family's own checks live in its package, ``implicit_reg.<family>.config``:
``problems(section) -> list[str]`` (cross-key constraints of its section, one line per
problem naming the dotted key) and ``COSTS`` (``experiment -> (params) -> Cost``, one
estimate per grid point). This module runs them for every family of a configuration,
adds the checks every family shares (no repeated grid value), and defines `Cost`.

Run by the Snakefile right after schema validation and the filling of the schema's
defaults, before any job, so a bad configuration fails with a message naming the key
and never touches finished results. Standard library only: it runs at parse time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from implicit_reg.families import FAMILIES, configured, family_module
from implicit_reg.grid import grid_points

#: Bytes of one float64.
FLOAT = 8


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


#: ``estimate(params) -> Cost`` for one grid point's parameters (the experiment's
#: section with its grid replaced by one combination).
Estimate = Callable[[Mapping], Cost]


def cost_estimate(family: str, experiment: str) -> Estimate:
    """The cost estimate of one experiment.

    Raises
    ------
    ConfigError
        The family's ``COSTS`` has no entry for the experiment: every experiment the
        schema allows must say what its jobs cost before they run.
    """
    costs = family_module(family, "config").COSTS
    if experiment not in costs:
        raise ConfigError(
            f"{family}.{experiment}: no cost estimate (implicit_reg.{family}.config.COSTS "
            "needs an entry for every experiment)"
        )
    return costs[experiment]


def grid_points_params(spec: Mapping):
    """Every grid point's parameters (the section with one value per grid axis)."""
    return (params for _, params in grid_points(spec))


#: Relative distance below which two numbers of one list count as the same value.
NEAR_DUPLICATE = 1e-6


def _near(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return abs(a - b) <= NEAR_DUPLICATE * max(abs(a), abs(b)) or a == b
    return repr(a) == repr(b)


def _first_repeat(values: list):
    for i, a in enumerate(values):
        for b in values[i + 1 :]:
            if _near(a, b):
                return a, b
    return None


def _lists(node: Mapping, path: str):
    for key, value in node.items():
        if isinstance(value, Mapping):
            yield from _lists(value, f"{path}.{key}")
        elif isinstance(value, list) and len(value) < 10_000:
            yield f"{path}.{key}", value


def repeated_grid_values(family: str, section: Mapping) -> list[str]:
    """One line per list of the section (a grid axis: a job twice; any other list: a
    value twice in one job's summary) holding two equal or nearly equal values
    (relative distance ≤ `NEAR_DUPLICATE`, e.g. ``20`` and ``20.0``), naming family,
    experiment, key and the two values."""
    problems = []
    for experiment, spec in section.items():
        for key, values in _lists(spec, f"{family}.{experiment}"):
            pair = _first_repeat(values)
            if pair:
                problems.append(
                    f"{key} repeats a value: {pair[0]!r} and {pair[1]!r} are the same "
                    f"within {NEAR_DUPLICATE:g} (every value of the list must be distinct)"
                )
    return problems


def config_problems(config: Mapping) -> list[str]:
    """Every cross-key problem of ``config`` (empty when consistent), whose schema
    defaults are filled."""
    problems = []
    for family in (family for family in FAMILIES if family in config):
        problems += family_module(family, "config").problems(config[family])
    for family in configured(config):
        problems += repeated_grid_values(family, config[family])
    return problems
