"""The SLURM guard rails without a cluster: pre-flight messages, the sacct wrapper, the
failure summary, and the profile's attempt-scaled resources (the cluster tests are in
tests/test_slurm.py)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from implicit_reg.workflow import slurm

ROOT = Path(__file__).resolve().parents[1]


def test_preflight_names_setting_rules_and_what_the_cluster_offers():
    requested = {
        "slurm_account": {"nosuch": {"risk_simulate", "margin_simulate"}, "lab": {"x"}},
        "slurm_partition": {"gpu": {"risk_simulate"}, "debug": {"x"}},
    }
    problems = slurm.preflight_problems(
        requested,
        accounts=["lab", "Other"],
        partitions=(["debug", "long"], "debug"),
        user="ana",
    )
    assert problems == [
        "slurm_account 'nosuch' (rules margin_simulate, risk_simulate): not an account "
        "of user ana; sacctmgr offers: lab, Other",
        "slurm_partition 'gpu' (rules risk_simulate): not a partition of this cluster; "
        "sinfo offers: debug (default), long",
    ]
    message = slurm.preflight_message(problems)
    assert message.startswith("SLURM pre-flight check failed, nothing was submitted:\n  ")
    assert "profiles/slurm/profile.yaml" in message and "--default-resources" in message


def test_preflight_accepts_known_values_case_and_lists_of_accounts():
    requested = {"slurm_account": {"LAB, other": {"r"}}, "slurm_partition": {"long": {"r"}}}
    assert slurm.preflight_problems(requested, ["lab", "other"], (["long"], None), "u") == []
    # A cluster that cannot tell (no sacctmgr, no sinfo) is not checked.
    assert (
        slurm.preflight_problems(requested | {"slurm_account": {"x": {"r"}}}, None, None, "u") == []
    )


def fake_command(directory: Path, name: str, output: str, status: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / name
    script.write_text(f"#!/bin/sh\nprintf '{output}'\nexit {status}\n")
    script.chmod(0o755)


@pytest.mark.parametrize("status", [0, 3])
def test_sacct_wrapper_reports_a_cancelled_job_as_cancelled(tmp_path, status):
    """`CANCELLED by <uid>` (scancel) becomes `CANCELLED`; all else and the exit status pass."""
    fake_command(tmp_path / "bin", "sacct", "19|CANCELLED by 1000\\n20|TIMEOUT\\n", status)
    env = dict(os.environ, PATH=f"{slurm.STATUS_WRAPPERS}:{tmp_path / 'bin'}:/usr/bin:/bin")
    done = subprocess.run(
        ["sacct", "-X", "--parsable2"], env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == status
    assert done.stdout == "19|CANCELLED\n20|TIMEOUT\n"


def test_sacct_wrapper_without_a_real_sacct_says_so(tmp_path):
    tools = tmp_path / "tools"  # what the wrapper itself needs, and no sacct
    tools.mkdir()
    for name in ("bash", "dirname", "sed"):
        (tools / name).symlink_to(shutil.which(name))
    env = dict(os.environ, PATH=f"{slurm.STATUS_WRAPPERS}:{tools}")
    done = subprocess.run(
        [str(slurm.STATUS_WRAPPERS / "sacct")], env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 127 and "not found" in done.stderr


def test_real_command_skips_the_wrapper(tmp_path, monkeypatch):
    fake_command(tmp_path / "bin", "sacct", "", 0)
    monkeypatch.setenv("PATH", f"{slurm.STATUS_WRAPPERS}:{tmp_path / 'bin'}")
    assert slurm.real_command("sacct") == str(tmp_path / "bin" / "sacct")


SNAKEMAKE_LOG = """\
Job 4af737d1-2804 has been submitted with SLURM jobid 23 (log: {d}/{g}/23.log).
Job 1 has been submitted with SLURM jobid 22 (log: {d}/rule_slow/22.log).
Trying to restart job 4af737d1-2804.
Job 4af737d1-2804 has been submitted with SLURM jobid 24 (log: {d}/{g}/24.log).
Job 1 has been submitted with SLURM jobid 25 (log: {d}/rule_slow/25.log).
Job 7 has been submitted with SLURM jobid 26 (log: {d}/rule_victim/26.log).
"""


def test_failure_summary_names_rule_state_limit_retry_and_log(tmp_path):
    """What Snakemake does not print for a group job: state, limit, retry, SLURM log."""
    submitted = slurm.submissions(
        SNAKEMAKE_LOG.format(
            d=tmp_path / ".snakemake" / "slurm_logs", g="group_risk_simulate_group_risk_simulate"
        )
    )
    assert [s[1] for s in submitted] == ["23", "22", "24", "25", "26"]
    states = slurm.parse_sacct(
        "22|TIMEOUT|00:01:07|00:01:00\n23|TIMEOUT|00:01:07|00:01:00\n"
        "24|TIMEOUT|00:02:27|00:02:00\n25|COMPLETED|00:01:47|00:03:00\n"
        "26|CANCELLED by 0|00:00:09|00:30:00\n"
    )
    jobs = [slurm.SlurmJob(job, sid, *states[sid], log) for job, sid, log in submitted]
    text = slurm.failure_summary(jobs, tmp_path, {"risk_simulate_group": {"risk_simulate"}})
    lines = text.splitlines()
    assert lines[0] == "SLURM: 4 job(s) of this run did not complete (sacct):"
    assert lines[1] == (
        "  group risk_simulate_group (rules: risk_simulate): SLURM job 23 TIMEOUT after "
        "00:01:07 (time limit 00:01:00); retried as SLURM job 24 (TIMEOUT); SLURM log: "
        ".snakemake/slurm_logs/group_risk_simulate_group_risk_simulate/23.log"
    )
    assert lines[2].startswith(
        "  rule slow: SLURM job 22 TIMEOUT after 00:01:07 (time "
        "limit 00:01:00); retried as SLURM job 25 (COMPLETED)"
    )
    assert "SLURM job 24 TIMEOUT after 00:02:27 (time limit 00:02:00); last attempt" in lines[3]
    assert lines[4].startswith("  rule victim: SLURM job 26 CANCELLED by 0")
    assert slurm.HINTS["TIMEOUT"] in text and slurm.HINTS["CANCELLED"] in text
    assert slurm.failure_summary(jobs[3:4], tmp_path, {}) == ""  # all completed


def resources(expression, attempt: int) -> float:
    """A profile resource: a number, or a Python expression of `attempt` (as Snakemake)."""
    if isinstance(expression, str):
        return eval(expression, {"attempt": attempt})
    return expression


def test_slurm_profile_retries_with_more_time_and_memory():
    """A job killed at its time limit or for memory is retried with twice each (the
    simulate rules' own requests double too: tests/test_resources.py)."""
    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "profile.yaml").read_text())
    assert profile["retries"] >= 1
    scopes = {
        "default-resources": profile["default-resources"],
        **profile.get("set-resources", {}),
    }
    for scope, values in scopes.items():
        for key in ("runtime", "mem_mb"):
            first, second = resources(values[key], 1), resources(values[key], 2)
            assert first > 0 and second >= 2 * first, (scope, key, values[key])


