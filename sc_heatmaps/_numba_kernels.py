"""A compiled single pass over CSR data: per-group sums, squares and counts (numba).

numba is already installed with scanpy. The loop reads each stored value once and
allocates nothing per value; squares follow the stored dtype (float32 squares for
float32 data unless ``square_in_float64``), as scanpy's own kernels do.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _csr_group_moments(data, indices, indptr, codes, n_groups, n_genes, square_in_float64):
    sums = np.zeros((n_groups, n_genes))
    sum_sq = np.zeros((n_groups, n_genes))
    n_pos = np.zeros((n_groups, n_genes))
    for r in range(len(indptr) - 1):
        g = codes[r]
        if g < 0:
            continue
        for j in range(indptr[r], indptr[r + 1]):
            c = indices[j]
            v = data[j]
            sums[g, c] += v
            if square_in_float64:
                w = np.float64(v)
                sum_sq[g, c] += w * w
            else:
                sum_sq[g, c] += v * v
            if v > 0:
                n_pos[g, c] += 1.0
    return sums, sum_sq, n_pos


def csr_group_moments(block, codes: np.ndarray, n_groups: int, square_in_float64: bool):
    """Per-group sums, sums of squares and counts above zero of a CSR chunk."""
    return _csr_group_moments(
        block.data,
        block.indices,
        block.indptr,
        np.asarray(codes, dtype=np.int64),
        n_groups,
        block.shape[1],
        square_in_float64,
    )


@numba.njit(cache=True, nogil=True, parallel=True)
def _csr_binned_columns(data, indices, indptr, slot, column, weight, n_columns, n_slots, n_chunks):
    n_rows = len(indptr) - 1
    parts = np.zeros((n_chunks, n_columns, n_slots))
    step = (n_rows + n_chunks - 1) // n_chunks
    for t in numba.prange(n_chunks):
        out = parts[t]
        for r in range(t * step, min(n_rows, (t + 1) * step)):
            col = column[r]
            if col < 0:
                continue
            w = weight[r]
            for j in range(indptr[r], indptr[r + 1]):
                s = slot[indices[j]]
                if s >= 0:
                    out[col, s] += w * np.float64(data[j])
    return parts.sum(axis=0)


def csr_binned_columns(X, gene_idx: np.ndarray, column: np.ndarray, weight: np.ndarray, n_columns):
    """Weighted sums of selected genes over bins of cells, in one pass over a CSR matrix.

    ``column[r]`` is the output column of cell ``r`` (-1 leaves it out) and
    ``weight[r]`` its weight (``1 / bin size`` gives bin means). Only the stored
    values are read, once; nothing the size of the selected columns is allocated.
    Returns a dense ``(n_columns, len(gene_idx))`` float64 array.
    """
    slot = np.full(X.shape[1], -1, dtype=np.int64)
    slot[np.asarray(gene_idx, dtype=np.int64)] = np.arange(len(gene_idx))
    return _csr_binned_columns(
        X.data,
        X.indices,
        X.indptr,
        slot,
        np.asarray(column, dtype=np.int64),
        np.asarray(weight, dtype=np.float64),
        int(n_columns),
        len(gene_idx),
        numba.get_num_threads(),
    )
