"""Every claim catches a plausible bug of the simulation it checks (`implicit_reg.bugs`).

Each registered bug is injected into its experiment, run in memory at the smoke
configuration's size: every claim it lists passes without the bug and fails with it.
Every claim (``kind = claim``) of a family is flipped by at least one registered bug;
otherwise it is a consistency check.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from implicit_reg.bugs import family_bugs, injected
from implicit_reg.claims import family_claims
from implicit_reg.experiment import run_family
from implicit_reg.families import FAMILIES

ROOT = Path(__file__).resolve().parents[1]
SMOKE = yaml.safe_load((ROOT / "config" / "smoke.yaml").read_text())
CASES = [(family, bug) for family in FAMILIES for bug in family_bugs(family)]


def section(family: str, experiment: str, overrides: dict) -> dict:
    return {experiment: {**SMOKE[family][experiment], **overrides}}


@functools.cache
def clean_claims(family: str, experiment: str, overrides: str) -> dict[str, bool]:
    """Claim id -> passed, without any bug (cached per experiment and overrides)."""
    tables = run_family(family, section(family, experiment, json.loads(overrides)), SMOKE["seed"])
    return {c.claim_id: c.passed for c in family_claims(family, tables)}


@pytest.mark.parametrize(("family", "bug"), CASES, ids=[f"{f}-{b.name}" for f, b in CASES])
def test_the_bug_fails_the_claims_it_lists(family, bug):
    overrides = json.dumps(dict(bug.config), sort_keys=True)
    clean = clean_claims(family, bug.experiment, overrides)
    assert {c: clean[c] for c in bug.flips} == dict.fromkeys(bug.flips, True)
    with injected(bug):
        tables = run_family(
            family, section(family, bug.experiment, dict(bug.config)), SMOKE["seed"]
        )
    buggy = {c.claim_id: c.passed for c in family_claims(family, tables)}
    assert [c for c in bug.flips if buggy[c]] == [], f"{bug.description}: still passes"


@pytest.mark.parametrize("family", FAMILIES)
def test_bug_names_are_unique_and_targets_exist(family):
    import importlib

    bugs = family_bugs(family)
    assert len({b.name for b in bugs}) == len(bugs)
    for bug in bugs:
        module, attribute = bug.target.split(":")
        assert hasattr(importlib.import_module(module), attribute), bug.target


@pytest.mark.parametrize("family", FAMILIES)
def test_every_claim_is_flipped_by_a_registered_bug(family, smoke_run):
    work, _ = smoke_run
    table = pd.read_parquet(work / "results" / "claims" / f"{family}.parquet")
    claims = set(table.claim_id[table.kind == "claim"])
    flipped = {c for bug in family_bugs(family) for c in bug.flips}
    assert sorted(claims - flipped) == [], "claims without a registered bug"
    assert sorted(flipped - claims) == [], "bugs listing claims the family does not make"
