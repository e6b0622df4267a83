"""Bad input never gets past validation, and each problem is named in one readable line.

Covers: YAML syntax errors (file, line, column), empty files, non-finite numbers, unknown
keys (one line with the allowed keys), wrong types and ranges, cross-key inconsistencies
over every grid combination, and per-job cost estimates against the limits.
"""

from __future__ import annotations

import copy

import pytest
from configs import problems, set_key

from implicit_reg.families import FAMILIES
from implicit_reg.workflow.checks import ConfigError
from implicit_reg.workflow.configcheck import (
    check_config_and_fill,
    cost_problems,
    load_config_file,
    main,
)

NAN, INF = float("nan"), float("inf")
#: (dotted key, bad value, text the message must contain)
BAD_VALUES = [
    ("seed", NAN, "seed: nan is not a finite number"),
    ("risk.min_norm.noise_std", NAN, "risk.min_norm.noise_std: nan"),
    ("risk.min_norm.init_scale", INF, "risk.min_norm.init_scale: inf"),
    ("risk.min_norm.gd_step_fraction", -INF, "risk.min_norm.gd_step_fraction: -inf"),
    ("risk.double_descent.gamma", [0.5, NAN], "risk.double_descent.gamma[1]: nan"),
    ("risk.double_descent.ridge_lambdas", [INF], "risk.double_descent.ridge_lambdas[0]: inf"),
    ("risk.early_stopping.t_max", INF, "risk.early_stopping.t_max: inf"),
    ("limits.max_job_work", NAN, "limits.max_job_work: nan"),
    ("seed", 1.5, "seed: 1.5 is not allowed (expected integer"),
    ("seed", -1, "seed: -1 is not allowed (expected integer ≥ 0"),
    ("strict_claims", "yes", "strict_claims: 'yes' is not allowed (expected boolean"),
    ("risk.min_norm.n_trials", 0, "risk.min_norm.n_trials: 0 is not allowed"),
    ("risk.min_norm.n_trials", "ten", "risk.min_norm.n_trials: 'ten'"),
    ("risk.min_norm.gd_steps", 0, "risk.min_norm.gd_steps: 0"),
    ("risk.min_norm.gd_step_fraction", 0.0, "risk.min_norm.gd_step_fraction: 0.0"),
    ("risk.min_norm.grid.n_samples", [], "risk.min_norm.grid.n_samples"),
    ("risk.min_norm.grid.n_samples", [30.5], "risk.min_norm.grid.n_samples[0]"),
    ("risk.min_norm.batch_sizes", [0], "risk.min_norm.batch_sizes[0]"),
    ("risk.double_descent.gamma", ["one", 2.0], "risk.double_descent.gamma[0]"),
    ("risk.double_descent.gamma", [-0.5, 2.0], "risk.double_descent.gamma[0]"),
    ("risk.double_descent.ridge_lambdas", "0.1", "risk.double_descent.ridge_lambdas"),
    ("risk.double_descent.noise_stds", [0.0], "risk.double_descent.noise_stds[0]"),
    ("risk.double_descent.signal_norm", 0, "risk.double_descent.signal_norm"),
    ("risk.early_stopping.step_fraction", 0.9, "risk.early_stopping.step_fraction: 0.9"),
    ("risk.early_stopping.n_draws", 1, "risk.early_stopping.n_draws: 1"),
    ("risk.early_stopping.n_samples", [], "risk.early_stopping.n_samples"),
    ("limits.max_job_memory_gb", -1, "limits.max_job_memory_gb: -1"),
    ("limits.allow_over_limits", "no", "limits.allow_over_limits"),
    ("margin.soudry.eta_scale", 3.0, "margin.soudry.eta_scale: 3.0"),
    ("margin.soudry.losses", ["hinge"], "margin.soudry.losses[0]: 'hinge'"),
    ("diagonal.crossover.alpha_min", 0.0, "diagonal.crossover.alpha_min: 0.0"),
    ("bounds.corruption.grid.p", [1.5], "bounds.corruption.grid.p[0]: 1.5"),
    ("risk", {}, "risk"),
]


