"""Remove a Snakemake directory lock left by a run that was killed (run by `make report`).

Snakemake locks the working directory while it runs (``.snakemake/locks``). A run killed
with ``kill -9`` (or a closed laptop lid, or a cluster's time limit on the submitting
process) leaves the lock behind, and the next run stops with "Directory cannot be
locked". Killing Snakemake does not kill its jobs: a job it started
(``python workflow/scripts/<script>.py JOB``) goes on writing its outputs. This script
looks for live processes working in this directory, of Snakemake and of the workflow's
jobs:

- none: the lock is stale; it runs ``snakemake --unlock`` and says so, and the next
  command resumes the run (``rerun-incomplete`` in the default profile reruns the jobs
  that were cut off);
- some: it names them and exits with status 1 without touching anything (two processes
  writing the same files would mix two runs).

Usage: ``python workflow/scripts/stale_lock.py [snakemake arguments for --unlock]``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

#: The workflow's job scripts: a process running one of them is a job of a run.
SCRIPTS = Path(__file__).resolve().parent


def job_scripts(command: str, directory: Path) -> list[str]:
    """Names of the workflow's job scripts that ``command`` runs (the rules name them by a
    path relative to the working directory, or absolute when outside it)."""
    folders = {str(SCRIPTS), os.path.relpath(SCRIPTS, directory)}
    return [
        script.name
        for script in sorted(SCRIPTS.glob("*.py"))
        if script.name != "stale_lock.py"
        and any(f"{folder}/{script.name}" in command for folder in folders)
    ]


def live_processes(directory: Path) -> dict[int, str]:
    """Process id -> kind ("Snakemake" or "job <script>") of every live process whose
    working directory is ``directory`` and that is Snakemake or one of the workflow's
    job scripts (a job left running by a killed Snakemake)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in (os.getpid(), os.getppid()):
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
            cwd = Path(os.readlink(entry / "cwd")).resolve()
        except OSError:
            continue
        if cwd != directory or any(Path(a).name == "stale_lock.py" for a in argv):
            continue
        # A job's interpreter, or the shell that runs its command, names a script here.
        scripts = job_scripts(" ".join(argv), directory)
        if scripts:
            found[int(entry.name)] = f"job {scripts[0]}"
        elif any(Path(a).name == "snakemake" for a in argv[:3]):  # snakemake, -m snakemake
            found[int(entry.name)] = "Snakemake"
    return found


def main(argv: list[str]) -> int:
    directory = Path.cwd().resolve()
    locks = directory / ".snakemake" / "locks"
    if not locks.is_dir() or not any(locks.iterdir()):
        return 0
    live = live_processes(directory)
    if live:
        named = ", ".join(f"pid {pid} ({kind})" for pid, kind in sorted(live.items()))
        print(
            f"{directory} is locked, and processes of a run are alive here: {named}; "
            "wait for them to finish or stop them, then run the same command again.",
            file=sys.stderr,
        )
        return 1
    print(
        "removing the lock left by an interrupted run (no Snakemake process and no job "
        "of the workflow is alive here); the run resumes where it stopped.",
        file=sys.stderr,
    )
    done = subprocess.run([sys.executable, "-m", "snakemake", "--unlock", *argv])
    return done.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
