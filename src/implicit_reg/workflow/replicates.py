"""Replicates of a configuration at independent seeds (`make robustness`), parse-time side.

Replicate ``r`` of ``K`` runs the configuration with the top-level seed ``seed + r``
(`replicate_seeds`). Every job's generator is ``SeedSequence(seed + r, spawn_key)`` with
the spawn key of (family, experiment, grid point) (`implicit_reg.seeding`), so two
replicates draw independent streams and a replicate's tables depend on its seed alone:
the replicates of ``K`` are the first ``K`` of ``K + 1``, and a larger ``K`` reuses them.

Replicate 0 is the configured seed: its results tree is the report's own, ``results/``.
Replicate ``r >= 1`` writes the same layout under ``results/robustness/seed-<seed + r>/``
(`replicate_tree`). The workflow's rules carry the tree as the wildcard ``tree``, either
empty or ``robustness/seed-<s>/`` (`TREE_PATTERN`), and compute with `tree_seed`.

Standard library only: imported on every ``snakemake`` start.
"""

from __future__ import annotations

import re

#: Where `make robustness` writes: the replicate trees and the combined claims and page.
ROBUSTNESS = "results/robustness"
#: The ``tree`` wildcard: empty (the configured seed) or one replicate's folder.
TREE_PATTERN = r"(robustness/seed-[0-9]+/)?"
_REPLICATE = re.compile(r"robustness/seed-([0-9]+)/")


def replicate_seeds(seed: int, count: int) -> list[int]:
    """Top-level seeds of ``count`` replicates: ``seed, seed + 1, …, seed + count - 1``."""
    return [seed + replicate for replicate in range(count)]


def replicate_tree(replicate_seed: int, seed: int) -> str:
    """The ``tree`` wildcard of a replicate: ``""`` for the configured ``seed`` (the
    report's ``results/``), else ``robustness/seed-<replicate_seed>/``."""
    return "" if replicate_seed == seed else f"robustness/seed-{replicate_seed}/"


def tree_seed(tree: str, seed: int) -> int:
    """The top-level seed the jobs of results tree ``tree`` compute with (the inverse of
    `replicate_tree`): ``seed`` for ``""``, ``s`` for ``robustness/seed-<s>/``."""
    if tree == "":
        return seed
    match = _REPLICATE.fullmatch(tree)
    if match is None:
        raise ValueError(f"not a replicate's results tree: {tree!r}")
    return int(match.group(1))