@pytest.mark.parametrize(
    ("path", "value", "message"), BAD_VALUES, ids=[f"{p}={v!r}"[:48] for p, v, _ in BAD_VALUES]
)
def test_bad_value_is_rejected_naming_the_key(smoke, path, value, message):
    assert message in problems(set_key(smoke, path, value))


#: (dotted key, value, text) of values valid alone but inconsistent with another key.
INCONSISTENT = [
    ("risk.min_norm.batch_sizes", [1, 500], "risk.min_norm.batch_sizes [500] exceed"),
    ("risk.min_norm.grid.n_samples", [30, 80], "risk.min_norm.grid.n_samples [80]"),
    ("risk.min_norm.grid.n_samples", [30, 90], "must be below risk.min_norm.n_features"),
    ("risk.double_descent.grid.n_samples", [200, 200], "repeats a value"),
]


@pytest.mark.parametrize(
    ("path", "value", "message"), INCONSISTENT, ids=[f"{p}={v!r}"[:48] for p, v, _ in INCONSISTENT]
)
def test_inconsistent_keys_are_rejected_naming_them(smoke, path, value, message):
    assert message in problems(set_key(smoke, path, value))


def test_unknown_key_is_one_line_with_the_allowed_keys(smoke):
    smoke["risk"]["min_norm"]["n_featurs"] = 80
    text = problems(smoke)
    line = next(ln for ln in text.splitlines() if "n_featurs" in ln)
    assert line.startswith("  - risk.min_norm: unknown key 'n_featurs'; allowed keys: ")
    assert "n_features" in line and len(text.splitlines()) == 2
    assert len(text) < 400


@pytest.mark.parametrize("family", FAMILIES)
def test_family_without_experiments_is_rejected(smoke, family):
    smoke[family] = {}
    text = problems(smoke)
    assert f"{family}: no experiment given; list at least one of" in text


def test_unknown_family_is_named(smoke):
    smoke["colour"] = {"x": {"grid": {"a": [1]}}}
    assert "(top level): unknown key 'colour'" in problems(smoke)


def test_yaml_syntax_error_names_file_line_and_column(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("seed: 7\nrisk:\n  min_norm:\n    grid: {n_samples: [30]\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml:5:1: YAML syntax error"):
        load_config_file(path)
    path.write_text("seed: 7\n\trisk: 1\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml:2:1: YAML syntax error"):
        load_config_file(path)


def test_empty_missing_and_non_mapping_files_are_named(tmp_path):
    (tmp_path / "empty.yaml").write_text("\n# nothing\n")
    with pytest.raises(ConfigError, match="empty.yaml: the configuration file is empty"):
        load_config_file(tmp_path / "empty.yaml")
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config_file(tmp_path / "absent.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_config_file(tmp_path / "list.yaml")


def test_command_line_check_reports_and_fails(tmp_path, root, capsys):
    (tmp_path / "empty.yaml").write_text("")
    assert main([str(root / "config" / "smoke.yaml")]) == 0
    assert main([str(tmp_path / "empty.yaml")]) == 1
    assert "is empty" in capsys.readouterr().err


def test_too_costly_grid_point_stops_naming_the_experiment_and_keys(smoke):
    smoke["risk"]["early_stopping"]["n_trials"] = 10_000
    smoke["risk"]["early_stopping"]["n_draws"] = 10_000
    text = problems(smoke)
    assert "risk.early_stopping at n_features=50" in text
    assert "risk.early_stopping.n_trials" in text and "exceeds" in text
    smoke.setdefault("limits", {})["allow_over_limits"] = True
    assert cost_problems(check_config_and_fill(copy.deepcopy(smoke))) == []


def test_memory_limit_is_configurable(smoke):
    smoke["limits"] = {"max_job_memory_gb": 1e-6}
    assert "estimated peak memory" in problems(smoke)
