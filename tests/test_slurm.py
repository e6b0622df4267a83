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
import getpass
import os
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml

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


def slurm_command(
    workdir: Path, snakefile_args: Sequence[str], profiles: Sequence[Path | str]
) -> list[str]:
    """Snakemake with the given profiles (later ones override earlier ones key by key)."""
    cmd = [sys.executable, "-m", "snakemake"]
    for profile in profiles:
        cmd += ["--profile", str(profile)]
    return [*cmd, "--directory", str(workdir), *snakefile_args]


def slurm_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment without SLURM_* variables: a surrounding SLURM job must not leak."""
    run_env = dict(os.environ if env is None else env)
    return {k: v for k, v in run_env.items() if not k.startswith("SLURM_")}


def snakemake_with_slurm(
    workdir: Path | str,
    snakefile_args: Sequence[str] = (),
    *,
    profiles: Sequence[Path | str] = DEFAULT_PROFILES,
    timeout: float = 1800,
    env: dict[str, str] | None = None,
) -> tuple[subprocess.CompletedProcess, str]:
    """Run Snakemake with the SLURM executor in ``workdir``; ``(process, its output)``.

    Snakemake runs with ``workdir`` as the current directory (so a ``profiles/default/``
    workflow profile there would be picked up). The output is also written to
    ``workdir/slurm-run.log``.
    """
    workdir = Path(workdir)
    proc = subprocess.run(
        slurm_command(workdir, snakefile_args, profiles),
        cwd=workdir,
        env=slurm_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    log = proc.stdout + proc.stderr
    (workdir / "slurm-run.log").write_text(log)
    return proc, log


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
    Do not pass ``--cores``: the profile's ``cores: 1`` sizes the group jobs.

    Asserts that Snakemake succeeded, that every job it reported as submitted
    is listed by ``sacct`` under the run's job name, and that all of them
    COMPLETED.  Returns the job ids as strings sorted numerically (array
    tasks, if any, as ``<id>_<task>``).  The Snakemake log is written to
    ``workdir/slurm-run.log``.
    """
    # sacct --starttime has one-second resolution; step back to be safe.
    since = dt.datetime.now() - dt.timedelta(seconds=5)
    proc, log = snakemake_with_slurm(
        workdir, snakefile_args, profiles=profiles, timeout=timeout, env=env
    )
    tail = "\n".join(log.splitlines()[-60:])
    assert proc.returncode == 0, f"snakemake failed ({proc.returncode}): {proc.args}\n{tail}"

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

    rule margin_simulate:
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
    profile = yaml.safe_load((REPO / "profiles" / "slurm" / "profile.yaml").read_text())
    size = profile["group-components"][profile["groups"]["margin_simulate"]]
    n_points = size + 1  # two simulate group jobs: `size` members and 1
    (tmp_path / "Snakefile").write_text(TINY_SNAKEFILE.format(n=n_points))

    job_ids = run_with_slurm(tmp_path, ["--snakefile", str(tmp_path / "Snakefile")])

    # prepare, two margin_simulate group jobs, aggregate; `all` runs no job.
    assert len(job_ids) == 4, job_ids
    sim_jobs = [(tmp_path / "sim" / f"{i}.txt").read_text().strip() for i in range(n_points)]
    assert set(sim_jobs) <= set(job_ids), (sim_jobs, job_ids)
    counts = sorted(sim_jobs.count(j) for j in set(sim_jobs))
    assert counts == [1, size], counts
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
    """config/smoke.yaml, strict claims, as SLURM jobs; its tables equal a local run's.

    Only the simulations are SLURM jobs (group jobs, at least one per family); the summaries
    (tables, claims, figures) and the report run on the submitting node. Prints both wall
    times.
    """
    import pandas as pd

    slurm_dir = _workdir(tmp_path / "slurm")
    local_dir = _workdir(tmp_path / "local")
    # The workflow profile (profiles/default: local, all cores) must not override the
    # cluster profile: `--workflow-profile none`.
    start = time.monotonic()
    job_ids = run_with_slurm(
        slurm_dir,
        [
            "-s",
            str(REPO / "Snakefile"),
            "--workflow-profile",
            "none",
            "--configfile",
            "config/smoke.yaml",
        ],
    )
    slurm_seconds = time.monotonic() - start
    start = time.monotonic()
    local = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-s",
            str(REPO / "Snakefile"),
            "--cores",
            "2",
            "--configfile",
            "config/smoke.yaml",
        ],
        cwd=local_dir,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    local_seconds = time.monotonic() - start
    assert local.returncode == 0, local.stderr[-3000:]

    print(
        f"config/smoke.yaml: {len(job_ids)} SLURM jobs; wall time {slurm_seconds:.0f} s "
        f"through SLURM, {local_seconds:.0f} s locally (ratio "
        f"{slurm_seconds / local_seconds:.2f})"
    )
    families = [
        k
        for k, v in yaml.safe_load((REPO / "config" / "smoke.yaml").read_text()).items()
        if isinstance(v, dict) and k != "limits"
    ]
    log = (slurm_dir / "slurm-run.log").read_text()
    # Only the simulations were submitted, as group jobs (at least one per family).
    logs = re.findall(r"submitted with SLURM jobid \d+ \(log: (\S+)\)", log)
    assert len(logs) == len(job_ids) >= len(families), (logs, job_ids)
    assert all(re.search(r"/group_[a-z]+_simulate_group", p) for p in logs), logs
    for family in families:  # light rules ran on the submitting node
        assert f"localrule {family}_summary:" in log

    slurm_tables, local_tables = _tables(slurm_dir), _tables(local_dir)
    assert slurm_tables.keys() == local_tables.keys() and slurm_tables
    for name, table in slurm_tables.items():
        pd.testing.assert_frame_equal(table, local_tables[name], obj=name)
    claims = pd.concat(
        [pd.read_parquet(p) for p in sorted((slurm_dir / "results" / "claims").glob("*.parquet"))]
    )
    assert claims.passed.all(), claims[~claims.passed]
    assert (slurm_dir / "results" / "report" / "index.html").exists()


