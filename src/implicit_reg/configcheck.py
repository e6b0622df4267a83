"""Everything a configuration must pass before any job runs, with one readable line per problem.

The Snakefile calls `check_config_and_fill` on the loaded configuration; ``make report``
first runs ``python -m implicit_reg.configcheck <file>``, which also reads the YAML file
itself so that a syntax error names the file, line and column and an empty file says it
is empty (Snakemake's own loader reports neither). The order of the checks:

1. YAML syntax and shape (a mapping at the top level);
2. every number finite (``.nan``/``.inf`` in YAML are floats that JSON Schema accepts);
3. the JSON Schema (types, ranges, unknown keys), reported as one line per error naming
   the dotted key and, for an unknown key, the keys allowed in that mapping;
4. cross-key consistency per family (`implicit_reg.checks.CHECKS`);
5. cost: each grid point's estimated peak memory and work against ``limits``
   (`implicit_reg.checks.COSTS`).

It imports the standard library, ``yaml`` and ``jsonschema``: it runs at parse time. The
schema's defaults are filled as ``snakemake.utils.validate(config, schema,
set_default=True)`` fills them (the jsonschema recipe below), without Snakemake reading
the schema file a second time with its pure-Python YAML loader (a third of a second of
every start).
"""

from __future__ import annotations

import copy
import math
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import yaml

from implicit_reg.checks import COSTS, ConfigError, config_problems, families
from implicit_reg.grid import grid_points

SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"
#: Default work cap per job (floating-point operations), documented in the schema.
DEFAULT_MAX_JOB_WORK = 2e13
#: libyaml's safe loader where PyYAML was built with it (ten times faster on the schema),
#: else the pure-Python one; both give the line and column of a syntax error.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# ---------------------------------------------------------------------------------------
# 1. YAML


def load_config_file(path: str | Path) -> dict:
    """Read a YAML configuration, raising `ConfigError` with file, line and column.

    Raises
    ------
    ConfigError
        The file is missing, empty, not valid YAML, or not a mapping at the top level.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such configuration file")
    text = path.read_text()
    try:
        config = yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(error, "problem", None) or str(error)
        context = getattr(error, "context", None)
        raise ConfigError(
            f"{where}: YAML syntax error: {problem}" + (f" ({context})" if context else "")
        ) from None
    if config is None:
        raise ConfigError(f"{path}: the configuration file is empty")
    if not isinstance(config, dict):
        raise ConfigError(
            f"{path}: the configuration must be a mapping of keys (seed, families...), "
            f"not a {type(config).__name__}"
        )
    return config


# ---------------------------------------------------------------------------------------
# 2. Finite numbers


def _leaves(node, path: str = "") -> Iterator[tuple[str, object]]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield from _leaves(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _leaves(value, f"{path}[{i}]")
    else:
        yield path, node


def non_finite_problems(config: Mapping) -> list[str]:
    """One line per NaN or infinite number, naming its dotted key."""
    return [
        f"{path}: {value!r} is not a finite number"
        for path, value in _leaves(config)
        if isinstance(value, float) and not math.isfinite(value)
    ]


# ---------------------------------------------------------------------------------------
# 3. Schema


def _dotted(path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _describe_bounds(schema: Mapping) -> str:
    parts = []
    for key, symbol in (
        ("minimum", "≥"),
        ("exclusiveMinimum", ">"),
        ("maximum", "≤"),
        ("exclusiveMaximum", "<"),
    ):
        if key in schema:
            parts.append(f"{symbol} {schema[key]}")
    if "enum" in schema:
        parts.append("one of " + ", ".join(map(str, schema["enum"])))
    kind = schema.get("type")
    head = kind if isinstance(kind, str) else "/".join(kind) if kind else "value"
    return head + (" " + ", ".join(parts) if parts else "")


def _schema_message(error) -> str:
    where = _dotted(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        return (
            f"{where}: unknown key {', '.join(map(repr, unknown))}; "
            f"allowed keys: {', '.join(allowed)}"
        )
    if error.validator == "required":
        return f"{where}: {error.message}"
    if error.validator == "anyOf" and all("required" in sub for sub in error.validator_value):
        names = [name for sub in error.validator_value for name in sub["required"]]
        return f"{where}: no figure family; give at least one of {', '.join(names)}"
    if error.validator == "minProperties" and len(error.absolute_path) == 1:
        experiments = ", ".join(sorted(error.schema.get("properties", {})))
        return (
            f"{where}: no experiment given; list at least one of {experiments}, "
            "or leave the section out to skip the family"
        )
    if error.validator in ("minItems", "maxItems", "minProperties", "uniqueItems"):
        return f"{where}: {error.message}"
    return f"{where}: {error.instance!r} is not allowed (expected {_describe_bounds(error.schema)})"


def schema_problems(config: Mapping, schema: Mapping) -> list[str]:
    """One line per JSON Schema error (draft 2020-12), sorted by key."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    return [_schema_message(e) for e in errors]


