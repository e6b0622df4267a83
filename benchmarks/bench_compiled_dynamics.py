"""Speed of the compiled GD sweep of ``dynamics/lazy_training`` against the numpy loop.

Prints, per width of the default configuration's widest networks (2 trials, n = 40
points, d = 8): the time of one GD step of the previous implementation (the numpy
`network.loss_gradient` loop, kept below as the baseline) and of the compiled sweep
`network.gd_steps`, in ns per neuron-step, the step's floating-point operation count,
this core's rate measured in the same run (a compiled multiply-add loop over a
cache-resident vector, and ``numpy.exp`` per value), the ratio to that floor and the
speed-up; the numba import time and the kernels' first-call compile time against their
cached load (fresh interpreters); and the whole experiment at the default configuration,
new against the baseline loop (``--whole``; long on a busy machine).

    python benchmarks/bench_compiled_dynamics.py [--repeats 3] [--whole]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from compile_timing import compile_and_cached_load  # noqa: E402

from implicit_reg.compiled import compiled  # noqa: E402
from implicit_reg.dynamics import experiments, network  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TRIALS, N_POINTS, N_FEATURES = 2, 40, 8


def baseline_gd_path(W, a, X, y, X_test, eta, checkpoints):
    """The previous `network.gd_path`: a numpy `loss_gradient` per step."""
    W, a = W.astype(float, copy=True), a.astype(float, copy=True)
    steps = np.asarray(checkpoints, dtype=np.int64)
    train = np.empty((len(steps), *y.shape))
    test = np.empty((len(steps), X_test.shape[0], X_test.shape[1]))
    step = 0
    with np.errstate(over="ignore", invalid="ignore"):
        for c, stop in enumerate(steps):
            for _ in range(step, int(stop)):
                grad_W, grad_a, _ = network.loss_gradient(W, a, X, y)
                W -= eta[:, None, None] * grad_W
                a -= eta[:, None] * grad_a
            step = int(stop)
            train[c] = network.forward(W, a, X)
            test[c] = network.forward(W, a, X_test)
    diverged = ~(np.isfinite(train).all(axis=(0, 2)) & np.isfinite(W).all(axis=(1, 2)))
    return network.NetworkPath(steps, train, test, W, a, diverged)


@compiled
def multiply_add(x, count):
    """``count`` sweeps of ``x ← 0.999 x + 1e-3`` over a cache-resident vector (SIMD)."""
    for _ in range(count):
        for i in range(x.size):
            x[i] = 0.999 * x[i] + 1e-3
    return x


def core_rate() -> tuple[float, float]:
    """flop/ns of a compiled multiply-add loop and exponentials/ns of ``numpy.exp``."""
    x = np.ones(2048)
    multiply_add(x, 1)
    start = time.perf_counter()
    multiply_add(x, 20000)
    flops = 2 * x.size * 20000 / ((time.perf_counter() - start) * 1e9)
    z = -np.abs(np.random.default_rng(0).standard_normal(2048))
    start = time.perf_counter()
    for _ in range(2000):
        np.exp(z)
    exps = z.size * 2000 / ((time.perf_counter() - start) * 1e9)
    return flops, exps


def step_flops(n: int, d: int) -> int:
    """Operations of one neuron-step: ``z = Wx`` (2nd), ``∇w`` (2nd), ``∇a`` and slopes
    (5n), the update (4d + 2), the output share (2n); plus n exponentials (counted apart)."""
    return 4 * n * d + 7 * n + 4 * d + 2


def problem(m: int):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((TRIALS, N_POINTS, N_FEATURES))
    X /= np.linalg.norm(X, axis=2, keepdims=True)
    y = 0.3 * rng.standard_normal((TRIALS, N_POINTS))
    W, a = network.initial_weights(rng, TRIALS, m, N_FEATURES)
    return W, a, X, y, np.full(TRIALS, 0.5)


def bench_steps(repeats: int) -> None:
    flops, exps = core_rate()
    print(f"core: {flops:.2f} flop/ns (compiled multiply-add), {exps:.3f} exp/ns (numpy.exp)")
    per_step = step_flops(N_POINTS, N_FEATURES)
    floor_ns = per_step / flops + N_POINTS / exps
    print(f"one neuron-step: {per_step} flop + {N_POINTS} exp, floor {floor_ns:.0f} ns")
    print(f"{'width':>6s} {'numpy ns':>10s} {'compiled ns':>12s} {'speed-up':>9s} {'/floor':>7s}")
    for m in (1024, 4096, 16384):
        W, a, X, y, eta = problem(m)
        count = max(3, 40000 // m)
        checkpoints = np.array([0, count])
        network.gd_path(W, a, X, y, X, eta, np.array([0, 1]))
        old, new = [], []
        for _ in range(repeats):
            start = time.perf_counter()
            baseline_gd_path(W, a, X, y, X, eta, checkpoints)
            old.append(time.perf_counter() - start)
            start = time.perf_counter()
            network.gd_path(W, a, X, y, X, eta, checkpoints)
            new.append(time.perf_counter() - start)
        scale = 1e9 / (count * TRIALS * m)
        t_old, t_new = min(old) * scale, min(new) * scale
        print(f"{m:6d} {t_old:10.0f} {t_new:12.0f} {t_old / t_new:8.2f}x {t_new / floor_ns:6.1f}x")


def bench_compile() -> None:
    setup = (
        "import numpy as np; from implicit_reg.dynamics import network\n"
        "W = np.ones((1, 1, 2)); a = np.ones((1, 1)); X = np.ones((1, 2, 2))"
    )
    call = "network.gd_path(W, a, X, np.ones((1, 2)), X, np.ones(1), np.array([0, 1]))"
    imported, first, cached = compile_and_cached_load(setup, call)
    print(
        f"numba import {imported:.3f} s; first gd_path call: compile {first:.2f} s, "
        f"cached {cached:.2f} s"
    )


def bench_whole() -> None:
    from implicit_reg.seeding import generator
    from implicit_reg.workflow.configcheck import load_config

    loaded = load_config(ROOT / "config" / "config.yaml")
    spec = dict(loaded["dynamics"]["lazy_training"])
    spec.pop("grid")
    spec["n_samples"] = 40
    times = {}
    for label, path in (("baseline", baseline_gd_path), ("compiled", network.gd_path)):
        original, network.gd_path = network.gd_path, path
        try:
            rng = generator(loaded["seed"], "dynamics", "lazy_training", "n_samples=40")
            start = time.perf_counter()
            experiments.simulate_lazy_training(spec, rng)
            times[label] = time.perf_counter() - start
        finally:
            network.gd_path = original
    print(
        f"lazy_training at config.yaml: baseline {times['baseline']:.1f} s, compiled "
        f"{times['compiled']:.1f} s, speed-up {times['baseline'] / times['compiled']:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--whole", action="store_true")
    args = parser.parse_args()
    bench_steps(args.repeats)
    bench_compile()
    if args.whole:
        bench_whole()


if __name__ == "__main__":
    main()
