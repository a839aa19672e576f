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

from ._intake import intake_block, is_dask
from ._kernels import block_stats, chunk_sums, group_sizes
from ._kernels import chunk_moments as _chunk_moments


def merge_moments(a: tuple, b: tuple) -> tuple:
    """Chan et al.'s pairwise update: ``(n, sums, m2)`` of two disjoint sets of cells to
    those of their union (``n`` broadcasts against ``sums``; ``m2`` is the sum of squared
    deviations from the mean). Exact for any offset: nothing cancels."""
    na, sa, ma = a
    nb, sb, mb = b
    n = na + nb
    with np.errstate(invalid="ignore", divide="ignore"):
        delta = sb / nb - sa / na
        m2 = ma + mb + delta * delta * (na * nb / n)
    return n, sa + sb, np.where(na == 0, mb, np.where(nb == 0, ma, m2))


@dataclass(frozen=True)
class GroupStats:
    """Sufficient statistics per (group, gene): n, sum, sum of squared deviations from
    the group's mean (``m2``; ``None`` where only means and fractions were read), and
    count above zero. ``n`` has the leading shape of ``sums`` without the genes axis."""

    n: np.ndarray
    sums: np.ndarray
    m2: np.ndarray | None
    n_pos: np.ndarray

    def _per_cell(self, totals: np.ndarray) -> np.ndarray:
        n = self.n[..., None].astype(np.float64)
        out = np.full(np.broadcast_shapes(totals.shape, n.shape), np.nan)
        return np.divide(totals, n, out=out, where=n > 0)

    def columns(self, keep: np.ndarray) -> GroupStats:
        """The statistics of the genes at positions ``keep`` only."""
        m2 = None if self.m2 is None else self.m2[..., keep]
        return GroupStats(self.n, self.sums[..., keep], m2, self.n_pos[..., keep])

    def rows(self, rows) -> GroupStats:
        """The statistics of the groups ``rows`` (an index, slice or mask) only."""
        m2 = None if self.m2 is None else self.m2[rows]
        return GroupStats(self.n[rows], self.sums[rows], m2, self.n_pos[rows])

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
        if self.m2 is None:
            raise ValueError("these statistics hold means and fractions only, no variances")
        n = self.n[..., None].astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 1, self.m2 / (n - 1), np.nan)

    def merge(self, other: GroupStats) -> GroupStats:
        """The statistics of the same groups over the cells of both (disjoint chunks)."""
        n, sums, m2 = merge_moments(
            (self.n[..., None], self.sums, self.m2), (other.n[..., None], other.sums, other.m2)
        )
        return GroupStats(n[..., 0], sums, m2, self.n_pos + other.n_pos)

    def pooled(self, mask) -> GroupStats:
        """The groups selected by ``mask`` (axis 0) as one group (leading axis dropped)."""
        n, sums, m2 = self.n[mask], self.sums[mask], self.m2[mask]
        total = n.sum(axis=0)
        weights = n[..., None].astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = sums.sum(axis=0) / total[..., None]
            spread = np.where(weights > 0, weights * (sums / weights - mean) ** 2, 0.0)
        return GroupStats(
            total,
            sums.sum(axis=0),
            m2.sum(axis=0) + spread.sum(axis=0),
            self.n_pos[mask].sum(axis=0),
        )

    def others(self) -> GroupStats:
        """For each group along axis 0, the statistics of all the other groups together
        (prefix and suffix merges: exact, and linear in the number of groups)."""
        parts = [(self.n[i][..., None], self.sums[i], self.m2[i]) for i in range(len(self.n))]
        empty = tuple(np.zeros_like(p, dtype=np.float64) for p in parts[0])
        before = [empty]
        for part in parts[:-1]:
            before.append(merge_moments(before[-1], part))
        out, after = [None] * len(parts), empty
        for i in range(len(parts) - 1, -1, -1):
            out[i] = merge_moments(before[i], after)
            after = merge_moments(after, parts[i])
        n, sums, m2 = (np.stack([o[k] for o in out]) for k in range(3))
        n_pos = self.n_pos.sum(axis=0) - self.n_pos
        return GroupStats(np.rint(n[..., 0]).astype(np.int64), sums, m2, n_pos)


