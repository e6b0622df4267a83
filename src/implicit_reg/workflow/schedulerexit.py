"""A finished Snakemake process exits at once instead of a second later.

Snakemake's job scheduler, after each scheduling round, starts a ``threading.Timer``
(non-daemon) that wakes the scheduler when its job-rate window
(``--max-jobs-per-timespan``, default ``100/1s``) has passed. When the run is over, the
last of these timers is still waiting, and the interpreter waits for it before exiting:
every run ended 1.0–1.4 s after its last job (smoke configuration: last job end to
process exit 1.39 s, 0.39 s with the timers cancelled), and so did the Snakemake process
that a cluster job step starts for each job of a group.

`cancel_at_exit`, called when the Snakefile is read (by every Snakemake process: the
main one, and those inside cluster jobs, where no ``onsuccess`` hook runs), registers
`cancel_scheduler_timers` with ``threading._register_atexit``: the functions the
interpreter calls at shutdown *before* it joins the remaining threads (the hook
``concurrent.futures`` uses). The scheduler has returned by then: waking it has no use.

Only the standard library: it runs in Snakemake's process.
"""

from __future__ import annotations

import threading

#: Where the timers' callbacks are defined (Snakemake's scheduler module).
SCHEDULER_MODULE = "job_scheduler.py"
_REGISTERED = [False]


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


def cancel_at_exit() -> bool:
    """Have `cancel_scheduler_timers` run at interpreter shutdown, before threads are
    joined (once per process). False where this Python lacks the hook (nothing is done).
    """
    register = getattr(threading, "_register_atexit", None)
    if register is None:
        return False
    if not _REGISTERED[0]:
        register(cancel_scheduler_timers)
        _REGISTERED[0] = True
    return True
