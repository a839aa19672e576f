"""Drawing a grouped heatmap with marsilea: body, annotation bars, gaps, dendrograms, legends.

This module takes frames and draws them; it knows nothing of AnnData.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import marsilea as ma
import marsilea.plotter as mp
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .._limits import check_figure_inches
from .._text import clean_label, literal_text
from .._validate import check_number
from ._cmaps import resolve_cmap

CELL_W = 0.32  # inches per column
CELL_H = 0.22  # inches per row
BAR = 0.16  # inches, annotation bar thickness
GAP = 0.012  # fraction of the body between blocks
MIN_BODY = 0.8  # inches
MARGIN = 0.2  # inches around everything
TITLE_SIZE = 12


@dataclass
class HeatmapSpec:
    """Everything the board needs, already arranged.

    ``data`` is drawn as is. ``col_meta`` has one row per column of ``data``
    (same order) and one column per annotation bar; ``col_split`` names the
    bar whose blocks get gaps. Rows are in blocks when ``row_blocks`` is set.
    Linkages are per block, in the drawn order (see ``cluster_order``).
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
    _axes: dict = field(default_factory=dict)


def _block_order(labels: list[str]) -> list[str]:
    return list(dict.fromkeys(labels))


def scaled_label(
    label: str, scale: str | None, n_columns: int | None = None, columns: str = "groups"
) -> str:
    """Colour-bar title: what is drawn, and how rows were scaled (one wording everywhere).

    A z-score across fewer than 3 columns says so (see :func:`zscore_note`).
    """
    if zscore_note(scale, n_columns, columns) is not None:
        if n_columns == 2:
            return f"{label}\n(z-score across 2 {columns}:\n+1 higher, \N{MINUS SIGN}1 lower)"
        return f"{label}\n(z-score across 1 {columns[:-1]}:\nalways 0)"
    return label + {None: "", "zscore": "\n(z-score)", "minmax": "\n(min-max)"}[scale]


