"""Per-group sums and counts above zero of a few columns of a CSR matrix, with numpy
alone, in threads over blocks of rows.

For a process where numba has not started: its start (0.4 s on the project machine)
costs more than the work up to a few hundred million stored values, and scipy's
``X[:, genes]`` (what ``sc.get.aggregate`` reads) makes two passes over every stored
index in one thread and allocates the selected columns. Here each block of rows is read
once: a lookup table turns the block's column indices into positions among the selected
genes (``np.take`` into a buffer reused block after block), and only the hits are
gathered and summed with ``bincount``, in float64. numpy releases the GIL in these
loops, so the blocks run in parallel threads.

Duplicate entries (a gene stored twice in one row) are summed before they are used, as
``sum_duplicates`` does. The matrix must have passed the intake's structure check.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ._threads import available_threads, thread_map

BLOCK_VALUES = 1_000_000  # stored values per block: the reused buffers take ~3 MB a thread
THREADED_MIN_VALUES = 4_000_000  # below this, one thread (the pool costs more)


@dataclass(frozen=True)
class _Pass:
    X: object  # scipy CSR, structure-checked
    lut: np.ndarray  # column -> position among the selected genes, -1 elsewhere
    group: np.ndarray  # row -> group, n_groups for rows in no group (read, then dropped)
    n_groups: int
    n_sel: int
    selected: np.ndarray  # column -> whether it is selected (the table every value reads)

    @property
    def size(self) -> int:
        return (self.n_groups + 1) * self.n_sel


def csr_subset_sums(X, idx: np.ndarray, codes: np.ndarray, n_groups: int):
    """Per-group sums (float64), counts above zero and a non-finite flag of the columns
    ``idx`` (distinct) of the CSR matrix ``X``; ``codes`` -1 puts a row in no group.

    Returns ``(sums, n_pos, nonfinite)``: two ``(n_groups, len(idx))`` arrays and one
    boolean per selected column.
    """
    idx = np.asarray(idx, dtype=np.int64)
    lut = np.full(X.shape[1], -1, dtype=np.int16 if len(idx) < 2**15 else np.int32)
    lut[idx] = np.arange(len(idx))
    codes = np.asarray(codes, dtype=np.int64)
    group = np.where(codes < 0, n_groups, codes)
    job = _Pass(X, lut, group, n_groups, len(idx), lut >= 0)
    n_threads = available_threads() if X.nnz >= THREADED_MIN_VALUES else 1
    ranges = _row_ranges(X.indptr, n_threads)
    parts = thread_map(lambda rows: _rows(job, *rows), ranges, n_threads)
    sums = sum(p[0] for p in parts)
    n_pos = sum(p[1] for p in parts)
    nonfinite = np.logical_or.reduce([p[2] for p in parts])
    shape = (n_groups + 1, len(idx))
    return sums.reshape(shape)[:n_groups], n_pos.reshape(shape)[:n_groups], nonfinite


def _row_ranges(indptr: np.ndarray, n_threads: int) -> list[tuple[int, int]]:
    """``n_threads`` contiguous row ranges holding about equal numbers of stored values."""
    n_rows, nnz = len(indptr) - 1, int(indptr[-1])
    if n_threads <= 1 or nnz == 0:
        return [(0, n_rows)]
    cuts = np.searchsorted(indptr, [nnz * i // n_threads for i in range(1, n_threads)])
    bounds = [0, *sorted({int(min(c, n_rows)) for c in cuts}), n_rows]
    return [(a, b) for a, b in itertools.pairwise(bounds) if b > a] or [(0, 0)]


def _blocks(indptr: np.ndarray, start: int, stop: int) -> list[tuple[int, int]]:
    """Rows ``start..stop`` cut into blocks of about ``BLOCK_VALUES`` stored values (a
    longer row is a block of its own)."""
    first, last = int(indptr[start]), int(indptr[stop])
    targets = np.arange(first + BLOCK_VALUES, last, BLOCK_VALUES)
    cuts = np.searchsorted(indptr[start : stop + 1], targets) + start
    bounds = [start, *sorted({int(c) for c in cuts if start < c < stop}), stop]
    return list(itertools.pairwise(bounds))


def _rows(job: _Pass, start: int, stop: int):
    """Sums, counts above zero and non-finite flags of rows ``start..stop``. (``take``
    with ``mode="clip"`` writes into the buffer directly; the intake has checked every
    index, so nothing is clipped.)"""
    X = job.X
    sums, n_pos = np.zeros(job.size), np.zeros(job.size)
    nonfinite = np.zeros(job.n_sel, dtype=bool)
    blocks = _blocks(X.indptr, start, stop)
    longest = max((int(X.indptr[b] - X.indptr[a]) for a, b in blocks), default=0)
    hit_buf = np.empty(longest, dtype=bool)
    for a, b in blocks:
        s, e = int(X.indptr[a]), int(X.indptr[b])
        hit = np.flatnonzero(
            np.take(job.selected, X.indices[s:e], out=hit_buf[: e - s], mode="clip")
        )
        if len(hit) == 0:
            continue
        hit += s
        col = job.lut[X.indices[hit]].astype(np.int64)
        row = np.searchsorted(X.indptr[a : b + 1], hit, side="right") - 1
        val = X.data[hit].astype(np.float64)
        row, col, val = _summed_duplicates(row, col, val, job.n_sel)
        key = job.group[row + a] * job.n_sel + col
        sums += np.bincount(key, weights=val, minlength=job.size)
        n_pos += np.bincount(key[val > 0], minlength=job.size)
        bad = ~np.isfinite(val)
        if bad.any():
            nonfinite[col[bad]] = True
    return sums, n_pos, nonfinite


def _summed_duplicates(row: np.ndarray, col: np.ndarray, val: np.ndarray, n_sel: int):
    """The hits with entries repeated within a row summed into one (their order does not
    matter to the sums that follow); unchanged when every (row, column) is distinct."""
    cell = row * n_sel + col
    if len(cell) < 2 or (cell[1:] > cell[:-1]).all():  # canonical: sorted and distinct
        return row, col, val
    cell, first, where = np.unique(cell, return_index=True, return_inverse=True)
    if len(cell) == len(row):  # unsorted, but no duplicates
        return row, col, val
    summed = np.bincount(where.ravel(), weights=val, minlength=len(cell))
    return row[first], col[first], summed
