"""Progress lines for long loops: steps done, rate and time left, to the job's log.

Simulation code stays free of I/O: it reports through the standard `logging` module
(logger ``implicit_reg.progress``). Workflow jobs send that logger to their log file
(`workflow/scripts/jobsetup.py`), so a cluster user can ``tail -f`` a running job; in
tests and notebooks nothing is printed unless logging is configured.
"""

from __future__ import annotations

import logging
import time

LOGGER = logging.getLogger("implicit_reg.progress")
#: Seconds between two progress lines of one loop.
INTERVAL = 5.0


class Progress:
    """Report ``done`` of ``total`` steps of a loop at most every `INTERVAL` seconds.

    Parameters
    ----------
    total : int
        Steps the loop will take.
    label : str
        What is iterating (named in each line).
    unit : str
        What one step is, in the plural (``"steps"``, ``"aspect ratios"``).
    """

    def __init__(self, total: int, label: str, unit: str = "steps") -> None:
        self.total = max(1, int(total))
        self.label = label
        self.unit = unit
        self.start = self.last = time.perf_counter()

    def update(self, done: int) -> None:
        """Log a line if `INTERVAL` seconds passed since the last one (cheap otherwise)."""
        now = time.perf_counter()
        if now - self.last < INTERVAL:
            return
        self.last = now
        rate = done / max(now - self.start, 1e-12)
        left = (self.total - done) / rate if rate > 0 else float("inf")
        LOGGER.info(
            "%s: %d/%d %s (%.0f%%), %.3g %s/s, about %.0f s left",
            self.label,
            done,
            self.total,
            self.unit,
            100.0 * done / self.total,
            rate,
            self.unit,
            left,
        )
