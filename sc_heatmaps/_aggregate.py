"""One-pass group statistics: a sparse group-indicator matrix times the selected columns.

This follows ``scanpy.get.aggregate``: ``G @ X`` where ``G`` is a
(groups x cells) indicator matrix. Only the selected genes are ever read, in
float64, so sums of many float32 values keep their precision.

A private module below both ``get`` and ``tl`` (both aggregate cells per group): it
imports neither of them, so neither layer has to reach into the other for it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ._intake import intake_block, is_dask, wide_squares
from ._kernels import block_stats
from ._kernels import chunk_moments as _chunk_moments


@dataclass(frozen=True)
class GroupStats:
    """Sufficient statistics per (group, gene): n, sum, sum of squares, count above zero."""

    n: np.ndarray
    sums: np.ndarray
    sum_sq: np.ndarray
    n_pos: np.ndarray

    def _per_cell(self, totals: np.ndarray) -> np.ndarray:
        n = self.n[:, None].astype(np.float64)
        out = np.full(np.broadcast_shapes(totals.shape, n.shape), np.nan)
        return np.divide(totals, n, out=out, where=n > 0)

    def columns(self, keep: np.ndarray) -> GroupStats:
        """The statistics of the genes at positions ``keep`` only."""
        return GroupStats(self.n, self.sums[:, keep], self.sum_sq[:, keep], self.n_pos[:, keep])

    @property
    def mean(self) -> np.ndarray:
        """Mean per group (NaN for a group without cells)."""
        return self._per_cell(self.sums)

    @property
    def fraction(self) -> np.ndarray:
        """Fraction of cells above zero per group (NaN for a group without cells)."""
        return self._per_cell(self.n_pos)

    @property
    def var(self) -> np.ndarray:
        """Sample variance (ddof=1), NaN for groups of one cell."""
        n = self.n[:, None].astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            v = (self.sum_sq - self.sums**2 / n) / (n - 1)
        return np.where(n > 1, np.maximum(v, 0.0), np.nan)


def group_stats(block, codes: np.ndarray, n_groups: int) -> GroupStats:
    """Statistics of every column of ``block`` (cells x genes) per group."""
    # a few selected genes: vectorised bincounts beat loading the compiled kernel
    sums, sum_sq, n_pos = _chunk_moments(block, codes, n_groups, square_in_float64=True)
    n = np.bincount(codes[codes >= 0], minlength=n_groups).astype(np.int64)
    return GroupStats(n=n, sums=sums, sum_sq=sum_sq, n_pos=n_pos)


def _compiled_input(X) -> bool:
    """Whether the compiled subset pass can read ``X`` in place: an in-memory CSR/CSC
    matrix or a numpy array, holding integers, float32 or float64."""
    if sparse.issparse(X):
        if X.format not in ("csr", "csc"):
            return False
        values = X.data
    elif isinstance(X, np.ndarray):
        values = X
    else:  # backed, dask, h5py
        return False
    return values.dtype.kind in "iu" or values.dtype in (np.float32, np.float64)


# In a process where numba has not started yet, its start (importing numba, building
# its target context, loading our cached machine code: 0.4-0.5 s on the project
# machine) costs more than it saves below this many values read; the selected columns
# are then read by scipy and summed with bincounts (measured crossover, see
# benchmarks/README.md, "first call in a process").
SCIPY_MAX_VALUES = 100_000_000


# Statistics of every gene by bincounts (numpy only) up to this many stored values,
# while numba has not started: their temporaries take ~32 bytes a value (160 MB here),
# and numba's start costs more than such a pass (a command-line run on a small file).
BINCOUNT_MAX_VALUES = 5_000_000


def numba_started() -> bool:
    """Whether this process has already paid numba's start (its CPU target context is
    built, as it is after any compiled call)."""
    numba = sys.modules.get("numba")
    if numba is None:
        return False
    try:
        from numba.core.registry import cpu_target
    except ImportError:  # numba's layout changed: assume started
        return True
    return "_toplevel_target_context" in vars(cpu_target)


def _values_read(X, idx: np.ndarray) -> int:
    """Values a pass over the columns ``idx`` reads: every stored value of a CSR matrix,
    the selected columns' of a CSC matrix, cells x genes of a dense one."""
    if sparse.issparse(X):
        if X.format == "csc":
            return int(np.diff(X.indptr)[idx].sum())
        return int(X.nnz)
    return int(X.shape[0]) * len(idx)


