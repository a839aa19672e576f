"""Drawing a grouped heatmap with marsilea: body, annotation bars, gaps, dendrograms, legends.

This module takes frames and draws them; it knows nothing of AnnData.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .._labels import LABEL_SEP, text
from .._limits import check_figure_inches
from .._option_checks import option_error
from .._text import clean_label, literal_rc, literal_text
from .._validate import check_choice, check_number
from . import _board_legends as lg
from ._cell_marks import dot_glyph, draw_cell_marks, marks_legend
from ._cmaps import resolve_cmap
from ._figure_speed import BoardFigure, gc_paused

if TYPE_CHECKING:  # marsilea (and seaborn, scipy.stats) load when a board is drawn
    import marsilea as ma

# The default figure is designed at print size: it fits a 180 x 240 mm page (PAGE,
# inches) up to MAX_PRINT_ROWS rows, with every text at least 6 pt. Cells take the
# room the page leaves, between a minimum (a 6-pt label per row or column) and a maximum.
PAGE = (180 / 25.4, 240 / 25.4)
MAX_PRINT_ROWS = 100
ROW_MIN, ROW_MAX = 0.084, 0.16  # inches per row (gene)
COL_MIN, COL_MAX = 0.1, 0.2  # inches per column: a rotated 6-pt label is ~0.1 in thick
LARGE_CELL = 0.1  # inches: cells this size or more get 7-pt tick labels, smaller ones 6 pt
CELL_W = 0.32  # inches per column (correlation heatmap)
CELL_H = 0.22  # inches per row (correlation heatmap)
BAR = 0.12  # inches, annotation bar thickness
GAP_IN = 0.04  # inches between row or column blocks (0.03 past 10 blocks)
GAP = 0.012  # fraction of the body between blocks (correlation heatmap)
MIN_BODY = 0.8  # inches
MARGIN = 0.05  # inches around everything
FILL_MIN = 2.0  # inches: the narrowest body of a page-filling (per-cell) heatmap
TEXT_SLACK = 0.07  # of the legends' width: room for hinted text at other resolutions
FIT_SAFETY = 0.04  # inches kept free of the page width by the default body
LEGEND_PAD = 0.12  # inches between the labels and the legends
COLOUR_BAR_W = 0.7  # inches, about, the colour bar and its labels
TITLE_SIZE = 9
BAR_NAME_SIZE = 7  # points, the name beside an annotation bar
LABELS = ("auto", "all", "x", "y", "none")
EXTENDS = ("neither", "min", "max", "both")

BLOCK_TITLE_SIZE = 8  # points, the title of a column block
NOTE_SIZE = 7  # points, the note under a column block


@dataclass
class HeatmapSpec:
    """Everything the board needs, already arranged.

    ``data`` is drawn as is. ``col_meta`` has one row per column of ``data``
    (same order) and one column per annotation bar; ``col_split`` names the
    bar whose blocks get gaps. Rows are in blocks when ``row_blocks`` is set.
    Linkages are per block, in the drawn order (see ``cluster_order``).

    ``labels`` is ``"auto"`` (gene labels; column labels only when the bars do not
    already name every column, see :func:`shown_labels`), ``"all"``, ``"x"``, ``"y"``
    or ``"none"``. ``empty_columns`` are columns of ``data`` with no cells: drawn grey
    and hatched, with a "no cells" legend entry. ``extend`` says which ends of the
    colour bar get a triangle; ``None`` works it out from the data and the limits
    (:func:`data_extend`).
    """

    data: pd.DataFrame
    col_meta: pd.DataFrame
    col_palettes: dict
    col_split: str | None = None
    row_blocks: list[str] | None = None
    row_block_name: str | None = None
    row_palette: dict | None = None
    row_bar_legend: bool = True
    row_linkage: dict | None = None
    col_linkage: dict | None = None
    cmap: object = "RdBu_r"
    vmin: float | None = None
    vmax: float | None = None
    vcenter: float | None = None
    cbar_label: str = ""
    labels: str = "all"
    title: str | None = None
    figsize: tuple[float, float] | None = None
    body_width: float | None = None  # inches; default grows with the number of columns
    # per-cell heatmaps: the body takes the page width left by the labels and legends
    # (at least FILL_MIN inches) instead of a width per column
    fill_width: bool = False
    empty_columns: list | None = None
    extend: str | None = None

    # column blocks (col_split): a title over each, fitted to its width (wrapped, then
    # shortened with "…") so that titles never overlap; an optional note under each;
    # the gap between blocks in inches (default: GAP of the body width)
    col_split_titles: bool = False
    col_split_notes: dict | None = None
    col_gap: float | None = None
    nan_color: str | None = None  # NaN cells (default: the "no cells" grey)
    # marks on cells (e.g. significant differences): an object with ``significant`` (a
    # boolean frame aligned to ``data``) and ``label`` (its legend entry), see
    # :class:`sc_heatmaps.arrange._significance.CellMarks`; drawn by pl/_cell_marks.py
    marks: object = None
    # the body kind: None draws a colour mesh; else an object with ``plan(cell_inches,
    # cmap, norm)`` (a marsilea layer for the main canvas) and ``legends()`` (legend
    # boxes after the colour bar), e.g. :class:`sc_heatmaps.pl._dot_body.DotBody`
    body: object = None
    _axes: dict = field(default_factory=dict)


def _block_order(labels: list[str]) -> list[str]:
    return list(dict.fromkeys(labels))


def shown_labels(spec: HeatmapSpec) -> tuple[bool, bool]:
    """Whether the row (gene) and the column labels are drawn.

    ``"auto"`` always draws the row labels, and the column labels only when the bars
    do not already say what each column is: when there are no bars, or when a
    column's label is not its bar values joined by ``LABEL_SEP`` (the grouped heatmap's
    "ctrl / B cells" under a dataset bar and a cluster bar says nothing new).
    """
    check_choice("labels", spec.labels, LABELS)
    if spec.labels != "auto":
        return spec.labels in ("all", "y"), spec.labels in ("all", "x")
    meta = spec.col_meta
    if meta.empty or len(meta.columns) == 0:
        return True, True
    # the bar values as plain text: a label that had to quote a part says more
    bars = [LABEL_SEP.join(map(text, row)) for row in meta.itertuples(index=False)]
    return True, [text(c) for c in spec.data.columns] != bars


def data_extend(values, vmin: float | None, vmax: float | None) -> str:
    """Which ends of the colour bar get a triangle: ``"min"`` when some finite value is
    below ``vmin``, ``"max"`` when some is above ``vmax``, ``"both"`` or ``"neither"``."""
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    below = vmin is not None and finite.size > 0 and bool(finite.min() < vmin)
    above = vmax is not None and finite.size > 0 and bool(finite.max() > vmax)
    return EXTENDS[below + 2 * above]


def _linkage_arg(linkage: dict | None):
    """marsilea wants an array when unsplit, a dict (no ``None``) when split.

    A single block (unlabelled, or the one block left after selecting genes or
    clusters) is not split: the board draws it as one, so it takes the array.
    """
    if linkage is None:
        return None
    if len(linkage) == 1:
        return next(iter(linkage.values()))
    return {k: (np.empty((0, 4)) if z is None else z) for k, z in linkage.items()}


class HeatmapBoard:
    """Prepares a marsilea board from a :class:`HeatmapSpec` and draws it."""

    def __init__(self, spec: HeatmapSpec):
        _check_limits(spec.vmin, spec.vmax, spec.vcenter)
        if spec.extend is not None:
            check_choice("extend", spec.extend, EXTENDS)
        self.spec = spec
        self.notes: list[str] = []  # what the board did that the reader should know
        self.show_rows, self.show_cols = shown_labels(spec)
        values = spec.data.to_numpy(dtype=np.float64)
        self.extend = spec.extend or data_extend(values, spec.vmin, spec.vmax)
        self.cmap = resolve_cmap(spec.cmap).with_extremes(bad=spec.nan_color or lg.NO_CELLS_FACE)
        self._size = (MIN_BODY, MIN_BODY)
        self._legend_budget = PAGE[0] / 2  # inches of width for the legends (see _chrome)
        self.body = self._default_body()
        self._check_size(*spec.data.shape)

    def _n_blocks(self) -> tuple[int, int]:
        """Number of row blocks and of column blocks (each pair separated by a gap)."""
        s = self.spec
        rows = len(_block_order(s.row_blocks)) if s.row_blocks is not None else 1
        if s.col_split is None:
            return rows, 1
        return rows, len(_block_order([str(v) for v in s.col_meta[s.col_split]]))

    def _gaps(self) -> tuple[float, float]:
        """One gap (inches) between row blocks and one between column blocks."""
        return tuple(GAP_IN if n <= 10 else 0.03 for n in self._n_blocks())

    def _gap_totals(self) -> tuple[float, float]:
        """All the gaps (inches) down the rows and across the columns."""
        return tuple(g * (n - 1) for g, n in zip(self._gaps(), self._n_blocks(), strict=True))

    def _default_body(self) -> tuple[float, float]:
        """Body size (inches) so that the figure fits the page: each row and column
        takes the room left by the labels, bars and legends, within its limits."""
        s = self.spec
        n_rows, n_cols = s.data.shape
        row_gaps, col_gaps = self._gap_totals()
        chrome_w, chrome_h = self._chrome()
        row_h = _clamp((PAGE[1] - chrome_h - row_gaps) / max(n_rows, 1), ROW_MIN, ROW_MAX)
        height = n_rows * row_h + row_gaps
        if height + self._above < PAGE[1] - chrome_h - 0.01:
            # a short body: the legends stack in less room, so in more columns, wider
            chrome_w = self._around + self._legend_size(height + self._above)[0] * (1 + TEXT_SLACK)
        chrome_w += FIT_SAFETY  # the text widths above are estimates: one layout, not two
        if s.body_width is not None:
            width = s.body_width
        elif s.fill_width:
            width = max(FILL_MIN, PAGE[0] - chrome_w - col_gaps) + col_gaps
        else:
            col_w = _clamp((PAGE[0] - chrome_w - col_gaps) / max(n_cols, 1), COL_MIN, COL_MAX)
            width = n_cols * col_w + col_gaps
        return max(MIN_BODY, width), max(MIN_BODY / 2, height)

    def _chrome(self) -> tuple[float, float]:
        """Inches the labels, bars, dendrograms, title, legends and margins take beside
        (width) and above and below (height) the body: an estimate before drawing."""
        s = self.spec
        bars = [k for k in s.col_meta.columns if k in s.col_palettes]
        above = len(bars) * (BAR + 0.03) + (0.43 if s.col_linkage is not None else 0.0)
        if s.title:
            above += (clean_label(s.title).count("\n") + 1) * TITLE_SIZE * 1.25 / 72 + 0.1
        below = 0.0
        if self.show_cols:
            below = _max_text_width([str(c) for c in s.data.columns], 7) + 0.04
        if s.row_blocks is not None and s.row_block_name and s.row_bar_legend:
            below = max(below, _max_text_width([s.row_block_name], BAR_NAME_SIZE) + 0.05)
        right = _max_text_width(bars, BAR_NAME_SIZE) + 0.05 if bars else 0.0
        if self.show_rows:
            genes = [str(g) for g in s.data.index.get_level_values(-1)]
            right = max(right, _max_text_width(genes, 7) + 0.04)
        left = (BAR + 0.04 if s.row_blocks is not None else 0.0) + (
            0.52 if s.row_linkage is not None else 0.0
        )
        high = 2 * MARGIN + above + below
        n_cols = s.data.shape[1]
        narrowest = s.body_width if s.body_width is not None else n_cols * COL_MIN
        narrowest = FILL_MIN if s.body_width is None and s.fill_width else narrowest
        around = 2 * MARGIN + left + right + LEGEND_PAD
        self._around, self._above = around, above
        self._legend_budget = max(1.0, PAGE[0] - around - narrowest - self._gap_totals()[1])
        legend = self._legend_size(PAGE[1] - high)[0]
        return around + legend * (1 + TEXT_SLACK), high

    def _check_size(self, n_rows: int, n_cols: int) -> None:
        """Refuse a figure over the size limit before drawing; fit ``figsize`` from inside it."""
        what = f"{n_rows:,} rows x {n_cols:,} columns"
        if self.spec.figsize is None:
            check_figure_inches(*self.body, what)
            return
        check_figure_inches(*self.spec.figsize, f"{what} with figsize={self.spec.figsize!r}")
        self.body = tuple(
            max(MIN_BODY, min(b, f)) for b, f in zip(self.body, self.spec.figsize, strict=True)
        )

    def _build(self, width: float, height: float) -> ma.Heatmap:
        from ._marsilea import ma

        s = self.spec
        self._size = (width, height)
        h = (
            self._body(width, height)
            if s.body is not None
            else ma.Heatmap(
                s.data.to_numpy(dtype=np.float64),
                cmap=self.cmap,
                vmin=s.vmin,
                vmax=s.vmax,
                center=s.vcenter,
                label=clean_label(s.cbar_label),
                width=width,
                height=height,
                rasterized=True,
                name="body",
            )
        )
        self._add_rows(h)
        self._add_cols(h)
        self._add_labels(h)
        self._add_block_texts(h, width)
        if s.title:
            title = _wrap(clean_label(s.title), max(width, 3.0))
            h.add_title(top=title, pad=0.08, fontsize=TITLE_SIZE)
        return h

    def _body(self, width: float, height: float) -> ma.ClusterBoard:
        """A main canvas drawn by the spec's body kind, with the cells' size in inches."""
        from matplotlib.colors import Normalize, TwoSlopeNorm

        from ._marsilea import ma

        s = self.spec
        values = s.data.to_numpy(dtype=np.float64)
        n_rows, n_cols = values.shape
        row_gaps, col_gaps = self._gap_totals()
        cell = ((width - col_gaps) / max(n_cols, 1), (height - row_gaps) / max(n_rows, 1))
        finite = values[np.isfinite(values)]
        lo = s.vmin if s.vmin is not None else (finite.min() if finite.size else 0.0)
        hi = s.vmax if s.vmax is not None else (finite.max() if finite.size else 1.0)
        norm = Normalize(lo, hi) if s.vcenter is None else TwoSlopeNorm(s.vcenter, lo, hi)
        h = ma.ClusterBoard(values, width=width, height=height)
        h.add_layer(s.body.plan(cell, self.cmap, norm), legend=False, name="body")
        return h

    def _tick_sizes(self) -> tuple[float, float]:
        """Font sizes (points) of the row and the column labels: 7 pt when the cells
        are large enough for it, else 6 pt (the smallest size a journal prints)."""
        n_rows, n_cols = self.spec.data.shape
        row_gaps, col_gaps = self._gap_totals()
        row = (self._size[1] - row_gaps) / max(n_rows, 1)
        col = (self._size[0] - col_gaps) / max(n_cols, 1)
        return (7 if row >= LARGE_CELL else 6), (7 if col >= LARGE_CELL else 6)

    def _add_rows(self, h: ma.Heatmap) -> None:
        from ._marsilea import mp

        s = self.spec
        if s.row_blocks is not None:
            order = _block_order(s.row_blocks)
            if len(order) > 1:
                h.group_rows(s.row_blocks, order=order, spacing=self._gaps()[0] / self._size[1])
            bar = mp.Colors(
                [clean_label(b) for b in s.row_blocks],
                palette={clean_label(k): c for k, c in (s.row_palette or {}).items()},
                label=clean_label(s.row_block_name),
                label_loc="bottom",
                label_props={"rotation": 90, "fontsize": BAR_NAME_SIZE},
            )
            if not s.row_bar_legend:  # a column bar of that name says what its colours are
                _unnamed(bar)
            h.add_left(bar, size=BAR, pad=0.04, name="row_bar")
        if s.row_linkage is not None:
            h.add_dendrogram(
                "left",
                linkage=_linkage_arg(s.row_linkage),
                add_meta=False,
                name="row_dendrogram",
                size=0.5,
                pad=0.02,
            )

    def _add_cols(self, h: ma.Heatmap) -> None:
        from ._marsilea import mp

        s = self.spec
        if s.col_split is not None:
            split = [str(v) for v in s.col_meta[s.col_split]]
            order = _block_order(split)
            if len(order) > 1:
                h.group_cols(split, order=order, spacing=self._col_spacing())
        for key in reversed([k for k in s.col_meta.columns if k in s.col_palettes]):
            values = [clean_label(v) for v in s.col_meta[key]]
            present = set(values)
            palette = {clean_label(c): col for c, col in s.col_palettes[key].items()}
            palette = {c: col for c, col in palette.items() if c in present}
            bar = mp.Colors(
                values,
                palette=palette,
                label=clean_label(key),
                label_loc="right",
                label_props={"fontsize": BAR_NAME_SIZE},
            )
            h.add_top(bar, size=BAR, pad=0.03, name=f"col_bar:{key}")
        if s.col_linkage is not None:
            h.add_dendrogram(
                "top",
                linkage=_linkage_arg(s.col_linkage),
                meta_linkage=_chain_linkage(len(s.col_linkage)),
                add_meta=False,
                name="col_dendrogram",
                size=0.5,
                pad=0.03,
            )

    def _col_spacing(self) -> float:
        """Gap between column blocks, as the fraction of the body width marsilea takes."""
        gap = self._gaps()[1] if self.spec.col_gap is None else self.spec.col_gap
        return gap / self._size[0]

    def _add_block_texts(self, h: ma.Heatmap, width: float) -> None:
        """A title over each column block and a note under it, each fitted to its block."""
        from ._marsilea import mp

        s = self.spec
        if s.col_split is None or not (s.col_split_titles or s.col_split_notes):
            return
        split = [str(v) for v in s.col_meta[s.col_split]]
        order = _block_order(split)
        n_gaps = len(order) - 1
        free = width * (1 - self._col_spacing() * n_gaps) if n_gaps else width
        widths = [0.95 * free * split.count(b) / len(split) for b in order]
        if s.col_split_titles:
            names = [clean_label(b) for b in order]
            titles = [fit_text(b, w, BLOCK_TITLE_SIZE) for b, w in zip(names, widths, strict=True)]
            props, size = {"fontsize": BLOCK_TITLE_SIZE}, None
            if any("…" in t and "…" not in b for t, b in zip(titles, names, strict=True)):
                # too narrow to say: each title whole, upright (narrow blocks, long names);
                # marsilea sizes a chunk by its unrotated text, so the size is given
                titles, props = names, {**props, "rotation": 90, "va": "bottom"}
                size = _max_text_width(names, BLOCK_TITLE_SIZE) + 0.08
            chunk = mp.Chunk(titles, props=props, padding=2)
            h.add_top(chunk, size=size, pad=0.03, name="col_block_titles")
        if s.col_split_notes:
            notes = [
                fit_text(clean_label(s.col_split_notes.get(b) or ""), w, NOTE_SIZE, lines=4)
                for b, w in zip(order, widths, strict=True)
            ]
            props = {"fontsize": NOTE_SIZE, "color": "0.3"}
            h.add_bottom(mp.Chunk(notes, props=props, padding=2), pad=0.05, name="col_notes")

    def _add_labels(self, h: ma.Heatmap) -> None:
        from ._marsilea import mp

        s = self.spec
        row_size, col_size = self._tick_sizes()
        if self.show_rows:
            genes = [clean_label(g) for g in s.data.index.get_level_values(-1)]
            labels = _unnamed(mp.Labels(genes, fontsize=row_size))
            h.add_right(labels, pad=0.03, name="row_labels")
        if self.show_cols:
            cols = [clean_label(c) for c in s.data.columns]
            labels = _unnamed(mp.Labels(cols, fontsize=col_size, rotation=90))
            h.add_bottom(labels, pad=0.03, name="col_labels")

    @literal_text
    def plot(self) -> tuple:
        """Draw, with margins wide enough that titles and legends stay inside the figure.

        With ``figsize`` the body is sized so that the whole figure matches it;
        a figsize too small for the labels, bars and legends is an error. The figure is
        a :class:`~sc_heatmaps.pl._figure_speed.BoardFigure`, built with the garbage
        collector paused (the same pixels, built faster).
        """
        with gc_paused():
            return self._plot(plt.figure(FigureClass=BoardFigure))

    def _plot(self, fig) -> tuple:
        width, height = self.body
        margin = np.full(4, MARGIN)  # top, right, bottom, left (inches)
        if self.spec.figsize is None:  # one layout, then widen the margins in place
            board = self._render(fig, width, height, margin)
            _grow_margins(fig, self._overflow(fig))
            smaller = self._fit_page(fig, width, height)
            if smaller is not None:  # the estimate of the room around the body was short
                board = self._render(fig, *smaller, margin)
                _grow_margins(fig, self._overflow(fig))
            self._note_print_size(fig)
            return fig, self._collect_axes(board)
        for _ in range(4):
            board = self._render(fig, width, height, margin)
            spill = self._overflow(fig)

            margin += spill
            new_w, new_h = self._next_body(fig, width, height, spill)
            if spill.max() < 0.01 and abs(new_w - width) < 0.01 and abs(new_h - height) < 0.01:
                break
            width, height = new_w, new_h
        return fig, self._collect_axes(board)

    def _next_body(self, fig, width: float, height: float, spill) -> tuple[float, float]:
        """Body size for the next pass: unchanged, or fitted to ``figsize``."""
        if self.spec.figsize is None:
            return width, height
        fw, fh = fig.get_size_inches()
        tw, th = self.spec.figsize
        new_w = width + (tw - fw) - spill[1] - spill[3]
        new_h = height + (th - fh) - spill[0] - spill[2]
        if new_w < MIN_BODY or new_h < MIN_BODY:
            plt.close(fig)
            raise ValueError(
                f"figsize={self.spec.figsize!r} is too small for the labels, bars, title and "
                f"legends (they need about {fw - width:.1f} x {fh - height:.1f} inches around "
                "the body); enlarge it, or leave figsize=None to size the figure automatically."
            )
        return new_w, new_h

    def _collect_axes(self, board: ma.Heatmap) -> dict:
        names = set(board.get_plot_names()) | {"row_dendrogram", "col_dendrogram"}

        def get(name: str) -> list | None:
            present = name in names and (
                not name.endswith("dendrogram") or getattr(self.spec, name[:3] + "_linkage")
            )
            return _as_list(board.get_ax(name)) if present else None

        return {
            "heatmap": _as_list(board.get_main_ax()),
            "row_bar": get("row_bar"),
            "col_bars": {k: get(f"col_bar:{k}") for k in self.spec.col_meta.columns},
            "row_dendrogram": get("row_dendrogram"),
            "col_dendrogram": get("col_dendrogram"),
            "row_labels": get("row_labels"),
            "col_labels": get("col_labels"),
            "legend": self._legend_ax,
        }

    def _render(self, fig, width: float, height: float, margin) -> ma.Heatmap:
        """One layout of the board on ``fig``: body and pieces, hatched empty columns, legends."""
        fig.clear()
        board = self._build(width, height).set_margin(tuple(margin)).render(figure=fig)
        self._hatch_empty(board)
        self._draw_marks(board)
        self._legend_ax = self._draw_legends(fig, board)
        return board

    def _legend_boxes(self, cmap, norm, room: float) -> list:
        """The legends in drawn order: the colour bar, then one per bar from top to
        bottom, the row blocks and "no cells" (see :meth:`_legend_rows` for columns)."""
        s = self.spec
        boxes = [lg.colour_bar(cmap, norm, clean_label(s.cbar_label), self.extend)]
        if s.body is not None:
            boxes += s.body.legends()
        for key in [k for k in s.col_meta.columns if k in s.col_palettes]:
            entries = _entries(list(s.col_meta[key]), s.col_palettes[key])
            rows = _legend_rows(entries, room, self._legend_budget)
            boxes.append(lg.category_legend(str(key), entries, rows))
        if s.row_blocks is not None and s.row_bar_legend:
            entries = _entries(s.row_blocks, s.row_palette or {})
            rows = _legend_rows(entries, room, self._legend_budget)
            boxes.append(lg.category_legend(s.row_block_name, entries, rows))
        if self._empty_columns():
            entry = (lg.NO_CELLS, lg.NO_CELLS_FACE, lg.NO_CELLS_HATCH)
            boxes.append(lg.category_legend(None, [entry]))
        if s.marks is not None:
            boxes.append(marks_legend(s.marks.label, self._mark_glyph()))
        return boxes

    def _stacked_legends(self, fig, cmap, norm, room: float):
        """The legends packed top to bottom, in more columns when taller than ``room``."""
        renderer = fig.canvas.get_renderer()
        boxes = self._legend_boxes(cmap, norm, room)
        for box in boxes:
            box.set_figure(fig)
        sized = [(b, b.get_bbox(renderer).height * 72 / fig.dpi) for b in boxes]
        packed = lg.stack(sized, room * 72)
        packed.set_figure(fig)
        return packed

    def _legend_size(self, room: float) -> tuple[float, float]:
        """Width and height (inches) of the legends, before drawing (for the layout)."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.colors import Normalize
        from matplotlib.figure import Figure

        values = self.spec.data.to_numpy(dtype=np.float64)
        finite = values[np.isfinite(values)]
        lo = self.spec.vmin if self.spec.vmin is not None else (finite.min() if finite.size else 0)
        hi = self.spec.vmax if self.spec.vmax is not None else (finite.max() if finite.size else 1)
        fig = Figure()
        FigureCanvasAgg(fig)
        with literal_rc():  # measured before plot(): labels are text, never mathtext
            packed = self._stacked_legends(fig, self.cmap, Normalize(lo, max(hi, lo + 1e-9)), room)
            box = packed.get_bbox(fig.canvas.get_renderer())
        return box.width / fig.dpi, box.height / fig.dpi

    def _draw_legends(self, fig, board: ma.Heatmap):
        """Legends right of everything beside the body, their top level with the top bar."""
        renderer = fig.canvas.get_renderer()
        w, h = fig.get_size_inches()
        beside = _as_list(board.get_main_ax()) + [
            ax
            for k in self.spec.col_meta.columns
            if f"col_bar:{k}" in board.get_plot_names()
            for ax in _as_list(board.get_ax(f"col_bar:{k}"))
        ]
        top = max(ax.get_position().y1 for ax in beside)
        bottom = min(ax.get_position().y0 for ax in _as_list(board.get_main_ax()))
        right = max(
            _extent(ax, renderer).x1 / fig.dpi
            for ax in fig.axes
            if ax.get_position().y0 < top - 1e-6
        )
        ax = fig.add_axes([(right + LEGEND_PAD) / w, bottom, 0.1 / w, top - bottom])
        ax.set_axis_off()
        mesh = _as_list(board.get_main_ax())[0].collections[0]
        room = (top - bottom) * h
        lg.anchored(self._stacked_legends(fig, mesh.cmap, mesh.norm, room), ax, 1.0)
        return ax

    def _overflow(self, fig) -> np.ndarray:
        """The figure's spill (see :func:`_overflow`), with room on the right for the
        legends to grow by ``TEXT_SLACK`` of their width: hinted text is a few percent
        wider at some resolutions (72 or 150 dpi) than at the 100 dpi measured here."""
        spill = _overflow(fig)
        legends = getattr(self, "_legend_ax", None)
        if legends is not None and legends.artists:
            box = legends.artists[0].get_window_extent(fig.canvas.get_renderer())
            need = (box.x1 + TEXT_SLACK * box.width) / fig.dpi - fig.get_size_inches()[0]
            spill[1] = max(spill[1], need)
        return spill

    def _empty_columns(self) -> set[str]:
        return {str(c) for c in self.spec.empty_columns or []}

    def _hatch_empty(self, board: ma.Heatmap) -> None:
        """Grey, hatched cells over the columns that have no cells."""
        empty = self._empty_columns()
        if not empty:
            return
        s = self.spec
        columns = [str(c) for c in s.data.columns]
        if s.col_split is None:
            chunks = [columns]
        else:
            split = [str(v) for v in s.col_meta[s.col_split]]
            chunks = [
                [c for c, b in zip(columns, split, strict=True) if b == block]
                for block in _block_order(split)
            ]
        axes = _as_list(board.get_main_ax())
        lefts = sorted({round(ax.get_position().x0, 6) for ax in axes})
        for ax in axes:
            chunk = chunks[lefts.index(round(ax.get_position().x0, 6))]
            y0, y1 = sorted(ax.get_ylim())
            for j, column in enumerate(chunk):
                if column in empty:
                    ax.add_patch(lg.no_cells_patch(j, y0, 1, y1 - y0))

    def body_chunks(self, board: ma.Heatmap) -> list[tuple]:
        """``(ax, rows, cols)`` for each body Axes: the positions in ``spec.data`` of the
        rows and columns it shows, in its own order (cell ``(i, j)`` of the Axes spans
        ``[j, j+1] x [i, i+1]`` in data coordinates, row 0 at the top)."""
        s = self.spec
        n_rows, n_cols = s.data.shape
        row_chunks = _chunks(s.row_blocks, n_rows)
        col_split = None if s.col_split is None else [str(v) for v in s.col_meta[s.col_split]]
        col_chunks = _chunks(col_split, n_cols)
        axes = _as_list(board.get_main_ax())
        lefts = sorted({round(ax.get_position().x0, 6) for ax in axes})
        tops = sorted({round(ax.get_position().y1, 6) for ax in axes}, reverse=True)
        out = []
        for ax in axes:
            rows = row_chunks[tops.index(round(ax.get_position().y1, 6))]
            cols = col_chunks[lefts.index(round(ax.get_position().x0, 6))]
            out.append((ax, rows, cols))
        return out

    def _mark_glyph(self):
        """The marks' glyph: the body's (a dot plot's ring), else a dot sized for the
        cells of the current layout (see pl/_cell_marks.py)."""
        body = self.spec.body
        if body is not None and hasattr(body, "mark_glyph"):
            return body.mark_glyph()
        n_rows, n_cols = self.spec.data.shape
        row_gaps, col_gaps = self._gap_totals()
        cell_h = (self._size[1] - row_gaps) / max(n_rows, 1)
        cell_w = (self._size[0] - col_gaps) / max(n_cols, 1)
        return dot_glyph(min(cell_h, cell_w))

    def _draw_marks(self, board: ma.Heatmap) -> None:
        """The spec's marks: one collection per body Axes (see pl/_cell_marks.py)."""
        if self.spec.marks is None:
            return
        marked = np.asarray(self.spec.marks.significant.to_numpy(), dtype=bool)
        glyph = self._mark_glyph()
        for ax, rows, cols in self.body_chunks(board):
            i, j = np.nonzero(marked[np.ix_(rows, cols)])
            draw_cell_marks(ax, i, j, glyph)

    def _fit_page(self, fig, width: float, height: float) -> tuple[float, float] | None:
        """A smaller body when the figure overshoots the page and its cells can shrink."""
        if self.spec.body_width is not None:
            return None
        over = np.asarray(fig.get_size_inches()) - np.asarray(PAGE) + 0.01
        n_rows, n_cols = self.spec.data.shape
        row_gaps, col_gaps = self._gap_totals()
        narrowest = FILL_MIN + col_gaps if self.spec.fill_width else n_cols * COL_MIN + col_gaps
        low = (narrowest, n_rows * ROW_MIN + row_gaps)
        sizes = zip((width, height), over, low, strict=True)
        new = [max(lo, b - o) if o > 0.01 else b for b, o, lo in sizes]
        if abs(new[0] - width) < 0.01 and abs(new[1] - height) < 0.01:
            return None
        return max(MIN_BODY, new[0]), max(MIN_BODY / 2, new[1])

    def _note_print_size(self, fig) -> None:
        """Say so when the default figure is larger than the page (past 100 rows)."""
        w, h = fig.get_size_inches()
        scale = min(1.0, PAGE[0] / w, PAGE[1] / h)
        if scale < 0.995:
            n_rows, n_cols = self.spec.data.shape
            needs = []
            if h > PAGE[1] + 0.01:
                needs.append(f"{n_rows} rows need at least {ROW_MIN} in each")
            if w > PAGE[0] + 0.01:
                needs.append(f"{n_cols} columns need at least {COL_MIN} in each")
            self.notes.append(
                f"The figure is {w:.1f} x {h:.1f} in, larger than a 180 x 240 mm page: "
                f"{' and '.join(needs)} for their 6-pt labels{self._label_reason()}. "
                f"Placed on that page its text would shrink to {6 * scale:.1f} pt; draw "
                "fewer rows or columns, shorter names, or pass figsize= to choose the size."
            )

    def _label_reason(self) -> str:
        """The column labels' share of the height, when they are long (rotated 90°)."""
        if not self.show_cols:
            return ""
        tall = _max_text_width([str(c) for c in self.spec.data.columns], 7)
        if tall < 1.0:
            return ""
        return f", and column labels of up to {tall:.1f} in take the height below them"


