"""Small numeric kernels with no heavy imports (numpy and scipy.sparse only).

They run inside dask workers too, where importing the plotting stack would cost
more memory than the data chunk itself.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse


def dense(m) -> np.ndarray:
    return np.asarray(m.toarray() if sparse.issparse(m) else m)


def indicator(codes: np.ndarray, n_groups: int) -> sparse.csr_matrix:
    """(groups x cells) 0/1 matrix; cells with code -1 belong to no group."""
    cells = np.flatnonzero(codes >= 0)
    data = np.ones(len(cells), dtype=np.float64)
    return sparse.csr_matrix((data, (codes[cells], cells)), shape=(n_groups, len(codes)))


def chunk_moments(block, G, square_in_float64: bool = False):
    """Per-group sums, sums of squares and counts above zero of a chunk of cells.

    Values are summed in float64; squares are taken in the stored dtype first
    (float64 for CSC), exactly as scanpy's mean/variance do for each layout.
    One float64 copy of the values is alive at a time.
    """
    if sparse.issparse(block):
        block = sparse.csr_matrix(block)
        data = block.data.astype(np.float64) if square_in_float64 else block.data

        def pattern(values: np.ndarray) -> sparse.csr_matrix:
            return sparse.csr_matrix((values, block.indices, block.indptr), shape=block.shape)

        sums = dense(G @ pattern(data.astype(np.float64)))
        sum_sq = dense(G @ pattern((data * data).astype(np.float64)))
        n_pos = dense(G @ pattern((data > 0).astype(np.float64)))
        return sums, sum_sq, n_pos
    block = np.asarray(block)
    sums = dense(G @ block.astype(np.float64))
    sum_sq = dense(G @ (block * block).astype(np.float64))
    return sums, sum_sq, dense(G @ (block > 0).astype(np.float64))


def block_stats(block, codes, n_groups: int) -> np.ndarray:
    """``chunk_moments`` of one dask block, stacked as (1, 3, groups, genes)."""
    G = indicator(np.asarray(codes), n_groups)
    return np.stack(chunk_moments(block, G))[None]
