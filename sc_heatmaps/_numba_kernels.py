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
