"""Concatenate a family's run tables per experiment and summarize over trials."""

from jobsetup import log_work_seconds, setup

setup(snakemake)  # noqa: F821 (injected by Snakemake; before numpy is imported)

import importlib
import sys
import time
from pathlib import Path

from implicit_reg.experiment import summarize
from implicit_reg.tables import concat_tables, provenance, write_table

START = time.perf_counter()

sm = snakemake  # noqa: F821 (injected by Snakemake)

family = sm.params.family
module = importlib.import_module(f"implicit_reg.{family}")
meta = provenance(sm.params.provenance, sm.params.provenance["seed"])
outputs = zip(sm.params.experiments, sm.output[0::2], sm.output[1::2], strict=True)
for experiment, trials_path, summary_path in outputs:
    runs = sorted(p for p in sm.input.runs if Path(p).parent.name == experiment)
    trials = concat_tables(runs)
    summary = summarize(trials, module.EXPERIMENTS[experiment].keys)
    write_table(trials, trials_path, meta)
    write_table(summary, summary_path, meta)
    print(f"{experiment}: {len(runs)} runs, {len(trials)} rows", file=sys.stderr)
log_work_seconds(START)
