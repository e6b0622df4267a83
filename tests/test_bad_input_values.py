"""Values of the right type that an experiment cannot use, and YAML that would silently
mean something else: every one rejected before any job with the dotted key named, and
every shipped experiment run on the boundary values the check accepts."""

from __future__ import annotations

import copy

import pytest
from configs import D, F, L, M, N, P, Q, S, Z, problems, set_key

from implicit_reg.workflow.checks import ConfigError
from implicit_reg.workflow.configcheck import check_config_and_fill, load_config_file

#: (dotted key, bad value, text the one line naming it must contain)
MALFORMED = [
    # top level
    ("seed", 7.0, "seed: 7.0 is not allowed (expected integer"),
    ("seed", True, "seed: True is not allowed"),
    ("seed", 2**32, "seed: 4294967296 is not allowed"),
    ("limits.max_jobs", 0, "limits.max_jobs: 0 is not allowed"),
    ("limits.max_jobs", 2.0, "limits.max_jobs: 2.0"),
    ("limits.max_job_work", -1, "limits.max_job_work: -1"),
    ("limits.max_job_memory_gb", "big", "limits.max_job_memory_gb"),
    ("pdf_figures", "no", "pdf_figures: 'no'"),
    ("dynamics.pl_rate.grid.n_features", list(range(1, 10_002)), "limits.max_jobs"),
    # noise: counts, types and maxima
    (f"{S}.n_checkpoints", 10**10, f"{S}.n_checkpoints: 10000000000 is not allowed"),
    (f"{S}.n_chains", 40.0, f"{S}.n_chains: 40.0"),
    (f"{S}.n_chains", 10**9, f"{S}.n_chains: 1000000000"),
    (f"{S}.max_lag", 5000, f"{S}.max_lag: 5000"),
    (f"{S}.eta_a", [0.5, 2.0], f"{S}.eta_a[1]: 2.0"),
    (f"{S}.eta_a", [0.5, 0.5000001], f"{S}.eta_a repeats a value: 0.5 and 0.5000001"),
    (f"{S}.burn_in", 295, f"{S}.burn_in + {S}.max_lag"),
    (f"{Q}.n_checkpoints", 10**10, f"{Q}.n_checkpoints"),
    (f"{Q}.n_steps", 10**9, f"{Q}.n_steps: 1000000000"),
    (f"{Q}.step_sizes", [0.25, 2.5], f"{Q}.step_sizes [2.5] must be < 2/eig_max"),
    (f"{Q}.step_sizes", [0.25, 0.25], f"{Q}.step_sizes"),
    (f"{Q}.burn_in", 5, f"{Q}.burn_in (5) must be ≥"),
    (f"{Q}.eig_min", 2.0, f"{Q}.eig_min (2.0) must be below"),
    (f"{Q}.noise_shapes", ["isotropic", "isotropic"], f"{Q}.noise_shapes"),
    (f"{Q}.thin", 0, f"{Q}.thin: 0"),
    (f"{D}.n_samples", 10, f"{D}.n_samples (10) must exceed"),
    (f"{D}.keep_probs", [0.5, 0.5], f"{D}.keep_probs"),
    (f"{D}.n_checkpoints", 10**10, f"{D}.n_checkpoints"),
    (f"{F}.injection_step", 0.6, f"{F}.injection_step (0.6) must be < 1/{F}.w_star_max"),
    (f"{F}.gd_step", 0.5, f"{F}.gd_step (0.5) must be < 1/{F}.w_star_max"),
    (f"{F}.imbalance_steps", [0.1, 0.6], f"{F}.imbalance_steps (0.6)"),
    (f"{F}.init_scale", 1e-200, f"{F}.init_scale: 1e-200"),
    (f"{F}.noise_scale", 3.0, f"{F}.noise_scale²"),
    (f"{L}.n_samples", 10, f"{L}.n_samples (10) must be ≥ 2r·ln(d/r)"),
    (f"{L}.alpha", 1e-200, f"{L}.alpha: 1e-200"),
    (f"{L}.eta", 20.0, f"{L}.eta: 20.0"),
    (f"{L}.n_checkpoints", 10**10, f"{L}.n_checkpoints"),
    # just above 1/(4α²(d + 2)) = 0.0048077 and 1/(2η√d) = 17.678 at the smoke sizes
    (f"{L}.eta", 0.00481, f"{L}.eta (0.00481) must be < 1/(4α²(d + 2)) = 0.004808"),
    (f"{L}.alpha", 1.1, f"{L}.eta (0.004) must be < 1/(4α²(d + 2))"),
    (f"{L}.label_noise", 17.68, f"{L}.label_noise (17.68) must be < 1/(2η√d) = 17.68"),
    (f"{L}.sparsity", 30, "noise.label_noise needs sparsity < n_samples"),
    (f"{L}.n_trials", 8.0, f"{L}.n_trials: 8.0"),
    # dynamics
    (f"{M}.depths", [3], f"{M}.depths [3] needs at least two values"),
    (f"{M}.init_scales", [1e-2], f"{M}.init_scales [0.01] needs at least two values"),
    (f"{M}.init_scales", [1e-200, 1e-3], f"{M}.init_scales[0]: 1e-200"),
    (f"{M}.depths", [2, 2, 3], f"{M}.depths"),
    (f"{M}.step_fractions", [0.04, 0.04000000001], f"{M}.step_fractions"),
    (f"{M}.s_min", 5.0, f"{M}.s_min (5.0) must be below"),
    (f"{N}.grid.n_samples", [8, 8.0], f"{N}.grid.n_samples"),
    (f"{N}.grid.n_samples", [20, 20.0], f"{N}.grid.n_samples"),
    (f"{N}.batch_size", 9, f"{N}.batch_size (9) must be at most"),
    (f"{N}.init_scale", 1e-200, f"{N}.init_scale: 1e-200"),
    (f"{N}.n_checkpoints", 10**10, f"{N}.n_checkpoints"),
    (f"{Z}.widths", [64, 64, 256], f"{Z}.widths"),
    (f"{Z}.grid.n_samples", [10**5], f"{Z}.grid.n_samples[0]"),
    (f"{P}.n_samples", [50, 50, 10], f"{P}.n_samples repeats a value: 50 and 50"),
    (f"{P}.n_steps", 10**7, f"{P}.n_steps: 10000000"),
    (f"{P}.step_fraction", 1.5, f"{P}.step_fraction: 1.5"),
]


