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

``--max-seconds`` skips (and says so) a measured job predicted, from its estimated
work, to take longer than that; it is then extrapolated from the largest job measured.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one core per job, as in the workflow

import argparse  # noqa: E402
import heapq  # noqa: E402
import importlib  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import yaml  # noqa: E402

from implicit_reg.checks import COSTS, families  # noqa: E402
from implicit_reg.configcheck import check_config_and_fill  # noqa: E402
from implicit_reg.grid import grid_points  # noqa: E402
from implicit_reg.seeding import generator  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: Fixed cost of one job outside its simulation (interpreter, imports, writing), seconds;
#: measured by benchmarks/bench_workflow.py on this machine.
JOB_FIXED_SECONDS = 0.6


def lpt_makespan(durations: list[float], cores: int) -> float:
    """Wall time of running ``durations`` on ``cores`` workers, longest first."""
    loads = [0.0] * cores
    for d in sorted(durations, reverse=True):
        heapq.heapreplace(loads, loads[0] + d)
    return max(loads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config/paper.yaml")
    parser.add_argument("--cores", type=int, default=8)
    parser.add_argument("--families", nargs="*")
    parser.add_argument("--max-seconds", type=float, default=900.0)
    args = parser.parse_args()
    config = check_config_and_fill(yaml.safe_load((ROOT / args.config).read_text()))
    rows, durations = [], []
    rate = None  # seconds per unit of estimated work, from the measured jobs
    for family in families(config):
        if args.families and family not in args.families:
            continue
        module = importlib.import_module(f"implicit_reg.{family}")
        for name, spec in config[family].items():
            points = list(grid_points(spec))
            cost = COSTS[family][name]
            works = {point: cost(params).work for point, params in points}
            point, params = max(points, key=lambda item: works[item[0]])
            predicted_here = rate * works[point] if rate else 0.0
            if predicted_here > args.max_seconds:
                seconds, measured = predicted_here, "skipped (extrapolated)"
            else:
                start = time.perf_counter()
                module.EXPERIMENTS[name].simulate(
                    dict(params), generator(config["seed"], family, name, point)
                )
                seconds = time.perf_counter() - start
                measured = f"{seconds:.1f} s"
                rate = max(rate or 0.0, seconds / max(works[point], 1.0))
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
