"""Parse-time checks of the ``bounds`` section: cross-key constraints and job costs.

Standard library only (the workflow imports it inside Snakemake); the section has its
schema defaults filled.
"""

from __future__ import annotations

from collections.abc import Mapping

from implicit_reg.bounds import N_IMAGES, VARIANTS
from implicit_reg.workflow.checks import Cost

#: Fewest test images: the digits not in the training set are the test set.
MIN_TEST_IMAGES = 10


def experiment_problems(name: str, spec: Mapping) -> list[str]:
    """Cross-key problems of one bounds experiment (``corruption`` or ``postulates``)."""
    at = f"bounds.{name}"
    found = []
    m = spec["n_train"]
    if not 0 < m <= N_IMAGES - MIN_TEST_IMAGES:
        found.append(
            f"{at}.n_train ({m}) must be in [1, {N_IMAGES - MIN_TEST_IMAGES}]: the rest of the "
            f"{N_IMAGES} digits is the test set, which needs at least {MIN_TEST_IMAGES} images"
        )
    batch = spec["batch_size"]
    if batch > m:
        found.append(
            f"{at}.batch_size ({batch}) must be at most {at}.n_train ({m}) (0 or n_train: "
            f"full-batch GD)"
        )
    if spec["n_trials"] < 2:
        found.append(
            f"{at}.n_trials ({spec['n_trials']}) must be at least 2: the claims' confidence "
            f"limits need a spread over trials"
        )
    sigmas = list(spec["sigmas"])
    if any(b <= a for a, b in zip(sigmas, sigmas[1:], strict=False)):
        found.append(f"{at}.sigmas {sigmas} must be strictly increasing (a grid, union bound)")
    margins = list(spec["margins"])
    if len(set(margins)) != len(margins):
        found.append(f"{at}.margins {margins} repeat a value (union bound over distinct values)")
    post = spec["posterior"]
    lo, hi = post["prior_sigma_min"], post["prior_sigma_max"]
    if not lo < hi:
        found.append(
            f"{at}.posterior.prior_sigma_min ({lo}) must be below "
            f"{at}.posterior.prior_sigma_max ({hi})"
        )
    fraction = post["datadep_fraction"]
    if not 0.0 <= fraction < 1.0:
        found.append(f"{at}.posterior.datadep_fraction ({fraction}) must be in [0, 1)")
    elif fraction > 0:
        m_prior = round(fraction * m)
        m_bound = m - m_prior
        if m_prior < 1 or m_bound < 2:
            found.append(
                f"{at}.posterior.datadep_fraction ({fraction}) of {at}.n_train ({m}) leaves "
                f"{m_prior} prior and {m_bound} bound examples; need at least 1 and 2"
            )
        elif post["datadep_steps"] > 0 and post["batch_size"] > m_bound:
            found.append(
                f"{at}.posterior.batch_size ({post['batch_size']}) must be at most the "
                f"{m_bound} examples of S_bound (n_train · (1 − datadep_fraction))"
            )
    if post["steps"] > 0 and post["batch_size"] > m:
        found.append(
            f"{at}.posterior.batch_size ({post['batch_size']}) must be at most {at}.n_train ({m})"
        )
    return found


def problems(section: Mapping) -> list[str]:
    """Cross-key problems of the bounds family (every grid point of every experiment)."""
    found = []
    corruption = section.get("corruption")
    if corruption:
        found += experiment_problems("corruption", corruption)
        levels = [float(p) for p in corruption["grid"]["p"]]
        if 0.0 not in levels or 1.0 not in levels:
            found.append(
                f"bounds.corruption.grid.p {levels} must include 0 and 1: the claims compare "
                f"true labels (p = 0) with random labels (p = 1)"
            )
    postulates = section.get("postulates")
    if postulates:
        found += experiment_problems("postulates", postulates)
        missing = [v for v in VARIANTS if v not in postulates["variants"]]
        if missing:
            found.append(
                f"bounds.postulates.variants lacks {missing}: the postulates' claims need all "
                f"of {list(VARIANTS)}"
            )
    return found


def training_cost(params: Mapping) -> Cost:
    """One bounds job: training, the σ grid, the optimized and data-dependent posteriors.

    Memory: the training inputs (T, m, 64), the posterior's flat buffers (about eight
    arrays of T × 2r float32, r = 64h + 10h parameters), its per-step (T, b, h) arrays and
    one (n, h) Monte Carlo buffer. Work (multiply-adds): SGD ``6·T·E·m·64h`` over at most
    E = n_epochs epochs plus one evaluation per epoch, the σ grid
    ``K·S·T·1797·(64h + 10h)``, the posterior ``steps·T·b·4·64h`` (four 64 × h products per
    example), the data-dependent prior's training and posterior alike.
    """
    # Corruption runs one training set per job, postulates one per variant.
    n_trials = params["n_trials"] * len(params.get("variants", [None]))
    m, h, d, k = params["n_train"], params["width"], 64, 10
    r = d * h + k * h
    post = params["posterior"]
    b = post["batch_size"]
    memory = 4.0 * n_trials * (m * d + 16 * r + 12 * b * h) + 4.0 * N_IMAGES * h * 2
    train = 8.0 * n_trials * params["n_epochs"] * m * d * h
    grid = len(params["sigmas"]) * params["mc_samples"] * n_trials * N_IMAGES * r
    steps = post["steps"] + post["datadep_steps"]
    posterior = steps * n_trials * b * 4 * d * h
    datadep = train / 2 if post["datadep_fraction"] > 0 else 0.0
    return Cost(
        memory_bytes=memory,
        work=train + grid + posterior + datadep,
        drivers=("n_trials", "n_train", "width", "n_epochs"),
    )


COSTS = {"corruption": training_cost, "postulates": training_cost}

#: Slowest sustained rate of each experiment's jobs, floating-point operations per second
#: on one core (`COSTS` work / simulation seconds, default configuration, rounded down;
#: `benchmarks/bench_resources.py`): the simulate rules' runtime requests
#: (`implicit_reg.workflow.resources`).
THROUGHPUT = {
    "corruption": 1e10,
    "postulates": 4e10,
}
