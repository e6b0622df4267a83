"""Speed figures of the diagonal (F3) family.

Prints: the exact α sweep at paper scale (d = 1000, n = 100, 20 α × 10 trials), the GD
speed of the u⊙u − v⊙v path and of the β⊙β path (steps per second), and the wall time of
the default and smoke sections through `run_family`.

BLAS threads: the Newton solver does many small batched solves; oversubscribed OpenBLAS
threads (more threads than free cores) make them 10x slower, so unless set by the caller
OPENBLAS_NUM_THREADS defaults to 1 here, as a workflow job with ``threads: 1`` should.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import yaml  # noqa: E402

import implicit_reg.diagonal as diagonal  # noqa: E402
from implicit_reg.diagonal.dynamics import beta_gd_path, uv_gd_path  # noqa: E402
from implicit_reg.diagonal.exact import kkt_residuals, q_alpha_limit  # noqa: E402
from implicit_reg.experiment import run_family  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def bench_exact_sweep() -> None:
    rng = np.random.default_rng(0)
    X, _, y = diagonal.sparse_regression(rng, 10, 100, 1000, 5, 0.0)
    alphas = np.geomspace(1e-6, 1e3, 20)
    start = time.perf_counter()
    sol = q_alpha_limit(X, y, alphas)
    elapsed = time.perf_counter() - start
    stationarity, feasibility = kkt_residuals(X, y, sol.theta, alphas)
    print(
        f"exact Q_alpha sweep d=1000 n=100, 20 alpha x 10 trials: {elapsed:.2f} s "
        f"(max Newton iterations {sol.iterations.max()}, all converged {sol.converged.all()}, "
        f"max KKT stationarity {stationarity.max():.1e}, feasibility {feasibility.max():.1e})"
    )


def bench_gd() -> None:
    rng = np.random.default_rng(1)
    X, theta_star, y = diagonal.sparse_regression(rng, 5, 40, 200, 5, 0.0)
    alphas = np.tile([0.1, 0.1, 1.0, 1.0, 10.0, 10.0], (5, 1))
    etas = 0.1 / diagonal.step_size_scale(X, theta_star, alphas[0])
    steps = 5000
    start = time.perf_counter()
    uv_gd_path(X, y, alphas, etas, np.array([0, steps]))
    elapsed = time.perf_counter() - start
    print(
        f"GD u*u - v*v (d=200, n=40, 5 trials x 6 runs): {steps / elapsed:,.0f} steps/s "
        f"({steps * alphas.size / elapsed:,.0f} run-steps/s)"
    )
    X = rng.standard_normal((10, 60, 200))
    y = X[..., :3].sum(-1)
    start = time.perf_counter()
    beta_gd_path(X, y, np.array([1e-2, 1e-4, 1e-6]), 0.25, np.array([0, steps]))
    elapsed = time.perf_counter() - start
    print(f"GD beta*beta (d=200, n=60, 10 trials x 3 alpha): {steps / elapsed:,.0f} steps/s")


def bench_section(name: str) -> None:
    section = yaml.safe_load((ROOT / f".parts/diagonal/{name}.yaml").read_text())["diagonal"]
    start = time.perf_counter()
    tables = run_family("diagonal", diagonal, section, seed=0)
    elapsed = time.perf_counter() - start
    claims = diagonal.claims(tables)
    passed = sum(c.passed for c in claims)
    print(f"{name} section via run_family: {elapsed:.1f} s, claims passed {passed}/{len(claims)}")


if __name__ == "__main__":
    print(f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    bench_exact_sweep()
    bench_gd()
    bench_section("smoke")
    bench_section("config")
