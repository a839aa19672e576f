"""The dot plot's body: a body kind for the heatmap board, and its size map.

A dot's **area** in points² (matplotlib's scatter ``s``), not in axis units, so that a
dot and the size legend's reference dots mean the same at every figure size:

    area = smallest_dot + (largest_dot - smallest_dot) * t ** size_exponent,
    t = (clip(fraction, dot_min, dot_max) - dot_min) / (dot_max - dot_min)

(:class:`SizeMap`; scanpy's ``DotPlot.style`` uses the same formula with ``dot_max``
defaulting to the largest fraction rounded up and ``size_exponent=1.5``; here
``dot_max=1`` and ``size_exponent=1``, area proportional to the fraction, so that a
size always means the same fraction). ``largest_dot=None`` takes the largest dot that
fits a cell of the drawn board.

The board calls :meth:`DotBody.plan` with the cell size once the body is laid out, and
:meth:`DotBody.legends` for the size legend (and, when split, the halves). Dots are one
``PathCollection`` per layer and block of the board, placed like the heatmap's cells:
column ``j`` and row ``i`` of a block at ``(j + 0.5, i + 0.5)`` in its Axes' data
coordinates (y downwards), so an overlay per (row, column) cell is placed on a dot plot
as on a heatmap: the board draws significance marks there, in the glyph of
:meth:`DotBody.mark_glyph` (a ring around the largest dot, :mod:`sc_heatmaps.pl._cell_marks`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from matplotlib.markers import MarkerStyle
from matplotlib.offsetbox import DrawingArea, HPacker, TextArea, VPacker
from matplotlib.patches import Circle, Wedge

from .._text import clean_label
from . import _board_legends as lg
from ._cell_marks import MarkGlyph, ring_glyph

REFERENCE_FRACTIONS = (0.1, 0.2, 0.4, 0.6, 0.8, 1.0)
FIT = 0.92  # the largest dot's diameter, as a share of the cell's smaller side
HALVES = ("left", "right")
EDGE_WIDTH, EDGE_COLOR = 0.3, "0.55"  # points
ESTIMATE = (0.16, 0.16)  # inches: the largest cell, for the legends' size before layout
NOTE_WIDTH = 100  # points: notes in the legend column wrap at this width


@dataclass(frozen=True)
class SizeMap:
    """Fraction of cells expressing <-> dot area in points² (see the module docstring)."""

    dot_min: float = 0.0
    dot_max: float = 1.0
    smallest_dot: float = 0.0
    largest_dot: float | None = None  # None: fitted to the cell (DotBody.resolved)
    size_exponent: float = 1.0

    def area(self, fraction) -> np.ndarray:
        f = np.clip(np.asarray(fraction, dtype=np.float64), self.dot_min, self.dot_max)
        t = (f - self.dot_min) / (self.dot_max - self.dot_min)
        return self.smallest_dot + (self.largest_dot - self.smallest_dot) * t**self.size_exponent

    def fraction(self, area) -> np.ndarray:
        """The fraction an area stands for (exact between ``dot_min`` and ``dot_max``)."""
        t = (np.asarray(area, dtype=np.float64) - self.smallest_dot) / (
            self.largest_dot - self.smallest_dot
        )
        t = np.clip(t, 0.0, 1.0) ** (1.0 / self.size_exponent)
        return self.dot_min + t * (self.dot_max - self.dot_min)

    def references(self) -> list[float]:
        """3-4 round fractions for the legend, within ``(dot_min, dot_max]``."""
        inside = [f for f in REFERENCE_FRACTIONS if self.dot_min < f <= self.dot_max + 1e-12]
        if len(inside) > 4:
            inside = [inside[0], *inside[2::2]][:4] if len(inside) == 6 else inside[:4]
        if len(inside) < 3:
            lo, hi = self.dot_min, self.dot_max
            inside = [float(np.round(lo + (hi - lo) * k / 3, 2)) for k in (1, 2, 3)]
        return inside


@dataclass
class DotBody:
    """A dot body: ``layers`` are ``(name, colours, fractions)`` frames like the board's
    data (one layer: whole dots; two: left and right halves, ``layout="split"``)."""

    layers: list
    size: SizeMap
    cmap: object = None
    norm: object = None
    notes: list = field(default_factory=list)
    edge: bool = False  # a thin grey outline (a diverging scale's centre is white)

    def resolved(self, cell_inches: tuple[float, float]) -> SizeMap:
        """The size map, its ``largest_dot`` fitted to a cell of this size when unset."""
        if self.size.largest_dot is not None:
            return self.size
        side = FIT * min(cell_inches) * 72
        return SizeMap(**{**self.size.__dict__, "largest_dot": max(side * side, 1.0)})

    def plan(self, cell_inches, cmap, norm):
        """The marsilea layer drawing the dots (the board adds it on its main canvas)."""
        self.size = self.resolved(cell_inches)
        self.cmap, self.norm = cmap, norm
        return _dot_layer(self)

    def legends(self) -> list:
        """The size legend, the halves' legend when split, and the notes."""
        size = self.size if self.size.largest_dot is not None else self.resolved(ESTIMATE)
        boxes = [size_legend(size)]
        if len(self.layers) == 2:
            boxes.append(halves_legend([name for name, _, _ in self.layers]))
            if any(empty_halves(np.asarray(f, dtype=np.float64)).any() for *_, f in self.layers):
                entry = (lg.NO_CELLS, lg.NO_CELLS_FACE, lg.NO_CELLS_HATCH)
                boxes.append(lg.category_legend(None, [entry]))
        if self.notes:
            boxes.append(notes_box(self.notes))
        return boxes

    def mark_glyph(self) -> MarkGlyph:
        """The glyph of a marked dot (e.g. significant): a ring on the outline of the
        largest dot, so that the dot's colour and size stay readable."""
        size = self.size if self.size.largest_dot is not None else self.resolved(ESTIMATE)
        return ring_glyph(float(np.sqrt(size.largest_dot)))

    def draw(self, ax, arrays: tuple) -> None:
        """One scatter per layer on ``ax`` (one block of the board)."""
        n = len(self.layers)
        n_rows, n_cols = arrays[0].shape
        y, x = np.mgrid[0:n_rows, 0:n_cols] + 0.5
        for k in range(n):
            colours, fractions = arrays[k], arrays[n + k]
            shown = np.isfinite(fractions)
            marker = MarkerStyle("o", fillstyle=HALVES[k]) if n == 2 else "o"
            ax.scatter(
                x[shown],
                y[shown],
                s=self.size.area(fractions[shown]),
                c=colours[shown],
                cmap=self.cmap,
                norm=self.norm,
                marker=marker,
                linewidths=EDGE_WIDTH if self.edge else 0,
                edgecolors=EDGE_COLOR,
                plotnonfinite=True,
                gid=f"dots:{self.layers[k][0]}",
            )
            if n == 2:
                _hatch_halves(ax, empty_halves(fractions), k, n_rows)
        ax.set_xlim(0, n_cols)
        ax.set_ylim(n_rows, 0)
        ax.set_axis_off()


