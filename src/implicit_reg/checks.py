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


def _grid_values(spec: Mapping, key: str, default: list) -> list:
    """The values of grid axis ``key`` (every combination is a job)."""
    return list(spec.get("grid", {}).get(key, default))


def _margin_problems(section: Mapping) -> list[str]:
    """Cross-key constraints of the margin family (docs/science.md §F2).

    - ``soudry``: the rate claims fit the last two decades of t and the residual claim
      the last decade, so every dataset of the grid needs at least 3 log-spaced
      checkpoints per two decades: ``2·n_checkpoints/log10(n_steps[dataset]) ≥ 3``.
    - ``perceptron``: ``max_updates`` must allow the Block–Novikoff bound (R/γ)² of the
      smallest planted margin (R ≈ 2 for samples with E‖x‖² = 1), or runs stop before
      separating and the convergence claim fails for want of steps.
    - ``test_loss``: the label-free coordinates are coordinates 2 … 1 + nuisance_dims,
      so ``nuisance_dims ≤ dim − 1``.
    """
    problems = []
    soudry = section.get("soudry")
    if soudry:
        checkpoints = soudry.get("n_checkpoints", 40)
        for dataset in _grid_values(soudry, "dataset", ["soudry_2d", "random"]):
            steps = soudry.get("n_steps", {}).get(dataset)
            if steps and steps > 1 and 2 * checkpoints / math.log10(steps) < 3:
                problems.append(
                    f"margin.soudry.n_checkpoints ({checkpoints}) gives fewer than 3 "
                    f"checkpoints over the last two decades of margin.soudry.n_steps."
                    f"{dataset} ({steps}); use n_checkpoints >= "
                    f"{math.ceil(1.5 * math.log10(steps))}"
                )
    perceptron = section.get("perceptron")
    if perceptron:
        margins = perceptron.get("planted_margin", [0.05, 0.1, 0.2])
        smallest = min(margins) if margins else None
        cap = perceptron.get("max_updates", 100000)
        if smallest and cap < (2.0 / smallest) ** 2:
            problems.append(
                f"margin.perceptron.max_updates ({cap}) is below the Block–Novikoff bound "
                f"(R/γ)² ≈ {(2.0 / smallest) ** 2:.0f} (R = 2) of the smallest "
                f"margin.perceptron.planted_margin ({smallest}); use max_updates >= "
                f"{math.ceil((2.0 / smallest) ** 2)}"
            )
    test_loss = section.get("test_loss")
    if test_loss:
        dim, nuisance = test_loss.get("dim", 20), test_loss.get("nuisance_dims", 15)
        if nuisance > dim - 1:
            problems.append(
                f"margin.test_loss.nuisance_dims ({nuisance}) must be at most "
                f"margin.test_loss.dim − 1 ({dim - 1}): coordinate 1 carries the label"
            )
    return problems


def _soudry_cost(params: Mapping) -> Cost:
    """One ``soudry`` job: ``rows = 3·losses·trials`` descents of ``n_steps`` steps."""
    rows = 3 * len(params.get("losses", ["logistic", "exponential"])) * params["n_trials"]
    two_d = params["dataset"] == "soudry_2d"
    dim = 2 if two_d else params["dim"]
    n = (4 if two_d else dim) + 2 * params["n_extra"]
    steps = params["n_steps"][params["dataset"]]
    checkpoints = params["n_checkpoints"] + 1
    # Batch, −z and ηzᵀ copies; iterates and metrics at the checkpoints (~30 columns).
    memory = 8.0 * (3 * rows * n * dim + checkpoints * rows * (2 * dim + 30))
    return Cost(memory_bytes=memory, work=4.0 * rows * steps * n * dim)


def _perceptron_cost(params: Mapping) -> Cost:
    """One ``perceptron`` job: at most ``(2/γ)²`` updates per dataset and margin."""
    n, dim, datasets = params["n_samples"], params["dim"], params["n_datasets"]
    updates = sum(min(params["max_updates"], (2.0 / g) ** 2) for g in params["planted_margin"])
    return Cost(memory_bytes=8.0 * 3 * datasets * n * dim, work=2.0 * datasets * updates * n * dim)


def _test_loss_cost(params: Mapping) -> Cost:
    """One ``test_loss`` job: GD on the training sets, margins of the test sets at checkpoints."""
    trials, dim, checkpoints = params["n_trials"], params["dim"], params["n_checkpoints"] + 1
    test = trials * params["n_test"]
    return Cost(
        memory_bytes=8.0 * (test * dim + 3 * test),
        work=4.0 * trials * params["n_steps"] * params["n_train"] * dim
        + 2.0 * checkpoints * test * dim,
    )


COSTS["margin"] = {
    "soudry": _soudry_cost,
    "perceptron": _perceptron_cost,
    "test_loss": _test_loss_cost,
}

CHECKS = {"risk": _risk_problems, "margin": _margin_problems}


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
