"""Speed of the fused posterior step of ``bounds`` (`pacbayes.posterior_adam_step`).

The optimized PAC-Bayes posterior (Dziugaite and Roy 2017) takes Adam steps on
``(μ, ρ)``; after the stochastic gradients (matmuls), the objective's gradient is
completed and Adam applied elementwise. The previous implementation did this in sixteen
numpy passes over the parameters (kept below as the baseline); the compiled kernel does
it in one, with bit-identical float32 results. Printed, at the paper's sizes
(``config/paper.yaml``: 10 trials, width 512, 8×8 digits, 10 classes, batch 100), all
measured in this run:

1. the elementwise part alone: numpy passes against the kernel, and the memory floor
   (one ``numpy.copyto`` of the parameters, as many bytes as the kernel streams per
   array);
2. one whole Adam step of ``pacbayes.optimized_bound`` (per-step time from a long and a
   short run), baseline against kernel, and the matmul floor: the stochastic gradients
   alone (`pacbayes.stochastic_gradients`, its matmuls and their elementwise glue);
3. the numba import and the kernel's compile time against its cached load.

    python benchmarks/bench_compiled_bounds.py [--repeats 3] [--steps 200]
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from compile_timing import compile_and_cached_load  # noqa: E402

from implicit_reg.bounds import pacbayes  # noqa: E402

TRIALS, WIDTH, FEATURES, CLASSES, BATCH, SAMPLE = 10, 512, 64, 10, 100, 1500


def numpy_posterior_adam_step(theta, grad, diff, s, ratio, weight, m, v, b1, b2, eps, coef):
    """The previous implementation: the same update as sixteen numpy passes."""
    r = s.shape[1]
    grad_mu, grad_rho = grad[:, :r], grad[:, r:]
    diff *= ratio[:, None]
    grad_mu += diff
    grad_rho *= 2.0
    grad_rho += ratio[:, None]
    grad_rho *= s
    grad_rho -= weight[:, None]
    tmp = np.empty_like(theta)
    m *= b1
    m += grad
    np.square(grad, out=tmp)
    v *= b2
    v += tmp
    np.sqrt(v, out=tmp)
    tmp += np.float64(eps)
    np.divide(m, tmp, out=tmp)
    tmp *= np.float64(coef)
    theta -= tmp


def best(repeats: int, fn) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_elementwise(repeats: int) -> None:
    rng = np.random.default_rng(0)
    r = WIDTH * FEATURES + CLASSES * WIDTH
    theta = rng.standard_normal((TRIALS, 2 * r)).astype(np.float32)
    grad, m, v = (rng.standard_normal(theta.shape).astype(np.float32) for _ in range(3))
    v = np.abs(v)
    diff = rng.standard_normal((TRIALS, r)).astype(np.float32)
    s = rng.uniform(1e-4, 1e-2, (TRIALS, r)).astype(np.float32)
    ratio, weight = np.ones(TRIALS, np.float32), np.full(TRIALS, 1e-3, np.float32)
    args = (np.float32(0.9), np.float32(0.999), 1e-8, 1e-3)

    def run(kernel):
        return lambda: [
            kernel(theta, grad, diff.copy(), s, ratio, weight, m, v, *args) for _ in range(20)
        ]

    run(pacbayes.posterior_adam_step)()
    old = best(repeats, run(numpy_posterior_adam_step)) / 20
    new = best(repeats, run(pacbayes.posterior_adam_step)) / 20
    out = np.empty_like(theta)
    floor = best(repeats, lambda: [np.copyto(out, theta) for _ in range(20)]) / 20
    print(
        f"1. elementwise step, {TRIALS}×{2 * r} float32: numpy {old * 1e3:.3f} ms, "
        f"compiled {new * 1e3:.3f} ms ({old / new:.2f}x); one copy of the parameters "
        f"{floor * 1e3:.3f} ms (kernel/copy {new / floor:.1f})"
    )


def bench_step(repeats: int, steps: int) -> None:
    rng = np.random.default_rng(1)
    w1 = (0.1 * rng.standard_normal((TRIALS, WIDTH, FEATURES))).astype(np.float32)
    w2 = (0.1 * rng.standard_normal((TRIALS, CLASSES, WIDTH))).astype(np.float32)
    x = rng.uniform(0, 1, (TRIALS, SAMPLE, FEATURES)).astype(np.float32)
    y = rng.integers(0, CLASSES, (TRIALS, SAMPLE))

    def run(n_steps):
        return lambda: pacbayes.optimized_bound(
            (w1, w2),
            (w1 * 0.9, w2 * 0.9),
            np.full(TRIALS, 0.03),
            x,
            y,
            x[0, :200],
            y[0, :200],
            steps=n_steps,
            lr=3e-3,
            batch_size=BATCH,
            prior_vars=pacbayes.prior_grid(1e-3, 1.0, 100),
            n_samples=1,
            delta=0.05,
            delta_mc=0.01,
            rng=np.random.default_rng(2),
        )

    short = max(steps // 10, 1)
    per_step = {}
    for label, kernel in (
        ("numpy", numpy_posterior_adam_step),
        ("compiled", pacbayes.posterior_adam_step),
    ):
        original, pacbayes.posterior_adam_step = pacbayes.posterior_adam_step, kernel
        try:
            run(1)()
            long_t, short_t = best(repeats, run(steps)), best(repeats, run(short))
        finally:
            pacbayes.posterior_adam_step = original
        per_step[label] = (long_t - short_t) / (steps - short)
    xi = rng.standard_normal((TRIALS, BATCH, WIDTH)).astype(np.float32)
    zeta = rng.standard_normal((TRIALS, BATCH, CLASSES)).astype(np.float32)
    s1, s2 = np.full_like(w1, 1e-3), np.full_like(w2, 1e-3)
    grads = (np.empty_like(w1), np.empty_like(w2), np.empty_like(w1), np.empty_like(w2))
    work: dict = {}
    xb, yb = x[:, :BATCH], y[:, :BATCH]

    def gradients():
        for _ in range(20):
            pacbayes.stochastic_gradients(
                (w1, w2), (s1, s2), xb, yb, xi, zeta, out=grads, work=work
            )

    floor = best(repeats, gradients) / 20
    old, new = per_step["numpy"], per_step["compiled"]
    print(
        f"2. Adam step of optimized_bound: numpy {old * 1e3:.3f} ms, compiled "
        f"{new * 1e3:.3f} ms ({old / new:.2f}x); the stochastic gradients alone "
        f"{floor * 1e3:.3f} ms (step/floor: numpy {old / floor:.2f}, compiled {new / floor:.2f})"
    )


def bench_compile() -> None:
    setup = (
        "import numpy as np; from implicit_reg.bounds import pacbayes\n"
        "a = np.ones((1, 2), np.float32); b = np.ones((1, 1), np.float32)\n"
        "c = np.ones(1, np.float32)"
    )
    call = (
        "pacbayes.posterior_adam_step(a, a.copy(), b, b, c, c, a.copy(), a.copy(),"
        " np.float32(0.9), np.float32(0.999), 1e-8, 1e-3)"
    )
    imported, first, cached = compile_and_cached_load(setup, call)
    print(
        f"3. numba import {imported:.3f} s; posterior_adam_step: compile {first:.2f} s, "
        f"cached load {cached:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    bench_elementwise(args.repeats)
    bench_step(args.repeats, args.steps)
    bench_compile()


if __name__ == "__main__":
    main()
