"""Time the whole workflow on a configuration and report where the time goes.

Runs the repository's Snakefile from scratch in a temporary working directory and prints:
wall time, per-rule job time and peak memory (from Snakemake benchmark files), the
time spent inside simulation code (logged by every simulate job), and the share of
time outside it (interpreter starts, imports, I/O, scheduling, plotting, report).

    python benchmarks/bench_workflow.py [--config config/config.yaml] [--cores 2]
        [--families risk diagonal]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from implicit_reg.report import logged_seconds

ROOT = Path(__file__).resolve().parents[1]


def job_table(work: Path) -> pd.DataFrame:
    """One row per job: rule, wall seconds, peak RSS (MB), simulation seconds."""
    rows = []
    for bench in sorted((work / "results" / "benchmarks").rglob("*.tsv")):
        # Strip ".tsv" only: a grid point such as "p=0.25" has a dot of its own.
        relative = str(bench.relative_to(work / "results" / "benchmarks"))[: -len(".tsv")]
        parts = Path(relative).parts
        rule = parts[0] if len(parts) == 1 else f"{parts[0]}_{parts[1]}"
        log = work / "results" / "logs" / f"{relative}.log"
        text = log.read_text() if log.exists() else ""
        record = pd.read_csv(bench, sep="\t").iloc[-1]
        seconds = logged_seconds(text)
        rows.append(
            {
                "rule": rule,
                "s": float(record["s"]),
                "max_rss_mb": pd.to_numeric(record["max_rss"], errors="coerce"),
                "simulation_s": seconds["simulation_seconds"],
                "work_s": seconds["work_seconds"],
                "process_s": seconds["process_seconds"],
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config/config.yaml")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--families", nargs="*", help="keep only these families")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="implicit-reg-bench-") as tmp:
        work = Path(tmp)
        config = yaml.safe_load((ROOT / args.config).read_text())
        config["strict_claims"] = False
        if args.families:
            config = {
                k: v
                for k, v in config.items()
                if k in ("seed", "strict_claims") or k in args.families
            }
        (work / "bench.yaml").write_text(yaml.safe_dump(config))
        start = time.perf_counter()
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "snakemake",
                "-s",
                str(ROOT / "Snakefile"),
                "--cores",
                str(args.cores),
                "--configfile",
                "bench.yaml",
            ],
            cwd=work,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - start
        if run.returncode != 0:
            sys.exit(run.stderr[-3000:])
        jobs = job_table(work)

    per_rule = jobs.groupby("rule").agg(
        jobs=("s", "size"),
        total_s=("s", "sum"),
        max_s=("s", "max"),
        peak_mb=("max_rss_mb", "max"),
        simulation_s=("simulation_s", "sum"),
        work_s=("work_s", "sum"),
        process_s=("process_s", "sum"),
    )
    simulation, work, job_time = jobs.simulation_s.sum(), jobs.work_s.sum(), jobs.s.sum()
    print(f"config: {args.config}  families: {args.families or 'all'}  cores: {args.cores}")
    print(per_rule.round(2).to_string())
    print(f"\nwall time: {wall:.1f} s   jobs: {len(jobs)}   job time: {jobs.s.sum():.1f} s")
    print(f"simulation code: {simulation:.1f} s; all script work after imports: {work:.1f} s")
    process = jobs.process_s.sum()
    print(
        f"interpreter start + imports: {process - work:.1f} s = "
        f"{100 * (1 - work / process):.1f}% of the job processes' time ({process:.1f} s)"
    )
    idle = args.cores * wall - job_time
    print(
        f"scheduling and idle cores: {idle:.1f} core-s; overhead (starts, imports, "
        f"scheduling, idle) = {100 * (1 - work / (args.cores * wall)):.1f}% of cores x wall"
    )
    print(
        f"outside simulation code altogether: "
        f"{100 * (1 - simulation / (args.cores * wall)):.1f}% of cores x wall"
    )
    print(f"peak memory of any job: {jobs.max_rss_mb.max():.0f} MB")


if __name__ == "__main__":
    main()
