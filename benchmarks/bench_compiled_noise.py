"""Compiled loops of the noise (F5) family against this core's rate, numpy and the paper's code.

Prints, as ratios measured in one run:

1. this core's rate: a compiled multiply-add loop on cache-resident vectors (strict IEEE,
   what the kernels can reach: no fused multiply-add, no reassociation) and numpy's
   matrix product (BLAS, with fused multiply-adds), in flop/ns;
2. per compiled loop (batch-1 SGD on u⊙u − v⊙v with and without the tracked product,
   the noiseless full-batch GD phase): ns per step and per run-step, the step's
   floating-point operation count, the ratio to the floor (operations / core rate), and
   the speed-up against the previous numpy loop (``implicit_reg.noise.label_noise`` at
   commit ``BASELINE``, read with ``git show``) on the same problem and stream;
3. the per-trial comparison with HaoChen, Kale, Lee & Ma (2021) on their problem
   (d = 100, n = 40, 5-sparse θ*, 400,000 label-noise steps): the project's batch-1
   label-noise SGD per trial (one run alone, and per run of a 16-run batch) against a
   numpy re-implementation of their loop structure (per step: the full-batch loss as a
   sum over the 40 samples, each through a dot product, plus one sample's label-noise
   term, the gradient of that sum, a step on v for θ = v⊙v) timed on a few thousand steps,
   and against their torch code's time recorded on this machine in an earlier
   measurement (``PEER_TORCH_SECONDS``, not re-measured: torch is not a dependency);
4. the import time of numba and the kernels' first-call compile time against their
   load time from the on-disk cache (two fresh interpreters sharing a new cache);
5. with ``--job``, the label-noise experiment of the default configuration with the
   compiled loops against the same experiment with the baseline's numpy loops.

Timings on a shared machine vary from run to run: compare numbers of one run.

    python benchmarks/bench_compiled_noise.py [--job]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import types  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from implicit_reg.compiled import compiled  # noqa: E402
from implicit_reg.noise import approximation, exact, label_noise  # noqa: E402
from implicit_reg.problems import sparse_regression  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from git_baseline import module_at  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: The last commit whose label-noise loops were numpy loops (before the compiled kernels).
BASELINE = "8a4a835"
#: HaoChen et al.'s torch code (their quadratic model, label-noise GD) on this problem,
#: 400,000 steps, one trial: seconds measured on this machine in an earlier run.
PEER_TORCH_SECONDS = 61.9
PEER_STEPS = 400_000


def best_of(function, repeats: int = 3) -> float:
    """Smallest wall time of ``repeats`` calls (the least disturbed by other processes)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


@compiled
def multiply_add_passes(y: np.ndarray, x: np.ndarray, a: float, passes: int) -> float:
    """``passes`` times y ← a·y + x elementwise (two floating-point operations each)."""
    for _ in range(passes):
        for j in range(y.size):
            y[j] = a * y[j] + x[j]
    return y[0]


def core_rates() -> tuple[float, float]:
    """(compiled strict multiply-add rate, numpy matrix-product rate), flop/ns."""
    x, y = np.random.default_rng(0).random((2, 1024))
    passes = 20_000
    multiply_add_passes(y, x, 0.5, 1)
    seconds = best_of(lambda: multiply_add_passes(y, x, 0.5, passes))
    strict = 2 * x.size * passes / (seconds * 1e9)
    A, B = np.random.default_rng(1).random((2, 96, 96))
    reps = 200
    seconds = best_of(lambda: [A @ B for _ in range(reps)])
    blas = 2 * 96**3 * reps / (seconds * 1e9)
    return strict, blas


def baseline_module() -> types.ModuleType | None:
    """``implicit_reg.noise.label_noise`` of the ``BASELINE`` commit, or None without git."""
    return module_at(BASELINE, "src/implicit_reg/noise/label_noise.py")


