"""Cluster resources of each simulation job, from the configuration check's cost estimates.

Every experiment's ``COSTS`` entry (``implicit_reg.<family>.config``) estimates a grid
point's peak array memory and its floating-point work before any job runs; its
``THROUGHPUT`` entry is the slowest sustained rate (floating-point operations per second
on one core) measured for that experiment's jobs (`benchmarks/bench_resources.py` prints
it from a finished run). The simulate rules request, per grid point and per attempt

    mem_mb  = attempt · (BASELINE_MB + MEMORY_FACTOR · memory / 2²⁰)
    runtime = 2^(attempt − 1) · max(MIN_RUNTIME_MINUTES,
                                    ⌈RUNTIME_FACTOR · (FIXED_SECONDS + work / rate) / 60⌉)

so that a retry after a time limit or an out-of-memory kill asks for twice as much, as the
SLURM profile's defaults do for rules without an estimate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from implicit_reg.families import family_module
from implicit_reg.workflow.checks import cost_estimate

#: Memory of a job outside its arrays (interpreter, numpy, scipy, pandas, pyarrow), MB: the
#: smallest jobs of the smoke and default runs peak at 87–190 MB resident; doubled.
BASELINE_MB = 400
#: Temporaries beside the estimated peak arrays (a product and its operands alive at once).
MEMORY_FACTOR = 2
#: Seconds of a job outside its simulation (start, imports, writing): 1–5 s measured on a
#: busy 2-core machine; doubled.
FIXED_SECONDS = 10
#: Margin on the predicted time for a slower or shared cluster core.
RUNTIME_FACTOR = 3
#: The shortest runtime requested, minutes (the queue's scheduling granularity).
MIN_RUNTIME_MINUTES = 5


def throughput(family: str, experiment: str) -> float:
    """The measured rate of an experiment's jobs, floating-point operations per second."""
    return family_module(family, "config").THROUGHPUT[experiment]


def predicted_seconds(family: str, experiment: str, params: Mapping) -> float:
    """Predicted wall time of one job on one core: fixed cost plus work / rate."""
    work = cost_estimate(family, experiment)(params).work
    return FIXED_SECONDS + work / throughput(family, experiment)


def mem_mb(family: str, experiment: str, params: Mapping, attempt: int = 1) -> int:
    """Memory to request for one job, MB (doubling with each attempt)."""
    arrays = cost_estimate(family, experiment)(params).memory_bytes / 2**20
    return attempt * math.ceil(BASELINE_MB + MEMORY_FACTOR * arrays)


def runtime_minutes(family: str, experiment: str, params: Mapping, attempt: int = 1) -> int:
    """Wall time to request for one job, minutes (doubling with each attempt)."""
    minutes = math.ceil(RUNTIME_FACTOR * predicted_seconds(family, experiment, params) / 60)
    return 2 ** (attempt - 1) * max(MIN_RUNTIME_MINUTES, minutes)
