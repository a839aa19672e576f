"""Marks on the cells of a board's body (e.g. significant differences), and their legend.

One collection per body Axes (never one artist per cell): a small black dot with a
white rim, centred in each marked cell, so that it reads on dark and light colours
alike. Its diameter follows the cell (42% of the cell's shorter side) within 2-4 pt:
at the board's smallest print cells (0.084 in, a 6-pt row) it is 2.5 pt, about 0.9 mm.

Any body drawn on the board (heatmap cells, dot-plot dots) can reuse
:func:`draw_cell_marks` with its Axes' cell coordinates, and :func:`marks_legend`.
"""

from __future__ import annotations

import numpy as np
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


def mark_diameter(cell_inches: float) -> float:
    """The dot's diameter in points for cells whose shorter side is ``cell_inches``."""
    return float(np.clip(SHARE * cell_inches * 72, SMALLEST, LARGEST))


def draw_cell_marks(ax, rows: np.ndarray, cols: np.ndarray, diameter: float):
    """One collection of dots on ``ax`` at cell centres ``(cols + 0.5, rows + 0.5)`` in
    data coordinates (a body whose cell ``(i, j)`` spans ``[j, j+1] x [i, i+1]``).
    Added without touching the Axes' limits; returns the collection (or ``None``)."""
    if len(rows) == 0:
        return None
    path = MarkerStyle("o").get_path().transformed(MarkerStyle("o").get_transform())
    offsets = np.column_stack([np.asarray(cols) + 0.5, np.asarray(rows) + 0.5])
    marks = PathCollection(
        [path],
        sizes=[diameter**2],
        offsets=offsets,
        offset_transform=ax.transData,
        transform=IdentityTransform(),  # the dot's size is in points (as scatter's)
        facecolors=FACE,
        edgecolors=EDGE,
        linewidths=EDGE_WIDTH,
        zorder=5,
        clip_on=False,
    )
    marks.set_gid(GID)
    ax.add_collection(marks, autolim=False)
    return marks


def _glyph(diameter: float) -> DrawingArea:
    area = DrawingArea(lg.SWATCH, lg.SWATCH, 0, 0)
    centre = lg.SWATCH / 2
    dot = Line2D(
        [centre],
        [centre],
        marker="o",
        markersize=diameter,
        markerfacecolor=FACE,
        markeredgecolor=EDGE,
        markeredgewidth=EDGE_WIDTH,
        linestyle="none",
    )
    area.add_artist(dot)
    return area


def marks_legend(label: str, diameter: float = 3.0, title: str | None = None) -> VPacker:
    """A legend of one entry: the dot and ``label`` (may hold line breaks)."""
    text = TextArea(clean_label(label), textprops={"fontsize": lg.FONT, "gid": GID})
    entry = HPacker(children=[_glyph(diameter), text], align="top", pad=0, sep=3)
    if not title:
        return VPacker(children=[entry], align="left", pad=0, sep=0)
    head = TextArea(clean_label(title), textprops={"fontsize": lg.TITLE_FONT, "weight": "bold"})
    return VPacker(children=[head, entry], align="left", pad=0, sep=3)