def rate_line(loop: str, seconds: float, runs: int, flops: int, rates: tuple) -> str:
    """``loop``'s time per step and per run-step, its flop count and rate, and its ratio
    to the floors ``flops / rate`` of the strict and the BLAS core rates."""
    strict, blas = rates
    return (
        f"{loop}: {1e9 * seconds:,.0f} ns/step ({1e9 * seconds / runs:,.0f} ns/run-step), "
        f"{flops:,} flop/step: {flops / (seconds * 1e9):.2f} flop/ns, "
        f"{seconds * 1e9 * strict / flops:.1f}× the strict floor, "
        f"{seconds * 1e9 * blas / flops:.1f}× the BLAS floor"
    )


def sgd_flops(d: int, track: bool) -> int:
    """Operations of one batch-1 step of one run (`label_noise.sgd_uv_steps`): θ = u² − v²
    (3d), x·θ (2d), the label and residual (3), p = (−2η x_j)ρ (2d), u(1 + p), v(1 − p)
    (4d); tracking adds g = x_jρ, (g²)(−4η²) + 1 and the product (5d)."""
    return 11 * d + 3 + (5 * d if track else 0)


def gd_flops(n: int, d: int, track: bool) -> int:
    """Operations of one full-batch step of one run (`label_noise.gd_uv_steps`): θ (3d),
    Xθ − y (2nd + n), Xᵀρ (2nd), /n (d), the u and v steps (8d); tracking adds 4d."""
    return 4 * n * d + n + 12 * d + (4 * d if track else 0)


def label_noise_problem(n_trials: int, seed: int = 0):
    """HaoChen et al.'s sparse regression: d = 100, n = 40, 5-sparse θ*, noiseless labels."""
    return sparse_regression(np.random.default_rng(seed), n_trials, 40, 100, 5, 0.0)


def against_numpy(run, numpy_loop, seconds: float, steps: int, compared: int) -> str:
    """The numpy loop's time per step on ``steps`` steps, the speed-up of the compiled
    loop (``seconds`` per step), and the two paths' largest relative difference of u after
    ``compared`` steps from the same start and stream: ``run(count, loop)`` runs a loop."""
    old = best_of(lambda: run(steps, numpy_loop), 1) / steps
    new_path, old_path = run(compared), run(compared, numpy_loop)
    difference = np.nanmax(np.abs(new_path.u - old_path.u) / np.abs(old_path.u))
    return (
        f"; numpy loop {1e9 * old:,.0f} ns/step: {old / seconds:.1f}× faster "
        f"(after {compared:,} steps max relative difference of u {difference:.1e})"
    )


def bench_sgd(rates: tuple, baseline) -> None:
    """Batch-1 SGD: 16 runs (8 trials × clean/label noise), d = 100, with and without tracking."""
    X, _, y = label_noise_problem(8)
    runs_X, runs_y = np.concatenate([X, X]), np.concatenate([y, y])
    start = np.ones((16, 100))
    levels = np.repeat([0.0, 2.0], 8)
    steps, baseline_steps = 200_000, 20_000
    for track in (False, True):

        def run(count, sgd=label_noise.sgd_uv, track=track):
            factor = exact.product_factor if track else None
            extra = (factor,) if sgd is not label_noise.sgd_uv else (track,)
            return sgd(
                runs_X,
                runs_y,
                start,
                start,
                0.002,
                levels,
                np.array([0, count]),
                np.random.default_rng(1),
                *extra,
            )

        run(100)
        seconds = best_of(lambda: run(steps), 2) / steps
        flops = 16 * sgd_flops(100, track)
        loop = f"batch-1 SGD, 16 runs × d = 100, {'with' if track else 'without'} the product"
        line = rate_line(loop, seconds, 16, flops, rates)
        if baseline is not None:
            line += against_numpy(run, baseline.sgd_uv, seconds, baseline_steps, 5_000)
        print(line)


