"""Shared fixtures: repository paths and a tiny seeded regression problem."""

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture(params=[(8, 20), (30, 6)], ids=["n<d", "n>d"])
def problem(request):
    """A seeded least-squares problem ``(X, y)`` with a leading trial axis of 3."""
    n, d = request.param
    rng = np.random.default_rng(12345)
    X = rng.standard_normal((3, n, d))
    y = rng.standard_normal((3, n))
    return X, y
