"""Robustness of the claims across seeds: the combined table and its HTML page.

`make robustness` runs the configuration at ``K`` independent seeds (replicates,
`implicit_reg.workflow.replicates`); each replicate evaluates every claim on its own
tables. A claim is robust when it passes at every seed: a pass at one seed only may be
luck of that seed's draws. Per claim this module gives the passes out of ``K``, the
worst seed (the one closest to failing, or furthest beyond) and a strip of the per-seed
values against the threshold.

Pure functions from in-memory tables to tables and HTML text; the job script
(``workflow/scripts/robustness.py``) reads and writes the files.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence

import pandas as pd
from markupsafe import Markup

from implicit_reg.claims import recompute_passed
from implicit_reg.workflow.report import STYLE, SYMBOLS, TEMPLATES

#: Columns of ``results/robustness/claims.parquet``: one row per (claim, seed).
SEED_COLUMNS = (
    "claim",
    "kind",
    "family",
    "seed",
    "measured",
    "comparison",
    "threshold",
    "passed",
)


def seed_rows(claims: pd.DataFrame, seed: int) -> pd.DataFrame:
    """One replicate's claims table (`implicit_reg.claims.CLAIM_COLUMNS`) as rows of the
    combined table: ``claim`` is the ``claim_id``, ``passed`` recomputed from measured,
    comparison and threshold (never the stored flag)."""
    kind = claims["kind"] if "kind" in claims else pd.Series("claim", index=claims.index)
    rows = pd.DataFrame(
        {
            "claim": claims["claim_id"].astype(str),
            "kind": kind.astype(str),
            "family": claims["family"].astype(str),
            "seed": int(seed),
            "measured": claims["measured"].astype(float),
            "comparison": claims["comparison"].astype(str),
            "threshold": claims["threshold"].astype(float),
            "passed": recompute_passed(claims),
        }
    )
    return rows[list(SEED_COLUMNS)].reset_index(drop=True)


def combined_claims(tables: Mapping[int, pd.DataFrame]) -> pd.DataFrame:
    """Seed -> that replicate's claims table, as one table of `SEED_COLUMNS`, in the
    order of the seeds given and, within a seed, of its table."""
    frames = [seed_rows(table, seed) for seed, table in tables.items()]
    if not frames:
        return pd.DataFrame({name: [] for name in SEED_COLUMNS})
    return pd.concat(frames, ignore_index=True)


def slack(measured: float, comparison: str, threshold: float) -> float:
    """How far a value is from failing, positive when it passes.

    ``threshold - measured`` for ``<=``, ``measured - threshold`` for ``>=``, divided by
    ``|threshold|`` when the threshold is not zero (so that claims of different scales
    compare); minus infinity for a value that is not a number (it fails).
    """
    if not math.isfinite(measured):
        return -math.inf
    gap = threshold - measured if comparison in ("<=", "<") else measured - threshold
    return gap / abs(threshold) if threshold != 0 else gap


def ratio(measured: float, threshold: float) -> float:
    """``measured / threshold``: at most 1 passes a ``<=`` claim, at least 1 a ``>=``
    claim (for a positive threshold); NaN for a zero threshold."""
    return measured / threshold if threshold != 0 else math.nan


def robustness_summary(combined: pd.DataFrame, seeds: Sequence[int]) -> pd.DataFrame:
    """One row per claim: passes out of ``len(seeds)``, the worst seed and its values.

    Columns: ``family``, ``claim``, ``kind``, ``comparison``, ``passes``, ``replicates``
    (``K``), ``robust`` (passes at all ``K``), ``worst_seed`` (smallest `slack`),
    ``worst_measured``, ``worst_threshold``, ``worst_ratio`` (`ratio` at the worst seed).
    A seed at which a claim is absent counts as a failure. Rows: the claims that pass
    at fewer than ``K`` seeds first (fewest passes first), then the robust ones, each
    group in the order the claims first appear in ``combined``.
    """
    wanted = set(seeds)
    rows = []
    groups = combined[combined.seed.isin(wanted)].groupby(
        ["family", "claim"], sort=False, dropna=False
    )
    for (family, claim), group in groups:
        slacks = [
            slack(m, c, t)
            for m, c, t in zip(group.measured, group.comparison, group.threshold, strict=True)
        ]
        worst = group.iloc[min(range(len(slacks)), key=slacks.__getitem__)]
        passes = int(group.passed.sum())
        rows.append(
            {
                "family": family,
                "claim": claim,
                "kind": worst.kind,
                "comparison": worst.comparison,
                "passes": passes,
                "replicates": len(seeds),
                "robust": passes == len(seeds),
                "worst_seed": int(worst.seed),
                "worst_measured": float(worst.measured),
                "worst_threshold": float(worst.threshold),
                "worst_ratio": ratio(float(worst.measured), float(worst.threshold)),
            }
        )
    summary = pd.DataFrame(rows)
    if summary.empty:
        return summary
    order = sorted(
        range(len(summary)),
        key=lambda i: (bool(summary.robust[i]), int(summary.passes[i]), i),
    )
    return summary.iloc[order].reset_index(drop=True)


#: Size of a strip (pixels) and its horizontal margin.
STRIP_WIDTH, STRIP_HEIGHT, STRIP_MARGIN = 260, 26, 8
PASS_COLOUR, FAIL_COLOUR, THRESHOLD_COLOUR = "#1a6b1a", "#a31515", "#444"


def strip_scale(values: Sequence[float]) -> tuple[bool, float, float]:
    """``(log, low, high)`` of a strip's axis over ``values`` (the finite ones): a log
    axis when all are positive and span more than a factor 10, padded by 5 % either side."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return False, -1.0, 1.0
    log = min(finite) > 0 and max(finite) / min(finite) > 10
    points = [math.log10(v) for v in finite] if log else finite
    low, high = min(points), max(points)
    pad = 0.05 * (high - low) if high > low else (abs(low) or 1.0) * 0.05
    return log, low - pad, high + pad