@pytest.mark.parametrize(
    ("path", "value", "message"), MALFORMED, ids=[f"{p}={v!r}"[:60] for p, v, _ in MALFORMED]
)
def test_malformed_value_is_rejected_in_one_line_naming_the_key(smoke, path, value, message):
    text = problems(set_key(copy.deepcopy(smoke), path, value))
    lines = [line for line in text.splitlines() if message in line]
    assert lines, text
    assert all(len(line) < 600 for line in text.splitlines())


def test_a_million_value_grid_fails_on_the_job_count_before_any_walk_of_its_values(
    smoke, monkeypatch
):
    """The job count is a product of list lengths: the check stops there, before the
    stages that visit every value (non-finite numbers, the schema), which for a grid of
    a million values took minutes and a gigabyte."""
    from implicit_reg.workflow import configcheck

    def walks(config):
        raise AssertionError("a stage that visits every grid value ran")

    monkeypatch.setattr(configcheck, "non_finite_problems", walks)
    monkeypatch.setattr(configcheck, "schema_problems", lambda config, schema: walks(config))
    config = set_key(copy.deepcopy(smoke), "dynamics.pl_rate.grid.n_features", list(range(10**6)))
    assert "limits.max_jobs" in problems(config)


#: (YAML text, what its one line must say)
BAD_YAML = [
    ("seed: 7\nseed: 8\n", ":2:1: YAML syntax error: key 'seed' given twice"),
    ("seed: 020\n", ":1:7: YAML syntax error: 020 has a leading zero"),
    ("base: &b {n_trials: 2}\nother: *b\n", ":2:8: YAML syntax error: alias *b"),
    ("a: &r [1, *r]\n", "YAML syntax error: alias *r"),
    ("seed: 7\nnoise:\n\tou: {}\n", ":3:1: YAML syntax error"),
]


SECTION = "strict_claims: false\ndynamics:\n  pl_rate:\n"
#: Aliases, duplicates and octal-looking values inside the noise and dynamics sections.
NEW_BAD_YAML = [
    (
        "base: &b {n_trials: 2}\nseed: 1\n" + SECTION + "    <<: *b\n",
        ":6:9: YAML syntax error: alias *b",
    ),
    (
        "seed: 1\nstrict_claims: false\ndynamics: {pl_rate: {n_trials: 2, n_trials: 3}}\n",
        ":3:35: YAML syntax error: key 'n_trials' given twice",
    ),
    (
        "seed: 1\n" + SECTION + "    n_trials: 2\ndynamics:\n  lazy_training: {}\n",
        ":6:1: YAML syntax error: key 'dynamics' given twice in one mapping (first on line 3)",
    ),
    ("seed: 1\n" + SECTION + "    grid: {n_features: &g [20]}\n    n_samples: *g\n", "alias *g"),
    ("seed: 1\n" + SECTION + "    grid: {n_features: [020]}\n", "020 has a leading zero"),
]
BAD_YAML += NEW_BAD_YAML


@pytest.mark.parametrize(("text", "message"), BAD_YAML, ids=range(len(BAD_YAML)))
def test_bad_yaml_names_file_and_line(tmp_path, text, message):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_config_file(path)
    assert str(error.value).startswith(str(path)) and message in str(error.value)
    assert len(str(error.value).splitlines()) == 1


