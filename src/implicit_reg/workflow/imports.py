"""Which source files a job imports: the code inputs of each workflow rule.

A job reruns when a module it imports changes (not only its family's files): editing
`implicit_reg.linalg` reruns the simulations that use it, editing `implicit_reg.plotting`
reruns every family's figures. The closure is read from the ``import`` statements of the
source (``ast``), including imports inside functions, and importing ``a.b.c`` counts the
package files ``a/__init__.py`` and ``a/b/__init__.py`` too, since Python runs them.
Standard library only: it runs at parse time.

Each file is parsed once per version (modification time and size): the names found are
kept in memory and, with `read_cache` and `write_cache`, in a JSON file between
Snakemake starts (parsing the package's sixty files was a third of a second of every
start, dry runs and cluster jobs included).
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable
from pathlib import Path

from implicit_reg.atomic import write_text_atomically

PACKAGE = "implicit_reg"
#: File path -> (modification time in ns, size, names it imports), for `imported_names`.
_PARSED: dict[str, tuple[int, int, frozenset[str]]] = {}
#: Whether `_PARSED` holds entries that `write_cache` has not saved yet.
_UNSAVED = [False]


def module_path(src: Path, name: str) -> Path | None:
    """File of module ``name`` under ``src`` (``a/b.py`` or ``a/b/__init__.py``), if any."""
    base = src.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _with_parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def imported_names(path: Path) -> set[str]:
    """Names of the package's modules imported anywhere in the file at ``path``.

    ``from a.b import c`` yields ``a.b.c`` when that is a module, else ``a.b``; every
    name comes with its parent packages. Parsed once per version of the file: the
    workflow asks for the closure of some thirty rules at parse time.
    """
    stat = path.stat()
    known = _PARSED.get(str(path))
    if known is not None and known[:2] == (stat.st_mtime_ns, stat.st_size):
        return set(known[2])
    names = _parse_imported_names(path)
    _PARSED[str(path)] = (stat.st_mtime_ns, stat.st_size, names)
    _UNSAVED[0] = True
    return set(names)


def _parse_imported_names(path: Path) -> frozenset[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found = [node.module]
            found += [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in found:
            if name.split(".")[0] == PACKAGE:
                names.update(_with_parents(name))
    return frozenset(names)


def read_cache(file: str | Path) -> None:
    """Take the names parsed by an earlier process from ``file`` (if readable).

    An entry is used only while its file keeps the recorded modification time and size.
    """
    try:
        entries = json.loads(Path(file).read_text())
        parsed = {
            path: (int(mtime), int(size), frozenset(map(str, names)))
            for path, (mtime, size, names) in entries.items()
        }
    except (OSError, ValueError, TypeError):
        return
    for path, entry in parsed.items():
        _PARSED.setdefault(path, entry)


def write_cache(file: str | Path) -> None:
    """Save the parsed names to ``file`` if anything new was parsed (atomic replace;
    a directory that cannot be written is skipped: the cache only saves time)."""
    if not _UNSAVED[0]:
        return
    entries = {path: [m, s, sorted(n)] for path, (m, s, n) in sorted(_PARSED.items())}
    try:
        write_text_atomically(file, json.dumps(entries))
    except OSError:
        return
    _UNSAVED[0] = False


def module_closure(src: str | Path, entries: Iterable[str], skip: Iterable[str] = ()) -> list[str]:
    """Every source file reached from the ``entries`` modules by imports, sorted.

    Parameters
    ----------
    src : path
        The folder that holds the package (``src``).
    entries : iterable of str
        Module names the job imports first (e.g. ``implicit_reg.risk``).
    skip : iterable of str
        Modules not followed (e.g. a family's ``figures`` when only its simulations run:
        the package re-exports them but the simulation never calls them).
    """
    src = Path(src)
    skip = set(skip)
    seen: set[str] = set()
    files: set[Path] = set()
    todo = [name for entry in entries for name in _with_parents(entry)]
    while todo:
        name = todo.pop()
        if name in seen or name in skip:
            continue
        seen.add(name)
        path = module_path(src, name)
        if path is None:
            continue
        files.add(path)
        todo.extend(imported_names(path) - seen)
    return sorted(str(p) for p in files)
