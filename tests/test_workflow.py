"""The smoke configuration end to end, reruns, and the linters (marked `workflow`)."""

import html
import os
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from workflows import copy_repository, kill_after_run_tables, make_report, planned_jobs, snakemake

from implicit_reg import experiment
from implicit_reg.risk.experiments import EXPERIMENTS as RISK_EXPERIMENTS
from implicit_reg.tables import read_provenance, read_table, write_table

pytestmark = pytest.mark.workflow


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
            assert (work / "results" / "figures" / family / f"{caption.stem}.png").exists()
    # The smoke configuration writes no PDFs (test_partial_config_… writes them).
    assert config["pdf_figures"] is False
    assert not list((work / "results" / "figures").rglob("*.pdf"))


def test_tables_carry_provenance_and_match_in_memory_run(smoke_run):
    """Seeds depend on (family, experiment, grid point) only: job order cannot matter."""
    work, config = smoke_run
    meta = read_provenance(work / "results" / "risk" / "double_descent.parquet")
    assert meta["seed"] == config["seed"] and meta["config"]["risk"] == config["risk"]
    for name, spec in config["risk"].items():
        expected, _ = experiment.run_experiment(
            "risk", name, RISK_EXPERIMENTS[name], spec, config["seed"]
        )
        got = read_table(work / "results" / "risk" / f"{name}.parquet")
        pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_nothing_reruns_without_changes(smoke_run):
    work, _ = smoke_run
    # Restored text and time stamps: nothing of the run is stale any more.
    assert not any(r.endswith("_simulate") for r in planned_jobs(work, "config/smoke.yaml"))
    # The parser does see jobs when there are some.
    assert planned_jobs(work, "config/smoke.yaml", "--forcerun", "report")["report"] == 1


def test_plot_edit_reruns_no_simulation(fresh_run):
    work, _ = fresh_run
    figures = work / "src" / "implicit_reg" / "risk" / "figures.py"
    figures.write_text(figures.read_text() + "\n# an edit of the plotting code\n")
    jobs = planned_jobs(work, "config/smoke.yaml")
    assert jobs.get("risk_summary") == 1
    assert not any(rule.endswith("_simulate") for rule in jobs), jobs
    assert not any(rule.endswith("_summary") and rule != "risk_summary" for rule in jobs), jobs
    assert snakemake(work, "--cores", "2", "--configfile", "config/smoke.yaml").returncode == 0


def test_grid_edit_reruns_only_the_new_point(fresh_run):
    work, config = fresh_run
    edited = yaml.safe_load(yaml.safe_dump(config))
    edited["risk"]["double_descent"]["grid"]["n_samples"].append(150)
    (work / "config" / "edited.yaml").write_text(yaml.safe_dump(edited))
    jobs = planned_jobs(work, "config/edited.yaml")
    assert jobs["risk_simulate"] == 1
    assert not any(r.endswith("_simulate") for r in jobs if not r.startswith("risk"))


def test_strict_claims_fail_the_run(fresh_run):
    """A failing claim makes a strict run exit non-zero after writing the report."""
    work, _ = fresh_run
    claims = work / "results" / "claims" / "risk.parquet"
    table = read_table(claims)
    table.loc[0, "measured"] = table.loc[0, "threshold"] * 10 + 1  # a failed claim
    write_table(table, claims, read_provenance(claims))
    run = snakemake(
        work, "--cores", "1", "--configfile", "config/smoke.yaml", "--forcerun", "report"
    )
    assert run.returncode != 0
    assert "strict_claims" in run.stdout + run.stderr
    page = (work / "results" / "report" / "index.html").read_text()
    failed = table.loc[0, "claim_id"]
    verdict = page[page.index('class="verdict fail"') : page.index('class="origin"')]
    assert f'href="#risk-min-norm-convergence"><code>{failed}</code></a>' in verdict
    assert '<figure id="risk-min-norm-convergence" class="fail">' in page
    assert '<h2 id="risk" class="fail">' in page


