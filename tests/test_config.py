"""Configuration validation: every malformed config fails before any job runs."""

import copy
import subprocess
import sys

import pytest
import yaml

from implicit_reg.workflow.checks import ConfigError
from implicit_reg.workflow.configcheck import check_config_and_fill

SCHEMA = "workflow/schemas/config.schema.yaml"


def _validated(config, root):
    return check_config_and_fill(copy.deepcopy(config), root / SCHEMA)


@pytest.mark.parametrize("name", ["config.yaml", "smoke.yaml", "paper.yaml"])
def test_shipped_configs_are_valid(root, name):
    _validated(yaml.safe_load((root / "config" / name).read_text()), root)


def test_defaults_fill_missing_keys(root, smoke):
    del smoke["risk"]["min_norm"]["n_trials"]
    assert _validated(smoke, root)["risk"]["min_norm"]["n_trials"] == 20


@pytest.mark.parametrize("name", ["config.yaml", "smoke.yaml", "paper.yaml"])
def test_defaults_filled_as_snakemake_fills_them(root, name, tmp_path):
    """`fill_defaults` gives what ``snakemake.utils.validate(set_default=True)`` gives
    (on the assembled schema, written to one file), on the shipped configs and on
    sections reduced to one key (most keys from defaults)."""
    import json

    from snakemake.utils import validate

    from implicit_reg.workflow.configcheck import fill_defaults, load_schema

    config = yaml.safe_load((root / "config" / name).read_text())
    schema = load_schema(root / SCHEMA)
    assembled = tmp_path / "schema.json"
    assembled.write_text(json.dumps(schema))
    sparse = copy.deepcopy(config)
    for family, section in sparse.items():
        if isinstance(section, dict) and family != "limits":
            for experiment, spec in section.items():
                specs = schema["properties"][family]["properties"][experiment]
                keep = {"grid", *specs.get("required", ())}
                section[experiment] = {k: v for k, v in spec.items() if k in keep}
    assert sparse != config
    for original in (config, sparse):
        ours, theirs = copy.deepcopy(original), copy.deepcopy(original)
        fill_defaults(ours, load_schema(root / SCHEMA))
        validate(theirs, str(assembled), set_default=True)
        assert ours == theirs


def _set(config, path, value):
    *parents, last = path.split(".")
    node = config
    for key in parents:
        node = node[key]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return config


DELETE = object()
MALFORMED = [
    ("seed", "seven", "seed"),
    ("seed", -1, "seed"),
    ("strict_claims", "yes", "strict_claims"),
    ("colour", "blue", "colour"),
    ("risk.min_norm.n_trials", 0, "n_trials"),
    ("risk.min_norm.step_size", 0.1, "step_size"),
    ("risk.min_norm.grid.n_samples", [], "n_samples"),
    ("risk.min_norm.grid.n_features", [10], "n_features"),
    ("risk.double_descent.gamma", ["one", 2.0], "gamma"),
    ("risk.double_descent.gamma", [-0.5, 2.0], "gamma"),
    ("risk.double_descent.ridge_lambdas", "0.1", "ridge_lambdas"),
    ("risk.early_stopping.noise_std", -1.0, "noise_std"),
    ("risk.min_norm.gd_step_fraction", 0.0, "gd_step_fraction"),
    ("risk", {}, "risk"),
    ("margin.soudry.eta_scale", 3.0, "eta_scale"),
    ("margin.soudry.losses", ["hinge"], "hinge"),
    ("diagonal.crossover.alpha_min", 0.0, "alpha_min"),
    ("bounds.corruption.grid.p", [1.5], "1.5"),
]


@pytest.mark.parametrize(
    ("path", "value", "named"), MALFORMED, ids=[f"{p}={v!r}"[:40] for p, v, _ in MALFORMED]
)
def test_schema_rejects_malformed_config(root, smoke, path, value, named):
    with pytest.raises(Exception, match=named):
        _validated(_set(smoke, path, value), root)


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        ("risk.min_norm.batch_sizes", [1, 500], "batch_sizes"),
        ("risk.double_descent.grid.n_samples", [200, 200], "n_samples"),
    ],
)
def test_cross_key_checks_reject_inconsistent_config(root, smoke, path, value, named):
    with pytest.raises(ConfigError, match=named):
        _validated(_set(smoke, path, value), root)


def test_config_without_any_family_is_rejected(root, smoke):
    with pytest.raises(Exception, match="risk"):
        _validated({"seed": 1, "strict_claims": False}, root)


def test_bad_config_fails_before_any_job_and_keeps_results(root, smoke, tmp_path):
    bad = _set(copy.deepcopy(smoke), "risk.min_norm.n_trials", -3)
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(bad))
    finished = tmp_path / "results" / "risk" / "min_norm.parquet"
    finished.parent.mkdir(parents=True)
    finished.write_bytes(b"finished")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-s",
            str(root / "Snakefile"),
            "-d",
            str(tmp_path),
            "--configfile",
            str(tmp_path / "bad.yaml"),
            "--cores",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode != 0
    assert "n_trials" in run.stdout + run.stderr
    assert finished.read_bytes() == b"finished"
    assert not (tmp_path / "results" / "logs").exists()


def test_config_readme_is_generated_from_the_schema(root):
    from implicit_reg.workflow.configcheck import load_schema
    from implicit_reg.workflow.configdoc import render

    schema = load_schema(root / SCHEMA)
    assert (root / "config" / "README.md").read_text() == render(schema), (
        "config/README.md is stale: run `make config-docs`"
    )


def test_every_schema_key_has_type_description_and_default(root):
    from implicit_reg.workflow.configcheck import load_schema

    schema = load_schema(root / SCHEMA)

    def walk(node, path):
        for name, sub in node.get("properties", {}).items():
            where = f"{path}.{name}".strip(".")
            assert "description" in sub, where
            if sub.get("type") == "object" and "properties" in sub:
                assert sub.get("additionalProperties") is False, where
                walk(sub, where)
            else:
                assert "type" in sub and "default" in sub, where

    walk(schema, "")
