"""The heatmap board's legends: a colour bar and one legend per annotation bar.

Drawn with matplotlib offset boxes (no marsilea legend), so that the board decides
their order (the colour bar, then the bars from top to bottom), their columns (a
long legend is split into columns so that it is never taller than the room beside
the heatmap) and the colour bar's ends (a triangle where values exceed the limits,
ticks outside the bar).
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.collections import PatchCollection
from matplotlib.lines import Line2D
from matplotlib.offsetbox import (
    AnchoredOffsetbox,
    DrawingArea,
    HPacker,
    TextArea,
    VPacker,
)
from matplotlib.patches import Polygon, Rectangle
from matplotlib.ticker import MaxNLocator

from .._text import clean_label

FONT = 7  # points: legend entries and colour-bar tick labels
TITLE_FONT = 7.5  # points: legend titles (bold)
SWATCH = 7  # points: side of a colour square
MAX_ROWS = 12  # entries per legend column at most
NO_CELLS = "no cells"
NO_CELLS_FACE = "#d9d9d9"
NO_CELLS_HATCH = "////"


def no_cells_patch(x: float, y: float, width: float, height: float):
    """The grey, hatched rectangle drawn where a group has no cells (heatmap columns,
    dot plot halves alike)."""
    from matplotlib.patches import Rectangle

    return Rectangle(
        (x, y),
        width,
        height,
        facecolor=NO_CELLS_FACE,
        edgecolor="0.55",
        hatch=NO_CELLS_HATCH,
        linewidth=0,
        gid="no_cells",
    )


BAR_W, BAR_H, ARROW = 8.0, 50.0, 6.0  # points: colour bar width, length, end triangle
SPACING = 8  # points between legends


def entry_height() -> float:
    """Height of one legend entry in points (text line and the gap to the next)."""
    return FONT * 1.2 + 2


def _swatch(color, hatch: str | None = None) -> DrawingArea:
    area = DrawingArea(SWATCH, SWATCH, 0, 0)
    rect = Rectangle(
        (0, 0), SWATCH, SWATCH, facecolor=color, edgecolor="0.5" if hatch else "none", lw=0.4
    )
    if hatch:
        rect.set_hatch(hatch)
    area.add_artist(rect)
    return area


def _entry(label: str, color, hatch: str | None = None) -> HPacker:
    text = TextArea(clean_label(label), textprops={"fontsize": FONT})
    return HPacker(children=[_swatch(color, hatch), text], align="center", pad=0, sep=3)


def category_legend(title: str | None, entries: list[tuple], max_rows: int = MAX_ROWS) -> VPacker:
    """A titled legend of colour squares, ``entries`` = ``[(label, colour[, hatch]), ...]``,
    in that order, column by column, with at most ``max_rows`` entries per column."""
    rows = max(1, min(max_rows, len(entries)))
    n_cols = math.ceil(len(entries) / rows)
    rows = math.ceil(len(entries) / n_cols)  # balance the columns
    cols = [
        VPacker(children=[_entry(*e) for e in entries[i : i + rows]], align="left", pad=0, sep=2)
        for i in range(0, len(entries), rows)
    ]
    grid = HPacker(children=cols, align="top", pad=0, sep=8)
    if not title:
        return VPacker(children=[grid], align="left", pad=0, sep=0)
    head = TextArea(clean_label(title), textprops={"fontsize": TITLE_FONT, "weight": "bold"})
    return VPacker(children=[head, grid], align="left", pad=0, sep=3)


def _ticks(norm) -> np.ndarray:
    """Round tick values inside the limits (the centre included, when there is one)."""
    lo, hi = float(norm.vmin), float(norm.vmax)
    ticks = MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
    span = hi - lo
    ticks = ticks[(ticks >= lo - 1e-9 * span) & (ticks <= hi + 1e-9 * span)]
    return ticks if ticks.size else np.array([lo, hi])


def _tick_text(value: float) -> str:
    return f"{value:g}".replace("-", "\N{MINUS SIGN}")


def colour_bar(cmap, norm, label: str, extend: str = "neither") -> VPacker:
    """A vertical colour bar: ``cmap`` through ``norm``, a triangle at each end in
    ``extend`` ("min", "max", "both"), ticks and their labels outside, right of the bar."""
    lo_tip = ARROW if extend in ("min", "both") else 0.0
    hi_tip = ARROW if extend in ("max", "both") else 0.0
    ticks = _ticks(norm)
    labels = [_tick_text(t) for t in ticks]
    text_w = max(len(s) for s in labels) * FONT * 0.62
    area = DrawingArea(BAR_W + 3 + 2 + text_w, BAR_H + lo_tip + hi_tip, 0, 0)
    n = 128
    strips = [
        Rectangle((0, lo_tip + BAR_H * i / n), BAR_W, BAR_H / n, facecolor=cmap((i + 0.5) / n))
        for i in range(n)
    ]
    gradient = PatchCollection(strips, match_original=True, edgecolor="none", linewidth=0)
    gradient.set_rasterized(True)
    area.add_artist(gradient)
    if lo_tip:
        tip = [(0, lo_tip), (BAR_W, lo_tip), (BAR_W / 2, 0)]
        area.add_artist(Polygon(tip, closed=True, facecolor=cmap(0.0), edgecolor="none"))
    if hi_tip:
        top = lo_tip + BAR_H
        tip = [(0, top), (BAR_W, top), (BAR_W / 2, top + hi_tip)]
        area.add_artist(Polygon(tip, closed=True, facecolor=cmap(1.0), edgecolor="none"))
    for value, text in zip(ticks, labels, strict=True):
        y = lo_tip + BAR_H * float(np.clip(norm(value), 0, 1))
        area.add_artist(Line2D([BAR_W, BAR_W + 3], [y, y], color="black", lw=0.6))
        area.add_artist(
            _tick_label(BAR_W + 5, y, text),
        )
    head = TextArea(clean_label(label), textprops={"fontsize": TITLE_FONT, "weight": "bold"})
    return VPacker(children=[head, area], align="left", pad=0, sep=4) if label else area


def _tick_label(x: float, y: float, text: str):
    from matplotlib.text import Text

    return Text(x, y, text, fontsize=FONT, va="center", ha="left")


def stack(legends: list, max_height: float) -> HPacker:
    """Legends top to bottom, continued in a new column when the next one would make
    the column taller than ``max_height`` points or than the tallest legend."""
    max_height = max([max_height, *(h for _, h in legends)])
    columns: list[list] = [[]]
    used = 0.0
    for legend, height in legends:
        if columns[-1] and used + SPACING + height > max_height:
            columns.append([])
            used = 0.0
        columns[-1].append(legend)
        used += height + (SPACING if used else 0.0)
    packs = [VPacker(children=c, align="left", pad=0, sep=SPACING) for c in columns]
    return HPacker(children=packs, align="top", pad=0, sep=SPACING + 4)


def anchored(box, ax, y_top: float) -> AnchoredOffsetbox:
    """``box`` placed with its top-left corner at (0, ``y_top``) of ``ax`` (axes fraction)."""
    anchor = AnchoredOffsetbox(
        loc="upper left",
        child=box,
        pad=0,
        borderpad=0,
        frameon=False,
        bbox_to_anchor=(0, y_top),
        bbox_transform=ax.transAxes,
    )
    ax.add_artist(anchor)
    # unclipped: a legend wider than its (narrow) axes still counts in the figure's
    # tight box, so the board widens the figure instead of cutting the legend off
    anchor.set_clip_on(False)
    return anchor
