"""Evaluate a family's claims against its tables: results/claims/<family>.parquet."""

from jobsetup import log_work_seconds, setup

setup(snakemake)  # noqa: F821 (injected by Snakemake; before numpy is imported)

import importlib
import sys
import time
from pathlib import Path

from implicit_reg.claims import claims_table
from implicit_reg.tables import provenance, read_table, write_table

START = time.perf_counter()

sm = snakemake  # noqa: F821 (injected by Snakemake)

family = sm.params.family
module = importlib.import_module(f"implicit_reg.{family}")
tables = {Path(p).stem: read_table(p) for p in sm.input.tables}
table = claims_table(module.claims(tables))
write_table(table, sm.output[0], provenance(sm.params.provenance, sm.params.provenance["seed"]))
for row in table.itertuples():
    status = "pass" if row.passed else "FAIL"
    print(f"{status} {row.claim_id}: {row.measured:.6g} {row.comparison} {row.threshold:g}",
          file=sys.stderr)
log_work_seconds(START)
