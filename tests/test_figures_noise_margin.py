"""What a reader sees in the noise, margin and bounds figures, checked on the smoke run's
tables: the figure fits the report's column, exact references lie above the data, legends
lie outside every panel, and math is rendered (no raw TeX sub- or superscripts, no math
symbols outside mathtext)."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from implicit_reg.bounds.figures import FIGURES as BOUNDS_FIGURES
from implicit_reg.experiment import run_family
from implicit_reg.margin.figures import FIGURES as MARGIN_FIGURES
from implicit_reg.noise.figures import FIGURES as NOISE_FIGURES
from implicit_reg.plotting import THEORY
from implicit_reg.workflow.configcheck import load_config

ROOT = Path(__file__).resolve().parents[1]
#: The report's column (``max-width: 1100px``): a wider figure is shrunk and its text with it.
COLUMN_PX = 1100
#: ``x_{k}``, ``e^{2k}``: TeX written outside ``$…$`` is printed as typed.
RAW_TEX = re.compile(r"[_^]\{")
#: Greek letters, norms, operators and TeX's sub- and superscript marks: math that is
#: typeset only inside ``$…$`` (tick labels such as ``10⁻²`` use Unicode superscripts).
MATH_OUTSIDE_MATHTEXT = re.compile(r"[α-ωΑ-Ω‖∝≤≥∇Σ√⊙∈_^]")
FIGURES = {"margin": MARGIN_FIGURES, "noise": NOISE_FIGURES, "bounds": BOUNDS_FIGURES}
SEEDS = {"margin": 0, "noise": 7, "bounds": 0}
CASES = [(family, name) for family, figures in FIGURES.items() for name in figures]
#: Families whose black lines are exact references (in the bounds figures black is a
#: computed term or an error bar, not a theory line).
WITH_REFERENCES = {"margin", "noise"}


@pytest.fixture(scope="module")
def smoke_tables():
    config = load_config(ROOT / "config" / "smoke.yaml")
    return {family: run_family(family, config[family], seed=SEEDS[family]) for family in FIGURES}


@pytest.fixture(params=CASES, ids=["/".join(c) for c in CASES])
def drawn(request, smoke_tables):
    family, name = request.param
    fig = FIGURES[family][name](smoke_tables[family])
    fig.canvas.draw()
    fig.family = family
    yield fig
    plt.close(fig)


def _outside_math(text: str) -> str:
    return re.sub(r"\$[^$]*\$", "", text)


def test_fits_the_report_column(drawn):
    renderer = drawn.canvas.get_renderer()
    width_px = drawn.get_tightbbox(renderer).width * drawn.dpi
    assert width_px <= COLUMN_PX + 5


def test_no_raw_tex(drawn):
    texts = [t.get_text() for t in drawn.findobj(plt.Text)]
    raw = [t for t in texts if RAW_TEX.search(_outside_math(t))]
    assert not raw


def test_math_only_as_mathtext(drawn):
    texts = [t.get_text() for t in drawn.findobj(plt.Text)]
    raw = [t for t in texts if MATH_OUTSIDE_MATHTEXT.search(_outside_math(t))]
    assert not raw


def test_theory_lines_above_the_data(drawn):
    if drawn.family not in WITH_REFERENCES:
        pytest.skip("no exact references drawn in black")
    for ax in drawn.axes:
        black = [line for line in ax.lines if line.get_color() in ("black", "k")]
        data = [line for line in ax.lines if line.get_color() not in ("black", "k", "grey")]
        data += list(ax.collections)
        if black and data:
            assert min(b.get_zorder() for b in black) >= THEORY["zorder"]
            assert max(d.get_zorder() for d in data) < THEORY["zorder"]


def test_legends_outside_the_panels(drawn):
    renderer = drawn.canvas.get_renderer()
    legends = [ax.get_legend() for ax in drawn.axes if ax.get_legend()] + drawn.legends
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in drawn.axes:
            if ax.axison:
                assert not box.overlaps(ax.get_window_extent(renderer))
