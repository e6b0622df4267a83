"""The figure families: the one list that the workflow, the report, the configuration
schema, its reference and the tests read.

A family ``<name>`` is the package ``implicit_reg.<name>`` (its folder holds everything
that is the family's: ``config.schema.yaml``, ``config.py``, ``experiments.py``,
``claims.py``, ``figures.py``; README, "Adding an experiment"), the top-level section
``<name>`` of a configuration, the captions in ``workflow/report/<name>/`` and the rules
``<name>_simulate`` and ``<name>_summary``. Standard library only: it runs at parse time
(a family's ``__init__.py`` imports nothing).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

#: Every family, in the report's order (F1 … F6).
FAMILIES = ("risk", "margin", "diagonal", "bounds", "noise", "dynamics")


#: The folder of the family packages (``src/implicit_reg``).
PACKAGES = Path(__file__).resolve().parent


def schema_path(family: str) -> Path:
    """The family's configuration schema: the JSON Schema of its config section."""
    return PACKAGES / family / "config.schema.yaml"


def family_module(family: str, role: str | None = None) -> ModuleType:
    """The family's package, or its module ``role`` (``config``, ``experiments``,
    ``claims``, ``figures``)."""
    return importlib.import_module(f"implicit_reg.{family}" + (f".{role}" if role else ""))


def title(family: str) -> str:
    """The family's section title in the report (``TITLE`` of its package)."""
    return family_module(family).TITLE


def configured(config: Mapping) -> list[str]:
    """The families a configuration runs: its top-level sections that are families, in
    the configuration's order."""
    return [key for key in config if key in FAMILIES]
