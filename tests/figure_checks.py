"""Checks that read a drawn matplotlib figure back: texts, print size, legends, bar colours.

Every function takes a :class:`matplotlib.figure.Figure`. The text checks look only at the
text artists that a draw of the figure actually renders (visible, non-empty, inside a
visible parent), so hidden legends, tick labels of switched-off axes and empty strings are
ignored. The shared figure rules (issue 12) they implement:

- PRINT: the figure is scaled uniformly to fit 180 x 240 mm (7.087 x 9.449 in),
  ``s = min(1, 7.087 / W, 9.449 / H)``; every text must have ``fontsize * s >= 6`` pt.
- NO CLIPPING: every text's window extent lies inside the figure bbox.
- NO OVERLAP: the extents of two texts do not intersect (rotated texts are compared as
  rotated rectangles, not as their axis-aligned bounding boxes).
- LEGEND COMPLETE: every category drawn has a legend entry with exactly its colour.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from matplotlib.collections import PathCollection, QuadMesh
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.offsetbox import DrawingArea, HPacker, TextArea, VPacker
from matplotlib.patches import Patch
from matplotlib.text import Text

PRINT_W, PRINT_H = 7.087, 9.449  # inches: 180 x 240 mm
MIN_PRINT_PT = 6.0
TOL_PX = 1.0


# ---------------------------------------------------------------- texts


@contextmanager
def _recording_text_draws(drawn: dict):
    """Record every Text that a figure draw renders (``id -> artist``)."""
    original = Text.draw

    def draw(self, renderer):
        if self.get_visible() and self.get_text().strip():
            drawn[id(self)] = self
        return original(self, renderer)

    Text.draw = draw
    try:
        yield
    finally:
        Text.draw = original


def visible_texts(fig: Figure) -> list[Text]:
    """The Text artists a draw of ``fig`` renders: titles, labels, tick labels, legend
    texts, annotations; visible and non-empty. Draws the figure (which also lays it out)."""
    drawn: dict = {}
    with _recording_text_draws(drawn):
        fig.canvas.draw()
    return list(drawn.values())


def _texts(fig: Figure, texts: Iterable[Text] | None) -> list[Text]:
    return visible_texts(fig) if texts is None else list(texts)


def _renderer(fig: Figure):
    return fig.canvas.get_renderer()


def describe(text: Text) -> str:
    """A short human-readable name of a text artist, for failure messages."""
    return f"{text.get_text()[:40]!r}@{text.get_fontsize():.1f}pt"


def clipped_texts(fig: Figure, texts: Iterable[Text] | None = None, tol: float = TOL_PX):
    """Texts whose window extent leaves the figure by more than ``tol`` pixels."""
    texts = _texts(fig, texts)
    renderer = _renderer(fig)
    box = fig.bbox
    out = []
    for t in texts:
        e = t.get_window_extent(renderer)
        if e.x0 < box.x0 - tol or e.y0 < box.y0 - tol or e.x1 > box.x1 + tol or e.y1 > box.y1 + tol:
            out.append(t)
    return out


def _corners(text: Text, renderer) -> np.ndarray:
    """The four corners (display pixels) of the text's rotated rectangle.

    The axis-aligned window extent of a rotated text is the bounding box of its rotated
    rectangle, centred on it; the unrotated size comes from the same text at rotation 0.
    """
    extent = text.get_window_extent(renderer)
    angle = text.get_rotation() % 180.0
    if min(angle, 180.0 - angle) < 0.01 or abs(angle - 90.0) < 0.01:
        return np.array([[extent.x0, extent.y0], [extent.x1, extent.y0],
                         [extent.x1, extent.y1], [extent.x0, extent.y1]])  # fmt: skip
    rotation = text.get_rotation()
    try:
        text.set_rotation(0)
        flat = text.get_window_extent(renderer)
    finally:
        text.set_rotation(rotation)
    w, h = flat.width / 2, flat.height / 2
    theta = np.deg2rad(rotation)
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    local = np.array([[-w, -h], [w, -h], [w, h], [-w, h]])
    centre = np.array([(extent.x0 + extent.x1) / 2, (extent.y0 + extent.y1) / 2])
    return local @ rot.T + centre


def _shrink(poly: np.ndarray, by: float) -> np.ndarray:
    """Move each corner ``by`` pixels towards the centre along both edge directions."""
    centre = poly.mean(axis=0)
    e1 = poly[1] - poly[0]
    e2 = poly[3] - poly[0]
    u1 = e1 / max(np.linalg.norm(e1), 1e-9)
    u2 = e2 / max(np.linalg.norm(e2), 1e-9)
    out = poly.copy()
    for i, p in enumerate(poly):
        d = p - centre
        out[i] = p - by * np.sign(d @ u1) * u1 - by * np.sign(d @ u2) * u2
    return out


def _polygons_intersect(a: np.ndarray, b: np.ndarray) -> bool:
    """Separating-axis test for two convex quadrilaterals."""
    for poly in (a, b):
        for i in range(4):
            edge = poly[(i + 1) % 4] - poly[i]
            axis = np.array([-edge[1], edge[0]])
            pa, pb = a @ axis, b @ axis
            if pa.max() <= pb.min() or pb.max() <= pa.min():
                return False
    return True


def overlapping_texts(fig: Figure, texts: Iterable[Text] | None = None, tol: float = TOL_PX):
    """Pairs of distinct texts whose extents intersect by more than ``tol`` pixels
    (each rectangle is shrunk by ``tol / 2`` on every side before the test)."""
    texts = _texts(fig, texts)
    renderer = _renderer(fig)
    polys = [_shrink(_corners(t, renderer), tol / 2) for t in texts]
    boxes = [(p.min(axis=0), p.max(axis=0)) for p in polys]
    pairs = []
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            (lo1, hi1), (lo2, hi2) = boxes[i], boxes[j]
            if np.any(hi1 <= lo2) or np.any(hi2 <= lo1):
                continue
            if _polygons_intersect(polys[i], polys[j]):
                pairs.append((texts[i], texts[j]))
    return pairs


def print_scale(fig: Figure) -> float:
    """The uniform scale that places ``fig`` on a 180 x 240 mm page (never enlarged)."""
    w, h = fig.get_size_inches()
    return float(min(1.0, PRINT_W / w, PRINT_H / h))


def smallest_print_font(fig: Figure, texts: Iterable[Text] | None = None) -> float:
    """The smallest font size (pt) of a visible text once the figure is at print size."""
    texts = _texts(fig, texts)
    if not texts:
        return float("inf")
    return min(t.get_fontsize() for t in texts) * print_scale(fig)


def small_print_texts(fig: Figure, texts: Iterable[Text] | None = None, minimum=MIN_PRINT_PT):
    """The texts below ``minimum`` pt at print size."""
    scale = print_scale(fig)
    return [t for t in _texts(fig, texts) if t.get_fontsize() * scale < minimum - 1e-9]


# ---------------------------------------------------------------- legends


@dataclass
class LegendEntry:
    """One legend entry as drawn: its legend's title, its label, its colour and where
    its text is (display pixels: left edge, top edge)."""

    title: str
    label: str
    color: str
    x0: float = 0.0
    y1: float = 0.0


def _handle_color(artists) -> str | None:
    """The face colour of a legend handle (a patch, a marker line or a scatter sample)."""
    for a in artists:
        if isinstance(a, Patch):
            return to_hex(a.get_facecolor(), keep_alpha=False)
        if isinstance(a, Line2D):
            marker = a.get_marker()
            if marker not in (None, "", "None", " "):
                return to_hex(a.get_markerfacecolor(), keep_alpha=False)
            return to_hex(a.get_color(), keep_alpha=False)
        if isinstance(a, PathCollection):
            colors = a.get_facecolors()
            if len(colors):
                return to_hex(colors[0], keep_alpha=False)
    return None


def _walk(artist, parent, parents: dict, seen: set):
    for child in artist.get_children():
        if id(child) in seen:
            continue
        seen.add(id(child))
        parents[id(child)] = parent if parent is not None else artist
        _walk(child, child, parents, seen)


def _legend_title(item, parents: dict) -> str:
    """The title of the legend an entry belongs to: the first packer above it whose first
    child is a text box (matplotlib and legendkit pack ``[title, entries]``)."""
    node = parents.get(id(item))
    while node is not None:
        if isinstance(node, VPacker | HPacker):
            kids = node.get_children()
            if len(kids) == 2 and isinstance(kids[0], TextArea) and not _is_entry(node):
                return kids[0].get_text()
        node = parents.get(id(node))
    return ""


def _is_entry(box) -> bool:
    kids = box.get_children()
    return (
        isinstance(box, HPacker)
        and len(kids) == 2
        and {type(k) for k in kids} >= {TextArea}
        and any(isinstance(k, DrawingArea) for k in kids)
    )


def legend_items(fig: Figure, texts: Iterable[Text] | None = None) -> list[LegendEntry]:
    """Every drawn legend entry, in drawn order: matplotlib legends (figure and axes) and
    the legendkit legends marsilea stacks into its legend axes (their handle/text boxes
    are moved into one offset box, so entries are read from the box tree)."""
    drawn = {id(t) for t in _texts(fig, texts)}
    parents: dict = {}
    _walk(fig, None, parents, set())
    entries, seen = [], set()
    for box in fig.findobj(HPacker):
        if id(box) in seen or not _is_entry(box):
            continue
        seen.add(id(box))
        area = next(k for k in box.get_children() if isinstance(k, DrawingArea))
        label = next(k for k in box.get_children() if isinstance(k, TextArea))
        if id(label._text) not in drawn:
            continue
        color = _handle_color(area.get_children())
        title = _legend_title(box, parents)
        where = label._text.get_window_extent(_renderer(fig))
        entries.append(LegendEntry(title, label.get_text(), color, where.x0, where.y1))
    return entries


def legend_entries(fig: Figure, texts: Iterable[Text] | None = None) -> dict[str, str]:
    """``{label: "#rrggbb"}`` across all drawn legends (see :func:`legend_items`)."""
    return {e.label: e.color for e in legend_items(fig, texts)}


def legend_groups(fig: Figure, texts: Iterable[Text] | None = None) -> dict[str, dict]:
    """``{legend title: {label: "#rrggbb"}}``, in drawn order."""
    out: dict[str, dict] = {}
    for e in legend_items(fig, texts):
        out.setdefault(e.title, {})[e.label] = e.color
    return out


def legend_reading_order(fig: Figure, texts: Iterable[Text] | None = None) -> list[str]:
    """The legend titles in reading order: column by column (left to right), each from
    the top down; a legend is placed by its first entry."""
    first: dict[str, tuple] = {}
    for e in legend_items(fig, texts):
        first.setdefault(e.title, (round(e.x0 / 20), -e.y1))
    return sorted(first, key=first.get)


# ---------------------------------------------------------------- bars and points


def bar_cell_colors(axes: Iterable) -> list[str]:
    """The colours of an annotation bar's cells in reading order (left to right for a
    column bar, top to bottom for a row bar), across its blocks (one axes per block).

    Reads the drawn QuadMesh face colours, so call after ``fig.canvas.draw()``.
    """
    cells = []
    for ax in axes:
        for mesh in ax.findobj(QuadMesh):
            colors = mesh.get_facecolors()
            coords = mesh.get_coordinates()  # (ny + 1, nx + 1, 2)
            centres = (coords[:-1, :-1] + coords[1:, 1:]) / 2
            centres = ax.transData.transform(centres.reshape(-1, 2))
            if len(colors) != len(centres):
                continue
            cells += [
                (round(x), round(-y), to_hex(c, keep_alpha=False))
                for (x, y), c in zip(centres, colors, strict=True)
            ]
    cells.sort(key=lambda c: (c[0], c[1]))  # a column bar by x, a row bar from the top
    return [c[2] for c in cells]


def bar_category_colors(axes: Iterable, categories: Iterable) -> dict[str, set]:
    """``{category: {colours drawn for it}}`` for a bar whose cells show ``categories``
    (one per cell, in reading order). A right bar has exactly one colour per category."""
    colors = bar_cell_colors(axes)
    categories = [str(c) for c in categories]
    if len(colors) != len(categories):
        raise AssertionError(f"the bar has {len(colors)} cells but {len(categories)} categories")
    out: dict[str, set] = {}
    for cat, col in zip(categories, colors, strict=True):
        out.setdefault(cat, set()).add(col)
    return out


def point_colors(axes: Iterable) -> list[str]:
    """The face colour of every scatter point drawn in ``axes`` (hex, no alpha)."""
    out = []
    for ax in axes:
        for coll in ax.collections:
            if isinstance(coll, PathCollection) and len(coll.get_offsets()):
                faces = coll.get_facecolors()
                if len(faces) == 1:
                    faces = np.repeat(faces, len(coll.get_offsets()), axis=0)
                out += [to_hex(c, keep_alpha=False) for c in faces]
    return out