def bench_gd(rates: tuple, baseline) -> None:
    """Full-batch GD phase: 8 trials × 10 starts, n = 40, d = 100, tracking the products."""
    X, _, y = label_noise_problem(8)
    start = np.ones((8, 10, 100))
    etas = np.full((8, 10), 0.01)

    def run(count, gd=label_noise.gd_uv):
        extra = True if gd is label_noise.gd_uv else exact.product_factor
        return gd(X, y, start, start, etas, np.array([0, count]), extra)

    run(10)
    steps = 3000
    seconds = best_of(lambda: run(steps), 2) / steps
    flops = 80 * gd_flops(40, 100, True)
    line = rate_line("full-batch GD phase, 80 runs × (n = 40, d = 100)", seconds, 80, flops, rates)
    if baseline is not None:
        line += against_numpy(run, baseline.gd_uv, seconds, 300, 300)
    print(line)


def bench_factorization(rates: tuple, baseline) -> None:
    """GD tracking the imbalance and noise injection on w₂⊙w₁: 10 trials, d = 50."""
    rng = np.random.default_rng(4)
    w_star = np.linspace(-2.0, 2.0, 50)
    w1, w2 = 0.1 * rng.standard_normal((2, 10, 50))

    def gd(count, loop=approximation.factorization_gd):
        if loop is approximation.factorization_gd:
            return loop(w_star, w1, w2, 0.1, 0.25, np.array([0, count]), True)
        factor = lambda r: exact.imbalance_factor(r, 0.1, 0.5)  # noqa: E731
        return loop(w_star, w1, w2, 0.1, 0.25, np.array([0, count]), factor)

    def injection(count, loop=approximation.noise_injection):
        checkpoints = np.array([0, count])
        return loop(w_star, w1, w2, 0.5, 0.05, 1000.0, checkpoints, np.random.default_rng(5))

    # Per coordinate-step: r, both factor updates (9); the tracked factor (4). Injection:
    # the noisy factors (4), r and its step (3), both updates (4), the running mean (4).
    for name, run, flops, steps in (
        ("penalized GD on w₂⊙w₁ tracking D, 10 trials × d = 50", gd, 500 * 13, 20_000),
        ("noise injection on w₂⊙w₁, 10 trials × d = 50", injection, 500 * 15, 20_000),
    ):
        run(10)
        seconds = best_of(lambda run=run, steps=steps: run(steps), 2) / steps
        line = rate_line(name, seconds, 500, flops, rates)
        if baseline is not None:
            old_loop = getattr(baseline, run.__defaults__[0].__name__)
            old = best_of(lambda run=run, old_loop=old_loop: run(2000, old_loop), 1) / 2000
            new_path, old_path = run(2000), run(2000, old_loop)
            difference = np.nanmax(
                np.abs(new_path.products - old_path.products) / np.abs(old_path.products)
            )
            line += (
                f"; numpy loop {1e9 * old:,.0f} ns/step: {old / seconds:.1f}× faster "
                f"(after 2,000 steps max relative difference of w₁⊙w₂ {difference:.1e})"
            )
        if run is injection:
            draws = np.random.default_rng(6)
            shape = (steps, 2, 10, 50)
            normals = best_of(lambda g=draws, s=shape: g.standard_normal(s), 2) / steps
            line += f"; its standard normals alone (numpy) {1e9 * normals:,.0f} ns/step"
        print(line)


