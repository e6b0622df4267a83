"""The workflow deployed as a Snakemake module from a versioned source.

A user's own Snakefile names the workflow with ``module`` and a ``git+file`` URL at a
release tag (what snakedeploy writes for a tagged release, with ``github(..., tag=)``), in
a directory of its own. The run uses a Python environment in which the package
``implicit_reg`` is not installed: both the Snakemake process (parse time) and the jobs
must find it in the fetched source (workflow/rules/source.smk).

``python tests/test_module.py`` rewrites workflow/source-files.txt, the files that a
fetched source copies (`test_source_files_list_every_file_the_workflow_reads`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pandas as pd
import pytest
import yaml
from workflows import TRACKED, environment

import implicit_reg
from implicit_reg.families import FAMILIES

ROOT = Path(__file__).resolve().parents[1]
SOURCE_FILES = ROOT / "workflow" / "source-files.txt"
#: What the parse-time code and the jobs read from the source tree, besides the files
#: Snakemake itself reads relative to the rule files (Snakefile, rules, envs).
SOURCE_DIRECTORIES = (
    "src",
    "workflow/scripts",
    "workflow/bin",
    "workflow/schemas",
    "workflow/report",
)
SOURCE_SINGLE_FILES = ("docs/science.md",)
TAG = f"v{implicit_reg.__version__}"


def source_files(root: Path = ROOT) -> list[str]:
    """Every file of the source tree a fetched workflow needs, relative to ``root``."""
    files = [
        path.relative_to(root).as_posix()
        for directory in SOURCE_DIRECTORIES
        for path in (root / directory).rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and not path.name.endswith((".pyc", ".egg-info"))
        and not any(part.endswith(".egg-info") for part in path.parts)
    ]
    return sorted([*files, *SOURCE_SINGLE_FILES])


def test_source_files_list_every_file_the_workflow_reads():
    listed = SOURCE_FILES.read_text().split()
    assert listed == source_files(), (
        "workflow/source-files.txt is out of date: run `python tests/test_module.py`"
    )


def git(directory: Path, *args: str) -> str:
    run = subprocess.run(
        ["git", "-C", str(directory), *args], capture_output=True, text=True, check=True
    )
    return run.stdout


def tagged_release(work: Path) -> Path:
    """A git repository of the workflow whose tag `TAG` holds this tree, and whose
    branch has moved on to a commit that deletes the workflow: only the tag runs."""
    repo = work / "implicit-reg"
    repo.mkdir(parents=True)
    for name in TRACKED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(
                source,
                repo / name,
                symlinks=True,
                ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
            )
        else:
            shutil.copy2(source, repo / name)
    git(repo, "init", "--quiet", "--initial-branch", "main")
    git(repo, "add", "--all")
    identity = ["-c", "user.name=release", "-c", "user.email=release@example.org"]
    git(repo, *identity, "commit", "--quiet", "-m", "release")
    git(repo, *identity, "tag", TAG)
    git(repo, "rm", "--quiet", "-r", "workflow", "src")
    git(repo, *identity, "commit", "--quiet", "-m", "after the release")
    return repo


def environment_without_the_package(work: Path) -> Path:
    """A virtual environment with every package of this one except ``implicit_reg``:
    this environment's site-packages on its path, without the editable install's
    ``.pth`` file (which a directory named in a ``.pth`` file does not run)."""
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(site, "development.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    probe = subprocess.run([str(python), "-c", "import implicit_reg"], capture_output=True)
    assert probe.returncode != 0, "implicit_reg is importable without the fetched source"
    return python


def user_workflow(directory: Path, snakefile: str, module_options: str = "") -> None:
    """A user's workflow that runs every rule of implicit-reg as ``ir_<rule>``."""
    (directory / "config").mkdir(parents=True)
    shutil.copy2(ROOT / "config" / "smoke.yaml", directory / "config" / "config.yaml")
    (directory / "Snakefile").write_text(
        f"""configfile: "config/config.yaml"


module implicit_reg:
    snakefile:
        "{snakefile}"
    config:
        config
{module_options}

use rule * from implicit_reg as ir_*


rule all:
    default_target: True
    input:
        rules.ir_all.input,
"""
    )


def run_snakemake(python: Path, directory: Path, *args: str, timeout: int = 1500):
    env = environment()
    env["PATH"] = f"{python.parent}{os.pathsep}{env['PATH']}"
    return subprocess.run(
        [str(python), "-m", "snakemake", "--cores", "2", *args],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def timed_rules(report_html: str) -> set[str]:
    """The rules listed in the report's wall-time table (its per-family table lists
    family names, without an underscore)."""
    rows = re.findall(r"<tr><td>(\w+)</td><td class='num'>\d+</td>", report_html)
    return {name for name in rows if "_" in name}


def storage_options(store: Path) -> list[str]:
    """``--default-storage-provider fs`` into ``store``, where the plugin and the rsync it
    calls are installed (both are in the development environment)."""
    try:
        import snakemake_storage_plugin_fs  # noqa: F401
    except ImportError:
        return []
    if shutil.which("rsync") is None:
        return []
    return ["--default-storage-provider", "fs", "--default-storage-prefix", str(store)]


@pytest.mark.workflow
def test_module_from_a_release_tag_with_a_prefix_and_storage_runs_to_a_full_report(tmp_path):
    """One user run that relocates every path twice: the module's ``prefix:`` and the fs
    storage provider. The report still finds every job's benchmark and log (inputs of the
    report rule), and a second run has nothing to do."""
    repo = tagged_release(tmp_path)
    python = environment_without_the_package(tmp_path)
    user = tmp_path / "analysis"
    user_workflow(
        user,
        f"git+file://{repo}/workflow/Snakefile@{TAG}",
        module_options='    prefix:\n        "implicit-reg"',
    )
    storage = storage_options(tmp_path / "store")
    run = run_snakemake(python, user, *storage)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-5000:]

    config = yaml.safe_load((ROOT / "config" / "smoke.yaml").read_text())
    assert config["strict_claims"] is True
    results = (tmp_path / "store" if storage else user) / "implicit-reg" / "results"
    report = results / "report" / "index.html"
    assert report.is_file()
    # strict_claims: the run fails on any failed claim; the check lists every family's.
    check = pd.read_csv(results / "claims" / "check.tsv", sep="\t")
    assert check["passed"].all() and len(check) > 0
    families = {f for f in FAMILIES if f in config}
    assert set(check["family"]) == families
    html = report.read_text()
    # Every family of the configuration is in the report, with its figures.
    for family in families:
        assert list((results / "figures" / family).glob("*.png"))
    assert "<img" in html
    # The jobs ran the fetched copy of the tag's source, laid out in the user's directory.
    copies = list((user / ".snakemake" / "implicit_reg" / "source").iterdir())
    assert len(copies) == 1
    assert (copies[0] / "ORIGIN").read_text().strip().endswith(f"/workflow/rules@{TAG}")
    assert (copies[0] / "src" / "implicit_reg" / "__init__.py").is_file()
    # The timing table of the report is filled: a row per rule upstream of it.
    expected = {f"{family}_{rule}" for family in families for rule in ("simulate", "summary")}
    assert timed_rules(html) == expected

    # A second run has nothing to do: the copy's files kept their modification times.
    again = run_snakemake(python, user, *storage, "--dry-run", "--quiet", "rules")
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "Nothing to be done" in again.stdout + again.stderr, again.stdout + again.stderr


def write_source_files() -> None:
    SOURCE_FILES.write_text("".join(f"{name}\n" for name in source_files()))


if __name__ == "__main__":
    write_source_files()
    print(json.dumps({"files": len(source_files())}))
