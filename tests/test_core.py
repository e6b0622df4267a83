"""Claims, seeding, checkpoints, grid expansion, summaries and tables."""

import math

import numpy as np
import pandas as pd
import pytest

from implicit_reg.claims import Claim, claims_table, passes, recompute_passed
from implicit_reg.experiment import summarize
from implicit_reg.grid import grid_points
from implicit_reg.schedule import log_checkpoints
from implicit_reg.seeding import generator, spawn_key
from implicit_reg.tables import provenance, read_provenance, read_table, write_table


@pytest.mark.parametrize(
    ("measured", "comparison", "threshold", "expected"),
    [
        (1.0, "<=", 1.0, True),
        (1.1, "<=", 1.0, False),
        (2.0, ">=", 1.0, True),
        (0.5, ">=", 1.0, False),
        (math.nan, "<=", 1.0, False),
        (math.inf, ">=", 1.0, False),
    ],
)
def test_passes(measured, comparison, threshold, expected):
    assert passes(measured, comparison, threshold) is expected


def test_claim_rejects_bad_comparison_and_id():
    with pytest.raises(ValueError, match="comparison"):
        Claim("risk", "x", "s", "src", 1.0, 1.0, "<")
    with pytest.raises(ValueError, match="snake_case"):
        Claim("risk", "Bad Id", "s", "src", 1.0, 1.0, "<=")


def test_claims_table_computes_passed_and_rejects_duplicates():
    claims = [
        Claim("risk", "a", "s", "src", 0.5, 1.0, "<="),
        Claim("risk", "b", "s", "src", 0.5, 1.0, ">="),
    ]
    table = claims_table(claims)
    assert list(table.passed) == [True, False]
    table.loc[1, "passed"] = True  # a stored flag is never trusted
    assert list(recompute_passed(table)) == [True, False]
    with pytest.raises(ValueError, match="duplicate"):
        claims_table(claims + claims[:1])


def test_generator_depends_only_on_seed_and_key():
    a = generator(1, "risk", "min_norm", "n_samples=50").random(3)
    b = generator(1, "risk", "min_norm", "n_samples=50").random(3)
    c = generator(1, "risk", "min_norm", "n_samples=51").random(3)
    d = generator(2, "risk", "min_norm", "n_samples=50").random(3)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c) and not np.allclose(a, d)
    assert spawn_key("x") == spawn_key("x") and len(spawn_key("x")) == 8


def test_log_checkpoints():
    steps = log_checkpoints(1000, 10)
    assert steps[0] == 0 and steps[-1] == 1000
    assert np.all(np.diff(steps) > 0)
    assert list(log_checkpoints(3, 10)) == [0, 1, 2, 3]


def test_grid_points_expand_axes_and_keep_shared_keys():
    spec = {"grid": {"a": [1, 2], "b": [0.5]}, "c": 3}
    points = dict(grid_points(spec))
    assert points == {
        "a=1_b=0.5": {"c": 3, "a": 1, "b": 0.5},
        "a=2_b=0.5": {"c": 3, "a": 2, "b": 0.5},
    }
    assert dict(grid_points({"c": 1})) == {"all": {"c": 1}}


def test_summarize_means_and_intervals():
    trials = pd.DataFrame(
        {
            "k": [1, 1, 2, 2],
            "trial": [0, 1, 0, 1],
            "v": [1.0, 3.0, 5.0, 5.0],
            "diverged": [False, True, False, False],
        }
    )
    s = summarize(trials, ("k",))
    assert list(s.v_mean) == [2.0, 5.0]
    # Student's t with 1 degree of freedom: t_0.975 = 12.706 (the normal 1.96 understates).
    assert s.v_ci95[0] == pytest.approx(12.7062047 * np.sqrt(2) / np.sqrt(2))
    assert list(s.diverged_mean) == [0.5, 0.0]


def test_claim_kind_is_claim_or_check():
    assert Claim("risk", "a", "s", "src", 0.5, 1.0, "<=").kind == "claim"
    table = claims_table([Claim("risk", "a", "s", "src", 0.5, 1.0, "<=", kind="check")])
    assert list(table.kind) == ["check"]
    with pytest.raises(ValueError, match="kind"):
        Claim("risk", "a", "s", "src", 0.5, 1.0, "<=", kind="maybe")


def test_caption_needs_names_experiments():
    from implicit_reg.captions import caption_body, caption_needs

    text = ".. needs: a, b_c\n\nThe caption.\n"
    assert caption_needs(text) == ("a", "b_c")
    assert caption_needs("No line.") == ()
    assert caption_body(text).strip() == "The caption."


def test_tables_round_trip_with_provenance(tmp_path):
    table = pd.DataFrame({"a": [1, 2], "b": [0.5, 1.5]})
    meta = provenance({"risk": {"x": 1}}, 7)
    write_table(table, tmp_path / "t.parquet", meta)
    pd.testing.assert_frame_equal(read_table(tmp_path / "t.parquet"), table)
    stored = read_provenance(tmp_path / "t.parquet")
    assert stored["seed"] == 7 and stored["config"] == {"risk": {"x": 1}}
    assert "numpy" in stored["versions"]


def test_grid_points_are_canonical_whatever_the_key_order():
    from implicit_reg.grid import canonical

    a = {"grid": {"x": [1]}, "b": {"q": 1, "p": [{"z": 1, "y": 2}]}, "a": 2}
    b = {"a": 2, "b": {"p": [{"y": 2, "z": 1}], "q": 1}, "grid": {"x": [1]}}
    assert repr(dict(grid_points(a))) == repr(dict(grid_points(b)))
    assert list(canonical(a)) == ["a", "b", "grid"]


def test_caption_literals_keep_their_stars():
    from implicit_reg.report import rst_to_html

    html = rst_to_html("risk ``‖β̂ − β*‖²`` is *small*, **bold**; β* stays")
    assert "<code>‖β̂ − β*‖²</code>" in html
    assert "<em>small</em>" in html and "<strong>bold</strong>" in html
    assert "β* stays" in html


def test_plain_log_labels():
    from implicit_reg.plotting import power_label

    assert power_label(0.01) == "10⁻²"
    assert power_label(1.0) == "10⁰"
    assert power_label(2000.0) == "2×10³"
    assert power_label(0.0) == ""
    # A base-2 axis (widths 2⁶ … 2¹⁴) is labelled in powers of two, not 6.4×10¹.
    assert power_label(64.0, base=2) == "2⁶"
    assert power_label(16384.0, base=2) == "2¹⁴"


def test_base2_log_axis_labels():
    from implicit_reg.plotting import plain_log_labels, subplots

    fig, ax = subplots()
    ax.plot([64, 16384], [1, 2])
    ax.set_xscale("log", base=2)
    plain_log_labels(fig)
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert "2¹⁰" in labels and not any("×" in text for text in labels)


def test_sequential_colours_are_ordered_and_skip_the_ends():
    from implicit_reg.plotting import sequential

    colours = sequential(3)
    assert len(colours) == 3 and len(set(colours)) == 3
    # viridis runs from dark to light: the lightness of the samples increases.
    assert sum(colours[0][:3]) < sum(colours[1][:3]) < sum(colours[2][:3])
