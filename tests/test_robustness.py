"""Robustness across seeds: replicate seeds and trees, the combination of the replicates'
claims (passes out of K, the worst seed, fragile claims first) and its page, on synthetic
claims tables."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from implicit_reg.workflow import replicates
from implicit_reg.workflow.configcheck import SCHEMA
from implicit_reg.workflow.replicates import (
    TREE_PATTERN,
    largest_seed,
    replicate_problems,
    replicate_seeds,
    replicate_tree,
    tree_seed,
)
from implicit_reg.workflow.robustness import (
    SEED_COLUMNS,
    combined_claims,
    ratio,
    robustness_page,
    robustness_summary,
    slack,
    strip_scale,
)

SEEDS = [7, 8, 9]
ROOT = Path(__file__).resolve().parents[1]


def claims_table(rows: list[tuple]) -> pd.DataFrame:
    """A family's claims table (`implicit_reg.claims.CLAIM_COLUMNS`) from
    ``(family, claim_id, kind, measured, comparison, threshold)`` rows; ``passed`` is
    stored wrong on purpose: the combination recomputes it."""
    return pd.DataFrame(
        [
            {
                "family": family,
                "claim_id": claim_id,
                "statement": f"{claim_id} holds",
                "source": "docs/science.md",
                "measured": measured,
                "threshold": threshold,
                "comparison": comparison,
                "passed": False,
                "kind": kind,
            }
            for family, claim_id, kind, measured, comparison, threshold in rows
        ]
    )


def replicate(seed: int) -> pd.DataFrame:
    """Claims at one seed: ``steady`` passes everywhere (its margin smallest at seed 8),
    ``lucky`` (``>=``) fails at seed 9, ``rare`` passes at seed 7 only, ``exact`` has a
    zero threshold, ``lost`` is NaN at seed 8."""
    steady = {7: 0.2, 8: 0.9, 9: 0.5}[seed]
    lucky = {7: 3.0, 8: 2.5, 9: 1.5}[seed]
    rare = {7: 0.5, 8: 2.0, 9: 4.0}[seed]
    lost = {7: 1e-8, 8: math.nan, 9: 1e-6}[seed]
    return claims_table(
        [
            ("risk", "steady", "claim", steady, "<=", 1.0),
            ("risk", "lucky", "claim", lucky, ">=", 2.0),
            ("margin", "rare", "check", rare, "<=", 1.0),
            ("margin", "exact", "check", -1e-3 * seed, "<=", 0.0),
            ("margin", "lost", "claim", lost, "<=", 1e-4),
        ]
    )


@pytest.fixture
def combined() -> pd.DataFrame:
    return combined_claims({seed: replicate(seed) for seed in SEEDS})


def test_replicate_seeds_start_at_the_configured_seed_and_grow_by_prefix():
    assert replicate_seeds(7, 3) == [7, 8, 9]
    assert replicate_seeds(7, 5)[:3] == replicate_seeds(7, 3)
    assert replicate_seeds(0, 1) == [0]


def test_replicate_trees_round_trip_and_match_the_wildcard():
    assert replicate_tree(7, 7) == ""
    assert replicate_tree(9, 7) == "robustness/seed-9/"
    for seed in replicate_seeds(7, 4):
        tree = replicate_tree(seed, 7)
        assert re.fullmatch(TREE_PATTERN, tree)
        assert tree_seed(tree, 7) == seed
    assert not re.fullmatch(TREE_PATTERN, "robustness/seed-x/")
    with pytest.raises(ValueError, match="not a replicate"):
        tree_seed("elsewhere/", 7)


def test_combined_table_has_one_row_per_claim_and_seed_with_passed_recomputed(combined):
    assert list(combined.columns) == list(SEED_COLUMNS)
    assert len(combined) == 5 * len(SEEDS)
    assert combined.seed.tolist() == [s for s in SEEDS for _ in range(5)]
    steady = combined[combined.claim == "steady"]
    assert steady.passed.all()  # stored False, recomputed from measured <= threshold
    lost = combined[combined.claim == "lost"].set_index("seed")
    assert lost.passed.tolist() == [True, False, True]  # NaN fails


def test_passes_out_of_k_and_the_worst_seed(combined):
    summary = robustness_summary(combined, SEEDS).set_index("claim")
    assert summary.passes.to_dict() == {
        "rare": 1,
        "lucky": 2,
        "lost": 2,
        "steady": 3,
        "exact": 3,
    }
    assert (summary.replicates == 3).all()
    assert summary.robust.to_dict() == {
        "rare": False,
        "lucky": False,
        "lost": False,
        "steady": True,
        "exact": True,
    }
    # <=: the largest value is the worst; >=: the smallest; NaN is worse than any number.
    assert summary.worst_seed.to_dict() == {
        "steady": 8,
        "lucky": 9,
        "rare": 9,
        "lost": 8,
        "exact": 7,
    }
    assert summary.worst_ratio["steady"] == pytest.approx(0.9)
    assert summary.worst_ratio["lucky"] == pytest.approx(0.75)
    assert summary.worst_ratio["rare"] == pytest.approx(4.0)
    assert math.isnan(summary.worst_ratio["exact"])  # zero threshold: no ratio
    assert summary.worst_measured["exact"] == pytest.approx(-7e-3)
    assert summary.kind["rare"] == "check"


def test_fragile_claims_come_first_fewest_passes_first(combined):
    summary = robustness_summary(combined, SEEDS)
    assert summary.claim.tolist() == ["rare", "lucky", "lost", "steady", "exact"]
    assert summary.robust.tolist() == [False, False, False, True, True]


def test_a_claim_missing_at_a_seed_counts_as_a_failure(combined):
    partial = combined[~((combined.claim == "steady") & (combined.seed == 9))]
    summary = robustness_summary(partial, SEEDS).set_index("claim")
    assert summary.passes["steady"] == 2 and not summary.robust["steady"]


def test_only_the_requested_seeds_count(combined):
    summary = robustness_summary(combined, [7, 8]).set_index("claim")
    assert summary.passes["lucky"] == 2 and summary.robust["lucky"]
    assert (summary.replicates == 2).all()


def test_slack_is_positive_on_the_passing_side_and_relative_to_the_threshold():
    assert slack(0.5, "<=", 1.0) == pytest.approx(0.5)
    assert slack(1.5, "<=", 1.0) == pytest.approx(-0.5)
    assert slack(3.0, ">=", 2.0) == pytest.approx(0.5)
    assert slack(-2.0, ">=", -1.0) == pytest.approx(-1.0)
    assert slack(-1e-3, "<=", 0.0) == pytest.approx(1e-3)
    assert slack(math.nan, "<=", 1.0) == -math.inf
    assert math.isnan(ratio(1.0, 0.0))


def test_strip_axis_is_logarithmic_only_for_positive_values_over_a_decade():
    assert strip_scale([1e-8, 1e-6, 1e-4])[0]
    assert not strip_scale([0.2, 0.9, 1.0])[0]
    assert not strip_scale([-1.0, 1e3])[0]
    log, low, high = strip_scale([1.0, 1.0])
    assert not log and low < 1.0 < high


def test_page_puts_fragile_claims_in_red_at_the_top_with_a_strip_each(combined):
    origin = {"files": ["config/smoke.yaml"], "overrides": {"robustness_seeds": 3}}
    page = robustness_page(combined, SEEDS, origin)
    assert "3 of 5 rows pass at fewer than" in page
    rows = re.findall(r'<tr class="(pass|fail)"><td class="status">(\d) / (\d)', page)
    assert rows == [
        ("fail", "1", "3"),
        ("fail", "2", "3"),
        ("fail", "2", "3"),
        ("pass", "3", "3"),
        ("pass", "3", "3"),
    ]
    body = page.split('<table class="robust">')[1]
    assert body.index("rare") < body.index("lucky") < body.index("steady")
    assert page.count('<svg class="strip"') == 5
    # One dot per finite value, red where that seed fails; the NaN drawn as a cross.
    assert page.count("<circle") == 14 and page.count("×<title>seed 8: nan") == 1
    assert page.count('fill="#a31515" fill-opacity') == 3  # lucky@9, rare@8, rare@9
    assert re.search(r"seeds\s+7, 8, 9", page)
    assert "files: config/smoke.yaml" in page and "overrides: robustness_seeds=3" in page


def test_page_says_so_when_every_row_passes_at_every_seed(combined):
    robust = combined[combined.claim.isin(["steady", "exact"])]
    page = robustness_page(robust, SEEDS, {})
    assert "Every row passes at all 3 seeds" in page
    assert "1 claims and" in page and "1 consistency checks" in page


def test_replicates_multiply_the_jobs_counted_against_max_jobs():
    limits = {"max_jobs": 40, "allow_over_limits": False}
    assert replicate_problems(7, 1, 21, limits, 2**32 - 1) == []
    (problem,) = replicate_problems(7, 3, 21, limits, 2**32 - 1)
    assert problem.startswith("robustness_seeds: 3 replicates of 21 simulation jobs give 63")
    assert "limits.max_jobs = 40" in problem and "allowed: 1 to 1" in problem
    assert replicate_problems(7, 3, 21, {**limits, "allow_over_limits": True}, 2**32 - 1) == []


def test_the_last_replicate_seed_must_stay_within_the_schema():
    top = largest_seed(SCHEMA)
    assert top == 2**32 - 1
    assert replicate_problems(top - 1, 2, 1, {"max_jobs": 10}, top) == []
    (problem,) = replicate_problems(top - 1, 3, 1, {"max_jobs": 10}, top)
    assert f"reach seed {top + 1}, above the largest seed {top}" in problem
    assert "allowed: 1 to 2" in problem


def test_replicates_command_checks_the_count_as_the_schema_does(tmp_path, capsys):
    smoke = yaml.safe_load((ROOT / "config" / "smoke.yaml").read_text())
    config = tmp_path / "near-top.yaml"
    config.write_text(yaml.safe_dump({**smoke, "seed": 2**32 - 2}))
    assert replicates.main([str(config), "2"]) == 0
    assert replicates.main([str(config), "3"]) == 1
    assert f"robustness_seeds: 3 replicates from seed {2**32 - 2}" in capsys.readouterr().err
    assert replicates.main([str(config), "0"]) == 1
    assert "robustness_seeds: 0 is not allowed" in capsys.readouterr().err