def _check_limits(vmin, vmax, vcenter) -> None:
    for name, value in (("vmin", vmin), ("vmax", vmax), ("vcenter", vcenter)):
        check_number(name, value, allow_none=True)
    if vmin is not None and vmax is not None and not vmin < vmax:
        raise option_error(
            "vmin",
            vmin,
            f"smaller than vmax = {vmax!r}, the upper limit used (the data's unless given)",
        )
    if vcenter is not None and (
        (vmin is not None and vcenter <= vmin) or (vmax is not None and vcenter >= vmax)
    ):
        raise option_error(
            "vcenter",
            vcenter,
            f"strictly between vmin = {vmin!r} and vmax = {vmax!r}, the limits used (the data's "
            "unless given)",
        )


def _text_width(text: str, fontsize: float) -> float:
    """Width in inches of the widest line of ``text`` at ``fontsize``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure()
    canvas = FigureCanvasAgg(fig)
    artist = fig.text(0, 0, clean_label(text), fontsize=fontsize, parse_math=False, usetex=False)
    return artist.get_window_extent(canvas.get_renderer()).width / fig.dpi


def _chain_linkage(n: int) -> np.ndarray | None:
    """A linkage joining ``n`` blocks in their order: marsilea then needs no block means
    (which are NaN when a block holds NaN), and add_meta=False keeps the order anyway."""
    if n < 2:
        return None
    first = [[0, 1, 1.0, 2]]
    rest = [[n + i - 1, i + 1, i + 1.0, i + 2] for i in range(1, n - 1)]
    return np.asarray(first + rest, dtype=np.float64)


def fit_text(text: str, width: float, fontsize: float, lines: int = 3) -> str:
    """``text`` in at most ``lines`` lines no wider than ``width`` inches at ``fontsize``.

    Wrapped at spaces; a word wider than ``width`` is shortened with "…". When more
    lines are needed, the middle is left out (the last line stays: it often tells
    apart "B cells / ctrl" and "B cells / stim") and the cut is marked with "…".
    """
    if not text or _text_width(text, fontsize) <= width:
        return text
    out: list[str] = []
    for word in (_shorten(w, width, fontsize) for w in text.split()):
        if out and _text_width(f"{out[-1]} {word}", fontsize) <= width:
            out[-1] = f"{out[-1]} {word}"
        else:
            out.append(word)
    if len(out) > lines:
        cut = _shorten(out[lines - 2].rstrip("…") + "…", width, fontsize)
        out = [*out[: lines - 2], cut, out[-1]]
    return "\n".join(out)


def _shorten(line: str, width: float, fontsize: float) -> str:
    """``line``, cut and ended with "…" when wider than ``width`` inches."""
    if _text_width(line, fontsize) <= width:
        return line
    while len(line) > 1 and _text_width(line + "…", fontsize) > width:
        line = line[:-1].rstrip()
    return line + "…"


def _wrap(title: str, width: float) -> str:
    """Wrap a title onto several lines when it is wider than ``width`` inches."""
    import textwrap

    if _text_width(title, TITLE_SIZE) <= width:
        return title
    chars = max(10, int(len(title) * width / _text_width(title, TITLE_SIZE)))
    return "\n".join(textwrap.wrap(title, chars))


def _grow_margins(fig, spill: np.ndarray) -> None:
    """Enlarge the figure by ``spill`` (top, right, bottom, left inches) and move every
    axes so that it keeps its size and place relative to the others."""
    if spill.max() < 0.01:
        return
    top, right, bottom, left = spill + 0.05 * (spill > 0)
    w, h = fig.get_size_inches()
    new_w, new_h = w + left + right, h + top + bottom
    boxes = [(ax, ax.get_position()) for ax in fig.axes]
    fig.set_size_inches(new_w, new_h)
    for ax, box in boxes:
        ax.set_position(
            [
                (box.x0 * w + left) / new_w,
                (box.y0 * h + bottom) / new_h,
                box.width * w / new_w,
                box.height * h / new_h,
            ]
        )


def _extent(ax, renderer):
    """The drawn extent of ``ax``, as its tight bounding box measures it.

    With the axis off (most pieces of a board), that is the Axes' box joined with its
    texts; clipped meshes and patches lie inside the box. Measured directly, without
    matplotlib's general machinery (5 ms per Axes of labels); anything else, or an Axes
    with its axis on, is measured by ``get_tightbbox``."""
    from matplotlib.axis import Axis
    from matplotlib.collections import PathCollection, QuadMesh
    from matplotlib.patches import Rectangle
    from matplotlib.spines import Spine
    from matplotlib.text import Text
    from matplotlib.transforms import Bbox

    if ax.axison:
        return ax.get_tightbbox(renderer)
    boxes = [ax.get_window_extent(renderer)]
    for a in ax.get_children():
        if isinstance(a, Spine | Axis) or not a.get_visible() or not a.get_in_layout():
            continue
        if isinstance(a, QuadMesh | Rectangle | PathCollection) and a.get_clip_on():
            continue
        if type(a) is not Text:
            return ax.get_tightbbox(renderer)
        if a.get_text():
            boxes.append(a.get_tightbbox(renderer))  # clipped to its clip box, if any
    return Bbox.union([b for b in boxes if b is not None])


def _overflow(fig) -> np.ndarray:
    """How far (inches) the drawn content spills out of the figure: top, right, bottom, left.

    What ``fig.get_tightbbox`` measures (the figure's own artists and every visible Axes),
    with :func:`_extent` for the Axes: the same box, without a tight bbox per mesh."""
    from matplotlib.axes import Axes
    from matplotlib.transforms import Bbox

    renderer = fig.canvas.get_renderer()
    boxes = [
        a.get_tightbbox(renderer)
        for a in fig.get_children()
        if not isinstance(a, Axes) and a.get_visible() and a.get_in_layout()
    ]
    boxes += [_extent(ax, renderer) for ax in fig.axes if ax.get_visible()]
    boxes = [b for b in boxes if b is not None and b.width > 0 and b.height > 0]
    box = Bbox.union(boxes).transformed(fig.dpi_scale_trans.inverted())
    w, h = fig.get_size_inches()
    spill = np.array([box.y1 - h, box.x1 - w, -box.y0, -box.x0])
    return np.maximum(spill, 0.0)


def _chunks(blocks: list | None, n: int) -> list[np.ndarray]:
    """Positions of the items of each block, blocks in order of first appearance (as the
    board splits them); one chunk of everything when unsplit or one block."""
    if blocks is None or len(_block_order([str(b) for b in blocks])) < 2:
        return [np.arange(n)]
    labels = np.asarray([str(b) for b in blocks], dtype=object)
    return [np.flatnonzero(labels == b) for b in _block_order(list(labels))]


def _as_list(ax) -> list:
    return list(ax) if isinstance(ax, list | tuple | np.ndarray) else [ax]


def _unnamed(plotter):
    """``plotter`` without its name: marsilea pads even an empty name beside the piece,
    which leaves a blank band below the body."""
    plotter._plan_label = None
    return plotter


def _clamp(value: float, low: float, high: float) -> float:
    return float(min(high, max(low, value)))


def _max_text_width(texts, fontsize: float) -> float:
    """Width in inches of the widest of ``texts`` at ``fontsize`` (0 when there are none).

    What a Text artist of each would measure (the widest of its lines, no mathtext), read
    from the renderer's text metrics without making the artists."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    lines = {line for t in texts for line in clean_label(t).split("\n") if line}
    if not lines:
        return 0.0
    fig = Figure()
    renderer = FigureCanvasAgg(fig).get_renderer()
    font = FontProperties(size=fontsize)
    widths = [renderer.get_text_width_height_descent(line, font, ismath=False)[0] for line in lines]
    return max(widths) / fig.dpi


def _legend_rows(entries: list, room: float, budget: float) -> int:
    """Entries per legend column: as many as fit beside the body (``room`` inches), and
    at least ``lg.MAX_ROWS``; more when its columns would not fit in ``budget`` inches
    of width beside the colour bar (long names): the legend then runs down the page
    rather than off its side."""
    fit = int((room * 72 - 2 * lg.TITLE_FONT) / lg.entry_height())
    rows = max(lg.MAX_ROWS, fit)
    column = _max_text_width([e[0] for e in entries], lg.FONT) + (lg.SWATCH + 11) / 72
    most = max(1, int((budget - COLOUR_BAR_W) / column))
    return max(rows, math.ceil(len(entries) / most))


def _entries(values, palette: dict) -> list[tuple[str, object]]:
    """Legend entries of a bar: every category it shows, in the palette's order (the
    category order), then any category the palette lacks, in the order drawn."""
    present = [clean_label(v) for v in dict.fromkeys(values)]
    colors = {clean_label(k): c for k, c in palette.items()}
    ordered = [c for c in colors if c in set(present)]
    ordered += [c for c in present if c not in colors]
    return [(c, colors.get(c, lg.NO_CELLS_FACE)) for c in ordered]
