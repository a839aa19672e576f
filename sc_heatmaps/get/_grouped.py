"""Grouped expression: a genes x groups matrix of means, medians or fractions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import sparse

from .._aggregate import GroupStats, group_medians, group_stats, subset_group_stats
from .._genes import gene_names
from .._groups import Grouping, make_grouping
from .._kernels import dense, indicator
from .._sources import column_block, nan_genes, resolve_source
from .._validate import ScHeatmapsKeyError, check_choice, check_number
from ..arrange import scale_rows

Stat = Literal["mean", "median", "fraction"]
STATS = ("mean", "median", "fraction")
MISSING = ("raise", "drop")


@dataclass(frozen=True)
class GroupedExpression:
    """Result of :func:`grouped_expression`.

    Attributes
    ----------
    matrix
        Genes x groups values of ``stat``, scaled when ``scale`` was given.
    unscaled
        The same values before scaling.
    fraction
        Genes x groups fraction of cells with a value above ``expression_cutoff``
        (0 by default).
    n_cells
        Number of cells in each group.
    groups
        One row per group: the value of each groupby key, and ``n_cells``.
    stat, scale, source
        The options used.
    dropped_genes
        Genes left out with ``missing="drop"`` (absent or NaN in the source).
    """

    matrix: pd.DataFrame
    unscaled: pd.DataFrame
    fraction: pd.DataFrame
    n_cells: pd.Series
    groups: pd.DataFrame
    stat: str
    scale: str | None
    source: str
    dropped_genes: list[str] = field(default_factory=list)


def as_gene_list(var_names: str | Sequence[str] | Mapping[str, Sequence[str]]) -> list[str]:
    """Genes from a name, a list, or a mapping of block -> genes (first occurrence kept)."""
    if isinstance(var_names, str):
        genes = [var_names]
    elif isinstance(var_names, Mapping):
        blocks = ([b] if isinstance(b, str) else b for b in var_names.values())  # one gene
        genes = list(dict.fromkeys(g for block in blocks for g in block))
    else:
        genes = [str(g) for g in var_names]
        counts = Counter(genes)  # one pass: list.count per gene took minutes for 20,000
        repeated = sorted(g for g, n in counts.items() if n > 1)
        if repeated:
            raise ValueError(f"var_names lists {repeated!r} more than once; list each gene once.")
    if not genes:
        raise ValueError("var_names is empty; give at least one gene.")
    return genes


def grouped_expression(
    adata,
    var_names: str | Sequence[str] | Mapping[str, Sequence[str]],
    groupby: str | list[str],
    *,
    source: str = "RNA",
    clusters: str | Sequence[str] | None = None,
    cluster_key: str | None = None,
    stat: Stat = "mean",
    scale: Literal["zscore", "minmax"] | None = None,
    missing: Literal["raise", "drop"] = "raise",
    gene_symbols: str | None = None,
    expression_cutoff: float = 0.0,
    mean_only_expressed: bool = False,
) -> GroupedExpression:
    """Summarise genes per group of cells (genes x groups).

    Parameters
    ----------
    adata
        Annotated data; it is only read.
    var_names
        Genes: a list, one name, or a mapping of block -> genes.
    groupby
        One obs key or a list of keys, e.g. ``["dataset", "cluster"]``; groups
        are their non-empty combinations in category order, first key outermost.
    source
        ``"RNA"`` (``adata.raw`` when set, else ``adata.X``), ``"integrated"``
        (``adata.layers["integrated"]``) or a layer name.
    clusters
        Keep only these clusters of ``cluster_key``: a list or ``"0,3,5"``. Their
        groups come in this order (within each group of the outer keys).
    cluster_key
        The obs key ``clusters`` refers to (default: the only groupby key).
    stat
        ``"mean"``, ``"median"`` or ``"fraction"`` (cells with a value above 0).
    scale
        ``None``, ``"zscore"`` (per gene across the groups shown) or ``"minmax"``.
    missing
        What to do with genes absent from the source or holding NaN there:
        ``"raise"`` (default) or ``"drop"`` (listed in ``dropped_genes``).
    gene_symbols
        A column of ``adata.var`` (of ``adata.raw.var`` for ``source="RNA"`` when
        ``adata.raw`` is set) holding gene symbols, as in scanpy: ``var_names`` are then
        given, and the rows labelled, by symbol (e.g. with Ensembl IDs as
        ``var_names``). See :mod:`sc_heatmaps._genes` for the rules.
    expression_cutoff
        A cell expresses a gene when its value is above this (scanpy's
        ``expression_cutoff``); ``fraction`` counts those cells.
    mean_only_expressed
        ``stat="mean"`` averages only the cells expressing the gene (scanpy's
        ``mean_only_expressed``; 0 where no cell of a group expresses it).

    Returns
    -------
    GroupedExpression
        ``.matrix`` (genes x groups values of ``stat``, scaled when asked),
        ``.unscaled``, ``.fraction`` (fraction of cells above 0), ``.n_cells``,
        ``.groups`` (one row per group) and ``.dropped_genes``.

    Examples
    --------
    >>> import sc_heatmaps as sch
    >>> adata = sch.datasets.example()
    >>> ge = sch.get.grouped_expression(adata, ["CD3E", "MS4A1"], ["dataset", "cluster"])
    >>> ge.matrix.shape
    (2, 24)
    """
    check_choice("stat", stat, STATS)
    check_choice("missing", missing, MISSING)
    check_number("expression_cutoff", expression_cutoff)
    cutoff = Cutoff(float(expression_cutoff), bool(mean_only_expressed))
    names = gene_names(adata, gene_symbols, source)
    genes, unknown = names.to_var_names(as_gene_list(var_names), missing=missing)
    # X is read through blocks and the compiled subset pass, which sum duplicate
    # entries themselves: no search of the whole matrix for them
    expr = resolve_source(adata, source, canonical=False)
    grouping = make_grouping(adata.obs, groupby, clusters=clusters, cluster_key=cluster_key)
    idx, dropped = expr.gene_indices(genes, missing=missing, can_drop=True)
    dropped = unknown + names.labels(dropped)
    genes = names.labels(genes)  # the values are read by position: label the rows now
    genes = [g for g in genes if g not in set(dropped)]
    if not genes:
        raise ScHeatmapsKeyError(f"None of the genes are usable in source={source!r}: {dropped}.")
    stats, medians, bad = _gene_stats(expr.X, idx, genes, grouping, stat, cutoff)
    if bad:
        keep, genes, dropped = _handle_nan(genes, dropped, bad, source, missing)
        stats = stats.columns(keep)
        medians = None if medians is None else medians[:, keep]
    if not genes:
        raise ScHeatmapsKeyError(f"None of the genes are usable in source={source!r}: {dropped}.")
    return _summarise(stats, medians, genes, grouping, stat, scale, source, dropped)


@dataclass(frozen=True)
class Cutoff:
    """When a cell counts as expressing a gene (value above ``value``), and whether
    means are taken over those cells only."""

    value: float = 0.0
    only_expressed: bool = False

    @property
    def default(self) -> bool:
        return self.value == 0.0 and not self.only_expressed


def _gene_stats(X, idx, genes: list[str], grouping: Grouping, stat: str, cutoff=Cutoff()):
    """Group statistics of the selected columns, their medians (``stat="median"`` only),
    and the genes holding NaN or inf.

    Means and fractions come from one compiled pass over the stored values that reads
    only the selected genes (no copy of ``X[:, idx]``); medians, backed and dask
    matrices, and another expression cutoff read the selected columns as a block
    (one pass too: see :func:`_cutoff_stats`).
    """
    codes, n_groups = grouping.codes, grouping.n_groups
    fast = None
    if stat != "median" and cutoff.default:
        fast = subset_group_stats(X, idx, codes, n_groups)
    if fast is not None:
        stats, nonfinite = fast
        return stats, None, [g for g, b in zip(genes, nonfinite, strict=True) if b]
    # columns read in matrix order (the block's indices stay sorted, so the intake need
    # not sort them), then put back in the order asked for
    order = np.argsort(idx, kind="stable")
    back = np.argsort(order)
    block = column_block(X, idx[order])
    medians = group_medians(block, codes, n_groups)[:, back] if stat == "median" else None
    bad = set(nan_genes(block, [genes[i] for i in order]))
    stats = group_stats(block, codes, n_groups, m2=False)  # no variances are reported
    if not cutoff.default:
        stats = _cutoff_stats(stats, block, codes, n_groups, cutoff)
    return stats.columns(back), medians, [g for g in genes if g in bad]


def _cutoff_stats(stats: GroupStats, block, codes, n_groups: int, cutoff: Cutoff) -> GroupStats:
    """``stats`` with cells counted as expressing above ``cutoff.value``, and with the
    sums taken over those cells only when ``cutoff.only_expressed`` (scanpy's
    ``mean_only_expressed``: the mean is then sums / n_pos)."""
    if sparse.issparse(block) and cutoff.value < 0:  # zeros count: read them
        block = block.toarray()
    G = indicator(np.asarray(codes), n_groups)
    above = block > cutoff.value
    n_pos = dense(G @ above.astype(np.float64))
    sums = stats.sums
    if cutoff.only_expressed:
        kept = block.multiply(above) if sparse.issparse(block) else np.where(above, block, 0.0)
        sums = dense(G @ kept)
    # variances are of every cell: none are kept for a mean over the expressing cells
    m2 = None if cutoff.only_expressed else stats.m2
    return ExpressedStats(stats.n, sums, m2, n_pos, cutoff.only_expressed)


@dataclass(frozen=True)
class ExpressedStats(GroupStats):
    """Group statistics whose mean may be over the expressing cells only (0 where a
    group has cells but none expresses the gene, as scanpy's dot plot fills it)."""

    only_expressed: bool = False

    def columns(self, keep: np.ndarray) -> ExpressedStats:
        kept = super().columns(keep)
        return ExpressedStats(kept.n, kept.sums, kept.m2, kept.n_pos, self.only_expressed)

    @property
    def mean(self) -> np.ndarray:
        if not self.only_expressed:
            return super().mean
        n_pos = self.n_pos
        out = np.divide(self.sums, n_pos, out=np.zeros_like(self.sums), where=n_pos > 0)
        return np.where(self.n[:, None] > 0, out, np.nan)


def _handle_nan(genes, dropped, bad, source, missing):
    if missing == "raise":
        other = "" if source == "RNA" else "use source='RNA', or "
        raise ValueError(
            f"Genes {bad!r} hold NaN or inf values in source={source!r}; {other}pass "
            "missing='drop' to leave them out (they are then listed in the result)."
        )
    keep = np.flatnonzero([g not in set(bad) for g in genes])
    return keep, [g for g in genes if g not in set(bad)], dropped + bad


def _summarise(stats: GroupStats, medians, genes, grouping: Grouping, stat, scale, source, dropped):
    index = pd.Index(genes, name="gene")

    def frame(values: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(values.T, index=index, columns=grouping.labels)

    if stat == "mean":
        values = stats.mean
    elif stat == "fraction":
        values = stats.fraction
    else:
        values = medians
    unscaled = frame(values)
    return GroupedExpression(
        matrix=scale_rows(unscaled, scale),
        unscaled=unscaled,
        fraction=frame(stats.fraction),
        n_cells=grouping.meta["n_cells"].copy(),
        groups=grouping.meta.copy(),
        stat=stat,
        scale=scale,
        source=source,
        dropped_genes=list(dropped),
    )
