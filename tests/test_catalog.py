"""The repository as the Snakemake workflow catalog and the snakemake-workflows template see it.

The catalog's generator (snakemake/snakemake-workflow-catalog, scripts/generate-catalog.py)
lists a repository whose README names "snakemake" and "workflow", whose workflow is
``workflow/Snakefile`` whenever ``workflow/`` exists, and whose ``workflow/rules`` holds
``.smk`` files; it shows it under "standardized usage" when ``config/README.md`` and a
parseable ``.snakemake-workflow-catalog.yml`` exist; it records as quality flags the
output of ``snakemake --lint`` run without arguments at the root and of
``snakefmt --check`` on ``workflow/Snakefile`` and ``workflow/rules/*.smk``. These tests
apply the same rules. Packaging: license, citation, changelog and version agree.
"""

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

import implicit_reg


def run(root, *args, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=root, capture_output=True, text=True, timeout=timeout
    )


def test_catalog_finds_the_workflow(root):
    readme = (root / "README.md").read_text().lower()
    assert "snakemake" in readme and "workflow" in readme
    assert (root / "workflow").is_dir()
    assert (root / "workflow" / "Snakefile").is_file()
    assert any(p.suffix == ".smk" for p in (root / "workflow" / "rules").iterdir())
    # The entry point users run from the root includes it (a link would make Snakemake
    # read the workflow's relative paths from the root).
    assert 'include: "workflow/Snakefile"' in (root / "Snakefile").read_text()


def test_catalog_standardized_usage(root):
    assert (root / "config" / "README.md").is_file()
    settings = yaml.safe_load((root / ".snakemake-workflow-catalog.yml").read_text())
    usage = settings["usage"]
    deployment = usage["software-stack-deployment"]
    assert any(deployment.get(m) for m in ("conda", "singularity", "singularity+conda"))
    assert usage["report"] is True  # the generator reads usage.report
    assert isinstance(usage["mandatory-flags"]["desc"], str)


def test_catalog_quality_checks_lint_and_format(root):
    lint = run(root, "snakemake", "--lint")  # as the catalog runs it: no arguments
    assert lint.returncode == 0, lint.stdout[-3000:] + lint.stderr[-3000:]
    snakefiles = [
        root / "workflow" / "Snakefile",
        *sorted((root / "workflow" / "rules").glob("*.smk")),
    ]
    fmt = run(root, "snakefmt", "--check", *map(str, snakefiles))
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_template_test_directory_runs_the_smoke_configuration(root):
    """The template's `.test/` is the smoke configuration: `snakemake --directory .test`."""
    test_config = root / ".test" / "config" / "config.yaml"
    assert test_config.read_text() == (root / "config" / "smoke.yaml").read_text()
    dry = run(root, "snakemake", "-n", "--directory", ".test")
    assert dry.returncode == 0, dry.stdout[-3000:] + dry.stderr[-3000:]
    assert "risk_simulate" in dry.stdout and "config/config.yaml" in dry.stdout


def test_license_citation_changelog_and_version_agree(root):
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    version = project["version"]
    assert implicit_reg.__version__ == version
    license_text = (root / "LICENSE").read_text()
    assert project["license"] == "MIT" and license_text.startswith("MIT License")
    assert "Permission is hereby granted, free of charge" in license_text
    citation = yaml.safe_load((root / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0" and str(citation["version"]) == version
    assert citation["license"] == "MIT" and citation["title"] and citation["authors"]
    assert f"## [{version}]" in (root / "CHANGELOG.md").read_text()


def test_min_version_is_the_oldest_snakemake_that_runs_the_workflow(root):
    """`min_version` names the version that benchmarks/check_min_version.sh found (see
    tests/test_min_version.py, which reruns that check)."""
    snakefile = (root / "workflow" / "Snakefile").read_text()
    match = re.search(r'^min_version\("([0-9.]+)"\)', snakefile, re.M)
    assert match
    from importlib.metadata import version

    def key(v):
        return tuple(int(p) for p in v.split("."))

    assert key(match.group(1)) <= key(version("snakemake"))
    assert key(match.group(1)) > (9, 0)  # 9.0 refuses the profiles (profile.yaml)


def test_catalog_replay_on_a_release_copy_without_the_package(tmp_path):
    """The catalog lints a release's tarball (no ``.git``, nothing installed but
    Snakemake and snakefmt): ``snakemake --lint`` at its root and ``snakefmt --check -v``
    on ``workflow/Snakefile`` and ``workflow/rules/*.smk``, as its
    ``scripts/generate-catalog.py`` does. Here in an environment where ``implicit_reg``
    is not importable: the parse must find the package in the copy itself."""
    from test_module import environment_without_the_package
    from workflows import TRACKED

    release = tmp_path / "release"
    for name in TRACKED:
        source = Path(implicit_reg.__file__).resolve().parents[2] / name
        target = release / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    python = environment_without_the_package(tmp_path)
    lint = subprocess.run(
        [str(python), "-m", "snakemake", "--lint"],
        cwd=release,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert lint.returncode == 0, lint.stdout[-3000:] + lint.stderr[-3000:]
    assert "Congratulations" in lint.stdout + lint.stderr
    snakefiles = [
        release / "workflow" / "Snakefile",
        *sorted((release / "workflow" / "rules").glob("*.smk")),
    ]
    fmt = run(release, "snakefmt", "--check", "-v", *map(str, snakefiles))
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
