"""One style for every figure, and saving as PNG and PDF.

The style is seaborn's: the ``ticks`` theme in the ``paper`` context with its
colour-blind palette (`use_style`), with a light grid and the report's resolution on top.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

from implicit_reg.atomic import replacing  # noqa: E402

#: The ten colours of seaborn's colour-blind safe palette, in its order.
PALETTE = tuple(sns.color_palette("colorblind").as_hex())
#: On top of the theme: one resolution for drawing and saving lets matplotlib reuse its
#: parsed tick labels between the two (130 dpi fills the report's 1100 px column), a light
#: grid, no legend frame, TrueType fonts in PDFs and stable PDF bytes.
OVERRIDES = {
    "figure.dpi": 130,
    "savefig.dpi": 130,
    "savefig.bbox": "tight",
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
    "pdf.fonttype": 42,
    "svg.hashsalt": "implicit-reg",
}


def use_style() -> None:
    """Apply the project's figure style: seaborn's ``ticks`` theme, ``paper`` context
    at 1.1 times its font sizes, ``colorblind`` palette, then `OVERRIDES`."""
    sns.set_theme(
        context="paper", style="ticks", palette="colorblind", font_scale=1.1, rc=OVERRIDES
    )


def subplots(ncols: int = 1, nrows: int = 1, width: float = 4.2, height: float = 3.3, **kw):
    """``plt.subplots`` with the project style and a panel size in inches."""
    use_style()
    return plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), **kw)


SUPERSCRIPT = str.maketrans("-0123456789.", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹·")


def power_label(value: float, _position=None, base: int = 10) -> str:
    """Tick label of a log axis in plain text: ``10⁻²`` for 0.01, ``2×10³`` for 2000;
    on a base-2 axis ``2⁶`` for 64.

    The default log labels are TeX-like math text, whose parsing was a sixth of the time
    spent drawing a figure.
    """
    if value <= 0 or not math.isfinite(value):
        return ""
    exponent = math.floor(math.log(value, base) + 1e-9)
    mantissa = value / base**exponent
    power = str(base) + str(exponent).translate(SUPERSCRIPT)
    if abs(mantissa - 1) < 1e-6:
        return power
    return f"{mantissa:.3g}×{power}"


def plain_log_labels(fig) -> None:
    """Replace the math-text tick labels of every log axis of ``fig`` by `power_label`.

    Minor ticks keep labels only where matplotlib would label them (few decades).
    """
    from functools import partial

    from matplotlib.ticker import FuncFormatter, LogFormatterSciNotation, NullFormatter

    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if axis.get_scale() != "log":
                continue
            base = round(axis.get_transform().base)
            label = partial(power_label, base=base)
            if isinstance(axis.get_major_formatter(), LogFormatterSciNotation):
                axis.set_major_formatter(FuncFormatter(label))
            minor = axis.get_minor_formatter()
            if isinstance(minor, LogFormatterSciNotation):
                low, high = sorted(axis.get_view_interval())
                decades = math.log(high / low, base) if low > 0 else math.inf
                keep = decades <= 1.0
                axis.set_minor_formatter(FuncFormatter(label) if keep else NullFormatter())


def save_figure(fig, png_path: str | Path, pdf_path: str | Path | None = None) -> None:
    """Save ``fig`` as PNG and, given ``pdf_path``, as PDF (no timestamp), each file whole
    or not at all (`implicit_reg.atomic.replacing`), and close it."""
    plain_log_labels(fig)
    with replacing(png_path) as part:
        fig.savefig(part)
    if pdf_path is not None:
        with replacing(pdf_path) as part:
            fig.savefig(part, metadata={"CreationDate": None})
    plt.close(fig)


def sequential(n: int, name: str = "viridis") -> list[tuple[float, ...]]:
    """``n`` colours of an ordered matplotlib colormap, for a parameter that increases.

    Sampled at the interior points ``(i + 1) / (n + 1)``, ``i = 0..n-1``, so neither
    end of the map (near-white or near-black in most maps) is used.
    """
    cmap = matplotlib.colormaps[name]
    return [tuple(cmap((i + 1) / (n + 1))) for i in range(n)]


def cycled(keys: Iterable, styles: Sequence) -> dict:
    """Each key's style, the styles repeated when there are more keys than styles.

    A configured grid (depths, init scales, sample sizes, step sizes) may be longer
    than a figure's list of markers, line styles or colours; every key still gets a
    style, so that no curve is dropped and no marker is missing at plot time.
    """
    return dict(zip(keys, itertools.cycle(styles)))


def palette(n: int) -> list[str]:
    """``n`` colours of the project palette (cycling when ``n`` exceeds ten)."""
    return [PALETTE[i % len(PALETTE)] for i in range(n)]


# ---------------------------------------------------------------------------------------
# Drawing from summary tables: seaborn's grammar for the lines, the stored intervals for
# the bands.

#: Exact references and rate guides: thin black lines above the data, so that a thicker
#: coloured data line (`DATA_WIDTH`) stays visible on both sides of them.
THEORY = {"color": "black", "lw": 1.0, "zorder": 10}
#: Line width of simulated curves under a `THEORY` line.
DATA_WIDTH = 2.4


def stored_band(
    ax, x, mean, half, colour, floor=None, relative_floor=None, alpha=0.18, opaque=False
):
    """Fill ``mean ± half`` (a stored Student-t half-width) in ``colour``.

    On a log axis a band reaching below zero cannot be drawn: its lower edge is raised
    to ``floor`` (an absolute value) or to ``mean * relative_floor``. With ``opaque`` the
    band is the same tint without transparency (``colour`` mixed with white): where
    bands overlap the later one covers the earlier instead of mixing with it into a
    colour of its own.
    """
    x, mean, half = (np.asarray(v, dtype=float) for v in (x, mean, half))
    low, high = mean - half, mean + half
    if floor is not None:
        low = np.maximum(low, floor)
    if relative_floor is not None:
        low = np.maximum(low, mean * relative_floor)
    keep = np.isfinite(low) & np.isfinite(high)
    if opaque:
        rgb = np.asarray(matplotlib.colors.to_rgb(colour))
        colour, alpha = tuple(alpha * rgb + (1 - alpha)), 1.0
    ax.fill_between(x[keep], low[keep], high[keep], color=colour, alpha=alpha, lw=0, zorder=1)


def summary_lines(
    ax,
    summary,
    x: str,
    column: str,
    hue: str,
    palette: dict,
    *,
    band: bool = True,
    floor=None,
    relative_floor=None,
    opaque: bool = False,
    **kwargs,
):
    """Trial means ``<column>_mean`` of a summary table against ``x``, one line per
    ``hue`` level (and per ``style``/``size`` level if given in ``kwargs``), with the
    stored Student-t 95% bands ``<column>_ci95``.

    The lines are `seaborn.lineplot` with ``errorbar=None`` and ``estimator=None``: a
    summary has one row per x and group, so seaborn draws the stored means and the bands
    stay the intervals the claims use. ``palette`` maps each hue level to its colour;
    ``floor``, ``relative_floor`` and ``opaque`` are passed on to `stored_band`; the
    bands are drawn in the reverse order of ``palette``, the first level's on top.
    """
    mean, half = f"{column}_mean", f"{column}_ci95"
    groups = list(dict.fromkeys([hue, *(kwargs[k] for k in ("style", "size") if kwargs.get(k))]))
    data = summary[np.isfinite(summary[mean])]
    if band:
        order = {level: i for i, level in enumerate(palette)}
        bands = data.groupby(groups, sort=False)
        # The first level's band drawn last, on top (it matters for opaque bands).
        for keys, rows in sorted(bands, key=lambda pair: -order[pair[0][0]]):
            level = keys[0]
            rows = rows.sort_values(x)
            colour = palette[level]
            stored_band(
                ax, rows[x], rows[mean], rows[half], colour, floor, relative_floor, opaque=opaque
            )
    kwargs.setdefault("legend", False)
    # seaborn labels an unlabelled axis only if its tick labels are visible, and asking
    # that lays out every tick of a shared log axis: label it first (as seaborn would).
    ax.set_xlabel(ax.get_xlabel() or x)
    ax.set_ylabel(ax.get_ylabel() or mean)
    sns.lineplot(
        data=data,
        x=x,
        y=mean,
        hue=hue,
        palette=palette,
        errorbar=None,
        estimator=None,
        ax=ax,
        **kwargs,
    )
    return ax


def legend_below(fig, axes=None, ncol: int = 3, handles=None, labels=None, **kwargs):
    """One legend for the whole figure, centred under its panels (outside every curve).

    Without ``handles`` it gathers the labelled artists of ``axes`` (all axes of ``fig``
    by default), each label once, and removes the panels' own legends. Call it after
    ``fig.tight_layout``, which keeps every tick label above the figure's bottom edge:
    the legend hangs below that edge and the saved figure grows to include it
    (``savefig.bbox: tight``).
    """
    axes = list(fig.axes if axes is None else np.ravel(axes))
    if handles is None:
        found = {}
        for ax in axes:
            pairs = list(zip(*ax.get_legend_handles_labels(), strict=True))
            if ax.get_legend() is not None:  # seaborn's legends hold their own handles
                legend = ax.get_legend()
                texts = [t.get_text() for t in legend.texts]
                pairs += list(zip(legend.legend_handles, texts, strict=True))
            for handle, label in pairs:
                if not label.startswith("_"):
                    found.setdefault(label, handle)
        handles, labels = list(found.values()), list(found)
    for ax in axes:
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    return fig.legend(
        handles,
        labels,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=ncol,
        frameon=False,
        **kwargs,
    )


def no_line(label: str):
    """A legend entry without a mark, for a fact the panel cannot draw."""
    from matplotlib.lines import Line2D

    return Line2D([], [], ls="none", marker=None, label=label)


def points(ax, data, x: str, y: str, hue: str, palette: dict, **kwargs):
    """`seaborn.scatterplot` of ``y`` against ``x`` coloured by ``hue`` for simulated
    values: edgeless markers below `THEORY` lines, no panel legend (`legend_below` takes
    handles), ``kwargs`` for seaborn (``style``, ``markers``, ``s``, ``alpha``)."""
    options = {"s": 22, "linewidth": 0, "legend": False, "zorder": 3, **kwargs}
    return sns.scatterplot(data=data, x=x, y=y, hue=hue, palette=palette, ax=ax, **options)


# ---------------------------------------------------------------------------------------
# Categorical colours, claim thresholds and colour-scale legend entries.

#: The palette's categorical colours without its vermillion (its fourth colour, hard to
#: tell from its orange): blue, orange, green, pink, brown, light blue, grey.
CATEGORICAL = tuple(PALETTE[i] for i in (0, 1, 2, 4, 5, 9, 7))
#: A claim's threshold or tolerance: a grey long-dashed line above the bands and below
#: the data lines (which stay visible where they cross it), labelled where it is drawn.
THRESHOLD = {"color": "0.4", "lw": 1.0, "ls": (0, (7, 2.5)), "zorder": 1.5}


def threshold_line(ax, y: float, label: str, *, x: float = 0.02, below: bool = False, **line):
    """Draw the horizontal threshold ``y`` (`THRESHOLD` style, ``line`` overrides) and write
    ``label`` on it, just above (or ``below``) the line from ``x`` (axes fraction) on."""
    style = {**THRESHOLD, **line}
    ax.axhline(y, **style)
    ax.annotate(
        label,
        xy=(x, y),
        xycoords=("axes fraction", "data"),
        xytext=(0, -2 if below else 2),
        textcoords="offset points",
        ha="left",
        va="top" if below else "bottom",
        fontsize=8,
        color=style["color"],
        zorder=11,
    )


def colour_scale_entry(colours, **line):
    """A legend handle for lines coloured by a continuous value: a short segment in each
    of ``colours`` side by side. Pass ``handler_map=SPLIT_TUPLES`` to the legend."""
    from matplotlib.lines import Line2D

    return tuple(Line2D([], [], color=c, **line) for c in colours)


def _split_tuples():
    from matplotlib.legend_handler import HandlerTuple

    return {tuple: HandlerTuple(ndivide=None, pad=0)}


#: Legend ``handler_map`` drawing a tuple handle (`colour_scale_entry`) as adjacent segments.
SPLIT_TUPLES = _split_tuples()


def decade_ticks(axis) -> None:
    """More labelled ticks on a log axis spanning two decades or less, which the default
    locator labels once or twice: at 1, 2 and 5 times the powers of ten (1 to 8 within
    about a decade), labelled by `power_label`. Call it once the axis limits are final."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    low, high = sorted(axis.get_view_interval())
    decades = math.log10(high / low) if low > 0 else math.inf
    if decades > 2:
        return
    subs = (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0) if decades < 1.2 else (1.0, 2.0, 5.0)
    axis.set_major_locator(LogLocator(subs=subs))
    axis.set_major_formatter(FuncFormatter(power_label))
    axis.set_minor_formatter(NullFormatter())
