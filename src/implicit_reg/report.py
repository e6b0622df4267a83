"""The self-contained HTML report: claims, figures with captions, provenance.

Pure functions from in-memory data to HTML text; the report script reads the files.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass

import pandas as pd

from implicit_reg.captions import caption_body
from implicit_reg.claims import recompute_passed

FAMILY_TITLES = {
    "risk": "F1. Risk curves: minimum norm, double descent, early stopping",
    "margin": "F2. Margin convergence: gradient descent finds the max-margin direction",
    "diagonal": "F3. The ℓ1 ↔ ℓ2 crossover: diagonal linear networks",
    "bounds": "F4. Generalization bounds against measured gaps",
    "noise": "F5. Noise: OU fluctuations, stochastic approximation, label noise",
    "dynamics": "F6. Dynamics: how the trajectory picks the solution",
}

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.7em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;font-size:.85em;margin:1em 0;width:100%}
th,td{border:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.num{text-align:right;font-family:monospace;white-space:nowrap}
tr.pass td.status{background:#d9f2d9;color:#1a6b1a;font-weight:bold}
tr.fail td.status{background:#f8d4d4;color:#a31515;font-weight:bold}
figure{margin:1.5em 0}figure img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.9em;color:#444;margin-top:.4em}
.note{background:#fff6dd;border-left:4px solid #e0b000;padding:.5em 1em}
.summary{font-size:1.1em}pre{background:#f7f7f7;padding:.8em;overflow-x:auto;font-size:.8em}
nav ul{columns:2}code{background:#f3f3f3;padding:0 .2em}
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


def rst_to_html(text: str) -> str:
    """Minimal reStructuredText → HTML for captions: paragraphs, ``code``, *emphasis*, **bold**."""
    out = []
    for paragraph in re.split(r"\n\s*\n", caption_body(text).strip()):
        joined = " ".join(line.strip() for line in paragraph.splitlines())
        # Literals first: a star inside ``β*`` is text, not emphasis.
        pieces = re.split(r"``(.+?)``", joined)
        for i, piece in enumerate(pieces):
            piece = html.escape(piece)
            if i % 2:
                pieces[i] = f"<code>{piece}</code>"
                continue
            piece = re.sub(r"\*\*(\S.*?\S|\S)\*\*", r"<strong>\1</strong>", piece)
            pieces[i] = re.sub(r"(?<![\w*])\*(\S.*?\S|\S)\*(?![\w*])", r"<em>\1</em>", piece)
        out.append(f"<p>{''.join(pieces)}</p>")
    return "\n".join(out)


def anchor(*parts: str) -> str:
    return "-".join(re.sub(r"[^a-z0-9]+", "-", p.lower()).strip("-") for p in parts)


def split_kinds(claims: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(claims, checks)``: rows of kind ``claim`` and of kind ``check``.

    A table written before the ``kind`` column existed counts as claims only.
    """
    kind = claims["kind"] if "kind" in claims else pd.Series("claim", index=claims.index)
    return claims[kind != "check"], claims[kind == "check"]


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
            f"<td>{html.escape(claim.source)}</td></tr>"
        )
    head = (
        "<tr><th>status</th><th>family</th><th>claim</th><th>statement</th>"
        "<th>measured</th><th>threshold</th><th>source</th></tr>"
    )
    return f"<table>{head}{''.join(rows)}</table>"


def figure_html(entry: FigureEntry) -> str:
    data = base64.b64encode(entry.png).decode("ascii")
    return (
        f'<figure id="{anchor(entry.family, entry.name)}">'
        f'<img alt="{html.escape(entry.name)}" src="data:image/png;base64,{data}">'
        f"<figcaption><strong>{html.escape(entry.name)}.</strong> "
        f"{rst_to_html(entry.caption)}</figcaption></figure>"
    )


def divergence_html(diverged: pd.DataFrame) -> str:
    """A note per experiment with diverged rows (columns family, experiment, diverged, rows)."""
    bad = diverged[diverged.diverged > 0]
    if bad.empty:
        return "<p>No run diverged.</p>"
    items = "".join(
        f"<li>{html.escape(r.family)}/{html.escape(r.experiment)}: {int(r.diverged)} of "
        f"{int(r.rows)} rows diverged (a step size above its stability limit, on purpose "
        "where the experiment locates that limit, or an overflow); they are left out of "
        "the figures, and a claim that needs them fails.</li>"
        for r in bad.itertuples()
    )
    return f'<div class="note"><ul>{items}</ul></div>'


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


def versions_html(versions: dict) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>"
        for k, v in versions.items()
    )
    return f"<table><tr><th>package</th><th>version</th></tr>{rows}</table>"


