"""The simulate rules request the memory and runtime the cost estimates predict.

`implicit_reg.workflow.resources` turns each grid point's estimate (peak array memory,
floating-point work, the experiment's measured throughput) into ``mem_mb`` and
``runtime``; a dry run of config/paper.yaml shows that every simulate job requests exactly
that, and that the paper scale's requests fit an ordinary cluster queue.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from implicit_reg.families import FAMILIES
from implicit_reg.grid import grid_points
from implicit_reg.workflow import resources
from implicit_reg.workflow.configcheck import load_config

#: An ordinary cluster queue: a day of wall time and 16 GB per single-core job.
QUEUE_MINUTES = 24 * 60
QUEUE_MB = 16_000

JOB = re.compile(r"^rule (?P<rule>\w+_simulate):\n(?P<body>(?:    .*\n)+)", re.MULTILINE)


def requested(output: str) -> dict[tuple[str, str, str], dict[str, int]]:
    """(family, experiment, point) -> requested mem_mb and runtime, from a dry run."""
    jobs = {}
    for match in JOB.finditer(output):
        body = dict(
            line.strip().split(": ", 1) for line in match["body"].splitlines() if ": " in line
        )
        wildcards = dict(item.split("=", 1) for item in body["wildcards"].split(", "))
        wildcards["point"] = body["wildcards"].split("point=", 1)[1]
        values = dict(re.findall(r"(mem_mb|runtime)=(\d+)", body["resources"]))
        family = match["rule"].removesuffix("_simulate")
        jobs[family, wildcards["experiment"], wildcards["point"]] = {
            k: int(v) for k, v in values.items()
        }
    return jobs


ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def paper_dry_run(tmp_path_factory):
    root = ROOT
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-n",
            "--cores",
            "1",
            "-s",
            str(root / "Snakefile"),
            "--configfile",
            str(root / "config" / "paper.yaml"),
        ],
        cwd=tmp_path_factory.mktemp("paper"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return requested(run.stdout + run.stderr)


@pytest.mark.workflow
def test_paper_simulate_jobs_request_their_estimates(root, paper_dry_run):
    config = load_config(root / "config" / "paper.yaml")
    expected = {
        (family, experiment, point): {
            "mem_mb": resources.mem_mb(family, experiment, params),
            "runtime": resources.runtime_minutes(family, experiment, params),
        }
        for family in FAMILIES
        for experiment, spec in config[family].items()
        for point, params in grid_points(spec)
    }
    assert paper_dry_run == expected
    assert max(r["runtime"] for r in expected.values()) <= QUEUE_MINUTES
    assert max(r["mem_mb"] for r in expected.values()) <= QUEUE_MB
    # The estimates separate the jobs: not one request for all.
    assert len({r["runtime"] for r in expected.values()}) > 3


def test_requests_grow_with_the_estimate_and_double_on_a_retry(root):
    config = load_config(root / "config" / "config.yaml")
    _, params = next(iter(grid_points(config["risk"]["min_norm"])))
    more = {**params, "n_trials": params["n_trials"] * 1000}
    for request in (resources.mem_mb, resources.runtime_minutes):
        assert request("risk", "min_norm", more) > request("risk", "min_norm", params)
        once = request("risk", "min_norm", more)
        assert request("risk", "min_norm", more, attempt=2) == 2 * once
    assert resources.runtime_minutes("risk", "min_norm", params) >= (resources.MIN_RUNTIME_MINUTES)
