"""Everything a configuration must pass before any job runs, with one readable line per problem.

The Snakefile calls `check_config_and_fill` on the loaded configuration; ``make report``
first runs ``python -m implicit_reg.workflow.configcheck <file>``, which also reads the YAML file
itself so that a syntax error names the file, line and column and an empty file says it
is empty (Snakemake's own loader reports neither). The order of the checks:

1. YAML syntax and shape (a mapping at the top level);
2. every number finite (``.nan``/``.inf`` in YAML are floats that JSON Schema accepts);
3. the JSON Schema (types, ranges, unknown keys), reported as one line per error naming
   the dotted key and, for an unknown key, the keys allowed in that mapping;
4. cross-key consistency per family (``problems`` of `implicit_reg.<family>.config`,
   run by `implicit_reg.workflow.checks.config_problems`);
5. cost: each grid point's estimated peak memory and work against ``limits``
   (``COSTS`` of `implicit_reg.<family>.config`; an experiment without one is an error).

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
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import yaml

from implicit_reg.families import FAMILIES, configured, schema_path
from implicit_reg.grid import grid_points, simulation_job_count
from implicit_reg.workflow.checks import ConfigError, config_problems, cost_estimate

SCHEMA = Path(__file__).resolve().parents[3] / "workflow" / "schemas" / "config.schema.yaml"
#: Default work cap per job (floating-point operations), documented in the schema.
DEFAULT_MAX_JOB_WORK = 2e13
#: libyaml's safe loader where PyYAML was built with it (ten times faster on the schema),
#: else the pure-Python one; both give the line and column of a syntax error.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# ---------------------------------------------------------------------------------------
# 1. YAML

#: An integer written with a leading zero (``020``), which YAML 1.1 reads as octal.
_OCTAL_LOOKING = re.compile(r"^[-+]?0(o?)[0-7_]+$")


class ConfigLoader(yaml.SafeLoader):
    """PyYAML's safe loader, stricter where a configuration would silently mean
    something else: a key given twice in one mapping (YAML keeps the last), an alias of
    a mapping or list (two sections sharing one object, possibly recursively), and an
    octal-looking integer (``020`` is 16). Each raises `yaml.MarkedYAMLError` with
    the line of the offending node."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            anchored = self.anchors.get(event.anchor)
            if anchored is None or not isinstance(anchored, yaml.ScalarNode):
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"alias *{event.anchor} of a mapping or list (or a recursive alias): "
                    "sections must not share values; write the values out",
                    event.start_mark,
                )
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"key {key!r} given twice in one mapping (first on line {seen[key]})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node):
        if node.style is None and _OCTAL_LOOKING.match(node.value):
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"{node.value} has a leading zero, which YAML reads as the octal number "
                f"{super().construct_yaml_int(node)}; write it without the zero",
                node.start_mark,
            )
        return super().construct_yaml_int(node)


ConfigLoader.add_constructor("tag:yaml.org,2002:int", ConfigLoader.construct_yaml_int)


