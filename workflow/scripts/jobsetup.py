"""Prelude of every workflow script, imported before numpy.

Snakemake puts this folder on ``sys.path`` when it runs a script. `setup` makes the
package importable from the repository (no installation needed, e.g. in a per-rule
conda environment), caps BLAS threads at the job's ``threads`` and sends stderr to the
job's log.
"""

import os
import sys
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def setup(sm) -> None:
    """Prepare the process of one job described by the Snakemake object ``sm``.

    Several jobs run side by side: a BLAS spawning one thread per core in each of them
    oversubscribes the machine (batched small solves were measured ~10x slower), so the
    thread count follows the job's ``threads`` unless the user set it.
    """
    if str(SRC) not in sys.path:
        sys.path.insert(0, str(SRC))
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, str(max(1, int(sm.threads))))
    sys.stderr = open(sm.log[0], "w", buffering=1)  # noqa: SIM115 (open for the job's life)
    # Progress of long loops (implicit_reg.progress) goes to the log as it happens.
    import logging

    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(message)s", force=True
    )


def process_seconds() -> float:
    """Wall time since this process started (Linux ``/proc``; NaN elsewhere)."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, IndexError, ValueError):
        return float("nan")
    return uptime - ticks / os.sysconf("SC_CLK_TCK")


def log_work_seconds(start: float) -> None:
    """Log ``work_seconds=`` (since ``start``, taken after the imports) and
    ``process_seconds=`` (since the interpreter started).

    Their difference is the job's fixed cost: interpreter start, Snakemake's script
    preamble and imports.
    """
    print(
        f"work_seconds={time.perf_counter() - start:.3f} "
        f"process_seconds={process_seconds():.3f}",
        file=sys.stderr,
    )
