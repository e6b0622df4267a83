"""The smoke configuration end to end, reruns, and the linters (marked `workflow`)."""

import os
import shutil
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from implicit_reg import experiment, risk
from implicit_reg.tables import read_provenance, read_table

pytestmark = pytest.mark.workflow
TRACKED = [
    "Snakefile", "workflow", "config", "src", "profiles", "pyproject.toml", "environment.yml"
]


def snakemake(workdir, *args, timeout=900):
    """Run Snakemake from ``workdir`` (a copy of the repository) and return the result."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *args],
        cwd=workdir, capture_output=True, text=True, timeout=timeout, env=env,
    )


def planned_jobs(workdir, config, *args) -> dict[str, int]:
    """Rule name -> number of jobs a dry run would execute."""
    run = snakemake(workdir, "-n", "--quiet", "rules", "--configfile", config, *args)
    assert run.returncode == 0, run.stderr
    counts = {}
    for line in (run.stdout + run.stderr).splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit() and parts[0] not in ("job", "total"):
            counts[parts[0]] = int(parts[1])
    return counts


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory, request):
    """A copy of the repository in which the smoke config ran once, strictly."""
    root = request.config.rootpath
    work = tmp_path_factory.mktemp("workflow")
    for name in TRACKED:
        source = root / name
        copy = shutil.copytree if source.is_dir() else shutil.copy2
        copy(source, work / name)
    config = yaml.safe_load((root / "config" / "smoke.yaml").read_text())
    assert config["strict_claims"] is True
    run = snakemake(work, "--cores", "2", "--configfile", "config/smoke.yaml")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return work, config


def test_report_and_every_claim(smoke_run):
    work, config = smoke_run
    report = (work / "results" / "report" / "index.html").read_text()
    assert "data:image/png;base64," in report and "Provenance" in report
    claims = pd.concat(
        [read_table(p) for p in sorted((work / "results" / "claims").glob("*.parquet"))]
    )
    families = [name for name, section in config.items() if isinstance(section, dict)]
    assert sorted(claims.family.unique()) == sorted(families)
    assert claims.passed.all(), claims[~claims.passed]
    for claim_id in claims.claim_id:
        assert claim_id in report
    for family in families:
        captions = sorted((work / "workflow" / "report" / family).glob("*.rst"))
        for caption in captions:
            for ext in ("png", "pdf"):
                assert (work / "results" / "figures" / family / f"{caption.stem}.{ext}").exists()


def test_tables_carry_provenance_and_match_in_memory_run(smoke_run):
    """Seeds depend on (family, experiment, grid point) only: job order cannot matter."""
    work, config = smoke_run
    meta = read_provenance(work / "results" / "risk" / "double_descent.parquet")
    assert meta["seed"] == config["seed"] and meta["config"]["risk"] == config["risk"]
    for name, spec in config["risk"].items():
        expected, _ = experiment.run_experiment(
            "risk", name, risk.EXPERIMENTS[name], spec, config["seed"]
        )
        got = read_table(work / "results" / "risk" / f"{name}.parquet")
        pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_nothing_reruns_without_changes(smoke_run):
    work, _ = smoke_run
    assert planned_jobs(work, "config/smoke.yaml") == {}
    # The parser does see jobs when there are some.
    assert planned_jobs(work, "config/smoke.yaml", "--forcerun", "report")["report"] == 1


def test_plot_edit_reruns_figures_only(smoke_run):
    work, _ = smoke_run
    figures = work / "src" / "implicit_reg" / "risk" / "figures.py"
    figures.write_text(figures.read_text() + "\n# an edit of the plotting code\n")
    jobs = planned_jobs(work, "config/smoke.yaml")
    assert jobs.get("risk_figures") == 1
    assert not any(rule.endswith(("_simulate", "_aggregate", "_claims")) for rule in jobs)
    assert snakemake(work, "--cores", "2", "--configfile", "config/smoke.yaml").returncode == 0


def test_grid_edit_reruns_only_the_new_point(smoke_run):
    work, config = smoke_run
    edited = yaml.safe_load(yaml.safe_dump(config))
    edited["risk"]["double_descent"]["grid"]["noise_std"].append(0.75)
    (work / "config" / "edited.yaml").write_text(yaml.safe_dump(edited))
    jobs = planned_jobs(work, "config/edited.yaml")
    assert jobs["risk_simulate"] == 1
    assert not any(r.endswith("_simulate") for r in jobs if not r.startswith("risk"))


def test_strict_claims_fail_the_run(smoke_run):
    """A failing claim makes a strict run exit non-zero after writing the report."""
    work, _ = smoke_run
    claims = work / "results" / "claims" / "risk.parquet"
    table = read_table(claims)
    table.loc[0, "measured"] = table.loc[0, "threshold"] * 10 + 1  # a failed claim
    table.to_parquet(claims)
    run = snakemake(work, "--cores", "1", "--configfile", "config/smoke.yaml",
                    "--forcerun", "report")
    assert run.returncode != 0
    assert "strict_claims" in run.stdout + run.stderr
    assert "FAIL" in (work / "results" / "report" / "index.html").read_text()


def test_snakemake_lint_and_snakefmt(request):
    root = request.config.rootpath
    lint = snakemake(root, "--lint", "--configfile", "config/smoke.yaml", timeout=120)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = subprocess.run(
        [sys.executable, "-m", "snakefmt", "--check", "Snakefile", "workflow/rules"],
        cwd=root, capture_output=True, text=True,
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_native_snakemake_report_has_the_captions(smoke_run):
    work, _ = smoke_run
    run = snakemake(work, "--report", "results/native.zip", "--configfile", "config/smoke.yaml")
    assert run.returncode == 0, run.stderr[-2000:]
    assert "ERROR" not in run.stderr, run.stderr[-2000:]
    assert (work / "results" / "native.zip").stat().st_size > 10_000
