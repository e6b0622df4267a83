"""Tests against the local single-node SLURM cluster (cluster/start.sh).

Run with ``make test-slurm`` (starts the cluster first) or, with the cluster
up, ``pytest -m slurm tests/test_slurm.py``.  Every test here is skipped, with
the reason, when ``cluster/status.sh`` says the cluster is not up.

``run_with_slurm`` is the reusable helper: it runs Snakemake with the SLURM
executor through ``profiles/slurm`` (plus the fast-polling overlay
``profiles/slurm-local``) and returns the SLURM job ids that ``sacct`` lists
for that run.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CLUSTER_DIR = REPO / "cluster"
SLURM_PROFILE = REPO / "profiles" / "slurm"
SLURM_LOCAL_PROFILE = REPO / "profiles" / "slurm-local"
DEFAULT_PROFILES = (SLURM_PROFILE, SLURM_LOCAL_PROFILE)

pytestmark = pytest.mark.slurm


@functools.cache
def cluster_status() -> tuple[bool, str]:
    """(up, message) from cluster/status.sh; cached for the session."""
    try:
        proc = subprocess.run(
            ["bash", str(CLUSTER_DIR / "status.sh")],
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"cluster/status.sh could not run: {exc}"
    message = (proc.stdout + proc.stderr).strip()
    return proc.returncode == 0, message


@pytest.fixture(autouse=True)
def _require_cluster() -> None:
    up, message = cluster_status()
    if not up:
        pytest.skip(
            "local SLURM test cluster is not up (start it with `sudo cluster/start.sh` "
            f"or `make test-slurm`): {message}"
        )
    try:
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError:
        pytest.skip("snakemake-executor-plugin-slurm not installed (pip install -e '.[cluster]')")


def sacct_jobs(run_uuid: str, since: dt.datetime) -> dict[str, str]:
    """{job id: state} of the allocations (not steps) named ``run_uuid``.

    The SLURM executor names every job it submits after the run's UUID.
    """
    proc = subprocess.run(
        [
            "sacct",
            "--allusers",
            "--allocations",
            "--noheader",
            "--parsable2",
            "--starttime",
            since.strftime("%Y-%m-%dT%H:%M:%S"),
            "--name",
            run_uuid,
            "--format",
            "JobID,State",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    jobs = {}
    for line in proc.stdout.splitlines():
        if line.strip():
            job_id, state = line.split("|", 1)
            jobs[job_id] = state
    return jobs


def run_with_slurm(
    workdir: Path | str,
    snakefile_args: Sequence[str] = (),
    *,
    profiles: Sequence[Path | str] = DEFAULT_PROFILES,
    timeout: float = 1800,
    env: dict[str, str] | None = None,
) -> list[str]:
    """Run Snakemake with the SLURM executor in ``workdir``; return its SLURM job ids.

    ``snakefile_args`` are further Snakemake arguments, e.g.
    ``["-s", "workflow/Snakefile", "--configfile", "config/smoke.yaml"]``.
    Snakemake runs with ``workdir`` as the current directory (so a
    ``profiles/default/`` workflow profile there would be picked up) and the
    given profiles, later ones overriding earlier ones key by key.  Do not pass
    ``--cores``: the profile's ``cores: 1`` sizes the group jobs.

    Asserts that Snakemake succeeded, that every job it reported as submitted
    is listed by ``sacct`` under the run's job name, and that all of them
    COMPLETED.  Returns the job ids as strings sorted numerically (array
    tasks, if any, as ``<id>_<task>``).  The Snakemake log is written to
    ``workdir/slurm-run.log``.
    """
    workdir = Path(workdir)
    cmd = [sys.executable, "-m", "snakemake"]
    for profile in profiles:
        cmd += ["--profile", str(profile)]
    cmd += ["--directory", str(workdir), *snakefile_args]
    run_env = dict(os.environ if env is None else env)
    # Never let a surrounding SLURM job leak into the submissions.
    for key in [k for k in run_env if k.startswith("SLURM_")]:
        del run_env[key]
    # sacct --starttime has one-second resolution; step back to be safe.
    since = dt.datetime.now() - dt.timedelta(seconds=5)
    proc = subprocess.run(
        cmd,
        cwd=workdir,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    log = proc.stdout + proc.stderr
    (workdir / "slurm-run.log").write_text(log)
    tail = "\n".join(log.splitlines()[-60:])
    assert proc.returncode == 0, f"snakemake failed ({proc.returncode}): {' '.join(cmd)}\n{tail}"

    match = re.search(r"SLURM run ID: (\S+)", log)
    assert match, f"no 'SLURM run ID' in the log: was the slurm executor used?\n{tail}"
    run_uuid = match.group(1)
    submitted = set(re.findall(r"submitted with SLURM jobid (\d+(?:_\d+)?)", log))

    jobs = sacct_jobs(run_uuid, since)
    missing = submitted - set(jobs)
    assert not missing, f"sacct does not list submitted jobs {sorted(missing)} (sacct: {jobs})"
    not_completed = {j: s for j, s in jobs.items() if s != "COMPLETED"}
    assert not not_completed, f"SLURM jobs not COMPLETED: {not_completed}"

    def key(job_id: str) -> tuple[int, ...]:
        return tuple(int(part) for part in job_id.split("_"))

    return sorted(jobs, key=key)


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------

TINY_SNAKEFILE = textwrap.dedent(
    """
    # Throwaway workflow: one fan-out rule named like the real simulate rules,
    # so the grouping of profiles/slurm applies to it.
    N = {n}

    rule all:
        input: "summary.txt"

    rule prepare:
        output: "prep.txt"
        shell: "echo hi > {{output}}"

    rule risk_simulate:
        input: "prep.txt"
        output: "sim/{{i}}.txt"
        shell: "echo $SLURM_JOB_ID > {{output}}"

    rule aggregate:
        input: expand("sim/{{i}}.txt", i=range(N))
        output: "summary.txt"
        shell: "cat {{input}} > {{output}}; echo $SLURM_JOB_ID > aggregate_jobid.txt"
    """
)


def test_status_script_reports_up() -> None:
    up, message = cluster_status()
    assert up
    assert "UP" in message


def test_tiny_workflow_runs_as_grouped_slurm_jobs(tmp_path: Path) -> None:
    n_points = 21  # group-components 20 -> two simulate group jobs (20 + 1)
    (tmp_path / "Snakefile").write_text(TINY_SNAKEFILE.format(n=n_points))

    job_ids = run_with_slurm(tmp_path, ["--snakefile", str(tmp_path / "Snakefile")])

    # prepare, two risk_simulate group jobs, aggregate; `all` runs no job.
    assert len(job_ids) == 4, job_ids
    sim_jobs = [(tmp_path / "sim" / f"{i}.txt").read_text().strip() for i in range(n_points)]
    assert set(sim_jobs) <= set(job_ids), (sim_jobs, job_ids)
    counts = sorted(sim_jobs.count(j) for j in set(sim_jobs))
    assert counts == [1, 20], counts
    assert (tmp_path / "aggregate_jobid.txt").read_text().strip() in job_ids
    assert (tmp_path / "summary.txt").read_text().split() == sim_jobs


# ---------------------------------------------------------------------------
# The real workflow on the cluster
# ---------------------------------------------------------------------------

def _workdir(target: Path) -> Path:
    """An empty working directory with the smoke config; the Snakefile stays in the repo."""
    (target / "config").mkdir(parents=True)
    (target / "config" / "smoke.yaml").write_text((REPO / "config" / "smoke.yaml").read_text())
    return target


def _tables(workdir: Path) -> dict[str, object]:
    import pandas as pd

    return {
        str(p.relative_to(workdir)): pd.read_parquet(p)
        for p in sorted((workdir / "results").glob("*/*.parquet"))
    }


def test_smoke_workflow_through_slurm_equals_local_run(tmp_path: Path) -> None:
    """config/smoke.yaml, strict claims, as SLURM jobs; its tables equal a local run's."""
    import pandas as pd

    slurm_dir = _workdir(tmp_path / "slurm")
    local_dir = _workdir(tmp_path / "local")
    # The workflow profile (profiles/default: local, all cores) must not override the
    # cluster profile: `--workflow-profile none`.
    job_ids = run_with_slurm(
        slurm_dir,
        ["-s", str(REPO / "Snakefile"), "--workflow-profile", "none",
         "--configfile", "config/smoke.yaml"],
    )
    local = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--cores", "2",
         "--configfile", "config/smoke.yaml"],
        cwd=local_dir, capture_output=True, text=True, timeout=1800,
    )
    assert local.returncode == 0, local.stderr[-3000:]

    print(f"SLURM jobs for config/smoke.yaml: {len(job_ids)}")
    assert len(job_ids) >= 5  # simulate groups + aggregate/figures/claims + report

    slurm_tables, local_tables = _tables(slurm_dir), _tables(local_dir)
    assert slurm_tables.keys() == local_tables.keys() and slurm_tables
    for name, table in slurm_tables.items():
        pd.testing.assert_frame_equal(table, local_tables[name], obj=name)
    claims = pd.concat(
        [pd.read_parquet(p) for p in sorted((slurm_dir / "results" / "claims").glob("*.parquet"))]
    )
    assert claims.passed.all(), claims[~claims.passed]
    assert (slurm_dir / "results" / "report" / "index.html").exists()
