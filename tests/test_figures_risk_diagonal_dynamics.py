"""What a reader sees in the risk, diagonal and dynamics figures, checked on the smoke
run's tables: text is readable at the report's width, math is mathtext (no TeX or
underscores typed outside ``$…$``), legends lie outside every panel, and the panels that
show a claim's statistic draw it against the claim's threshold."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest

from implicit_reg.diagonal.figures import FIGURES as DIAGONAL_FIGURES
from implicit_reg.dynamics.claims import pl_interval_rates
from implicit_reg.dynamics.figures import FIGURES as DYNAMICS_FIGURES
from implicit_reg.experiment import run_family
from implicit_reg.risk.figures import FIGURES as RISK_FIGURES
from implicit_reg.workflow.configcheck import load_config

ROOT = Path(__file__).resolve().parents[1]
FIGURES = {"risk": RISK_FIGURES, "diagonal": DIAGONAL_FIGURES, "dynamics": DYNAMICS_FIGURES}
CASES = [(family, name) for family, figures in FIGURES.items() for name in figures]
#: The report shows a figure at most 1100 px wide; text smaller than this is hard to read.
REPORT_PX, SMALLEST_TEXT_PX = 1100, 9.0


@pytest.fixture(scope="module")
def tables():
    config = load_config(ROOT / "config" / "smoke.yaml")
    return {family: run_family(family, config[family], seed=3) for family in FIGURES}


@pytest.fixture(params=CASES, ids=["/".join(c) for c in CASES])
def drawn(request, tables):
    family, name = request.param
    fig = FIGURES[family][name](tables[family])
    fig.canvas.draw()
    yield fig
    plt.close(fig)


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(plt.Text) if t.get_visible() and t.get_text()]


def test_text_readable_at_report_width(drawn):
    renderer = drawn.canvas.get_renderer()
    width_px = drawn.get_tightbbox(renderer).width * drawn.dpi
    shrink = min(1.0, REPORT_PX / width_px)
    texts = [t for t in drawn.findobj(plt.Text) if t.get_visible() and t.get_text()]
    smallest = min(t.get_fontsize() for t in texts) * drawn.dpi / 72 * shrink
    assert smallest >= SMALLEST_TEXT_PX


def test_math_is_mathtext(drawn):
    typed = [re.sub(r"\$[^$]*\$", "", text) for text in _texts(drawn)]
    assert not [t for t in typed if re.search(r"_|\^\{|\\[a-z]+", t)]


def test_legends_outside_the_panels(drawn):
    renderer = drawn.canvas.get_renderer()
    legends = [ax.get_legend() for ax in drawn.axes if ax.get_legend()] + drawn.legends
    panels = [ax.get_window_extent(renderer) for ax in drawn.axes if ax.axison]
    for legend in legends:
        box = legend.get_window_extent(renderer)
        assert not any(box.overlaps(panel) for panel in panels)


def _horizontal_levels(ax) -> list[float]:
    return [
        float(line.get_ydata()[0])
        for line in ax.lines
        if len(set(np.ravel(line.get_ydata()))) == 1 and len(line.get_ydata()) == 2
    ]


def test_lazy_training_draws_the_pl_claim_statistic_against_its_threshold(tables):
    table = tables["dynamics"]["lazy_training"]
    fig = DYNAMICS_FIGURES["lazy_training"](tables["dynamics"])
    right = fig.axes[1]
    rates = pl_interval_rates(table[~table.diverged])
    widest = rates[rates.width == rates.width.max()]
    drawn_rates = np.concatenate([line.get_ydata() for line in right.lines])
    assert np.isin(widest.rate.to_numpy(), drawn_rates).all()
    assert 1.0 in _horizontal_levels(right)
    plt.close(fig)


def test_linear_nets_shows_the_plateau_on_a_linear_axis(tables):
    fig = DYNAMICS_FIGURES["linear_nets"](tables["dynamics"])
    scales = [ax.get_yscale() for ax in fig.axes]
    assert len(fig.axes) == 4 and scales.count("linear") == 1
    plateau = fig.axes[scales.index("linear")]
    low, high = plateau.get_ylim()
    assert all(low < level < high for level in _horizontal_levels(plateau))
    plt.close(fig)


def test_norm_excess_points_lie_on_the_identity(tables):
    fig = RISK_FIGURES["norm_excess"](tables["risk"])
    left = fig.axes[0]
    identity = [line for line in left.lines if np.allclose(line.get_xdata(), line.get_ydata())]
    assert identity
    for points in left.collections:
        x, y = np.asarray(points.get_offsets()).T
        assert np.allclose(x, y, rtol=1e-3)
    plt.close(fig)
