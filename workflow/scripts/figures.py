"""Draw every figure of a family from its tables (PNG and PDF)."""

from jobsetup import log_work_seconds, setup

setup(snakemake)  # noqa: F821 (injected by Snakemake; before numpy is imported)

import importlib
import sys
import time
from pathlib import Path

from implicit_reg.plotting import save_figure
from implicit_reg.tables import read_table

START = time.perf_counter()

sm = snakemake  # noqa: F821 (injected by Snakemake)

family = sm.params.family
figures = importlib.import_module(f"implicit_reg.{family}.figures").FIGURES
missing = sorted(set(sm.params.captioned) - set(figures))
uncaptioned = sorted(set(figures) - set(sm.params.captioned))
if missing or uncaptioned:
    raise SystemExit(
        f"{family}: captions without a figure function {missing}; "
        f"figure functions without a caption in workflow/report/{family}/ {uncaptioned}"
    )
tables = {Path(p).stem: read_table(p) for p in sm.input.tables}
for name, png, pdf in zip(sm.params.figures, sm.output.png, sm.output.pdf, strict=True):
    save_figure(figures[name](tables), png, pdf)
    print(f"{family}/{name}: written", file=sys.stderr)
log_work_seconds(START)
