"""Speed figures of the diagonal (F3) family, as ratios measured in one run.

Prints:

1. the exact Q_α limit (Newton dual) at d = 1000 for n = 100 and n = 400: Newton
   iterations and time per α, against the previous implementation (symmetric
   eigendecomposition of every Newton system, stopping at a relative decrement of 1e-22
   only) loaded from git, with the ratio and the largest difference of θ_α between them;
   and the default configuration's largest crossover job against the same baseline;
2. the GD speed of the u⊙u − v⊙v and β⊙β paths (steps per second);
3. the wall time of the smoke and default ``diagonal`` sections through `run_family`,
   with the claims passed.

``--quick`` runs only the n = 100 comparison (a few seconds). The baseline is the file
``src/implicit_reg/diagonal/exact.py`` at commit ``BASELINE`` (read with ``git show``; the
comparison is skipped outside a git checkout).

BLAS threads: the Newton solver does many small batched solves; oversubscribed OpenBLAS
threads (more threads than free cores) make them 10x slower, so unless set by the caller
OPENBLAS_NUM_THREADS defaults to 1 here, as a workflow job with ``threads: 1`` should.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from implicit_reg.claims import family_claims
from implicit_reg.diagonal.algorithms import (  # noqa: E402
    beta_gd_path,
    step_size_scale,  # noqa: E402
    uv_gd_path,
)
from implicit_reg.diagonal.exact import kkt_residuals, q_alpha_limit  # noqa: E402
from implicit_reg.experiment import run_family  # noqa: E402
from implicit_reg.problems import sparse_regression  # noqa: E402
from implicit_reg.workflow.configcheck import load_config  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from git_baseline import module_at  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: The last commit whose Newton solver used eigh for every system (before Cholesky).
BASELINE = "abddc52"


def baseline_solver():
    """``q_alpha_limit`` of the ``BASELINE`` commit, or None outside a git checkout."""
    module = module_at(BASELINE, "src/implicit_reg/diagonal/exact.py")
    return None if module is None else module.q_alpha_limit


def timed(solver, X, y, alphas, repeats: int = 1):
    """Solution and the least wall time over ``repeats`` calls (the machine is shared)."""
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        sol = solver(X, y, alphas)
        best = min(best, time.perf_counter() - start)
    return sol, best


def bench_newton(n: int, n_trials: int, n_alphas: int, repeats: int = 3) -> None:
    """Per-α Newton iterations and time, new solver vs baseline, d = 1000.

    Each time is the least of ``repeats`` calls, new and old interleaved α by α, so that
    a change of load on a shared machine hits both alike.
    """
    d = 1000
    rng = np.random.default_rng(0)
    X, _, y = sparse_regression(rng, n_trials, n, d, 5, 0.0)
    alphas = np.geomspace(1e-6, 1e3, n_alphas)
    old_solver = baseline_solver()
    print(
        f"\nNewton dual, d = {d}, n = {n}, {n_trials} trials, one call per alpha "
        f"(least of {repeats} runs):"
    )
    header = f"{'alpha':>9} {'iters new':>10} {'s new':>8}"
    if old_solver is not None:
        header += f" {'iters old':>10} {'s old':>8} {'old/new':>8} {'max rel diff':>13}"
    print(header)
    total_new = total_old = 0.0
    kkt = 0.0
    for alpha in alphas:
        sol, seconds = timed(q_alpha_limit, X, y, np.array([alpha]), repeats)
        total_new += seconds
        stationarity, feasibility = kkt_residuals(X, y, sol.theta, np.array([alpha]))
        kkt = max(kkt, stationarity.max(), feasibility.max())
        line = f"{alpha:9.1e} {sol.iterations.mean():10.1f} {seconds:8.3f}"
        if old_solver is not None:
            old, old_seconds = timed(old_solver, X, y, np.array([alpha]), repeats)
            total_old += old_seconds
            scale = np.abs(old.theta).max(-1, keepdims=True)
            diff = np.abs(sol.theta - old.theta).max() / scale.min()
            line += (
                f" {old.iterations.mean():10.1f} {old_seconds:8.3f} "
                f"{old_seconds / seconds:8.1f} {diff:13.1e}"
            )
        print(line)
    summary = f"total: new {total_new:.2f} s ({total_new / alphas.size:.3f} s per alpha)"
    if old_solver is not None:
        summary += f", old {total_old:.2f} s, ratio old/new {total_old / total_new:.1f}"
    print(summary + f"; max KKT residual (new) {kkt:.1e}")
    # The workflow solves all α of a job in one batch: time that too.
    _, batched = timed(q_alpha_limit, X, y, alphas, repeats)
    line = f"batched over the {alphas.size} alphas: new {batched:.2f} s"
    if old_solver is not None:
        _, old_batched = timed(old_solver, X, y, alphas, repeats)
        line += f", old {old_batched:.2f} s, ratio {old_batched / batched:.1f}"
    print(line)


def bench_default_crossover_job() -> None:
    """The default config's largest crossover job (d = 200, n = 160, 28 α, 10 trials).

    At n close to d the old stopping rule (relative decrement ≤ 1e-22 only) never fired
    for the smallest α: the decrement stalls at its rounding floor (~1e-21) and those
    members ran the 200-iteration cap.
    """
    rng = np.random.default_rng(0)
    X, _, y = sparse_regression(rng, 10, 160, 200, 5, 0.0)
    alphas = np.geomspace(1e-6, 1e3, 28)
    new, seconds = timed(q_alpha_limit, X, y, alphas, 2)
    line = (
        f"\ndefault crossover job (d=200, n=160, 28 alpha x 10 trials): new {seconds:.2f} s, "
        f"iterations max {new.iterations.max()} total {new.iterations.sum()}"
    )
    old_solver = baseline_solver()
    if old_solver is not None:
        old, old_seconds = timed(old_solver, X, y, alphas, 2)
        line += (
            f"; old {old_seconds:.2f} s, iterations max {old.iterations.max()} total "
            f"{old.iterations.sum()}; ratio {old_seconds / seconds:.1f}"
        )
    print(line)


def bench_gd() -> None:
    rng = np.random.default_rng(1)
    X, theta_star, y = sparse_regression(rng, 5, 40, 200, 5, 0.0)
    alphas = np.tile([0.1, 0.1, 1.0, 1.0, 10.0, 10.0], (5, 1))
    etas = 0.1 / step_size_scale(X, theta_star, alphas[0])
    steps = 5000
    start = time.perf_counter()
    uv_gd_path(X, y, alphas, etas, np.array([0, steps]))
    elapsed = time.perf_counter() - start
    print(
        f"\nGD u*u - v*v (d=200, n=40, 5 trials x 6 runs): {steps / elapsed:,.0f} steps/s "
        f"({steps * alphas.size / elapsed:,.0f} run-steps/s)"
    )
    X = rng.standard_normal((8, 200, 800))
    theta = np.zeros((8, 800))
    theta[:, :2] = 1.0
    y = np.einsum("tnd,td->tn", X, theta)
    steps = 1000
    start = time.perf_counter()
    beta_gd_path(X, y, np.tile([1e-2, 1e-4, 1e-6], 2), 0.25, np.array([0, steps]), reference=theta)
    elapsed = time.perf_counter() - start
    print(f"GD beta*beta (d=800, n=200, 8 trials x 6 runs): {steps / elapsed:,.0f} steps/s")


def bench_section(name: str) -> None:
    section = load_config(ROOT / "config" / f"{name}.yaml")["diagonal"]
    start = time.perf_counter()
    tables = run_family("diagonal", section, seed=0)
    elapsed = time.perf_counter() - start
    claims = family_claims("diagonal", tables)
    passed = sum(c.passed for c in claims)
    print(f"{name} section via run_family: {elapsed:.1f} s, passed {passed}/{len(claims)}")


def main() -> None:
    print(f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    quick = "--quick" in sys.argv
    bench_newton(100, 10 if not quick else 3, 20 if not quick else 8)
    if not quick:
        bench_newton(400, 3, 20)
        bench_default_crossover_job()
        bench_gd()
        print()
        bench_section("smoke")
        bench_section("config")


if __name__ == "__main__":
    main()
