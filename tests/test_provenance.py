"""`snakemake --report` against results made with another configuration (pure parts; the
workflow test is tests/test_workflow.py::test_native_report_with_another_configuration_says_so)."""

import pandas as pd

from implicit_reg.provenance import (
    differences,
    expected,
    report_requested,
    run_table_provenance,
    stale_tables,
)
from implicit_reg.tables import provenance, write_table


def test_differences_name_dotted_keys_both_values_and_absent_keys():
    stored = {"seed": 7, "risk": {"a": {"n": 4, "grid": {"m": [30]}, "old": 1}}}
    current = {"seed": 7, "risk": {"a": {"n": 6, "grid": {"m": (30, 40)}, "new": 2}}}
    assert differences(stored, current) == [
        "risk.a.grid.m is [30] there, [30, 40] here",
        "risk.a.n is 4 there, 6 here",
        "risk.a.new is absent there, 2 here",
        "risk.a.old is 1 there, absent here",
    ]
    assert differences(stored, stored) == []
    assert differences({"x": (1, 2)}, {"x": [1, 2]}) == []  # stored as JSON


def test_stale_tables_reads_each_tables_provenance(tmp_path):
    config = {"seed": 1, "risk": {"a": {"n": 4}}}
    write_table(pd.DataFrame({"x": [1]}), tmp_path / "a.parquet", provenance(config, 1))
    pd.DataFrame({"x": [1]}).to_parquet(tmp_path / "foreign.parquet")
    (tmp_path / "cut.parquet").write_bytes((tmp_path / "a.parquet").read_bytes()[:-30])
    edited = expected({"seed": 2, "risk": {"a": {"n": 4}}}, 2)
    lines = stale_tables(
        {
            str(tmp_path / "a.parquet"): edited,
            str(tmp_path / "foreign.parquet"): edited,
            str(tmp_path / "cut.parquet"): edited,
            str(tmp_path / "missing.parquet"): edited,
        }
    )
    assert lines[:2] == [
        f"  {tmp_path / 'a.parquet'}: seed is 1 there, 2 here",
        f"  {tmp_path / 'foreign.parquet'}: no configuration stored (not written by this workflow)",
    ]
    assert lines[2].startswith(f"  {tmp_path / 'cut.parquet'}: cannot be read")
    assert stale_tables({str(tmp_path / "a.parquet"): expected(config, 1)}) == []


def test_run_tables_are_compared_with_their_grid_point_and_seed(tmp_path):
    section = {"a": {"n": 4, "grid": {"m": [1, 2]}}}
    runs = tmp_path / "results" / "risk" / "runs" / "a"
    for m, seed in ((1, 7), (2, 8)):
        meta = provenance({"risk": {"a": {"n": 4, "m": m}}}, seed)
        write_table(pd.DataFrame({"x": [m]}), runs / f"m={m}.parquet", meta)
    wanted = run_table_provenance(
        sorted(runs.glob("*.parquet")), "risk", {"seed": 7, "risk": section}
    )
    assert stale_tables(wanted) == [f"  {runs / 'm=2.parquet'}: seed is 8 there, 7 here"]


def test_report_requested_only_for_a_report_of_existing_results():
    assert report_requested(["snakemake", "--report", "r.zip"])
    assert report_requested(["snakemake", "--report=r.zip", "--configfile", "c.yaml"])
    assert not report_requested(["snakemake", "--cores", "2"])
    assert not report_requested(["snakemake", "--report", "r.zip", "--report-after-run"])
