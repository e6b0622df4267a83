"""Speed of the margin family's descent loop against a plain numpy loop.

Prints, measured in this run (median of interleaved repeats, so that machine noise hits
both sides alike):

1. per row-step time of `descent_path` on one row (constant-step logistic GD) against a
   plain single-run numpy loop ``w += η Zᵀσ(−Zw)`` on the same data, and the ratio
   (goal: ≥ 1, the batched loop costs nothing on a single row);
2. per row-step time of one ``soudry`` job's whole batch (trials × {GD, heavy ball,
   normalized GD} × losses, the default configuration's layout) against the same plain
   loop, and the ratio (goal: ≥ 3);
3. the time of the smoke and default ``margin`` sections through ``run_family``, per
   experiment (sequential, one process: the workflow runs the grid points in parallel).

Run: ``.venv/bin/python benchmarks/bench_margin.py``.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np
from scipy.special import expit

import implicit_reg.margin as margin
from implicit_reg.experiment import run_family
from implicit_reg.margin.algorithms import descent_path, smoothness
from implicit_reg.margin.experiments import soudry_data, soudry_rows
from implicit_reg.workflow.configcheck import load_config

ROOT = Path(__file__).resolve().parents[1]
STEPS = 20_000
REPEATS = 3


def plain_logistic_gd(z: np.ndarray, eta: float, n_steps: int) -> np.ndarray:
    """The textbook loop: one dataset, ``w ← w + η Zᵀσ(−Zw)``."""
    w = np.zeros(z.shape[1])
    for _ in range(n_steps):
        w += eta * (z.T @ expit(-(z @ w)))
    return w


def seconds(fn, *args) -> float:
    """Wall time of ``fn(*args)``."""
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def section(name: str) -> dict:
    return load_config(ROOT / "config" / f"{name}.yaml")["margin"]


def job_batch(params: dict, dataset: str):
    """The batch of one ``soudry`` job of the default configuration."""
    params = {**params, "dataset": dataset}
    z, _, _ = soudry_data(params, np.random.default_rng(0))
    rows = soudry_rows(params["losses"], params["n_trials"])
    trial = rows["trial"].to_numpy()
    constant = (rows["algorithm"] != "normalized").to_numpy()
    mu = np.where(rows["algorithm"] == "momentum", params["momentum"], 0.0)
    pairs = zip(rows["loss"], trial, strict=True)
    eta_gd = np.array([1.0 / smoothness(z[k : k + 1], loss)[0] for loss, k in pairs])
    eta_norm = 1.0 / np.max(np.sum(z**2, axis=2), axis=1)[trial]
    eta = np.where(constant, (1.0 - mu) * eta_gd, eta_norm)
    return z, z[trial], rows["loss"].to_numpy(dtype=str), eta, mu, ~constant


def main() -> None:
    params = section("config")["soudry"]
    checkpoints = np.unique(np.geomspace(1, STEPS, 40).astype(int))
    checkpoints = np.concatenate([[0], checkpoints])
    print(f"descent loop, {STEPS} steps, median of {REPEATS} interleaved repeats")
    print(f"{'case':52s} {'rows':>4s} {'µs/row-step':>12s} {'plain µs/step':>14s} {'ratio':>6s}")
    for dataset in ("soudry_2d", "random"):
        z, batch, losses, eta, mu, normalized = job_batch(params, dataset)
        one = z[:1]
        eta_one = 4.0 / smoothness(one, "logistic")
        cases = {
            "one row (logistic GD)": (one, "logistic", eta_one, [0.0], [False]),
            "job batch (trials x algorithms x losses)": (batch, losses, eta, mu, normalized),
        }
        for label, (zb, loss, e, m, n) in cases.items():
            batched, plain = [], []
            for _ in range(REPEATS):
                batched.append(seconds(descent_path, zb, loss, e, m, n, checkpoints))
                plain.append(seconds(plain_logistic_gd, one[0], float(eta_one[0]), STEPS))
            per_row = statistics.median(batched) / (STEPS * len(zb))
            per_plain = statistics.median(plain) / STEPS
            print(
                f"{dataset + ': ' + label:52s} {len(zb):4d} {1e6 * per_row:12.3f} "
                f"{1e6 * per_plain:14.3f} {per_plain / per_row:6.2f}"
            )
    for name in ("smoke", "config"):
        spec = section(name)
        for experiment in spec:
            elapsed = seconds(run_family, "margin", margin, {experiment: spec[experiment]}, 0)
            print(f"{name:6s} margin.{experiment:10s} run_family {elapsed:6.2f} s")
        elapsed = seconds(run_family, "margin", margin, spec, 0)
        print(f"{name:6s} margin (whole section) run_family {elapsed:6.2f} s")


if __name__ == "__main__":
    main()
