"""Compiled loops of the dynamics (F6a) and margin (F2) families against their floor.

Prints, measured in this run on one core (``OPENBLAS_NUM_THREADS=1``):

- this core's rate (compiled multiply-add loop, numpy ``dot``), in flop/ns;
- per loop: ns per step, the step's floating-point operation count, the floor (count /
  compiled multiply-add rate), the ratio to that floor and the speed-up against the
  previous numpy loop (kept here as the baseline);
- deep factorization per trial (10 × 10, N = 3, 7,780 steps, the setting of Arora et
  al. 2019) against the per-trial time of the paper's torch code recorded earlier on
  this machine (torch is not a dependency of the project: that time is not re-measured);
- numba's import time and each kernel's first call compiling vs loading its cache;
- with ``--before REV``, the whole experiments at the default configuration timed with
  the package of git revision REV and with this one, each in its own process.

    python benchmarks/bench_compiled_loops.py [--before REV] [--quick]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from compiled_costs import best_of, core_rate, jit_costs, print_loop  # noqa: E402
from scipy.special import expit  # noqa: E402

from implicit_reg.dynamics import factorization  # noqa: E402
from implicit_reg.margin import algorithms  # noqa: E402
from implicit_reg.margin.data import planted_separable  # noqa: E402
from implicit_reg.problems import random_rotation  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

#: Per-trial time of the torch code of Arora et al. (2019) on the 10 × 10, N = 3,
#: 7,780-step problem, recorded on this machine in an earlier measurement (CPU torch).
PEER_FACTORIZATION_S = 3.6
PEER_STEPS = 7780

# --- deep matrix factorization ------------------------------------------------------------


def factorization_problem(d: int = 10, depth: int = 3, trials: int = 1, seed: int = 0):
    """``W* = U diag(s) Vᵀ`` (s from 10 to 1), balanced aligned factors at ε = 1e-3."""
    rng = np.random.default_rng(seed)
    U, V = random_rotation(rng, d, trials), random_rotation(rng, d, trials)
    target = U * np.geomspace(10.0, 1.0, d) @ np.swapaxes(V, 1, 2)
    return factorization.balanced_aligned_init(U, V, 1e-3, depth, rng), target


def numpy_factor_gd(factors, target, step_scale: float, n_steps: int) -> np.ndarray:
    """The previous implementation: GD through `FactorGradient`'s buffered numpy calls."""
    Ws = [W.copy() for W in factors]
    gradient = factorization.FactorGradient(Ws, target, step_scale)
    for _ in range(n_steps):
        for W, g in zip(Ws, gradient(), strict=True):
            W -= g
    return factorization.end_to_end(Ws)


def factorization_flops(d: int, depth: int) -> int:
    """Forward ``N−1`` products, backward ``2(N−1)`` (d × d × d: 2d³ each), residual, update."""
    return 6 * (depth - 1) * d**3 + 2 * d * d + depth * d * d


def bench_factorization(rate: float, quick: bool) -> None:
    d, depth, eta = 10, 3, 0.05
    factors, target = factorization_problem(d, depth)
    steps = 500 if quick else PEER_STEPS
    checkpoints = np.array([0, steps])
    factorization.factor_gd_path(factors, target, eta, 1 / d**2, np.array([0, 1]))
    kernel_s = best_of(
        lambda: factorization.factor_gd_path(factors, target, eta, 1 / d**2, checkpoints)
    )
    numpy_s = best_of(lambda: numpy_factor_gd(factors, target, eta / d**2, steps), 3)
    ns, base = kernel_s / steps * 1e9, numpy_s / steps * 1e9
    print_loop(
        f"factorization GD {d}x{d}, N={depth}", ns, factorization_flops(d, depth), rate, base
    )
    per_trial = kernel_s * PEER_STEPS / steps
    print(
        f"  per trial ({PEER_STEPS} steps): compiled {per_trial:.4f} s, previous numpy "
        f"{numpy_s * PEER_STEPS / steps:.3f} s; paper's torch code {PEER_FACTORIZATION_S} s "
        f"(recorded earlier on this machine, not re-measured): "
        f"{PEER_FACTORIZATION_S / per_trial:.0f}× the paper's code"
    )
    batch = 16
    factors, target = factorization_problem(d, depth, trials=batch)
    batch_s = best_of(
        lambda: factorization.factor_gd_path(factors, target, eta, 1 / d**2, checkpoints), 3
    )
    print(
        f"  batch of {batch} trials: {batch_s / batch * PEER_STEPS / steps:.4f} s per trial "
        f"({PEER_FACTORIZATION_S / (batch_s / batch * PEER_STEPS / steps):.0f}× the paper's code)"
    )


