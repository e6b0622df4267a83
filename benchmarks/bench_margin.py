"""Speed figures of the margin family.

Prints (1) the steps per second of the batched descent loop (all trials and the three
algorithms in one array, one Python iteration per step for the whole batch), for the
batch shapes of the default configuration, and the implied time of a 1e6-step run;
(2) the wall time of the smoke and default ``margin`` sections through ``run_family``
(sequential, one process: the workflow runs the grid points in parallel).

Run: ``.venv/bin/python benchmarks/bench_margin.py``.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import yaml

import implicit_reg.margin as margin
from implicit_reg.experiment import run_family
from implicit_reg.margin.algorithms import descent_path, smoothness
from implicit_reg.margin.data import planted_separable, soudry_2d
from implicit_reg.schedule import log_checkpoints

PARTS = Path(__file__).resolve().parents[1] / ".parts" / "margin"


def steps_per_second(z: np.ndarray, loss: str, n_steps: int) -> float:
    """Steps/s of `descent_path` on the batch GD + momentum + normalized GD over ``z``."""
    trials = len(z)
    batch = np.concatenate([z, z, z])
    eta = np.concatenate([1 / smoothness(z, loss)] * 3)
    momentum = np.repeat([0.0, 0.9, 0.0], trials)
    normalized = np.repeat([False, False, True], trials)
    start = time.perf_counter()
    descent_path(batch, loss, eta, momentum, normalized, log_checkpoints(n_steps, 40))
    return n_steps / (time.perf_counter() - start)


def main() -> None:
    rng = np.random.default_rng(0)
    cases = {
        "soudry_2d (4 trials x 3 algorithms, n=16, d=2)": soudry_2d(rng, 4, 6, 1.5),
        "random (4 trials x 3 algorithms, n=10, d=50)": planted_separable(rng, 4, 10, 50, 0.25)[0],
        "random (32 trials x 3 algorithms, n=100, d=50)": planted_separable(rng, 32, 100, 50, 0.25)[
            0
        ],
    }
    print("batched descent loop (one Python iteration per step for the whole batch)")
    for name, z in cases.items():
        for loss in ("logistic", "exponential"):
            rate = steps_per_second(z, loss, 20_000)
            print(
                f"  {name:48s} {loss:11s} {rate:9.0f} steps/s  "
                f"{rate * 3 * len(z):10.0f} trial-steps/s  1e6 steps: {1e6 / rate:6.1f} s"
            )
    for name in ("smoke", "config"):
        with open(PARTS / f"{name}.yaml") as f:
            section = yaml.safe_load(f)["margin"]
        for experiment in section:
            start = time.perf_counter()
            run_family("margin", margin, {experiment: section[experiment]}, seed=0)
            print(
                f"{name:6s} margin.{experiment:10s} run_family {time.perf_counter() - start:6.1f} s"
            )
        start = time.perf_counter()
        run_family("margin", margin, section, seed=0)
        print(f"{name:6s} margin (whole section) run_family {time.perf_counter() - start:6.1f} s")


if __name__ == "__main__":
    main()
