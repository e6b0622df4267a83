"""Prelude of every workflow script, imported before numpy.

Every job runs ``python workflow/scripts/<script>.py JOB 2> LOG`` (a ``shell:`` rule;
``job_command`` in ``workflow/rules/common.smk``), where JOB is the job as one JSON
argument, read by `read_job`. The process does not import Snakemake, as the ``script:``
directive's preamble does (0.15–0.2 s of every job, measured with ``python -X
importtime``). `read_job` makes the package importable from the repository (no
installation needed, e.g. in a per-rule conda environment) and caps BLAS threads at the
job's ``threads``; stderr is the job's log.
"""

import contextlib
import os
import sys
import time
import traceback
from pathlib import Path
from types import SimpleNamespace
from typing import NoReturn

SRC = Path(__file__).resolve().parents[2] / "src"
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


class JobError(Exception):
    """A job that cannot go on, for a reason its message states in full (no traceback)."""


def job_label(document: dict, script: str) -> str:
    """``<script> <family>/<wildcard values>`` (e.g. ``simulate noise/ou/all``)."""
    parts = [document["params"].get("family"), *document["wildcards"].values()]
    return f"{Path(script).stem} " + "/".join(str(p) for p in parts if p is not None)


def report_failures(label: str) -> None:
    """Make an uncaught exception name its cause on the console, not only in the log.

    The traceback goes to stderr (the job's log); one line, ``<label> failed: <type>:
    <message>``, goes to stdout as well, which Snakemake's console shows: where the
    log cannot be written (a full disk), that line is still printed. A `JobError` is
    written as its message only.
    """

    def hook(kind, error, trace):
        expected = issubclass(kind, JobError)
        line = f"{label} failed: " + (str(error) if expected else f"{kind.__name__}: {error}")
        with contextlib.suppress(OSError):  # the log may be on a full disk
            if not expected:
                traceback.print_exception(kind, error, trace)
            print(line, file=sys.stderr, flush=True)
        with contextlib.suppress(OSError):
            print(line, file=sys.stdout, flush=True)

    sys.excepthook = hook


def read_job(argv: list[str] | None = None) -> SimpleNamespace:
    """The job that a ``shell:`` rule passes as its one argument, and the process set up.

    The JSON document (``job_argument`` in ``workflow/rules/common.smk``, inline or in a
    file: `implicit_reg.jobargs`) has the mappings ``params``, ``wildcards``, ``input``
    and ``output`` (each value a path or a list of paths) and ``threads``; they are
    returned as attributes, like Snakemake's object: ``job.params.family``,
    ``job.output.table``. stderr is the log already (``2> LOG`` in the rule).

    Several jobs run side by side: a BLAS spawning one thread per core in each of them
    oversubscribes the machine (batched small solves were measured ~10x slower), so the
    thread count follows the job's ``threads`` unless the user set it.
    """
    if str(SRC) not in sys.path:
        sys.path.insert(0, str(SRC))
    from implicit_reg.jobargs import decode

    argv = sys.argv if argv is None else argv
    document = decode(argv[1])
    report_failures(job_label(document, argv[0]))
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, str(max(1, int(document["threads"]))))
    # Progress of long loops (implicit_reg.progress) goes to the log as it happens.
    import logging

    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(message)s", force=True
    )
    return SimpleNamespace(
        threads=document["threads"],
        **{
            part: SimpleNamespace(**document[part])
            for part in ("params", "wildcards", "input", "output")
        },
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

    Their difference is the job's fixed cost: interpreter start and
    imports.
    """
    print(
        f"work_seconds={time.perf_counter() - start:.3f} process_seconds={process_seconds():.3f}",
        file=sys.stderr,
    )


def finish(start: float) -> NoReturn:
    """End a job that has written and closed all its outputs: log the timing fields
    (`log_work_seconds`), flush the log and the console, and leave without the
    interpreter's teardown.

    Freeing the modules and objects of numpy, pandas, pyarrow, scipy and matplotlib at
    exit took 0.13–0.15 s of every job's wall time (a simulation job measured at 0.69 s
    with it, 0.54 s without). A job that fails raises before this point and exits the
    ordinary way, with its traceback and a non-zero status.
    """
    import logging

    log_work_seconds(start)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
