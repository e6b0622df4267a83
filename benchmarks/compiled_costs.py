"""Shared measurements of the compiled-loop benchmarks: this core's rate, the JIT's costs.

- `core_rate`: floating-point operations per nanosecond of one core, measured in this
  run by a compiled multiply-add loop on a cache-resident vector (the same strict IEEE
  options as the kernels: no fused multiply-add) and by numpy's ``dot``;
- `jit_costs`: numba's import time and a kernel's first call in a fresh process with an
  empty cache (compilation) and with the cache that call left (load).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from implicit_reg.compiled import compiled


@compiled
def _multiply_add(y, x, a, repeats):
    """``y ← a·y + x`` elementwise, ``repeats`` times: 2 flops per element and pass."""
    for _ in range(repeats):
        for i in range(y.size):
            y[i] = a * y[i] + x[i]


def best_of(function, repeats: int = 5) -> float:
    """Smallest wall time of ``repeats`` calls of ``function()`` (s)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def core_rate() -> dict[str, float]:
    """Flop per ns of a compiled multiply-add loop and of ``numpy.dot`` (4096 doubles)."""
    x, y = np.full(4096, 1e-3), np.zeros(4096)
    _multiply_add(y, x, 0.5, 1)
    passes = 2000
    compiled_s = best_of(lambda: _multiply_add(y, x, 0.5, passes))
    dots = 2000
    dot_s = best_of(lambda: [np.dot(x, x) for _ in range(dots)])
    return {
        "compiled_multiply_add": 2 * x.size * passes / (compiled_s * 1e9),
        "numpy_dot": 2 * x.size * dots / (dot_s * 1e9),
    }


_CHILD = """
import json, sys, time
start = time.perf_counter()
import numba
imported = time.perf_counter()
exec(sys.argv[1])
ready = time.perf_counter()
exec(sys.argv[2])
done = time.perf_counter()
print(json.dumps({"numba_import_s": imported - start, "setup_s": ready - imported,
                  "first_call_s": done - ready}))
"""


def jit_costs(setup: str, call: str) -> dict[str, float]:
    """numba's import and the first ``call`` in fresh processes: compiled, then cached.

    ``setup`` imports the kernel's module and builds its inputs; ``call`` runs the kernel
    once. Both processes share a new ``NUMBA_CACHE_DIR``: the first compiles and writes
    the cache, the second loads it.
    """
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache, "OPENBLAS_NUM_THREADS": "1"}
        runs = []
        for _ in range(2):
            out = subprocess.run(
                [sys.executable, "-c", _CHILD, setup, call],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {
        "numba_import_s": runs[1]["numba_import_s"],
        "compile_first_call_s": runs[0]["first_call_s"],
        "cached_first_call_s": runs[1]["first_call_s"],
    }


def print_loop(name: str, ns_per_step: float, flops: float, rate: float, baseline_ns: float):
    """One line: ns/step, flops/step, floor ns at ``rate``, ratio to floor, speed-up."""
    floor = flops / rate
    print(
        f"{name:<44} {ns_per_step:10.1f} ns/step  {flops:8.0f} flop  floor {floor:8.1f} ns"
        f"  ×floor {ns_per_step / floor:6.2f}  speed-up vs numpy {baseline_ns / ns_per_step:7.1f}×"
    )