# ---------------------------------------------------------------------------
# Failures are loud and fast
# ---------------------------------------------------------------------------


def guarded_snakefile(rules: str) -> str:
    """A throwaway Snakefile with the workflow's cluster hooks (workflow/rules/cluster.smk)."""
    head = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(REPO / "src")!r})
        include: {str(REPO / "workflow" / "rules" / "cluster.smk")!r}
        """
    )
    return head + textwrap.dedent(rules)


def test_wrong_account_and_partition_stop_before_anything_is_submitted(tmp_path: Path) -> None:
    """The real workflow (group jobs) with an account and a partition the cluster lacks."""
    workdir = _workdir(tmp_path)
    since = dt.datetime.now() - dt.timedelta(seconds=5)
    proc, log = snakemake_with_slurm(
        workdir,
        [
            "-s",
            str(REPO / "Snakefile"),
            "--workflow-profile",
            "none",
            "--configfile",
            "config/smoke.yaml",
            "--default-resources",
            "slurm_account=nosuch",
            "slurm_partition=nopart",
            "runtime=5",
            "mem_mb=100",
            "cpus_per_task=1",
        ],
        timeout=600,
    )
    assert proc.returncode != 0, log[-3000:]
    print(log[log.index("SLURM pre-flight") :])
    user = getpass.getuser()
    assert "SLURM pre-flight check failed, nothing was submitted:" in log
    account = re.search(
        rf"  slurm_account 'nosuch' \(rules [a-z_, ]*risk_simulate[a-z_, ]*\): not an account "
        rf"of user {user}; sacctmgr offers: .*\bimplicitreg\b",
        log,
    )
    assert account, log[-3000:]
    partition = re.search(
        r"  slurm_partition 'nopart' \(rules [a-z_, ]*\): not a partition of this cluster; "
        r"sinfo offers: debug \(default\)",
        log,
    )
    assert partition, log[-3000:]
    assert "profiles/slurm/profile.yaml" in log
    assert "submitted with SLURM jobid" not in log
    run_uuid = re.search(r"SLURM run ID: (\S+)", log).group(1)
    assert sacct_jobs(run_uuid, since) == {}


def test_module_user_gets_the_preflight_check_within_seconds(tmp_path: Path) -> None:
    """A user's workflow that loads this one with ``module`` keeps the guard rails:
    Snakemake registers hooks of the main Snakefile only (slurm.chain_into_main_hooks)."""
    workdir = tmp_path / "analysis"
    workdir.mkdir()
    (workdir / "Snakefile").write_text(
        textwrap.dedent(
            f"""\
            configfile: "{REPO / "config" / "smoke.yaml"}"

            module implicit_reg:
                snakefile: "{REPO / "workflow" / "Snakefile"}"
                config: config

            use rule * from implicit_reg as ir_*

            rule all:
                default_target: True
                input: rules.ir_all.input
            """
        )
    )
    since = dt.datetime.now() - dt.timedelta(seconds=5)
    start = time.monotonic()
    proc, log = snakemake_with_slurm(
        workdir,
        [
            "--workflow-profile",
            "none",
            "--default-resources",
            "slurm_account=nosuch",
            "slurm_partition=debug",
            "runtime=5",
            "mem_mb=100",
            "cpus_per_task=1",
        ],
        timeout=300,
    )
    seconds = time.monotonic() - start
    print(f"module run stopped by the pre-flight check after {seconds:.0f} s")
    assert proc.returncode != 0, log[-3000:]
    assert "SLURM pre-flight check failed, nothing was submitted:" in log, log[-3000:]
    assert re.search(r"slurm_account 'nosuch' \(rules [a-z_, ]*ir_risk_simulate", log)
    assert "submitted with SLURM jobid" not in log
    run_uuid = re.search(r"SLURM run ID: (\S+)", log).group(1)
    assert sacct_jobs(run_uuid, since) == {}
    assert seconds < 120


TIMEOUT_RULES = """
    rule all:
        input: "slow.txt", "hopeless.txt"

    # Killed at its 1-minute limit, then done within the 3 minutes of its second attempt.
    rule slow:
        output: "slow.txt"
        log: "logs/slow.log"
        shell: "sleep 100; echo {resources.runtime} > {output}"

    # Killed at 1 minute, then at 2 minutes: the run fails and names it.
    rule hopeless:
        output: "hopeless.txt"
        log: "logs/hopeless.log"
        shell: "sleep 600; touch {output}"