def bench_ou_draws() -> None:
    """The OU and quadratic chains (left in numpy, vectorized over chains): time per step
    against the time of that step's normal draws alone, at the default sizes."""
    from implicit_reg.noise import ou
    from implicit_reg.problems import random_rotation

    rng = np.random.default_rng(7)
    steps = 200
    eta_a = np.array([0.01, 0.1, 0.5, 1.0, 1.5, 1.9])
    checkpoints = np.array([0, steps])
    scalar = (
        best_of(lambda: ou.scalar_chains(eta_a, 1.0, 1.0, 1.0, 8, 6000, checkpoints, 0, 20, rng))
        / steps
    )
    scalar_draws = best_of(lambda: [rng.standard_normal((8, 6000)) for _ in range(steps)]) / steps
    h = np.geomspace(0.01, 1.0, 10)
    rotation = random_rotation(rng, 10)
    H, root = exact.curvature_matrix(h, rotation), exact.curvature_matrix(np.sqrt(h), rotation)
    shapes, etas = ["isotropic", "curvature", "streaming"] * 2, np.repeat([0.25, 0.8], 3)

    def quadratic():
        start = np.zeros(10)
        ou.quadratic_chains(H, root, shapes, etas, 1.0, start, 8, 500, checkpoints, 0, 5, rng)

    def quadratic_draws():
        for _ in range(steps):
            for _ in range(3):
                rng.standard_normal((8, 500, 10))
            rng.standard_normal((8, 500))

    quadratic_step = best_of(quadratic) / steps
    quadratic_draw = best_of(quadratic_draws) / steps
    print(
        f"1-D OU chains (6 ηa × 48,000 chains, in the stationary block): {1e3 * scalar:.2f} "
        f"ms/step, its normal draws {1e3 * scalar_draws:.2f} ms ({scalar_draws / scalar:.0%}); "
        f"quadratic chains (6 configurations × 4,000 chains, d = 10, pooling every 5th step): "
        f"{1e3 * quadratic_step:.2f} ms/step, its normal draws {1e3 * quadratic_draw:.2f} ms "
        f"({quadratic_draw / quadratic_step:.0%}): a kernel taking no time for the rest would "
        f"be {scalar / scalar_draws:.1f}× and "
        f"{quadratic_step / quadratic_draw:.1f}× faster"
    )


def peer_label_noise_gd(X, y, alpha, eta, delta, steps, rng) -> np.ndarray:
    """HaoChen et al.'s loop structure on θ = v⊙v, re-implemented in numpy (their code is
    torch with autograd): per step the loss Σ_i ¼(y_i − ⟨v⊙v, x_i⟩)²/n sample by sample,
    plus ¼(y_i + δξ − ⟨v⊙v, x_i⟩)² − ¼(y_i − ⟨v⊙v, x_i⟩)² for one uniform sample i and
    ξ ~ N(0, 1), then v ← v − η∇_v of that sum."""
    n = len(y)
    v = np.full(X.shape[1], float(alpha))
    for _ in range(steps):
        theta = v * v
        gradient = np.zeros_like(v)
        for i in range(n):
            gradient -= (y[i] - np.dot(theta, X[i])) / n * X[i]
        i = int(rng.choice(n, 1, replace=False)[0])
        noisy = y[i] + rng.normal() * delta
        gradient -= (noisy - np.dot(theta, X[i])) * X[i]
        gradient += (y[i] - np.dot(theta, X[i])) * X[i]
        v -= eta * gradient * v
    return v


def bench_peer() -> None:
    """Per trial, HaoChen et al.'s problem: 400,000 label-noise steps, d = 100, n = 40."""
    X, _, y = label_noise_problem(16)
    start = np.ones((16, 100))
    levels = np.full(16, 1.0)

    def project(runs):
        label_noise.sgd_uv(
            X[:runs],
            y[:runs],
            start[:runs],
            start[:runs],
            0.002,
            levels[:runs],
            np.array([0, PEER_STEPS]),
            np.random.default_rng(2),
        )

    project(1)
    alone = best_of(lambda: project(1), 2)
    batch = best_of(lambda: project(16), 1) / 16
    peer_steps = 4000
    rng = np.random.default_rng(3)
    peer = (
        best_of(lambda: peer_label_noise_gd(X[0], y[0], 1.0, 0.01, 1.0, peer_steps, rng), 1)
        * PEER_STEPS
        / peer_steps
    )
    print(
        f"per trial, d = 100, n = 40, {PEER_STEPS:,} label-noise steps: project {alone:.3f} s "
        f"alone, {batch:.3f} s per run of a 16-run batch; numpy re-implementation of the "
        f"paper's loop {peer:.1f} s (from {peer_steps:,} steps): {peer / alone:.0f}× alone, "
        f"{peer / batch:.0f}× batched; the paper's torch code, recorded on this machine "
        f"earlier (not re-measured): {PEER_TORCH_SECONDS} s: {PEER_TORCH_SECONDS / alone:.0f}× "
        f"alone, {PEER_TORCH_SECONDS / batch:.0f}× batched"
    )


