"""Every family's claims as one HTML page: an item of `snakemake --report`."""

from jobsetup import finish, read_job

sm = read_job()  # before numpy is imported: it sets the BLAS threads

import sys
import time
from pathlib import Path

import pandas as pd

from implicit_reg import __version__
from implicit_reg.tables import read_table
from implicit_reg.workflow.report import claims_page

START = time.perf_counter()

claims = pd.concat([read_table(p) for p in sm.input.claims], ignore_index=True)
Path(sm.output.page).write_text(claims_page(claims, __version__))
print(f"claims page: {len(claims)} rows", file=sys.stderr)
finish(START)
