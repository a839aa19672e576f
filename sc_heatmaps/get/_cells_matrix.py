"""Per-cell expression for a heatmap: cells ordered by group, reduced per group."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import sparse

from .._groups import make_grouping
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
    """Column membership for one group: lists of cell indices (one list per column)."""
    if limit is None or len(rows) <= limit:
        return [np.array([r]) for r in rows]
    if how == "sample":
        return [np.array([r]) for r in np.sort(rng.choice(rows, limit, replace=False))]
    return np.array_split(rows, limit)


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
) -> CellMatrix:
    """Per-cell values of ``var_names``, cells grouped by ``groupby`` in category order.

    With ``max_cells_per_group``, a larger group is reduced to that many columns:
    ``"bins"`` averages consecutive cells (every cell still counts),
    ``"sample"`` keeps a seeded random sample. Only the selected genes are read.
    """
    check_choice("reduce", reduce, REDUCE)
    if max_cells_per_group is not None and max_cells_per_group < 1:
        raise ValueError(f"max_cells_per_group={max_cells_per_group!r} must be positive or None.")
    genes = as_gene_list(var_names)
    expr = resolve_source(adata, source)
    idx, _ = expr.gene_indices(genes)
    grouping = make_grouping(adata.obs, groupby, clusters=clusters, cluster_key=cluster_key)
    rng = np.random.default_rng(random_state)
    members, meta = [], []
    for g, label in enumerate(grouping.labels):
        cols = _reduce_group(np.flatnonzero(grouping.codes == g), max_cells_per_group, reduce, rng)
        members += cols
        meta += [(label, len(c)) for c in cols]
    sizes = np.array([len(m) for m in members])
    B = sparse.csr_matrix(
        (
            np.repeat(1.0 / sizes, sizes),
            (np.repeat(np.arange(len(members)), sizes), np.concatenate(members)),
        ),
        shape=(len(members), adata.n_obs),
    )
    values = B @ column_block(expr.X, idx)
    values = values.toarray() if sparse.issparse(values) else np.asarray(values)
    columns = pd.DataFrame(meta, columns=["group", "n_cells"])
    for key in grouping.keys:
        columns[key] = grouping.meta.loc[columns["group"], key].to_numpy()
    names = [f"{label}#{i}" for i, label in enumerate(columns["group"])]
    columns.index = pd.Index(names, name="column")
    matrix = pd.DataFrame(values.T, index=pd.Index(genes, name="gene"), columns=columns.index)
    return CellMatrix(matrix=matrix, columns=columns, n_cells=grouping.meta["n_cells"].copy())