def zscore_note(scale: str | None, n_columns: int | None, columns: str = "groups") -> str | None:
    """Why a row z-score across fewer than 3 columns shows no more than a direction
    (for the JSON sidecar), or ``None`` when it is a real z-score.

    Across 2 values a z-score is always +1 and -1 (0 when they are equal), whatever
    their difference; across 1 value it is 0.
    """
    if scale != "zscore" or n_columns is None or n_columns >= 3:
        return None
    if n_columns == 2:
        return (
            f"z-scores across 2 {columns} are always +1 (higher) and -1 (lower), or 0 when "
            "equal: the colours show only which is higher, not by how much."
        )
    return f"a z-score across 1 {columns[:-1]} is always 0: the colours show nothing."


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
        self.spec = spec
        n_rows, n_cols = spec.data.shape
        title_w = _text_width(spec.title, TITLE_SIZE) + 0.2 if spec.title else 0.0
        width = spec.body_width if spec.body_width is not None else n_cols * CELL_W
        self.body = (max(MIN_BODY, width, title_w), max(MIN_BODY, n_rows * CELL_H))
        self._check_size(n_rows, n_cols)
        self.cmap = resolve_cmap(spec.cmap)

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
        s = self.spec
        h = ma.Heatmap(
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
        self._add_rows(h)
        self._add_cols(h)
        self._add_labels(h)
        h.add_legends("right", pad=self._legend_pad(), stack_size=4)
        if s.title:
            h.add_title(top=_wrap(clean_label(s.title), width), pad=0.1, fontsize=TITLE_SIZE)
        return h

    def _legend_pad(self) -> float:
        """Room between the body and the legends; the bar names need it without gene labels."""
        if self.spec.labels in ("all", "y") or self.spec.col_meta.empty:
            return 0.25
        return 0.25 + max(_text_width(str(k), 8) for k in self.spec.col_meta.columns)

    def _add_rows(self, h: ma.Heatmap) -> None:
        s = self.spec
        if s.row_blocks is not None:
            order = _block_order(s.row_blocks)
            if len(order) > 1:
                h.group_rows(s.row_blocks, order=order, spacing=GAP)
            bar = mp.Colors(
                [clean_label(b) for b in s.row_blocks],
                palette={clean_label(k): c for k, c in (s.row_palette or {}).items()},
                label=clean_label(s.row_block_name),
                label_loc="bottom",
                label_props={"rotation": 90, "fontsize": 8},
            )
            h.add_left(bar, size=BAR, pad=0.04, name="row_bar", legend=s.row_bar_legend)
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
        s = self.spec
        if s.col_split is not None:
            split = [str(v) for v in s.col_meta[s.col_split]]
            order = _block_order(split)
            if len(order) > 1:
                h.group_cols(split, order=order, spacing=GAP)
        for key in reversed(list(s.col_meta.columns)):
            values = [clean_label(v) for v in s.col_meta[key]]
            present = set(values)
            palette = {clean_label(c): col for c, col in s.col_palettes[key].items()}
            palette = {c: col for c, col in palette.items() if c in present}
            bar = mp.Colors(
                values,
                palette=palette,
                label=clean_label(key),
                label_loc="right",
                label_props={"fontsize": 8},
            )
            h.add_top(bar, size=BAR, pad=0.03, name=f"col_bar:{key}")
        if s.col_linkage is not None:
            h.add_dendrogram(
                "top",
                linkage=_linkage_arg(s.col_linkage),
                add_meta=False,
                name="col_dendrogram",
                size=0.5,
                pad=0.03,
            )

    def _add_labels(self, h: ma.Heatmap) -> None:
        s = self.spec
        if s.labels in ("all", "y"):
            genes = [clean_label(g) for g in s.data.index.get_level_values(-1)]
            h.add_right(mp.Labels(genes, fontsize=8), pad=0.04, name="row_labels")
        if s.labels in ("all", "x"):
            cols = [clean_label(c) for c in s.data.columns]
            h.add_bottom(mp.Labels(cols, fontsize=8, rotation=90), pad=0.04, name="col_labels")

    @literal_text
    def plot(self) -> tuple:
        """Draw, with margins wide enough that titles and legends stay inside the figure.

        With ``figsize`` the body is sized so that the whole figure matches it;
        a figsize too small for the labels, bars and legends is an error.
        """
        fig = plt.figure()
        width, height = self.body
        margin = np.full(4, MARGIN)  # top, right, bottom, left (inches)
        if self.spec.figsize is None:  # one layout, then widen the margins in place
            board = self._build(width, height).set_margin(tuple(margin)).render(figure=fig)
            _grow_margins(fig, _overflow(fig))
            return fig, self._collect_axes(board)
        for _ in range(4):
            fig.clear()
            board = self._build(width, height).set_margin(tuple(margin)).render(figure=fig)
            spill = _overflow(fig)
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
            "legend": board.layout.get_legend_ax(),
        }


def _check_limits(vmin, vmax, vcenter) -> None:
    for name, value in (("vmin", vmin), ("vmax", vmax), ("vcenter", vcenter)):
        check_number(name, value, allow_none=True)
    if vmin is not None and vmax is not None and not vmin < vmax:
        raise ValueError(f"vmin={vmin!r} must be smaller than vmax={vmax!r}.")
    if vcenter is not None and (
        (vmin is not None and vcenter <= vmin) or (vmax is not None and vcenter >= vmax)
    ):
        raise ValueError(f"vcenter={vcenter!r} must lie between vmin={vmin!r} and vmax={vmax!r}.")


def _text_width(text: str, fontsize: float) -> float:
    """Width in inches of the widest line of ``text`` at ``fontsize``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure()
    canvas = FigureCanvasAgg(fig)
    artist = fig.text(0, 0, clean_label(text), fontsize=fontsize, parse_math=False, usetex=False)
    return artist.get_window_extent(canvas.get_renderer()).width / fig.dpi


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


def _overflow(fig) -> np.ndarray:
    """How far (inches) the drawn content spills out of the figure: top, right, bottom, left."""
    box = fig.get_tightbbox(fig.canvas.get_renderer())
    w, h = fig.get_size_inches()
    spill = np.array([box.y1 - h, box.x1 - w, -box.y0, -box.x0])
    return np.maximum(spill, 0.0)


def _as_list(ax) -> list:
    return list(ax) if isinstance(ax, list | tuple | np.ndarray) else [ax]
