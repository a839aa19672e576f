"""``dataset_differences_heatmap``: log fold changes between datasets, genes x (cluster, dataset).

The values come from :func:`sc_heatmaps.tl.dataset_differences` (computed here from an
AnnData, or passed in as its table). Columns are (cluster, dataset) pairs under a
cluster bar and a dataset bar whose colours come from the colour registry
(:func:`sc_heatmaps.get.category_colors`); the colour scale diverges from 0. The
board that draws every heatmap draws this one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd

from .._heatmap_options import Labels
from .._labels import joined, joined_labels, name_labels
from .._options import Options, takes_options
from .._plural import counted, plural
from .._validate import ScHeatmapsKeyError, as_name_list, check_number, missing_names_message
from ..arrange._significance import cell_marks
from ..get._bundle import HeatmapBundle
from ..get._colors import category_colors, default_palette
from ._draw import draw_bundle
from ._plot import HeatmapPlot

TABLE_COLUMNS = ("cluster", "dataset", "reference", "gene", "logfc", "score", "pval_adj")
ROBUST_PERCENTILE = 95.0  # default colour limit: this percentile of |log fold change|


@dataclass(frozen=True)
class DifferencesHeatmapOptions(Options):
    """Options of :func:`sc_heatmaps.pl.dataset_differences_heatmap` (see its docstring)."""

    dataset_key: str | None = None
    cluster_key: str | None = None
    reference: str | None = None
    method: Literal["t-test", "t-test_overestim_var", "wilcoxon", "pseudobulk"] = "t-test"
    sample_key: str | None = None
    source: str = "RNA"
    layer: str | None = None
    use_raw: bool | None = None
    clusters: str | Sequence[str] | None = None
    design_covariates: str | Sequence[str] | None = None
    min_cells: int = field(default=10, metadata={"ge": 1})
    min_counts: int = field(default=1000, metadata={"ge": 0})
    shrink: bool = False
    n_cpus: int = field(default=1, metadata={"ge": 1})
    genes: str | Sequence[str] | None = None
    n_genes: int = field(default=5, metadata={"ge": 1})
    rank_by: Literal["logfc", "score"] = "score"
    max_pval_adj: float | None = field(default=0.05, metadata={"ge": 0, "le": 1})
    palettes: Mapping[str, Mapping[str, str]] | None = field(
        default=None, metadata={"kind": "color"}
    )
    cmap: str = field(default="RdBu_r", metadata={"kind": "cmap"})
    labels: Labels = "auto"
    vmax: float | None = field(default=None, metadata={"gt": 0})  # the scale is -vmax..vmax
    figsize: tuple[float, float] | None = field(default=None, metadata={"kind": "figsize"})
    title: str | None = None
    alpha: float | None = field(default=0.05, metadata={"gt": 0, "lt": 1})


@takes_options(DifferencesHeatmapOptions, ("data",))
def dataset_differences_heatmap(data, *, opts: DifferencesHeatmapOptions) -> HeatmapPlot:
    """Heatmap of the log fold changes between datasets within each cluster.

    Rows are genes; columns are (cluster, dataset) pairs, each dataset compared with
    the reference (or with the other datasets of the cluster), split by cluster,
    under a cluster bar and a dataset bar. Colours diverge from 0 (``RdBu_r``: red
    higher in the dataset, blue lower).

    Parameters
    ----------
    data
        An AnnData (never modified; the table is computed with
        :func:`sc_heatmaps.tl.dataset_differences` from ``dataset_key``,
        ``cluster_key`` and the options passed to it, listed below) or a table that
        function returned.
    dataset_key, cluster_key
        The obs keys of the datasets and clusters (required with an AnnData; with a
        table they only name the bars, ``"dataset"`` and ``"cluster"`` by default).
    reference, method, sample_key, source, layer, use_raw, clusters
        Passed to :func:`sc_heatmaps.tl.dataset_differences` (AnnData only;
        ``clusters`` also selects the clusters of a table). ``method="pseudobulk"``
        (with ``sample_key``, raw counts in ``X``, ``layer`` or ``raw``; needs pydeseq2)
        draws DESeq2's log2 fold changes, and the marks and their legend entry name
        "pseudobulk DESeq2 (pydeseq2)", the ``alpha`` threshold on padj and the
        reference.
    design_covariates, min_cells, min_counts, shrink, n_cpus
        The pseudobulk test's options, passed to
        :func:`sc_heatmaps.tl.dataset_differences` (AnnData only; refused with another
        ``method`` unless left at their defaults).
    genes
        The genes to draw (a list or ``"ISG15,MX1"``), in this order. By default, per
        cluster (in column order), the ``n_genes`` genes with the largest absolute
        ``rank_by`` value in any dataset of that cluster among those with
        ``pval_adj <= max_pval_adj``; a gene picked by several clusters is drawn
        once, in the block of the first; the row bar shows that cluster.
    n_genes
        Genes picked per cluster when ``genes`` is ``None``.
    rank_by
        Pick genes by their largest absolute ``"logfc"`` or ``"score"`` (the test
        statistic) in the cluster. A gene that no cell of one side expresses has a
        log fold change of about +-30 (scanpy's 1e-9 epsilon), so ``"logfc"`` favours
        such on/off genes; ``"score"`` (the default) favours strong, consistent
        changes (on Kang: ISG15, IFIT3, IFI6, MX1 in every cell type).
    max_pval_adj
        Only genes at or below this adjusted p-value are picked (``None``: any).
        A pseudobulk test with two samples per side rarely reaches 0.05.
    palettes
        With a table: ``{"cluster": {category: colour}, "dataset": {...}}``, e.g. from
        :func:`sc_heatmaps.get.category_colors`; by default the package palette in
        category order (what the registry gives a key without stored colours). With an
        AnnData the registry's colours are used.
    cmap
        A diverging colormap.
    labels
        Tick labels: ``"auto"``, ``"all"``, ``"x"``, ``"y"`` or ``"none"``.
    vmax
        The colour scale runs from ``-vmax`` to ``vmax``, centred at 0; by default
        ``vmax`` is the 95th percentile of the absolute log fold changes drawn,
        leaving out genes that no cell expresses on one side of a comparison (their
        log fold change, scanpy's with its 1e-9 epsilon, is about +-30 and would wash
        out the rest; ``params["notes"]`` counts them); larger values get the end
        colours and an arrow on the colour bar.
    figsize
        Size of the whole figure in inches.
    title
        Figure title.
    alpha
        Mark (a dot) each cell whose ``pval_adj`` is below ``alpha``, with a legend
        entry naming the test (from ``table.attrs``: method, unit, reference) and the
        threshold; a cell-level test is labelled "cell-level test (exploratory)".
        ``None``: no marks.

    Returns
    -------
    HeatmapPlot
        ``.data`` is the genes x (cluster / dataset) matrix of log fold changes (NaN
        where the table has no value, drawn grey).

    Examples
    --------
    >>> import sc_heatmaps as sch
    >>> adata = sch.datasets.example()
    >>> plot = sch.pl.dataset_differences_heatmap(
    ...     adata, dataset_key="dataset", cluster_key="cluster", reference="ctrl", n_genes=3
    ... )
    >>> list(plot.bundle.col_meta.columns)
    ['cluster', 'dataset']
    """
    table, palettes, names = _table_and_colors(data, opts)
    bundle = _with_marks(differences_bundle(table, palettes, names, opts), table, opts.alpha)
    return draw_bundle(bundle, opts, "sc_heatmaps.pl.dataset_differences_heatmap")


def _table_and_colors(data, opts) -> tuple[pd.DataFrame, dict, tuple[str, str]]:
    """The table, the colours of its clusters and datasets, and the bars' names."""
    if isinstance(data, pd.DataFrame):
        table = _checked_table(data)
        names = (opts.cluster_key or "cluster", opts.dataset_key or "dataset")
        return _selected(table, opts.clusters), _table_palettes(table, opts.palettes), names
    if opts.dataset_key is None or opts.cluster_key is None:
        raise ValueError(
            "With an AnnData, pass dataset_key= and cluster_key= (the obs keys of the "
            "datasets and the clusters), or pass the table of sch.tl.dataset_differences."
        )
    from ..tl import dataset_differences  # on first use: the ranking code loads anndata

    table = dataset_differences(
        data,
        opts.dataset_key,
        opts.cluster_key,
        reference=opts.reference,
        method=opts.method,
        sample_key=opts.sample_key,
        source=opts.source,
        layer=opts.layer,
        use_raw=opts.use_raw,
        clusters=opts.clusters,
        design_covariates=opts.design_covariates,
        min_cells=opts.min_cells,
        min_counts=opts.min_counts,
        shrink=opts.shrink,
        n_cpus=opts.n_cpus,
    )
    palettes = {
        "cluster": category_colors(data, opts.cluster_key),
        "dataset": category_colors(data, opts.dataset_key),
    }
    return table, palettes, (opts.cluster_key, opts.dataset_key)


def _checked_table(table: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in TABLE_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(
            f"The table lacks the columns {missing!r}; pass the table of "
            f"sch.tl.dataset_differences (columns {list(TABLE_COLUMNS)!r} at least) or an AnnData."
        )
    if table.empty:
        raise ValueError("The table has no rows; there is nothing to draw.")
    return table


def _categories(column: pd.Series) -> list[str]:
    what = f"values of the table's {column.name!r} column"
    if isinstance(column.dtype, pd.CategoricalDtype):
        present = set(column.astype(str))
        return [c for c in name_labels(list(column.cat.categories), what) if c in present]
    return name_labels(list(dict.fromkeys(column)), what)


def _selected(table: pd.DataFrame, clusters) -> pd.DataFrame:
    wanted = as_name_list(clusters, "clusters")
    if wanted is None:
        return table
    valid = _categories(table["cluster"])
    unknown = [w for w in wanted if w not in valid]
    if unknown:
        raise ScHeatmapsKeyError(
            f"clusters {unknown!r} are not in the table; valid clusters are {valid!r}."
        )
    table = table[table["cluster"].astype(str).isin(wanted)].copy()
    table["cluster"] = pd.Categorical(table["cluster"].astype(str), categories=wanted)
    return table


def _table_palettes(table: pd.DataFrame, given) -> dict:
    """Colours of the table's clusters and datasets: given, else the package palette in
    category order (the registry's colours for a key with no stored colours)."""
    out = {}
    for bar in ("cluster", "dataset"):
        column = table[bar]
        if isinstance(column.dtype, pd.CategoricalDtype):
            names = [str(c) for c in column.cat.categories]
        else:
            names = [str(c) for c in dict.fromkeys(column)]
        colors = dict(zip(names, default_palette(len(names)), strict=True))
        if given is not None and bar in given:
            colors.update({str(k): v for k, v in given[bar].items()})
        out[bar] = colors
    return out


def differences_bundle(table: pd.DataFrame, palettes: dict, names, opts) -> HeatmapBundle:
    """The bundle of :func:`dataset_differences_heatmap` from its table and colours."""
    cluster_bar, dataset_bar = names
    columns = _column_pairs(table)
    genes, blocks = _genes(table, columns, opts)
    matrix = _matrix(table, genes, columns, "logfc")
    one_sided = _one_sided(table, genes, columns)
    col_meta = pd.DataFrame(
        {cluster_bar: [c for c, _ in columns], dataset_bar: [d for _, d in columns]},
        index=matrix.columns,
    )
    shown = {cluster_bar: _only(palettes["cluster"], col_meta[cluster_bar])}
    shown[dataset_bar] = _only(palettes["dataset"], col_meta[dataset_bar])
    references = sorted({str(r) for r in table["reference"]})
    return HeatmapBundle(
        data=matrix,
        unscaled=matrix,
        col_meta=col_meta,
        colors=shown,
        limits=_limits(matrix.to_numpy(), one_sided, opts.vmax),
        value_label=f"log2 fold change\n(vs {', '.join(references)})",
        col_split=cluster_bar,
        row_blocks=blocks,
        row_block_name=cluster_bar if blocks is not None else None,
        row_palette=None if blocks is None else _only(palettes["cluster"], blocks),
        row_bar_legend=False,
        provenance={
            "genes_drawn": list(genes),
            "genes_from": "user" if opts.genes is not None else f"top |{opts.rank_by}| per cluster",
            "references": references,
            "columns": list(matrix.columns),
            "one_sided_cells": int(one_sided.sum()),
        },
        notes=_notes(one_sided),
    )


def _with_marks(bundle: HeatmapBundle, table: pd.DataFrame, alpha) -> HeatmapBundle:
    """``bundle`` with a mark on each cell whose ``pval_adj`` is below ``alpha``."""
    if alpha is None:
        return bundle
    meta = bundle.col_meta
    pairs = list(zip(meta.iloc[:, 0].astype(str), meta.iloc[:, 1].astype(str), strict=True))
    marks = cell_marks(table, bundle.data, pairs, alpha, what="differences")
    provenance = {**bundle.provenance, "significance": marks.record}
    return replace(bundle, marks=marks, provenance=provenance)


def _only(palette: dict, values) -> dict:
    present = {str(v) for v in values}
    return {k: v for k, v in palette.items() if k in present}


def _column_pairs(table: pd.DataFrame) -> list[tuple[str, str]]:
    """(cluster, dataset) pairs present in the table, clusters outermost, each in its
    category order."""
    present = set(zip(table["cluster"].astype(str), table["dataset"].astype(str), strict=True))
    return [
        (c, d)
        for c in _categories(table["cluster"])
        for d in _categories(table["dataset"])
        if (c, d) in present
    ]


def _genes(table: pd.DataFrame, columns, opts) -> tuple[list[str], list[str] | None]:
    """The genes drawn and, when they were picked per cluster, the cluster of each."""
    all_genes = [str(g) for g in dict.fromkeys(table["gene"].astype(str))]
    wanted = as_name_list(opts.genes, "genes")
    if wanted is not None:
        lost = [g for g in wanted if g not in set(all_genes)]
        if lost:
            raise ScHeatmapsKeyError(missing_names_message("Genes in the table", lost, all_genes))
        return list(dict.fromkeys(wanted)), None
    check_number("n_genes", opts.n_genes, 1)
    check_number("max_pval_adj", opts.max_pval_adj, 0, 1, allow_none=True)
    rows = table
    if opts.max_pval_adj is not None:
        rows = table[table["pval_adj"] <= opts.max_pval_adj]
    picked: dict[str, str] = {}
    for cluster in dict.fromkeys(c for c, _ in columns):
        sub = rows[rows["cluster"].astype(str) == cluster]
        strength = sub.assign(size=sub[opts.rank_by].abs()).groupby("gene", observed=True)["size"]
        top = strength.max().sort_values(ascending=False, kind="stable")
        for gene in top.index[: opts.n_genes]:
            picked.setdefault(str(gene), cluster)
    if not picked:
        raise ValueError(
            f"No gene has pval_adj <= {opts.max_pval_adj} in any comparison; pass "
            "max_pval_adj=None (or a larger value), or genes=[...]."
        )
    return list(picked), list(picked.values())


def _matrix(table: pd.DataFrame, genes: list[str], columns, value: str) -> pd.DataFrame:
    labels = joined_labels(columns, "(cluster, dataset) columns")
    pairs = zip(table["cluster"].astype(str), table["dataset"].astype(str), strict=True)
    keyed = table.assign(column=[joined(p) for p in pairs], gene=table["gene"].astype(str))
    wide = keyed.pivot_table(index="gene", columns="column", values=value, aggfunc="first")
    matrix = wide.reindex(index=genes, columns=labels).astype(np.float64)
    matrix.index.name, matrix.columns.name = "gene", None
    return matrix


def _one_sided(table: pd.DataFrame, genes: list[str], columns) -> np.ndarray:
    """Cells of the matrix where no cell expresses the gene on one side: their log fold
    change is set by scanpy's epsilon (about +-30), not by the data."""
    if "pct_dataset" not in table.columns or "pct_reference" not in table.columns:
        return np.zeros((len(genes), len(columns)), dtype=bool)
    flag = table.assign(one=(table["pct_dataset"] == 0) | (table["pct_reference"] == 0))
    return _matrix(flag, genes, columns, "one").fillna(False).to_numpy(dtype=bool)


def _notes(one_sided: np.ndarray) -> list[str]:
    n = int(one_sided.sum())
    if not n:
        return []
    return [
        f"{counted(n, 'cell')} {plural(n, 'shows', 'show')} a gene that no cell expresses on "
        "one side: their log fold change "
        "(scanpy's, with its 1e-9 epsilon) is about +-30 and drawn in the end colour; the "
        "colour limits come from the other cells."
    ]


def _limits(values: np.ndarray, one_sided: np.ndarray, vmax: float | None) -> tuple:
    """Symmetric limits centred at 0: ``vmax``, else a robust percentile of |values|
    over the cells where both sides express the gene."""
    if vmax is not None:
        check_number("vmax", vmax, 0)
        lim = float(vmax)
    else:
        finite = np.abs(values[np.isfinite(values) & ~one_sided])
        lim = float(np.percentile(finite, ROBUST_PERCENTILE)) if finite.size else 1.0
    lim = lim if lim > 0 else 1.0
    return -lim, lim, 0.0
