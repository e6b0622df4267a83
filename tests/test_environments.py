"""Software environments agree with pyproject.toml.

- workflow/envs/run.yaml, the `conda:` environment of every rule, lists what the jobs
  import and nothing else, with pyproject's pins;
- environment.yml, the development environment, has every pin of pyproject (runtime and
  dev extras).
"""

import ast
import re
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
#: Conda package name -> PyPI distribution name, where they differ.
CONDA_TO_PYPI = {
    "matplotlib-base": "matplotlib",
    "seaborn-base": "seaborn",
    "snakemake-minimal": "snakemake",
}
#: Import name -> PyPI distribution name, where they differ.
IMPORT_TO_PYPI = {"sklearn": "scikit-learn", "yaml": "pyyaml"}
#: Modules run in Snakemake's own process (parse time, command-line tools), not in jobs.
NOT_IN_JOBS = {"configcheck.py", "configdoc.py", "slurm.py", "provenance.py"}
#: What the jobs never need: tests, linters, the executor plugin.
DEV_ONLY = {"pytest", "ruff", "snakefmt", "snakemake-executor-plugin-slurm"}


def split_pin(requirement: str) -> tuple[str, str]:
    """``("numpy", "==2.4.6")`` from ``numpy==2.4.6`` (pip) or ``numpy=2.4.6`` (conda)."""
    match = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*(?:(==|=|>=|<=)\s*(.+))?", requirement.strip())
    assert match, requirement
    name, op, version = match.groups()
    if op == "=":
        op = "=="
    return name.lower(), f"{op}{version}" if op else ""


def pyproject() -> tuple[dict[str, str], dict[str, str], str]:
    """(runtime pins, dev pins, requires-python) of pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = dict(split_pin(r) for r in project["dependencies"])
    dev = dict(split_pin(r) for r in project["optional-dependencies"]["dev"])
    return runtime, dev, project["requires-python"]


def conda_pins(path: Path) -> dict[str, str]:
    """PyPI name -> pin of a conda environment file (pip entries included)."""
    pins = {}
    for entry in yaml.safe_load(path.read_text())["dependencies"]:
        for requirement in entry["pip"] if isinstance(entry, dict) else [entry]:
            name, pin = split_pin(requirement)
            pins[CONDA_TO_PYPI.get(name, name)] = pin
    return pins


def job_imports() -> dict[str, set[str]]:
    """Third-party top-level modules imported by the code jobs run -> files importing them."""
    files = [p for p in (ROOT / "src" / "implicit_reg").rglob("*.py") if p.name not in NOT_IN_JOBS]
    files += [p for p in (ROOT / "workflow" / "scripts").glob("*.py") if p.name != "stale_lock.py"]
    found: dict[str, set[str]] = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in {"implicit_reg", "jobsetup"}:
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def test_run_environment_has_pyprojects_pins_and_no_dev_tools():
    runtime, _, requires_python = pyproject()
    run = conda_pins(ROOT / "workflow" / "envs" / "run.yaml")
    assert not DEV_ONLY & set(run), DEV_ONLY & set(run)
    python = run.pop("python")
    assert requires_python.startswith(">=") and python.startswith("==")
    assert tuple(map(int, python[2:].split("."))) >= tuple(map(int, requires_python[2:].split(".")))
    for name, pin in run.items():
        assert name in runtime, f"{name} is in run.yaml but not in pyproject's dependencies"
        assert pin == runtime[name], (name, pin, runtime[name])


def test_run_environment_provides_every_module_the_jobs_import():
    run = conda_pins(ROOT / "workflow" / "envs" / "run.yaml")
    # Jobs are shell commands running the scripts: no Snakemake in a job's process.
    needed = {IMPORT_TO_PYPI.get(m, m) for m in job_imports()}
    missing = needed - set(run)
    assert not missing, {m: sorted(job_imports().get(m, ())) for m in missing}
    unused = set(run) - needed - {"python"}
    assert not unused, f"run.yaml lists packages no job imports: {sorted(unused)}"


def test_rules_use_the_run_environment():
    """Every ``conda:`` directive names workflow/envs/run.yaml, relative to its rule file
    (Snakemake reads it so from any source of the workflow)."""
    rules = ROOT / "workflow" / "rules"
    assert (rules / ".." / "envs" / "run.yaml").resolve() == ROOT / "workflow" / "envs" / "run.yaml"
    for smk in rules.glob("*.smk"):
        text = smk.read_text()
        directives = re.findall(r"^\s+conda:\n\s+(.+)$", text, flags=re.M)
        assert text.count("conda:\n") == len(directives), smk
        assert set(directives) <= {'"../envs/run.yaml"'}, (smk, directives)


def test_development_environment_has_every_pin_of_pyproject():
    runtime, dev, _ = pyproject()
    environment = conda_pins(ROOT / "environment.yml")
    for name, pin in {**runtime, **dev}.items():
        assert environment.get(name) == pin, (name, environment.get(name), pin)
