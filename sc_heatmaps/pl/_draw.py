"""From a bundle to a drawn heatmap: the board's spec, the figure, the plot object.

Every heatmap (grouped, per-cell, any matrix) goes through :func:`draw_bundle`, so the
JSON sidecar's parameters are assembled here once: the options object's fields, the
bundle's provenance, the colour limits used and the figure's size.
"""

from __future__ import annotations

import dataclasses

from ._heatmap_board import HeatmapBoard, HeatmapSpec
from ._plot import HeatmapPlot


def spec_from_bundle(bundle, opts, **drawing) -> HeatmapSpec:
    """The board's spec: the bundle's frames and colours, with the drawing options."""
    vmin, vmax, vcenter = bundle.limits
    fields = {f.name for f in dataclasses.fields(HeatmapSpec)}
    extra = {"empty_columns": list(bundle.empty_columns)} if "empty_columns" in fields else {}
    if getattr(bundle, "marks", None) is not None:
        extra["marks"] = bundle.marks
    return HeatmapSpec(
        data=bundle.data,
        col_meta=bundle.col_meta,
        col_palettes=bundle.colors,
        col_split=bundle.col_split,
        row_blocks=bundle.row_blocks,
        row_block_name=bundle.row_block_name,
        row_palette=bundle.row_palette,
        row_bar_legend=bundle.row_bar_legend,
        row_linkage=bundle.row_linkage,
        col_linkage=bundle.col_linkage,
        cmap=opts.cmap,
        vmin=vmin,
        vmax=vmax,
        vcenter=vcenter,
        cbar_label=bundle.value_label,
        labels=opts.labels,
        title=opts.title,
        figsize=opts.figsize,
        **extra,
        **drawing,
    )


def params_of(bundle, opts, function: str, figure, board_notes=()) -> dict:
    """The JSON sidecar's parameters: options, provenance, limits used and size."""
    vmin, vmax, vcenter = bundle.limits
    return {
        "function": function,
        **opts.to_params(),
        **bundle.provenance,
        "vmin": vmin,
        "vmax": vmax,
        "vcenter": vcenter,
        "notes": [*bundle.notes, *board_notes],
        "figsize": [float(x) for x in figure.get_size_inches()],
    }


def draw_bundle(bundle, opts, function: str, *, columns=None, **drawing) -> HeatmapPlot:
    """Draw ``bundle`` on the board and return the plot with its sidecar parameters."""
    spec = spec_from_bundle(bundle, opts, **drawing)
    board = HeatmapBoard(spec)
    figure, axes = board.plot()
    params = params_of(bundle, opts, function, figure, getattr(board, "notes", ()))
    return HeatmapPlot(
        figure=figure,
        axes=axes,
        data=bundle.data,
        params=params,
        bundle=bundle,
        spec=spec,
        columns=columns,
    )
