"""``dotplot``: genes x groups as dots, sized by the fraction of cells expressing and
coloured by the mean (or the log fold change against a reference dataset).

The options are written once, in :class:`~sc_heatmaps._dotplot_options.DotPlotOptions`;
``get`` prepares the bundle (the grouped heatmap's, with the fractions), the heatmap
board draws it with a dot body (:mod:`sc_heatmaps.pl._dot_body`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .._dotplot_options import DotPlotOptions
from .._options import takes_options
from ..get._dot_bundle import DotBundle, dot_bundle
from ._dot_body import DotBody, SizeMap
from ._draw import draw_bundle
from ._heatmap_board import data_extend
from ._plot import HeatmapPlot


@dataclasses.dataclass(repr=False)
class DotPlot(HeatmapPlot):
    """Returned by :func:`dotplot`: a :class:`HeatmapPlot` whose ``data`` is each dot's
    colour value; ``sizes`` gives the fractions and ``size_map`` the area of a dot."""

    @property
    def size_map(self) -> SizeMap:
        """The map fraction <-> dot area (points²) used by the dots and the size legend."""
        return self.spec.body.size

    def sidecar_table(self) -> pd.DataFrame:
        """Both matrices drawn: the colour values and the fractions; with significance
        marks, the test's values beside them.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``value`` (``"color"``, ``"fraction"``; with the dataset in
            brackets when split, one pair per half) and the rows of :attr:`data`.
            With marks: one row per dot (the rows' levels and ``column``), with the
            columns ``color``, ``fraction`` (a pair per half when split), ``logfc``,
            ``pval_adj`` and ``significant``.

        Examples
        --------
        >>> import sc_heatmaps as sch
        >>> plot = sch.pl.dotplot(sch.datasets.example(), ["CD3E", "LYZ"], "cluster")
        >>> sorted(set(plot.sidecar_table().index.get_level_values("value")))
        ['color', 'fraction']
        """
        b = self.bundle
        layers = b.layers or (("", b.data, b.fraction),)
        parts = {}
        for name, colours, fractions in layers:
            tag = f" ({name})" if name else ""
            parts[f"color{tag}"] = colours
            parts[f"fraction{tag}"] = fractions
        if getattr(b, "marks", None) is None:
            return pd.concat(parts, names=["value"])
        from ..arrange._significance import marks_table

        first, *rest = parts
        long = marks_table(parts[first], b.marks, value_name=first)
        for name in rest:
            long[name] = parts[name].stack(future_stack=True).to_numpy()
        return long[[*parts, "logfc", "pval_adj", "significant"]]


@takes_options(DotPlotOptions, ("adata", "var_names", "groupby"))
def dotplot(
    adata,
    var_names: Sequence[str] | Mapping[str, Sequence[str]] | str | None = None,
    groupby: str | Sequence[str] | None = None,
    *,
    opts: DotPlotOptions,
) -> DotPlot:
    """Dot plot of genes x groups: size = fraction of cells expressing, colour = mean.

    Takes the options of :func:`grouped_heatmap` (genes, markers, ``clusters``,
    ``source``, ``gene_symbols``, ``filter``, clustering, ``labels``, limits), and:

    Parameters
    ----------
    adata
        Annotated data; never modified.
    var_names, groupby, cluster_key, dataset_key, n_genes, markers, source, clusters
        As in :func:`grouped_heatmap` (markers of each cluster by default).
    layout
        ``"columns"``: one column per (dataset, cluster), datasets outermost, with both
        annotation bars (as the grouped heatmap). ``"paired"``: the datasets of each
        cluster side by side under one cluster label. ``"split"``: one dot per
        (gene, cluster), its left half the first dataset, its right half the second
        (exactly two datasets; more: use ``"paired"``).
    color
        ``"mean"`` (scaled by ``scale``), or ``"logfc"``: log2 fold change against the
        dataset ``reference`` within each cluster (scanpy's formula on log1p means,
        with a pseudocount of 1 as Seurat's ``FoldChange``: ``(a - b) / ln 2`` for
        log1p means ``a``, ``b``) on a diverging scale centred at 0. One colour
        scale covers every dataset and cluster shown.
    reference
        The reference dataset (a category of ``dataset_key``) of ``color="logfc"``.
    scale
        ``None`` (scanpy's ``standard_scale=None``, Seurat's ``scale=FALSE``),
        ``"zscore"`` per gene across the groups shown (Seurat's ``DotPlot`` default
        ``scale=TRUE``, clipped at ±2.5 as its ``col.min``/``col.max``) or ``"minmax"``
        per gene (scanpy's ``standard_scale="var"``).
    expression_cutoff
        A cell expresses a gene above this value (scanpy's ``expression_cutoff``;
        Seurat counts values above 0).
    mean_only_expressed
        Average only the expressing cells (scanpy's ``mean_only_expressed``).
    dot_min, dot_max
        Fractions drawn as the smallest and the largest dot; fractions beyond are
        clipped (scanpy's ``dot_min``/``dot_max``, Seurat's ``col.min``-like
        ``scale.min``/``scale.max`` in percent). Default 0 and 1, so that a dot's size
        means the same fraction in every figure (scanpy's ``dot_max`` defaults to the
        largest fraction shown).
    smallest_dot, largest_dot, size_exponent
        The size map, areas in points² (scanpy's names; see
        :mod:`sc_heatmaps.pl._dot_body`): ``area = smallest_dot + (largest_dot -
        smallest_dot) * t ** size_exponent``. ``largest_dot=None`` fits the cells;
        ``size_exponent=1`` makes the area proportional to the fraction (scanpy: 1.5;
        Seurat's ``scale.by="radius"`` is 2, ``"size"`` is 1).
    min_cells
        Groups with fewer cells (but some) are listed in a note beside the legends.
    cmap
        Default ``"Reds"`` for unscaled means, ``"RdBu_r"`` for z-scores and log fold
        changes.
    cluster_rows, cluster_cols, labels, vmin, vmax, vcenter, figsize, title, missing,
    markers_kws, filter, gene_symbols
        As in :func:`grouped_heatmap`.
    significance, alpha
        A table of :func:`sc_heatmaps.tl.dataset_differences` and the threshold on its
        ``pval_adj``, as in :func:`grouped_heatmap`: each dot whose (gene, cluster,
        dataset) has ``pval_adj < alpha`` gets an open black ring on the outline of the
        largest dot a cell holds, so the dot's colour and size stay readable; the
        legend names the test, the threshold and the reference ("cell-level test
        (exploratory)" for a cell-level test). With ``layout="split"`` a cluster's dot
        is ringed when its non-reference half differs from its reference half: the
        test's reference must be one of the two datasets (else use ``"paired"``). The
        TSV sidecar then has one row per dot: colour, fraction, ``logfc``,
        ``pval_adj`` and ``significant``.

    Returns
    -------
    DotPlot
        With ``.figure``, ``.axes`` (as a heatmap's), ``.data`` (colour values),
        ``.bundle.fraction`` (sizes), ``.size_map``, ``.params`` and ``.savefig``
        (the TSV sidecar holds both matrices).

    Examples
    --------
    >>> import sc_heatmaps as sch
    >>> adata = sch.datasets.example()
    >>> plot = sch.pl.dotplot(adata, cluster_key="cluster", dataset_key="dataset", n_genes=2)
    >>> plot.bundle.fraction.shape == plot.data.shape
    True
    """
    bundle = dot_bundle(adata, var_names, groupby, opts)
    return draw_dots(bundle, opts)


def draw_dots(bundle: DotBundle, opts: DotPlotOptions) -> DotPlot:
    """Draw a dot bundle on the heatmap board (the app and the CLI call this too)."""
    layers = list(bundle.layers) or [("", bundle.data, bundle.fraction)]
    size = SizeMap(
        opts.dot_min, opts.dot_max, opts.smallest_dot, opts.largest_dot, opts.size_exponent
    )
    edge = opts.color == "logfc" or opts.scale == "zscore"  # white dots at the centre
    body = DotBody(layers=layers, size=size, notes=list(bundle.notes), edge=edge)
    colours = np.concatenate([c.to_numpy(dtype=np.float64).ravel() for _, c, _ in layers])
    vmin, vmax, _ = bundle.limits
    drawn = opts.replace(cmap=opts.cmap or default_cmap(opts))
    plot = draw_bundle(
        bundle,
        drawn,
        "sc_heatmaps.pl.dotplot",
        body=body,
        extend=data_extend(colours, vmin, vmax),
        col_split_titles=opts.layout == "paired",
    )
    plot.params["size_map"] = dataclasses.asdict(body.size)
    return DotPlot(**{f.name: getattr(plot, f.name) for f in dataclasses.fields(plot)})


def default_cmap(opts: DotPlotOptions) -> str:
    return "RdBu_r" if opts.color == "logfc" or opts.scale == "zscore" else "Reds"


def prepare(adata, var_names=None, groupby=None, **options) -> DotBundle:
    """The bundle :func:`dotplot` draws, without drawing (same options)."""
    return dot_bundle(adata, var_names, groupby, DotPlotOptions.from_kwargs(options))
