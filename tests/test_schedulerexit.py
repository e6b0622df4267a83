"""The end hooks cancel Snakemake's scheduler wake-up timers, and nothing else."""

import threading

from implicit_reg import schedulerexit


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
