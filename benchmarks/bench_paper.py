"""Predict the paper configuration's run time from one measured job of each kind.

For every experiment of a configuration (default ``config/paper.yaml``) the grid point
with the largest estimated work (`implicit_reg.checks.COSTS`) is run once, in this
process, with its workflow seed; every other grid point's time is extrapolated from it
in proportion to its estimated work. The table lists per experiment the jobs, the
measured job, the predicted job time, and the predicted wall time on ``--cores`` cores
(longest-processing-time-first scheduling of the predicted jobs, plus a measured fixed
cost per job for interpreter start, imports and writing). A real run on a machine with
that many cores is the check of the prediction.

    python benchmarks/bench_paper.py [--config config/paper.yaml] [--cores 8]
        [--families bounds margin] [--max-seconds 900]

Each measured job runs in its own process; one that passes ``--max-seconds`` is
stopped and counted at that time (the prediction is then a lower bound, marked ``≥``).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one core per job, as in the workflow

import argparse  # noqa: E402
import heapq  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from implicit_reg.checks import COSTS, families  # noqa: E402
from implicit_reg.configcheck import load_config  # noqa: E402
from implicit_reg.grid import grid_points  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: Fixed cost of one job outside its simulation (interpreter, imports, writing, dispatch),
#: seconds: (job time − script work) / jobs from benchmarks/bench_workflow.py on the smoke
#: configuration, (32.7 − 23.7) / 28 ≈ 0.32 s on this machine, rounded up.
JOB_FIXED_SECONDS = 0.4


def lpt_makespan(durations: list[float], cores: int) -> float:
    """Wall time of running ``durations`` on ``cores`` workers, longest first."""
    loads = [0.0] * cores
    for d in sorted(durations, reverse=True):
        heapq.heapreplace(loads, loads[0] + d)
    return max(loads)


def timed_job(family, name, point, params, seed, limit) -> tuple[float, bool]:
    """Seconds of one simulation in a fresh process (with the workflow's seed), and
    whether it finished within ``limit`` seconds."""
    code = (
        "import importlib, json, sys, time\n"
        "from implicit_reg.seeding import generator\n"
        f"module = importlib.import_module('implicit_reg.{family}')\n"
        f"params = json.loads({json.dumps(json.dumps(params))})\n"
        "start = time.perf_counter()\n"
        f"module.EXPERIMENTS[{name!r}].simulate(params, generator({seed}, {family!r}, "
        f"{name!r}, {point!r}))\n"
        "print(time.perf_counter() - start)\n"
    )
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=limit, check=True)
    except subprocess.TimeoutExpired:
        return limit, False
    return float(done.stdout.strip().splitlines()[-1]), True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config/paper.yaml")
    parser.add_argument("--cores", type=int, default=8)
    parser.add_argument("--families", nargs="*")
    parser.add_argument("--max-seconds", type=float, default=1200.0)
    args = parser.parse_args()
    config = load_config(ROOT / args.config)
    rows, durations = [], []
    for family in families(config):
        if args.families and family not in args.families:
            continue
        for name, spec in config[family].items():
            points = list(grid_points(spec))
            cost = COSTS[family][name]
            works = {point: cost(params).work for point, params in points}
            point, params = max(points, key=lambda item: works[item[0]])
            seconds, finished = timed_job(family, name, point, params, config["seed"],
                                          args.max_seconds)
            measured = f"{seconds:.1f} s" if finished else f"≥ {seconds:.0f} s (stopped)"
            per_work = seconds / max(works[point], 1.0)
            jobs = [per_work * w + JOB_FIXED_SECONDS for w in works.values()]
            durations += jobs
            rows.append((f"{family}/{name}", len(points), point, measured, sum(jobs), max(jobs)))
            print(f"measured {family}/{name} at {point}: {measured}", flush=True)
    print(f"\nconfig: {args.config}; prediction for {args.cores} cores")
    print(f"{'experiment':34} {'jobs':>5} {'job time s':>11} {'longest s':>10}  measured point")
    for name, jobs, point, measured, total, longest in rows:
        print(f"{name:34} {jobs:5d} {total:11.1f} {longest:10.1f}  {point} ({measured})")
    total = sum(durations)
    wall = lpt_makespan(durations, args.cores)
    print(f"\nsimulation jobs: {len(durations)}, job time {total:.0f} s "
          f"({total / 60:.1f} min of one core)")
    print(f"predicted wall time of the simulations on {args.cores} cores: {wall:.0f} s "
          f"({wall / 60:.1f} min); bound by the longest job: {max(durations):.0f} s")


if __name__ == "__main__":
    main()