# --- margin: logistic GD, momentum, normalized GD; the perceptron --------------------------


def margin_problem(b: int, n: int = 40, d: int = 10, seed: int = 1) -> np.ndarray:
    """``b`` separable datasets of ``n`` signed samples in R^d (planted margin 0.25)."""
    return planted_separable(np.random.default_rng(seed), b, n, d, 0.25)[0]


def numpy_logistic_gd(z: np.ndarray, eta: float, n_steps: int) -> np.ndarray:
    """A plain numpy logistic-GD loop on a batch: ``w ← w + η Zᵀσ(−Zw)`` (4 calls per step,
    the previous `descent_path` on constant-step rows)."""
    neg_z, step_zt = -z, eta * np.swapaxes(z, 1, 2)
    w = np.zeros((z.shape[0], z.shape[2], 1))
    neg_m, weights, descent = (
        np.empty((z.shape[0], k, 1)) for k in (z.shape[1],) * 2 + (z.shape[2],)
    )
    for _ in range(n_steps):
        np.matmul(neg_z, w, out=neg_m)
        expit(neg_m, out=weights)
        np.matmul(step_zt, weights, out=descent)
        np.add(w, descent, out=w)
    return w[..., 0]


def descent_flops(n: int, d: int) -> int:
    """Margins ``2nd``, weights ``≈ 3n`` (+ n exponentials, counted as one each), descent
    ``2nd``, update ``d``."""
    return 4 * n * d + 4 * n + d


def numpy_perceptron(z: np.ndarray, max_updates: int):
    """The previous perceptron: one batched numpy iteration per update."""
    b, n, d = z.shape
    w = np.zeros((b, d))
    updates = np.zeros(b, dtype=np.int64)
    pointer = np.zeros(b, dtype=np.int64)
    active = np.ones(b, dtype=bool)
    rows = np.arange(b)
    for _ in range(max_updates):
        mistakes = np.einsum("bnd,bd->bn", z, w) <= 0
        active &= mistakes.any(axis=1)
        if not active.any():
            break
        order = (pointer[:, None] + np.arange(n)) % n
        first = np.argmax(np.take_along_axis(mistakes, order, axis=1), axis=1)
        index = order[rows, first]
        w[active] += z[rows[active], index[active]]
        updates += active
        pointer = np.where(active, (index + 1) % n, pointer)
    return w, updates


def bench_margin(rate: float, quick: bool) -> None:
    n, d, steps = 40, 10, 2000 if quick else 20000
    checkpoints = np.array([0, steps])
    for b in (1, 12):
        z = margin_problem(b, n, d)
        eta = 1.0 / algorithms.smoothness(z, "logistic")
        run = lambda z=z, eta=eta: algorithms.descent_path(  # noqa: E731
            z, "logistic", eta, np.zeros(len(z)), np.zeros(len(z), bool), checkpoints
        )
        run()
        kernel_s = best_of(run, 3)
        numpy_s = best_of(lambda z=z, eta=eta: numpy_logistic_gd(z, eta[:, None, None], steps), 3)
        print_loop(
            f"logistic GD n={n} d={d}, batch {b} (per row-step)",
            kernel_s / (steps * b) * 1e9,
            descent_flops(n, d),
            rate,
            numpy_s / (steps * b) * 1e9,
        )
    z = margin_problem(12, n, d)
    eta = 1.0 / algorithms.smoothness(z, "logistic")
    for label, mu, normalized in (("heavy ball μ=0.9", 0.9, False), ("normalized", 0.0, True)):
        run = lambda mu=mu, normalized=normalized: algorithms.descent_path(  # noqa: E731
            z, "logistic", eta, np.full(12, mu), np.full(12, normalized), checkpoints
        )
        run()
        kernel_s = best_of(run, 3)
        print(f"  {label}, batch 12: {kernel_s / (steps * 12) * 1e9:.1f} ns per row-step")
    z = margin_problem(50, 50, 10, seed=2)
    algorithms.perceptron(z, 10)
    kernel_s = best_of(lambda: algorithms.perceptron(z, 100000), 3)
    _, updates = numpy_perceptron(z, 100000)
    numpy_s = best_of(lambda: numpy_perceptron(z, 100000), 1)
    total = int(updates.sum())
    print(
        f"perceptron 50 datasets n=50 d=10: {total} updates, compiled "
        f"{kernel_s / total * 1e9:.0f} ns per update, previous numpy "
        f"{numpy_s / total * 1e9:.0f} ns ({numpy_s / kernel_s:.0f}×)"
    )