def group_stats(block, codes: np.ndarray, n_groups: int, m2: bool = True) -> GroupStats:
    """Statistics of every column of ``block`` (cells x genes) per group; without the
    squared deviations (``m2`` is ``None``) when ``m2=False``."""
    # a few selected genes: vectorised bincounts beat loading the compiled kernel
    if m2:
        sums, squares, n_pos = _chunk_moments(block, codes, n_groups)
    else:
        (sums, n_pos), squares = chunk_sums(block, codes, n_groups), None
    return GroupStats(n=group_sizes(codes, n_groups), sums=sums, m2=squares, n_pos=n_pos)


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
# machine) costs more than it saves below this many values read. A CSR matrix is then
# read by the numpy pass of ``_csr_subset`` (threads over blocks of rows), CSC and dense
# matrices by scipy's column selection and bincounts (measured crossovers, see
# benchmarks/README.md, "first call in a process").
NUMPY_MAX_VALUES = 500_000_000
SCIPY_MAX_VALUES = 100_000_000


# Statistics of every gene by bincounts (numpy only) up to this many stored values,
# while numba has not started: their temporaries take ~32 bytes a value (160 MB here),
# and numba's start costs more than such a pass (a command-line run on a small file).
BINCOUNT_MAX_VALUES = 5_000_000


def numba_started() -> bool:
    """Whether this process has already paid numba's start: its runtime is initialised,
    which numba does when it first compiles or loads machine code (and loads its
    registries: most of the start). Importing a library that uses numba, as scanpy
    does, builds numba's target context but pays none of this."""
    if sys.modules.get("numba") is None:
        return False
    try:
        from numba.core.runtime import rtsys
    except ImportError:  # numba's layout changed: assume started
        return True
    return bool(getattr(rtsys, "_init", True))


def _values_read(X, idx: np.ndarray) -> int:
    """Values a pass over the columns ``idx`` reads: every stored value of a CSR matrix,
    the selected columns' of a CSC matrix, cells x genes of a dense one."""
    if sparse.issparse(X):
        if X.format == "csc":
            return int(np.diff(X.indptr)[idx].sum())
        return int(X.nnz)
    return int(X.shape[0]) * len(idx)


def _is_csr(X) -> bool:
    return sparse.issparse(X) and X.format == "csr"


def compiled_pays(X, idx: np.ndarray) -> bool:
    """Whether the compiled subset pass beats numpy (CSR) or scipy (CSC, dense) here:
    always once numba has started, else only from ``NUMPY_MAX_VALUES`` (CSR) or
    ``SCIPY_MAX_VALUES`` values read."""
    limit = NUMPY_MAX_VALUES if _is_csr(X) else SCIPY_MAX_VALUES
    return numba_started() or _values_read(X, idx) >= limit


def subset_group_stats(X, idx: np.ndarray, codes: np.ndarray, n_groups: int):
    """Statistics of the columns ``idx`` of ``X`` per group in one compiled pass, without
    building ``X[:, idx]``; and which of them hold NaN or inf in any cell (grouped or not).

    Where the compiled pass does not pay (a process where numba has not started,
    :func:`compiled_pays`), a CSR matrix is read by the numpy pass of
    :mod:`sc_heatmaps._csr_subset` instead.

    Returns ``(GroupStats, nonfinite)``, or ``None`` where neither applies (backed and
    dask matrices, float16, unsorted CSC, small CSC and dense work while numba has not
    started): the caller then reads :func:`sc_heatmaps._sources.column_block` and calls
    :func:`group_stats`. Values are summed in float64, as :func:`group_stats` does;
    variances are not computed (``m2`` is ``None``).
    """
    if not _compiled_input(X):
        return None
    codes = np.asarray(codes, dtype=np.int64)
    if not compiled_pays(X, idx):
        if not _is_csr(X) or len(np.unique(idx)) < len(idx):
            return None
        from ._csr_subset import csr_subset_sums

        sums, n_pos, nonfinite = csr_subset_sums(X, idx, codes, n_groups)
        stats = GroupStats(n=group_sizes(codes, n_groups), sums=sums, m2=None, n_pos=n_pos)
        return stats, nonfinite
    from ._numba_kernels import subset_moments

    outside = np.where(codes < 0, n_groups, codes)  # one more row: read, then dropped
    out = subset_moments(X, idx, outside, n_groups + 1)
    if out is None:
        return None
    sums, n_pos = out[:2, :n_groups]
    stats = GroupStats(n=group_sizes(codes, n_groups), sums=sums, m2=None, n_pos=n_pos)
    return stats, out[2].any(axis=0)


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


