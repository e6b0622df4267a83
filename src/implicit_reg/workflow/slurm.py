"""Guard rails for running the workflow through snakemake-executor-plugin-slurm.

Not numerics: the workflow's hooks (``workflow/rules/cluster.smk``) call these functions
on the submitting node when the executor is ``slurm``, to make cluster failures loud:

- `preflight_problems`: before anything is submitted, every ``slurm_account`` and
  ``slurm_partition`` the jobs request is checked against what ``sacctmgr`` and
  ``sinfo`` offer; one line per problem naming the setting, the rules that use it and
  the values the cluster offers. (Plugin 2.8.0 validates the account inside a submission
  thread; for a group job its error is lost and the run waits forever.)
- `STATUS_WRAPPERS`: a directory put first on the ``PATH`` of the submitting process,
  whose ``sacct`` runs the real one and reports ``CANCELLED by <uid>`` (a job stopped
  with ``scancel``) as ``CANCELLED``, a state the plugin knows as failed. (Plugin 2.8.0
  compares states exactly and would wait for such a job forever.)
- `run_jobs` and `failure_summary`: at the end of a run, the SLURM jobs of the run
  that did not complete, with their state, elapsed time and limit, the rule or group,
  whether they were retried and the SLURM log (Snakemake's log of the run names the
  jobs, ``sacct`` their states). Snakemake prints ``message: None`` for a failed group
  job: its state would otherwise never be shown.

Only the standard library: it runs in Snakemake's process.
"""

from __future__ import annotations

import getpass
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

#: Directory whose ``sacct`` wraps the real one (see the module docstring).
STATUS_WRAPPERS = Path(__file__).resolve().parents[3] / "workflow" / "bin"

#: Where the account and partition are set, printed under the pre-flight problems.
WHERE = (
    "Set slurm_account and slurm_partition under `default-resources` in "
    "profiles/slurm/profile.yaml (per rule: under `set-resources`), or for one run pass "
    "`--default-resources slurm_account=ACCOUNT slurm_partition=PARTITION` followed by the "
    "profile's other default resources (the command line replaces the whole mapping)."
)

#: What to do about each final SLURM state, printed under the failure summary.
HINTS = {
    "TIMEOUT": (
        "TIMEOUT: the job reached its time limit (resource `runtime`, minutes); a retry "
        "gets twice the time (profiles/slurm: `retries`, `set-resources`). If its last "
        "attempt timed out too, raise the rule's runtime there and run the same command "
        "again: finished outputs are kept."
    ),
    "CANCELLED": (
        "CANCELLED: the job was stopped with scancel (by the user id shown) or by an "
        "administrator; it is resubmitted once (`retries`), and running the same command "
        "again resubmits whatever is still missing. To stop a whole run, press Ctrl-C once "
        "in Snakemake: it cancels its own jobs."
    ),
    "OUT_OF_MEMORY": (
        "OUT_OF_MEMORY: the job exceeded `mem_mb`; a retry gets twice the memory "
        "(profiles/slurm: `set-resources`). If its last attempt failed too, raise it there "
        "and run the same command again."
    ),
    "FAILED": (
        "FAILED: the job's command failed; its rule log (results/logs/...) and the SLURM "
        "log say why."
    ),
    "NODE_FAIL": "NODE_FAIL: the node failed; run the same command again.",
}

#: States of a job that has not ended yet.
ACTIVE = {"PENDING", "RUNNING", "REQUEUED", "RESIZING", "SUSPENDED", "COMPLETING"}


def real_command(name: str) -> str | None:
    """Absolute path of the command ``name`` on ``PATH``, skipping `STATUS_WRAPPERS`."""
    path = os.pathsep.join(
        p
        for p in os.environ.get("PATH", "").split(os.pathsep)
        if p and Path(p).resolve() != STATUS_WRAPPERS
    )
    return shutil.which(name, path=path)