def test_snakemake_lint_and_snakefmt(request):
    root = request.config.rootpath
    lint = snakemake(root, "--lint", "--configfile", "config/smoke.yaml", timeout=120)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = subprocess.run(
        [sys.executable, "-m", "snakefmt", "--check", "workflow/Snakefile", "workflow/rules"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_native_snakemake_report_has_the_captions_and_the_claims(smoke_run, tmp_path):
    import zipfile

    work, _ = smoke_run
    native_zip = tmp_path / "native.zip"
    run = snakemake(work, "--report", str(native_zip), "--configfile", "config/smoke.yaml")
    assert run.returncode == 0, run.stderr[-2000:]
    assert "ERROR" not in run.stderr, run.stderr[-2000:]
    # The tables were made with this configuration.
    for table in sorted((work / "results").glob("*/*.parquet")):
        if table.parent.name != "claims":
            assert f"{table.relative_to(work)}:" not in run.stderr
    with zipfile.ZipFile(native_zip) as native:
        names = native.namelist()
        pages = [n for n in names if n.endswith("/claims.html")]
        assert len(pages) == 1 and any(n.endswith(".png") for n in names)
        page = native.read(pages[0]).decode()
    claims = pd.concat(
        [read_table(p) for p in sorted((work / "results" / "claims").glob("*.parquet"))]
    )
    for row in claims.itertuples():  # every claim and check, with its source
        assert row.claim_id in page and html.escape(row.source) in page
    assert "Consistency checks" in page and "pass" in page


def test_native_report_with_another_configuration_says_so(smoke_run, tmp_path):
    """`--report` with a configuration the results were not made with names the keys."""
    work, config = smoke_run
    edited = yaml.safe_load(yaml.safe_dump(config))
    edited["seed"] = config["seed"] + 1
    (tmp_path / "edited.yaml").write_text(yaml.safe_dump(edited))
    run = snakemake(
        work,
        "--report",
        str(tmp_path / "native.zip"),
        "--configfile",
        str(tmp_path / "edited.yaml"),
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "made with another configuration than this one" in run.stderr
    family = next(k for k, v in config.items() if isinstance(v, dict) and k != "limits")
    table = f"results/{family}/{sorted(config[family])[0]}.parquet"
    assert f"{table}: seed is {config['seed']} there, {config['seed'] + 1} here" in run.stderr


def _touched(path):
    """Context: append a comment to ``path``, then restore its text and time stamps."""
    import contextlib

    @contextlib.contextmanager
    def edit():
        text, stat = path.read_text(), path.stat()
        path.write_text(text + "\n# an edit\n")
        try:
            yield
        finally:
            path.write_text(text)
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    return edit()


def test_editing_a_shared_module_reruns_the_jobs_that_import_it(fresh_run):
    """No stale results: a job reruns when any module it imports changes."""
    work, _ = fresh_run
    src = work / "src" / "implicit_reg"
    with _touched(src / "linalg.py"):
        jobs = planned_jobs(work, "config/smoke.yaml")
    # linalg is imported by the risk and diagonal simulations, not by margin or bounds.
    assert jobs.get("risk_simulate") and jobs.get("diagonal_simulate"), jobs
    assert "margin_simulate" not in jobs and "bounds_simulate" not in jobs, jobs
    with _touched(src / "plotting.py"):
        jobs = planned_jobs(work, "config/smoke.yaml")
    families = [
        k
        for k, v in yaml.safe_load((work / "config" / "smoke.yaml").read_text()).items()
        if isinstance(v, dict) and k != "limits"
    ]
    assert {f"{f}_summary" for f in families} <= set(jobs), jobs
    assert not any(r.endswith("_simulate") for r in jobs), jobs
    with _touched(src / "experiment.py"):
        jobs = planned_jobs(work, "config/smoke.yaml")
    assert all(jobs.get(f"{f}_simulate") for f in families), jobs
    # Restored text and time stamps: nothing of the run is stale any more.
    assert not any(r.endswith("_simulate") for r in planned_jobs(work, "config/smoke.yaml"))


def test_partial_config_skips_figures_it_cannot_draw(smoke_run, tmp_path):
    """Any subset of a family's experiments runs; the report names what was skipped.

    With ``pdf_figures: true`` (the default) every drawn figure is also a PDF.
    """
    work, config = smoke_run
    partial = {
        "seed": config["seed"],
        "strict_claims": True,
        "risk": {k: config["risk"][k] for k in ("min_norm", "early_stopping")},
    }
    (tmp_path / "partial.yaml").write_text(yaml.safe_dump(partial))
    run = snakemake(
        tmp_path,
        "-s",
        str(work / "Snakefile"),
        "--cores",
        "2",
        "--configfile",
        str(tmp_path / "partial.yaml"),
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    claims = read_table(tmp_path / "results" / "claims" / "risk.parquet")
    assert not claims.claim_id.str.contains("peak|theory").any()
    report = (tmp_path / "results" / "report" / "index.html").read_text()
    assert "Figures skipped" in report and "double_descent" in report
    figures = tmp_path / "results" / "figures" / "risk"
    assert not (figures / "double_descent.png").exists()
    drawn = sorted(p.stem for p in figures.glob("*.png"))
    assert drawn and drawn == sorted(p.stem for p in figures.glob("*.pdf"))
    assert all((figures / f"{name}.pdf").read_bytes().startswith(b"%PDF") for name in drawn)


def test_killed_run_resumes_with_make_report_and_gives_the_same_tables(smoke_run, tmp_path):
    """kill -9 mid-run leaves a lock; `make report` removes it and finishes the run."""

    root = smoke_run[0]
    work = tmp_path / "repo"
    work.mkdir()
    copy_repository(root, work)
    kill_after_run_tables(work, "--configfile", "config/smoke.yaml")
    assert any((work / ".snakemake" / "locks").iterdir()), "no lock was left behind"
    resumed = make_report(work, "config/smoke.yaml")
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    assert "interrupted run" in resumed.stderr
    for table in sorted(root.glob("results/*/*.parquet")):
        if table.parent.name == "claims":
            continue
        pd.testing.assert_frame_equal(
            read_table(work / table.relative_to(root)), read_table(table), check_dtype=False
        )