# --- compile and import costs; whole experiments ------------------------------------------

_SETUPS = {
    "factor_gd_kernel": (
        "import numpy as np; from implicit_reg.dynamics import factorization as f; "
        "from implicit_reg.problems import random_rotation as r; g = np.random.default_rng(0); "
        "U = r(g, 4, 1); fs = f.balanced_aligned_init(U, U, 1e-2, 3, g)",
        "f.factor_gd_path(fs, U, 0.1, 0.1, np.array([0, 5]))",
    ),
    "descent_kernel": (
        "import numpy as np; from implicit_reg.margin import algorithms as a; "
        "z = np.ones((1, 3, 2))",
        "a.descent_path(z, 'logistic', np.ones(1), np.zeros(1), np.zeros(1, bool), "
        "np.array([0, 5]))",
    ),
    "perceptron_kernel": (
        "import numpy as np; from implicit_reg.margin import algorithms as a; "
        "z = np.ones((1, 3, 2))",
        "a.perceptron(z, 5)",
    ),
}


def bench_jit() -> None:
    for name, (setup, call) in _SETUPS.items():
        costs = jit_costs(setup, call)
        print(
            f"{name:<20} numba import {costs['numba_import_s']:.2f} s, first call compiling "
            f"{costs['compile_first_call_s']:.2f} s, from the cache "
            f"{costs['cached_first_call_s']:.3f} s"
        )


_EXPERIMENT = """
import json, sys, time, yaml
from implicit_reg.experiment import experiments, run_experiment
cfg = yaml.safe_load(open(sys.argv[1]))
family, name = sys.argv[2], sys.argv[3]
start = time.perf_counter()
run_experiment(family, name, experiments(family)[name], cfg[family][name], cfg["seed"])
print(json.dumps(time.perf_counter() - start))
"""

EXPERIMENTS = (
    ("dynamics", "matrix_factorization"),
    ("dynamics", "linear_nets"),
    ("margin", "soudry"),
    ("margin", "perceptron"),
    ("margin", "test_loss"),
)


def time_experiment(src: Path, family: str, name: str) -> float:
    """Seconds of one experiment at the default configuration with the package in ``src``
    (its kernels' cache already written by an earlier call)."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    args = [sys.executable, "-c", _EXPERIMENT, str(ROOT / "config/config.yaml"), family, name]
    out = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_experiments(before: str) -> None:
    with tempfile.TemporaryDirectory() as old:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", before, "src"], capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", old], input=archive.stdout, check=True)
        for family, name in EXPERIMENTS:
            time_experiment(ROOT / "src", family, name)  # writes the kernels' cache
            was = time_experiment(Path(old) / "src", family, name)
            now = time_experiment(ROOT / "src", family, name)
            print(
                f"{family}/{name:<22} default config: {before[:10]} {was:6.2f} s, "
                f"now {now:6.2f} s ({was / now:.1f}×)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="git revision whose experiments are timed too")
    parser.add_argument("--quick", action="store_true", help="fewer steps per loop")
    args = parser.parse_args()
    rates = core_rate()
    print(
        f"core rate: compiled multiply-add {rates['compiled_multiply_add']:.2f} flop/ns, "
        f"numpy dot {rates['numpy_dot']:.2f} flop/ns (floors below use the first)"
    )
    rate = rates["compiled_multiply_add"]
    bench_factorization(rate, args.quick)
    bench_margin(rate, args.quick)
    bench_jit()
    if args.before:
        bench_experiments(args.before)


if __name__ == "__main__":
    main()
