"""Small numeric kernels with no heavy imports (numpy and scipy.sparse only).

They run inside dask workers too, where importing the plotting stack would cost
more memory than the data chunk itself.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from ._intake import intake_block, intake_sparse, wide_squares


def dense(m) -> np.ndarray:
    return np.asarray(m.toarray() if sparse.issparse(m) else m)


def indicator(codes: np.ndarray, n_groups: int) -> sparse.csr_matrix:
    """(groups x cells) 0/1 matrix; cells with code -1 belong to no group."""
    cells = np.flatnonzero(codes >= 0)
    data = np.ones(len(cells), dtype=np.float64)
    return sparse.csr_matrix((data, (codes[cells], cells)), shape=(n_groups, len(codes)))


def _sparse_moments(block, codes: np.ndarray, n_groups: int, square_in_float64: bool):
    """Per-group sums of a CSR chunk with one ``bincount`` per statistic (O(stored values))."""
    block = sparse.csr_matrix(intake_sparse(block, "a chunk of the matrix"))
    square_in_float64 = square_in_float64 or wide_squares(block.dtype)
    n_genes = block.shape[1]
    row_codes = np.repeat(np.asarray(codes, dtype=np.int64), np.diff(block.indptr))
    keep = row_codes >= 0
    flat = row_codes[keep] * n_genes + block.indices[keep]
    data = block.data[keep]
    size = n_groups * n_genes
    values = data.astype(np.float64)
    sums = np.bincount(flat, weights=values, minlength=size)
    squares = values * values if square_in_float64 else (data * data).astype(np.float64)
    sum_sq = np.bincount(flat, weights=squares, minlength=size)
    n_pos = np.bincount(flat[data > 0], minlength=size).astype(np.float64)
    shape = (n_groups, n_genes)
    return sums.reshape(shape), sum_sq.reshape(shape), n_pos.reshape(shape)


def chunk_moments(block, codes: np.ndarray, n_groups: int, square_in_float64: bool = True):
    """Per-group sums, sums of squares and counts above zero of a chunk of cells.

    ``codes`` gives each cell's group (-1: none). Values are summed in float64, and
    squared in float64 unless ``square_in_float64=False`` (then in the stored dtype,
    as scanpy < 1.12 does, except for integers and float16).
    """
    if sparse.issparse(block):
        return _sparse_moments(block, codes, n_groups, square_in_float64)
    block = np.asarray(block)
    if square_in_float64 or wide_squares(block.dtype):
        block = block.astype(np.float64)
    G = indicator(np.asarray(codes), n_groups)
    sums = dense(G @ block.astype(np.float64))
    sum_sq = dense(G @ (block * block).astype(np.float64))
    return sums, sum_sq, dense(G @ (block > 0).astype(np.float64))


def block_stats(block, codes, n_groups: int) -> np.ndarray:
    """``chunk_moments`` of one dask block, stacked as (1, 3, groups, genes)."""
    block = intake_block(block, "a block of the dask array")
    return np.stack(chunk_moments(block, np.asarray(codes), n_groups))[None]