def load_schema(path: str | Path = SCHEMA) -> dict:
    return yaml.load(Path(path).read_text(), Loader=SAFE_LOADER)


def fill_defaults(config: dict, schema: Mapping) -> dict:
    """Set every absent key that has a ``default`` in ``schema``, in place.

    The recipe of the jsonschema FAQ ("Why doesn't my schema's default property set the
    default on my instance?"), which Snakemake's ``validate(..., set_default=True)`` uses:
    a draft 2020-12 validator whose ``properties`` keyword first sets the defaults of the
    mapping it visits, then validates it, so defaults nest (a section's default ``{}`` is
    then filled in turn). Each default is a copy: no two keys share a mutable value.
    """
    from jsonschema import Draft202012Validator, validators

    validate_properties = Draft202012Validator.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, subschema):
        if isinstance(instance, dict):
            for name, spec in properties.items():
                if isinstance(spec, Mapping) and "default" in spec:
                    instance.setdefault(name, copy.deepcopy(spec["default"]))
        yield from validate_properties(validator, properties, instance, subschema)

    filling = validators.extend(Draft202012Validator, {"properties": set_defaults})
    filling(schema).validate(config)
    return config


# ---------------------------------------------------------------------------------------
# 5. Cost


def machine_memory_bytes() -> float:
    """Physical memory of this machine (``inf`` where it cannot be read)."""
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return math.inf


def cost_problems(config: Mapping) -> list[str]:
    """Grid points whose estimated memory or work exceeds ``limits`` (unless overridden)."""
    limits = config.get("limits", {}) or {}
    if limits.get("allow_over_limits", False):
        return []
    gigabytes = limits.get("max_job_memory_gb")
    memory_cap = machine_memory_bytes() if gigabytes is None else gigabytes * 2**30
    work_cap = limits.get("max_job_work", DEFAULT_MAX_JOB_WORK)
    memory_name = "this machine's memory" if gigabytes is None else "limits.max_job_memory_gb"
    problems = []
    for family in families(config):
        for experiment, spec in config[family].items():
            estimate = COSTS.get(family, {}).get(experiment)
            if estimate is None or not isinstance(spec, Mapping):
                continue
            for point, params in grid_points(spec):
                cost = estimate(params)
                drivers = ", ".join(f"{family}.{experiment}.{k}" for k in cost.drivers)
                hint = f" (driven by {drivers})" if drivers else ""
                if cost.memory_bytes > memory_cap:
                    problems.append(
                        f"{family}.{experiment} at {point}: estimated peak memory "
                        f"{cost.memory_bytes / 2**30:.3g} GiB exceeds {memory_name} "
                        f"({memory_cap / 2**30:.3g} GiB){hint}; lower it, or set "
                        "limits.max_job_memory_gb / limits.allow_over_limits: true"
                    )
                if cost.work > work_cap:
                    problems.append(
                        f"{family}.{experiment} at {point}: estimated work {cost.work:.2g} "
                        f"floating-point operations exceeds limits.max_job_work "
                        f"({work_cap:.2g}){hint}; lower it, or raise limits.max_job_work "
                        "/ set limits.allow_over_limits: true"
                    )
    return problems


# ---------------------------------------------------------------------------------------
# All of it


def check_config_and_fill(config: dict, schema_path: str | Path = SCHEMA) -> dict:
    """Validate ``config`` in place, fill schema defaults, raise `ConfigError` listing
    every problem of the first failing stage (finite, schema, cross-key, cost)."""
    schema = load_schema(schema_path)
    for stage in (
        non_finite_problems,
        lambda c: schema_problems(c, schema),
    ):
        problems = stage(config)
        if problems:
            raise ConfigError(_format(problems))
    fill_defaults(config, schema)
    for stage in (config_problems, cost_problems):
        problems = stage(config)
        if problems:
            raise ConfigError(_format(problems))
    return config


def load_config(path: str | Path) -> dict:
    """Read, check and fill the configuration file at ``path``: the values jobs run with.

    Raises
    ------
    ConfigError
        As `load_config_file` and `check_config_and_fill`.
    """
    return check_config_and_fill(load_config_file(path))


def _format(problems: list[str]) -> str:
    return "invalid configuration:\n  - " + "\n  - ".join(problems)


def main(argv: list[str] | None = None) -> int:
    """``python -m implicit_reg.configcheck FILE...``: check configuration files."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print("usage: python -m implicit_reg.configcheck CONFIG.yaml [...]", file=sys.stderr)
        return 2
    status = 0
    for path in argv:
        try:
            config = load_config(path)
        except ConfigError as error:
            message = str(error)
            print(
                message if message.startswith(str(path)) else f"{path}: {message}", file=sys.stderr
            )
            status = 1
            continue
        jobs = sum(
            len(list(grid_points(spec)))
            for family in families(config)
            for spec in config[family].values()
        )
        print(f"{path}: valid ({len(families(config))} families, {jobs} simulation jobs)")
    return status


if __name__ == "__main__":
    sys.exit(main())
