"""Checks of a configuration that JSON Schema cannot express (cross-key constraints).

Run by the Snakefile right after schema validation, before any job, so a bad
configuration fails with a message naming the key and never touches finished results.
Standard library only: it runs at parse time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from implicit_reg.grid import grid_points


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
SETTINGS = ("seed", "strict_claims", "pdf_figures", "limits")


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
    return Cost(
        memory * 2,
        work + runs * t * min(n, d) ** 2 * max(n, d),
        ("n_trials", "n_features", "gd_steps", "sgd_steps"),
    )


def _risk_double_descent_cost(p: Mapping) -> Cost:
    n, t = p["n_samples"], p["n_trials"]
    dims = [max(1, round(g * n)) for g in p["gamma"]]
    batch = 2**24  # floats per design batch (risk.experiments.DESIGN_BATCH_FLOATS)
    memory = FLOAT * (min(batch, t * n * max(dims)) * 3 + t * len(p["gamma"]) * 40)
    work = sum(t * (min(n, d) ** 2 * max(n, d) + 10 * min(n, d) ** 3) for d in dims)
    # One decomposition per design serves every noise level.
    return Cost(memory, work, ("n_trials", "n_samples", "gamma"))


def _risk_early_stopping_cost(p: Mapping) -> Cost:
    d, t, m = p["n_features"], p["n_trials"], p["n_draws"]
    memory = work = 0.0
    for n in p["n_samples"]:
        # η = step_fraction/λ_max, λ_max ≤ (1 + √(d/n))²: the number of steps is t_max/η.
        steps = p["t_max"] * (1 + (d / n) ** 0.5) ** 2 / p["step_fraction"]
        work += 2 * t * d * d * m * steps
        memory = max(memory, FLOAT * t * (n * d + 3 * n * m + (p["n_checkpoints"] + 4) * d * m))
    return Cost(memory, work, ("n_trials", "n_draws", "n_features", "t_max", "step_fraction"))


COSTS["risk"] = {
    "min_norm": _risk_min_norm_cost,
    "double_descent": _risk_double_descent_cost,
    "early_stopping": _risk_early_stopping_cost,
}


def _combinations(spec: Mapping):
    """Every grid point's parameters (the section with one value per grid axis)."""
    return (params for _, params in grid_points(spec))


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
      is the overparametrized setting), n ≥ r²·(ln d)² (the regime of Li, Ma & Zhang 2018,
      Theorem 1.1, which the claims test), eta < 1 (GD on the population loss is stable
      at β = β* iff |1 − 2η| < 1) and distinct α values (a slope in α needs two).
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
                        f"({at('sparsity')} = {r}, {at('n_features')} = {d}): the regime "
                        "n ≳ r² log² d of Li, Ma & Zhang (2018), Theorem 1.1, which the "
                        "claims test"
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
    return Cost(memory, work, ("n_trials", "n_features", "n_alphas"))


def _trajectories_cost(params: Mapping) -> Cost:
    """GD on (u, v): all 2k runs for n_steps·max/min fraction steps, 4nd flops each."""
    t, n, d = params["n_trials"], params["n_samples"], params["n_features"]
    fractions = params["step_fractions"]
    m = len(params["alphas"]) * len(fractions)
    steps = params["n_steps"] * max(fractions) / min(fractions)
    checkpoints = params["n_checkpoints"] + 1
    memory = 8.0 * (t * n * d + (checkpoints + 8) * t * m * d)
    work = steps * t * m * 4.0 * n * d + 10.0 * len(params["alphas"]) * t * n * n * d
    return Cost(memory, work, ("n_trials", "n_features", "n_steps"))


def _sparse_recovery_cost(params: Mapping) -> Cost:
    """GD on β⊙β: 2k runs (two label vectors × k scales), n_steps steps of 4nd flops."""
    t, n, d = params["n_trials"], params["n_samples"], params["n_features"]
    m = 2 * len(params["alphas"])
    checkpoints = params["n_checkpoints"] + 1
    memory = 8.0 * (t * n * d + (checkpoints + 10) * t * m * d)
    work = params["n_steps"] * t * m * 4.0 * n * d
    return Cost(memory, work, ("n_trials", "n_features", "n_steps"))


COSTS["diagonal"] = {
    "crossover": _crossover_cost,
    "trajectories": _trajectories_cost,
    "sparse_recovery": _sparse_recovery_cost,
}


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
    return Cost(
        memory_bytes=memory,
        work=4.0 * rows * steps * n * dim,
        drivers=("n_trials", "dim", "n_extra"),
    )


def _perceptron_cost(params: Mapping) -> Cost:
    """One ``perceptron`` job: at most ``(2/γ)²`` updates per dataset and margin."""
    n, dim, datasets = params["n_samples"], params["dim"], params["n_datasets"]
    updates = sum(min(params["max_updates"], (2.0 / g) ** 2) for g in params["planted_margin"])
    return Cost(
        memory_bytes=8.0 * 3 * datasets * n * dim,
        work=2.0 * datasets * updates * n * dim,
        drivers=("n_datasets", "n_samples", "dim", "max_updates"),
    )


