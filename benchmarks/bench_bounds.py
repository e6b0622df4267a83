"""Speed figures of the bounds family.

Prints, for the default configuration's sizes: (1) the time to train the networks of one
grid point (all trials batched) at p = 0 and p = 1, per trained network; (2) the time of
each bound computation (compression, norms, PAC-Bayes σ grid, optimized posterior, the
data-dependent prior bound with its value); (3) the wall time of the smoke and default
``bounds`` sections of ``config/`` through ``run_family`` (sequential, one process: the
workflow runs the grid points in parallel), and the bound values at every p.

Run: ``.venv/bin/python benchmarks/bench_bounds.py``.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

import implicit_reg.bounds as family
from implicit_reg.bounds import compression, data, experiments, pacbayes
from implicit_reg.experiment import run_family
from implicit_reg.seeding import generator

CONFIG = Path(__file__).resolve().parents[1] / "config"


def section(name: str) -> dict:
    return yaml.safe_load((CONFIG / name).read_text())["bounds"]


def time_point(params: dict, p: float) -> None:
    """Training and per-bound timings of one corruption grid point."""
    rng = generator(0, "bench", p)
    params = {**params, "p": p}

    def make_set(digits, n_trials, center, rng):
        return data.corrupted_training_set(digits, p, n_trials, center, rng)

    start = time.perf_counter()
    digits, x, y, init, result = experiments.train_networks(params, rng, make_set)
    train = time.perf_counter() - start
    n = params["n_trials"]
    print(
        f"p = {p:g}: training {train:.2f} s for {n} networks ({train / n:.2f} s per network, "
        f"epochs {result.epochs_trained.tolist()})"
    )
    start = time.perf_counter()
    compression.truncation_distances([result.w1, result.w2], params["bits"])
    print(f"  compression (all ranks): {time.perf_counter() - start:.2f} s")
    x_test = data.features(digits.x_test, params["center"])
    start = time.perf_counter()
    grid = pacbayes.sigma_grid_bounds(
        (result.w1, result.w2),
        init,
        x,
        y,
        x_test,
        digits.y_test,
        sigmas=params["sigmas"],
        n_samples=params["mc_samples"],
        delta=params["delta"],
        delta_mc=params["delta_mc"],
        rng=rng,
    )
    print(f"  PAC-Bayes σ grid ({len(params['sigmas'])} σ): {time.perf_counter() - start:.2f} s")
    post = params["posterior"]
    start = time.perf_counter()
    experiments.optimize_posterior(
        params, (result.w1, result.w2), init, grid["kl"].sigma, x, y, x_test, digits.y_test, rng
    )
    print(
        f"  optimized posterior ({post['steps']} Adam steps): {time.perf_counter() - start:.2f} s"
    )
    start = time.perf_counter()
    dd = experiments.datadep_bound(params, init, x, y, x_test, digits.y_test, rng)
    print(
        f"  data-dependent prior bound (fraction {post['datadep_fraction']}, "
        f"{post['datadep_steps']} Adam steps): {time.perf_counter() - start:.2f} s; "
        f"bound {dd.bound.bound}, KL {dd.bound.kl}, Gibbs error on S_bound "
        f"{dd.bound.train_gibbs}, test {dd.bound.test_gibbs}, prior network test error "
        f"{dd.prior_test_error}"
    )
    start = time.perf_counter()
    experiments.compute_bounds(params, digits, x, y, init, result, rng, clean=False)
    print(f"  all bounds of the point: {time.perf_counter() - start:.2f} s")


def run(name: str) -> dict:
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
        tables = run_family("bounds", family, section(name), seed=0)
    print(f"{name}: run_family {time.perf_counter() - start:.1f} s")
    failed = [c.claim_id for c in family.claims(tables) if not c.passed]
    print(f"  claims failed: {failed or 'none'}")
    return tables


def main() -> None:
    params = section("config.yaml")["corruption"]
    for p in (0.0, 1.0):
        time_point(params, p)
    run("smoke.yaml")
    tables = run("config.yaml")
    final = tables["corruption"][tables["corruption"]["section"] == "final"]
    columns = [f"{b}_bound" for b in experiments.BOUNDS] + ["spectral_measure", "test_error"]
    print("default section, bound means over trials:")
    print(final.groupby("p")[columns].mean().to_string(float_format=lambda v: f"{v:.4g}"))
    columns = [f"pacbayes_datadep_{c}" for c in ("bound", "test_loss", "train_loss", "kl", "sigma")]
    print("data-dependent prior bound, every trial:")
    print(final[["p", "trial", *columns]].to_string(float_format=lambda v: f"{v:.4g}"))


if __name__ == "__main__":
    np.set_printoptions(precision=4)
    main()
