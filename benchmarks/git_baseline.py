"""A module of the package as it was at an earlier commit, for benchmarks' baselines."""

from __future__ import annotations

import subprocess
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def module_at(commit: str, path: str) -> types.ModuleType | None:
    """The module in file ``path`` of the repository at ``commit`` (read with ``git show``,
    executed in a fresh namespace), or None outside a git checkout."""
    try:
        source = subprocess.run(
            ["git", "show", f"{commit}:{path}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    module = types.ModuleType(f"{Path(path).stem}_{commit}")
    exec(compile(source, f"{commit}:{path}", "exec"), module.__dict__)  # noqa: S102
    return module