def _accumulate(parts) -> GroupStats:
    total = None
    for part in parts:
        total = part if total is None else total.merge(part)
    return total


def _moments_of(block, codes: np.ndarray, n_groups: int) -> GroupStats:
    """Compiled single pass for sparse chunks (two-pass bincounts for small ones while
    numba has not started in the process), indicator products for dense ones; the
    squared deviations are summed in float64 (as scanpy >= 1.12 does for squares)."""
    if sparse.issparse(block) and (numba_started() or block.nnz >= BINCOUNT_MAX_VALUES):
        from ._numba_kernels import csr_group_moments

        sums, m2, n_pos = csr_group_moments(sparse.csr_matrix(block), codes, n_groups)
    else:
        sums, m2, n_pos = _chunk_moments(block, codes, n_groups)
    return GroupStats(n=group_sizes(codes, n_groups), sums=sums, m2=m2, n_pos=n_pos)


def _by_rows(X, codes: np.ndarray, n_groups: int, chunk_rows: int):
    if sparse.issparse(X) and X.format == "csr":  # in memory: one pass, no copy at all
        yield _moments_of(X, codes, n_groups)
        return
    for start, stop in _progress(_row_chunks(X.shape[0], chunk_rows), "aggregating cells"):
        yield _moments_of(intake_block(X[start:stop]), codes[start:stop], n_groups)


def _by_cols(X, codes: np.ndarray, n_groups: int, chunk_cols: int) -> GroupStats:
    parts = []
    for start, stop in _progress(_row_chunks(X.shape[1], chunk_cols), "aggregating genes"):
        parts.append(_moments_of(intake_block(X[:, start:stop]), codes, n_groups))
    sums, m2, n_pos = (np.hstack([getattr(p, k) for p in parts]) for k in ("sums", "m2", "n_pos"))
    return GroupStats(n=parts[0].n, sums=sums, m2=m2, n_pos=n_pos)


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
        return _by_cols(X, codes, n_groups, chunk_cols or CHUNK_COLS)
    return _accumulate(_by_rows(X, codes, n_groups, chunk_rows or _rows_per_chunk(X)))


def _merge_blocks(parts: np.ndarray, axis, keepdims: bool) -> np.ndarray:
    """Blocks' stacked (sizes, sums, m2, counts above zero) merged along axis 0."""
    total = None
    for part in parts:
        n, sums, m2, n_pos = part
        stats = GroupStats(n=n[:, 0], sums=sums, m2=m2, n_pos=n_pos)
        total = stats if total is None else total.merge(stats)
    n = np.broadcast_to(total.n[:, None], total.sums.shape).astype(np.float64)
    out = np.stack((n, total.sums, total.m2, total.n_pos))
    return out[None] if keepdims else out


def _dask_stats(X, codes: np.ndarray, n_groups: int) -> GroupStats:
    """One pass over a dask array: each block is reduced on its worker to small per-group
    statistics (``blockwise``), which dask then merges in a tree (Chan et al.'s update);
    no worker holds more than a block of cells at a time."""
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
        new_axes={"q": 4, "g": n_groups},
        adjust_chunks={"i": 1},
        dtype=np.float64,
        meta=np.empty((0, 0, 0, 0), dtype=np.float64),
        concatenate=True,
    )
    merged = da.reduction(
        per_block,
        chunk=lambda x, axis, keepdims: x,
        combine=_merge_blocks,
        aggregate=lambda x, axis, keepdims: _merge_blocks(x, axis, False),
        axis=0,
        keepdims=False,
        dtype=np.float64,
        concatenate=True,
        meta=np.empty((0, 0, 0), dtype=np.float64),
    )
    _, sums, m2, n_pos = merged.compute()
    return GroupStats(n=group_sizes(codes, n_groups), sums=sums, m2=m2, n_pos=n_pos)
