"""Shared fixtures: repository paths, a finished smoke run, a tiny regression problem."""

from pathlib import Path

import numpy as np
import pytest
import yaml
from workflows import copy_repository, copy_run, load, snakemake

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def smoke() -> dict:
    """The smoke configuration as read from config/smoke.yaml (a fresh copy per test)."""
    return yaml.safe_load((ROOT / "config" / "smoke.yaml").read_text())


@pytest.fixture(params=[(8, 20), (30, 6)], ids=["n<d", "n>d"])
def problem(request):
    """A seeded least-squares problem ``(X, y)`` with a leading trial axis of 3."""
    n, d = request.param
    rng = np.random.default_rng(12345)
    X = rng.standard_normal((3, n, d))
    y = rng.standard_normal((3, n))
    return X, y


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """``(directory, config)``: a copy of the repository in which the smoke configuration
    ran once, strictly. Never changed by a test: tests that change or rerun anything
    work in their own copy (`fresh_run`)."""
    work = tmp_path_factory.mktemp("smoke") / "repo"
    copy_repository(ROOT, work)
    config = load(ROOT / "config" / "smoke.yaml")
    assert config["strict_claims"] is True
    run = snakemake(work, "--cores", "2", "--configfile", "config/smoke.yaml")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return work, config


@pytest.fixture
def fresh_run(smoke_run, tmp_path):
    """``(directory, config)``: this test's own copy of the finished smoke run."""
    work, config = smoke_run
    return copy_run(work, tmp_path / "repo"), config