COMPILE_PROBE = """
import time
start = time.perf_counter()
import numba
numba_import = time.perf_counter() - start
import numpy as np
from implicit_reg.noise import label_noise
X, y = np.ones((1, 2, 3)), np.ones((1, 2))
u = np.ones((1, 3))
start = time.perf_counter()
label_noise.sgd_uv(X, y, u, u, 0.01, np.ones(1), np.array([0, 2]), np.random.default_rng(0), True)
label_noise.gd_uv(X, y, u[None], u[None], np.full((1, 1), 0.01), np.array([0, 2]), True)
print(numba_import, time.perf_counter() - start)
"""


def bench_compile() -> None:
    """numba's import, and the kernels' compile time against their load from the cache."""
    with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache:
        environment = {**os.environ, "NUMBA_CACHE_DIR": cache}
        times = []
        for _ in range(2):
            run = subprocess.run(
                [sys.executable, "-c", COMPILE_PROBE],
                env=environment,
                capture_output=True,
                text=True,
                check=True,
            )
            times.append([float(t) for t in run.stdout.split()])
    (numba_import, first), (_, cached) = times
    print(
        f"import numba {numba_import:.2f} s; first calls of the label-noise kernels "
        f"(sgd_uv_steps, gd_uv_steps, dot): {first:.2f} s compiling, {cached:.3f} s "
        f"loading from the cache ({first / cached:.0f}× less)"
    )


def bench_job(baseline) -> None:
    """The default configuration's label-noise experiment: compiled against numpy loops."""
    from implicit_reg.experiment import run_experiment
    from implicit_reg.noise.experiments import EXPERIMENTS
    from implicit_reg.workflow.configcheck import load_config

    config = load_config(ROOT / "config" / "config.yaml")
    spec, seed = config["noise"]["label_noise"], config["seed"]

    def job():
        start = time.perf_counter()
        trials, _ = run_experiment("noise", "label_noise", EXPERIMENTS["label_noise"], spec, seed)
        return time.perf_counter() - start, trials

    new_seconds, new = job()
    if baseline is None:
        print(f"default label_noise experiment: {new_seconds:.1f} s")
        return

    def with_factor(function):
        def call(*args, track_products=False):
            return function(*args, exact.product_factor if track_products else None)

        return call

    compiled_sgd, compiled_gd = label_noise.sgd_uv, label_noise.gd_uv
    label_noise.sgd_uv, label_noise.gd_uv = (
        with_factor(baseline.sgd_uv),
        with_factor(baseline.gd_uv),
    )
    try:
        old_seconds, old = job()
    finally:
        label_noise.sgd_uv, label_noise.gd_uv = compiled_sgd, compiled_gd
    numeric = new.select_dtypes("number").columns
    difference = (new[numeric] - old[numeric]).abs().max().max()
    print(
        f"default label_noise experiment: {new_seconds:.1f} s compiled, {old_seconds:.1f} s "
        f"with the numpy loops ({old_seconds / new_seconds:.1f}×); largest absolute "
        f"difference in its run table {difference:.1e}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--job", action="store_true", help="also time the default experiment")
    args = parser.parse_args()
    print(f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    strict, blas = core_rates()
    print(
        f"core rate: compiled multiply-add {strict:.2f} flop/ns (strict IEEE), "
        f"numpy matrix product {blas:.2f} flop/ns (BLAS)"
    )
    baseline = baseline_module()
    if baseline is None:
        print(f"no git checkout: the numpy loops of {BASELINE} are not compared")
    bench_sgd((strict, blas), baseline)
    bench_gd((strict, blas), baseline)
    bench_factorization(
        (strict, blas), module_at(BASELINE, "src/implicit_reg/noise/approximation.py")
    )
    bench_ou_draws()
    bench_peer()
    bench_compile()
    if args.job:
        bench_job(baseline)


if __name__ == "__main__":
    main()
