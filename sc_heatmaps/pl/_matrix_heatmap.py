"""``matrix_heatmap``: any rows x columns frame, with the same layout and export."""

from __future__ import annotations

import pandas as pd

from .._heatmap_options import MatrixHeatmapOptions
from .._options import takes_options
from ..get._matrix_bundle import matrix_bundle
from ._draw import draw_bundle
from ._plot import HeatmapPlot


@takes_options(MatrixHeatmapOptions, ("frame",))
def matrix_heatmap(frame: pd.DataFrame, *, opts: MatrixHeatmapOptions) -> HeatmapPlot:
    """Draw a ready-made matrix (e.g. :func:`sc_heatmaps.get.obs_summary`) as a heatmap.

    Filtering (``filter``, see :func:`sc_heatmaps.arrange.filter_matrix`), row
    scaling and clustering work as in :func:`grouped_heatmap`; the result has
    the same ``.data`` and ``.savefig``.

    Parameters
    ----------
    frame
        A numeric rows x columns frame; it is only read.
    scale
        Row scaling: ``None``, ``"zscore"`` or ``"minmax"``.
    filter
        Keep only the rows and columns that pass this filter (before scaling).
    cluster_rows, cluster_cols
        Hierarchical clustering (average linkage, Euclidean), with dendrograms.
    cmap
        A matplotlib colormap, or ``"blue_white_red"`` / ``"red_black_green"``.
    labels
        Tick labels: ``"all"``, ``"auto"``, ``"x"``, ``"y"`` or ``"none"``.
    vmin, vmax, vcenter
        Colour limits; robust by default (as in :func:`grouped_heatmap`).
    figsize
        Size of the whole figure in inches.
    title
        Figure title.
    value_name
        What the values are (the colour-bar title).

    Returns
    -------
    HeatmapPlot
        ``.data`` is the matrix drawn; the JSON sidecar lists the rows and
        columns the filter removed.

    Examples
    --------
    >>> import sc_heatmaps as sch
    >>> adata = sch.datasets.example()
    >>> table = sch.get.obs_summary(adata, "total_counts", "cluster", "dataset", op="mean")
    >>> sch.pl.matrix_heatmap(table, value_name="mean total counts").data.shape
    (8, 3)
    """
    return draw_bundle(matrix_bundle(frame, opts), opts, "sc_heatmaps.pl.matrix_heatmap")
