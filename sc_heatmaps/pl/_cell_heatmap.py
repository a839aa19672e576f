"""``cell_heatmap``: one column per cell (or per bin of cells), cells ordered by group."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .._heatmap_options import CellHeatmapOptions
from .._options import takes_options
from ..get._cell_bundle import cell_bundle
from ._draw import draw_bundle
from ._plot import HeatmapPlot


@takes_options(CellHeatmapOptions, ("adata", "var_names", "groupby"))
def cell_heatmap(
    adata,
    var_names: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
    groupby: str | Sequence[str] | None = None,
    *,
    opts: CellHeatmapOptions,
) -> HeatmapPlot:
    """Per-cell heatmap (the ``DoHeatmap`` / ``sc.pl.heatmap`` view), grouped by dataset x cluster.

    Cells are ordered by group (category order, or the order of ``clusters``;
    first key outermost, with gaps and one labelled bar per key).
    ``max_cells_per_group`` keeps every group visible whatever its size: a
    larger group is averaged into that many bins of consecutive cells
    (``reduce="bins"``, every cell counts) or sampled (``"sample"``, seeded).
    ``"auto"`` allows about 4,000 columns in all (more than a 10-inch figure has
    pixels at 300 DPI), at most 500 per group; ``None`` draws every cell.
    ``cluster_cells`` orders the columns of each group by hierarchical
    clustering. The body is rasterised in vector output.

    Parameters
    ----------
    adata
        Annotated data; never modified.
    var_names
        Genes: a list, or ``{block: genes}`` for labelled row blocks; ``None`` takes
        the top ``n_genes`` markers of each cluster of ``cluster_key``.
    groupby
        Obs key(s) of the column groups; default ``[dataset_key, cluster_key]``.
    cluster_key, dataset_key
        The cluster and dataset obs keys.
    n_genes
        Markers per cluster when ``var_names`` is ``None``.
    markers
        ``"top"`` or ``"conserved"`` markers (as in :func:`grouped_heatmap`).
    source
        ``"RNA"``, ``"integrated"`` or a layer name.
    clusters
        Keep only these clusters of ``cluster_key``, in this order.
    max_cells_per_group
        Columns per group at most (see above): a number, ``"auto"`` or ``None``.
    reduce
        ``"bins"`` (average consecutive cells) or ``"sample"`` (seeded sample).
    cluster_cells
        Order the cells of each group by hierarchical clustering.
    scale
        Row scaling: ``None``, ``"zscore"`` or ``"minmax"``.
    cmap
        A matplotlib colormap, or ``"blue_white_red"`` / ``"red_black_green"``.
    labels
        ``"y"`` (gene labels) or ``"none"``.
    vmin, vmax, vcenter
        Colour limits; robust by default (as in :func:`grouped_heatmap`).
    width
        Width of the body in inches; by default it fits a 180 mm page.
    figsize
        Size of the whole figure in inches.
    title
        Figure title.
    random_state
        Seed of ``reduce="sample"``.
    gene_symbols
        A var column holding gene symbols: genes are given and labelled by symbol.

    Returns
    -------
    HeatmapPlot
        ``.data`` is the matrix drawn, ``.columns`` one row per column (its group
        and the cells it stands for).

    Examples
    --------
    >>> import sc_heatmaps as sch
    >>> plot = sch.pl.cell_heatmap(sch.datasets.example(), cluster_key="cluster",
    ...                            dataset_key="dataset", n_genes=2, max_cells_per_group=20)
    >>> plot.data.shape[1] <= 24 * 20
    True
    """
    bundle, columns = cell_bundle(adata, var_names, groupby, opts)
    return draw_bundle(
        bundle,
        opts,
        "sc_heatmaps.pl.cell_heatmap",
        columns=columns,
        body_width=opts.width,
        fill_width=opts.width is None,
    )
