"""Nothing stale, nothing lost: what a change reruns, and damaged or missing outputs.

Every test starts from its own copy of a finished smoke run (`fresh_run`), plans the
change with a dry run and then runs it: the jobs run are the jobs planned, and the tables
are those of a clean run of the final configuration.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from workflows import (
    copy_repository,
    kill_after_run_tables,
    load,
    make_report,
    planned_jobs,
    run_jobs,
    simulate_jobs,
    snakemake,
)

from implicit_reg.tables import read_provenance, read_table, write_table

pytestmark = pytest.mark.workflow
SMOKE = "config/smoke.yaml"
#: The rules downstream of every family summary.
REPORTING = {"claims_table": 1, "report": 1, "claims_check": 1, "all": 1}


def every_simulation(work: Path, config) -> dict[str, int]:
    return simulate_jobs(planned_jobs(work, config, "--forceall"))


def write_config(work: Path, name: str, config: dict) -> str:
    path = work / "config" / name
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return f"config/{name}"


def tables(work: Path) -> list[Path]:
    """Run tables, trial and summary tables and claims tables, relative to ``work``."""
    return sorted(p.relative_to(work) for p in work.glob("results/**/*.parquet"))


def assert_same_tables(work: Path, reference: Path) -> None:
    assert tables(work) == tables(reference)
    for table in tables(reference):
        pd.testing.assert_frame_equal(read_table(work / table), read_table(reference / table))
        assert (
            read_provenance(work / table)["config"] == read_provenance(reference / table)["config"]
        ), table


def test_nothing_to_do_after_a_finished_run(fresh_run):
    work, _ = fresh_run
    assert planned_jobs(work, SMOKE) == {}


def test_a_new_seed_reruns_every_simulation(fresh_run):
    work, config = fresh_run
    everything = every_simulation(work, SMOKE)
    assert simulate_jobs(planned_jobs(work, SMOKE, "--config", "seed=8")) == everything
    run, ran = run_jobs(work, SMOKE, "--config", "seed=8")
    assert run.returncode == 0, run.stderr[-3000:]
    assert simulate_jobs(ran) == everything
    for table in tables(work):
        assert read_provenance(work / table)["seed"] == 8, table
    assert "seed 8;" in (work / "results" / "report" / "index.html").read_text()
    assert planned_jobs(work, SMOKE, "--config", "seed=8") == {}


def test_a_non_grid_key_reruns_exactly_its_experiment(fresh_run):
    work, config = fresh_run
    edited = copy.deepcopy(config)
    edited["risk"]["double_descent"]["n_trials"] += 1
    name = write_config(work, "edited.yaml", edited)
    points = sorted(work.glob("results/risk/runs/double_descent/*.parquet"))
    others = {
        p: p.stat().st_mtime_ns for p in work.glob("results/*/runs/*/*.parquet") if p not in points
    }
    expected = {"risk_simulate": len(points), "risk_summary": 1, **REPORTING}
    assert planned_jobs(work, name) == expected
    run, ran = run_jobs(work, name)
    assert run.returncode == 0, run.stderr[-3000:]
    assert ran == expected
    assert all(p.stat().st_mtime_ns == t for p, t in others.items())
    trials = read_table(work / "results" / "risk" / "double_descent.parquet")
    assert trials.trial.nunique() == edited["risk"]["double_descent"]["n_trials"]
    stored = read_provenance(points[0])["config"]["risk"]["double_descent"]
    assert stored["n_trials"] == edited["risk"]["double_descent"]["n_trials"]


def test_pdf_figures_rerun_the_summaries_only(fresh_run):
    work, config = fresh_run
    assert config["pdf_figures"] is False
    families = [f for f, s in config.items() if isinstance(s, dict) and f != "limits"]
    summaries = {f"{family}_summary": 1 for family in families}
    planned = planned_jobs(work, SMOKE, "--config", "pdf_figures=True")
    assert planned == {**summaries, **REPORTING}
    run, ran = run_jobs(work, SMOKE, "--config", "pdf_figures=True")
    assert run.returncode == 0, run.stderr[-3000:]
    assert ran == planned
    pngs = sorted(work.glob("results/figures/*/*.png"))
    assert pngs and all(p.with_suffix(".pdf").is_file() for p in pngs)
    # And back: the summaries' record changed again, no simulation reruns.
    assert planned_jobs(work, SMOKE) == {**summaries, **REPORTING}


def test_another_configuration_reruns_its_jobs(fresh_run):
    """config/config.yaml after the smoke run: every one of its simulations reruns, also
    where a grid point's file name is the same in both (different non-grid keys)."""
    work, _ = fresh_run
    default = "config/config.yaml"
    everything = every_simulation(work, default)
    names = {p.relative_to(work) for p in work.glob("results/*/runs/*/*.parquet")}
    assert simulate_jobs(planned_jobs(work, default)) == everything
    started = time.time_ns()
    run, ran = run_jobs(work, default, "--config", "strict_claims=True")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert simulate_jobs(ran) == everything
    config = load(work / default)
    written = {
        p.relative_to(work)
        for p in work.glob("results/*/runs/*/*.parquet")
        if p.stat().st_mtime_ns > started
    }
    assert len(written) == sum(everything.values())
    shared = names & written
    assert shared  # file names both configurations use
    for table in shared:
        family, _, experiment = table.parts[1:4]
        stored = read_provenance(work / table)
        assert stored["seed"] == config["seed"]
        section = stored["config"][family][experiment]
        assert all(section[k] == v for k, v in config[family][experiment].items() if k != "grid"), (
            table
        )
    report = (work / "results" / "report" / "index.html").read_text()
    assert "Configuration <code>config/config.yaml</code>" in report


