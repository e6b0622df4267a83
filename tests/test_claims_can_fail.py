"""Claims compare the simulation with theory: a deliberate bug in a simulation fails them.

Each test injects a wrong update into one simulation (through ``monkeypatch``), runs the
experiment on the smoke configuration in memory and asserts that the claim that checks it
fails, while the unpatched run passes.
"""

from __future__ import annotations

import pytest
import yaml

from implicit_reg.claims import family_claims
from implicit_reg.experiment import run_family
from implicit_reg.risk import algorithms, experiments


@pytest.fixture(scope="module")
def smoke():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    return yaml.safe_load((root / "config" / "smoke.yaml").read_text())


def claim_passes(smoke, experiment: str, claim_id: str) -> bool:
    section = {experiment: smoke["risk"][experiment]}
    tables = run_family("risk", section, smoke["seed"])
    found = {c.claim_id: c for c in family_claims("risk", tables)}
    return found[claim_id].passed


def test_min_norm_claim_fails_when_gd_drifts_out_of_the_row_space(smoke, monkeypatch):
    assert claim_passes(smoke, "min_norm", "gd_zero_init_reaches_min_norm")
    exact = algorithms.least_squares_gradient

    def drifting(X, y, beta):  # a bug: a constant push along every coordinate
        return exact(X, y, beta) + 1e-4

    monkeypatch.setattr(algorithms, "least_squares_gradient", drifting)
    assert not claim_passes(smoke, "min_norm", "gd_zero_init_reaches_min_norm")


def test_early_stopping_claim_fails_when_the_gd_step_is_wrong(smoke, monkeypatch):
    assert claim_passes(smoke, "early_stopping", "gd_risk_matches_expected_risk")
    exact = algorithms.gd_gram_path

    def wrong_step(gram, moment, eta, checkpoints):  # a bug: the update uses 1.3 η
        return exact(gram, moment, 1.3 * eta, checkpoints)

    monkeypatch.setattr(algorithms, "gd_gram_path", wrong_step)
    assert not claim_passes(smoke, "early_stopping", "gd_risk_matches_expected_risk")


def test_double_descent_claim_fails_when_the_interpolant_is_wrong(smoke, monkeypatch):
    assert claim_passes(smoke, "double_descent", "min_norm_risk_matches_theory")
    exact = experiments.spectral_coordinates

    def shrunk(X, y, Xbeta_star, beta_star):  # a bug: singular values 10% too large
        s, uy, vb = exact(X, y, Xbeta_star, beta_star)
        return 1.1 * s, uy, vb

    monkeypatch.setattr(experiments, "spectral_coordinates", shrunk)
    assert not claim_passes(smoke, "double_descent", "min_norm_risk_matches_theory")
