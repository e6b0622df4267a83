"""One style for every figure, and saving as PNG and PDF.

The style is plain matplotlib settings (a light grid, dark-grey axes, the colour-blind
safe palette below): importing a styling library cost every figure job more than a
second.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import cycler  # noqa: E402

from implicit_reg.atomic import replacing  # noqa: E402

#: Ten colour-blind safe colours (the "colorblind" palette of Waskom's seaborn).
PALETTE = (
    "#0173b2",
    "#de8f05",
    "#029e73",
    "#d55e00",
    "#cc78bc",
    "#ca9161",
    "#fbafe4",
    "#949494",
    "#ece133",
    "#56b4e9",
)
INK = "0.15"
STYLE = {
    "axes.prop_cycle": cycler(color=PALETTE),
    "axes.axisbelow": True,
    "axes.edgecolor": INK,
    "axes.labelcolor": INK,
    "axes.labelsize": 10.56,
    "axes.titlesize": 10.56,
    "axes.linewidth": 1.0,
    "axes.spines.top": True,
    "axes.spines.right": True,
    "font.size": 10.56,
    "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "sans-serif"],
    "grid.color": "0.8",
    "legend.fontsize": 9.68,
    "legend.title_fontsize": 10.56,
    "lines.linewidth": 1.2,
    "lines.markersize": 4.8,
    "patch.edgecolor": "w",
    "patch.linewidth": 0.8,
    "text.color": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "xtick.labelsize": 9.68,
    "ytick.labelsize": 9.68,
    "xtick.major.size": 4.8,
    "ytick.major.size": 4.8,
    "xtick.minor.size": 3.2,
    "ytick.minor.size": 3.2,
    "xtick.major.width": 1.0,
    "ytick.major.width": 1.0,
    "xtick.minor.width": 0.8,
    "ytick.minor.width": 0.8,
}


def use_style() -> None:
    """Apply the project's figure style (light grid, colour-blind palette)."""
    plt.rcParams.update(STYLE)
    plt.rcParams.update(
        {
            # Drawing and saving at one resolution lets matplotlib reuse its parsed
            # tick labels between the two; 130 dpi fills the report's 1100 px column.
            "figure.dpi": 130,
            "savefig.dpi": 130,
            "savefig.bbox": "tight",
            "axes.grid": True,
            "grid.alpha": 0.3,
            "legend.frameon": False,
            "pdf.fonttype": 42,
            # Stable PDF bytes: no creation date in the file.
            "svg.hashsalt": "implicit-reg",
        }
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
