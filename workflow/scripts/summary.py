"""Summarize a family from its run tables, in one job.

1. tables: concatenate the run tables of each experiment (trial table) and summarize over
   trials (``results/<family>/<experiment>{,_summary}.parquet``);
2. claims: evaluate the family's claims on those tables (``results/claims/<family>.parquet``);
3. figures: draw every figure of the configuration (``results/figures/<family>/``, PNG, and
   PDF unless ``pdf_figures: false``).
"""

from jobsetup import JobError, finish, read_job

sm = read_job()  # before numpy is imported: it sets the BLAS threads

import importlib
import sys
import time
from pathlib import Path

from implicit_reg.claims import claims_table
from implicit_reg.experiment import summarize
from implicit_reg.plotting import save_figure
from implicit_reg.provenance import mixed_message, run_table_provenance, stale_tables
from implicit_reg.tables import concat_tables, provenance, read_table, write_table

START = time.perf_counter()

family = sm.params.family
module = importlib.import_module(f"implicit_reg.{family}")
figures = importlib.import_module(f"implicit_reg.{family}.figures").FIGURES
missing = sorted(set(sm.params.captioned) - set(figures))
uncaptioned = sorted(set(figures) - set(sm.params.captioned))
if missing or uncaptioned:
    raise JobError(
        f"{family}: captions without a figure function {missing}; "
        f"figure functions without a caption in workflow/report/{family}/ {uncaptioned}"
    )
meta = provenance(sm.params.provenance, sm.params.provenance["seed"])
# Never a summary of run tables made with another configuration.
mixed = stale_tables(run_table_provenance(sm.input.runs, family, sm.params.provenance))
if mixed:
    raise JobError(mixed_message(mixed, f"{family}_summary"))

tables = {}
outputs = zip(sm.params.experiments, sm.output.tables[0::2], sm.output.tables[1::2], strict=True)
for experiment, trials_path, summary_path in outputs:
    runs = sorted(p for p in sm.input.runs if Path(p).parent.name == experiment)
    trials = concat_tables(runs)
    summary = summarize(trials, module.EXPERIMENTS[experiment].keys)
    write_table(trials, trials_path, meta)
    write_table(summary, summary_path, meta)
    # Claims and figures read the tables as written: what a user reading them sees.
    tables[experiment], tables[f"{experiment}_summary"] = (
        read_table(trials_path),
        read_table(summary_path),
    )
    print(f"{experiment}: {len(runs)} runs, {len(trials)} rows", file=sys.stderr)

table = claims_table(module.claims(tables))
write_table(table, sm.output.claims, meta)
for row in table.itertuples():
    status = "pass" if row.passed else "FAIL"
    print(
        f"{status} {row.claim_id}: {row.measured:.6g} {row.comparison} {row.threshold:g}",
        file=sys.stderr,
    )

pdfs = sm.output.pdf or [None] * len(sm.output.png)  # none with `pdf_figures: false`
for name, png, pdf in zip(sm.params.figures, sm.output.png, pdfs, strict=True):
    save_figure(figures[name](tables), png, pdf)
    print(f"{family}/{name}: written", file=sys.stderr)
finish(START)
