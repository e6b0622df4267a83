"""Running the workflow from tests: copies of the repository, Snakemake runs, job counts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

#: What a copy of the repository needs to run the workflow.
TRACKED = [
    "Snakefile",
    "workflow",
    "config",
    "docs",
    "src",
    "profiles",
    "pyproject.toml",
    "environment.yml",
    "Makefile",
]


def environment() -> dict[str, str]:
    """This process's environment without a SLURM job's variables (tests run inside one)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}


def snakemake(workdir, *args, timeout=900, merged=False):
    """Run Snakemake from ``workdir`` and return the completed process (``merged``: stderr
    into stdout, in the order printed)."""
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *args],
        cwd=workdir,
        text=True,
        timeout=timeout,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merged else subprocess.PIPE,
    )


def job_counts(output: str) -> dict[str, int]:
    """Rule -> number of jobs, from the first job table Snakemake printed."""
    counts = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit() and parts[0] not in ("job", "count"):
            if parts[0] == "total":
                break
            counts[parts[0]] = int(parts[1])
    return counts


def planned_jobs(workdir, config, *args, targets=()) -> dict[str, int]:
    """Rule name -> number of jobs a dry run would execute (``config``: one or more
    configuration files, a string or a list; ``targets`` first, since ``--quiet``,
    ``--config`` and ``--configfile`` take every word after them)."""
    configs = [config] if isinstance(config, str | Path) else list(config)
    run = snakemake(
        workdir, *targets, "-n", "--quiet", "rules", *args, "--configfile", *map(str, configs)
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return job_counts(run.stdout + "\n" + run.stderr)


def run_jobs(workdir, config, *args, cores=2) -> tuple[subprocess.CompletedProcess, dict]:
    """Run the workflow; return the process and rule -> number of jobs it ran."""
    configs = [config] if isinstance(config, str | Path) else list(config)
    run = snakemake(workdir, "--cores", str(cores), *args, "--configfile", *map(str, configs))
    return run, job_counts(run.stderr)


def copy_repository(root: Path, work: Path) -> None:
    work.mkdir(parents=True, exist_ok=True)
    for name in TRACKED:
        source = root / name
        if source.is_dir():
            shutil.copytree(source, work / name, symlinks=True)
        else:
            shutil.copy2(source, work / name)


def copy_run(finished: Path, work: Path) -> Path:
    """A copy of a directory in which the workflow ran: sources, results and Snakemake's
    records, time stamps kept (so that the copy is as up to date as the original)."""
    shutil.copytree(finished, work, symlinks=True)
    return work


def load(path: Path) -> dict:
    return yaml.safe_load(Path(path).read_text())


def simulate_jobs(counts: dict[str, int]) -> dict[str, int]:
    return {rule: n for rule, n in counts.items() if rule.endswith("_simulate")}


def kill_after_run_tables(workdir: Path, *args: str, count: int = 4) -> None:
    """Start ``snakemake --cores 2 *args`` in ``workdir`` and SIGKILL it (and its jobs)
    once ``count`` run tables were written after its start."""
    import signal
    import time

    started = time.time_ns()
    run = subprocess.Popen(
        [sys.executable, "-m", "snakemake", "--cores", "2", *args],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=environment(),
        start_new_session=True,
    )
    deadline = time.monotonic() + 600
    tables = "results/*/runs/*/*.parquet"
    while sum(p.stat().st_mtime_ns > started for p in workdir.glob(tables)) < count:
        assert run.poll() is None, "the run ended before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.2)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()


def make_report(
    workdir: Path, config: str, target: str = "report", **variables: object
) -> subprocess.CompletedProcess:
    """``make <target> CONFIG=config [NAME=value ...]`` in ``workdir`` with this test's
    virtual environment (its set-up steps taken as done)."""
    venv = Path(sys.executable).parents[1]
    return subprocess.run(
        [
            "make",
            "-o",
            "env",
            "-o",
            f"{venv}/.installed",
            target,
            f"VENV={venv}",
            f"CONFIG={config}",
            "CORES=2",
            *(f"{name}={value}" for name, value in variables.items()),
        ],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=900,
        env=environment(),
    )
