"""Compiled single passes over CSR, CSC and dense data: per-group sums, squared
deviations and counts (numba).

numba is already installed with scanpy. The loops read each stored value once and
allocate nothing per value; values are summed in float64.
"""

from __future__ import annotations

import logging
import os
import stat
import tempfile
from contextlib import contextmanager

import numba
import numpy as np
from numba.core import config as numba_config

from ._kernels import stored_moments

log = logging.getLogger(__name__)


def _private_cache_dir() -> str | None:
    """A cache directory in the temp dir that only this user can write, or ``None``.

    For when numba finds no writable cache directory of its own (``NUMBA_CACHE_DIR``,
    the package's ``__pycache__``, the user cache dir under ``$XDG_CACHE_HOME`` or
    ``~/.cache``), as in a root-installed environment run as another user. The
    directory is refused unless it belongs to us and nobody else can write to it,
    since numba loads machine code from it.
    """
    uid = os.getuid() if hasattr(os, "getuid") else None
    name = f"sc_heatmaps-numba-{'user' if uid is None else uid}"
    path = os.path.join(tempfile.gettempdir(), name)
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        info = os.lstat(path)  # a symlink is not followed, and refused
        if not stat.S_ISDIR(info.st_mode) or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return None
        if uid is not None and info.st_uid != uid:
            return None
        tempfile.TemporaryFile(dir=path).close()
    except OSError:
        return None
    return path


def _locator(name: str):
    """numba's cache locator class ``name`` (older numba spells it with a leading ``_``)."""
    from numba.core import caching

    return getattr(caching, name, None) or getattr(caching, "_" + name, None)


def _probe() -> None:
    """Stands for any function when numba's cache locators are asked for a directory."""


def numba_can_cache_anywhere() -> bool:
    """Whether numba can cache a function of any installed package.

    True when ``NUMBA_CACHE_DIR`` or numba's user-wide cache directory is writable,
    as numba itself checks them. A package's own ``__pycache__`` is not enough:
    scanpy's may be read-only where ours is not.
    """
    for name in ("UserProvidedCacheLocator", "UserWideCacheLocator"):
        cls = _locator(name)
        if cls is None:  # a numba we do not know: leave it to numba
            return True
        if cls.from_function(_probe, __file__) is not None:
            return True
    return False


def use_private_cache_dir_if_needed() -> str | None:
    """In a process we own (the command line): give numba a writable cache directory.

    When numba can cache nowhere, every ``cache=True`` function of every package
    (scanpy's included) fails to import. Then ``NUMBA_CACHE_DIR`` is set, for this
    process and its children, to a private directory in the temp dir. Returns that
    directory, or ``None`` when nothing was changed. Library code never calls this:
    it does not change a user's environment.
    """
    if numba_can_cache_anywhere():
        return None
    path = _private_cache_dir()
    if path is not None:
        os.environ["NUMBA_CACHE_DIR"] = path
        numba_config.CACHE_DIR = path
    return path


@contextmanager
def _numba_cache_dir(path: str):
    """Point numba's ``NUMBA_CACHE_DIR`` locator at ``path`` while decorating only.

    A locator keeps the path it was made with, so other libraries' functions keep
    numba's usual places.
    """
    saved = numba_config.CACHE_DIR
    numba_config.CACHE_DIR = path
    try:
        yield
    finally:
        numba_config.CACHE_DIR = saved


def _njit(**options):
    """``numba.njit(cache=True, ...)`` that falls back cleanly when nothing is writable.

    numba raises ``RuntimeError: cannot cache function ...: no locator available`` when
    it can write none of its cache directories. Then a private directory in the temp
    dir is tried, and failing that the function is compiled in memory for this
    process only. The compiled code is the same in every case.
    """

    def decorate(func):
        try:
            return numba.njit(cache=True, **options)(func)
        except RuntimeError as err:  # no writable cache directory
            reason = err
        path = _private_cache_dir()
        if path is not None:
            try:
                with _numba_cache_dir(path):
                    jitted = numba.njit(cache=True, **options)(func)
                log.debug("numba cache of %s: %s (%s)", func.__name__, path, reason)
                return jitted
            except RuntimeError:
                pass
        log.debug("numba cache of %s disabled: %s", func.__name__, reason)
        return numba.njit(cache=False, **options)(func)

    return decorate


@_njit(nogil=True, parallel=True)
def _csr_group_moments(data, indices, indptr, order, starts, n_genes):
    n_groups = len(starts) - 1
    out = np.zeros((n_groups, n_genes, 5))
    for g in numba.prange(n_groups):  # one group per thread: no shared writes
        acc = out[g]  # a group's rows are read together: its sums stay in the cache
        for k in range(starts[g], starts[g + 1]):
            r = order[k]
            for j in range(indptr[r], indptr[r + 1]):
                c = indices[j]
                w = np.float64(data[j])
                if acc[c, 3] == 0.0:  # the shift: the group's first stored value of the gene
                    acc[c, 4] = w
                d = w - acc[c, 4]
                acc[c, 0] += d
                acc[c, 1] += d * d
                acc[c, 2] += 1.0 if w > 0 else 0.0
                acc[c, 3] += 1.0
    return out


