"""Overlaying a small YAML file on a configuration, and two variants side by side (README:
"Changing a few keys" and "Two variants side by side")."""

import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from implicit_reg.tables import read_provenance, read_table

pytestmark = pytest.mark.workflow
ROOT = Path(__file__).resolve().parents[1]


def start(cwd: Path, *args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    return subprocess.Popen(
        [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--cores", "1", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_overlay_merges_nested_keys_and_variants_run_side_by_side(tmp_path):
    smoke = yaml.safe_load((ROOT / "config" / "smoke.yaml").read_text())
    min_norm = smoke["risk"]["min_norm"]
    base = {"seed": smoke["seed"], "strict_claims": False, "risk": {"min_norm": min_norm}}
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(base))
    # Two nested keys: a scalar, and a grid list (replaced whole, not merged).
    n_samples = min(min_norm["grid"]["n_samples"]) - 5
    overlay = {
        "risk": {
            "min_norm": {"n_trials": min_norm["n_trials"] - 1, "grid": {"n_samples": [n_samples]}}
        }
    }
    (tmp_path / "overlay.yaml").write_text(yaml.safe_dump(overlay))

    # Side by side, from one directory: relative --configfile paths are read from here,
    # each --directory gets its own results/ and .snakemake/ (lock, metadata).
    runs = {
        "a": start(tmp_path, "--configfile", "base.yaml", "--directory", "a"),
        "b": start(tmp_path, "--configfile", "base.yaml", "overlay.yaml", "--directory", "b"),
    }
    for name, run in runs.items():
        out, _ = run.communicate(timeout=900)
        assert run.returncode == 0, f"variant {name}:\n{out[-3000:]}"

    expected = copy.deepcopy(min_norm)
    expected["n_trials"] = min_norm["n_trials"] - 1
    expected["grid"] = {"n_samples": [n_samples]}
    for name, spec in (("a", min_norm), ("b", expected)):
        results = tmp_path / name / "results"
        stored = read_provenance(results / "risk" / "min_norm.parquet")["config"]
        stored_spec = {k: v for k, v in stored["risk"]["min_norm"].items() if k in spec}
        assert stored_spec == spec, name  # every other key kept from base.yaml
        runs_made = sorted(
            p.name for p in (results / "risk" / "runs" / "min_norm").glob("*.parquet")
        )
        points = spec["grid"]["n_samples"]
        assert runs_made == [f"n_samples={n}.parquet" for n in sorted(points)], name
        table = read_table(results / "risk" / "min_norm.parquet")
        assert table.trial.nunique() == spec["n_trials"], name
        assert (tmp_path / name / "results" / "report" / "index.html").is_file()
        assert (tmp_path / name / ".snakemake").is_dir()
    assert not (tmp_path / "results").exists()
