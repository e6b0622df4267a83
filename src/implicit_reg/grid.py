"""Grid expansion of an experiment's configuration section into jobs.

Imported by the Snakefile at parse time, so it depends on the standard library only.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping


def format_value(value: object) -> str:
    """Short, filesystem-safe text for a grid value (``0.25`` → ``0.25``, ``1e-06``)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value).replace("/", "-").replace(" ", "")


def canonical(value: object) -> object:
    """``value`` with every mapping's keys sorted, recursively.

    Snakemake compares parameters as written: canonical forms make them equal however
    the YAML file orders its keys, so reordering a config reruns nothing.
    """
    if isinstance(value, Mapping):
        return {k: canonical(value[k]) for k in sorted(value)}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    return value


def grid_points(spec: Mapping) -> Iterator[tuple[str, dict]]:
    """Expand an experiment section into ``(point name, params)`` pairs.

    ``spec["grid"]`` maps axis names to lists; every combination is one grid point (one
    job). The other keys are shared by every point and are vectorized inside a job.
    A point's name is ``axis=value`` joined by ``_`` in the order of the grid axes
    (``all`` without axes), so adding a grid value adds a job without renaming others.

    Parameters
    ----------
    spec : mapping
        The experiment's configuration section.

    Yields
    ------
    name : str
    params : dict
        ``spec`` without ``grid``, updated with the point's axis values.

    Raises
    ------
    ValueError
        If two combinations give the same name (e.g. ``0.1`` and ``0.10000001``).
    """
    grid = dict(spec.get("grid", {}))
    fixed = {k: v for k, v in spec.items() if k != "grid"}
    axes = list(grid)
    seen = set()
    for combo in itertools.product(*(grid[a] for a in axes)):
        point = dict(zip(axes, combo, strict=True))
        name = "_".join(f"{a}={format_value(v)}" for a, v in point.items()) or "all"
        if name in seen:
            raise ValueError(f"grid values {point} repeat the grid point name {name!r}")
        seen.add(name)
        yield name, canonical({**fixed, **point})


def simulation_job_count(config: Mapping, families: list[str]) -> int:
    """The simulation jobs of a filled configuration: the grid points of every experiment
    of ``families``, one job each."""
    return sum(
        len(list(grid_points(spec))) for family in families for spec in config[family].values()
    )
