"""The HTML report: captions rendered by docutils with this run's numbers, the science
of each family rendered from docs/science.md, failures named first and at their figure."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from implicit_reg.families import FAMILIES
from implicit_reg.workflow.captions import caption_claims, caption_needs, caption_title
from implicit_reg.workflow.report import (
    FigureEntry,
    build_report,
    claims_page,
    fill_caption,
    render_caption,
    rst_fragment,
    rulegraph_svg,
    science_sections,
)

ROOT = Path(__file__).resolve().parents[1]
CAPTIONS = sorted((ROOT / "workflow" / "report").glob("*/*.rst"))
CONFIGS = ["smoke", "config", "paper"]


def shipped(name: str) -> dict:
    return yaml.safe_load((ROOT / "config" / f"{name}.yaml").read_text())


@pytest.mark.parametrize("caption", CAPTIONS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_caption_renders_without_a_docutils_warning(caption):
    text = caption.read_text()
    assert caption_title(text), "a `.. title:` line names the figure for readers"
    for name in CONFIGS:
        config = shipped(name)
        family = config.get(caption.parent.name, {})
        if not set(caption_needs(text)) <= set(family):
            continue  # the figure is not drawn for this configuration
        html = rst_fragment(fill_caption(text, config), halt_level=2)
        assert "{{" not in html and "system-message" not in html


def test_captions_state_this_runs_numbers():
    caption = (ROOT / "workflow" / "report" / "margin" / "soudry_panels.rst").read_text()
    for name in CONFIGS:
        config = shipped(name)
        trials = config["margin"]["soudry"]["n_trials"]
        assert f"the {trials} trials" in render_caption(caption, config)


def test_caption_literals_keep_their_stars():
    html = render_caption("risk ``‖β̂ − β*‖²`` is *small*, **bold**; β* stays", {})
    assert '<span class="docutils literal">‖β̂ − <span class="pre">β*‖²</span></span>' in html
    assert "<em>small</em>" in html and "<strong>bold</strong>" in html
    assert "β* stays" in html


def test_a_missing_configuration_field_is_an_error():
    with pytest.raises(Exception, match="soudry"):
        fill_caption("{{ snakemake.config.margin.soudry.n_trials }} trials", {"margin": {}})


def test_every_family_has_its_science_section():
    sections = science_sections((ROOT / "docs" / "science.md").read_text())
    assert set(sections) == set(FAMILIES)
    assert "<h4>" in sections["risk"] and "Hastie" in sections["risk"]
    assert "<h2>" not in sections["risk"]  # below the report's family heading


def test_rule_graph_draws_every_rule_and_edge():
    svg = rulegraph_svg([("risk_simulate", "risk_summary"), ("risk_summary", "report")])
    assert svg.count("<rect") == 3 and svg.count("<line") == 2


def claims_row(family, claim_id, measured, threshold=1.0, kind="claim"):
    return {
        "family": family,
        "claim_id": claim_id,
        "statement": f"{claim_id} holds",
        "source": "A theorem",
        "measured": measured,
        "threshold": threshold,
        "comparison": "<=",
        "passed": measured <= threshold,
        "kind": kind,
    }


CAPTION = """.. needs: a
.. title: A readable title

The caption, with {{ snakemake.config.risk.a.n_trials }} trials.

Supports claims: ``holds``, ``breaks``.
"""


def report(claims: pd.DataFrame) -> str:
    figures = [
        FigureEntry("risk", "first", b"png", CAPTION),
        FigureEntry("margin", "second", b"png", ".. needs: b\n\nNo claims.\n"),
    ]
    config = {"seed": 1, "pdf_figures": True, "risk": {"a": {"n_trials": 7}}, "margin": {}}
    return build_report(
        claims,
        figures,
        pd.DataFrame(columns=["family", "experiment", "diverged", "rows"]),
        config,
        {"files": ["config/x.yaml"], "seed": 1, "commit": "0" * 40, "dirty": True},
        {"implicit-reg": "0"},
        pd.DataFrame(columns=["rule", "s", "max_rss"]),
        science={"risk": "<p>The science of risk.</p>"},
        rule_edges=[("risk_simulate", "risk_summary")],
    )


def test_a_failing_claim_is_named_at_the_top_and_marked_at_its_figure():
    claims = pd.DataFrame(
        [
            claims_row("risk", "holds", 0.5),
            claims_row("risk", "breaks", 2.0),
            claims_row("margin", "other", 0.1, kind="check"),
        ]
    )
    page = report(claims)
    verdict = page[page.index('class="verdict') : page.index('class="origin"')]
    assert "1 of 3 rows fail" in verdict
    assert re.search(r'href="#risk-first"><code>breaks</code></a> \(risk, first\)', verdict)
    assert '<h2 id="risk" class="fail">' in page and '<h2 id="margin" class="">' in page
    figure = page[page.index('<figure id="risk-first"') : page.index("</figure>")]
    assert 'class="fail"' in figure and "claim fails" in figure
    assert "A readable title" in figure and "with 7 trials" in figure
    assert '<a href="#row-risk-breaks"><code>breaks</code></a>' in figure
    assert 'href="../figures/risk/first.pdf"' in figure and 'href="../risk/a.parquet"' in figure
    assert "The science of risk." in page and "with uncommitted changes" in page
    # The claim without a figure is listed under its family, and in the full tables.
    assert page.index("Claims and checks without a figure") < page.index('id="claims"')
    assert page.count('id="row-risk-breaks"') == 1


def test_everything_passes_says_so():
    page = report(
        pd.DataFrame([claims_row("risk", "holds", 0.5), claims_row("risk", "breaks", 0.5)])
    )
    assert "Everything passes" in page and "rows fail" not in page
    assert 'class="fail"' not in page


def test_claims_page_of_snakemake_report_sizes_its_columns_as_the_report_does():
    """The claims item of ``snakemake --report`` (shown in an iframe narrower than the
    report's column) uses the report's column widths, which fit in 900 px."""
    page = claims_page(pd.DataFrame([claims_row("risk", "holds", 0.5)]), "0")
    assert page.count('<table class="claims">') == 1  # claims; checks: "None"
    rules = re.findall(r"((?:table\.claims th:nth-child\(\d\),?)+)\{width:(\d+)%\}", page)
    columns = {c: int(w) for sel, w in rules for c in re.findall(r"child\((\d)\)", sel)}
    assert sum(w for c, w in columns.items() if c != "9") <= 80  # room for the padding


def test_caption_claims_are_read_in_order():
    text = (ROOT / "workflow" / "report" / "risk" / "double_descent.rst").read_text()
    claims = caption_claims(text)
    assert claims[:2] == ("min_norm_risk_matches_theory", "ridge_risk_matches_theory")
    assert len(claims) == 6


def test_each_claim_names_the_bugs_it_detects():
    from implicit_reg.bugs import detected_bugs
    from implicit_reg.workflow.report import NO_BUG, claims_html

    flipped = next(iter(detected_bugs("margin")))
    claims = pd.DataFrame(
        [claims_row("margin", flipped, 0.5), claims_row("margin", "other", 0.1, kind="check")]
    )
    page = report(claims)
    described = detected_bugs("margin")[flipped][0]
    row = page[page.index('id="row-margin-' + flipped.replace("_", "-")) :]
    assert html.escape(described) in row[: row.index("</tr>")]
    other = page[page.index('id="row-margin-other"') :]
    assert NO_BUG in other[: other.index("</tr>")]
    table = claims_html(claims)
    assert html.escape(described) in table and NO_BUG in table