"""

# Attempt-scaled runtimes as profiles/slurm writes them (a Python expression of
# `attempt`), with minutes instead of hours; `hopeless` is a group job, whose failure
# message Snakemake reduces to "message: None".
TIMEOUT_PROFILE = """
keep-going: true
set-resources:
  slow:
    runtime: "2 * attempt - 1"
  hopeless:
    runtime: "attempt"
groups:
  hopeless: hopeless_group
"""


def test_time_limit_is_retried_with_more_time_then_named(tmp_path: Path) -> None:
    """TIMEOUT: retried with the runtime of attempt 2; when retries are exhausted the
    console names the rule or group, the state, the time limit and the SLURM log."""
    (tmp_path / "Snakefile").write_text(guarded_snakefile(TIMEOUT_RULES))
    (tmp_path / "overlay").mkdir()
    (tmp_path / "overlay" / "profile.yaml").write_text(TIMEOUT_PROFILE)
    proc, log = snakemake_with_slurm(
        tmp_path,
        ["--snakefile", str(tmp_path / "Snakefile")],
        profiles=(*DEFAULT_PROFILES, tmp_path / "overlay"),
        timeout=900,
    )
    assert proc.returncode != 0, log[-3000:]
    print(log[log.index("SLURM: ") :])
    assert (tmp_path / "slow.txt").read_text().strip() == "3"  # minutes, attempt 2
    slow = re.search(
        r"  rule slow: SLURM job \d+ TIMEOUT after \S+ \(time limit 00:01:00\); retried as "
        r"SLURM job \d+ \(COMPLETED\); SLURM log: \S+",
        log,
    )
    assert slow, log[-3000:]
    first = re.search(
        r"  group hopeless_group \(rules: hopeless\): SLURM job \d+ TIMEOUT after \S+ "
        r"\(time limit 00:01:00\); retried as SLURM job \d+ \(TIMEOUT\)",
        log,
    )
    last = re.search(
        r"  group hopeless_group \(rules: hopeless\): SLURM job \d+ TIMEOUT after \S+ "
        r"\(time limit 00:02:00\); last attempt; SLURM log: (\S+)",
        log,
    )
    assert first and last, log[-3000:]
    assert (tmp_path / last.group(1)).is_file()
    assert "TIMEOUT: the job reached its time limit" in log


def test_cancelled_job_is_seen_and_retried(tmp_path: Path) -> None:
    """A job stopped with scancel ("CANCELLED by <uid>") is reported and retried, not
    waited for forever."""
    rules = """
        rule all:
            input: "victim.txt"

        rule victim:
            output: "victim.txt"
            log: "logs/victim.log"
            shell: "sleep 20; echo done > {output}"
    """
    (tmp_path / "Snakefile").write_text(guarded_snakefile(rules))
    log_path = tmp_path / "slurm-run.log"
    with log_path.open("w") as out:
        run = subprocess.Popen(
            slurm_command(tmp_path, ["--snakefile", str(tmp_path / "Snakefile")], DEFAULT_PROFILES),
            cwd=tmp_path,
            env=slurm_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 300
            job_id = None
            while job_id is None or _squeue_state(job_id) != "RUNNING":
                assert run.poll() is None, log_path.read_text()[-3000:]
                assert time.monotonic() < deadline, log_path.read_text()[-3000:]
                found = re.search(r"submitted with SLURM jobid (\d+)", log_path.read_text())
                job_id = found.group(1) if found else None
                time.sleep(1)
            subprocess.run(["scancel", job_id], check=True, timeout=60)
            run.wait(timeout=300)
        finally:
            if run.poll() is None:
                run.kill()
    log = log_path.read_text()
    print(log[log.index("SLURM: ") :])
    assert run.returncode == 0, log[-3000:]
    assert f"SLURM-job '{job_id}' failed, SLURM status is: 'CANCELLED'" in log
    summary = re.search(
        rf"  rule victim: SLURM job {job_id} CANCELLED by \d+ after \S+ \(time limit \S+\); "
        r"retried as SLURM job \d+ \(COMPLETED\)",
        log,
    )
    assert summary, log[-3000:]
    assert (tmp_path / "victim.txt").read_text().strip() == "done"


def _squeue_state(job_id: str) -> str:
    out = subprocess.run(
        ["squeue", "-h", "-j", job_id, "-o", "%T"], capture_output=True, text=True, timeout=60
    )
    return out.stdout.strip()