def _test_loss_cost(params: Mapping) -> Cost:
    """One ``test_loss`` job: GD on the training sets, margins of the test sets at checkpoints."""
    trials, dim, checkpoints = params["n_trials"], params["dim"], params["n_checkpoints"] + 1
    test = trials * params["n_test"]
    return Cost(
        memory_bytes=8.0 * (test * dim + 3 * test),
        work=4.0 * trials * params["n_steps"] * params["n_train"] * dim
        + 2.0 * checkpoints * test * dim,
        drivers=("n_trials", "n_steps", "n_train", "n_test", "dim"),
    )


COSTS["margin"] = {
    "soudry": _soudry_cost,
    "perceptron": _perceptron_cost,
    "test_loss": _test_loss_cost,
}


def _noise_problems(section: Mapping) -> list[str]:
    """Cross-key constraints of the noise family (docs/science.md §F5), every key by its path."""
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
            drivers=("n_trials", "scalar.n_chains", "quadratic.n_chains"),
        )

    def approximation(params: Mapping) -> Cost:
        trials = params["n_trials"]
        dropout, factor = params["dropout"], params["factorization"]
        runs = trials * len(dropout["keep_probs"])
        steps = (
            2 * factor["gd_steps"]
            + factor["injection_steps"]
            + sum(factor["imbalance_time"] / a for a in factor["imbalance_steps"])
        )
        return Cost(
            memory_bytes=8.0
            * (
                trials * dropout["n_samples"] * dropout["n_features"]
                + 4 * dropout["n_checkpoints"] * runs * dropout["n_features"]
            ),
            work=runs * dropout["n_steps"] * dropout["n_features"] ** 2
            + trials * factor["n_features"] * steps * 10,
            drivers=("n_trials", "dropout.n_steps", "factorization.injection_steps"),
        )

    def label_noise(params: Mapping) -> Cost:
        trials, n, d = params["n_trials"], params["n_samples"], params["n_features"]
        phases = params["phase_starts"]
        return Cost(
            memory_bytes=8.0
            * (
                2 * trials * n * d
                + 64 * 4 * trials * d
                + 2 * params["n_checkpoints"] * 2 * trials * d
            ),
            work=2 * trials * d * params["n_steps"] * 8
            + trials * n * d * (params["gd_steps"] + phases * params["phase_steps"]) * 4,
            drivers=("n_trials", "n_steps", "n_features", "gd_steps"),
        )

    return {"ou": ou, "stochastic_approximation": approximation, "label_noise": label_noise}


COSTS["noise"] = _noise_costs()


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
                    "(N >= d >= n >= d', docs/science.md §F6b)"
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
    return Cost(
        memory_bytes=rows * trials * (r * 17 + d * dp) * 8,
        work=steps * trials,
        drivers=("n_trials", "horizon", "n_rows"),
    )


def _linear_nets_cost(params: Mapping) -> Cost:
    trials, n, d = params["n_trials"], params["n_samples"], params["n_features"]
    hidden, d_out = params["hidden"], params["n_outputs"]
    weights = hidden * (d + d_out)
    checkpoints = params["n_checkpoints"] + 1
    steps = params["gd_steps"] + params["sgd_steps"]
    return Cost(
        memory_bytes=4 * checkpoints * trials * weights * 8 * 3,
        work=2 * trials * steps * hidden * (d * n + d_out * n) * 4,
        drivers=("n_trials", "gd_steps", "hidden", "n_features"),
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
        drivers=("n_trials", "n_steps", "n_samples"),
    )


def _pl_cost(params: Mapping) -> Cost:
    trials, d = params["n_trials"], params["n_features"]
    largest, total = max(params["n_samples"]), sum(params["n_samples"])
    return Cost(
        memory_bytes=trials * (largest * d + (params["n_checkpoints"] + 1) * d) * 8 * 3,
        work=trials * params["n_steps"] * total * d * 2,
        drivers=("n_trials", "n_steps", "n_features"),
    )


COSTS["dynamics"] = {
    "matrix_factorization": _factorization_cost,
    "linear_nets": _linear_nets_cost,
    "lazy_training": _lazy_cost,
    "pl_rate": _pl_cost,
}

#: Digits in scikit-learn's copy of the UCI 8×8 digits (the bounds family's data set).
DIGITS = 1797
DIGITS_MIN_TEST = 10
BOUNDS_VARIANTS = ("true_labels", "random_inputs", "half_random_inputs", "half_adversarial")


