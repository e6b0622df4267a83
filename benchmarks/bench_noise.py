"""Speed figures of the noise (F5) family.

Prints
1. the throughput of each batched loop (steps per second, and chain- or run-steps per
   second): the 1-D OU chains, the quadratic chains (three noise shapes), dropout SGD,
   GD on the factorization, noise injection, batch-1 (label-noise) SGD on u⊙u − v⊙v and
   the full-batch GD phase;
2. the wall time of every experiment of the smoke and default ``noise`` sections, in this
   process (`run_experiment`: the simulation a workflow job runs);
3. with ``--workflow``, the job time of the noise family's rules when the workflow runs
   the smoke and the default configuration restricted to ``noise`` on ``--cores`` cores
   (simulate, summary and the report), from Snakemake's benchmark files.

Timings on a shared machine vary from run to run: compare numbers of one run.

    python benchmarks/bench_noise.py [--workflow] [--cores 2]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import yaml  # noqa: E402

from implicit_reg.experiment import run_experiment  # noqa: E402
from implicit_reg.noise import approximation, exact, label_noise, ou  # noqa: E402
from implicit_reg.noise.experiments import EXPERIMENTS as NOISE_EXPERIMENTS
from implicit_reg.problems import random_rotation, sparse_regression  # noqa: E402
from implicit_reg.workflow.configcheck import load_config  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))


def timed(function, *args, **kwargs) -> float:
    start = time.perf_counter()
    function(*args, **kwargs)
    return time.perf_counter() - start


def bench_loops() -> None:
    """Steps per second of each batched loop at the default configuration's sizes."""
    rng = np.random.default_rng(0)
    steps = 500
    eta_a = np.array([0.01, 0.1, 0.5, 1.0, 1.5, 1.9])
    seconds = timed(
        ou.scalar_chains, eta_a, 1.0, 1.0, 1.0, 8, 6000, np.array([0, steps]), 0, 20, rng
    )
    chains = eta_a.size * 8 * 6000
    print(
        f"1-D OU chains (6 ηa × 48,000 chains): {steps / seconds:,.0f} steps/s "
        f"({chains * steps / seconds:.2e} chain-steps/s)"
    )

    d = 10
    h = np.geomspace(0.01, 1.0, d)
    rotation = random_rotation(rng, d)
    H, root = exact.curvature_matrix(h, rotation), exact.curvature_matrix(np.sqrt(h), rotation)
    shapes = ["isotropic", "curvature", "streaming"] * 2
    etas = np.repeat([0.25, 0.8], 3)
    seconds = timed(
        ou.quadratic_chains,
        H,
        root,
        shapes,
        etas,
        1.0,
        np.zeros(d),
        8,
        500,
        np.array([0, steps]),
        0,
        5,
        rng,
    )
    print(
        f"quadratic chains (6 configurations × 4,000 chains, d = 10): "
        f"{steps / seconds:,.0f} steps/s ({6 * 4000 * steps / seconds:.2e} chain-steps/s)"
    )

    X, y = rng.standard_normal((10, 100, 20)), rng.standard_normal((10, 100))
    steps = 5000
    seconds = timed(
        approximation.dropout_sgd,
        X,
        y,
        np.array([0.5, 0.8]),
        np.full((10, 2), 0.02),
        100.0,
        np.array([0, steps]),
        rng,
    )
    print(f"dropout SGD (10 trials × 2 p, d = 20, full batch): {steps / seconds:,.0f} steps/s")
    w_star = np.linspace(-2, 2, 50)
    w1, w2 = 0.1 * rng.standard_normal((10, 50)), 0.1 * rng.standard_normal((10, 50))
    seconds = timed(
        approximation.factorization_gd,
        w_star,
        w1,
        w2,
        0.1,
        0.25,
        np.array([0, steps]),
        track_imbalance=True,
    )
    print(
        f"penalized GD on the factorization (10 trials, d = 50, tracking D): "
        f"{steps / seconds:,.0f} steps/s"
    )
    seconds = timed(
        approximation.noise_injection, w_star, w1, w2, 0.5, 0.05, 1000.0, np.array([0, steps]), rng
    )
    print(f"noise injection (10 trials, d = 50): {steps / seconds:,.0f} steps/s")

    X, _, y = sparse_regression(rng, 8, 40, 100, 5, 0.0)
    runs_X, runs_y = np.concatenate([X, X]), np.concatenate([y, y])
    ones = np.ones((16, 100))
    levels = np.repeat([0.0, 2.0], 8)
    steps = 50000
    for track, label in ((False, "without"), (True, "with")):
        seconds = timed(
            label_noise.sgd_uv,
            runs_X,
            runs_y,
            ones,
            ones,
            0.002,
            levels,
            np.array([0, steps]),
            rng,
            track,
        )
        print(
            f"batch-1 SGD on u⊙u − v⊙v (16 runs: 8 trials × clean/label noise, d = 100), "
            f"{label} the product recursion: {steps / seconds:,.0f} steps/s "
            f"({1e6 * seconds / steps:.1f} µs/step)"
        )
    start = np.ones((8, 10, 100))
    steps = 2000
    seconds = timed(
        label_noise.gd_uv,
        X,
        y,
        start,
        start,
        np.full((8, 10), 0.01),
        np.array([0, steps]),
        True,
    )
    print(
        f"noiseless GD phase (8 trials × 10 starts, n = 40, d = 100): "
        f"{steps / seconds:,.0f} steps/s"
    )


