"""Requested against measured resources of every simulation job of a finished run.

For each grid point of a configuration, the memory and runtime the simulate rules request
(`implicit_reg.workflow.resources`, from the cost estimates) beside what the job used
(its Snakemake benchmark file: wall seconds and peak resident memory; its log:
simulation seconds). Per experiment it prints the jobs, the worst ratio of used to
requested (must stay below 1), and the slowest measured rate work / simulation seconds,
the value to put in the family's ``THROUGHPUT`` when the simulations change.

    python benchmarks/bench_resources.py [--config config/config.yaml] [--results .]
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pandas as pd

from implicit_reg.families import configured
from implicit_reg.grid import grid_points
from implicit_reg.workflow import resources
from implicit_reg.workflow.checks import cost_estimate
from implicit_reg.workflow.configcheck import load_config

SIMULATION_SECONDS = re.compile(r"simulation_seconds=([0-9.]+)")


def job_rows(config: dict, root: Path) -> pd.DataFrame:
    """One row per finished simulate job: requested and used resources."""
    rows = []
    for family in configured(config):
        for experiment, spec in config[family].items():
            for point, params in grid_points(spec):
                key = f"{family}/simulate/{experiment}/{point}"
                bench = root / "results" / "benchmarks" / f"{key}.tsv"
                if not bench.is_file():
                    continue
                used = pd.read_csv(bench, sep="\t").iloc[-1]
                log = (root / "results" / "logs" / f"{key}.log").read_text()
                found = SIMULATION_SECONDS.findall(log)
                rows.append(
                    {
                        "family": family,
                        "experiment": experiment,
                        "wall_s": float(used["s"]),
                        "rss_mb": float(used["max_rss"]),
                        "simulation_s": float(found[-1]) if found else float("nan"),
                        "work": cost_estimate(family, experiment)(params).work,
                        "mem_mb": resources.mem_mb(family, experiment, params),
                        "runtime_min": resources.runtime_minutes(family, experiment, params),
                    }
                )
    return pd.DataFrame(rows)


def per_experiment(jobs: pd.DataFrame) -> pd.DataFrame:
    jobs = jobs.assign(
        memory_used=jobs.rss_mb / jobs.mem_mb,
        time_used=jobs.wall_s / (60 * jobs.runtime_min),
        rate=jobs.work / jobs.simulation_s,
    )
    return jobs.groupby(["family", "experiment"]).agg(
        jobs=("wall_s", "size"),
        max_wall_s=("wall_s", "max"),
        max_runtime_min=("runtime_min", "max"),
        worst_time_used=("time_used", "max"),
        max_rss_mb=("rss_mb", "max"),
        max_mem_mb=("mem_mb", "max"),
        worst_memory_used=("memory_used", "max"),
        slowest_rate=("rate", "min"),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config/config.yaml")
    parser.add_argument("--results", default=".", help="directory holding results/")
    args = parser.parse_args()
    table = per_experiment(job_rows(load_config(args.config), Path(args.results)))
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(float_format=lambda v: f"{v:.3g}"))
    print(
        f"worst time used {table.worst_time_used.max():.2f}, "
        f"worst memory used {table.worst_memory_used.max():.2f} of the request"
    )


if __name__ == "__main__":
    main()
