"""Vector export: the rasterised parts of a figure are drawn in one raster pass.

matplotlib rasterises each run of ``rasterized=True`` artists separately: for every
run it allocates a fresh canvas the size of the whole figure at the target DPI,
draws the run, scans the whole canvas for what was drawn and embeds that crop. A
heatmap board has one mesh per block, each in its own axes, so a PDF of 24 blocks
allocated and scanned 24 full-page canvases (about 40% of the PDF time).

:func:`rasterised_once` draws every rasterised artist into a single canvas at the
target DPI before the vector pass, crops each one's pixels, and lets each artist
embed its crop where it is drawn (same place, same order, same pixels as
matplotlib's own mixed-mode rendering). Text is never rasterised.
"""

from __future__ import annotations

import types
from contextlib import contextmanager

import numpy as np

# Pixels around an artist's clip box scanned for its drawing (antialiased edges).
_MARGIN = 3


def _rasterised(figure) -> list:
    """The visible ``rasterized=True`` artists placed directly in an axes of ``figure``.

    Artists inside legends and other offset boxes are left to matplotlib (their
    position is only known while the figure is drawn), and so are axes rasterised as a
    whole or with a rasterisation z-order.
    """
    found = []
    for ax in figure.axes:
        if ax.get_rasterized() or ax.get_rasterization_zorder() is not None:
            continue
        found += [a for a in ax.get_children() if a.get_rasterized() and a.get_visible()]
    return found


def _region(artist, renderer, shape) -> tuple[slice, slice]:
    """Rows and columns of the canvas (top row first) the artist may draw on."""
    height, width = shape
    box = artist.get_clip_box() if artist.get_clip_on() else None
    if box is None:
        try:
            box = artist.get_window_extent(renderer)
        except Exception:  # an artist without an extent: scan the whole canvas
            return slice(0, height), slice(0, width)
    if not np.all(np.isfinite(box.extents)):
        return slice(0, height), slice(0, width)
    x0 = max(int(np.floor(box.x0)) - _MARGIN, 0)
    x1 = min(int(np.ceil(box.x1)) + _MARGIN, width)
    y0 = max(int(np.floor(height - box.y1)) - _MARGIN, 0)
    y1 = min(int(np.ceil(height - box.y0)) + _MARGIN, height)
    return slice(y0, max(y0, y1)), slice(x0, max(x0, x1))


def _crop(canvas: np.ndarray, rows: slice, cols: slice):
    """The drawn part of ``canvas[rows, cols]`` (a copy) and its top-left corner; the
    region is cleared for the next artist."""
    alpha = canvas[rows, cols, 3]
    used_rows = np.flatnonzero(alpha.any(axis=1))
    used_cols = np.flatnonzero(alpha.any(axis=0))
    if used_rows.size == 0:
        return None
    r0, r1 = rows.start + used_rows[0], rows.start + used_rows[-1] + 1
    c0, c1 = cols.start + used_cols[0], cols.start + used_cols[-1] + 1
    image = canvas[r0:r1, c0:c1].copy()
    canvas[rows, cols] = 0
    return image, r0, r1, c0


def _embed(crop, dpi: float, height_px: float):
    """A ``draw`` that embeds a pre-rendered crop as matplotlib's mixed mode does."""

    def draw(self, renderer) -> None:
        if crop is None:
            return
        image, _r0, r1, c0 = crop
        scale = self.figure.dpi / dpi  # the vector pass's dpi (72) over the raster dpi
        gc = renderer.new_gc()
        renderer.draw_image(gc, c0 * scale, (height_px - r1) * scale, image[::-1])
        gc.restore()

    return draw


def _render(figure, artists: list, dpi: float) -> tuple[list, float]:
    from matplotlib.backends.backend_agg import RendererAgg

    width, height = figure.get_size_inches()
    saved = figure.dpi
    figure.dpi = dpi
    try:
        renderer = RendererAgg(width * dpi, height * dpi, dpi)
        canvas = np.asarray(renderer.buffer_rgba())
        crops = []
        for artist in artists:
            rows, cols = _region(artist, renderer, canvas.shape[:2])
            artist.draw(renderer)
            crops.append(_crop(canvas, rows, cols))
    finally:
        figure.dpi = saved
    return crops, height * dpi


@contextmanager
def rasterised_once(figure, dpi: float):
    """While writing a vector format: every rasterised artist of ``figure`` embeds a
    crop of one shared raster pass at ``dpi`` instead of rasterising on its own."""
    artists = _rasterised(figure)
    if len(artists) < 2:  # one run costs matplotlib one canvas too: nothing to gain
        yield
        return
    crops, height_px = _render(figure, artists, dpi)
    for artist, crop in zip(artists, crops, strict=True):
        artist.draw = types.MethodType(_embed(crop, dpi, height_px), artist)
    try:
        yield
    finally:
        for artist in artists:
            del artist.draw