def compiled_pays(X, idx: np.ndarray) -> bool:
    """Whether the compiled subset pass beats scipy here: always once numba has
    started, else only from ``SCIPY_MAX_VALUES`` values read."""
    return numba_started() or _values_read(X, idx) >= SCIPY_MAX_VALUES


def subset_group_stats(X, idx: np.ndarray, codes: np.ndarray, n_groups: int):
    """Statistics of the columns ``idx`` of ``X`` per group in one compiled pass, without
    building ``X[:, idx]``; and which of them hold NaN or inf in any cell (grouped or not).

    Returns ``(GroupStats, nonfinite)``, or ``None`` where the pass does not apply
    (backed and dask matrices, float16, unsorted CSC) or does not pay (small work in a
    process where numba has not started, :func:`compiled_pays`): the caller then reads
    :func:`sc_heatmaps._sources.column_block` and calls :func:`group_stats`.
    Values are summed and squared in float64, as :func:`group_stats` does.
    """
    if not _compiled_input(X) or not compiled_pays(X, idx):
        return None
    from ._numba_kernels import subset_moments

    codes = np.asarray(codes, dtype=np.int64)
    outside = np.where(codes < 0, n_groups, codes)  # one more row: read, then dropped
    out = subset_moments(X, idx, outside, n_groups + 1)
    if out is None:
        return None
    sums, sum_sq, n_pos = out[:3, :n_groups]
    n = np.bincount(codes[codes >= 0], minlength=n_groups).astype(np.int64)
    stats = GroupStats(n=n, sums=sums, sum_sq=sum_sq, n_pos=n_pos)
    return stats, out[3].any(axis=0)