def bench_sections() -> None:
    """Wall time of every experiment of the smoke and default sections, in this process."""
    for name in ("smoke", "config"):
        section = load_config(ROOT / "config" / f"{name}.yaml")["noise"]
        total = 0.0
        parts = []
        for experiment, spec in section.items():
            start = time.perf_counter()
            run_experiment("noise", experiment, NOISE_EXPERIMENTS[experiment], spec, 0)
            seconds = time.perf_counter() - start
            total += seconds
            parts.append(f"{experiment} {seconds:.2f} s")
        print(f"{name}.yaml noise section: {total:.2f} s of simulation ({', '.join(parts)})")


def bench_workflow(cores: int) -> None:
    """Job time of the noise family's rules in a workflow run restricted to ``noise``."""
    from bench_workflow import job_table

    for name in ("smoke", "config"):
        config = load_config(ROOT / "config" / f"{name}.yaml")
        config = {"seed": config["seed"], "strict_claims": False, "noise": config["noise"]}
        with tempfile.TemporaryDirectory(prefix="implicit-reg-noise-") as tmp:
            work = Path(tmp)
            (work / "noise.yaml").write_text(yaml.safe_dump(config))
            start = time.perf_counter()
            run = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "snakemake",
                    "-s",
                    str(ROOT / "Snakefile"),
                    "--cores",
                    str(cores),
                    "--configfile",
                    "noise.yaml",
                ],
                cwd=work,
                capture_output=True,
                text=True,
            )
            wall = time.perf_counter() - start
            if run.returncode != 0:
                sys.exit(run.stderr[-3000:])
            jobs = job_table(work)
        family = jobs[jobs["rule"].str.startswith("noise")]
        per_rule = family.groupby("rule").agg(
            jobs=("s", "size"), total_s=("s", "sum"), simulation_s=("simulation_s", "sum")
        )
        own, rest = family["s"].sum(), jobs["s"].sum() - family["s"].sum()
        print(
            f"\n{name}.yaml, noise only, {cores} cores: wall {wall:.1f} s; job time of the "
            f"noise rules {own:.1f} s (report and check {rest:.1f} s)"
        )
        print(per_rule.round(2).to_string())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workflow", action="store_true", help="also time workflow runs")
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()
    print(f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    bench_loops()
    bench_sections()
    if args.workflow:
        bench_workflow(args.cores)


if __name__ == "__main__":
    main()
