"""The self-contained HTML report: claims, figures with captions, provenance.

Pure functions from in-memory data to HTML text; the report script reads the files.
"""

from __future__ import annotations

import base64
import functools
import html
import platform
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import SimpleNamespace

import markdown
import pandas as pd
import yaml
from docutils.core import publish_parts
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from implicit_reg.bugs import detected_bugs
from implicit_reg.claims import recompute_passed
from implicit_reg.families import FAMILIES
from implicit_reg.families import title as family_title
from implicit_reg.tables import library_versions
from implicit_reg.workflow.captions import (
    caption_body,
    caption_claims,
    caption_needs,
    caption_title,
    without_claims_paragraph,
)

#: The page template (``implicit_reg/workflow/templates/report.html.j2``), autoescaped.
TEMPLATES = Environment(
    loader=PackageLoader("implicit_reg.workflow", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
#: docutils as Snakemake's report runs it, but silent: a caption is a fragment of a page,
#: never a whole document (no title promotion, no file or raw inclusion).
DOCUTILS_SETTINGS = {
    "doctitle_xform": False,
    "file_insertion_enabled": False,
    "raw_enabled": False,
    "report_level": 4,
    "halt_level": 5,
    "_disable_config": True,
}

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.7em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
h2.fail,nav a.fail{color:#a31515}h3{margin-bottom:.3em}
table{border-collapse:collapse;font-size:.85em;margin:1em 0;width:100%;table-layout:fixed}
table.narrow{width:auto;table-layout:auto}
th,td{border:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top;
overflow-wrap:anywhere}
table.claims th:nth-child(1){width:5%}table.claims th:nth-child(2){width:6%}
table.claims th:nth-child(3){width:13%}table.claims th:nth-child(4){width:24%}
table.claims th:nth-child(5),table.claims th:nth-child(6){width:7%}
table.claims th:nth-child(7){width:11%}table.claims th:nth-child(9){width:8%}
th{background:#f4f4f4}td.num,span.num{font-family:monospace;white-space:nowrap}
td.num{text-align:right}
tr.pass td.status{background:#d9f2d9;color:#1a6b1a;font-weight:bold}
tr.fail td.status{background:#f8d4d4;color:#a31515;font-weight:bold}
.badge{display:inline-block;font-size:.8em;font-weight:bold;padding:0 .4em;border-radius:3px}
.badge.pass{background:#d9f2d9;color:#1a6b1a}.badge.fail{background:#f8d4d4;color:#a31515}
.verdict{padding:.3em 1em;border-left:6px solid}.verdict.pass{border-color:#1a6b1a;
background:#f0faf0}.verdict.fail{border-color:#a31515;background:#fdf0f0}
figure{margin:2em 0;padding:.5em 0}figure.fail{border-left:6px solid #a31515;padding-left:1em}
figure img{max-width:100%;border:1px solid #eee;cursor:zoom-in}
figcaption{font-size:.9em;color:#444;margin-top:.4em}p.files{font-size:.85em}
ul.rows{font-size:.88em;list-style:none;padding-left:0}ul.rows li{margin:.15em 0}
details.science{background:#f9f9fb;border:1px solid #e4e4ea;padding:.3em .8em;margin:1em 0}
details.science summary,details summary{cursor:pointer;font-weight:600}
.note{background:#fff6dd;border-left:4px solid #e0b000;padding:.5em 1em}
pre{background:#f7f7f7;padding:.8em;overflow-x:auto;font-size:.8em}
nav ul{columns:2}nav ul ul{columns:1;font-size:.9em}
code,span.literal{background:#f3f3f3;padding:0 .2em;font-family:monospace}
#zoom{position:fixed;inset:0;background:rgba(0,0,0,.85);overflow:auto;z-index:10;
cursor:zoom-out}#zoom img{display:block;margin:1em auto;background:white;max-width:none}
.rulegraph{overflow-x:auto}.rulegraph rect{fill:#eef3fa;stroke:#4a6fa5}
.rulegraph text{font-size:11px;text-anchor:middle;font-family:monospace}
.rulegraph line{stroke:#888}
"""


#: Timing fields that workflow jobs write to their logs (`workflow/scripts/jobsetup.py`).
LOGGED_SECONDS = ("simulation_seconds", "work_seconds", "process_seconds")


def logged_seconds(log_text: str) -> dict[str, float]:
    """The ``<field>=<seconds>`` timing fields of a job log (0 for a field not logged).

    ``simulation_seconds``: inside the simulation call; ``work_seconds``: the script's
    work after its imports; ``process_seconds``: the job's Python process since it started.
    """
    found = {}
    for key in LOGGED_SECONDS:
        match = re.search(rf"{key}=([0-9.]+)", log_text)
        found[key] = float(match.group(1)) if match else 0.0
    return found


@dataclass(frozen=True)
class FigureEntry:
    """One figure of the report: its family, name, PNG bytes and caption (reST text)."""

    family: str
    name: str
    png: bytes
    caption: str


def anchor(*parts: str) -> str:
    return "-".join(re.sub(r"[^a-z0-9]+", "-", p.lower()).strip("-") for p in parts)


def split_kinds(claims: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(claims, checks)``: rows of kind ``claim`` and of kind ``check``.

    A table written before the ``kind`` column existed counts as claims only.
    """
    kind = claims["kind"] if "kind" in claims else pd.Series("claim", index=claims.index)
    return claims[kind != "check"], claims[kind == "check"]


#: What the report says of a claim no registered bug is shown to flip.
NO_BUG = "no registered bug"


@functools.cache
def _family_detections(family: str) -> dict[str, list[str]]:
    """`implicit_reg.bugs.detected_bugs` of ``family``; empty for a family without bugs."""
    try:
        return detected_bugs(family)
    except ModuleNotFoundError:
        return {}


def detects(family: str, claim_id: str) -> str:
    """The registered bugs the claim is shown to detect (``tests/test_bugs.py``), joined
    by "; ", or `NO_BUG`."""
    return "; ".join(_family_detections(family).get(claim_id, [])) or NO_BUG


def claims_html(claims: pd.DataFrame) -> str:
    """The claims table, pass in green and fail in red, ``passed`` recomputed."""
    passed = recompute_passed(claims)
    rows = []
    for (_, claim), ok in zip(claims.iterrows(), passed, strict=True):
        rows.append(
            f'<tr class="{"pass" if ok else "fail"}" id="{anchor("claim", claim.claim_id)}">'
            f'<td class="status">{"pass" if ok else "FAIL"}</td>'
            f"<td>{html.escape(claim.family)}</td><td><code>{html.escape(claim.claim_id)}</code>"
            f"</td><td>{html.escape(claim.statement)}</td>"
            f'<td class="num">{claim.measured:.6g}</td>'
            f'<td class="num">{html.escape(claim.comparison)} {claim.threshold:.6g}</td>'
            f"<td>{html.escape(claim.source)}</td>"
            f"<td>{html.escape(detects(claim.family, claim.claim_id))}</td></tr>"
        )
    head = (
        "<tr><th>status</th><th>family</th><th>claim</th><th>statement</th>"
        "<th>measured</th><th>threshold</th><th>source</th><th>bugs it detects</th></tr>"
    )
    return f'<table class="claims">{head}{"".join(rows)}</table>'


def timing_html(benchmarks: pd.DataFrame) -> str:
    """Per-rule wall time and peak memory from Snakemake benchmark files.

    ``benchmarks`` has columns ``rule``, ``s`` (wall seconds) and ``max_rss`` (MB), one
    row per job, and where known ``simulation_seconds`` (inside the simulation call),
    ``work_seconds`` (the script's work after its imports) and ``process_seconds`` (the
    job's Python process from its start).
    """
    if benchmarks.empty:
        return "<p>No benchmark files found.</p>"
    per_rule = benchmarks.groupby("rule").agg(
        jobs=("s", "size"), total_s=("s", "sum"), max_s=("s", "max"), peak_mb=("max_rss", "max")
    )
    rows = "".join(
        f"<tr><td>{html.escape(rule)}</td><td class='num'>{int(r.jobs)}</td>"
        f"<td class='num'>{r.total_s:.2f}</td><td class='num'>{r.max_s:.2f}</td>"
        f"<td class='num'>{r.peak_mb:.0f}</td></tr>"
        for rule, r in per_rule.iterrows()
    )

    def column(name):
        return benchmarks.get(name, pd.Series(dtype=float)).sum()

    total = column("process_seconds") or benchmarks.s.sum()
    sim, work = column("simulation_seconds"), column("work_seconds")
    share = (
        f"<p>Job processes ran {total:.1f} s in all: {sim:.1f} s inside simulation code, "
        f"{work - sim:.1f} s of other script work (writing tables, aggregating, plotting, "
        f"reporting) and {total - work:.1f} s ({100 * (1 - work / total):.1f}%) of "
        "interpreter start and imports.</p>"
        if total > 0
        else ""
    )
    head = "<tr><th>rule</th><th>jobs</th><th>total s</th><th>max s</th><th>peak MB</th></tr>"
    family = benchmarks.rule.str.split("_").str[0]
    per_family = benchmarks.groupby(family).s.agg(["size", "sum"])
    family_rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td class='num'>{int(r['size'])}</td>"
        f"<td class='num'>{r['sum']:.1f}</td></tr>"
        for name, r in per_family.iterrows()
    )
    families = (
        "<p>Job time per family (all its rules; the cost of a configuration is predicted "
        "by <code>benchmarks/bench_scaling.py</code> and <code>bench_paper.py</code>):</p>"
        f"<table><tr><th>family</th><th>jobs</th><th>job time s</th></tr>{family_rows}</table>"
    )
    return f"<table>{head}{rows}</table>{share}{families}"


def fill_caption(text: str, config: Mapping) -> str:
    """A caption's reStructuredText with its Jinja fields filled from this run's
    configuration, as ``snakemake --report`` fills them.

    Captions write this run's numbers as ``{{ snakemake.config.<family>.<experiment>.<key> }}``,
    the name Snakemake's own report gives the configuration; a field the configuration
    lacks is an error, not an empty string.
    """
    template = Environment(undefined=StrictUndefined, autoescape=False).from_string(
        caption_body(text)
    )
    return template.render(snakemake=SimpleNamespace(config=config))


def rst_fragment(text: str, halt_level: int = 5) -> str:
    """reStructuredText → an HTML fragment by docutils (the renderer of Snakemake's own
    report). ``halt_level=2`` turns every docutils warning into an error (the tests)."""
    settings = {**DOCUTILS_SETTINGS, "halt_level": halt_level}
    return publish_parts(text, writer="html5", settings_overrides=settings)["fragment"]


def render_caption(text: str, config: Mapping) -> str:
    """A figure caption as HTML: `fill_caption`, then `rst_fragment`."""
    return rst_fragment(fill_caption(text, config))


def science_sections(markdown_text: str) -> dict[str, str]:
    """Each family's section of ``docs/science.md`` as HTML, keyed by the family named in
    its heading (``## F1. Risk curves (`risk`)``); headings move one level down so they
    sit under the report's family heading."""
    sections = {}
    for chunk in re.split(r"(?m)^(?=## )", markdown_text):
        heading = re.match(r"## .*\(`([a-z_]+)`\)", chunk)
        if heading:
            body = re.sub(r"(?m)^(#{2,4}) ", lambda m: "#" * (len(m.group(1)) + 1) + " ", chunk)
            body = body.split("\n", 1)[1] if "\n" in body else ""
            sections[heading.group(1)] = markdown.markdown(body, extensions=["tables"])
    return sections


#: Software named in the report's provenance (PyPI names; ``absent`` if not installed in
#: the job's environment, as Snakemake is in the rules' own conda environment).
REPORTED_SOFTWARE = (
    "numpy",
    "scipy",
    "pandas",
    "pyarrow",
    "matplotlib",
    "seaborn",
    "scikit-learn",
    "snakemake",
    "jinja2",
    "docutils",
    "markdown",
)


def report_versions() -> dict[str, str]:
    """Python and the versions of `REPORTED_SOFTWARE`, after implicit-reg's own."""
    versions = library_versions(REPORTED_SOFTWARE)
    return {
        "implicit-reg": versions.pop("implicit-reg"),
        "python": platform.python_version(),
        **versions,
    }


def origin_text(origin: dict) -> Markup:
    """What made this report: configuration file(s) and ``--config`` overrides, seed, the
    workflow's git commit (and whether its tree had uncommitted changes), date, host and
    the summed wall time of its jobs.

    ``origin`` has the keys ``files``, ``overrides``, ``seed``, ``commit``, ``dirty``,
    ``date``, ``host`` and, where known, ``job_seconds`` (``workflow/scripts/report.py``).
    """
    files = Markup(", ").join(Markup("<code>%s</code>") % f for f in origin.get("files", []))
    overrides = origin.get("overrides") or {}
    given = (
        Markup("; <code>--config</code> ")
        + Markup(", ").join(Markup("<code>%s=%s</code>") % (k, v) for k, v in overrides.items())
        if overrides
        else ""
    )
    commit = origin.get("commit")
    if commit is None:
        source = Markup("not a git checkout")
    else:
        state = " with uncommitted changes" if origin.get("dirty") else ", clean tree"
        source = Markup("git commit <code>%s</code>%s") % (commit[:12], state)
    seconds = origin.get("job_seconds")
    took = Markup("; its jobs ran %.0f s in all") % seconds if seconds else ""
    return Markup("Configuration %s%s; seed %s; %s; made %s on %s%s.") % (
        files or "(none named)",
        given,
        origin.get("seed"),
        source,
        origin.get("date", "?"),
        origin.get("host", "?"),
        took,
    )


def rulegraph_svg(edges: list[tuple[str, str]]) -> Markup:
    """The rule graph as an inline SVG: rules in columns by their longest path from a
    rule without inputs, an arrow per (producer, consumer) edge."""
    rules = list(dict.fromkeys(r for edge in edges for r in edge))
    if not rules:
        return Markup("<p>No rule graph recorded.</p>")
    depth = dict.fromkeys(rules, 0)
    for _ in rules:  # longest path: at most len(rules) relaxations
        for a, b in edges:
            depth[b] = max(depth[b], depth[a] + 1)
    columns: dict[int, list[str]] = {}
    for rule in rules:
        columns.setdefault(depth[rule], []).append(rule)
    width, height, gap_x, gap_y = 150, 24, 50, 10
    place = {
        rule: (c * (width + gap_x) + 5, i * (height + gap_y) + 5)
        for c, column in columns.items()
        for i, rule in enumerate(column)
    }
    lines = [
        f'<line x1="{place[a][0] + width}" y1="{place[a][1] + height / 2}" x2="{place[b][0]}" '
        f'y2="{place[b][1] + height / 2}" marker-end="url(#arrow)"/>'
        for a, b in edges
    ]
    boxes = [
        f'<g><rect x="{x}" y="{y}" width="{width}" height="{height}" rx="5"/>'
        f'<text x="{x + width / 2}" y="{y + height / 2 + 4}">{html.escape(rule)}</text></g>'
        for rule, (x, y) in place.items()
    ]
    w = len(columns) * (width + gap_x)
    h = max(len(c) for c in columns.values()) * (height + gap_y) + 10
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" '
        f'role="img" aria-label="rule graph"><defs><marker id="arrow" viewBox="0 0 10 10" '
        'refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto">'
        '<path d="M0,0 L10,5 L0,10 z"/></marker></defs>'
        f'<g class="edges">{"".join(lines)}</g><g class="rules">{"".join(boxes)}</g></svg>'
    )


#: How the report writes a claim's comparison.
SYMBOLS = {"<=": "≤", ">=": "≥", "<": "<", ">": ">", "==": "="}


def _row(claim, ok: bool, figures: list[dict]) -> dict:
    """One claims-table row for the template, numbers formatted."""
    return {
        "family": claim.family,
        "claim_id": claim.claim_id,
        "statement": claim.statement,
        "source": claim.source,
        "comparison": SYMBOLS.get(claim.comparison, claim.comparison),
        "ok": bool(ok),
        "measured": f"{claim.measured:.6g}",
        "threshold": f"{claim.threshold:.6g}",
        "kind": getattr(claim, "kind", "claim"),
        "anchor": anchor("row", claim.family, claim.claim_id),
        "figures": figures,
        "detects": detects(claim.family, claim.claim_id),
    }


def figure_links(entry: FigureEntry, pdf: bool) -> list[dict]:
    """Links from the report (``results/report/``) to the figure's files and the tables of
    the experiments it is drawn from."""
    family, name = entry.family, entry.name
    links = [{"href": f"../figures/{family}/{name}.png", "label": "PNG"}]
    if pdf:
        links.append({"href": f"../figures/{family}/{name}.pdf", "label": "PDF"})
    for experiment in caption_needs(entry.caption):
        links += [
            {"href": f"../{family}/{experiment}.parquet", "label": f"{experiment}.parquet"},
            {
                "href": f"../{family}/{experiment}_summary.parquet",
                "label": f"{experiment}_summary.parquet",
            },
            {"href": f"../{family}/runs/{experiment}/", "label": "run tables and .npz arrays"},
        ]
    return links


def build_report(
    claims: pd.DataFrame,
    figures: list[FigureEntry],
    diverged: pd.DataFrame,
    config: Mapping,
    origin: dict,
    versions: dict,
    benchmarks: pd.DataFrame,
    skipped: list[tuple[str, str, list[str]]] = (),
    science: Mapping[str, str] | None = None,
    rule_edges: list[tuple[str, str]] = (),
) -> str:
    """The whole report as one HTML document with every image embedded.

    Per family, in the order of `implicit_reg.families.FAMILIES`: its section of ``docs/science.md``
    (``science``, rendered by `science_sections`), then each figure in the given order
    with its caption and, one line each, the claims its caption names ("Supports claims");
    the full claims and checks tables, diverged runs and provenance follow. Failing rows
    are listed first with a link to their figure; a family or figure with a failing row is
    marked. ``skipped`` lists ``(family, figure, missing experiments)`` of figures a partial
    configuration left out.
    """
    science = science or {}
    passed = recompute_passed(claims)
    supported: dict[tuple[str, str], list[dict]] = {}
    for entry in figures:
        for claim_id in caption_claims(entry.caption):
            supported.setdefault((entry.family, claim_id), []).append(
                {"anchor": anchor(entry.family, entry.name), "name": entry.name}
            )
    rows = [
        _row(claim, ok, supported.get((claim.family, claim.claim_id), []))
        for claim, ok in zip(claims.itertuples(), passed, strict=True)
    ]
    claim_rows = [r for r in rows if r["kind"] != "check"]
    check_rows = [r for r in rows if r["kind"] == "check"]
    order = list(FAMILIES)
    names = list(dict.fromkeys([f.family for f in figures] + list(claims.family)))
    names.sort(key=lambda f: order.index(f) if f in order else len(order))
    families = []
    for family in names:
        mine = [r for r in rows if r["family"] == family]
        by_id = {r["claim_id"]: r for r in mine}
        shown = set()
        family_figures = []
        for entry in (f for f in figures if f.family == family):
            ids = [i for i in caption_claims(entry.caption) if i in by_id]
            shown.update(ids)
            family_figures.append(
                {
                    "anchor": anchor(family, entry.name),
                    "name": entry.name,
                    "title": caption_title(entry.caption) or entry.name,
                    "png": base64.b64encode(entry.png).decode("ascii"),
                    "caption": Markup(
                        render_caption(without_claims_paragraph(entry.caption), config)
                    ),
                    "rows": [by_id[i] for i in ids],
                    "failed": any(not by_id[i]["ok"] for i in ids),
                    "links": figure_links(entry, bool(config.get("pdf_figures"))),
                }
            )
        family_claims = [r for r in mine if r["kind"] != "check"]
        family_checks = [r for r in mine if r["kind"] == "check"]
        families.append(
            {
                "name": family,
                "anchor": anchor(family),
                "title": family_title(family) if family in FAMILIES else family,
                "failed": any(not r["ok"] for r in mine),
                "figures": family_figures,
                "science": science.get(family, ""),
                "other_rows": [r for r in mine if r["claim_id"] not in shown],
                "n_claims": len(family_claims),
                "n_claims_ok": sum(r["ok"] for r in family_claims),
                "n_checks": len(family_checks),
                "n_checks_ok": sum(r["ok"] for r in family_checks),
                "skipped": [(name, missing) for fam, name, missing in skipped if fam == family],
            }
        )
    failures = [
        {
            **r,
            "target": r["figures"][0]["anchor"] if r["figures"] else r["anchor"],
            "where": f"{r['family']}, "
            + (", ".join(f["name"] for f in r["figures"]) or "no figure"),
        }
        for r in rows
        if not r["ok"]
    ]
    bad = diverged[diverged.diverged > 0] if len(diverged) else diverged
    config_text = yaml.safe_dump(dict(config), sort_keys=False)
    return TEMPLATES.get_template("report.html.j2").render(
        style=Markup(STYLE),
        families=families,
        failures=failures,
        n_rows=len(rows),
        claim_rows=claim_rows,
        check_rows=check_rows,
        n_claims=len(claim_rows),
        n_claims_ok=sum(r["ok"] for r in claim_rows),
        n_checks=len(check_rows),
        n_checks_ok=sum(r["ok"] for r in check_rows),
        diverged=[r._asdict() for r in bad.itertuples()] if len(bad) else [],
        origin=origin_text(origin),
        versions=versions,
        rulegraph=rulegraph_svg(list(rule_edges)),
        timing=Markup(timing_html(benchmarks)),
        config_text=config_text,
        config_lines=config_text.count("\n"),
    )


def claims_page(claims: pd.DataFrame, version: str) -> str:
    """Claims and consistency checks as one HTML page (the claims item of
    ``snakemake --report``): pass/fail, measured value, threshold, statement, source."""
    claim_rows, check_rows = split_kinds(claims)
    passed = recompute_passed(claims)

    def table(rows: pd.DataFrame) -> str:
        return claims_html(rows) if len(rows) else "<p>None in this configuration.</p>"

    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>implicit-reg claims</title>
<style>{STYLE}</style></head><body>
<p class="summary">{int(passed.sum())} of {len(claims)} rows pass
(implicit-reg {html.escape(version)}).</p>
<h2>Claims</h2>{table(claim_rows)}
<h2>Consistency checks</h2>{table(check_rows)}
</body></html>
"""
