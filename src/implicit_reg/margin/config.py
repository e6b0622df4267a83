"""Parse-time checks of the ``margin`` section: cross-key constraints and job costs.

Standard library only (the workflow imports it inside Snakemake); the section has its
schema defaults filled.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from implicit_reg.workflow.checks import Cost


def problems(section: Mapping) -> list[str]:
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
    found = []
    soudry = section.get("soudry")
    if soudry:
        checkpoints = soudry["n_checkpoints"]
        for dataset in soudry["grid"]["dataset"]:
            steps = soudry["n_steps"].get(dataset)
            if steps and steps > 1 and 2 * checkpoints / math.log10(steps) < 3:
                found.append(
                    f"margin.soudry.n_checkpoints ({checkpoints}) gives fewer than 3 "
                    f"checkpoints over the last two decades of margin.soudry.n_steps."
                    f"{dataset} ({steps}); use n_checkpoints >= "
                    f"{math.ceil(1.5 * math.log10(steps))}"
                )
    perceptron = section.get("perceptron")
    if perceptron:
        margins = perceptron["planted_margin"]
        smallest = min(margins) if margins else None
        cap = perceptron["max_updates"]
        if smallest and cap < (2.0 / smallest) ** 2:
            found.append(
                f"margin.perceptron.max_updates ({cap}) is below the Block–Novikoff bound "
                f"(R/γ)² ≈ {(2.0 / smallest) ** 2:.0f} (R = 2) of the smallest "
                f"margin.perceptron.planted_margin ({smallest}); use max_updates >= "
                f"{math.ceil((2.0 / smallest) ** 2)}"
            )
    test_loss = section.get("test_loss")
    if test_loss:
        dim, nuisance = test_loss["dim"], test_loss["nuisance_dims"]
        if nuisance > dim - 1:
            found.append(
                f"margin.test_loss.nuisance_dims ({nuisance}) must be at most "
                f"margin.test_loss.dim − 1 ({dim - 1}): coordinate 1 carries the label"
            )
    return found


def soudry_cost(params: Mapping) -> Cost:
    """One ``soudry`` job: ``rows = 3·losses·trials`` descents of ``n_steps`` steps."""
    rows = 3 * len(params["losses"]) * params["n_trials"]
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


def perceptron_cost(params: Mapping) -> Cost:
    """One ``perceptron`` job: at most ``(2/γ)²`` updates per dataset and margin."""
    n, dim, datasets = params["n_samples"], params["dim"], params["n_datasets"]
    updates = sum(min(params["max_updates"], (2.0 / g) ** 2) for g in params["planted_margin"])
    return Cost(
        memory_bytes=8.0 * 3 * datasets * n * dim,
        work=2.0 * datasets * updates * n * dim,
        drivers=("n_datasets", "n_samples", "dim", "max_updates"),
    )


def test_loss_cost(params: Mapping) -> Cost:
    """One ``test_loss`` job: GD on the training sets, margins of the test sets at checkpoints."""
    trials, dim, checkpoints = params["n_trials"], params["dim"], params["n_checkpoints"] + 1
    test = trials * params["n_test"]
    return Cost(
        memory_bytes=8.0 * (test * dim + 3 * test),
        work=4.0 * trials * params["n_steps"] * params["n_train"] * dim
        + 2.0 * checkpoints * test * dim,
        drivers=("n_trials", "n_steps", "n_train", "n_test", "dim"),
    )


COSTS = {
    "soudry": soudry_cost,
    "perceptron": perceptron_cost,
    "test_loss": test_loss_cost,
}

#: Slowest sustained rate of each experiment's jobs, floating-point operations per second
#: on one core (`COSTS` work / simulation seconds, default configuration, rounded down;
#: `benchmarks/bench_resources.py`): the simulate rules' runtime requests
#: (`implicit_reg.workflow.resources`).
THROUGHPUT = {
    "soudry": 3e7,
    "perceptron": 6e8,
    "test_loss": 1e9,
}
