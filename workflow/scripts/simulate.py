"""Simulate one grid point: implicit_reg.<family>.experiments.EXPERIMENTS[experiment].simulate."""

from jobsetup import finish, read_job

sm = read_job()  # before numpy is imported: it sets the BLAS threads

import sys
import time

import numpy as np

from implicit_reg.atomic import replacing
from implicit_reg.experiment import experiments
from implicit_reg.seeding import generator
from implicit_reg.tables import provenance, write_table

START = time.perf_counter()

family, experiment, point = sm.params.family, sm.wildcards.experiment, sm.wildcards.point
spec = experiments(family)[experiment]
rng = generator(sm.params.seed, family, experiment, point)

start = time.perf_counter()
table, arrays = spec.simulate(dict(sm.params.point), rng)
seconds = time.perf_counter() - start

meta = provenance({family: {experiment: dict(sm.params.point)}}, sm.params.seed)
write_table(table, sm.output.table, meta)
with replacing(sm.output.arrays) as part:  # whole or not at all
    np.savez_compressed(part, **arrays)
diverged = int(table["diverged"].sum()) if "diverged" in table else 0
print(
    f"{family}/{experiment}/{point}: {len(table)} rows, {diverged} diverged, "
    f"simulation_seconds={seconds:.3f}",
    file=sys.stderr,
)
finish(START)
