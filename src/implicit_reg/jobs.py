"""Per-job process settings, applied by workflow scripts before numpy is imported."""

from __future__ import annotations

import os

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def limit_threads(threads: int) -> None:
    """Cap BLAS/OpenMP threads at the job's ``threads`` unless the user set them.

    Several jobs run side by side; each BLAS spawning one thread per core oversubscribes
    the machine (batched small solves were measured ~10× slower that way).
    """
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, str(max(1, int(threads))))
