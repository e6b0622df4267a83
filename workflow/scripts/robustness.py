"""Combine the replicates' claims: results/robustness/claims.parquet and index.html."""

from jobsetup import JobError, finish, read_job

sm = read_job()  # before numpy is imported: it sets the BLAS threads

import sys
import time
from pathlib import Path

import pandas as pd

from implicit_reg.tables import provenance, read_table, write_table
from implicit_reg.workflow.provenance import mixed_message, stale_tables
from implicit_reg.workflow.robustness import combined_claims, robustness_page, robustness_summary

START = time.perf_counter()

# Never a combination of replicates made with another configuration.
mixed = stale_tables(sm.params.expected)
if mixed:
    raise JobError(mixed_message(mixed, "robustness"))

seeds = [int(seed) for seed in sm.params.seeds]
replicates = {
    seed: pd.concat([read_table(p) for p in sm.params.claims[str(seed)]], ignore_index=True)
    for seed in seeds
}
combined = combined_claims(replicates)
write_table(combined, sm.output.table, provenance(sm.params.provenance, seeds[0]))
Path(sm.output.html).write_text(robustness_page(combined, seeds, sm.params.origin))

summary = robustness_summary(combined, seeds)
for row in summary.itertuples():
    print(
        f"{'robust' if row.robust else 'FRAGILE'} {row.family}/{row.claim}: {row.passes} of "
        f"{row.replicates} seeds; worst seed {row.worst_seed}: {row.worst_measured:.6g} "
        f"{row.comparison} {row.worst_threshold:g}",
        file=sys.stderr,
    )
line = (
    f"robustness: {int(summary.robust.sum())} of {len(summary)} rows pass at all "
    f"{len(seeds)} seeds ({', '.join(map(str, seeds))}); page: {sm.output.html}"
)
print(line, file=sys.stderr)
print(line, flush=True)  # stdout: the console (stderr is the job's log)
finish(START)
