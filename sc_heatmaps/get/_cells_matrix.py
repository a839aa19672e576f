"""Per-cell expression for a heatmap: cells ordered by group, reduced per group."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import sparse

from .._genes import gene_names
from .._groups import make_grouping
from .._labels import numbered
from .._sources import column_block, resolve_source
from .._validate import check_choice
from ._grouped import as_gene_list

REDUCE = ("bins", "sample")


@dataclass(frozen=True)
class CellMatrix:
    """Genes x columns, each column a cell (or the mean of a bin of cells).

    ``columns`` has one row per column: the groupby values, ``group`` and
    ``n_cells`` (cells behind the column).
    """

    matrix: pd.DataFrame
    columns: pd.DataFrame
    n_cells: pd.Series


def _reduce_group(rows: np.ndarray, limit: int | None, how: str, rng):
    """The cells of one group that are kept, in order, and the size of each column's bin."""
    if limit is None or len(rows) <= limit:
        return rows, np.ones(len(rows), dtype=np.int64)
    if how == "sample":
        return np.sort(rng.choice(rows, limit, replace=False)), np.ones(limit, dtype=np.int64)
    sizes = np.full(limit, len(rows) // limit, dtype=np.int64)
    sizes[: len(rows) % limit] += 1  # as np.array_split: consecutive cells, larger bins first
    return rows, sizes


def _binned_values(X, idx: np.ndarray, cells: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Mean of the selected genes over consecutive runs of ``cells`` of the given sizes:
    columns x genes, float64."""
    bins = np.repeat(np.arange(len(sizes)), sizes)
    weights = np.repeat(1.0 / np.maximum(sizes, 1), sizes)
    if sparse.issparse(X) and X.format == "csr":
        # one compiled pass over the stored values: no copy of the selected columns
        from .._numba_kernels import csr_binned_columns

        column = np.full(X.shape[0], -1, dtype=np.int64)
        column[cells] = bins
        weight = np.zeros(X.shape[0])
        weight[cells] = weights
        return csr_binned_columns(X, idx, column, weight, len(sizes))
    B = sparse.csr_matrix((weights, (bins, cells)), shape=(len(sizes), X.shape[0]))
    values = B @ column_block(X, idx)
    return values.toarray() if sparse.issparse(values) else np.asarray(values)


def cell_matrix(
    adata,
    var_names,
    groupby,
    *,
    source: str = "RNA",
    clusters=None,
    cluster_key: str | None = None,
    max_cells_per_group: int | None = 500,
    reduce: Literal["bins", "sample"] = "bins",
    random_state: int = 0,
    gene_symbols: str | None = None,
) -> CellMatrix:
    """Per-cell values of ``var_names``, cells grouped by ``groupby`` in category order.

    With ``max_cells_per_group``, a larger group is reduced to that many columns:
    ``"bins"`` averages consecutive cells (every cell still counts),
    ``"sample"`` keeps a seeded random sample. Only the selected genes are read.
    With ``gene_symbols`` (a var column, as in scanpy) genes are given, and the rows
    labelled, by symbol (see :func:`sc_heatmaps.get.grouped_expression`).
    """
    check_choice("reduce", reduce, REDUCE)
    if max_cells_per_group is not None and max_cells_per_group < 1:
        raise ValueError(f"max_cells_per_group={max_cells_per_group!r} must be positive or None.")
    names = gene_names(adata, gene_symbols, source)
    genes, _ = names.to_var_names(as_gene_list(var_names))
    expr = resolve_source(adata, source)
    idx, _ = expr.gene_indices(genes)
    genes = names.labels(genes)
    grouping = make_grouping(adata.obs, groupby, clusters=clusters, cluster_key=cluster_key)
    rng = np.random.default_rng(random_state)
    order = np.argsort(grouping.codes, kind="stable")
    ends = np.cumsum(np.bincount(grouping.codes[grouping.codes >= 0], minlength=grouping.n_groups))
    start = np.count_nonzero(grouping.codes < 0)  # cells outside every group sort first
    kept, sizes, labels = [], [], []
    for label, stop in zip(grouping.labels, ends + start, strict=True):
        cells, bin_sizes = _reduce_group(order[start:stop], max_cells_per_group, reduce, rng)
        kept.append(cells)
        sizes.append(bin_sizes)
        labels += [label] * len(bin_sizes)
        start = stop
    sizes = np.concatenate(sizes) if sizes else np.array([], dtype=np.int64)
    cells = np.concatenate(kept) if kept else np.array([], dtype=np.int64)
    values = _binned_values(expr.X, idx, cells, sizes)
    meta = pd.DataFrame({"group": labels, "n_cells": sizes})
    columns = meta
    for key in grouping.keys:
        columns[key] = grouping.meta.loc[columns["group"], key].to_numpy()
    names = [numbered(label, i) for i, label in enumerate(columns["group"])]
    columns.index = pd.Index(names, name="column")
    matrix = pd.DataFrame(values.T, index=pd.Index(genes, name="gene"), columns=columns.index)
    return CellMatrix(matrix=matrix, columns=columns, n_cells=grouping.meta["n_cells"].copy())
