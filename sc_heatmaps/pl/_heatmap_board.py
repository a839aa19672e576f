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

from ._cmaps import resolve_cmap

CELL_W = 0.32  # inches per column
CELL_H = 0.22  # inches per row
BAR = 0.16  # inches, annotation bar thickness
GAP = 0.012  # fraction of the body between blocks
MIN_BODY = 0.8  # inches


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
    _axes: dict = field(default_factory=dict)


def _block_order(labels: list[str]) -> list[str]:
    return list(dict.fromkeys(labels))


def _linkage_arg(linkage: dict | None):
    """marsilea wants an array when unsplit, a dict (no ``None``) when split."""
    if linkage is None:
        return None
    if list(linkage) == [None]:
        return linkage[None]
    return {k: (np.empty((0, 4)) if z is None else z) for k, z in linkage.items()}


class HeatmapBoard:
    """Prepares a marsilea board from a :class:`HeatmapSpec` and draws it."""

    def __init__(self, spec: HeatmapSpec):
        self.spec = spec
        n_rows, n_cols = spec.data.shape
        self.body = (max(MIN_BODY, n_cols * CELL_W), max(MIN_BODY, n_rows * CELL_H))
        self.cmap = resolve_cmap(spec.cmap)

    def _build(self, width: float, height: float) -> ma.Heatmap:
        s = self.spec
        h = ma.Heatmap(
            s.data.to_numpy(dtype=np.float64),
            cmap=self.cmap,
            vmin=s.vmin,
            vmax=s.vmax,
            center=s.vcenter,
            label=s.cbar_label,
            width=width,
            height=height,
            rasterized=True,
            name="body",
        )
        self._add_rows(h)
        self._add_cols(h)
        self._add_labels(h)
        h.add_legends("right", pad=0.25, stack_size=4)
        if s.title:
            h.add_title(top=s.title, pad=0.1, fontsize=12)
        return h

    def _add_rows(self, h: ma.Heatmap) -> None:
        s = self.spec
        if s.row_blocks is not None:
            order = _block_order(s.row_blocks)
            if len(order) > 1:
                h.group_rows(s.row_blocks, order=order, spacing=GAP)
            bar = mp.Colors(
                s.row_blocks,
                palette=s.row_palette,
                label=s.row_block_name,
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
            values = [str(v) for v in s.col_meta[key]]
            present = set(values)
            palette = {c: col for c, col in s.col_palettes[key].items() if c in present}
            bar = mp.Colors(
                values, palette=palette, label=key, label_loc="right", label_props={"fontsize": 8}
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
            genes = [str(g) for g in s.data.index.get_level_values(-1)]
            h.add_right(mp.Labels(genes, fontsize=8), pad=0.04, name="row_labels")
        if s.labels in ("all", "x"):
            cols = [str(c) for c in s.data.columns]
            h.add_bottom(mp.Labels(cols, fontsize=8, rotation=90), pad=0.04, name="col_labels")

    def plot(self) -> tuple:
        """Draw; when ``figsize`` is set, resize the body so the whole figure fits it."""
        width, height = self.body
        fig = plt.figure()
        board = self._build(width, height).render(figure=fig)
        if self.spec.figsize is not None:
            fw, fh = fig.get_size_inches()
            tw, th = self.spec.figsize
            width, height = width + (tw - fw), height + (th - fh)
            if width < MIN_BODY or height < MIN_BODY:
                plt.close(fig)
                raise ValueError(
                    f"figsize={self.spec.figsize!r} is too small for the labels, bars and legends "
                    f"(they need about {fw - self.body[0]:.1f} x {fh - self.body[1]:.1f} inches); "
                    "enlarge it, or leave figsize=None to size the figure automatically."
                )
            fig.clear()
            board = self._build(width, height).render(figure=fig)
        return fig, self._collect_axes(board)

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


def _as_list(ax) -> list:
    return list(ax) if isinstance(ax, list | tuple | np.ndarray) else [ax]
