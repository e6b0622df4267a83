"""Predict the paper configuration's run time from one measured job of each kind.

For every experiment of a configuration (default ``config/paper.yaml``) the grid point
with the largest estimated work (`implicit_reg.checks.COSTS`) is run once, in this
process, with its workflow seed; every other grid point's time is extrapolated from it
in proportion to its estimated work. The table lists per experiment the jobs, the
measured job, the predicted job time, and the predicted wall time on ``--cores`` cores
(longest-processing-time-first scheduling of the predicted jobs, plus a measured fixed
cost per job for interpreter start, imports and writing). A real run on a machine with
that many cores is the check of the prediction.

It also bounds the run under ``profiles/slurm`` on a cluster with a free node for every
SLURM job: each ``<family>_simulate`` rule is cut into group jobs of the profile's
``group-components`` grid points, whose members run one after another, each in its own
Snakemake process, and the run takes as long as its longest group job. Snakemake does
not choose which grid points share a group job, so the bound puts the longest ones
together.

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

import yaml  # noqa: E402

from implicit_reg.checks import COSTS, families  # noqa: E402
from implicit_reg.configcheck import load_config  # noqa: E402
from implicit_reg.grid import grid_points  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: Fixed cost of one job outside its simulation (interpreter, imports, writing, dispatch),
#: seconds: (job time − script work) / jobs from benchmarks/bench_workflow.py on the smoke
#: configuration, (32.7 − 23.7) / 28 ≈ 0.32 s on this machine, rounded up.
JOB_FIXED_SECONDS = 0.4
#: Cost of one SLURM group job beyond its members' jobs, seconds: the group's Snakemake
#: process (about 2 s) and, per member, the Snakemake process the plugin's job step starts
#: for it (about 1.2 s); from the smoke configuration on the test cluster (sacct elapsed
#: time of each group job against its members' benchmark files).
SLURM_GROUP_SECONDS, SLURM_MEMBER_SECONDS = 2.0, 1.2


def lpt_makespan(durations: list[float], cores: int) -> float:
    """Wall time of running ``durations`` on ``cores`` workers, longest first."""
    loads = [0.0] * cores
    for d in sorted(durations, reverse=True):
        heapq.heapreplace(loads, loads[0] + d)
    return max(loads)


def slurm_group_jobs(jobs: dict[str, list[float]], profile: dict) -> dict[str, list[float]]:
    """Predicted seconds of each SLURM job of a run under ``profile``, per rule, at worst.

    A rule listed in the profile's ``groups`` is cut into group jobs of
    ``group-components`` members, run one after another; any other rule submits one
    SLURM job per job. The members are taken longest first, so the first group job of a
    rule is the longest that any assignment of its jobs to group jobs can produce.

    Parameters
    ----------
    jobs : dict
        Rule name -> predicted seconds of each of its jobs, in grid order.
    profile : dict
        The Snakemake profile (``groups``, ``group-components``).
    """
    groups, sizes = profile.get("groups", {}), profile.get("group-components", {})
    submitted = {}
    for rule, seconds in jobs.items():
        size = sizes.get(groups[rule], 1) if rule in groups else 1
        seconds = sorted(seconds, reverse=True)
        chunks = [seconds[i : i + size] for i in range(0, len(seconds), size)]
        submitted[rule] = [
            SLURM_GROUP_SECONDS + sum(chunk) + SLURM_MEMBER_SECONDS * len(chunk) for chunk in chunks
        ]
    return submitted


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
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=limit, check=True
        )
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
    rows, durations, by_rule = [], [], {}
    for family in families(config):
        if args.families and family not in args.families:
            continue
        for name, spec in config[family].items():
            points = list(grid_points(spec))
            cost = COSTS[family][name]
            works = {point: cost(params).work for point, params in points}
            point, params = max(points, key=lambda item: works[item[0]])
            seconds, finished = timed_job(
                family, name, point, params, config["seed"], args.max_seconds
            )
            measured = f"{seconds:.1f} s" if finished else f"≥ {seconds:.0f} s (stopped)"
            per_work = seconds / max(works[point], 1.0)
            jobs = [per_work * w + JOB_FIXED_SECONDS for w in works.values()]
            durations += jobs
            by_rule.setdefault(f"{family}_simulate", []).extend(jobs)
            rows.append((f"{family}/{name}", len(points), point, measured, sum(jobs), max(jobs)))
            print(f"measured {family}/{name} at {point}: {measured}", flush=True)
    print(f"\nconfig: {args.config}; prediction for {args.cores} cores")
    print(f"{'experiment':34} {'jobs':>5} {'job time s':>11} {'longest s':>10}  measured point")
    for name, jobs, point, measured, total, longest in rows:
        print(f"{name:34} {jobs:5d} {total:11.1f} {longest:10.1f}  {point} ({measured})")
    total = sum(durations)
    wall = lpt_makespan(durations, args.cores)
    print(
        f"\nsimulation jobs: {len(durations)}, job time {total:.0f} s "
        f"({total / 60:.1f} min of one core)"
    )
    print(
        f"predicted wall time of the simulations on {args.cores} cores: {wall:.0f} s "
        f"({wall / 60:.1f} min); bound by the longest job: {max(durations):.0f} s"
    )

    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "profile.yaml").read_text())
    submitted = slurm_group_jobs(by_rule, profile)
    print("\nprofiles/slurm (a free node per SLURM job; queue waits not counted)")
    print(f"{'rule':20} {'jobs':>5} {'SLURM jobs':>11} {'longest SLURM job s, at most':>29}")
    for rule, seconds in submitted.items():
        print(f"{rule:20} {len(by_rule[rule]):5d} {len(seconds):11d} {max(seconds):29.1f}")
    longest = max(max(seconds) for seconds in submitted.values())
    count = sum(len(seconds) for seconds in submitted.values())
    print(
        f"predicted wall time of the simulations through SLURM: at most {longest:.0f} s "
        f"({longest / 60:.1f} min) with {count} SLURM jobs"
    )


if __name__ == "__main__":
    main()
