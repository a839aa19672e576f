"""Size limits of figures and of exported canvases: one place, one wording.

A figure larger than ``MAX_FIGURE_INCHES`` on a side is refused before it is
drawn (a 10,000-gene heatmap would be 2,200 inches tall). At export, a canvas
over ``MAX_SIDE_PIXELS`` on a side (JPEG cannot hold more, and most image
viewers open no more) or over ``MAX_PIXELS`` in all (the RGBA canvas takes 4
bytes per pixel, in vector formats too, where the heatmap body is rasterised on
a canvas of the whole figure) is refused before anything is allocated.
"""

from __future__ import annotations

import math

MAX_FIGURE_INCHES = 200.0  # per side; 60,000 pixels at 300 DPI
MAX_SIDE_PIXELS = 65_535
MAX_PIXELS = 250_000_000  # about 1 GB of RGBA canvas
# The lowest export resolution, in every format and in the API, the command line and the
# app: below 7 dots per inch FreeType cannot render the figures' 6-pt text into PNG, TIFF
# or JPEG (measured with matplotlib 3.11 on every figure kind); 10 leaves a margin.
MIN_DPI = 10.0
DPI_RANGE = (MIN_DPI, 2400.0)  # the resolutions the command line and the app accept

BEYOND = (
    "draw fewer rows or columns (fewer genes: n_genes=, var_names=, clusters=, filter=), "
    "or give figsize=(width, height) with labels='x' or 'none' to fit them in; "
    "to explore the whole matrix use sch.pl.interactive_heatmap, or write it as a TSV table "
    "(sch.export.write_table)"
)


def check_figure_inches(width: float, height: float, what: str, advice: str = BEYOND) -> None:
    """Refuse a figure with a side over ``MAX_FIGURE_INCHES``, saying what to do instead.

    ``what`` describes the figure (e.g. "10000 rows x 24 columns"); ``advice``
    says how to go beyond the limit.
    """
    if max(width, height) <= MAX_FIGURE_INCHES:
        return
    raise ValueError(
        f"The figure of {what} would be {width:,.1f} x {height:,.1f} inches, over the limit of "
        f"{MAX_FIGURE_INCHES:g} inches per side (sc_heatmaps._limits.MAX_FIGURE_INCHES); "
        f"{advice}."
    )


def max_dpi(width: float, height: float) -> float:
    """The largest DPI at which a ``width`` x ``height``-inch figure fits the canvas limits."""
    by_side = MAX_SIDE_PIXELS / max(width, height, 1e-9)
    by_area = math.sqrt(MAX_PIXELS / max(width * height, 1e-18))
    return min(by_side, by_area)


def check_dpi(dpi: object) -> None:
    """Refuse a resolution that is not a finite number of at least ``MIN_DPI``."""
    import numbers

    ok = isinstance(dpi, numbers.Real) and not isinstance(dpi, bool) and math.isfinite(dpi)
    if not (ok and dpi >= MIN_DPI):
        raise ValueError(
            f"option 'dpi' = {dpi!r}: must be a number >= {MIN_DPI:g} dots per inch "
            "(the export's minimum: below it raster formats cannot render the text)"
        )


def check_canvas(width: float, height: float, dpi: float) -> None:
    """Refuse to export a ``width`` x ``height``-inch figure at ``dpi`` above the pixel limits."""
    w_px, h_px = width * dpi, height * dpi
    if max(w_px, h_px) <= MAX_SIDE_PIXELS and w_px * h_px <= MAX_PIXELS:
        return
    raise ValueError(
        f"A {width:,.1f} x {height:,.1f}-inch figure at dpi={dpi:g} is {w_px:,.0f} x "
        f"{h_px:,.0f} pixels, over the limit of {MAX_SIDE_PIXELS:,} pixels per side and "
        f"{MAX_PIXELS / 1e6:g} million pixels in all; lower dpi (at most "
        f"{math.floor(max_dpi(width, height)):,} for this figure) or make the figure smaller "
        "(figsize=, fewer rows or columns)."
    )
