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
    return Cost(memory_bytes=memory, work=train + grid + posterior + datadep)


CHECKS = {"risk": _risk_problems, "bounds": _bounds_problems}
COSTS["bounds"] = {"corruption": _bounds_cost, "postulates": _bounds_cost}


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
