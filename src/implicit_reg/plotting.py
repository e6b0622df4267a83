"""One style for every figure, and saving as PNG and PDF.

The style is seaborn's: the ``ticks`` theme in the ``paper`` context with its
colour-blind palette (`use_style`), with a light grid and the report's resolution on top.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

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


def palette(n: int) -> list[str]:
    """``n`` colours of the project palette (cycling when ``n`` exceeds ten)."""
    return [PALETTE[i % len(PALETTE)] for i in range(n)]
