"""Files written whole or not at all.

A job killed or failing halfway (``kill -9``, a full disk) must not leave a file that
looks finished: the next run would read it as a result (`implicit_reg.workflow.integrity` checks
what is on disk at parse time; this module keeps the workflow's own writes from ever
producing such a file). Standard library only: used at parse time and in jobs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replacing(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` to write to; on success it is renamed to
    ``path`` in one step (``os.replace``, atomic on POSIX within a file system), on any
    exception it is removed and ``path`` is left as it was.

    The temporary name keeps the suffix (writers such as ``savefig`` choose the format
    from it) and starts with a dot, in the same folder as ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.name}.{os.getpid()}.part{path.suffix}")
    try:
        yield part
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)


def write_text_atomically(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` whole (`replacing`): a process reading ``path``
    meanwhile (another Snakemake process, a cluster job) sees the old file or the whole
    new one, never a part."""
    with replacing(path) as part:
        part.write_text(text)
