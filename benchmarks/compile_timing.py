"""The numba import and a kernel's first-call compile time against its cached load.

Shared by the ``bench_compiled_*`` scripts: runs ``setup`` then times ``call`` in two
fresh interpreters sharing an empty ``NUMBA_CACHE_DIR``; the first compiles and writes
the cache, the second loads it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile


def compile_and_cached_load(setup: str, call: str) -> tuple[float, float, float]:
    """Seconds of ``import numba``, of ``call`` compiling, and of ``call`` from the cache."""
    code = (
        "import time; t = time.perf_counter(); import numba; t1 = time.perf_counter()\n"
        f"{setup}\nt2 = time.perf_counter()\n{call}\n"
        "print(f'{t1 - t:.3f} {time.perf_counter() - t2:.3f}')"
    )
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        runs = [
            subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
            )
            for _ in range(2)
        ]
    (_, first), (imported, cached) = (map(float, r.stdout.split()) for r in runs)
    return imported, first, cached
