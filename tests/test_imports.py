"""Code inputs of the rules: the import closure of a job, and its cache between starts."""

import os

import pytest

from implicit_reg.workflow import imports


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A package ``implicit_reg`` with a module imported only inside a function."""
    monkeypatch.setattr(imports, "_PARSED", {})
    monkeypatch.setattr(imports, "_UNSAVED", [False])
    pkg = tmp_path / "src" / "implicit_reg"
    (pkg / "fam").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "fam" / "__init__.py").write_text("from implicit_reg.fam.sim import run\n")
    (pkg / "fam" / "sim.py").write_text(
        "import numpy\n\ndef run():\n    from implicit_reg import linalg\n    return linalg\n"
    )
    (pkg / "linalg.py").write_text("x = 1\n")
    (pkg / "plotting.py").write_text("import implicit_reg.linalg\n")
    return tmp_path / "src"


def test_closure_follows_imports_inside_functions_and_parent_packages(package):
    files = imports.module_closure(package, ["implicit_reg.fam"])
    names = sorted(os.path.relpath(f, package) for f in files)
    assert names == [
        "implicit_reg/__init__.py",
        "implicit_reg/fam/__init__.py",
        "implicit_reg/fam/sim.py",
        "implicit_reg/linalg.py",
    ]
    assert "implicit_reg/plotting.py" not in names
    skipped = imports.module_closure(package, ["implicit_reg.fam"], skip=["implicit_reg.fam.sim"])
    assert not any(f.endswith("sim.py") for f in skipped)


def test_cache_reused_between_processes_until_a_file_changes(package, tmp_path, monkeypatch):
    cache = tmp_path / "cache" / "imports.json"
    first = imports.module_closure(package, ["implicit_reg.fam"])
    imports.write_cache(cache)
    assert cache.is_file()
    # A new process: nothing in memory, the cache file read; no file is parsed again.
    monkeypatch.setattr(imports, "_PARSED", {})
    imports.read_cache(cache)

    def fail(path):
        raise AssertionError(f"parsed again: {path}")

    monkeypatch.setattr(imports, "_parse_imported_names", fail)
    assert imports.module_closure(package, ["implicit_reg.fam"]) == first
    # An edited file (new size and time) is parsed again, and its new import followed.
    monkeypatch.undo()
    monkeypatch.setattr(imports, "_PARSED", {})
    imports.read_cache(cache)
    sim = package / "implicit_reg" / "fam" / "sim.py"
    sim.write_text(sim.read_text() + "import implicit_reg.plotting\n")
    closure = imports.module_closure(package, ["implicit_reg.fam"])
    assert any(f.endswith("plotting.py") for f in closure)


def test_unreadable_cache_is_ignored(package, tmp_path):
    cache = tmp_path / "imports.json"
    cache.write_text("{not json")
    imports.read_cache(cache)
    assert len(imports.module_closure(package, ["implicit_reg.fam"])) == 4
