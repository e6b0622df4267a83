"""One seaborn style for every figure, and saving as PNG and PDF."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

PALETTE = "colorblind"


def use_style() -> None:
    """Apply the project's figure style (seaborn ``ticks``, colour-blind palette)."""
    sns.set_theme(context="paper", style="ticks", palette=PALETTE, font_scale=1.1)
    plt.rcParams.update(
        {
            "figure.dpi": 110,
            "savefig.dpi": 150,
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


def save_figure(fig, png_path: str | Path, pdf_path: str | Path) -> None:
    """Save ``fig`` as PNG and PDF (no timestamps in the PDF) and close it."""
    for path in (png_path, pdf_path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png_path)
    fig.savefig(pdf_path, metadata={"CreationDate": None})
    plt.close(fig)


def palette(n: int) -> list:
    """``n`` colours of the project palette."""
    return sns.color_palette(PALETTE, n)
