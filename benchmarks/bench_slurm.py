"""Wall time of the smoke configuration through SLURM against a local run, same session.

Needs the local test cluster (`sudo cluster/start.sh`, or `make test-slurm` once). Each
repetition runs config/smoke.yaml in a fresh directory, first through profiles/slurm (with
the test cluster's fast-polling overlay profiles/slurm-local, as the tests do), then
locally with `--cores 2`, and prints both wall times, their ratio and the number of SLURM
jobs. The goal: through SLURM within 2x the local wall time.

    .venv/bin/python benchmarks/bench_slurm.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(workdir: Path, *args: str) -> tuple[float, str]:
    """Wall seconds and output of Snakemake on config/smoke.yaml in ``workdir``."""
    (workdir / "config").mkdir(parents=True)
    shutil.copy(ROOT / "config" / "smoke.yaml", workdir / "config" / "smoke.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    start = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-s",
            str(ROOT / "Snakefile"),
            "--configfile",
            "config/smoke.yaml",
            *args,
        ],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    seconds = time.monotonic() - start
    output = done.stdout + done.stderr
    if done.returncode != 0:
        sys.exit(f"snakemake failed in {workdir}:\n{output[-3000:]}")
    return seconds, output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    repeat = parser.parse_args().repeat
    status = subprocess.run(
        ["bash", str(ROOT / "cluster" / "status.sh")], capture_output=True, text=True
    )
    if status.returncode != 0:
        sys.exit(f"the test cluster is not up: {status.stderr.strip()}")
    ratios = []
    for i in range(repeat):
        with tempfile.TemporaryDirectory(prefix="implicit-reg-bench-slurm-") as tmp:
            slurm_s, log = run(
                Path(tmp) / "slurm",
                "--workflow-profile",
                "none",
                "--profile",
                str(ROOT / "profiles" / "slurm"),
                "--profile",
                str(ROOT / "profiles" / "slurm-local"),
            )
            local_s, _ = run(Path(tmp) / "local", "--cores", "2")
        jobs = len(set(re.findall(r"submitted with SLURM jobid (\d+)", log)))
        ratios.append(slurm_s / local_s)
        print(
            f"run {i + 1}: SLURM {slurm_s:.1f} s ({jobs} SLURM jobs), local {local_s:.1f} s, "
            f"ratio {slurm_s / local_s:.2f}",
            flush=True,
        )
    ratios.sort()
    median = (
        ratios[len(ratios) // 2]
        if len(ratios) % 2
        else sum(ratios[len(ratios) // 2 - 1 : len(ratios) // 2 + 1]) / 2
    )
    print(
        f"ratio SLURM/local: median {median:.2f}, min {ratios[0]:.2f}, max {ratios[-1]:.2f} "
        "(goal: <= 2)"
    )


if __name__ == "__main__":
    main()