def test_tab_is_named(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("seed: 7\nnoise:\n\tou: {}\n")
    with pytest.raises(ConfigError, match="tab character"):
        load_config_file(path)


def test_sections_sharing_one_object_do_not_fill_each_other(smoke):
    """Snakemake's loader keeps aliases: two sections given one mapping are split
    before defaults are filled."""
    config = copy.deepcopy(smoke)
    shared = {"n_trials": 2}
    config["noise"] = {"ou": {"n_trials": 2}}
    config["dynamics"] = {"pl_rate": {"grid": {"n_features": [20]}, **shared}}
    config["dynamics"]["lazy_training"] = config["dynamics"]["pl_rate"]
    text = problems(config)
    assert "dynamics.lazy_training" in text and len(text) < 2000


def test_recursive_value_is_one_line(smoke):
    config = copy.deepcopy(smoke)
    loop = []
    loop.append(loop)
    config["noise"]["ou"]["scalar"]["eta_a"] = loop
    assert "recursive alias" in problems(config)


def test_cost_message_names_the_keys_that_drive_it(smoke):
    config = set_key(copy.deepcopy(smoke), "noise.ou.scalar.n_steps", 10**8)
    config["limits"] = {"max_job_work": 1e9}
    assert "noise.ou.scalar.n_steps" in problems(config)
    config = set_key(
        copy.deepcopy(smoke), "noise.ou.scalar.eta_a", [0.01 * k for k in range(10, 199)]
    )
    config["limits"] = {"max_job_work": 1e9}
    assert "noise.ou.scalar.eta_a" in problems(config)


#: Boundary values the check accepts, each run in memory at smoke size.
BOUNDARY = [
    ("noise", "stochastic_approximation", {"factorization.injection_step": 0.49}),
    # ηa = 1.99 forgets x₀ like 0.99^(2k): the burn-in 230 it needs
    (
        "noise",
        "ou",
        {
            "scalar.eta_a": [1.99],
            "scalar.burn_in": 230,
            "scalar.n_steps": 250,
            "quadratic.step_sizes": [1.99],
        },
    ),
    ("noise", "label_noise", {"eta": 0.0048, "label_noise": 3.0}),
    ("dynamics", "matrix_factorization", {"init_scales": [1e-6, 1e-3], "depths": [1, 3]}),
    ("dynamics", "linear_nets", {"init_scale": 1e-6, "batch_size": 8}),
    ("dynamics", "pl_rate", {"n_samples": [20, 1], "n_steps": 1, "n_checkpoints": 2}),
]


def _tiny(family, experiment, overrides, smoke):
    spec = copy.deepcopy(smoke[family][experiment])
    shrink = {
        # the fewest chains and steps with 20,000 independent samples (MIN_SAMPLES)
        "ou": {
            "n_trials": 2,
            "scalar.n_chains": 10_000,
            "scalar.n_steps": 200,
            "quadratic.n_chains": 60,
            "quadratic.n_steps": 1300,
            "quadratic.burn_in": 300,
        },
        "stochastic_approximation": {
            "n_trials": 2,
            "dropout.n_steps": 200,
            "factorization.gd_steps": 200,
            "factorization.injection_steps": 200,
            "factorization.imbalance_steps": [0.1],
            "factorization.imbalance_time": 2.0,
        },
        "label_noise": {
            "n_trials": 2,
            "n_steps": 2000,
            "gd_steps": 50,
            "theta_alpha_steps": 50,
            "phase_steps": 50,
        },
        "matrix_factorization": {"n_rows": 2, "n_cols": 2, "n_checkpoints": 5},
        "linear_nets": {"gd_steps": 50, "sgd_steps": 50, "n_checkpoints": 3},
        "pl_rate": {},
    }[experiment]
    for key, value in {**shrink, **overrides}.items():
        set_key(spec, key, value)
    return spec


@pytest.mark.parametrize(
    ("family", "experiment", "overrides"), BOUNDARY, ids=[f"{f}.{e}" for f, e, _ in BOUNDARY]
)
def test_accepted_boundary_values_run(smoke, family, experiment, overrides):
    from implicit_reg.experiment import run_family

    spec = _tiny(family, experiment, overrides, smoke)
    config = {
        "seed": 1,
        "strict_claims": False,
        family: {experiment: spec},
        "limits": {"allow_over_limits": True},
    }
    config = check_config_and_fill(config)
    tables = run_family(family, config[family], config["seed"])
    assert len(tables[experiment]) > 0


@pytest.mark.parametrize("name", ["smoke", "config", "paper"])
def test_shipped_label_noise_steps_and_levels_are_within_their_limits(root, name):
    from implicit_reg.noise.config import label_noise_level_limit, label_noise_step_limit

    config = check_config_and_fill(load_config_file(root / "config" / f"{name}.yaml"))
    label = config["noise"]["label_noise"]
    assert label["eta"] < label_noise_step_limit(label["alpha"], label["n_features"])
    assert label["label_noise"] < label_noise_level_limit(label["eta"], label["n_features"])
