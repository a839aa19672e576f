"""Marks on the cells of a board's body (e.g. significant differences), and their legend.

One collection per body Axes (never one artist per cell), in one of two glyphs
(:class:`MarkGlyph`) that share the legend's wording:

- ``"dot"`` (heatmap cells): a small black dot with a white rim, centred in each marked
  cell, so that it reads on dark and light colours alike. Its diameter follows the cell
  (42% of the cell's shorter side) within 2-4 pt: at the board's smallest print cells
  (0.084 in, a 6-pt row) it is 2.5 pt, about 0.9 mm.
- ``"ring"`` (dot-plot dots, :func:`ring_glyph`): an open black ring drawn on the
  outline of the largest dot the cell can hold (a dot of ``dot_max``). A dot's colour and
  size stay in view whatever its size: a small dot sits inside the ring, the largest
  loses only the ring's inner half-width and a thin white halo (0.65 pt) of its rim;
  the halo keeps the ring apart from dark dots. At the smallest print cells (a 5.5-pt
  dot) the ring with its halo spans 6.8 pt, about the cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib import patheffects
from matplotlib.collections import PathCollection
from matplotlib.lines import Line2D
from matplotlib.markers import MarkerStyle
from matplotlib.offsetbox import DrawingArea, HPacker, TextArea, VPacker
from matplotlib.transforms import IdentityTransform

from .._text import clean_label
from . import _board_legends as lg

GID = "cell_marks"
FACE, EDGE = "black", "white"
EDGE_WIDTH = 0.5  # points
SHARE = 0.42  # of the cell's shorter side
SMALLEST, LARGEST = 2.0, 4.0  # points, the dot's diameter
RING_WIDTH = 0.6  # points, the ring's line
RING_HALO = 0.35  # points: white each side of the ring, so it reads on dark dots too
RING_COLOR = "black"
RING_INNER = "0.35"  # the grey dot inside the legend's ring (as the size legend's dots)


@dataclass(frozen=True)
class MarkGlyph:
    """How a marked cell is drawn: a marker of ``diameter`` points (its outline's
    centre line), ``face`` and ``edge`` colours, and ``width`` of the edge in points."""

    diameter: float
    face: str = FACE
    edge: str = EDGE
    width: float = EDGE_WIDTH
    kind: str = "dot"  # "dot" (filled, at the cell centre) or "ring" (open)
    halo: float = 0.0  # points: a white stroke this wide on each side of the edge


def mark_diameter(cell_inches: float) -> float:
    """The dot's diameter in points for cells whose shorter side is ``cell_inches``."""
    return float(np.clip(SHARE * cell_inches * 72, SMALLEST, LARGEST))


def dot_glyph(cell_inches: float) -> MarkGlyph:
    """The heatmap's glyph: a black dot with a white rim, sized by the cell."""
    return MarkGlyph(mark_diameter(cell_inches))


def ring_glyph(largest_dot_diameter: float) -> MarkGlyph:
    """The dot plot's glyph: an open ring on the outline of the largest dot (points)."""
    diameter = max(float(largest_dot_diameter), SMALLEST + RING_WIDTH)
    return MarkGlyph(
        diameter, face="none", edge=RING_COLOR, width=RING_WIDTH, kind="ring", halo=RING_HALO
    )


def _halo(glyph: MarkGlyph) -> list:
    if not glyph.halo:
        return []
    return [patheffects.withStroke(linewidth=glyph.width + 2 * glyph.halo, foreground="white")]


def draw_cell_marks(ax, rows: np.ndarray, cols: np.ndarray, glyph: MarkGlyph):
    """One collection of ``glyph`` on ``ax`` at cell centres ``(cols + 0.5, rows + 0.5)``
    in data coordinates (a body whose cell ``(i, j)`` spans ``[j, j+1] x [i, i+1]``).
    Added without touching the Axes' limits; returns the collection (or ``None``)."""
    if len(rows) == 0:
        return None
    path = MarkerStyle("o").get_path().transformed(MarkerStyle("o").get_transform())
    offsets = np.column_stack([np.asarray(cols) + 0.5, np.asarray(rows) + 0.5])
    marks = PathCollection(
        [path],
        sizes=[glyph.diameter**2],
        offsets=offsets,
        offset_transform=ax.transData,
        transform=IdentityTransform(),  # the glyph's size is in points (as scatter's)
        facecolors=glyph.face,
        edgecolors=glyph.edge,
        linewidths=glyph.width,
        zorder=5,
        clip_on=False,
    )
    marks.set_gid(GID)
    marks.set_path_effects(_halo(glyph))
    ax.add_collection(marks, autolim=False)
    return marks


def _marker(centre: float, diameter: float, face, edge, width: float, effects=()) -> Line2D:
    return Line2D(
        [centre],
        [centre],
        marker="o",
        markersize=diameter,
        markerfacecolor=face,
        markeredgecolor=edge,
        markeredgewidth=width,
        linestyle="none",
        path_effects=list(effects),
    )


def _glyph_area(glyph: MarkGlyph) -> DrawingArea:
    side = max(lg.SWATCH, glyph.diameter + glyph.width + 2 * glyph.halo)
    area = DrawingArea(side, side, 0, 0)
    centre = side / 2
    if glyph.kind == "ring":  # a dot inside the ring: the ring surrounds the dot
        area.add_artist(_marker(centre, 0.55 * glyph.diameter, RING_INNER, "none", 0))
    ring = _marker(centre, glyph.diameter, glyph.face, glyph.edge, glyph.width, _halo(glyph))
    area.add_artist(ring)
    return area


def marks_legend(label: str, glyph: MarkGlyph | None = None, title: str | None = None) -> VPacker:
    """A legend of one entry: the glyph (default: a 3-pt dot) and ``label`` (may hold
    line breaks)."""
    glyph = glyph or MarkGlyph(3.0)
    text = TextArea(clean_label(label), textprops={"fontsize": lg.FONT, "gid": GID})
    entry = HPacker(children=[_glyph_area(glyph), text], align="top", pad=0, sep=3)
    if not title:
        return VPacker(children=[entry], align="left", pad=0, sep=0)
    head = TextArea(clean_label(title), textprops={"fontsize": lg.TITLE_FONT, "weight": "bold"})
    return VPacker(children=[head, entry], align="left", pad=0, sep=3)
