"""A step size above the stability limit is recorded as diverged, not a crash."""

import warnings

import numpy as np

from implicit_reg import risk
from implicit_reg.experiment import run_family
from implicit_reg.report import divergence_html
from implicit_reg.risk.figures import FIGURES

SECTION = {
    "min_norm": {
        "grid": {"n_samples": [10]},
        "n_features": 30,
        "noise_std": 0.5,
        "n_trials": 3,
        "gd_steps": 300,
        "sgd_steps": 5000,
        "gd_step_fraction": 1.5,
        "sgd_step_fraction": 0.5,
        "batch_sizes": [1],
        "init_scale": 1.0,
        "n_checkpoints": 10,
    }
}


def test_unstable_gd_is_flagged_and_fails_its_claims_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tables = run_family("risk", risk, SECTION, seed=0)
        claims = {c.claim_id: c for c in risk.claims(tables)}
        figure = FIGURES["min_norm_convergence"](tables)
    table = tables["min_norm"]
    gd = table[table.algorithm == "gd"]
    assert gd[gd.step == gd.step.max()].diverged.all()
    assert not table[table.algorithm != "gd"].diverged.any()
    assert not claims["gd_zero_init_reaches_min_norm"].passed
    assert np.isnan(claims["gd_zero_init_reaches_min_norm"].measured)
    assert claims["sgd_zero_init_reaches_min_norm"].passed
    # Diverged rows are left out of the figure: no NaN reaches a plotted line.
    for line in figure.axes[0].get_lines():
        assert np.isfinite(np.asarray(line.get_ydata(), dtype=float)).all()


def test_report_notes_diverged_runs():
    import pandas as pd

    note = divergence_html(
        pd.DataFrame(
            {"family": ["risk"], "experiment": ["min_norm"], "diverged": [12], "rows": [90]}
        )
    )
    assert "12 of 90 rows diverged" in note
