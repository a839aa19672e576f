"""``cell_heatmap``: one column per cell (or per bin of cells), cells ordered by group."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from .._validate import as_name_list, check_choice
from ..arrange import SCALES, arrange, expand_blocks, row_blocks, scale_rows
from ..get._cells_matrix import cell_matrix
from ..get._colors import bar_colors
from ._grouped_heatmap import _block_palette, _resolve_genes, _resolve_groupby
from ._heatmap_board import HeatmapBoard, HeatmapSpec, scaled_label
from ._plot import HeatmapPlot

LABELS = ("y", "none")
TOTAL_COLUMNS = 4000


def _auto_limit(adata, keys, clusters, cluster_key) -> int:
    from .._groups import make_grouping

    n_groups = make_grouping(adata.obs, keys, clusters=clusters, cluster_key=cluster_key).n_groups
    return max(1, min(500, TOTAL_COLUMNS // n_groups))


def cell_heatmap(
    adata,
    var_names: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
    groupby: str | Sequence[str] | None = None,
    *,
    cluster_key: str | None = None,
    dataset_key: str | None = None,
    n_genes: int = 5,
    source: str = "RNA",
    clusters: str | Sequence[str] | None = None,
    max_cells_per_group: int | Literal["auto"] | None = "auto",
    reduce: Literal["bins", "sample"] = "bins",
    cluster_cells: bool = False,
    scale: Literal["zscore", "minmax"] | None = None,
    cmap: str = "viridis",
    labels: Literal["y", "none"] = "y",
    vmin: float | None = None,
    vmax: float | None = None,
    vcenter: float | None = None,
    width: float = 10.0,
    figsize: tuple[float, float] | None = None,
    title: str | None = None,
    random_state: int = 0,
) -> HeatmapPlot:
    """Per-cell heatmap (the ``DoHeatmap`` / ``sc.pl.heatmap`` view), grouped by dataset x cluster.

    Cells are ordered by group (category order, first key outermost, with gaps
    and one labelled bar per key). ``max_cells_per_group`` keeps every group
    visible whatever its size: a larger group is averaged into that many bins
    of consecutive cells (``reduce="bins"``, every cell counts) or sampled
    (``"sample"``, seeded). ``"auto"`` allows about 4,000 columns in all (more
    than a 10-inch figure has pixels at 300 DPI), at most 500 per group;
    ``None`` draws every cell. ``cluster_cells`` orders the columns of each group
    by hierarchical clustering. The body is rasterised in vector output.

    Examples
    --------
    >>> import sc_heatmaps as sch
    >>> plot = sch.pl.cell_heatmap(sch.datasets.example(), cluster_key="cluster",
    ...                            dataset_key="dataset", n_genes=2, max_cells_per_group=20)
    >>> plot.data.shape[1] <= 24 * 20
    True
    """
    check_choice("scale", scale, SCALES)
    check_choice("labels", labels, LABELS)
    keys = _resolve_groupby(groupby, cluster_key, dataset_key)
    genes, _ = _resolve_genes(adata, var_names, cluster_key, n_genes, source, clusters, None)
    if max_cells_per_group == "auto":
        max_cells_per_group = _auto_limit(adata, keys, clusters, cluster_key)
    cm = cell_matrix(
        adata,
        genes,
        keys,
        source=source,
        clusters=clusters,
        cluster_key=cluster_key,
        max_cells_per_group=max_cells_per_group,
        reduce=reduce,
        random_state=random_state,
    )
    blocks = genes if isinstance(genes, Mapping) else None
    frame = scale_rows(expand_blocks(cm.matrix, blocks, cluster_key or "block"), scale)
    done = arrange(frame, col_blocks=list(cm.columns["group"]), cluster_cols=cluster_cells)
    row_b = row_blocks(done.frame)
    spec = HeatmapSpec(
        data=done.frame,
        col_meta=cm.columns.loc[done.frame.columns, keys],
        col_palettes=bar_colors(adata, keys, dataset_key),
        col_split=keys[0],
        row_blocks=row_b,
        row_block_name=(cluster_key or "block") if row_b else None,
        row_palette=_block_palette(adata, cluster_key, list(dict.fromkeys(row_b or []))),
        row_bar_legend=(cluster_key or "block") not in keys,
        cmap=cmap,
        vmin=vmin,
        vmax=vmax,
        vcenter=vcenter,
        labels=labels,
        title=title,
        figsize=figsize,
        body_width=width,
        cbar_label=scaled_label(f"expression ({source})", scale),
    )
    figure, axes = HeatmapBoard(spec).plot()
    params = {
        "function": "sc_heatmaps.pl.cell_heatmap",
        "groupby": keys,
        "source": source,
        "cluster_key": cluster_key,
        "dataset_key": dataset_key,
        "clusters": as_name_list(clusters, "clusters"),
        "max_cells_per_group": max_cells_per_group,
        "reduce": reduce,
        "cluster_cells": cluster_cells,
        "scale": scale,
        "random_state": random_state,
        "groups": cm.n_cells.rename("n_cells").reset_index(),
        "figsize": [float(x) for x in figure.get_size_inches()],
    }
    plot = HeatmapPlot(figure=figure, axes=axes, data=done.frame, params=params)
    plot.spec, plot.columns = spec, cm.columns.loc[done.frame.columns]
    return plot
