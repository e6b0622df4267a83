"""Were the tables on disk made with this configuration?

``snakemake --report`` packs the results as they are on disk: run with another
configuration than the one that made them, it would present them under the wrong
parameters. Every table carries its configuration slice in its Parquet metadata
(`implicit_reg.tables.provenance`); `stale_tables` compares it with the current one, and
the workflow prints the differences when a report is requested (``workflow/rules/report.smk``).
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


def stale_tables(expected: Mapping[str, Mapping], limit: int = 3) -> list[str]:
    """One line per existing table whose stored configuration differs from ``expected``.

    Parameters
    ----------
    expected : mapping
        Table path -> the configuration slice the current configuration gives it.
    limit : int
        Differences shown per table (the rest are counted).
    """
    from implicit_reg.tables import read_provenance

    lines = []
    for path, config in expected.items():
        if not Path(path).is_file():
            continue
        stored = read_provenance(path)
        if "config" not in stored:
            lines.append(f"  {path}: no configuration stored (not written by this workflow)")
            continue
        found = differences(stored["config"], config)
        if found:
            more = f" (and {len(found) - limit} more)" if len(found) > limit else ""
            lines.append(f"  {path}: {'; '.join(found[:limit])}{more}")
    return lines


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