def strip_svg(seeds: pd.DataFrame, threshold: float, comparison: str) -> Markup:
    """A strip of the per-seed values against the threshold, as inline SVG: a vertical
    line at ``threshold`` (the worst seed's), the failing side shaded red, one dot per
    row of ``seeds`` (`SEED_COLUMNS`; green when that seed passes, red when not; its
    seed, value and threshold in a tooltip). Non-finite values are drawn as a red cross
    at the failing end."""
    measured = [float(v) for v in seeds.measured]
    log, low, high = strip_scale([*measured, threshold])
    span = STRIP_WIDTH - 2 * STRIP_MARGIN

    def x(value: float) -> float:
        point = math.log10(value) if log else value
        return STRIP_MARGIN + span * (point - low) / (high - low)

    fails_above = comparison in ("<=", "<")
    line = x(threshold)
    shade_from, shade_to = (line, STRIP_WIDTH) if fails_above else (0.0, line)
    middle = STRIP_HEIGHT / 2
    parts = [
        f'<rect x="{shade_from:.1f}" y="0" width="{shade_to - shade_from:.1f}" '
        f'height="{STRIP_HEIGHT}" fill="#f8d4d4"/>',
        f'<line x1="{STRIP_MARGIN}" y1="{middle}" x2="{STRIP_WIDTH - STRIP_MARGIN}" '
        f'y2="{middle}" stroke="#ccc"/>',
        f'<line x1="{line:.1f}" y1="2" x2="{line:.1f}" y2="{STRIP_HEIGHT - 2}" '
        f'stroke="{THRESHOLD_COLOUR}" stroke-width="2"><title>threshold '
        f"{html.escape(SYMBOLS.get(comparison, comparison))} {threshold:.6g}</title></line>",
    ]
    symbol = html.escape(SYMBOLS.get(comparison, comparison))
    rows = zip(measured, seeds.seed, seeds.threshold, seeds.passed, strict=True)
    for value, seed, own_threshold, ok in rows:
        tip = f"seed {seed}: {value:.6g} (required {symbol} {own_threshold:.6g})"
        if not math.isfinite(value):
            end = STRIP_WIDTH - 4 if fails_above else 4
            parts.append(
                f'<text x="{end}" y="{middle + 4}" fill="{FAIL_COLOUR}" '
                f'text-anchor="middle" font-size="12">×<title>{tip}</title></text>'
            )
            continue
        colour = PASS_COLOUR if ok else FAIL_COLOUR
        parts.append(
            f'<circle cx="{x(value):.1f}" cy="{middle}" r="4" fill="{colour}" '
            f'fill-opacity="0.7"><title>{tip}</title></circle>'
        )
    axis = "log axis" if log else "linear axis"
    return Markup(
        f'<svg class="strip" width="{STRIP_WIDTH}" height="{STRIP_HEIGHT}" '
        f'viewBox="0 0 {STRIP_WIDTH} {STRIP_HEIGHT}" role="img" '
        f'aria-label="per-seed values, {axis}">{"".join(parts)}</svg>'
    )


def page_rows(combined: pd.DataFrame, summary: pd.DataFrame) -> list[dict]:
    """The rows of the robustness page, in the order of ``summary``, numbers formatted
    and each with its strip."""
    rows = []
    for row in summary.itertuples():
        values = combined[(combined.family == row.family) & (combined.claim == row.claim)]
        rows.append(
            {
                "family": row.family,
                "claim": row.claim,
                "kind": row.kind,
                "robust": bool(row.robust),
                "passes": row.passes,
                "replicates": row.replicates,
                "worst_seed": row.worst_seed,
                "worst_measured": f"{row.worst_measured:.6g}",
                "comparison": SYMBOLS.get(row.comparison, row.comparison),
                "worst_threshold": f"{row.worst_threshold:.6g}",
                "worst_ratio": "—" if math.isnan(row.worst_ratio) else f"{row.worst_ratio:.3g}",
                "strip": strip_svg(values, row.worst_threshold, row.comparison),
            }
        )
    return rows


def origin_lines(origin: Mapping[str, object]) -> list[str]:
    """``name: value`` lines of the run's origin; a list joined by commas, a mapping as
    ``key=value`` pairs (the ``--config`` overrides), an empty one as "none"."""
    lines = []
    for name, value in origin.items():
        if isinstance(value, Mapping):
            value = ", ".join(f"{key}={item}" for key, item in value.items()) or "none"
        elif isinstance(value, list | tuple):
            value = ", ".join(map(str, value)) or "none"
        lines.append(f"{name}: {value}")
    return lines


def robustness_page(
    combined: pd.DataFrame, seeds: Sequence[int], origin: Mapping[str, object]
) -> str:
    """The robustness page (``results/robustness/index.html``), self-contained: per claim,
    passes out of ``K``, the worst seed's measured value against its threshold and their
    ratio, and the strip of per-seed values; claims that pass at fewer than ``K`` seeds in
    red at the top. ``origin``: configuration files and the like, listed as given."""
    summary = robustness_summary(combined, seeds)
    rows = page_rows(combined, summary)
    return TEMPLATES.get_template("robustness.html.j2").render(
        style=Markup(STYLE),
        seeds=list(seeds),
        rows=rows,
        fragile=[r for r in rows if not r["robust"]],
        claims=sum(r["kind"] != "check" for r in rows),
        checks=sum(r["kind"] == "check" for r in rows),
        origin=origin_lines(origin),
    )
