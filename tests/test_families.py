"""The contract every figure family meets, one test per rule, parametrized over `FAMILIES`.

In the style of scikit-learn's common estimator tests: a new family (or a new experiment,
figure or claim of one) is checked by these tests without writing any; README, "Adding an
experiment", is this file read as a checklist.
"""

from __future__ import annotations

import ast
import fnmatch
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from implicit_reg.families import FAMILIES, family_module, schema_path, title
from implicit_reg.workflow import imports
from implicit_reg.workflow.captions import caption_claims, caption_needs
from implicit_reg.workflow.configcheck import load_schema

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
CAPTIONS = ROOT / "workflow" / "report"
SHIPPED = ("smoke.yaml", "config.yaml", "paper.yaml")
#: A family's modules with a fixed role; every other module of the folder is a simulator
#: (or a helper of one) and must not reach the family's exact references.
ROLES = ("__init__", "config", "experiments", "claims", "figures", "exact", "data")

family = pytest.mark.parametrize("family", FAMILIES)


def shipped_section(name: str, family: str) -> dict:
    return yaml.safe_load((ROOT / "config" / name).read_text())[family]


def captions(family: str) -> dict[str, str]:
    """Figure name → caption text, from ``workflow/report/<family>/``."""
    return {p.stem: p.read_text() for p in sorted((CAPTIONS / family).glob("*.rst"))}


def experiment_names(family: str) -> set[str]:
    return set(family_module(family, "experiments").EXPERIMENTS)


@family
def test_title_and_docstring(family):
    package = family_module(family)
    assert isinstance(title(family), str) and title(family).strip()
    doc = package.__doc__ or ""
    missing = [name for name in sorted(experiment_names(family)) if f"``{name}``" not in doc]
    assert not missing, f"implicit_reg.{family}.__init__ docstring does not list {missing}"


@family
def test_parse_time_modules_import_no_numpy(family):
    """The workflow imports the package and its ``config`` inside Snakemake: no numpy."""
    code = (
        f"import sys, implicit_reg.{family}, implicit_reg.{family}.config\n"
        "heavy = sorted({'numpy', 'pandas', 'scipy', 'matplotlib'} & set(sys.modules))\n"
        "assert not heavy, heavy"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": str(SRC)}
    )
    assert run.returncode == 0, run.stderr


@family
@pytest.mark.parametrize("name", SHIPPED)
def test_schema_experiments_costs_and_shipped_sections_agree(family, name):
    schema = yaml.safe_load(schema_path(family).read_text())
    assert load_schema()["properties"][family] == schema
    in_schema = set(schema["properties"])
    costs = set(family_module(family, "config").COSTS)
    assert experiment_names(family) == in_schema, "EXPERIMENTS against config.schema.yaml"
    assert costs == in_schema, "config.COSTS against config.schema.yaml"
    rates = family_module(family, "config").THROUGHPUT
    assert set(rates) == in_schema, "config.THROUGHPUT against config.schema.yaml"
    assert all(rate > 0 for rate in rates.values())
    assert set(shipped_section(name, family)) == in_schema, f"config/{name}"


@family
def test_captions_are_the_figures(family):
    figures = set(family_module(family, "figures").FIGURES)
    assert set(captions(family)) == figures, f"workflow/report/{family}/*.rst against FIGURES"


@family
def test_captions_need_experiments_of_the_family(family):
    for name, text in captions(family).items():
        needs = caption_needs(text)
        assert needs, f"{family}/{name}.rst has no '.. needs:' line"
        assert set(needs) <= experiment_names(family), (name, needs)


@family
def test_claims_registry_names_tables_of_the_family(family):
    tables = {name for e in experiment_names(family) for name in (e, f"{e}_summary")}
    for key in family_module(family, "claims").CLAIMS:
        names = set(key) if isinstance(key, tuple) else {key}
        assert names <= tables, (family, key)


def _modules(family: str) -> list[str]:
    return sorted(p.stem for p in (SRC / "implicit_reg" / family).glob("*.py"))


@family
def test_no_simulator_reaches_the_exact_references(family):
    """The exact references check the simulators: a simulator that imports them could
    agree with them by construction."""
    for module in _modules(family):
        if module in ROLES:
            continue
        closure = imports.module_closure(SRC, [f"implicit_reg.{family}.{module}"])
        exact = [f for f in closure if Path(f).name == "exact.py"]
        assert not exact, f"implicit_reg.{family}.{module} reaches {exact}"


@family
def test_config_imports_only_parse_time_modules(family):
    """``config.py`` imports nothing of the job-time side (its constants come from the
    numpy-free package ``__init__``)."""
    tree = ast.parse((SRC / "implicit_reg" / family / "config.py").read_text())
    names = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module.startswith("implicit_reg")
    }
    allowed = {f"implicit_reg.{family}", "implicit_reg.workflow.checks", "implicit_reg.grid"}
    assert names <= allowed, names - allowed


@family
def test_slurm_profile_has_the_family(family):
    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "profile.yaml").read_text())
    rule = f"{family}_simulate"
    group = profile["groups"][rule]
    assert profile["group-components"][group] >= 1


@pytest.mark.workflow
@family
def test_captions_support_claims_of_the_smoke_run(smoke_run, family):
    work, _ = smoke_run
    produced = set(pd.read_parquet(work / "results" / "claims" / f"{family}.parquet").claim_id)
    for name, text in captions(family).items():
        named = caption_claims(text)
        assert named, f"{family}/{name}.rst names no claim ('Supports claims:' paragraph)"
        unknown = [c for c in named if not fnmatch.filter(produced, c)]
        assert not unknown, f"{family}/{name}.rst: no such claim on the smoke tables {unknown}"


@pytest.mark.workflow
@family
def test_keys_and_trial_identify_rows(smoke_run, family):
    work, config = smoke_run
    for name, experiment in family_module(family, "experiments").EXPERIMENTS.items():
        if name not in config[family]:
            continue
        table = pd.read_parquet(work / "results" / family / f"{name}.parquet")
        keys = [k for k in experiment.keys if k in table] + ["trial"]
        duplicated = table.duplicated(keys)
        assert not duplicated.any(), (name, keys, table[duplicated].head())
