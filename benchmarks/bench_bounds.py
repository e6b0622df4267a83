"""Speed of the bounds family against the code of the base commit, measured in one run.

The base commit's package (``BASE``, before the speed work) is extracted with
``git show`` into a temporary directory and imported as ``bounds_base``; every timing
below runs the old and the new implementation on the same inputs, alternately, and
prints the best of ``--repeats`` runs of each and their ratio. BLAS runs on one thread,
as in a workflow job. Sizes are those of ``config/paper.yaml`` (``bounds.corruption``),
with fewer steps or epochs where noted (the per-step cost does not depend on them).

Printed:

1. loading the digits in a fresh interpreter: scikit-learn's ``load_digits`` (what the
   base commit did in every job) against `data.digits_arrays`;
2. the SGD training loop (``mlp.train``, all trials batched) at p = 1 until every network
   meets the stopping rule, same seeds: the weights must be identical;
3. the optimized-posterior loop (``pacbayes.optimized_bound``): time per Adam step;
   then the floors of 2. and 3. on this machine: the same float32 matmuls timed alone
   (and, for the posterior, the normal draws and the Adam update), which bound the
   speedup any implementation of the same arithmetic can reach on one core;
4. the Monte Carlo σ grid (``pacbayes.sigma_grid_bounds``);
5. the compression bound's truncation distances;
6. one whole paper-scale job (``simulate_corruption`` at p = 0 with the posterior's steps
   cut to ``--steps``), and its extrapolation to the configured 20,000 steps;
and the differences in the numbers where the algorithm changed (the normal sampler and
the order of the random draws; float rounding elsewhere).

With ``--sections``, 7. the whole bounds section of the smoke and default configs (old
code and config against new code and config).

Run: ``.venv/bin/python benchmarks/bench_bounds.py [--repeats 2] [--steps 300] [--sections]``.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import argparse  # noqa: E402
import importlib  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import yaml  # noqa: E402

from implicit_reg.bounds import compression, data, experiments, mlp, pacbayes  # noqa: E402
from implicit_reg.bounds.sampling import standard_normal  # noqa: E402
from implicit_reg.schedule import log_checkpoints  # noqa: E402
from implicit_reg.seeding import generator  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BASE = "abddc52"
MODULES = ("__init__", "compression", "data", "experiments", "figures", "mlp", "norms", "pacbayes")


def base_file(path: str) -> str:
    """The text of ``path`` at the base commit."""
    command = ["git", "show", f"{BASE}:{path}"]
    return subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stdout


def base_package(tmp: Path):
    """Import the base commit's ``implicit_reg.bounds`` as the package ``bounds_base``
    (its experiments declared ``artifacts=True``, which every experiment is now)."""
    pkg = tmp / "bounds_base"
    pkg.mkdir()
    for name in MODULES:
        source = base_file(f"src/implicit_reg/bounds/{name}.py")
        source = re.sub(r",\s*artifacts=True", "", source)
        (pkg / f"{name}.py").write_text(source.replace("implicit_reg.bounds", "bounds_base"))
    sys.path.insert(0, str(tmp))
    return importlib.import_module("bounds_base")


def best_of(repeats: int, old, new) -> tuple[float, float, object, object]:
    """Best wall time of ``old()`` and ``new()``, run alternately; with their last results."""
    times = {"old": [], "new": []}
    results = {}
    for _ in range(repeats):
        for name, fn in (("old", old), ("new", new)):
            start = time.perf_counter()
            results[name] = fn()
            times[name].append(time.perf_counter() - start)
    return min(times["old"]), min(times["new"]), results["old"], results["new"]


def report(label: str, t_old: float, t_new: float, unit: str = "s", scale: float = 1.0) -> None:
    print(
        f"{label:58s} old {t_old * scale:9.3f} {unit}   new {t_new * scale:9.3f} {unit}   "
        f"ratio {t_old / t_new:5.2f}x",
        flush=True,
    )


def bench_loading(repeats: int) -> None:
    old = "from sklearn.datasets import load_digits; load_digits()"
    new = "from implicit_reg.bounds import data; data.digits_arrays()"

    def run(code):
        return lambda: subprocess.run([sys.executable, "-c", code], check=True)

    t_old, t_new, _, _ = best_of(repeats, run(old), run(new))
    report("1. load the digits (fresh interpreter, incl. imports)", t_old, t_new)


def bench_training(base, params: dict, repeats: int) -> None:
    """Train the paper's networks at p = 1 until they stop (about 110 epochs)."""
    digits = data.load_split(params["n_train"], params["split_seed"])
    n, width = params["n_trials"], params["width"]
    x_test = data.features(digits.x_test, params["center"])
    checkpoints = log_checkpoints(params["n_epochs"], params["n_checkpoints"])

    def run(module):
        def go():
            rng = np.random.default_rng(5)
            x, y = data.corrupted_training_set(digits, 1.0, n, params["center"], rng)
            init = module.init_weights(rng, n, 64, width, data.N_CLASSES)
            return module.train(
                *init,
                x,
                y,
                x_test,
                digits.y_test,
                lr=params["lr"],
                batch_size=params["batch_size"],
                checkpoints=checkpoints,
                stop_loss=params["stop_loss"],
                rng=rng,
            )

        return go

    t_old, t_new, a, b = best_of(repeats, run(base.mlp), run(mlp))
    epochs = int(b.epochs_trained.max())
    report(f"2. SGD training, p = 1, {n} networks until stopped ({epochs} epochs)", t_old, t_new)
    same = np.array_equal(a.w1, b.w1) and np.array_equal(a.train_loss, b.train_loss)
    print(f"   same seeds, same numbers: weights and histories identical = {same}")
    trial_steps = int(b.epochs_trained.sum()) * (params["n_train"] // params["batch_size"])
    return t_old, trial_steps


def _trained(params: dict):
    """Networks trained at p = 0 for the posterior and σ-grid benchmarks (new code)."""
    rng = generator(0, "bench", 0.0)
    n = params["n_trials"]

    def make_set(digits, center, rng):
        return data.corrupted_training_set(digits, 0.0, n, center, rng)

    digits, x, y, init, result = experiments.train_networks(params, rng, make_set, n)
    return digits, x, y, init, (result.w1, result.w2)


def bench_posterior(base, params, trained, repeats: int, steps: int) -> dict[str, float]:
    digits, x, y, init, weights = trained
    post = params["posterior"]
    x_test = data.features(digits.x_test, params["center"])
    sigma = np.full(params["n_trials"], 0.3)

    def run(module, n_steps):
        def go():
            return module.optimized_bound(
                weights,
                init,
                sigma,
                x,
                y,
                x_test,
                digits.y_test,
                steps=n_steps,
                lr=post["lr"],
                batch_size=post["batch_size"],
                prior_vars=module.prior_grid(
                    post["prior_sigma_min"], post["prior_sigma_max"], post["prior_grid_size"]
                ),
                n_samples=1,
                delta=params["delta"],
                delta_mc=params["delta_mc"],
                rng=np.random.default_rng(1),
            )

        return go

    short = max(steps // 10, 1)
    o_long, n_long, a, b = best_of(repeats, run(base.pacbayes, steps), run(pacbayes, steps))
    o_short, n_short, _, _ = best_of(repeats, run(base.pacbayes, short), run(pacbayes, short))
    per_old = (o_long - o_short) / (steps - short)
    per_new = (n_long - n_short) / (steps - short)
    report(
        f"3. optimized posterior, per Adam step ({params['n_trials']} trials, "
        f"batch {post['batch_size']})",
        per_old,
        per_new,
        "ms",
        1e3,
    )
    print(
        f"   after {steps} steps, bound old {a.bound.mean():.4f} new {b.bound.mean():.4f} "
        f"(mean over trials; spread over trials {a.bound.std():.4f}); KL old "
        f"{a.kl.mean():.1f} new {b.kl.mean():.1f}"
    )
    return {"old": per_old, "new": per_new}


def layer_products(n_trials: int, batch: int, d: int, width: int, k: int, rng) -> list:
    """The five stacked float32 matmuls of one backpropagation step, as ``(a, b, out)``.

    Shapes and transposed views are those of `mlp.gradients`: ``x W₁ᵀ``, ``relu(z) W₂ᵀ``,
    ``gᵀ relu(z)``, ``g W₂`` and ``(∂z)ᵀ x``. `pacbayes.stochastic_gradients` runs each
    of them twice (means and variances).
    """

    def array(*shape):
        return rng.standard_normal((n_trials, *shape)).astype(np.float32)

    x, hidden, g = array(batch, d), array(batch, width), array(batch, k)
    w1, w2 = array(width, d), array(k, width)
    pairs = [
        (x, w1.transpose(0, 2, 1)),
        (hidden, w2.transpose(0, 2, 1)),
        (g.transpose(0, 2, 1), hidden),
        (g, w2),
        (hidden.transpose(0, 2, 1), x),
    ]
    return [(a, b, np.empty((n_trials, a.shape[1], b.shape[2]), np.float32)) for a, b in pairs]


def seconds_per_call(fn, calls: int, repeats: int = 3) -> float:
    """Best over ``repeats`` of the mean wall time of ``calls`` calls of ``fn()``."""
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def matmul_seconds(products: list, calls: int = 300) -> tuple[float, float]:
    """Seconds for one round of ``products`` and the rate it runs at (GFLOP/s)."""

    def round_():
        for a, b, out in products:
            np.matmul(a, b, out=out)

    seconds = seconds_per_call(round_, calls)
    flops = sum(2 * a.shape[0] * a.shape[1] * a.shape[2] * b.shape[2] for a, b, _ in products)
    return seconds, flops / seconds / 1e9


def bench_floor(params: dict, train: tuple[float, int], per_step: dict[str, float]) -> None:
    """Lower limits of the training and posterior time on one core, from this machine's BLAS.

    Both loops are float32 matmuls plus elementwise work. Timing the matmuls alone (same
    shapes, same layouts, nothing else) gives the time no implementation of the same
    arithmetic can beat on one core, hence the largest speedup over the base code that
    any rewrite can reach. For the posterior, each Adam step also needs its normal draws
    (`sampling.standard_normal`) and one Adam update (`pacbayes._Adam`), timed as well.
    """
    rng = np.random.default_rng(3)
    n, d, width, k = params["n_trials"], 64, params["width"], data.N_CLASSES
    big = rng.standard_normal((2, 1024, 1024)).astype(np.float32)
    _, peak = matmul_seconds([(big[:1], big[1:], np.empty((1, 1024, 1024), np.float32))], 10)
    print(f"   this core's float32 GEMM rate, 1024 x 1024 x 1024: {peak:.0f} GFLOP/s")

    t_old, trial_steps = train
    one, rate = matmul_seconds(layer_products(n, params["batch_size"], d, width, k, rng))
    floor = one / n * trial_steps
    print(
        f"   floor of 2.: the {trial_steps} trial-steps' matmuls alone take {floor:.2f} s "
        f"({rate:.0f} GFLOP/s) -> at most {t_old / floor:.2f}x over the old code"
    )

    batch = params["posterior"]["batch_size"]
    post_matmuls, rate = matmul_seconds(2 * layer_products(n, batch, d, width, k, rng))
    noise = np.empty((n, batch, width + k), np.float32)
    normals = seconds_per_call(
        lambda: standard_normal(rng, noise.shape, out=noise, exact_tails=False), 300
    )
    theta = np.zeros((n, 2 * (width * d + k * width)), np.float32)  # [μ | ρ]
    grad = rng.standard_normal(theta.shape).astype(np.float32)
    adam = pacbayes._Adam(theta.shape, 1e-3)
    update = seconds_per_call(lambda: adam.step(theta, grad), 300)
    floor = post_matmuls + normals + update
    print(
        f"   floor of 3.: matmuls {post_matmuls * 1e3:.2f} ms ({rate:.0f} GFLOP/s) + normals "
        f"{normals * 1e3:.2f} ms + Adam {update * 1e3:.2f} ms = {floor * 1e3:.2f} ms per step "
        f"-> at most {per_step['old'] / floor:.2f}x over the old code "
        f"({per_step['old'] / post_matmuls:.2f}x if only the matmuls cost anything)"
    )


def bench_sigma_grid(base, params, trained, repeats: int, samples: int) -> None:
    digits, x, y, init, weights = trained
    x_test = data.features(digits.x_test, params["center"])

    def run(module):
        return lambda: module.sigma_grid_bounds(
            weights,
            init,
            x,
            y,
            x_test,
            digits.y_test,
            sigmas=params["sigmas"],
            n_samples=samples,
            delta=params["delta"],
            delta_mc=params["delta_mc"],
            rng=np.random.default_rng(2),
        )

    t_old, t_new, a, b = best_of(repeats, run(base.pacbayes), run(pacbayes))
    report(f"4. σ grid ({len(params['sigmas'])} σ, {samples} draws per example)", t_old, t_new)
    for form in ("kl", "mcallester"):
        print(
            f"   {form}: bound old {a[form].bound.mean():.4f} new {b[form].bound.mean():.4f}; "
            f"test Gibbs error old {a[form].test_gibbs.mean():.4f} new "
            f"{b[form].test_gibbs.mean():.4f}"
        )


def bench_compression(base, params, trained, repeats: int) -> None:
    *_, weights = trained
    layers = list(weights)
    t_old, t_new, a, b = best_of(
        repeats,
        lambda: base.compression.truncation_distances(layers, params["bits"]),
        lambda: compression.truncation_distances(layers, params["bits"]),
    )
    report("5. compression: truncation distances at every rank", t_old, t_new)
    print(f"   largest relative difference {np.max(np.abs(a[1] / b[1] - 1)):.1e}")


def base_paper_steps() -> int:
    """``posterior.steps`` of ``bounds.corruption`` in the base commit's paper config."""
    text = base_file("config/paper.yaml")
    return int(yaml.safe_load(text)["bounds"]["corruption"]["posterior"]["steps"])


def bench_job(base, params: dict, steps: int, per_step: dict[str, float]) -> None:
    """One whole job at p = 0, and its extrapolation to the configured number of steps.

    The paper config's ``posterior.steps`` went from the base commit's value to the
    current one after a convergence study (docs/science.md §F4); the last line compares
    the base code at the base config with the new code at the current config.
    """
    configured, before = params["posterior"]["steps"], base_paper_steps()
    params = {**params, "p": 0.0, "posterior": {**params["posterior"], "steps": steps}}
    times = {}
    for name, module in (("old", base.experiments), ("new", experiments)):
        start = time.perf_counter()
        module.simulate_corruption(params, generator(0, "bench-job", 0.0))
        times[name] = time.perf_counter() - start
    report(f"6. one paper job, p = 0, posterior cut to {steps} steps", times["old"], times["new"])
    full = {k: times[k] + (configured - steps) * per_step[k] for k in times}
    report(f"   extrapolated to {configured} posterior steps (same work)", full["old"], full["new"])
    today = times["old"] + (before - steps) * per_step["old"]
    report(
        f"   old code at {before} steps vs new code at {configured} (paper config)",
        today,
        full["new"],
    )


def bench_sections(base) -> None:
    """The whole bounds section of the smoke and default configs, in one process.

    Old: the base commit's code on the base commit's config; new: the working tree's code
    on the current config (the smoke config was made smaller on purpose, the default
    config only changed shape: the postulates run in one job). Jobs run one after the
    other here; the workflow adds a fixed cost per job (interpreter, imports, script
    wrapper) that is not counted.
    """
    from implicit_reg.experiment import run_family

    for name in ("smoke.yaml", "config.yaml"):
        old_section = yaml.safe_load(base_file(f"config/{name}"))["bounds"]
        new_section = yaml.safe_load((ROOT / "config" / name).read_text())["bounds"]
        times = {}
        for label, registry, section in (
            ("old", base.EXPERIMENTS, old_section),
            ("new", None, new_section),
        ):
            start = time.perf_counter()
            run_family("bounds", section, seed=0, registry=registry)
            times[label] = time.perf_counter() - start
        report(f"7. bounds section of config/{name} (all jobs in turn)", times["old"], times["new"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--steps", type=int, default=300, help="Adam steps timed")
    parser.add_argument("--samples", type=int, default=4, help="σ-grid draws per example")
    parser.add_argument(
        "--sections", action="store_true", help="also time the smoke and default sections"
    )
    args = parser.parse_args()
    params = yaml.safe_load((ROOT / "config" / "paper.yaml").read_text())["bounds"]["corruption"]
    with tempfile.TemporaryDirectory() as tmp:
        base = base_package(Path(tmp))
        print(
            f"bounds family, old = {BASE}, new = working tree; paper sizes: "
            f"{params['n_trials']} trials, n_train {params['n_train']}, width "
            f"{params['width']}; BLAS threads {os.environ['OPENBLAS_NUM_THREADS']}"
        )
        bench_loading(args.repeats)
        train = bench_training(base, params, args.repeats)
        trained = _trained(params)
        per_step = bench_posterior(base, params, trained, args.repeats, args.steps)
        bench_floor(params, train, per_step)
        bench_sigma_grid(base, params, trained, args.repeats, args.samples)
        bench_compression(base, params, trained, args.repeats)
        bench_job(base, params, args.steps, per_step)
        if args.sections:
            bench_sections(base)


if __name__ == "__main__":
    main()
