"""Reproducible random generators keyed by experiment and grid point.

A job's generator depends only on the configured seed and a stable key naming the
experiment and the grid point, so tables are identical whatever the job order or the
number of cores. Python's ``hash()`` is salted per process and is never used.
"""

from __future__ import annotations

import hashlib

import numpy as np


def spawn_key(*parts: object) -> tuple[int, ...]:
    """Stable spawn key from the ``repr`` of each part.

    The SHA-256 digest of the parts (joined by a separator that cannot occur in a
    ``repr``) is cut into eight 32-bit words.

    Returns
    -------
    tuple of int
        Eight integers in ``[0, 2**32)``.
    """
    text = "\x1f".join(repr(p) for p in parts).encode()
    digest = hashlib.sha256(text).digest()
    return tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 32, 4))


def generator(seed: int, *key: object) -> np.random.Generator:
    """``numpy.random.Generator`` for ``SeedSequence(seed, spawn_key=spawn_key(*key))``.

    Parameters
    ----------
    seed : int
        The configuration's top-level seed.
    *key : object
        Experiment name and grid point values, e.g. ``("risk", "double_descent", 0.5)``.
    """
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=spawn_key(*key)))
