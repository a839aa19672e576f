"""Row and column layout of a heatmap frame: gene blocks and clustered order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._order import cluster_order


def expand_blocks(
    matrix: pd.DataFrame, blocks: Mapping[str, Sequence[str]] | None, block_name: str
) -> pd.DataFrame:
    """Rows of ``matrix`` (indexed by gene) laid out block by block.

    With ``blocks`` the result is indexed by (block, gene), blocks in the
    mapping's order; genes absent from ``matrix`` are skipped and empty blocks
    vanish. Without ``blocks`` the frame is returned unchanged.

    Parameters
    ----------
    matrix
        A frame indexed by gene; it is only read.
    blocks
        ``{block: genes}`` (a gene may appear in several blocks), or ``None``.
    block_name
        Name of the block level of the returned index (e.g. ``"cluster"``).

    Returns
    -------
    pandas.DataFrame
        A copy of ``matrix`` without ``blocks``; otherwise its rows in block
        order, indexed by (``block_name``, ``"gene"``).

    Examples
    --------
    >>> import pandas as pd
    >>> import sc_heatmaps as sch
    >>> matrix = pd.DataFrame({"x": [1.0, 2.0, 3.0]}, index=["CD3E", "MS4A1", "LYZ"])
    >>> out = sch.arrange.expand_blocks(matrix, {"T": ["CD3E"], "B": ["MS4A1", "CD79A"]},
    ...                                 "cluster")
    >>> out.index.tolist()
    [('T', 'CD3E'), ('B', 'MS4A1')]
    """
    if blocks is None:
        return matrix.copy()
    tuples = [(str(b), g) for b, genes in blocks.items() for g in genes if g in matrix.index]
    index = pd.MultiIndex.from_tuples(tuples, names=[block_name, "gene"])
    out = matrix.loc[[g for _, g in tuples]]
    out.index = index
    return out


def row_blocks(frame: pd.DataFrame) -> list[str] | None:
    """Block label of each row, or ``None`` when the rows are not in blocks.

    Parameters
    ----------
    frame
        A frame whose rows are in blocks when its index has two levels
        (block, gene), as :func:`expand_blocks` returns.

    Returns
    -------
    list of str or None
        The first index level as strings, or ``None`` for a flat index.

    Examples
    --------
    >>> import pandas as pd
    >>> import sc_heatmaps as sch
    >>> index = pd.MultiIndex.from_tuples([("T", "CD3E"), ("B", "MS4A1")])
    >>> sch.arrange.row_blocks(pd.DataFrame({"x": [1, 2]}, index=index))
    ['T', 'B']
    >>> sch.arrange.row_blocks(pd.DataFrame({"x": [1, 2]})) is None
    True
    """
    if isinstance(frame.index, pd.MultiIndex):
        return [str(b) for b in frame.index.get_level_values(0)]
    return None


@dataclass(frozen=True)
class Arranged:
    """A frame in its drawing order, with the linkages behind that order.

    ``rows`` and ``cols`` are the positions, in the input frame, of the rows and
    columns drawn (so that other frames of the same shape can follow the order).
    """

    frame: pd.DataFrame
    row_linkage: dict | None
    col_linkage: dict | None
    rows: np.ndarray | None = None
    cols: np.ndarray | None = None


def arrange(
    frame: pd.DataFrame,
    *,
    col_blocks: Sequence[str] | None = None,
    cluster_rows: bool = False,
    cluster_cols: bool = False,
    method: str = "average",
    metric: str = "euclidean",
) -> Arranged:
    """Order rows and/or columns by hierarchical clustering within their blocks.

    Blocks keep their order, so grouped rows (genes by marker cluster) and
    grouped columns (groups by dataset) stay grouped.

    Parameters
    ----------
    frame
        A numeric frame; rows are in blocks when its index has two levels
        (see :func:`row_blocks`). It is only read.
    col_blocks
        Block label of each column (columns are clustered within blocks), or
        ``None`` for one block.
    cluster_rows, cluster_cols
        Whether to order the rows / columns by clustering.
    method
        Linkage method (:func:`scipy.cluster.hierarchy.linkage`), e.g.
        ``"average"``, ``"complete"``, ``"ward"``.
    metric
        Distance between rows (or columns), e.g. ``"euclidean"``; missing
        values are skipped by the Euclidean distance.

    Returns
    -------
    Arranged
        ``.frame`` in drawing order, ``.row_linkage`` / ``.col_linkage``
        (``{block: linkage}`` or ``None``) and the positions ``.rows`` / ``.cols``.

    Examples
    --------
    >>> import pandas as pd
    >>> import sc_heatmaps as sch
    >>> frame = pd.DataFrame({"a": [0.0, 5.0, 0.1], "b": [0.0, 5.0, 0.2]},
    ...                      index=["g1", "g2", "g3"])
    >>> result = sch.arrange.arrange(frame, cluster_rows=True)
    >>> result.frame.index.tolist()
    ['g2', 'g1', 'g3']
    """
    values = frame.to_numpy(dtype=np.float64)
    row_link = col_link = None
    rows = np.arange(frame.shape[0])
    cols = np.arange(frame.shape[1])
    if cluster_rows:
        result = cluster_order(values, row_blocks(frame), method=method, metric=metric)
        rows, row_link = result.order, result.linkages
    if cluster_cols:
        result = cluster_order(values.T, col_blocks, method=method, metric=metric)
        cols, col_link = result.order, result.linkages
    return Arranged(frame.iloc[rows, cols], row_link, col_link, rows, cols)