def test_slurm_extra_the_plugin_rejects_is_named_before_submission():
    from types import SimpleNamespace

    def job(rule, extra):
        return SimpleNamespace(
            rule=SimpleNamespace(name=rule), resources=SimpleNamespace(slurm_extra=extra)
        )

    problems = slurm.extra_problems(
        [
            job("a", "--job-name=mine"),
            job("b", "--job-name=mine"),
            job("c", "--exclusive"),
            job("d", None),
        ]
    )
    assert len(problems) == 1
    assert problems[0].startswith("slurm_extra '--job-name=mine' (rules a, b): ")
    assert "job-name" in problems[0].split(": ", 1)[1]


def test_module_guards_run_before_the_main_hooks_once_per_workflow():
    from types import SimpleNamespace

    from implicit_reg.workflow.slurm import chain_into_main_hooks

    calls = []
    workflow = SimpleNamespace(
        _onstart=lambda log: calls.append(("main onstart", log)),
        _onsuccess=lambda log: calls.append(("main onsuccess", log)),
        _onerror=lambda log: None,
    )
    hooks = {
        "onstart": lambda log: calls.append(("guard onstart", log)),
        "onsuccess": lambda log: calls.append(("guard summary", log)),
    }
    chain_into_main_hooks(workflow, hooks)
    chain_into_main_hooks(workflow, hooks)  # the module's Snakefile parsed once more
    workflow._onstart("a.log")
    workflow._onsuccess("a.log")
    assert calls == [
        ("guard onstart", "a.log"),
        ("main onstart", "a.log"),
        ("guard summary", "a.log"),
        ("main onsuccess", "a.log"),
    ]