def test_killed_run_then_another_configuration_gives_a_clean_run(fresh_run, tmp_path):
    """A ``--forceall`` run killed with SIGKILL, then ``make report`` with another
    configuration whose grid points have the same file names: tables equal to a clean
    run of that configuration, none of the killed run's left behind."""
    work, config = fresh_run
    final = copy.deepcopy(config)
    final["seed"] += 1
    final["risk"]["double_descent"]["n_trials"] += 1
    name = write_config(work, "final.yaml", final)
    kill_after_run_tables(work, "--forceall", "--configfile", SMOKE)
    resumed = make_report(work, name)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    clean = tmp_path / "clean"
    copy_repository(work, clean)
    run, _ = run_jobs(clean, name)
    assert run.returncode == 0, run.stderr[-3000:]
    assert_same_tables(work, clean)


def test_damaged_and_deleted_outputs_are_rebuilt(fresh_run, smoke_run):
    work, _ = fresh_run
    truncated = work / "results" / "noise" / "runs" / "ou" / "all.parquet"
    stat = truncated.stat()
    data = truncated.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    os.utime(truncated, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # looks finished
    arrays = sorted(work.glob("results/risk/runs/min_norm/*.npz"))[0]
    figure = work / "results" / "figures" / "risk" / "double_descent.png"
    claims = work / "results" / "claims" / "margin.parquet"
    for path in (arrays, figure, claims):
        path.unlink()
    dry = snakemake(work, "-n", "--quiet", "rules", "--configfile", SMOKE)
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert "results/noise/runs/ou/all.parquet: cut short" in dry.stderr
    run, ran = run_jobs(work, SMOKE)
    assert run.returncode == 0, run.stderr[-3000:]
    assert {
        "noise_simulate": 1,
        "risk_simulate": 1,
        "noise_summary": 1,
        "risk_summary": 1,
        "margin_summary": 1,
    } == {r: n for r, n in ran.items() if r.startswith(("noise", "risk", "margin"))}
    assert all(p.is_file() for p in (arrays, figure, claims))
    assert_same_tables(work, smoke_run[0])
    assert planned_jobs(work, SMOKE) == {}


def test_tables_of_another_configuration_stop_summary_and_report(fresh_run):
    """Where Snakemake's records cannot tell (results copied in, `.snakemake` removed),
    the summary and the report name each foreign table and key instead of mixing."""
    work, config = fresh_run
    run_table = sorted(work.glob("results/risk/runs/double_descent/*.parquet"))[0]
    original = run_table.read_bytes()
    meta = read_provenance(run_table)
    meta["seed"] = config["seed"] + 1
    stat = run_table.stat()
    write_table(read_table(run_table), run_table, meta)
    os.utime(run_table, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    run = snakemake(work, "--cores", "1", "--configfile", SMOKE, "--forcerun", "risk_summary")
    assert run.returncode != 0
    output = run.stdout + run.stderr
    assert "risk_summary: these input tables were not made with this configuration" in output
    assert f"{run_table.relative_to(work)}: seed is {config['seed'] + 1} there" in output
    run_table.write_bytes(original)
    os.utime(run_table, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    work_claims = work / "results" / "claims" / "margin.parquet"
    meta = read_provenance(work_claims)
    meta["config"]["margin"]["soudry"]["n_trials"] += 1
    write_table(read_table(work_claims), work_claims, meta)
    run = snakemake(work, "--cores", "1", "--configfile", SMOKE)
    assert run.returncode != 0
    output = run.stdout + run.stderr
    assert "report: these input tables were not made with this configuration" in output
    assert "results/claims/margin.parquet: margin.soudry.n_trials is" in output


@pytest.fixture
def small_disk(tmp_path):
    """A 12 MiB tmpfs (needs root; skipped where it cannot be mounted)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: " + done.stderr.decode().strip())
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_is_named_in_the_last_lines(small_disk, root):
    work = small_disk / "repo"
    copy_repository(root, work)
    free = shutil.disk_usage(small_disk).free
    (small_disk / "filler").write_bytes(b"\0" * (free - 300_000))
    run = snakemake(work, "--cores", "2", "--configfile", SMOKE, merged=True)
    assert run.returncode != 0
    assert "No space left on device" in "\n".join(run.stdout.splitlines()[-30:]), run.stdout[-3000:]
