"""The cluster configuration never rots: config/paper.yaml through profiles/slurm, dry run."""

import math
import subprocess
import sys

import pytest
import yaml

from implicit_reg.families import FAMILIES

pytest.importorskip("snakemake_executor_plugin_slurm")


def job_counts(output: str) -> dict[str, int]:
    """Rule -> job count from the first "Job stats" table of a Snakemake dry run."""
    counts, inside = {}, False
    for line in output.splitlines():
        parts = line.split()
        if line.startswith("Job stats"):
            inside = True
        elif inside and len(parts) == 2 and parts[1].isdigit():
            if parts[0] == "total":
                break
            counts[parts[0]] = int(parts[1])
    return counts


def slurm_submissions(counts: dict[str, int], profile: dict, local: set[str]) -> int:
    """SLURM jobs a run submits: one per group of ``group-components`` grouped jobs,
    one per other non-local job."""
    groups = profile.get("groups", {})
    size = profile.get("group-components", {})
    total = 0
    for rule, n in counts.items():
        if rule in local:
            continue
        total += math.ceil(n / size.get(groups[rule], 1)) if rule in groups else n
    return total


def test_paper_config_builds_its_cluster_dag(root, tmp_path):
    # In a directory of its own: results of a run in the checkout change nothing here.
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-n",
            "-s",
            str(root / "Snakefile"),
            "--workflow-profile",
            "none",
            "--profile",
            str(root / "profiles" / "slurm"),
            "--configfile",
            str(root / "config" / "paper.yaml"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-3000:]
    counts = job_counts(output)
    profile = yaml.safe_load((root / "profiles" / "slurm" / "profile.yaml").read_text())
    # Only the simulations are cluster jobs; the light rules are `localrule`s
    # (tests/test_workflow.py::test_light_rules_run_as_local_rules).
    local = {rule for rule in counts if not rule.endswith("_simulate")}
    jobs = slurm_submissions(counts, profile, local=local)
    simulate = sum(n for rule, n in counts.items() if rule.endswith("_simulate"))
    print(
        f"config/paper.yaml: {sum(counts.values())} jobs, {simulate} simulate jobs, "
        f"{jobs} SLURM submissions"
    )
    assert all(f"{family}_simulate" in counts for family in FAMILIES)
    groups = profile["group-components"]
    assert jobs == sum(
        math.ceil(n / groups[profile["groups"][rule]])
        for rule, n in counts.items()
        if rule.endswith("_simulate")
    )
    assert "Group job" in output


def test_slurm_profile_covers_every_family(root):
    """A family added to the schema needs its simulate rule grouped and resourced."""
    schema = yaml.safe_load((root / "workflow" / "schemas" / "config.schema.yaml").read_text())
    families = [
        k for k, v in schema["properties"].items() if v.get("type") == "object" and k != "limits"
    ]
    profile = yaml.safe_load((root / "profiles" / "slurm" / "profile.yaml").read_text())
    for family in families:
        rule = f"{family}_simulate"
        assert rule in profile["groups"], rule
        assert profile["groups"][rule] in profile["group-components"], rule