def csr_group_moments(block, codes: np.ndarray, n_groups: int):
    """Per-group sums, sums of squared deviations from the group mean and counts above
    zero of a CSR chunk (without duplicate entries).

    The rows are visited group by group (a stable sort of ``codes``; cells with code
    -1 are skipped), so that each group's statistics (interleaved, in one or two cache
    lines per value) stay in the cache while its rows are read; groups run in
    parallel. Values are summed in float64 after subtracting the group's first stored
    value of the gene (the shifted-data algorithm), so variances stay exact for genes
    far from zero. Returns three ``(n_groups, n_genes)`` float64 arrays."""
    codes = np.asarray(codes, dtype=np.int64)
    order = np.argsort(codes, kind="stable")
    order = order[np.count_nonzero(codes < 0) :]
    counts = np.bincount(codes[codes >= 0], minlength=n_groups)
    starts = np.zeros(n_groups + 1, dtype=np.int64)
    starts[1:] = np.cumsum(counts)
    out = _csr_group_moments(block.data, block.indices, block.indptr, order, starts, block.shape[1])
    sums, m2 = stored_moments(out[:, :, 0], out[:, :, 1], out[:, :, 3], out[:, :, 4], counts)
    return sums, m2, np.ascontiguousarray(out[:, :, 2])


@_njit(nogil=True, parallel=True)
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


@_njit(nogil=True)
def _row_hits(indices, start, stop, hit, pos):
    """Positions of the selected columns among one row's entries, without a branch per
    entry (a byte table says which columns are selected): 3x faster than testing each."""
    k = 0
    for j in range(start, stop):
        pos[k] = j
        k += hit[indices[j]]
    return k


@_njit(nogil=True, parallel=True)
def _csr_subset_moments(data, indices, indptr, codes, hit, slot, n_groups, n_sel, n_chunks):
    n_rows = len(indptr) - 1
    longest = 0
    for r in range(n_rows):
        longest = max(longest, indptr[r + 1] - indptr[r])
    parts = np.zeros((n_chunks, 3, n_groups, n_sel))
    step = (n_rows + n_chunks - 1) // n_chunks
    for t in numba.prange(n_chunks):
        out = parts[t]
        pos = np.empty(longest, dtype=np.int64)
        value = np.zeros(n_sel)  # one row's values: duplicate entries add up first
        seen = np.zeros(n_sel, dtype=np.bool_)
        touched = np.empty(n_sel, dtype=np.int64)
        for r in range(t * step, min(n_rows, (t + 1) * step)):
            g = codes[r]
            n_touched = 0
            for i in range(_row_hits(indices, indptr[r], indptr[r + 1], hit, pos)):
                s = slot[indices[pos[i]]]
                if not seen[s]:
                    seen[s] = True
                    touched[n_touched] = s
                    n_touched += 1
                value[s] += np.float64(data[pos[i]])
            for i in range(n_touched):
                s = touched[i]
                v = value[s]
                out[0, g, s] += v
                if v > 0:
                    out[1, g, s] += 1.0
                if not np.isfinite(v):
                    out[2, g, s] = 1.0
                value[s] = 0.0
                seen[s] = False
    return parts.sum(axis=0)


@_njit(nogil=True, parallel=True)
def _csc_subset_moments(data, indices, indptr, codes, columns, n_groups):
    n_sel = len(columns)
    out = np.zeros((3, n_groups, n_sel))
    unsorted = np.zeros(n_sel, dtype=np.bool_)
    for s in numba.prange(n_sel):
        c = columns[s]
        last = -1
        for j in range(indptr[c], indptr[c + 1]):
            r = indices[j]
            if r <= last:  # unsorted or repeated rows: the caller sums duplicates first
                unsorted[s] = True
            last = r
            g = codes[r]
            v = np.float64(data[j])
            out[0, g, s] += v
            if v > 0:
                out[1, g, s] += 1.0
            if not np.isfinite(v):
                out[2, g, s] = 1.0
    return out, unsorted.any()


@_njit(nogil=True, parallel=True)
def _dense_subset_moments(X, codes, columns, n_groups, n_chunks):
    n_rows = X.shape[0]
    n_sel = len(columns)
    parts = np.zeros((n_chunks, 3, n_groups, n_sel))
    step = (n_rows + n_chunks - 1) // n_chunks
    for t in numba.prange(n_chunks):
        out = parts[t]
        for r in range(t * step, min(n_rows, (t + 1) * step)):
            g = codes[r]
            for s in range(n_sel):
                v = np.float64(X[r, columns[s]])
                out[0, g, s] += v
                if v > 0:
                    out[1, g, s] += 1.0
                if not np.isfinite(v):
                    out[2, g, s] = 1.0
    return parts.sum(axis=0)


def subset_moments(X, gene_idx: np.ndarray, codes: np.ndarray, n_groups: int):
    """Per-group sums (float64), counts above zero and a non-finite flag
    of the selected columns of an in-memory CSR, CSC or dense matrix, in one compiled pass.

    ``codes`` must be in ``0..n_groups-1`` for every cell. Only the stored values are
    read; nothing the size of the selected columns is allocated. CSR entries repeated
    within a row are summed before use (as ``sum_duplicates`` does). Returns a
    ``(3, n_groups, len(gene_idx))`` float64 array, or ``None`` for a CSC matrix whose
    selected columns are unsorted or hold duplicates (the caller then takes another path).
    """
    idx = np.asarray(gene_idx, dtype=np.int64)
    codes = np.asarray(codes, dtype=np.int64)
    n_chunks = max(1, min(numba.get_num_threads(), X.shape[0] // 10_000))
    fmt = getattr(X, "format", None)
    if fmt == "csr":
        hit = np.zeros(X.shape[1], dtype=np.uint8)
        hit[idx] = 1
        slot = np.zeros(X.shape[1], dtype=np.int32)
        slot[idx] = np.arange(len(idx))
        args = (X.data, X.indices, X.indptr, codes, hit, slot, n_groups, len(idx), n_chunks)
        return _csr_subset_moments(*args)
    if fmt == "csc":
        out, unsorted = _csc_subset_moments(X.data, X.indices, X.indptr, codes, idx, n_groups)
        return None if unsorted else out
    return _dense_subset_moments(X, codes, idx, n_groups, n_chunks)
