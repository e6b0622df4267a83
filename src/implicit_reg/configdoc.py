"""Render ``config/README.md`` from the configuration schema (its single source).

``python -m implicit_reg.configdoc workflow/schemas/config.schema.yaml > config/README.md``
(``make config-docs``); a test checks the file is up to date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

HEADER = """# Configuration keys

Generated from `workflow/schemas/config.schema.yaml` by `make config-docs`; do not edit by
hand. The schema is checked before any job runs: unknown keys, wrong types, values out of
range and empty grids are rejected with the key's name. Missing keys take the default.

- `config/config.yaml`: the whole report at laptop scale (the default).
- `config/smoke.yaml`: tiny grids for tests and CI (every claim still checked).
- `config/paper.yaml`: the papers' own sizes, for a cluster.

A family (`risk`, `margin`, `diagonal`, `bounds`, `noise`, `dynamics`) or an experiment
whose section is absent is not run (a figure that needs it is skipped and the report says
so). Keys under an experiment's `grid` are lists: every combination of their values is one
job. The other keys of the experiment are shared by its jobs and vectorized inside them.
Everything is checked before any job runs: `python -m implicit_reg.configcheck FILE`.
"""


def _range(schema: dict) -> str:
    parts = []
    for key, symbol in (
        ("minimum", "≥"),
        ("exclusiveMinimum", ">"),
        ("maximum", "≤"),
        ("exclusiveMaximum", "<"),
    ):
        if key in schema:
            value = schema[key]
            parts.append(f"{symbol} {value:g}" if isinstance(value, float) else f"{symbol} {value}")
    if "enum" in schema:
        parts.append("one of " + ", ".join(map(str, schema["enum"])))
    if "minItems" in schema:
        parts.append(f"at least {schema['minItems']} item(s)")
    items = schema.get("items")
    if isinstance(items, dict):
        inner = _range(items)
        kind = items.get("type", "")
        parts.append(f"items: {kind}{' ' + inner if inner else ''}")
    return ", ".join(parts)


def _type(schema: dict) -> str:
    kind = schema.get("type", "")
    return "/".join(kind) if isinstance(kind, list) else kind


def rows(schema: dict, prefix: str = "") -> list[tuple[str, str, str, str, str]]:
    """(key path, type, range, default, description) for every leaf key of ``schema``."""
    out = []
    for name, sub in schema.get("properties", {}).items():
        path = f"{prefix}{name}"
        if sub.get("type") == "object" and "properties" in sub:
            out.extend(rows(sub, path + "."))
        else:
            default = json.dumps(sub["default"], ensure_ascii=False) if "default" in sub else ""
            description = " ".join(str(sub.get("description", "")).split())
            out.append((path, _type(sub), _range(sub), default, description))
    return out


def render(schema: dict) -> str:
    """The markdown document: one table per top-level section."""
    lines = [HEADER]
    top = [r for r in rows(schema) if "." not in r[0]]
    lines += [
        "## Top level",
        "",
        "| key | type | range | default | meaning |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [f"| `{k}` | {t} | {r} | `{d}` | {m} |" for k, t, r, d, m in top]
    for family, sub in schema.get("properties", {}).items():
        if "properties" not in sub:
            continue
        lines += ["", f"## `{family}`", "", " ".join(str(sub.get("description", "")).split()), ""]
        for experiment, spec in sub["properties"].items():
            lines += [
                f"### `{family}.{experiment}`",
                "",
                " ".join(str(spec.get("description", "")).split()),
                "",
                "| key | type | range | default | meaning |",
                "| --- | --- | --- | --- | --- |",
            ]
            lines += [f"| `{k}` | {t} | {r} | `{d}` | {m} |" for k, t, r, d, m in rows(spec)]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str]) -> None:
    schema = yaml.safe_load(Path(argv[1]).read_text())
    sys.stdout.write(render(schema))


if __name__ == "__main__":
    main(sys.argv)
