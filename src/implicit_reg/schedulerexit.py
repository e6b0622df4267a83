"""A finished run's Snakemake process exits at once instead of a second later.

Snakemake's job scheduler, after each scheduling round, starts a ``threading.Timer``
(non-daemon) that wakes the scheduler when its job-rate window
(``--max-jobs-per-timespan``, default ``100/1s``) has passed. When the run is over, the
last of these timers is still waiting, and the interpreter waits for it at exit: every
run, dry runs included, ended 1.0–1.4 s after its last job (measured on the smoke
configuration: job end to process exit 1.39 s, 0.1 s once the timers are cancelled). The
workflow's ``onsuccess`` and ``onerror`` hooks call `cancel_scheduler_timers`: the
scheduler has returned by then, so waking it has no use.

Only the standard library: it runs in Snakemake's process.
"""

from __future__ import annotations

import threading

#: Where the timers' callbacks are defined (Snakemake's scheduler module).
SCHEDULER_MODULE = "job_scheduler.py"


def scheduler_timers() -> list[threading.Timer]:
    """Pending timers whose callback was defined in Snakemake's scheduler module."""
    found = []
    for thread in threading.enumerate():
        if not isinstance(thread, threading.Timer) or not thread.is_alive():
            continue
        code = getattr(thread.function, "__code__", None)
        if code is not None and code.co_filename.endswith(SCHEDULER_MODULE):
            found.append(thread)
    return found


def cancel_scheduler_timers() -> int:
    """Cancel the scheduler's pending wake-up timers; return how many were cancelled.

    A timer of any other origin is left alone, and nothing happens if Snakemake no
    longer uses such timers.
    """
    timers = scheduler_timers()
    for timer in timers:
        timer.cancel()
    return len(timers)
