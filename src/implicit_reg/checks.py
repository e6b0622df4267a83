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
    early = section.get("early_stopping")
    if early and early.get("t_min", 0) >= early.get("t_max", float("inf")):
        problems.append(
            f"risk.early_stopping.t_min ({early['t_min']}) must be below "
            f"risk.early_stopping.t_max ({early['t_max']})"
        )
    return problems


def _noise_problems(section: Mapping) -> list[str]:
    """Cross-key constraints of the noise family (SCIENCE.md §F5), every key by its path."""
    problems = []
    ou = section.get("ou") or {}
    scalar = ou.get("scalar") or {}
    if scalar and scalar["burn_in"] + scalar["max_lag"] > scalar["n_steps"]:
        problems.append(
            f"noise.ou.scalar.burn_in + noise.ou.scalar.max_lag ({scalar['burn_in']} + "
            f"{scalar['max_lag']}) must be ≤ noise.ou.scalar.n_steps ({scalar['n_steps']}): "
            "the stationary statistics need at least one block of max_lag steps"
        )
    quadratic = ou.get("quadratic") or {}
    if quadratic:
        low, high = quadratic["eig_min"], quadratic["eig_max"]
        if low >= high:
            problems.append(
                f"noise.ou.quadratic.eig_min ({low}) must be below noise.ou.quadratic.eig_max "
                f"({high})"
            )
        unstable = [eta for eta in quadratic["step_sizes"] if eta * high >= 2.0]
        if unstable:
            problems.append(
                f"noise.ou.quadratic.step_sizes {unstable} must be < 2/eig_max = {2.0 / high:g}: "
                "gradient descent itself diverges there (streaming SGD's smaller limit may be "
                "exceeded: those runs are recorded as diverged)"
            )
        if quadratic["burn_in"] + quadratic["thin"] > quadratic["n_steps"]:
            problems.append(
                f"noise.ou.quadratic.burn_in + noise.ou.quadratic.thin ({quadratic['burn_in']} + "
                f"{quadratic['thin']}) must be ≤ noise.ou.quadratic.n_steps "
                f"({quadratic['n_steps']}): no step left for the stationary covariance"
            )
    approximation = section.get("stochastic_approximation") or {}
    dropout = approximation.get("dropout") or {}
    if dropout and dropout["n_samples"] <= dropout["n_features"]:
        problems.append(
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
            problems.append(
                f"{path}.noise_scale² ({level:g}) must lie strictly between the smallest "
                f"|w*_i| ({smallest:g}) and {path}.w_star_max ({top:g}): some coordinates must "
                "fall below the soft-threshold level η² and some above"
            )
        steps = [("gd_step", factorization["gd_step"])]
        steps += [("imbalance_steps", a) for a in factorization["imbalance_steps"]]
        for key, step in steps:
            if step * top >= 1.0:
                problems.append(
                    f"{path}.{key} ({step:g}) must be < 1/{path}.w_star_max = {1.0 / top:g}: "
                    "GD's stability limit at the balanced minima (Hessian eigenvalue 2|w*_i|)"
                )
    label = section.get("label_noise") or {}
    if label and not label["sparsity"] < label["n_samples"] < label["n_features"]:
        problems.append(
            f"noise.label_noise needs sparsity < n_samples < n_features (got "
            f"{label['sparsity']}, {label['n_samples']}, {label['n_features']}): an "
            "underdetermined sparse regression with more samples than nonzeros"
        )
    return problems


def _noise_costs() -> dict[str, Callable[[Mapping], Cost]]:
    """Per-job cost estimates of the noise experiments (memory of the largest arrays)."""

    def ou(params: Mapping) -> Cost:
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
        )

    def approximation(params: Mapping) -> Cost:
        trials = params["n_trials"]
        dropout, factor = params["dropout"], params["factorization"]
        runs = trials * len(dropout["keep_probs"])
        steps = 2 * factor["gd_steps"] + factor["injection_steps"] + sum(
            factor["imbalance_time"] / a for a in factor["imbalance_steps"]
        )
        return Cost(
            memory_bytes=8.0 * (trials * dropout["n_samples"] * dropout["n_features"]
                                + 4 * dropout["n_checkpoints"] * runs * dropout["n_features"]),
            work=runs * dropout["n_steps"] * dropout["n_features"] ** 2
            + trials * factor["n_features"] * steps * 10,
        )

    def label_noise(params: Mapping) -> Cost:
        trials, n, d = params["n_trials"], params["n_samples"], params["n_features"]
        phases = params["phase_starts"]
        return Cost(
            memory_bytes=8.0 * (2 * trials * n * d + 64 * 4 * trials * d
                                + 2 * params["n_checkpoints"] * 2 * trials * d),
            work=2 * trials * d * params["n_steps"] * 8
            + trials * n * d * (params["gd_steps"] + phases * params["phase_steps"]) * 4,
        )

    return {"ou": ou, "stochastic_approximation": approximation, "label_noise": label_noise}


COSTS["noise"] = _noise_costs()

CHECKS = {"risk": _risk_problems, "noise": _noise_problems}


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