def _run(args: list[str], timeout: float = 60) -> str | None:
    """Standard output of a command, or None if it is missing, fails or hangs."""
    command = real_command(args[0])
    if command is None:
        return None
    try:
        done = subprocess.run([command, *args[1:]], capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


# ---------------------------------------------------------------------------------------
# Before submission


def user_accounts(user: str | None = None) -> list[str] | None:
    """Accounts ``user`` may submit to (``sacctmgr``), or None if sacctmgr cannot tell."""
    user = user or getpass.getuser()
    out = _run(["sacctmgr", "-n", "-P", "show", "associations", f"user={user}", "format=account"])
    if out is None:
        return None
    accounts = sorted({line.strip() for line in out.splitlines() if line.strip()})
    return accounts or None


def cluster_partitions() -> tuple[list[str], str | None] | None:
    """``(partitions, default partition)`` from ``sinfo``, or None if sinfo cannot tell."""
    # --all: hidden partitions too (a user may have access to one).
    out = _run(["sinfo", "--all", "-h", "-o", "%P"])
    if out is None:
        return None
    names, default = [], None
    for line in out.split():
        name = line.strip().rstrip("*")
        if line.strip().endswith("*"):
            default = name
        if name and name not in names:
            names.append(name)
    return (names, default) if names else None


def split_accounts(value: str) -> list[str]:
    """The accounts of one ``slurm_account`` value (the plugin splits on commas and spaces)."""
    return [a for a in re.split(r"[,\s]+", str(value)) if a]


def preflight_problems(
    requested: Mapping[str, Mapping[str, Iterable[str]]],
    accounts: list[str] | None,
    partitions: tuple[list[str], str | None] | None,
    user: str,
) -> list[str]:
    """One line per requested account or partition that the cluster does not offer.

    Parameters
    ----------
    requested : mapping
        ``{"slurm_account" | "slurm_partition": {value: rules requesting it}}``.
    accounts : list of str or None
        The user's accounts (`user_accounts`); None skips the account check.
    partitions : (list of str, str or None) or None
        The cluster's partitions and its default (`cluster_partitions`); None skips
        the partition check.
    user : str
        The submitting user, named in the account message.
    """
    problems = []
    for value, rules in sorted(requested.get("slurm_account", {}).items()):
        if accounts is None:
            continue
        offered = {a.lower() for a in accounts}
        for account in split_accounts(value):
            if account.lower() not in offered:
                problems.append(
                    f"slurm_account '{account}' (rules {', '.join(sorted(rules))}): not an "
                    f"account of user {user}; sacctmgr offers: {', '.join(accounts)}"
                )
    for value, rules in sorted(requested.get("slurm_partition", {}).items()):
        if partitions is None:
            continue
        names, default = partitions
        if str(value) not in names:
            offered = ", ".join(f"{n} (default)" if n == default else n for n in names)
            problems.append(
                f"slurm_partition '{value}' (rules {', '.join(sorted(rules))}): not a "
                f"partition of this cluster; sinfo offers: {offered}"
            )
    return problems


def preflight(requested: Mapping[str, Mapping[str, Iterable[str]]]) -> list[str]:
    """`preflight_problems` with what this cluster's sacctmgr and sinfo offer now."""
    if not requested:
        return []
    user = getpass.getuser()
    accounts = user_accounts(user) if "slurm_account" in requested else None
    partitions = cluster_partitions() if "slurm_partition" in requested else None
    return preflight_problems(requested, accounts, partitions, user)


def preflight_message(problems: list[str]) -> str:
    """The error shown when `preflight` found problems: one indented line each."""
    lines = "\n".join(f"  {p}" for p in problems)
    return f"SLURM pre-flight check failed, nothing was submitted:\n{lines}\n{WHERE}"


def use_status_wrappers() -> None:
    """Put `STATUS_WRAPPERS` first on this process's ``PATH`` (the plugin's sacct calls)."""
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if str(STATUS_WRAPPERS) not in parts:
        os.environ["PATH"] = os.pathsep.join([str(STATUS_WRAPPERS), *parts])


# ---------------------------------------------------------------------------------------
# After the run


#: The plugin's log line for each submission (Snakemake job id, SLURM job id, SLURM log).
SUBMITTED = re.compile(
    r"Job (?P<job>\S+) has been submitted with SLURM jobid (?P<slurm>\d+) \(log: (?P<log>.+?)\)\."
)


@dataclass(frozen=True)
class SlurmJob:
    """One SLURM job of a run: Snakemake's job id (the same for every attempt), its SLURM
    job id, state, elapsed time and limit as ``sacct`` lists them, and its SLURM log."""

    job: str
    job_id: str
    state: str
    elapsed: str
    time_limit: str
    log: Path


def submissions(log_text: str) -> list[tuple[str, str, Path]]:
    """``(Snakemake job id, SLURM job id, SLURM log)`` per submission, in order, from
    Snakemake's log of the run."""
    return [(m["job"], m["slurm"], Path(m["log"])) for m in SUBMITTED.finditer(log_text)]


def parse_sacct(text: str) -> dict[str, tuple[str, str, str]]:
    """``{job id: (state, elapsed, time limit)}`` from
    ``sacct -X -n -P -o JobIDRaw,State,Elapsed,Timelimit``."""
    rows = {}
    for line in text.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 4 and parts[0]:
            rows[parts[0]] = (parts[1], parts[2], parts[3])
    return rows


def run_jobs(log_text: str) -> list[SlurmJob]:
    """Every SLURM job the run submitted (Snakemake's log) with its state (``sacct``);
    empty if sacct cannot tell."""
    submitted = submissions(log_text)
    if not submitted:
        return []
    out = _run(
        [
            "sacct",
            "-X",
            "-n",
            "-P",
            "-j",
            ",".join(s for _, s, _ in submitted),
            "-o",
            "JobIDRaw,State,Elapsed,Timelimit",
        ]
    )
    states = parse_sacct(out or "")
    return [
        SlurmJob(job, slurm_id, *states[slurm_id], log)
        for job, slurm_id, log in submitted
        if slurm_id in states
    ]


def job_label(log: Path, groups: Mapping[str, Iterable[str]]) -> str:
    """``rule <name>`` or ``group <id> (rules: ...)`` from the plugin's SLURM log path:
    ``<logdir>/rule_<rule>/<wildcards>/<id>.log`` or ``<logdir>/group_<name>/<id>.log``."""
    for part in reversed(log.parts[:-1]):
        if part.startswith("rule_"):
            return f"rule {part.removeprefix('rule_')}"
        if part.startswith("group_"):
            name = part.removeprefix("group_")
            for group in sorted(groups, key=len, reverse=True):
                if name.startswith(group):
                    return f"group {group} (rules: {', '.join(sorted(groups[group]))})"
            return f"group {name}"
    return "a job"


def failure_summary(
    jobs: list[SlurmJob], workdir: Path, groups: Mapping[str, Iterable[str]]
) -> str:
    """Console lines for the jobs that did not complete, each with its retry (a later
    submission of the same Snakemake job) and what to do for each state; empty if all
    completed."""
    failed = [j for j in jobs if j.state.split()[0] not in ACTIVE | {"COMPLETED"}]
    if not failed:
        return ""

    def shown(path: Path) -> str:
        try:
            return str(path.resolve().relative_to(workdir.resolve()))
        except ValueError:
            return str(path)

    lines = [f"SLURM: {len(failed)} job(s) of this run did not complete (sacct):"]
    for job in failed:
        later = [j for j in jobs[jobs.index(job) + 1 :] if j.job == job.job]
        retry = (
            f"; retried as SLURM job {later[0].job_id} ({later[0].state})"
            if later
            else "; last attempt"
        )
        lines.append(
            f"  {job_label(job.log, groups)}: SLURM job {job.job_id} {job.state} after "
            f"{job.elapsed} (time limit {job.time_limit}){retry}; SLURM log: {shown(job.log)}"
        )
    for state in sorted({job.state.split()[0] for job in failed}):
        if state in HINTS:
            lines.append(HINTS[state])
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# The workflow's hooks (workflow/rules/cluster.smk) pass Snakemake's `workflow` object


def active(workflow) -> bool:
    """True when this Snakemake process submits jobs with the SLURM executor."""
    plugin = workflow.executor_plugin
    return plugin is not None and plugin.name == "slurm"


def requests(workflow) -> dict[str, dict[str, set[str]]]:
    """``{"slurm_account" | "slurm_partition": {value: rules}}`` of the jobs to submit."""
    requested: dict[str, dict[str, set[str]]] = {}
    for job in submitted_jobs(workflow):
        # sinfo lists this cluster's partitions: a job sent to another cluster is not checked.
        other_cluster = any(job.resources.get(k) for k in ("slurm_cluster", "cluster", "clusters"))
        for key in ("slurm_account", "slurm_partition"):
            if key == "slurm_partition" and other_cluster:
                continue
            value = job.resources.get(key)
            if value:
                requested.setdefault(key, {}).setdefault(str(value), set()).add(job.rule.name)
    return requested


def extra_problems(jobs: Iterable) -> list[str]:
    """``slurm_extra`` values the plugin would reject, checked with its own validator.

    Plugin 2.8.0 validates ``slurm_extra`` in its submission thread too, where the error of
    a group job is lost like that of a wrong account.
    """
    try:
        from snakemake_executor_plugin_slurm.validation import validate_slurm_extra
    except ImportError:
        return []
    found: dict[tuple[str, str], set[str]] = {}
    for job in jobs:
        extra = getattr(job.resources, "slurm_extra", None)
        if not extra:
            continue
        try:
            validate_slurm_extra(job)
        except Exception as error:  # noqa: BLE001 (the plugin's WorkflowError, shown as is)
            found.setdefault((str(extra), str(error)), set()).add(job.rule.name)
    return [
        f"slurm_extra '{extra}' (rules {', '.join(sorted(rules))}): {message}"
        for (extra, message), rules in sorted(found.items())
    ]


def submitted_jobs(workflow) -> list:
    """The jobs this run will submit to SLURM (not the local rules)."""
    return [job for job in workflow.dag.needrun_jobs() if not job.is_local]


def groups(workflow) -> dict[str, set[str]]:
    """Group id -> rules in it (profile ``groups`` and rules' ``group:`` directives)."""
    found: dict[str, set[str]] = {}
    for rule in workflow.rules:
        group = workflow.group_settings.overwrite_groups.get(rule.name, rule.group)
        if group:
            found.setdefault(str(group), set()).add(rule.name)
    return found


#: Workflows whose module copy of the guards is already chained in (a module's Snakefile
#: runs once per ``use rule`` statement that names it).
_CHAINED: set[int] = set()


def chain_into_main_hooks(workflow, hooks: Mapping[str, Callable]) -> None:
    """Run ``hooks`` (``{"onstart" | "onsuccess" | "onerror": function(log)}``) before the
    main Snakefile's own hooks, once per workflow, when this file is loaded as a module.

    Snakemake 9.27.1 keeps the ``onstart``/``onsuccess``/``onerror`` of the main Snakefile
    only (``snakemake/workflow.py`` lines 1747–1763: ``if self.modifier.is_main_snakefile():
    self._onstart = func``, and the same for the two others), so a user who loads the workflow
    with ``module`` would lose the pre-flight check and the failure summary. A hook the user's
    Snakefile defines after its ``use rule`` statement replaces the chained one (Snakemake
    keeps the last): define it before, or call these functions from it.
    """
    if id(workflow) in _CHAINED:
        return
    _CHAINED.add(id(workflow))
    for name, ours in hooks.items():
        theirs = getattr(workflow, f"_{name}")

        def chained(log, ours=ours, theirs=theirs):
            ours(log)
            theirs(log)

        setattr(workflow, f"_{name}", chained)


def print_summary(workflow, log) -> None:
    """Print `failure_summary` of this run, if any, to stderr; ``log`` is what Snakemake
    hands its hooks: its log file's path, or a list of them."""
    paths = [log] if isinstance(log, str | Path) else list(log or [])
    text = "".join(Path(p).read_text() for p in paths if Path(p).is_file())
    found = failure_summary(run_jobs(text), Path.cwd(), groups(workflow))
    if found:
        print(found, file=sys.stderr)
