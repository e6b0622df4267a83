"""Were the tables on disk made with this configuration?

Every table carries its configuration slice and seed in its Parquet metadata
(`implicit_reg.tables.provenance`); `stale_tables` compares them with what the current
configuration gives. Snakemake's rerun triggers keep the results of a run consistent;
these comparisons catch what slipped past them (results copied from elsewhere, a removed
``.snakemake/``):

- the summary and report jobs stop, naming each table and the differing keys, rather
  than combine tables of different configurations (``workflow/scripts/summary.py``,
  ``report.py``);
- ``snakemake --report`` packs the results as they are on disk, and prints the
  differences when they were made with another configuration (``workflow/rules/report.smk``).

Standard library only (pyarrow is imported when a table is read, at job time).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path


def _plain(value):
    """JSON round trip: the form in which provenance is stored (tuples become lists)."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def differences(stored, current, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ, as ``key is <stored> there, <current> here``.

    A key missing on one side reads ``absent``. Lists and scalars are compared whole.
    """
    stored, current = _plain(stored), _plain(current)
    if isinstance(stored, dict) and isinstance(current, dict):
        found = []
        for key in sorted(set(stored) | set(current)):
            name = f"{prefix}.{key}" if prefix else str(key)
            if key not in stored:
                found.append(f"{name} is absent there, {json.dumps(current[key])} here")
            elif key not in current:
                found.append(f"{name} is {json.dumps(stored[key])} there, absent here")
            else:
                found += differences(stored[key], current[key], name)
        return found
    if stored != current:
        return [
            f"{prefix or 'configuration'} is {json.dumps(stored)} there, {json.dumps(current)} here"
        ]
    return []


def expected(config_slice: Mapping, seed) -> dict:
    """The provenance a table made by this configuration stores, without the versions:
    ``{"config": config_slice, "seed": seed}`` (`implicit_reg.tables.provenance`)."""
    return {"config": config_slice, "seed": seed}


def provenance_differences(stored: Mapping, wanted: Mapping) -> list[str]:
    """Dotted keys in which a stored provenance document differs from ``wanted``
    (an `expected` document); the seed is named once, also where the slice holds it."""
    found = differences(stored.get("config"), wanted["config"])
    in_slice = isinstance(wanted["config"], Mapping) and "seed" in wanted["config"]
    if stored.get("seed") != wanted["seed"] and not in_slice:
        found.insert(
            0, f"seed is {json.dumps(stored.get('seed'))} there, {json.dumps(wanted['seed'])} here"
        )
    return found


def stale_tables(wanted: Mapping[str, Mapping], limit: int = 3) -> list[str]:
    """One line per existing table whose stored provenance differs from ``wanted``.

    Parameters
    ----------
    wanted : mapping
        Table path -> the `expected` provenance the current configuration gives it.
    limit : int
        Differences shown per table (the rest are counted).
    """
    from implicit_reg.tables import read_provenance

    lines = []
    for path, document in wanted.items():
        if not Path(path).is_file():
            continue
        try:
            stored = read_provenance(path)
        except Exception as error:  # pyarrow raises several types for a damaged file
            lines.append(f"  {path}: cannot be read ({type(error).__name__}: {error})")
            continue
        if "config" not in stored:
            lines.append(f"  {path}: no configuration stored (not written by this workflow)")
            continue
        found = provenance_differences(stored, document)
        if found:
            more = f" (and {len(found) - limit} more)" if len(found) > limit else ""
            lines.append(f"  {path}: {'; '.join(found[:limit])}{more}")
    return lines


def run_table_provenance(paths, family: str, family_slice: Mapping) -> dict[str, dict]:
    """Path -> `expected` provenance of each run table of a family summary's input.

    A run table ``.../runs/<experiment>/<point>.parquet`` stores its grid point's
    parameters as ``{family: {experiment: params}}`` and the seed (``simulate.py``);
    ``family_slice`` is the summary's ``{"seed": …, family: section}``.
    """
    from implicit_reg.grid import grid_points

    points = {
        experiment: dict(grid_points(spec)) for experiment, spec in family_slice[family].items()
    }
    wanted = {}
    for path in paths:
        experiment, point = Path(path).parent.name, Path(path).stem
        params = points.get(experiment, {}).get(point)
        wanted[str(path)] = expected({family: {experiment: params}}, family_slice["seed"])
    return wanted


def mixed_message(lines: list[str], consumer: str) -> str:
    """Why a job stops rather than combine tables of another configuration."""
    return (
        f"{consumer}: these input tables were not made with this configuration (there: "
        "the table's stored provenance; here: this configuration):\n"
        + "\n".join(lines)
        + "\nSnakemake's record of the jobs that wrote them is missing or was made "
        "elsewhere (a copied results/ or a removed .snakemake/). Delete these files, or "
        "rerun their rules with --forcerun, and run the same command again."
    )


def source_revision(directory: str | Path) -> dict:
    """The git commit of the workflow's source tree and whether it has uncommitted
    changes: ``{"commit": sha or None, "dirty": bool or None}`` (None: not a git
    checkout, e.g. a module fetched from a URL, or no git)."""
    import subprocess

    def git(*args):
        return subprocess.run(
            ["git", "-C", str(directory), *args], capture_output=True, text=True, timeout=30
        )

    try:
        head = git("rev-parse", "HEAD")
        if head.returncode != 0:
            return {"commit": None, "dirty": None}
        status = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.TimeoutExpired):
        return {"commit": None, "dirty": None}
    return {"commit": head.stdout.strip(), "dirty": bool(status.stdout.strip())}


def report_requested(argv: Sequence[str]) -> bool:
    """True for ``snakemake --report [FILE]`` (not ``--report-after-run``, which runs first)."""
    asked = any(a == "--report" or a.startswith("--report=") for a in argv)
    return asked and "--report-after-run" not in argv


def stale_message(lines: list[str]) -> str:
    """The warning printed by ``snakemake --report`` when `stale_tables` found lines."""
    return (
        "WARNING: snakemake --report packs the results on disk, and these were made with "
        "another configuration than this one (there: the table's stored provenance; here: "
        "this configuration):\n" + "\n".join(lines) + "\nRun the workflow with this "
        "configuration first, or give --report the configuration the results were made with."
    )
