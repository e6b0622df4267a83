"""Write results/report/index.html from claims, figures, captions and provenance."""

from jobsetup import JobError, finish, read_job

sm = read_job()  # before numpy is imported: it sets the BLAS threads

import importlib
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from implicit_reg.tables import read_table
from implicit_reg.workflow.provenance import (
    expected,
    mixed_message,
    source_revision,
    stale_tables,
)
from implicit_reg.workflow.report import (
    FigureEntry,
    build_report,
    logged_seconds,
    report_versions,
    science_sections,
)

START = time.perf_counter()

config = sm.params.config


def family_slice(family: str) -> dict:
    """The provenance the family's summary stored in its tables (its ``family_config``)."""
    return expected(sm.params.provenance[family], config["seed"])


# Never a report of tables made with other configurations.
wanted = {
    **{p: family_slice(f) for p, f in zip(sm.input.claims, sm.params.families, strict=True)},
    **{p: family_slice(Path(p).parent.name) for p in sm.input.tables},
}
mixed = stale_tables(wanted)
if mixed:
    raise JobError(mixed_message(mixed, "report"))

claims = pd.concat([read_table(p) for p in sm.input.claims], ignore_index=True)


def science_order(family: str) -> list[str]:
    """The family's figures in the order its ``FIGURES`` lists them (docs/science.md's)."""
    return list(importlib.import_module(f"implicit_reg.{family}.figures").FIGURES)


figures = sorted(
    (
        FigureEntry(
            Path(png).parent.name,
            Path(png).stem,
            Path(png).read_bytes(),
            Path(caption).read_text(),
        )
        for png, caption in zip(sm.input.figures, sm.input.captions, strict=True)
    ),
    key=lambda f: science_order(f.family).index(f.name),
)
diverged = pd.DataFrame(
    [
        {
            "family": Path(p).parent.name,
            "experiment": Path(p).stem,
            "diverged": int(t["diverged"].sum()) if "diverged" in t else 0,
            "rows": len(t),
        }
        for p, t in ((p, read_table(p)) for p in sm.input.tables)
    ]
)


def job_row(rule: str, benchmark: str, log: str) -> dict:
    """Wall time and peak memory of one job (its benchmark file, an input of the report);
    simulation seconds from its log."""
    bench = pd.read_csv(benchmark, sep="\t").iloc[-1]
    text = Path(log).read_text()
    return {
        "rule": rule,
        "s": float(bench["s"]),
        "max_rss": pd.to_numeric(bench["max_rss"], errors="coerce"),
        **logged_seconds(text),
    }


jobs = pd.DataFrame(
    [
        job_row(*job)
        for job in zip(sm.params.job_rules, sm.input.benchmarks, sm.input.logs, strict=True)
    ]
)
jobs = jobs if not jobs.empty else pd.DataFrame(columns=["rule", "s", "max_rss"])
html = build_report(
    claims,
    figures,
    diverged,
    config,
    {
        "seed": config["seed"],
        **sm.params.configfiles,
        **source_revision(Path(__file__).resolve().parents[2]),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "host": platform.node(),
        "job_seconds": float(jobs["s"].sum()),
    },
    report_versions(),
    jobs,
    [tuple(s) for s in sm.params.skipped],
    science_sections(Path(sm.input.science).read_text()),
    [tuple(edge) for edge in sm.params.rule_edges],
)
Path(sm.output.html).write_text(html)
print(f"report: {len(claims)} claims, {len(figures)} figures", file=sys.stderr)
finish(START)
