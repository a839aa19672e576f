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
    """
    if blocks is None:
        return matrix.copy()
    tuples = [(str(b), g) for b, genes in blocks.items() for g in genes if g in matrix.index]
    index = pd.MultiIndex.from_tuples(tuples, names=[block_name, "gene"])
    out = matrix.loc[[g for _, g in tuples]]
    out.index = index
    return out


def row_blocks(frame: pd.DataFrame) -> list[str] | None:
    """Block label of each row, or ``None`` when the rows are not in blocks."""
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
