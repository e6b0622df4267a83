"""Malformed configurations aimed at the noise and dynamics sections and the top level:
values beyond stability limits, mixing times and the ranges the claims are read in, counts
and costs, YAML that means something else. Each is rejected before any job with one line
naming the dotted key; the few the check accepts on purpose run, and an experiment whose
every run diverges, as docs/science.md §F5a says it must, is recorded as diverged."""

from __future__ import annotations

import copy
import math

import pytest
from configs import F, L, M, N, P, Q, S, problems, set_key

from implicit_reg.workflow.configcheck import check_config_and_fill, load_config_file

#: (edits by dotted key, text of the one line that must name the key)
MALFORMED = [
    # top level
    ({"seed": -1}, "seed: -1 is not allowed (expected integer ≥ 0"),
    ({"seed": "7"}, "seed: '7' is not allowed"),
    ({"strict_claims": 1}, "strict_claims: 1 is not allowed (expected boolean)"),
    ({"robustness_seeds": 0}, "robustness_seeds: 0 is not allowed (expected integer ≥ 1"),
    ({"robustness_seeds": 2.0}, "robustness_seeds: 2.0 is not allowed"),
    ({"limits.max_job_memory_gb": 0}, "limits.max_job_memory_gb: 0 is not allowed"),
    ({"limits.max_jobs": 1}, "limits.max_jobs: the grids give 21 simulation jobs"),
    ({"limits.max_job_time": 10}, "limits: unknown key 'max_job_time'; allowed keys"),
    ({"noize": {"ou": {}}}, "(top level): unknown key 'noize'"),
    ({"dynamics": None}, "dynamics: None is not allowed (expected object)"),
    ({"dynamics": {}}, "dynamics: no experiment given"),
    ({"limits.max_job_work": 1e3}, "exceeds limits.max_job_work (1e+03)"),
    # noise: mixing, the SDE comparison, stability at the start, costs
    ({f"{S}.burn_in": 0, f"{S}.eta_a": [0.01, 0.5]}, f"{S}.burn_in (0) must be ≥ 230 at ηa = 0.01"),
    ({f"{S}.eta_a": [1.99]}, f"{S}.burn_in (150) must be ≥ 230 at ηa = 1.99"),
    ({f"{S}.eta_a": [0.05, 0.03], f"{S}.burn_in": 150}, f"{S}.eta_a [0.05, 0.03] needs a value"),
    ({f"{S}.n_chains": 2, "noise.ou.n_trials": 2}, "noise.ou.n_trials × noise.ou.scalar.n_chains"),
    ({f"{Q}.thin": 900}, f"{Q}.n_chains (200, × noise.ou.n_trials 8) gives"),
    ({f"{Q}.eig_min": 1e-6}, f"{Q}.burn_in (150) must be ≥ 9210340 at step 0.25"),
    ({f"{Q}.n_features": 100, f"{Q}.n_chains": 10**6}, f"driven by {Q}.n_chains (×"),
    ({f"{F}.init_scale": 1000.0}, f"{F}.init_scale (1000) must be < 1/√(α·ln(100·d·n_trials))"),
    ({f"{F}.init_scale": 3.0}, f"{F}.init_scale (3) must be <"),
    ({f"{F}.w_star_max": 1000.0, f"{F}.noise_scale": 5.0}, f"{F}.noise_scale² (25)"),
    ({f"{L}.phase_starts": 100000}, f"(driven by {L}.phase_starts (×"),
    ({f"{L}.n_features": 10**8}, f"{L}.n_samples (25) must be ≥ 2r·ln(d/r)"),
    # dynamics: escape time of the saddle, the claims' step range, n < d
    ({f"{M}.depths": [7, 8], f"{M}.init_scales": [1e-12, 1e-11]}, f"driven by {M}.init_scales (×"),
    ({f"{M}.depths": [2, 8], f"{M}.init_scales": [1e-12, 1e-3]}, f"{M}.depths (×"),
    ({f"{M}.step_fractions": [1.9, 1.5]}, f"{M}.step_fractions [1.9, 1.5] needs a value ≤ 0.0143"),
    ({f"{M}.step_fractions": [0.2, 0.05]}, f"{M}.step_fractions [0.2, 0.05] must all be ≤ 0.04"),
    ({f"{M}.step_fractions": [0.04, 0.02]}, f"{M}.step_fractions [0.04, 0.02] needs a value"),
    (
        {f"{M}.s_min": 1e-3, f"{M}.s_max": 1000.0, f"{M}.init_scales": [1e-5, 1e-4]},
        f"{M}.init_scales [0.0001] must be below {M}.s_min/10",
    ),
    ({f"{N}.grid.n_samples": [20]}, f"{N}.n_features (20) > {N}.grid.n_samples (20)"),
    ({f"{P}.grid.n_features": [20, 20.0]}, f"{P}.grid.n_features[1]: 20.0 is not allowed"),
]


