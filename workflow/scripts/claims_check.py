"""List every claim; with strict_claims, fail the workflow when any claim fails."""

from jobsetup import finish, read_job

sm = read_job()  # before numpy is imported: it sets the BLAS threads

import sys
import time

import pandas as pd

from implicit_reg.claims import recompute_passed
from implicit_reg.tables import read_table

START = time.perf_counter()

claims = pd.concat([read_table(p) for p in sm.input.claims], ignore_index=True)
claims["passed"] = recompute_passed(claims)
if "kind" not in claims:
    claims["kind"] = "claim"
failed = claims[~claims.passed]
for row in failed.itertuples():
    print(
        f"FAILED {row.kind} {row.family}/{row.claim_id}: measured {row.measured:.6g}, "
        f"required {row.comparison} {row.threshold:g}",
        file=sys.stderr,
    )
is_claim = claims.kind == "claim"
summary = (
    f"claims: {int(claims.passed[is_claim].sum())} of {int(is_claim.sum())} passed, "
    f"consistency checks: {int(claims.passed[~is_claim].sum())} of {int((~is_claim).sum())} "
    f"passed; failed: {', '.join(failed.family + '/' + failed.claim_id) or 'none'}; "
    f"report: {sm.input.report}"
)
print(summary, file=sys.stderr)
print(summary, flush=True)  # stdout: the console (stderr is the job's log)
if sm.params.strict and len(failed):
    sys.stderr.flush()
    print(
        f"strict_claims: {len(failed)} of {len(claims)} claims failed "
        f"({', '.join(failed.family + '/' + failed.claim_id)}); see {sm.input.report}",
        flush=True,
    )
    sys.exit(1)
claims[["family", "claim_id", "kind", "measured", "comparison", "threshold", "passed"]].to_csv(
    sm.output.tsv, sep="\t", index=False
)
finish(START)