def load_config_file(path: str | Path) -> dict:
    """Read a YAML configuration, raising `ConfigError` with file, line and column.

    Raises
    ------
    ConfigError
        The file is missing, empty, not valid YAML (including a tab in the indentation,
        a key given twice, an alias of a mapping or list, an octal-looking integer), or
        not a mapping at the top level.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such configuration file")
    text = path.read_text()
    try:
        config = yaml.load(text, Loader=ConfigLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(error, "problem", None) or str(error)
        if (
            "\t" in text.splitlines()[mark.line]
            if mark and mark.line < len(text.splitlines())
            else False
        ):
            problem += "; a tab character: indent with spaces"
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


def unshared(node, path: str = "", ancestors: tuple = ()):
    """A copy of ``node`` in which no two keys share a mapping or list (a configuration
    Snakemake read with YAML aliases), raising `ConfigError` on a recursive value."""
    if isinstance(node, Mapping | list):
        if any(node is a for a in ancestors):
            raise ConfigError(
                f"{path or '(top level)'}: a recursive alias (the value contains itself)"
            )
        inner = (*ancestors, node)
        if isinstance(node, Mapping):
            return {
                k: unshared(v, f"{path}.{k}" if path else str(k), inner) for k, v in node.items()
            }
        return [unshared(v, f"{path}[{i}]", inner) for i, v in enumerate(node)]
    return node


#: Default cap on the simulation jobs of one configuration (``limits.max_jobs``).
DEFAULT_MAX_JOBS = 10_000


def job_count_problems(config: Mapping) -> list[str]:
    """Grids whose number of jobs (the product of the grid lists' lengths) exceeds
    ``limits.max_jobs``: counted before the schema walks the lists, so a grid of a
    million values fails at once."""
    limits = config.get("limits") if isinstance(config.get("limits"), Mapping) else {}
    cap = limits.get("max_jobs", DEFAULT_MAX_JOBS)
    if not isinstance(cap, int) or isinstance(cap, bool) or cap < 1:
        return []
    if limits.get("allow_over_limits") is True:
        return []
    problems, total, drivers = [], 0, []
    for family in FAMILIES:
        section = config.get(family)
        if not isinstance(section, Mapping):
            continue
        for experiment, spec in section.items():
            grid = spec.get("grid") if isinstance(spec, Mapping) else None
            if not isinstance(grid, Mapping):
                total += 1
                continue
            jobs = math.prod(len(v) if isinstance(v, list) else 1 for v in grid.values())
            total += jobs
            drivers += [
                f"{family}.{experiment}.grid.{axis} ({len(v)} values)"
                for axis, v in grid.items()
                if isinstance(v, list) and len(v) > 1
            ]
    if total > cap:
        problems.append(
            f"limits.max_jobs: the grids give {total} simulation jobs, above the limit of "
            f"{cap} (driven by {', '.join(drivers)}); shorten the grids or raise "
            "limits.max_jobs"
        )
    return problems


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


def strict_validator():
    """Draft 2020-12 whose ``integer`` is an int only: JSON Schema counts ``7.0`` as an
    integer, but a seed or a count written ``7.0`` reaches numpy as a float."""
    from jsonschema import Draft202012Validator, validators

    checker = Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _, value: isinstance(value, int) and not isinstance(value, bool)
    )
    return validators.extend(Draft202012Validator, type_checker=checker)


def schema_problems(config: Mapping, schema: Mapping) -> list[str]:
    """One line per JSON Schema error (draft 2020-12, integers as ints), sorted by key."""
    validator = strict_validator()(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    return [_schema_message(e) for e in errors]


def load_schema(path: str | Path = SCHEMA) -> dict:
    """The configuration schema: the top level at ``path`` (the settings) with every
    family's section from its package (`implicit_reg.families.schema_path`), in the
    order of `FAMILIES`, and at least one family required."""
    schema = yaml.load(Path(path).read_text(), Loader=SAFE_LOADER)
    for family in FAMILIES:
        schema["properties"][family] = yaml.load(
            schema_path(family).read_text(), Loader=SAFE_LOADER
        )
    schema["anyOf"] = [{"required": [family]} for family in FAMILIES]
    return schema


def fill_defaults(config: dict, schema: Mapping, validate: bool = True) -> dict:
    """Set every absent key that has a ``default`` in ``schema``, in place.

    The recipe of the jsonschema FAQ ("Why doesn't my schema's default property set the
    default on my instance?"), which Snakemake's ``validate(..., set_default=True)`` uses:
    a draft 2020-12 validator whose ``properties`` keyword first sets the defaults of the
    mapping it visits, then validates it, so defaults nest (a section's default ``{}`` is
    then filled in turn). Each default is a copy: no two keys share a mutable value.
    With ``validate=False`` every default is filled and schema errors are ignored.
    """
    from jsonschema import validators

    strict = strict_validator()
    validate_properties = strict.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, subschema):
        if isinstance(instance, dict):
            for name, spec in properties.items():
                if isinstance(spec, Mapping) and "default" in spec:
                    instance.setdefault(name, copy.deepcopy(spec["default"]))
        yield from validate_properties(validator, properties, instance, subschema)

    filling = validators.extend(strict, {"properties": set_defaults})
    if validate:
        filling(schema).validate(config)
    else:
        for _ in filling(schema).iter_errors(config):
            pass
    return config


def filled_section(family: str, section: Mapping) -> dict:
    """A copy of ``config[family]`` with its schema defaults filled, as
    `check_config_and_fill` fills them (what the family's checks and jobs receive), even
    where a value breaks the schema (to test a cross-key check on its own)."""
    schema = load_schema()["properties"][family]
    return fill_defaults(copy.deepcopy(dict(section)), schema, validate=False)


# ---------------------------------------------------------------------------------------
# 5. Cost


def machine_memory_bytes() -> float:
    """Physical memory of this machine (``inf`` where it cannot be read)."""
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return math.inf


#: A driver is named when putting its default back divides the estimate by at least this.
DRIVER_FACTOR = 2.0


def _with_key(params: Mapping, dotted: str, value) -> dict:
    out = copy.deepcopy(dict(params))
    *parents, last = dotted.split(".")
    node = out
    for key in parents:
        node = node[key]
    node[last] = copy.deepcopy(value)
    return out


def _key(params: Mapping, dotted: str):
    for key in dotted.split("."):
        params = params[key]
    return params


def ranked_drivers(estimate, params: Mapping, defaults: Mapping, measure: str) -> list[str]:
    """The keys of ``estimate``'s drivers that actually drive it at ``params``: each one
    whose schema default, put back alone, divides the estimate's ``measure``
    (``work`` or ``memory_bytes``) by `DRIVER_FACTOR` or more, largest factor first, as
    ``key (×factor)``; every driver when none does (the estimate is high at the
    defaults)."""
    cost = getattr(estimate(params), measure)
    factors = []
    for key in estimate(params).drivers:
        try:
            default = _key(defaults, key)
            lowered = getattr(estimate(_with_key(params, key, default)), measure)
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            continue
        if lowered > 0 and cost / lowered >= DRIVER_FACTOR:
            factors.append((cost / lowered, key))
    if not factors:
        return list(estimate(params).drivers)
    return [f"{key} (×{factor:.2g})" for factor, key in sorted(factors, reverse=True)]


def experiment_defaults(family: str, experiment: str) -> dict:
    """One grid point's parameters of an experiment given no key: its schema defaults."""
    schema = load_schema()["properties"][family]["properties"][experiment]
    spec = fill_defaults({}, schema, validate=False)
    return next(iter(grid_points(spec)))[1]


def _driver_hint(family, experiment, estimate, params, defaults, measure) -> str:
    keys = ranked_drivers(estimate, params, defaults, measure)
    named = ", ".join(f"{family}.{experiment}.{k}" for k in keys)
    return f" (driven by {named})" if named else ""


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
    for family in configured(config):
        for experiment, spec in config[family].items():
            estimate = cost_estimate(family, experiment)
            for point, params in grid_points(spec):
                cost = estimate(params)
                if cost.memory_bytes <= memory_cap and cost.work <= work_cap:
                    continue
                defaults = experiment_defaults(family, experiment)
                where = (family, experiment, estimate, params, defaults)
                if cost.memory_bytes > memory_cap:
                    hint = _driver_hint(*where, "memory_bytes")
                    problems.append(
                        f"{family}.{experiment} at {point}: estimated peak memory "
                        f"{cost.memory_bytes / 2**30:.3g} GiB exceeds {memory_name} "
                        f"({memory_cap / 2**30:.3g} GiB){hint}; lower it, or set "
                        "limits.max_job_memory_gb / limits.allow_over_limits: true"
                    )
                if cost.work > work_cap:
                    hint = _driver_hint(*where, "work")
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
    for key, value in list(config.items()):
        config[key] = unshared(value, str(key))
    for stage in (
        job_count_problems,
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


def check_config_files(paths) -> None:
    """Re-read each configuration file with the strict loader (`load_config_file`), so
    that under plain ``snakemake`` (whose loader keeps the last of two equal keys) a
    duplicate key, an alias of a section or an octal-looking integer is named with its
    file and line before any job."""
    for path in paths:
        load_config_file(path)


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
    """``python -m implicit_reg.workflow.configcheck FILE...``: check configuration files."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print(
            "usage: python -m implicit_reg.workflow.configcheck CONFIG.yaml [...]", file=sys.stderr
        )
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
        jobs = simulation_job_count(config, configured(config))
        print(f"{path}: valid ({len(configured(config))} families, {jobs} simulation jobs)")
    return status


if __name__ == "__main__":
    sys.exit(main())
