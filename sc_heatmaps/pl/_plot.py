"""The object every plotting function returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure


@dataclass
class Plot:
    """A drawn figure with the exact data behind it.

    Attributes
    ----------
    figure
        The matplotlib figure.
    axes
        Named axes; the keys are fixed for each plot type.
    data
        The exact frame drawn (after scaling and ordering).
    params
        Everything needed to reproduce the figure; written to the JSON sidecar.
    """

    figure: Figure
    axes: dict
    data: pd.DataFrame
    params: dict = field(default_factory=dict)

    def savefig(self, path: str | Path, *, dpi: float = 300, sidecars: bool = True) -> list[Path]:
        """Export the figure (format from the extension) with TSV/JSON sidecars.

        See :func:`sc_heatmaps.pl.savefig`.

        Parameters
        ----------
        path
            The figure's file: ``.png``, ``.pdf``, ``.svg``, ``.tif``/``.tiff`` or
            ``.jpg``/``.jpeg``, in an existing, writable directory.
        dpi
            Dots per inch of raster output and of the rasterised parts of vector
            output.
        sidecars
            Also write ``<stem>.tsv`` (:meth:`sidecar_table`) and ``<stem>.json``
            (:attr:`params` and package versions) beside the figure.

        Returns
        -------
        list of pathlib.Path
            The paths written, figure first.

        Examples
        --------
        >>> import os, tempfile
        >>> import sc_heatmaps as sch
        >>> plot = sch.pl.grouped_heatmap(sch.datasets.example(), groupby="cluster",
        ...                               cluster_key="cluster", n_genes=2)
        >>> paths = plot.savefig(os.path.join(tempfile.mkdtemp(), "a.png"), dpi=72)
        >>> [p.suffix for p in paths]
        ['.png', '.tsv', '.json']
        """
        from ..export import savefig

        return savefig(self, path, dpi=dpi, sidecars=sidecars)

    def sidecar_table(self) -> pd.DataFrame:
        """The table written as the TSV sidecar (the data drawn, by default).

        Returns
        -------
        pandas.DataFrame
            :attr:`data` for heatmaps; the statistics table for dual-expression plots.

        Examples
        --------
        >>> import sc_heatmaps as sch
        >>> plot = sch.pl.grouped_heatmap(sch.datasets.example(), groupby="cluster",
        ...                               cluster_key="cluster", n_genes=2)
        >>> plot.sidecar_table() is plot.data
        True
        """
        return self.data

    def __repr__(self) -> str:
        rows, cols = self.data.shape
        return f"<{type(self).__name__}: {rows} x {cols} data, axes {sorted(self.axes)}>"


@dataclass(repr=False)
class HeatmapPlot(Plot):
    """Returned by the heatmaps (:func:`grouped_heatmap`, :func:`cell_heatmap`,
    :func:`matrix_heatmap`).

    ``axes`` has the keys ``"heatmap"`` (body axes, one per column block),
    ``"row_bar"``, ``"col_bars"`` (one entry per annotation key),
    ``"row_dendrogram"``, ``"col_dendrogram"``, ``"row_labels"``,
    ``"col_labels"`` and ``"legend"`` (colour bar and category legends);
    absent parts are ``None``.

    Attributes
    ----------
    bundle
        Everything drawn (:class:`sc_heatmaps.get.HeatmapBundle`); the interactive
        view reads it too.
    spec
        The board's drawing specification (bundle plus drawing options).
    columns
        Per-cell heatmaps: one row per column drawn (group, cells in the bin, keys).
    """

    bundle: object = None
    spec: object = None
    columns: pd.DataFrame | None = None

    def sidecar_table(self) -> pd.DataFrame:
        """The table written as the TSV sidecar: the matrix drawn, or, with significance
        marks, one row per drawn cell with the test's values beside the value drawn.

        Returns
        -------
        pandas.DataFrame
            :attr:`data`; with marks, indexed by the rows' levels and ``column``, with
            columns ``value``, ``logfc``, ``pval_adj`` and ``significant``.

        Examples
        --------
        >>> import sc_heatmaps as sch
        >>> adata = sch.datasets.example()
        >>> table = sch.tl.dataset_differences(adata, "dataset", "cluster", reference="ctrl")
        >>> plot = sch.pl.grouped_heatmap(adata, ["ISG15", "CD3E"], cluster_key="cluster",
        ...                               dataset_key="dataset", significance=table)
        >>> list(plot.sidecar_table().columns)
        ['value', 'logfc', 'pval_adj', 'significant']
        """
        marks = getattr(self.bundle, "marks", None)
        if marks is None:
            return self.data
        from ..arrange._significance import marks_table

        return marks_table(self.data, marks)

    @property
    def hover(self) -> dict:
        """Cells per group, fraction expressing and the values before row scaling,
        aligned to :attr:`data` (for tooltips and ranking in the interactive view)."""
        b = self.bundle
        out = {"unscaled": None if b is None else b.unscaled}
        if b is not None and b.n_cells is not None:
            out.update(n_cells=b.n_cells, fraction=b.fraction)
        return out
