"""`make robustness` on the smoke configuration end to end (marked `workflow`): replicate 0
is the finished smoke run, reused; replicate 1 runs in its own tree at seed + 1; a larger
K adds the new seeds only; an edited key reruns its jobs at every seed."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import yaml
from workflows import make_report, planned_jobs, simulate_jobs

from implicit_reg.tables import read_provenance, read_table
from implicit_reg.workflow.robustness import SEED_COLUMNS

pytestmark = pytest.mark.workflow


def robustness_jobs(work, config, seeds):
    """Rule -> jobs a dry run of target `robustness` at ``seeds`` replicates would run."""
    return planned_jobs(work, config, "robustness", "--config", f"robustness_seeds={seeds}")


def grid_points(work, family="*"):
    """Simulation jobs of the configured seed's tree, per family (its run tables)."""
    counts = {}
    for table in (work / "results").glob(f"{family}/runs/*/*.parquet"):
        name = table.parents[2].name
        counts[f"{name}_simulate"] = counts.get(f"{name}_simulate", 0) + 1
    return counts


def test_robustness_at_two_then_three_seeds(fresh_run):
    work, config = fresh_run
    seed = config["seed"]
    points = grid_points(work)
    families = [name.removesuffix("_simulate") for name in points]

    # Replicate 0 is the smoke run as it is: only seed + 1 simulates.
    assert simulate_jobs(robustness_jobs(work, "config/smoke.yaml", 2)) == points

    run = make_report(work, "config/smoke.yaml", "robustness", SEEDS=2)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "robustness: results/robustness/index.html" in run.stdout

    replicate = work / "results" / "robustness" / f"seed-{seed + 1}"
    for family in families:
        assert read_provenance(replicate / "claims" / f"{family}.parquet")["seed"] == seed + 1
    own, other = (
        read_table(tree / "risk" / "double_descent.parquet")
        for tree in (work / "results", replicate)
    )
    assert len(own) == len(other) and not own.equals(other)  # independent draws

    combined = read_table(work / "results" / "robustness" / "claims.parquet")
    assert list(combined.columns) == list(SEED_COLUMNS)
    assert sorted(combined.seed.unique()) == [seed, seed + 1]
    main = pd.concat([read_table(work / "results" / "claims" / f"{f}.parquet") for f in families])
    at_seed = combined[combined.seed == seed]
    assert sorted(at_seed.claim) == sorted(main.claim_id)
    assert at_seed.passed.all()  # the smoke run passes strictly
    assert len(combined) == 2 * len(main)

    page = (work / "results" / "robustness" / "index.html").read_text()
    statuses = re.findall(r'<tr class="(pass|fail)"><td class="status">(\d+) / 2<', page)
    assert len(statuses) == len(main)
    robust = combined.groupby(["family", "claim"]).passed.all()
    assert sum(s == "pass" for s, _ in statuses) == int(robust.sum())
    # Fragile rows (fewer than 2 passes) come first.
    assert [s for s, _ in statuses] == sorted((s for s, _ in statuses), key=lambda s: s == "pass")
    assert page.count('<svg class="strip"') == len(main)

    # Nothing reruns at the same K; K = 3 adds seed + 2 only; K back to 2 recombines only.
    assert robustness_jobs(work, "config/smoke.yaml", 2) == {}
    grown = robustness_jobs(work, "config/smoke.yaml", 3)
    assert simulate_jobs(grown) == points
    assert grown["robustness_claims"] == 1
    assert not (work / "results" / "robustness" / f"seed-{seed + 2}").exists()

    # An edited key of one family reruns that family's jobs at every seed, and only those.
    edited = yaml.safe_load(yaml.safe_dump(config))
    edited["risk"]["double_descent"]["n_trials"] += 1
    (work / "config" / "edited.yaml").write_text(yaml.safe_dump(edited))
    jobs = robustness_jobs(work, "config/edited.yaml", 2)
    edited_points = len(list(work.glob("results/risk/runs/double_descent/*.parquet")))
    assert simulate_jobs(jobs) == {"risk_simulate": 2 * edited_points}
    assert jobs["risk_summary"] == 2 and jobs["robustness_claims"] == 1
