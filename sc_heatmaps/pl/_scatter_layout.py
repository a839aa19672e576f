"""Sizing a figure of scatter panels at print size: panels keep their size in inches,
the legend goes beside them when it fits and below them (in columns) when it does not.

Text is measured, not guessed: the figure is drawn once, and its size is corrected so
that every panel has the size asked for, whatever the legend and labels take.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_WIDTH = 7.087  # inches: 180 mm, a journal's full page width
MAX_HEIGHT = 9.449  # inches: 240 mm
MAX_COLS = 3
FONT_TITLE = 8  # figure title
FONT_LABEL = 7  # axis labels, panel titles, legend title
FONT_SMALL = 6  # tick labels, legend entries, fractions: the print minimum


@dataclass(frozen=True)
class Grid:
    """Panels in rows and columns, each ``panel_w`` x ``panel_h`` inches."""

    nrows: int
    ncols: int
    panel_w: float
    panel_h: float


def panel_grid(n: int) -> Grid:
    """Rows and columns for ``n`` panels, and a panel size that fits the page width."""
    if n == 4:
        nrows, ncols = 2, 2
    else:
        ncols = min(n, MAX_COLS)
        nrows = int(np.ceil(n / ncols))
    if n == 1:
        return Grid(1, 1, 2.6, 2.4)
    return Grid(nrows, ncols, 2.0, 1.85)


def _inches(fig, artist) -> tuple[float, float]:
    box = artist.get_window_extent(fig.canvas.get_renderer())
    return box.width / fig.dpi, box.height / fig.dpi


def _panel_block(fig, axes) -> tuple[float, float]:
    """Width and height (inches) of the smallest box holding every panel."""
    boxes = [ax.get_position() for ax in axes]
    w, h = fig.get_size_inches()
    width = (max(b.x1 for b in boxes) - min(b.x0 for b in boxes)) * w
    height = (max(b.y1 for b in boxes) - min(b.y0 for b in boxes)) * h
    return width, height


def place_legend(fig, axes, make_legend, fixed_size: bool):
    """Put the legend beside the panels when it fits the page, else below them in as
    many columns as the figure width holds, and grow the figure by its size (unless
    the user gave the size). ``make_legend(loc, ncols)`` draws it."""
    w, h = fig.get_size_inches()
    legend = make_legend("outside right upper", 1)
    lw, lh = _inches(fig, legend)
    _, block_h = _panel_block(fig, axes)
    beside = w + lw + 0.1 <= MAX_WIDTH and lh <= block_h + 0.3
    if fixed_size:
        beside = lw <= 0.35 * w
    if beside:
        if not fixed_size:
            fig.set_size_inches(w + lw + 0.1, h)
        return legend, True
    legend.remove()
    width = max(w, min(MAX_WIDTH, lw + 0.2))  # one column always fits
    ncols = max(1, int((width - 0.2) // max(lw, 1e-6)))
    legend = make_legend("outside lower center", ncols)
    if not fixed_size:
        fig.set_size_inches(width, h + _inches(fig, legend)[1] + 0.1)
    return legend, False


def fit_panels(fig, axes, grid: Grid, min_width: float = 0.0) -> None:
    """Correct the figure size so that each panel is ``grid`` size; constrained
    layout places the rest. The labels and legend around the panels keep their
    size in inches, so one layout pass measures them and the correction is exact
    (to the tick labels, which the new panel size may change a little). The figure
    stays at least ``min_width`` wide."""
    fig.get_layout_engine().execute(fig)  # the layout only: no points are rendered
    pos = axes[0].get_position()
    w, h = fig.get_size_inches()
    dw = grid.ncols * (grid.panel_w - pos.width * w)
    dh = grid.nrows * (grid.panel_h - pos.height * h)
    fig.set_size_inches(max(w + dw, min_width), h + dh)


def arrange(fig, axes, grid: Grid, make_legend, fixed_size: bool):
    """Size the figure around panels of ``grid`` size and place the legend (if any)."""
    if not fixed_size:
        fit_panels(fig, axes, grid)
    if make_legend is None:
        return None
    legend, beside = place_legend(fig, axes, make_legend, fixed_size)
    if not fixed_size:
        fit_panels(fig, axes, grid, 0.0 if beside else _inches(fig, legend)[0] + 0.2)
    return legend


def first_size(grid: Grid, has_title: bool) -> tuple[float, float]:
    """A starting size (inches) for the panels and their labels, corrected later."""
    width = grid.ncols * grid.panel_w + 0.15 * (grid.ncols - 1) + 0.7
    height = grid.nrows * grid.panel_h + 0.45 * grid.nrows + 0.5 + 0.25 * has_title
    return width, height