def empty_halves(fractions: np.ndarray) -> np.ndarray:
    """The columns of a half's fractions without cells: no fraction at all (a group
    with cells has one for every gene)."""
    return ~np.isfinite(fractions).any(axis=0)


def _hatch_halves(ax, empty: np.ndarray, k: int, n_rows: int) -> None:
    """Grey, hatched half columns (left: ``k=0``) where a split half has no cells, as
    the heatmap board hatches an empty column."""
    for j in np.flatnonzero(empty):
        ax.add_patch(lg.no_cells_patch(j + 0.5 * k, 0, 0.5, n_rows))


def _dot_layer(body: DotBody):
    from ._marsilea import mp

    class DotLayer(mp.base.RenderPlan):
        render_main = True

        def __init__(self):
            colours = [np.asarray(c, dtype=np.float64) for _, c, _ in body.layers]
            fractions = [np.asarray(f, dtype=np.float64) for _, _, f in body.layers]
            self.set_data(*colours, *fractions)

        def render_ax(self, spec):
            body.draw(spec.ax, tuple(spec.data))

        def get_legends(self):
            return None

    return DotLayer()


def size_legend(size: SizeMap) -> VPacker:
    """Reference dots at round fractions, in percent, drawn with the dots' size map."""
    refs = size.references()
    diameters = [float(np.sqrt(size.area(f))) for f in refs]
    tall = max(max(diameters), lg.FONT * 1.2)
    items = []
    for f, d in zip(refs, diameters, strict=True):
        area = DrawingArea(tall, tall, 0, 0)
        dot = Circle((tall / 2, tall / 2), d / 2, facecolor="0.35", edgecolor="none")
        dot.set_gid(f"size_legend:{f:g}")
        area.add_artist(dot)
        text = TextArea(f"{100 * f:g}%", textprops={"fontsize": lg.FONT})
        items.append(HPacker(children=[area, text], align="center", pad=0, sep=3))
    head = TextArea("cells expressing", textprops={"fontsize": lg.TITLE_FONT, "weight": "bold"})
    return VPacker(children=[head, *items], align="left", pad=0, sep=2)


def halves_legend(names: list[str]) -> VPacker:
    """Which dataset each half dot shows (left, right)."""
    rows = []
    r = lg.SWATCH
    for name, (lo, hi) in zip(names, ((90, 270), (270, 90)), strict=True):
        area = DrawingArea(2 * r, 2 * r, 0, 0)
        area.add_artist(Wedge((r, r), r, lo, hi, facecolor="0.35", edgecolor="none"))
        text = TextArea(clean_label(name), textprops={"fontsize": lg.FONT})
        rows.append(HPacker(children=[area, text], align="center", pad=0, sep=3))
    head = TextArea("half dots", textprops={"fontsize": lg.TITLE_FONT, "weight": "bold"})
    return VPacker(children=[head, *rows], align="left", pad=0, sep=2)


def notes_box(notes: list[str]) -> VPacker:
    """The notes (e.g. groups with few cells), wrapped to the legend column."""
    import textwrap

    chars = int(NOTE_WIDTH / (lg.FONT * 0.5))
    lines = [line for n in notes for line in textwrap.wrap(clean_label(n), chars)]
    text = TextArea("\n".join(lines), textprops={"fontsize": lg.FONT, "color": "0.3"})
    return VPacker(children=[text], align="left", pad=0, sep=0)