def group_medians(block, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Median of every column per group, reading one group's rows at a time."""
    out = np.empty((n_groups, block.shape[1]), dtype=np.float64)
    for g in range(n_groups):
        rows = block[np.flatnonzero(codes == g)]
        rows = rows.toarray() if sparse.issparse(rows) else rows
        out[g] = np.median(rows, axis=0)
    return out


CHUNK_VALUES = 4_000_000  # stored values per chunk: a float64 copy of a chunk is ~32 MB
CHUNK_ROWS = None  # fixed rows per chunk (None: from CHUNK_VALUES)
CHUNK_COLS = 2_000


def _row_chunks(n: int, size: int):
    return [(s, min(s + size, n)) for s in range(0, n, size)]


def _progress(chunks: list, what: str):
    from tqdm.auto import tqdm

    # shown on terminals for passes of several chunks; silent otherwise
    return tqdm(chunks, desc=what, disable=None if len(chunks) > 2 else True, leave=False)


def _accumulate(parts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    sums = sum_sq = n_pos = None
    for s, q, p in parts:
        sums = s if sums is None else sums + s
        sum_sq = q if sum_sq is None else sum_sq + q
        n_pos = p if n_pos is None else n_pos + p
    return sums, sum_sq, n_pos


def _moments_of(block, codes: np.ndarray, n_groups: int, square_in_float64: bool = True):
    """Compiled single pass for sparse chunks (bincounts for small ones while numba
    has not started in the process), indicator product for dense ones.

    Squares are taken in float64 (as scanpy >= 1.12 does): a float32 square rounds,
    which moved t-test p-values below 1e-30 by up to 1e-4 relative."""
    square_in_float64 = square_in_float64 or wide_squares(block.dtype)
    if sparse.issparse(block) and (numba_started() or block.nnz >= BINCOUNT_MAX_VALUES):
        from ._numba_kernels import csr_group_moments

        return csr_group_moments(sparse.csr_matrix(block), codes, n_groups, square_in_float64)
    return _chunk_moments(block, codes, n_groups, square_in_float64)


def _by_rows(X, codes: np.ndarray, n_groups: int, chunk_rows: int):
    if sparse.issparse(X) and X.format == "csr":  # in memory: one pass, no copy at all
        yield _moments_of(X, codes, n_groups)
        return
    for start, stop in _progress(_row_chunks(X.shape[0], chunk_rows), "aggregating cells"):
        yield _moments_of(intake_block(X[start:stop]), codes[start:stop], n_groups)


def _by_cols(X, codes: np.ndarray, n_groups: int, chunk_cols: int):
    parts = []
    for start, stop in _progress(_row_chunks(X.shape[1], chunk_cols), "aggregating genes"):
        block = intake_block(X[:, start:stop])
        parts.append(_moments_of(block, codes, n_groups, square_in_float64=True))
    return tuple(np.hstack([p[i] for p in parts]) for i in range(3))


def _rows_per_chunk(X) -> int:
    """Rows per chunk so that a chunk holds about ``CHUNK_VALUES`` stored values."""
    if CHUNK_ROWS is not None:
        return CHUNK_ROWS
    n_rows = max(X.shape[0], 1)
    stored = getattr(X, "nnz", None)
    if stored is None and not hasattr(X, "to_memory"):  # dense in memory or on disk
        stored = X.shape[0] * X.shape[1]
    per_row = stored / n_rows if stored else 0.1 * X.shape[1]  # backed sparse: a guess
    return max(256, int(CHUNK_VALUES / max(per_row, 1.0)))


def group_stats_all(
    X,
    codes: np.ndarray,
    n_groups: int,
    *,
    chunk_rows: int = CHUNK_ROWS,
    chunk_cols: int | None = None,
) -> GroupStats:
    """Statistics of *every* gene per group in one pass, chunk by chunk in float64.

    Works on dense arrays, CSR and CSC matrices (CSC by column chunks), and
    backed h5ad matrices (row chunks read from disk); the whole of ``X`` is
    never copied or densified.
    """
    if is_dask(X):
        return _dask_stats(X, codes, n_groups)
    if sparse.issparse(X) and X.format == "csc":
        sums, sum_sq, n_pos = _by_cols(X, codes, n_groups, chunk_cols or CHUNK_COLS)
    else:
        rows = chunk_rows or _rows_per_chunk(X)
        sums, sum_sq, n_pos = _accumulate(_by_rows(X, codes, n_groups, rows))
    n = np.bincount(codes[codes >= 0], minlength=n_groups).astype(np.int64)
    return GroupStats(n=n, sums=sums, sum_sq=sum_sq, n_pos=n_pos)


def _dask_stats(X, codes: np.ndarray, n_groups: int) -> GroupStats:
    """One pass over a dask array: each block is reduced on its worker to small per-group
    sums (``blockwise``), which dask then adds up in a tree; no worker holds more than a
    block of cells at a time."""
    import dask.array as da

    codes_da = da.from_array(np.asarray(codes), chunks=(X.chunks[0],))
    per_block = da.blockwise(
        block_stats,
        "iqgj",
        X,
        "ij",
        codes_da,
        "i",
        n_groups=n_groups,
        new_axes={"q": 3, "g": n_groups},
        adjust_chunks={"i": 1},
        dtype=np.float64,
        meta=np.empty((0, 0, 0, 0), dtype=np.float64),
        concatenate=True,
    )
    sums, sum_sq, n_pos = per_block.sum(axis=0).compute()
    n = np.bincount(codes[codes >= 0], minlength=n_groups).astype(np.int64)
    return GroupStats(n=n, sums=sums, sum_sq=sum_sq, n_pos=n_pos)