@pytest.mark.parametrize(
    ("edits", "message"),
    MALFORMED,
    ids=[",".join(e)[:60] + str(i) for i, (e, _) in enumerate(MALFORMED)],
)
def test_malformed_configuration_is_one_line_naming_the_key(smoke, edits, message):
    config = copy.deepcopy(smoke)
    for key, value in edits.items():
        set_key(config, key, value)
    text = problems(config)
    assert [line for line in text.splitlines() if message in line], text
    assert all(len(line) < 700 for line in text.splitlines())


SECTION = "strict_claims: false\ndynamics:\n  pl_rate:\n"


#: (YAML text, the dotted key its one line must name)
BAD_VALUES = [
    ("seed: 7e3\n", "seed: '7e3' is not allowed"),  # YAML 1.1: a string without a dot
    ("seed: 1\nlimits: {max_job_work: 1.0e+400}\n", "limits.max_job_work: inf is not a finite"),
    ("seed: 1\ndynamics: {pl_rate: {grid: {n_features: [20]}, n_steps: }}\n", f"{P}.n_steps: None"),
]


@pytest.mark.parametrize(("text", "message"), BAD_VALUES, ids=range(len(BAD_VALUES)))
def test_yaml_values_of_the_wrong_kind_name_the_key(tmp_path, text, message):
    path = tmp_path / "c.yaml"
    path.write_text(text + "strict_claims: false\n" * ("strict_claims" not in text))
    config = load_config_file(path)
    config.setdefault("dynamics", {"pl_rate": {"grid": {"n_features": [20]}}})
    assert message in problems(config)


def test_yaml_booleans_and_hexadecimal_integers_keep_their_meaning(tmp_path):
    """``yes`` is YAML 1.1's true and ``0x10`` is 16 written in hexadecimal: both say what
    they mean (unlike ``020``, which looks decimal), so both are accepted."""
    path = tmp_path / "c.yaml"
    path.write_text(
        "seed: 0x10\n" + SECTION.replace("false", "yes") + "    grid: {n_features: [20]}\n"
    )
    config = check_config_and_fill(load_config_file(path))
    assert config["seed"] == 16 and config["strict_claims"] is True


@pytest.mark.parametrize(
    ("depth", "eps"), [(d, e) for d in (1, 2, 3, 4, 8) for e in (1e-2, 1e-4, 1e-8, 1e-12)]
)
def test_factorization_step_estimate_follows_the_escape_from_the_saddle(depth, eps):
    """The steps the cost estimate counts are those the run takes: ``horizon`` times the
    exact time to 90% of s_min over GD's step, within 10%, from ε = 1e-2 (where the
    plateau is short) to 1e-12 (where the escape, ∝ ε^{−(N−2)/N}, is everything)."""
    from implicit_reg.dynamics import exact
    from implicit_reg.dynamics.config import matrix_factorization_steps
    from implicit_reg.dynamics.experiments import factorization_step

    params = {"n_rows": 4, "n_cols": 4, "s_min": 1.0, "s_max": 3.0, "horizon": 1.05}
    s = [3.0, 3.0 ** (2 / 3), 3.0 ** (1 / 3), 1.0]
    import numpy as np

    t90 = float(exact.crossing_time(0.9, np.array(s), eps, depth, 16.0).max())
    taken = math.ceil(1.05 * t90 / factorization_step(0.01, 3.0, depth, 16.0))
    assert matrix_factorization_steps(params, depth, eps, 0.01) == pytest.approx(taken, rel=0.1)


def test_a_deep_factorization_at_a_tiny_init_is_stopped_by_its_cost(smoke):
    """Depth 8 from ε = 1e-5 takes millions of GD steps of per-call overhead (about ten
    minutes): a work limit below that names the init scales and depths that drive it."""
    config = copy.deepcopy(smoke)
    set_key(config, f"{M}.depths", [2, 8])
    set_key(config, f"{M}.init_scales", [1e-4, 1e-5])
    config["limits"] = {"max_job_work": 1e11}
    text = problems(config)
    assert f"{M}.init_scales (×" in text and f"{M}.depths (×" in text


def test_streaming_sgd_beyond_its_limit_everywhere_runs_and_is_recorded_as_diverged(smoke):
    """docs/science.md §F5a: streaming SGD at η = 0.8 (above its limit 0.511) has no
    stationary covariance; with it the only configuration, the run is recorded as
    diverged and the covariance claims are not evaluated instead of crashing."""
    from implicit_reg.claims import family_claims
    from implicit_reg.experiment import run_family

    spec = copy.deepcopy(smoke["noise"]["ou"])
    spec["n_trials"] = 2
    spec["scalar"].update(n_chains=10_000)
    spec["quadratic"].update(noise_shapes=["streaming"], step_sizes=[0.8], n_chains=20)
    config = check_config_and_fill({"seed": 1, "strict_claims": False, "noise": {"ou": spec}})
    tables = run_family("noise", config["noise"], config["seed"])
    table = tables["ou"]
    assert table.loc[table["diverged"].notna(), "diverged"].astype(bool).any()
    claims = {c.claim_id: c for c in family_claims("noise", tables)}
    assert "quadratic_divergence_matches_stability_edge" in claims
    assert claims["quadratic_divergence_matches_stability_edge"].passed
    assert "quadratic_covariance_matches_exact" not in claims