def origin_html(origin: dict) -> str:
    """What made this report: configuration file(s) and ``--config`` overrides, seed, the
    workflow's git commit (and whether its tree had uncommitted changes), date and host.

    ``origin`` has the keys ``files``, ``overrides``, ``seed``, ``commit``, ``dirty``,
    ``date`` and ``host`` (``workflow/scripts/report.py``).
    """
    files = ", ".join(f"<code>{html.escape(str(f))}</code>" for f in origin.get("files", []))
    overrides = origin.get("overrides") or {}
    given = (
        "; <code>--config</code> "
        + ", ".join(f"<code>{html.escape(f'{k}={v}')}</code>" for k, v in overrides.items())
        if overrides
        else ""
    )
    commit = origin.get("commit")
    if commit is None:
        source = "not a git checkout"
    else:
        state = " with uncommitted changes" if origin.get("dirty") else ", clean tree"
        source = f"git commit <code>{html.escape(commit[:12])}</code>{state}"
    return (
        f'<p class="origin">Configuration {files or "(none named)"}{given}; seed '
        f"{html.escape(str(origin.get('seed')))}; {source}; made "
        f"{html.escape(str(origin.get('date', '?')))} on "
        f"{html.escape(str(origin.get('host', '?')))}.</p>"
    )


def build_report(
    claims: pd.DataFrame,
    figures: list[FigureEntry],
    diverged: pd.DataFrame,
    config_text: str,
    origin: dict,
    versions: dict,
    benchmarks: pd.DataFrame,
    skipped: list[tuple[str, str, list[str]]] = (),
) -> str:
    """The whole report as one HTML document with every image embedded.

    ``origin`` says what made the report (`origin_html`). ``skipped`` lists ``(family,
    figure, missing experiments)`` of figures a partial configuration left out; each
    family's section names them.
    """
    passed = recompute_passed(claims)
    claim_rows, check_rows = split_kinds(claims)
    n_claims_ok = int(recompute_passed(claim_rows).sum())
    n_checks_ok = int(recompute_passed(check_rows).sum())
    families = list(dict.fromkeys([f.family for f in figures] + list(claims.family)))
    # F1 … F6 in order, whatever the order of the configuration's sections.
    order = list(FAMILY_TITLES)
    families.sort(key=lambda f: order.index(f) if f in order else len(order))
    toc = [
        "<li><a href='#claims'>Claims</a></li>",
        "<li><a href='#checks'>Consistency checks</a></li>",
    ]
    body = []
    for family in families:
        title = FAMILY_TITLES.get(family, family)
        toc.append(f"<li><a href='#{anchor(family)}'>{html.escape(title)}</a><ul>")
        body.append(f"<h2 id='{anchor(family)}'>{html.escape(title)}</h2>")
        fam_claims, fam_checks = split_kinds(claims[claims.family == family])
        body.append(
            f"<p>{int(recompute_passed(fam_claims).sum())} of {len(fam_claims)} claims and "
            f"{int(recompute_passed(fam_checks).sum())} of {len(fam_checks)} consistency "
            "checks pass.</p>"
        )
        for entry in (f for f in figures if f.family == family):
            toc.append(f"<li><a href='#{anchor(family, entry.name)}'>{entry.name}</a></li>")
            body.append(figure_html(entry))
        left_out = [
            f"<li><code>{html.escape(name)}</code>: needs "
            f"{', '.join(html.escape(m) for m in missing)}, not in the configuration</li>"
            for fam, name, missing in skipped
            if fam == family
        ]
        if left_out:
            body.append(f'<div class="note">Figures skipped:<ul>{"".join(left_out)}</ul></div>')
        toc.append("</ul></li>")
    toc.append("<li><a href='#provenance'>Provenance</a></li>")
    status = (
        "everything passes"
        if passed.all()
        else f"<span style='color:#a31515'>{int((~passed).sum())} row(s) fail</span>"
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>implicit-reg report</title>
<style>{STYLE}</style></head><body>
<h1>Implicit regularization: the report</h1>
<p class="summary">{n_claims_ok} of {len(claim_rows)} claims and {n_checks_ok} of
{len(check_rows)} consistency checks pass: {status}.</p>
{origin_html(origin)}
<p>Each figure is drawn from Parquet tables under <code>results/</code>; each claim
is recomputed from them and checked against the threshold its source states. Each
experiment's model, exact reference, claims and sources are in
<a href="../../docs/science.md"><code>docs/science.md</code></a> of the repository.</p>
<nav><h2>Contents</h2><ul>{"".join(toc)}</ul></nav>
<h2 id="claims">Claims</h2>
<p>A claim compares the simulation with an exact reference or a theorem: it would fail if
the simulation were wrong.</p>{claims_html(claim_rows)}
<h2 id="checks">Consistency checks</h2>
<p>A consistency check holds by construction of the code (an identity, two closed forms
compared, a solver's own optimality residual); it is not evidence for the science, only a
guard against bugs. Strict mode fails on checks as on claims.</p>{claims_html(check_rows)}
<h3>Diverged runs</h3>{divergence_html(diverged)}
{"".join(body)}
<h2 id="provenance">Provenance</h2>
<p>implicit-reg {html.escape(str(versions.get("implicit-reg", "?")))}</p>
<h3>Versions</h3>{versions_html(versions)}
<h3>Wall time and peak memory per rule</h3>{timing_html(benchmarks)}
<h3>Configuration</h3><pre>{html.escape(config_text)}</pre>
</body></html>
"""


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
