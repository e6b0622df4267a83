"""The end hooks cancel Snakemake's scheduler wake-up timers, and nothing else."""

import threading

from implicit_reg.workflow import schedulerexit


def test_only_scheduler_timers_are_cancelled():
    where = "/x/snakemake/scheduling/job_scheduler.py"
    scheduler_callback = eval(compile("lambda: None", where, "eval"))
    ours = threading.Timer(30, scheduler_callback)
    other = threading.Timer(30, lambda: None)
    ours.start()
    other.start()
    try:
        assert schedulerexit.scheduler_timers() == [ours]
        assert schedulerexit.cancel_scheduler_timers() == 1
        ours.join(timeout=5)
        assert not ours.is_alive() and other.is_alive()
        assert schedulerexit.cancel_scheduler_timers() == 0
    finally:
        other.cancel()
        ours.cancel()


def test_process_exits_without_waiting_for_a_scheduler_timer(root):
    """With `cancel_at_exit`, a pending 60 s scheduler timer does not delay the exit."""
    import subprocess
    import sys
    import time

    code = (
        "import sys, threading; sys.path.insert(0, sys.argv[1]);"
        "from implicit_reg.workflow import schedulerexit;"
        "f = eval(compile('lambda: None', '/x/snakemake/scheduling/job_scheduler.py', 'eval'));"
        "threading.Timer(60, f).start();"
        "assert schedulerexit.cancel_at_exit()"
    )
    start = time.monotonic()
    run = subprocess.run([sys.executable, "-c", code, str(root / "src")], timeout=50)
    assert run.returncode == 0
    assert time.monotonic() - start < 20
