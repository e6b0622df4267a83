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


#: The paper configuration's grids, longer than any figure's list of markers.
PAPER_IMBALANCE_STEPS = [0.1, 0.03, 0.01, 0.003, 0.001, 0.0003, 0.0002]
PAPER_ETA_A = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 1.5, 1.8, 1.9, 1.95]


def test_noise_figures_draw_every_value_of_grids_longer_than_their_markers():
    """A configured grid longer than a figure's marker list (the paper run: 7 step sizes
    of penalized GD, 11 values of ηa) still draws every value, each with a marker."""
    config = load_config(ROOT / "config" / "smoke.yaml")["noise"]
    config["stochastic_approximation"]["factorization"]["imbalance_steps"] = PAPER_IMBALANCE_STEPS
    config["ou"]["scalar"]["eta_a"] = PAPER_ETA_A
    tables = run_family("noise", config, seed=SEEDS["noise"])
    for figure in NOISE_FIGURES.values():
        plt.close(figure(tables))
    fig = NOISE_FIGURES["imbalance_decay"](tables)
    worst_per_step = [line for line in fig.axes[1].get_lines() if line.get_linestyle() == "None"]
    assert len(worst_per_step) == len(PAPER_IMBALANCE_STEPS)
    assert all(line.get_marker() not in (None, "None", "") for line in worst_per_step)
    plt.close(fig)
