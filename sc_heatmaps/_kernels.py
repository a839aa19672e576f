"""Small numeric kernels with no heavy imports (numpy and scipy.sparse only).

They run inside dask workers too, where importing the plotting stack would cost
more memory than the data chunk itself.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from ._intake import intake_block, intake_sparse


def dense(m) -> np.ndarray:
    return np.asarray(m.toarray() if sparse.issparse(m) else m)


def indicator(codes: np.ndarray, n_groups: int) -> sparse.csr_matrix:
    """(groups x cells) 0/1 matrix; cells with code -1 belong to no group."""
    cells = np.flatnonzero(codes >= 0)
    data = np.ones(len(cells), dtype=np.float64)
    return sparse.csr_matrix((data, (codes[cells], cells)), shape=(n_groups, len(codes)))


def _sparse_sums(block, codes: np.ndarray, n_groups: int):
    """Per-group sums and counts above zero of a CSR chunk: two products with the group
    indicator, as ``sc.get.aggregate`` sums."""
    block = sparse.csr_matrix(intake_sparse(block, "a chunk of the matrix"))
    G = indicator(np.asarray(codes), n_groups)
    above = sparse.csr_matrix(
        ((block.data > 0).astype(np.float64), block.indices, block.indptr), shape=block.shape
    )
    return dense(G @ block.astype(np.float64, copy=False)), dense(G @ above)


def chunk_sums(block, codes: np.ndarray, n_groups: int):
    """Per-group sums (float64) and counts above zero of a chunk of cells: the numbers
    of :func:`chunk_moments` without the squared deviations."""
    if sparse.issparse(block):
        return _sparse_sums(block, codes, n_groups)
    block = np.asarray(block, dtype=np.float64)
    G = indicator(np.asarray(codes), n_groups)
    return dense(G @ block), dense(G @ (block > 0).astype(np.float64))


def _sparse_moments(block, codes: np.ndarray, n_groups: int):
    """Per-group sums and squared deviations of a CSR chunk with ``bincount``s (O(stored
    values)): the mean of each group's stored values first, then their deviations."""
    block = sparse.csr_matrix(intake_sparse(block, "a chunk of the matrix"))
    n_genes = block.shape[1]
    row_codes = np.repeat(np.asarray(codes, dtype=np.int64), np.diff(block.indptr))
    keep = row_codes >= 0
    flat = row_codes[keep] * n_genes + block.indices[keep]
    values = block.data[keep].astype(np.float64)
    size, shape = n_groups * n_genes, (n_groups, n_genes)
    n_stored = np.bincount(flat, minlength=size).astype(np.float64)
    sums = np.bincount(flat, weights=values, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        shift = np.where(n_stored > 0, sums / n_stored, 0.0)
    squares = np.bincount(flat, weights=(values - shift[flat]) ** 2, minlength=size)
    n_pos = np.bincount(flat[values > 0], minlength=size).astype(np.float64)
    counts = group_sizes(codes, n_groups)
    _, m2 = stored_moments(
        np.zeros(shape),
        squares.reshape(shape),
        n_stored.reshape(shape),
        shift.reshape(shape),
        counts,
    )
    return sums.reshape(shape), m2, n_pos.reshape(shape)


def group_sizes(codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Cells per group (code -1: none)."""
    codes = np.asarray(codes)
    return np.bincount(codes[codes >= 0], minlength=n_groups).astype(np.int64)


def stored_moments(shifted_sums, shifted_squares, n_stored, shift, n_cells):
    """Sums and sums of squared deviations from the mean (``m2``) per group, from the
    stored values' sums minus a shift per (group, gene), and the cells of each group.

    The cells without a stored value are zeros; they join the stored values by Chan et
    al.'s pairwise update, so no sum of squares of the values themselves is ever
    subtracted (that cancels for genes with a large offset: 1e6 +- 1e-2).
    """
    n = np.asarray(n_cells, dtype=np.float64)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        offset = np.where(n_stored > 0, shifted_sums / n_stored, 0.0)
        m2_stored = np.maximum(shifted_squares - shifted_sums * offset, 0.0)
        mean_stored = shift + offset
        between = np.where(n > 0, mean_stored**2 * (n_stored * (n - n_stored) / n), 0.0)
    sums = n_stored * shift + shifted_sums
    return sums, np.where(n_stored > 0, m2_stored + between, 0.0)


def chunk_moments(block, codes: np.ndarray, n_groups: int):
    """Per-group sums, sums of squared deviations from the group mean (``m2``) and
    counts above zero of a chunk of cells; ``codes`` gives each cell's group (-1: none).

    Values are summed in float64; ``m2`` is summed from deviations (two passes over the
    chunk), never as a sum of squares minus a squared sum.
    """
    if sparse.issparse(block):
        return _sparse_moments(block, codes, n_groups)
    block = np.asarray(block, dtype=np.float64)
    codes = np.asarray(codes)
    G = indicator(codes, n_groups)
    sums = dense(G @ block)
    n = group_sizes(codes, n_groups).astype(np.float64)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(n > 0, sums / n, 0.0)
    deviations = block - means[np.maximum(codes, 0)]
    m2 = dense(G @ (deviations * deviations))
    return sums, m2, dense(G @ (block > 0).astype(np.float64))


def block_stats(block, codes, n_groups: int) -> np.ndarray:
    """``chunk_moments`` of one dask block with its group sizes, stacked as
    (1, 4, groups, genes): sizes (repeated over genes), sums, m2, counts above zero."""
    block = intake_block(block, "a block of the dask array")
    sums, m2, n_pos = chunk_moments(block, np.asarray(codes), n_groups)
    n = np.broadcast_to(group_sizes(codes, n_groups)[:, None], sums.shape).astype(np.float64)
    return np.stack((n, sums, m2, n_pos))[None]
