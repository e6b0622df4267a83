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


def replicate_problems(
    seed: int, count: int, jobs: int, limits: dict, largest_seed: int
) -> list[str]:
    """What stops ``count`` replicates of a configuration of ``jobs`` simulation jobs.

    The replicates multiply the jobs by ``count``, so ``limits.max_jobs`` bounds
    ``count · jobs`` (unless ``limits.allow_over_limits``), and the last replicate's seed
    ``seed + count − 1`` must stay within the schema's largest seed ``largest_seed``.
    One line per problem, naming ``robustness_seeds`` and the allowed range.
    """
    problems = []
    last = seed + count - 1
    if last > largest_seed:
        problems.append(
            f"robustness_seeds: {count} replicates from seed {seed} reach seed {last}, above "
            f"the largest seed {largest_seed}; allowed: 1 to {largest_seed - seed + 1} "
            "(or a smaller seed)"
        )
    cap = limits.get("max_jobs")
    if cap is not None and not limits.get("allow_over_limits") and count * jobs > cap:
        problems.append(
            f"robustness_seeds: {count} replicates of {jobs} simulation jobs give "
            f"{count * jobs} jobs, above limits.max_jobs = {cap}; allowed: 1 to "
            f"{max(cap // max(jobs, 1), 1)} (or raise limits.max_jobs)"
        )
    return problems


def largest_seed(schema_path) -> int:
    """The largest top-level seed the configuration schema at ``schema_path`` allows."""
    import yaml

    with open(schema_path) as handle:
        return int(yaml.safe_load(handle)["properties"]["seed"]["maximum"])


def main(argv: list[str] | None = None) -> int:
    """``python -m implicit_reg.workflow.replicates CONFIG.yaml [K]``: check that the
    configuration can run as K replicates (default: its ``robustness_seeds``), before
    ``make robustness`` starts Snakemake. Prints one line per problem, exits 1 on any."""
    import sys

    import yaml

    from implicit_reg.families import configured
    from implicit_reg.grid import simulation_job_count
    from implicit_reg.workflow.configcheck import (
        SCHEMA,
        ConfigError,
        check_config_and_fill,
        load_config_file,
    )

    argv = sys.argv[1:] if argv is None else argv
    if not 1 <= len(argv) <= 2:
        print("usage: python -m implicit_reg.workflow.replicates CONFIG.yaml [K]", file=sys.stderr)
        return 2
    try:
        config = load_config_file(argv[0])
        if len(argv) == 2:  # as `--config robustness_seeds=K` would set it
            config["robustness_seeds"] = yaml.safe_load(argv[1])
        check_config_and_fill(config)
    except ConfigError as error:
        print(f"{argv[0]}: {error}", file=sys.stderr)
        return 1
    problems = replicate_problems(
        config["seed"],
        config["robustness_seeds"],
        simulation_job_count(config, configured(config)),
        config["limits"],
        largest_seed(SCHEMA),
    )
    for problem in problems:
        print(f"{argv[0]}: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