def _bounds_experiment_problems(name: str, spec: Mapping) -> list[str]:
    """Cross-key problems of one bounds experiment (``corruption`` or ``postulates``)."""
    at = f"bounds.{name}"
    problems = []
    m = spec.get("n_train", 0)
    if not 0 < m <= DIGITS - DIGITS_MIN_TEST:
        problems.append(
            f"{at}.n_train ({m}) must be in [1, {DIGITS - DIGITS_MIN_TEST}]: the rest of the "
            f"{DIGITS} digits is the test set, which needs at least {DIGITS_MIN_TEST} images"
        )
    batch = spec.get("batch_size", 0)
    if batch > m:
        problems.append(
            f"{at}.batch_size ({batch}) must be at most {at}.n_train ({m}) (0 or n_train: "
            f"full-batch GD)"
        )
    if spec.get("n_trials", 2) < 2:
        problems.append(
            f"{at}.n_trials ({spec['n_trials']}) must be at least 2: the claims' confidence "
            f"limits need a spread over trials"
        )
    sigmas = list(spec.get("sigmas", []))
    if any(b <= a for a, b in zip(sigmas, sigmas[1:], strict=False)):
        problems.append(f"{at}.sigmas {sigmas} must be strictly increasing (a grid, union bound)")
    margins = list(spec.get("margins", []))
    if len(set(margins)) != len(margins):
        problems.append(f"{at}.margins {margins} repeat a value (union bound over distinct values)")
    post = spec.get("posterior", {})
    lo, hi = post.get("prior_sigma_min", 0.0), post.get("prior_sigma_max", 1.0)
    if not lo < hi:
        problems.append(
            f"{at}.posterior.prior_sigma_min ({lo}) must be below "
            f"{at}.posterior.prior_sigma_max ({hi})"
        )
    fraction = post.get("datadep_fraction", 0.0)
    if not 0.0 <= fraction < 1.0:
        problems.append(f"{at}.posterior.datadep_fraction ({fraction}) must be in [0, 1)")
    elif fraction > 0:
        m_prior = round(fraction * m)
        m_bound = m - m_prior
        if m_prior < 1 or m_bound < 2:
            problems.append(
                f"{at}.posterior.datadep_fraction ({fraction}) of {at}.n_train ({m}) leaves "
                f"{m_prior} prior and {m_bound} bound examples; need at least 1 and 2"
            )
        elif post.get("datadep_steps", 0) > 0 and post.get("batch_size", 1) > m_bound:
            problems.append(
                f"{at}.posterior.batch_size ({post['batch_size']}) must be at most the "
                f"{m_bound} examples of S_bound (n_train · (1 − datadep_fraction))"
            )
    if post.get("steps", 0) > 0 and post.get("batch_size", 1) > m:
        problems.append(
            f"{at}.posterior.batch_size ({post['batch_size']}) must be at most {at}.n_train ({m})"
        )
    return problems


def _bounds_problems(section: Mapping) -> list[str]:
    """Cross-key problems of the bounds family (every grid point of every experiment)."""
    problems = []
    corruption = section.get("corruption")
    if corruption:
        problems += _bounds_experiment_problems("corruption", corruption)
        levels = [float(p) for p in corruption.get("grid", {}).get("p", [])]
        if 0.0 not in levels or 1.0 not in levels:
            problems.append(
                f"bounds.corruption.grid.p {levels} must include 0 and 1: the claims compare "
                f"true labels (p = 0) with random labels (p = 1)"
            )
    postulates = section.get("postulates")
    if postulates:
        problems += _bounds_experiment_problems("postulates", postulates)
        missing = [v for v in BOUNDS_VARIANTS if v not in postulates.get("variants", [])]
        if missing:
            problems.append(
                f"bounds.postulates.variants lacks {missing}: the postulates' claims need all "
                f"of {list(BOUNDS_VARIANTS)}"
            )
    return problems


def _bounds_cost(params: Mapping) -> Cost:
    """One bounds job: training, the σ grid, the optimized and data-dependent posteriors.

    Memory: the training inputs (T, m, 64), the posterior's flat buffers (about eight
    arrays of T × 2r float32, r = 64h + 10h parameters), its per-step (T, b, h) arrays and
    one (n, h) Monte Carlo buffer. Work (multiply-adds): SGD ``6·T·E·m·64h`` over at most
    E = n_epochs epochs plus one evaluation per epoch, the σ grid
    ``K·S·T·1797·(64h + 10h)``, the posterior ``steps·T·b·4·64h`` (four 64 × h products per
    example), the data-dependent prior's training and posterior alike.
    """
    n_trials = params["n_trials"] * len(params.get("variants", [None]))
    m, h, d, k = params["n_train"], params["width"], 64, 10
    r = d * h + k * h
    post = params["posterior"]
    b = post.get("batch_size", 100)
    memory = 4.0 * n_trials * (m * d + 16 * r + 12 * b * h) + 4.0 * DIGITS * h * 2
    train = 8.0 * n_trials * params["n_epochs"] * m * d * h
    grid = len(params["sigmas"]) * params["mc_samples"] * n_trials * DIGITS * r
    steps = post.get("steps", 0) + post.get("datadep_steps", 0)
    posterior = steps * n_trials * b * 4 * d * h
    datadep = train / 2 if post.get("datadep_fraction", 0) > 0 else 0.0
    return Cost(
        memory_bytes=memory,
        work=train + grid + posterior + datadep,
        drivers=("n_trials", "n_train", "width", "n_epochs"),
    )


COSTS["bounds"] = {"corruption": _bounds_cost, "postulates": _bounds_cost}

CHECKS = {
    "risk": _risk_problems,
    "margin": _margin_problems,
    "diagonal": _diagonal_problems,
    "bounds": _bounds_problems,
    "noise": _noise_problems,
    "dynamics": _dynamics_problems,
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
