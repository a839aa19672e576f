"""Sizing a figure of scatter panels at print size: panels keep their size in inches,
the legend goes beside them when it fits and below them (in columns) when it does not.

Text is measured, not guessed: the figure is drawn once, and its size is corrected so
that every panel has the size asked for, whatever the legend and labels take.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

MAX_WIDTH = 7.087  # inches: 180 mm, a journal's full page width
MAX_HEIGHT = 9.449  # inches: 240 mm
MAX_COLS = 3
FONT_TITLE = 8  # figure title
FONT_LABEL = 7  # axis labels, panel titles, legend title
FONT_SMALL = 6  # tick labels, legend entries, fractions: the print minimum
MIN_PANEL_SHARE = 0.4  # a legend below keeps the panels at least this share of the height
MAX_LEGEND_COLS = 4  # columns tried for a legend beside the panels
MAX_GROWTH = 1.3  # panels grow at most this much taller before a legend below widens


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
    """Put the legend beside the panels, in as few columns as make it no taller than
    them, when that fits the page width; else below them, in the fewest columns (the
    figure widening up to the page width) that keep the panels at least
    :data:`MIN_PANEL_SHARE` of the figure's height within the page. The figure grows by
    the legend's size (unless the user gave the size). ``make_legend(loc, ncols)`` draws
    it."""
    if fixed_size:
        return _place_in_given_size(fig, axes, make_legend)
    w, h = fig.get_size_inches()
    _, block_h = _panel_block(fig, axes)
    for ncols in range(1, MAX_LEGEND_COLS + 1):
        legend = make_legend("outside right upper", ncols)
        lw, lh = _inches(fig, legend)
        if w + lw + 0.1 > MAX_WIDTH:
            legend.remove()
            break
        if lh <= block_h + 0.3:
            fig.set_size_inches(w + lw + 0.1, h)
            return legend, True
        legend.remove()
    return _place_below(fig, make_legend, (w, h), block_h), False


def _place_below(fig, make_legend, size: tuple[float, float], block_h: float):
    """The legend below the panels, in as many columns as the figure's width holds (it
    widens only for one column). Taller panels then keep the panels' share of the height
    (:func:`_keeping_share`); when they would grow by more than :data:`MAX_GROWTH`, more
    columns are taken instead, the figure widening up to the page width."""
    w, h = size
    legend = make_legend("outside lower center", 1)
    column_w = _inches(fig, legend)[0]
    legend.remove()
    fits = max(1, int((MAX_WIDTH - 0.2) // max(column_w, 1e-6)))
    start = min(fits, max(1, int((w - 0.2) // max(column_w, 1e-6))))
    for ncols in range(start, fits + 1):
        legend = make_legend("outside lower center", ncols)
        lw, lh = _inches(fig, legend)
        if ncols == fits or _growth(block_h, h + lh + 0.1) <= MAX_GROWTH:
            fig.set_size_inches(min(MAX_WIDTH, max(w, lw + 0.2)), h + lh + 0.1)
            return legend
        legend.remove()
    raise AssertionError("unreachable: the last column count is always taken")


def _growth(block_h: float, height: float) -> float:
    """How much taller the panels must get to be :data:`MIN_PANEL_SHARE` of ``height``
    (the rest of the figure keeping its size); 1 when they already are."""
    rest = height - block_h
    return max(1.0, MIN_PANEL_SHARE * rest / ((1 - MIN_PANEL_SHARE) * block_h))


def _place_in_given_size(fig, axes, make_legend):
    """With the user's figure size: beside when narrow enough, else below in the
    columns the width holds."""
    w, _ = fig.get_size_inches()
    legend = make_legend("outside right upper", 1)
    lw, _ = _inches(fig, legend)
    if lw <= 0.35 * w:
        return legend, True
    legend.remove()
    ncols = max(1, int((w - 0.2) // max(lw, 1e-6)))
    return make_legend("outside lower center", ncols), False


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
        min_width = 0.0 if beside else _inches(fig, legend)[0] + 0.2
        fit_panels(fig, axes, grid, min_width)
        taller = _keeping_share(fig, axes, grid)
        if taller is not grid:
            fit_panels(fig, axes, taller, min_width)
    return legend


def _keeping_share(fig, axes, grid: Grid) -> Grid:
    """``grid``, or one with taller panels when a long legend below would leave the
    panels less than :data:`MIN_PANEL_SHARE` of the figure's height."""
    height = fig.get_size_inches()[1]
    _, block_h = _panel_block(fig, axes)
    growth = _growth(block_h, height)
    if growth <= 1.0:
        return grid
    return dataclasses.replace(grid, panel_h=grid.panel_h * 1.02 * growth)


def first_size(grid: Grid, has_title: bool) -> tuple[float, float]:
    """A starting size (inches) for the panels and their labels, corrected later."""
    width = grid.ncols * grid.panel_w + 0.15 * (grid.ncols - 1) + 0.7
    height = grid.nrows * grid.panel_h + 0.45 * grid.nrows + 0.5 + 0.25 * has_title
    return width, height
