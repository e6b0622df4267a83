"""Speed and memory of the dynamics (F6) family.

Prints, for the smoke and the default configuration: the time and peak memory of every
experiment's job (each grid point run in its own Python process, as a workflow job,
with ``OPENBLAS_NUM_THREADS=1``), their total, and the time of the claims and figures;
then where the time goes in the widest network of ``lazy_training`` (one GD step broken
into its parts, and the once-per-width work: kernels, eigendecomposition, linearized
model). Times are measured in this run on a possibly busy machine: compare ratios.

    python benchmarks/bench_dynamics.py [--configs smoke config] [--workflow]

``--workflow`` also runs `bench_workflow.py` on the family (job times from Snakemake's
benchmark files, interpreter starts included).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from implicit_reg.configcheck import load_config  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def run_job(job: str, experiment: str, point: str, out: str) -> None:
    """Child process: simulate one grid point, save its table, print time and peak memory.

    ``job`` is a JSON file with the workflow seed and the grid point's parameters (as
    checked and filled by the parent), so that the child imports what a workflow job does.
    """
    start = time.perf_counter()
    import implicit_reg.dynamics as dynamics
    from implicit_reg.seeding import generator

    imported = time.perf_counter()
    loaded = json.loads(Path(job).read_text())
    spec = loaded["params"]
    experiment_def = dynamics.EXPERIMENTS[experiment]
    rng = generator(loaded["seed"], "dynamics", experiment, point)
    begin = time.perf_counter()
    result = experiment_def.simulate(spec, rng)
    seconds = time.perf_counter() - begin
    table = result[0] if experiment_def.artifacts else result
    table.to_parquet(out)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB → MB
    print(
        json.dumps(
            {
                "simulate_s": seconds,
                "import_s": imported - start,
                "process_s": time.perf_counter() - start,
                "peak_mb": peak,
            }
        )
    )


def bench_config(config: str) -> None:
    from implicit_reg.grid import grid_points

    loaded = load_config(ROOT / "config" / f"{config}.yaml")
    section = loaded["dynamics"]
    print(f"\n== {config}.yaml: one process per job ==")
    print(f"{'job':50s} {'simulate s':>10s} {'process s':>10s} {'peak MB':>8s}")
    totals = {"simulate_s": 0.0, "process_s": 0.0}
    with tempfile.TemporaryDirectory() as tmp:
        tables = {}
        for experiment, spec in section.items():
            parts = []
            for point, params in grid_points(spec):
                out = f"{tmp}/{experiment}_{point}.parquet"
                job = Path(f"{tmp}/{experiment}_{point}.json")
                job.write_text(json.dumps({"seed": loaded["seed"], "params": params}))
                run = subprocess.run(
                    [sys.executable, __file__, "--job", str(job), experiment, point, out],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                record = json.loads(run.stdout.strip().splitlines()[-1])
                for key in totals:
                    totals[key] += record[key]
                print(
                    f"{experiment + '/' + point:50s} {record['simulate_s']:10.2f} "
                    f"{record['process_s']:10.2f} {record['peak_mb']:8.0f}"
                )
                parts.append(out)
            import pandas as pd

            tables[experiment] = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
        print(f"{'total':50s} {totals['simulate_s']:10.2f} {totals['process_s']:10.2f}")
        bench_claims_and_figures(tables)


def bench_claims_and_figures(trials: dict) -> None:
    import matplotlib.pyplot as plt

    import implicit_reg.dynamics as dynamics
    from implicit_reg.dynamics.figures import FIGURES
    from implicit_reg.experiment import summarize

    tables = dict(trials)
    for name, table in trials.items():
        tables[f"{name}_summary"] = summarize(table, dynamics.EXPERIMENTS[name].keys)
    start = time.perf_counter()
    claims = dynamics.claims(tables)
    elapsed = time.perf_counter() - start
    passed = sum(c.passed for c in claims)
    print(f"claims: {elapsed:.2f} s, passed {passed}/{len(claims)}")
    for c in claims:
        print(
            f"  {'pass' if c.passed else 'FAIL'} {c.kind:5s} {c.claim_id}: "
            f"{c.measured:.4g} {c.comparison} {c.threshold:g}"
        )
    for name, draw in FIGURES.items():
        start = time.perf_counter()
        fig = draw(tables)
        fig.canvas.draw()
        plt.close(fig)
        print(f"figure {name}: {time.perf_counter() - start:.2f} s")


def _timed(fn, repeat: int = 1) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def bench_widest_network() -> None:
    """Where the time of the widest ``lazy_training`` network goes (default config)."""
    from implicit_reg.dynamics import network, theory
    from implicit_reg.dynamics.experiments import smooth_target, sphere_points

    params = load_config(ROOT / "config" / "config.yaml")["dynamics"]["lazy_training"]
    m, trials = max(params["widths"]), params["n_trials"]
    n, d, n_test = params["grid"]["n_samples"][0], params["n_features"], params["n_test"]
    n_steps, n_points = params["n_steps"], params["n_checkpoints"]
    rng = np.random.default_rng(0)
    X, X_test = sphere_points(rng, trials, n, d), sphere_points(rng, trials, n_test, d)
    u, v = sphere_points(rng, trials, 2, d).transpose(1, 0, 2)
    y = smooth_target(X, u, v)
    W, a = rng.standard_normal((trials, m, d)), rng.choice([-1.0, 1.0], size=(trials, m))
    print(
        f"\n== widest network: m = {m}, {trials} trials, n = {n}, d = {d}, "
        f"{n_steps} steps, {n_points} checkpoints =="
    )
    # One block of neurons, as in `network.loss_gradient`, times the number of blocks.
    Wb, Xt = W[:, : network.NEURON_BLOCK], np.swapaxes(X, 1, 2)
    blocks = -(-m // network.NEURON_BLOCK)
    Z = Wb @ Xt
    T = np.tanh(Z)
    weighted = np.ones((trials, n, d))
    r = y[..., None]
    parts = {
        "pre-activations W Xᵀ": blocks * _timed(lambda: Wb @ Xt, 20),
        "tanh": blocks * _timed(lambda: np.tanh(Z, out=T), 20),
        "outputs and ∇_a": blocks * _timed(lambda: (a[:, None, : Wb.shape[1]] @ T, T @ r), 20),
        "square tanh (in place)": blocks * _timed(lambda: np.square(Z, out=T), 20),
        "∇_W = (T²)(e ⊙ X)": blocks * _timed(lambda: T @ weighted, 20),
    }
    step = _timed(lambda: network.loss_gradient(W, a, X, y), 20)
    once = {}
    start = time.perf_counter()
    K0 = network.tangent_kernel(W, a, X, X)
    once["K₀ (train kernel)"] = time.perf_counter() - start
    once["K₀(x_test, X) (cross kernel)"] = _timed(lambda: network.tangent_kernel(W, a, X_test, X))
    once["eigendecomposition of K₀"] = _timed(lambda: np.linalg.eigvalsh(K0), 10)
    f0 = network.forward(W, a, X)
    steps = np.arange(n_points + 1)
    once["linearized outputs (3 calls)"] = 3 * _timed(
        lambda: theory.linearized_outputs(K0, K0, f0, f0 - y, steps, n, np.ones(trials))
    )
    once["outputs at the checkpoints"] = (n_points + 1) * _timed(
        lambda: (network.forward(W, a, X), network.forward(W, a, X_test))
    )
    once["K_T (final kernel)"] = once["K₀ (train kernel)"]
    gd = n_steps * step
    total = gd + sum(once.values())
    print(
        f"one GD step: {1e3 * step:.2f} ms; {n_steps} steps: {gd:.1f} s "
        f"({100 * gd / total:.0f}% of the width's {total:.1f} s)"
    )
    for name, seconds in parts.items():
        print(f"  {name:32s} {1e3 * seconds:7.2f} ms ({100 * seconds / step:.0f}% of a step)")
    for name, seconds in once.items():
        print(f"once per width: {name:32s} {seconds:7.3f} s")
    widths = np.asarray(params["widths"])
    print(
        f"widths {widths.min()}…{widths.max()}: the widest holds "
        f"{100 * widths.max() / widths.sum():.0f}% of the neurons (work ∝ Σm)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="*", default=["smoke", "config"])
    parser.add_argument("--workflow", action="store_true")
    parser.add_argument("--job", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.job:
        run_job(*args.job)
        return
    print(
        f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}, "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    for config in args.configs:
        bench_config(config)
    bench_widest_network()
    if args.workflow:
        for config in args.configs:
            subprocess.run(
                [
                    sys.executable,
                    str(ROOT / "benchmarks" / "bench_workflow.py"),
                    "--config",
                    f"config/{config}.yaml",
                    "--families",
                    "dynamics",
                ],
                check=True,
            )


if __name__ == "__main__":
    main()
