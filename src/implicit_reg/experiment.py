"""The contract between a figure family and the workflow.

A family package ``implicit_reg.<family>`` exposes

- ``EXPERIMENTS: dict[str, Experiment]``: one entry per experiment section of the
  family's configuration;
- ``claims(tables) -> list[Claim]``;
- ``implicit_reg.<family>.figures.FIGURES: dict[str, Callable[[tables], Figure]]``,

where ``tables`` maps ``<experiment>`` to the trial-level table (all grid points
concatenated) and ``<experiment>_summary`` to `summarize` of it.

A grid point's parameters are the experiment's configuration section with its ``grid``
mapping replaced by one combination of the grid axes (see `grid_points`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from implicit_reg.grid import grid_points

Simulate = Callable[[dict, np.random.Generator], pd.DataFrame]


@dataclass(frozen=True)
class Experiment:
    """One experiment of a family.

    Attributes
    ----------
    simulate : callable ``(params, rng) -> DataFrame``
        Runs every trial of one grid point, vectorized over trials, and returns a tidy
        table with a ``trial`` column.
    keys : tuple of str
        Columns that identify a row apart from ``trial`` (grid values, algorithm,
        step, ...): `summarize` averages over trials within each key combination.
    artifacts : bool
        If true, ``simulate`` returns ``(table, arrays)`` where ``arrays`` is a dict of
        named numpy arrays (e.g. trained weights) kept beside the run table as ``.npz``.
    """

    simulate: Simulate
    keys: tuple[str, ...]
    artifacts: bool = False


def student_quantile(count, level: float = 0.975):
    """``t_{level, k−1}``, Student's quantile with ``k − 1`` degrees of freedom (NaN for k < 2)."""
    from scipy.special import stdtrit  # light: scipy.stats is not imported

    df = np.asarray(count, dtype=float) - 1.0
    return np.where(df >= 1, stdtrit(np.maximum(df, 1.0), level), np.nan)


def student_half_width(std, count, level: float = 0.975):
    """Half-width of the two-sided ``2·level − 1`` confidence interval of a mean.

    ``t_{level, k−1} · s/√k`` for sample standard deviation ``s`` over ``k`` values; 0
    when ``k < 2``.
    """
    count = np.asarray(count, dtype=float)
    width = (
        student_quantile(count, level)
        * np.asarray(std, dtype=float)
        / np.sqrt(np.maximum(count, 1.0))
    )
    return np.where(count >= 2, np.nan_to_num(width, nan=0.0), 0.0)


def summarize(trials: pd.DataFrame, keys: tuple[str, ...]) -> pd.DataFrame:
    """Mean, standard deviation, count and 95% half-width over trials per key.

    Every numeric column that is not a key nor ``trial`` is summarized as
    ``<col>_mean``, ``<col>_std``, ``<col>_ci95`` and ``<col>_count``; booleans become
    fractions (e.g. ``diverged_mean``). Rows with NaN values are ignored column by column.

    The half-width is Student's: ``t_{0.975, k−1} · std/√k`` over ``k`` trials (e.g.
    4.30·std/√3 with 3 trials, where the normal 1.96 would understate it by half); it is
    0 for a single trial, where no spread is known.
    """
    keys = [k for k in keys if k in trials.columns]
    values = [
        c
        for c in trials.columns
        if c not in keys
        and c != "trial"
        and (pd.api.types.is_numeric_dtype(trials[c]) or pd.api.types.is_bool_dtype(trials[c]))
    ]
    numeric = trials[keys + values].astype({c: "float64" for c in values})
    grouped = numeric.groupby(keys, sort=True, dropna=False) if keys else None
    if grouped is None:
        numeric = numeric.assign(_all=0)
        grouped = numeric.groupby("_all")
    stats = grouped[values].agg(["mean", "std", "count"])
    stats.columns = [f"{c}_{s}" for c, s in stats.columns]
    ci95 = pd.DataFrame(
        {f"{c}_ci95": student_half_width(stats[f"{c}_std"], stats[f"{c}_count"]) for c in values},
        index=stats.index,
    )
    # copy() consolidates the blocks of wide tables before reset_index inserts the keys.
    out = pd.concat([stats, ci95], axis=1).copy().reset_index()
    return out.drop(columns="_all", errors="ignore")


def run_experiment(
    family: str, name: str, experiment: Experiment, spec: Mapping, seed: int
) -> tuple[pd.DataFrame, dict[str, dict]]:
    """Run every grid point of one experiment in memory, as the workflow would.

    Each point gets ``seeding.generator(seed, family, name, point)``, the same generator
    as its workflow job, so the result equals the workflow's tables.

    Returns
    -------
    trials : DataFrame
        Run tables concatenated in sorted point-name order (the workflow's order).
    artifacts : dict
        Point name → arrays, for experiments with ``artifacts``.
    """
    from implicit_reg.seeding import generator

    tables, arrays = {}, {}
    for point, params in grid_points(spec):
        out = experiment.simulate(params, generator(seed, family, name, point))
        if experiment.artifacts:
            out, arrays[point] = out
        tables[point] = out
    trials = pd.concat([tables[p] for p in sorted(tables)], ignore_index=True)
    return trials, arrays


def run_family(family: str, module, section: Mapping, seed: int) -> dict[str, pd.DataFrame]:
    """Every experiment of a family in memory: ``tables`` as passed to claims and figures.

    Parameters
    ----------
    family : str
    module : module
        The family package, with ``EXPERIMENTS``.
    section : mapping
        ``config[family]``.
    seed : int
    """
    tables = {}
    for name, spec in section.items():
        experiment = module.EXPERIMENTS[name]
        trials, _ = run_experiment(family, name, experiment, spec, seed)
        tables[name] = trials
        tables[f"{name}_summary"] = summarize(trials, experiment.keys)
    return tables
