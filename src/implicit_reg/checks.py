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


def _combinations(spec: Mapping):
    """Every grid point of an experiment section: the section with one value per axis."""
    import itertools

    grid = dict(spec.get("grid", {}))
    fixed = {k: v for k, v in spec.items() if k != "grid"}
    for combo in itertools.product(*grid.values()):
        yield {**fixed, **dict(zip(grid, combo, strict=True))}


def _where(spec: Mapping, key: str, prefix: str) -> str:
    """Dotted path of ``key``: under ``grid`` when it is a grid axis of the section."""
    return f"{prefix}.grid.{key}" if key in spec.get("grid", {}) else f"{prefix}.{key}"


def _diagonal_problems(section: Mapping) -> list[str]:
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
      is the overparametrized setting), n ≥ r²·(ln d)² (Theorem 9.4's regime, which
      the claims test), eta < 1 (GD on the population loss is stable at β = β* iff
      |1 − 2η| < 1) and distinct α values (a slope in α needs two).
    """
    import math

    problems = []
    for name, spec in section.items():
        if not isinstance(spec, Mapping):
            continue
        prefix = f"diagonal.{name}"
        seen = set()
        for params in _combinations(spec):
            d, r = params.get("n_features"), params.get("sparsity")
            n = params.get("n_samples")

            def at(key, spec=spec, prefix=prefix):
                return _where(spec, key, prefix)

            found = []
            if d is not None and r is not None and r > d:
                found.append(
                    f"{at('sparsity')} ({r}) exceeds {at('n_features')} ({d}): "
                    "θ* has r nonzeros among d coordinates"
                )
            if name in ("crossover", "trajectories") and n is not None and d is not None:
                if n >= d:
                    found.append(
                        f"{at('n_samples')} ({n}) must be below {at('n_features')} ({d}): "
                        "the exact limit interpolates an underdetermined system"
                    )
            if name == "crossover" and params.get("alpha_min", 0) >= params.get(
                "alpha_max", math.inf
            ):
                found.append(
                    f"{prefix}.alpha_min ({params['alpha_min']}) must be below "
                    f"{prefix}.alpha_max ({params['alpha_max']})"
                )
            if name == "trajectories":
                fractions = list(params.get("step_fractions", []))
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
            if name == "sparse_recovery" and None not in (n, d, r):
                if not r <= n < d:
                    found.append(
                        f"{at('n_samples')} ({n}) must satisfy {at('sparsity')} ({r}) ≤ n "
                        f"< {at('n_features')} ({d})"
                    )
                regime = r**2 * math.log(d) ** 2
                if n < regime:
                    found.append(
                        f"{at('n_samples')} ({n}) is below r²·(ln d)² = {regime:.0f} "
                        f"({at('sparsity')} = {r}, {at('n_features')} = {d}): Theorem 9.4's "
                        "regime n ≳ r² log² d, which the claims test"
                    )
            if name == "sparse_recovery":
                if params.get("eta", 0) >= 1:
                    found.append(
                        f"{prefix}.eta ({params['eta']}) must be below 1 "
                        "(GD on the population loss is stable at β* iff |1 − 2η| < 1)"
                    )
                alphas = list(params.get("alphas", []))
                if len(set(alphas)) < len(alphas):
                    found.append(f"{prefix}.alphas {alphas} repeats a value")
            problems += [p for p in found if p not in seen]
            seen.update(found)
    return problems


def _crossover_cost(params: Mapping) -> Cost:
    """Newton dual: ~10 iterations × k × trials × (n²d Hessian + n³/3 Cholesky); LP."""
    t, n, d = params["n_trials"], params["n_samples"], params["n_features"]
    k = params["n_alphas"]
    memory = 8.0 * (t * n * d + 8 * t * k * d + 2 * t * n * n + t * n * d)
    work = 10.0 * k * t * (n * n * d + n**3 / 3) + t * n * n * d
    return Cost(memory, work)


def _trajectories_cost(params: Mapping) -> Cost:
    """GD on (u, v): all 2k runs for n_steps·max/min fraction steps, 4nd flops each."""
    t, n, d = params["n_trials"], params["n_samples"], params["n_features"]
    fractions = params["step_fractions"]
    m = len(params["alphas"]) * len(fractions)
    steps = params["n_steps"] * max(fractions) / min(fractions)
    checkpoints = params["n_checkpoints"] + 1
    memory = 8.0 * (t * n * d + (checkpoints + 8) * t * m * d)
    work = steps * t * m * 4.0 * n * d + 10.0 * len(params["alphas"]) * t * n * n * d
    return Cost(memory, work)


def _sparse_recovery_cost(params: Mapping) -> Cost:
    """GD on β⊙β: 2k runs (two label vectors × k scales), n_steps steps of 4nd flops."""
    t, n, d = params["n_trials"], params["n_samples"], params["n_features"]
    m = 2 * len(params["alphas"])
    checkpoints = params["n_checkpoints"] + 1
    memory = 8.0 * (t * n * d + (checkpoints + 10) * t * m * d)
    work = params["n_steps"] * t * m * 4.0 * n * d
    return Cost(memory, work)


COSTS["diagonal"] = {
    "crossover": _crossover_cost,
    "trajectories": _trajectories_cost,
    "sparse_recovery": _sparse_recovery_cost,
}

CHECKS = {"risk": _risk_problems, "diagonal": _diagonal_problems}


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
