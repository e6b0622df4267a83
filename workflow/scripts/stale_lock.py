"""Remove a Snakemake directory lock left by a run that was killed (run by `make report`).

Snakemake locks the working directory while it runs (``.snakemake/locks``). A run killed
with ``kill -9`` (or a closed laptop lid, or a cluster's time limit on the submitting
process) leaves the lock behind, and the next run stops with "Directory cannot be
locked". This script looks for a live Snakemake process working in this directory:

- none: the lock is stale; it runs ``snakemake --unlock`` and says so, and the next
  command resumes the run (``rerun-incomplete`` in the default profile reruns the jobs
  that were cut off);
- one: it names its process id and exits with status 1 without touching anything.

Usage: ``python workflow/scripts/stale_lock.py [snakemake arguments for --unlock]``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def snakemake_processes(directory: Path) -> list[int]:
    """Process ids of live Snakemake processes whose working directory is ``directory``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in (os.getpid(), os.getppid()):
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            cwd = Path(os.readlink(entry / "cwd")).resolve()
        except OSError:
            continue
        if "snakemake" in cmdline and "stale_lock.py" not in cmdline and cwd == directory:
            found.append(int(entry.name))
    return found


def main(argv: list[str]) -> int:
    directory = Path.cwd().resolve()
    locks = directory / ".snakemake" / "locks"
    if not locks.is_dir() or not any(locks.iterdir()):
        return 0
    live = snakemake_processes(directory)
    if live:
        print(
            f"{directory} is locked by a running Snakemake (pid {', '.join(map(str, live))}); "
            "wait for it to finish or stop it, then run the same command again.",
            file=sys.stderr,
        )
        return 1
    print(
        "removing the lock left by an interrupted run (no Snakemake process is alive "
        "here); the run resumes where it stopped.",
        file=sys.stderr,
    )
    done = subprocess.run([sys.executable, "-m", "snakemake", "--unlock", *argv])
    return done.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
