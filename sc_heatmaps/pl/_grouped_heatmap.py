"""``grouped_heatmap``: genes x groups, with dataset and cluster annotation bars.

The options are written once, in :class:`~sc_heatmaps._heatmap_options.GroupedHeatmapOptions`;
``get`` prepares the bundle, the board draws it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .._heatmap_options import GroupedHeatmapOptions
from .._options import takes_options
from ..get._bundle import HeatmapBundle, grouped_bundle
from ._draw import draw_bundle
from ._plot import HeatmapPlot


@takes_options(GroupedHeatmapOptions, ("adata", "var_names", "groupby"))
def grouped_heatmap(
    adata,
    var_names: Sequence[str] | Mapping[str, Sequence[str]] | str | None = None,
    groupby: str | Sequence[str] | None = None,
    *,
    opts: GroupedHeatmapOptions,
) -> HeatmapPlot:
    """Heatmap of genes x groups of cells, grouped by dataset and/or cluster.

    Parameters
    ----------
    adata
        Annotated data; never modified.
    var_names
        Genes: a list, or ``{block: genes}`` to draw the rows in labelled blocks.
        ``None`` takes the top ``n_genes`` markers of each cluster of
        ``cluster_key``, computed on the side (never stored) on the ``"RNA"``
        values as Seurat and scanpy recommend, each gene kept in the cluster
        where it scores best. When ``source`` is another layer, only genes that
        layer covers with finite values are eligible, so each cluster is
        refilled from further down its ranking instead of losing rows.
    groupby
        Obs key(s) of the columns; default ``[dataset_key, cluster_key]``
        (whichever are given).
    cluster_key, dataset_key
        The cluster and dataset obs keys. Each groupby key gets its own
        labelled annotation bar; the first key's blocks are separated by gaps.
    n_genes
        Markers per cluster when ``var_names`` is ``None``.
    markers
        Which markers ``var_names=None`` takes: ``"top"`` (scanpy's top
        ``n_genes`` per cluster on the pooled cells) or ``"conserved"``
        (:func:`sc_heatmaps.tl.conserved_markers`: tested within each dataset of
        ``dataset_key`` and combined; needs ``dataset_key``).
    source
        ``"RNA"``, ``"integrated"`` or a layer name.
    clusters
        Keep only these clusters of ``cluster_key`` (a list or ``"0,3,5"``), drawn in
        this order (columns, and marker blocks when ``var_names`` is ``None``).
    stat
        ``"mean"``, ``"median"`` or ``"fraction"``.
    scale
        ``"zscore"`` (per gene across the groups shown), ``"minmax"`` or ``None``.
    cluster_rows, cluster_cols
        Hierarchical clustering (average linkage, Euclidean) within blocks,
        with dendrograms.
    cmap
        A matplotlib colormap, or ``"blue_white_red"`` / ``"red_black_green"``.
    labels
        Which tick labels to show: ``"auto"`` (genes, and group names only where the
        annotation bars do not already name every column), ``"all"``, ``"x"``
        (groups), ``"y"`` (genes) or ``"none"``.
    vmin, vmax, vcenter
        Colour limits. By default they are robust (see
        :mod:`sc_heatmaps.arrange._limits`): z-scores are drawn from -2.5 to 2.5
        (or the largest absolute z-score when smaller), min-max values from 0 to 1,
        unscaled values from the smallest value to the 99th percentile; values
        beyond the limits take the end colours and the colour bar shows an arrow.
    figsize
        Size of the whole figure in inches; by default it grows with the matrix.
    title
        Figure title.
    missing
        Genes absent from ``source``: ``"raise"`` or ``"drop"`` (recorded in the sidecar).
    markers_kws
        Extra options for :func:`sc_heatmaps.get.marker_genes` (e.g. ``method``).
    gene_symbols
        A var column holding gene symbols (scanpy's name): genes are given and
        labelled by symbol, e.g. when var_names are Ensembl IDs.
    filter
        Keep only the rows (genes) and columns (groups) that pass a filter on the
        ``stat`` values before scaling, e.g. ``"row any >= 1.2 OR row any <= 0.8"``
        (see :func:`sc_heatmaps.arrange.filter_matrix`).
    significance
        A table of :func:`sc_heatmaps.tl.dataset_differences` (columns ``cluster``,
        ``dataset``, ``gene``, ``logfc``, ``pval_adj``; ``table.attrs`` with ``unit``,
        ``method`` and ``reference``). Each (gene, cluster / dataset) cell whose
        ``pval_adj`` is below ``alpha`` gets a dot; the reference's own columns get
        none. The legend names the test, the threshold and the reference
        ("pseudobulk DESeq2 (pydeseq2), padj < 0.05, vs ctrl"); a cell-level test (or a
        table that records no unit) is labelled "cell-level test (exploratory)". Needs
        ``dataset_key`` and ``cluster_key`` among the column keys. Genes and columns the
        table lacks are drawn unmarked and listed in ``params["significance"]``; a
        table that matches no cell is refused. The TSV sidecar then has one row per cell
        (the value drawn, ``logfc``, ``pval_adj``, ``significant``).
    alpha
        The threshold on ``pval_adj`` for ``significance`` (between 0 and 1).

    Returns
    -------
    HeatmapPlot
        With ``.figure``, ``.axes``, ``.data`` (the matrix drawn), ``.bundle``
        (everything drawn, see :class:`sc_heatmaps.get.HeatmapBundle`),
        ``.params`` (the JSON sidecar) and ``.savefig``.

    Examples
    --------
    >>> import sc_heatmaps as sch
    >>> adata = sch.datasets.example()
    >>> plot = sch.pl.grouped_heatmap(adata, cluster_key="cluster", dataset_key="dataset",
    ...                               n_genes=3)
    >>> plot.data.index.names
    FrozenList(['cluster', 'gene'])
    """
    bundle = grouped_bundle(adata, var_names, groupby, opts)
    return draw_grouped(bundle, opts)


def draw_grouped(bundle: HeatmapBundle, opts: GroupedHeatmapOptions) -> HeatmapPlot:
    """Draw a grouped bundle on the heatmap board (the app calls this too)."""
    return draw_bundle(bundle, opts, "sc_heatmaps.pl.grouped_heatmap")


def prepare(adata, var_names=None, groupby=None, **options) -> HeatmapBundle:
    """The bundle :func:`grouped_heatmap` draws, without drawing (same options)."""
    return grouped_bundle(adata, var_names, groupby, GroupedHeatmapOptions.from_kwargs(options))
