"""One-pass group statistics: a sparse group-indicator matrix times the selected columns.

This follows ``scanpy.get.aggregate``: ``G @ X`` where ``G`` is a
(groups x cells) indicator matrix. Only the selected genes are ever read, in
float64, so sums of many float32 values keep their precision.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import singledispatch

import numpy as np
from scipy import sparse


@dataclass(frozen=True)
class GroupStats:
    """Sufficient statistics per (group, gene): n, sum, sum of squares, count above zero."""

    n: np.ndarray
    sums: np.ndarray
    sum_sq: np.ndarray
    n_pos: np.ndarray

    @property
    def mean(self) -> np.ndarray:
        return self.sums / self.n[:, None]

    @property
    def fraction(self) -> np.ndarray:
        return self.n_pos / self.n[:, None]

    @property
    def var(self) -> np.ndarray:
        """Sample variance (ddof=1), NaN for groups of one cell."""
        n = self.n[:, None].astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            v = (self.sum_sq - self.sums**2 / n) / (n - 1)
        return np.where(n > 1, np.maximum(v, 0.0), np.nan)


def indicator(codes: np.ndarray, n_groups: int) -> sparse.csr_matrix:
    """(groups x cells) 0/1 matrix; cells with code -1 belong to no group."""
    cells = np.flatnonzero(codes >= 0)
    data = np.ones(len(cells), dtype=np.float64)
    return sparse.csr_matrix((data, (codes[cells], cells)), shape=(n_groups, len(codes)))


@singledispatch
def _moments(block, G):
    raise TypeError(f"Cannot aggregate an expression matrix of type {type(block).__name__}.")


@_moments.register(np.ndarray)
def _(block: np.ndarray, G):
    return G @ block, G @ (block * block), G @ (block > 0).astype(np.float64)


@_moments.register(sparse.spmatrix)
@_moments.register(sparse.sparray)
def _(block, G):
    block = sparse.csr_matrix(block)

    def same_pattern(data: np.ndarray) -> sparse.csr_matrix:
        # shares indices and indptr with ``block``: only a new data array is allocated
        return sparse.csr_matrix((data, block.indices, block.indptr), shape=block.shape)

    sums = _dense(G @ block)
    n_pos = _dense(G @ same_pattern((block.data > 0).astype(np.float64)))
    sum_sq = _dense(G @ same_pattern(block.data * block.data))
    return sums, sum_sq, n_pos


def _dense(m) -> np.ndarray:
    return np.asarray(m.toarray() if sparse.issparse(m) else m)


def group_stats(block, codes: np.ndarray, n_groups: int) -> GroupStats:
    """Statistics of every column of ``block`` (cells x genes) per group."""
    G = indicator(codes, n_groups)
    sums, sum_sq, n_pos = _moments(block, G)
    n = np.bincount(codes[codes >= 0], minlength=n_groups).astype(np.int64)
    return GroupStats(n=n, sums=sums, sum_sq=sum_sq, n_pos=n_pos)


def group_medians(block, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Median of every column per group, reading one group's rows at a time."""
    out = np.empty((n_groups, block.shape[1]), dtype=np.float64)
    for g in range(n_groups):
        rows = block[np.flatnonzero(codes == g)]
        rows = rows.toarray() if sparse.issparse(rows) else rows
        out[g] = np.median(rows, axis=0)
    return out
