"""Is a finished output whole? Checked at parse time, before Snakemake plans the jobs.

Snakemake takes an output that exists, and whose job's metadata says it completed, as
finished. A file cut short or overwritten afterwards (a copy interrupted, a disk that
filled up, an editor) would be read by the next job and fail it deep inside pyarrow or
numpy, and Snakemake would then delete that job's outputs without rebuilding what was
damaged. The workflow's own outputs are written whole or not at all (a temporary file
and an atomic rename: `implicit_reg.tables.write_table`, `implicit_reg.plotting`), so a
damaged file is never a job still at work. `damage` reads each format's end markers
(a few bytes per file); the Snakefile sets damaged files aside, which makes them missing
outputs that the same run rebuilds, and says so in one line per file.

Standard library only: it runs at parse time.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterable
from pathlib import Path

#: Parquet's 4-byte magic at the start and the end of every file (Apache Parquet format:
#: "File Format"); the 4 bytes before the trailing magic are the footer's length.
PARQUET_MAGIC = b"PAR1"
#: The PNG signature and the 12-byte IEND chunk that ends every PNG (PNG spec, 5.2, 11.2.5).
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"
#: PDF files start with ``%PDF-`` and end with ``%%EOF`` (ISO 32000-1, 7.5.2 and 7.5.5),
#: possibly followed by an end of line; writers leave at most a few bytes after it.
PDF_START, PDF_END, PDF_TAIL = b"%PDF-", b"%%EOF", 1024


def _head_and_tail(path: Path, size: int, count: int) -> tuple[bytes, bytes]:
    with path.open("rb") as f:
        head = f.read(count)
        f.seek(max(0, size - count))
        return head, f.read(count)


def parquet_damage(path: Path, size: int) -> str | None:
    """Why ``path`` is not a whole Parquet file, or None."""
    if size < 12:
        return f"{size} bytes, shorter than any Parquet file"
    head, tail = _head_and_tail(path, size, 8)
    if head[:4] != PARQUET_MAGIC:
        return "not a Parquet file (no PAR1 marker at its start)"
    if tail[4:] != PARQUET_MAGIC:
        return "cut short (no PAR1 marker at its end)"
    footer = int.from_bytes(tail[:4], "little")
    if footer + 12 > size:
        return f"cut short (its footer of {footer} bytes does not fit in {size} bytes)"
    return None


def npz_damage(path: Path, size: int) -> str | None:
    """Why ``path`` is not a whole ``.npz`` (zip) archive, or None."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError) as error:
        return f"not a whole .npz archive ({error})"
    if any(not name.endswith(".npy") for name in names):
        return "a zip archive that numpy did not write (members other than .npy)"
    return None


def png_damage(path: Path, size: int) -> str | None:
    """Why ``path`` is not a whole PNG image, or None."""
    head, tail = _head_and_tail(path, size, len(PNG_END))
    if not head.startswith(PNG_SIGNATURE[: len(head)]) or size < len(PNG_SIGNATURE):
        return "not a PNG image"
    if tail != PNG_END:
        return "cut short (no IEND chunk at its end)"
    return None


def pdf_damage(path: Path, size: int) -> str | None:
    """Why ``path`` is not a whole PDF document, or None."""
    head, tail = _head_and_tail(path, size, PDF_TAIL)
    if not head.startswith(PDF_START):
        return "not a PDF document"
    if PDF_END not in tail:
        return "cut short (no %%EOF at its end)"
    return None


CHECKS = {".parquet": parquet_damage, ".npz": npz_damage, ".png": png_damage, ".pdf": pdf_damage}


def damage(path: str | Path) -> str | None:
    """Why the existing file ``path`` cannot be a finished output, or None.

    None as well for a missing file (Snakemake rebuilds it) and for a format without a
    check here.
    """
    path = Path(path)
    check = CHECKS.get(path.suffix)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return None
    if size == 0:
        return "empty"
    if check is None:
        return None
    try:
        return check(path, size)
    except OSError as error:
        return f"unreadable ({error.strerror or error})"


def damaged(paths: Iterable[str | Path]) -> list[tuple[str, str]]:
    """``(path, reason)`` of every existing file of ``paths`` that is not whole."""
    found = []
    for path in paths:
        reason = damage(path)
        if reason is not None:
            found.append((str(path), reason))
    return found


def set_aside(path: str | Path, folder: str | Path) -> Path:
    """Move ``path`` to ``folder``/``path`` (kept for inspection, never read again; an
    absolute ``path`` keeps its whole path below ``folder``)."""
    path = Path(path)
    target = Path(folder) / (path.relative_to(path.anchor) if path.is_absolute() else path)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, target)
    return target


def set_aside_damaged(paths: Iterable[str | Path], folder: str | Path) -> list[str]:
    """Set every damaged file of ``paths`` aside; one line per file, saying why."""
    lines = []
    for path, reason in damaged(paths):
        target = set_aside(path, folder)
        lines.append(f"{path}: {reason}; moved to {target}, it is computed again")
    return lines
