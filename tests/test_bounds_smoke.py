"""Smoke section of the bounds family through `run_family`: claims, bounds, figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from implicit_reg.bounds import experiments
from implicit_reg.bounds.figures import FIGURES
from implicit_reg.claims import family_claims
from implicit_reg.experiment import run_family

ROOT = Path(__file__).resolve().parents[1]


def _section(name: str) -> dict:
    return yaml.safe_load((ROOT / "config" / name).read_text())["bounds"]


@pytest.fixture(scope="module")
def smoke_tables():
    return run_family("bounds", _section("smoke.yaml"), seed=0)


def test_smoke_claims_pass(smoke_tables):
    claims = family_claims("bounds", smoke_tables)
    failed = [(c.claim_id, c.measured, c.threshold) for c in claims if not c.passed]
    assert not failed
    assert len({c.claim_id for c in claims}) == len(claims)


def test_every_bound_above_measured_test_loss(smoke_tables):
    for name in ("corruption", "postulates"):
        final = smoke_tables[name][smoke_tables[name]["section"] == "final"]
        for bound in experiments.BOUNDS:
            diff = (final[f"{bound}_bound"] - final[f"{bound}_test_loss"]).dropna()
            assert (diff >= 0).all(), (name, bound)
        assert final["compression_bound"].notna().all()
        assert final["pacbayes_kl_bound"].between(0, 1).all()
    corruption = smoke_tables["corruption"]
    final = corruption[corruption["section"] == "final"]
    assert final["pacbayes_datadep_bound"].between(0, 1).all()  # computed at every p
    assert (final.loc[final["p"] == 0, "pacbayes_datadep_bound"] < 0.5).all()


def test_tiny_run_bounds_above_measured():
    params = {
        **_section("smoke.yaml")["corruption"],
        "p": 0.0,
        "n_train": 200,
        "width": 32,
        "n_epochs": 30,
        "sigmas": [0.1, 0.5],
        "mc_samples": 1,
    }
    params["posterior"] = {**params["posterior"], "steps": 20}
    table, arrays = experiments.simulate_corruption(params, np.random.default_rng(0))
    final = table[table["section"] == "final"]
    for bound in experiments.BOUNDS:
        assert (final[f"{bound}_bound"] >= final[f"{bound}_test_loss"]).all(), bound
    n = params["n_trials"]
    assert arrays["w1"].shape == (n, 32, 64) and arrays["w1_init"].shape == (n, 32, 64)
    assert final["pacbayes_datadep_bound"].notna().all()
    assert (final["pacbayes_datadep_m"] == 100).all()
    prior_idx, bound_idx = arrays["datadep_prior_index"], arrays["datadep_bound_index"]
    for a, b in zip(prior_idx, bound_idx, strict=True):
        assert not set(a) & set(b) and len(a) + len(b) == 200
    ranks = table[table["section"] == "rank"]
    assert ranks["rank"].max() == 32 and (ranks["count_term"] > 0).all()


def test_figures_render(smoke_tables):
    import matplotlib.pyplot as plt

    for name, make in FIGURES.items():
        fig = make(smoke_tables)
        assert fig.axes, name
        plt.close(fig)
