"""`make robustness` on the smoke configuration end to end (marked `workflow`): replicate 0
is the finished smoke run, reused; replicates 1, …, K − 1 run in their own trees at
seed + r; a larger K adds the new seeds only; an edited key reruns its jobs at every seed.

K is 2 in `make test` (one replicate more than the session's smoke run);
`make test-robustness` runs it at K = 3 (``IMPLICIT_REG_ROBUSTNESS_SEEDS``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from workflows import job_counts, make_report, planned_jobs, simulate_jobs, snakemake

from implicit_reg.families import configured
from implicit_reg.grid import simulation_job_count
from implicit_reg.tables import read_provenance, read_table
from implicit_reg.workflow.configcheck import load_config
from implicit_reg.workflow.robustness import SEED_COLUMNS

pytestmark = pytest.mark.workflow

#: Replicates of the end-to-end run.
SEEDS = int(os.environ.get("IMPLICIT_REG_ROBUSTNESS_SEEDS", "2"))


def robustness_jobs(work, config, seeds):
    """Rule -> jobs a dry run of target `robustness` at ``seeds`` replicates would run."""
    return planned_jobs(
        work, config, "--config", f"robustness_seeds={seeds}", targets=["robustness"]
    )


def grid_points(work, family="*"):
    """Simulation jobs of the configured seed's tree, per family (its run tables)."""
    counts = {}
    for table in (work / "results").glob(f"{family}/runs/*/*.parquet"):
        name = table.parents[2].name
        counts[f"{name}_simulate"] = counts.get(f"{name}_simulate", 0) + 1
    return counts


def test_robustness_at_k_then_k_plus_one_seeds(fresh_run):
    work, config = fresh_run
    seed = config["seed"]
    points = grid_points(work)
    families = [name.removesuffix("_simulate") for name in points]

    # Replicate 0 is the smoke run as it is: only seeds + 1, …, + K - 1 simulate.
    planned = simulate_jobs(robustness_jobs(work, "config/smoke.yaml", SEEDS))
    assert planned == {rule: (SEEDS - 1) * n for rule, n in points.items()}

    run = make_report(work, "config/smoke.yaml", "robustness", SEEDS=SEEDS)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "robustness: results/robustness/index.html" in run.stdout

    main_tree = work / "results"
    for r in range(1, SEEDS):
        replicate = main_tree / "robustness" / f"seed-{seed + r}"
        for family in families:
            stored = read_provenance(replicate / "claims" / f"{family}.parquet")["seed"]
            assert stored == seed + r
        own, other = (
            read_table(tree / "risk" / "double_descent.parquet") for tree in (main_tree, replicate)
        )
        assert len(own) == len(other) and not own.equals(other)  # independent draws

    combined = read_table(main_tree / "robustness" / "claims.parquet")
    assert list(combined.columns) == list(SEED_COLUMNS)
    assert sorted(combined.seed.unique()) == [seed + r for r in range(SEEDS)]
    main = pd.concat([read_table(main_tree / "claims" / f"{f}.parquet") for f in families])
    at_seed = combined[combined.seed == seed]
    assert sorted(at_seed.claim) == sorted(main.claim_id)
    assert at_seed.passed.all()  # the smoke run passes strictly
    assert len(combined) == SEEDS * len(main)

    page = (main_tree / "robustness" / "index.html").read_text()
    statuses = re.findall(rf'<tr class="(pass|fail)"><td class="status">(\d+) / {SEEDS}<', page)
    assert len(statuses) == len(main)
    robust = combined.groupby(["family", "claim"]).passed.all()
    assert sum(s == "pass" for s, _ in statuses) == int(robust.sum())
    # Fragile rows (fewer than 2 passes) come first.
    assert [s for s, _ in statuses] == sorted((s for s, _ in statuses), key=lambda s: s == "pass")
    assert page.count('<svg class="strip"') == len(main)
    report = (main_tree / "report" / "index.html").read_text()
    assert 'href="../robustness/index.html"' in report  # the report links the page

    # Nothing reruns at the same K; K + 1 adds seed + K only.
    assert robustness_jobs(work, "config/smoke.yaml", SEEDS) == {}
    grown = robustness_jobs(work, "config/smoke.yaml", SEEDS + 1)
    assert simulate_jobs(grown) == points
    assert grown["robustness_claims"] == 1
    assert not (main_tree / "robustness" / f"seed-{seed + SEEDS}").exists()

    # An edited key of one family reruns that family's jobs at every seed, and only those.
    edited = yaml.safe_load(yaml.safe_dump(config))
    edited["risk"]["double_descent"]["n_trials"] += 1
    (work / "config" / "edited.yaml").write_text(yaml.safe_dump(edited))
    jobs = robustness_jobs(work, "config/edited.yaml", SEEDS)
    edited_points = len(list(work.glob("results/risk/runs/double_descent/*.parquet")))
    assert simulate_jobs(jobs) == {"risk_simulate": SEEDS * edited_points}
    assert jobs["risk_summary"] == SEEDS and jobs["robustness_claims"] == 1


def test_replicates_beyond_max_jobs_stop_the_robustness_dag_not_the_report(fresh_run):
    work, config = fresh_run
    jobs = sum(grid_points(work).values())
    capped = yaml.safe_load(yaml.safe_dump(config))
    capped.setdefault("limits", {})["max_jobs"] = jobs
    (work / "config" / "capped.yaml").write_text(yaml.safe_dump(capped))
    assert not simulate_jobs(planned_jobs(work, "config/capped.yaml"))  # within the cap
    run = snakemake(
        work, "robustness", "-n", "--configfile", "config/capped.yaml",
        "--config", "robustness_seeds=2",
    )  # fmt: skip
    assert run.returncode != 0
    assert (
        f"robustness_seeds: 2 replicates of {jobs} simulation jobs give {2 * jobs} jobs, "
        f"above limits.max_jobs = {jobs}"
    ) in run.stdout + run.stderr


@pytest.mark.parametrize("name", ["config.yaml", "paper.yaml"])
def test_default_and_paper_configurations_plan_k_replicates(tmp_path, name):
    """The default and paper configurations as 3 replicates: a dry run (from an empty
    directory) plans 3 times each family's simulation jobs, and nothing else fails."""
    root = Path(__file__).resolve().parents[1]
    config = root / "config" / name
    run = snakemake(
        tmp_path, "robustness", "-n", "--quiet", "rules", "-s", str(root / "Snakefile"),
        "--configfile", str(config), "--config", "robustness_seeds=3",
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    planned = simulate_jobs(job_counts(run.stdout + "\n" + run.stderr))
    filled = load_config(config)
    expected = {
        f"{family}_simulate": 3 * simulation_job_count(filled, [family])
        for family in configured(filled)
    }
    assert planned == expected
