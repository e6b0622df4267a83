"""Parquet tables with provenance metadata.

Every table the workflow writes carries, in its Parquet key-value metadata under the key
``implicit_reg``, a JSON document: the configuration slice that produced it, the seed,
the package version and the versions of the numerical libraries. Wall times never go
here (they live in Snakemake benchmark and log files), so the same configuration gives
byte-identical table contents.
"""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from implicit_reg.atomic import replacing
from implicit_reg.workflow.provenance import expected

METADATA_KEY = b"implicit_reg"
LIBRARIES = ("numpy", "scipy", "pandas", "pyarrow", "matplotlib", "snakemake")


def library_versions(names: tuple[str, ...] = LIBRARIES) -> dict[str, str]:
    """Installed version of each distribution in ``names`` (``"absent"`` if missing)."""
    from implicit_reg import __version__

    # The package's own version, whether it is installed or run from the repository.
    versions = {"implicit-reg": __version__}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def provenance(config_slice: dict, seed: int | None) -> dict:
    """The provenance document stored with a table.

    Parameters
    ----------
    config_slice : dict
        The part of the configuration the table depends on (JSON-serializable).
    seed : int or None
        The configuration's top-level seed.
    """
    return {**expected(config_slice, seed), "versions": library_versions()}


def write_table(table: pd.DataFrame, path: str | Path, meta: dict) -> None:
    """Write ``table`` to Parquet at ``path`` with ``meta`` as JSON metadata.

    The index is dropped: tables are tidy, every identifying value is a column.
    """
    arrow = pa.Table.from_pandas(table, preserve_index=False)
    existing = arrow.schema.metadata or {}
    arrow = arrow.replace_schema_metadata(
        {**existing, METADATA_KEY: json.dumps(meta, sort_keys=True, default=str).encode()}
    )
    with replacing(path) as part:  # whole or not at all
        pq.write_table(arrow, part)


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a table written by `write_table`."""
    return pq.read_table(path).to_pandas()


def read_provenance(path: str | Path) -> dict:
    """The provenance document of a table written by `write_table` (empty if none)."""
    meta = pq.read_schema(path).metadata or {}
    raw = meta.get(METADATA_KEY)
    return json.loads(raw) if raw else {}


def concat_tables(paths: list[str | Path]) -> pd.DataFrame:
    """Concatenate run tables in the given order (the workflow passes a sorted list)."""
    return pd.concat([read_table(p) for p in paths], ignore_index=True)
