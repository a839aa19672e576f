"""Wilcoxon rank-sum markers from a compiled pass over each gene's stored values.

Reproduces ``scanpy.tl.rank_genes_groups(method="wilcoxon", reference="rest")``:
every group against every other cell, the cells ranked per gene over all cells of
the matrix (average ranks for ties), the z-score
``(rank_sum - n_g * (n + 1) / 2) / sqrt(tc * n_g * (n - n_g) * (n + 1) / 12)`` with
``tc = 1 - sum(t**3 - t) / (n**3 - n)`` over the tie blocks when ``tie_correct``
(``tc = 1`` otherwise), NaN scores set to 0, two-sided normal p-values, the same
adjustment, log fold changes and order as the t-test (see ``_ttest``).

The cells without a stored value (zeros) are one tie block: only the stored values
of a gene are sorted, so the work follows the stored values, not cells x genes.
Genes are taken a chunk at a time as compressed columns: from CSR by one cursor
pass per chunk (rows split between threads), directly from CSC, and from dense,
backed and dask matrices a column chunk at a time. float32 values are sorted as
uint64 keys that pack the value's order with the cell's number (one direct sort per
gene, no indirection); other dtypes are argsorted. The caller's matrix is only read.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping

import numba
import numpy as np
from scipy import sparse

from .._aggregate import GroupStats, group_stats_all
from .._intake import intake_block, is_dask
from .._numba_kernels import _njit
from .._sources import Expression
from ._checks import refuse_nonfinite
from ._ttest import _logfc, adjust_rows, ordered_fields, ranking_result
from ._wilcoxon_top import scores_and_pvalues, tie_coef, top_genes

CHUNK_ENTRIES = 1 << 24  # stored values per chunk of genes (~200 MB of values and rows)
BACKED_ROWS = 10_000  # rows per read of a backed sparse matrix
# stored values per chunk of genes of a backed or dask sparse matrix (~8 bytes each in
# memory): every chunk is one more read of the whole matrix, so they are large
OUT_OF_CORE_ENTRIES = 64_000_000


@_njit(nogil=True)
def _zero_block(v, r, codes, n_cells):
    """Values below zero, and cells at zero (stored zeros and cells without a value),
    among the cells that take part (code >= 0)."""
    n_neg = 0
    n_nonzero = 0
    for k in range(len(v)):
        if codes[r[k]] < 0:
            continue
        if v[k] < 0:
            n_neg += 1
        if v[k] != 0:
            n_nonzero += 1
    return n_neg, n_cells - n_nonzero


@_njit(nogil=True)
def _column_rank_sums(v, r, codes, sizes, n_cells, out):
    """Adds each cell's rank to ``out[code]`` for one gene (cells of code -1 take no
    part); returns ``sum(t**3 - t)`` over its tie blocks (the zeros are one block)."""
    order = np.argsort(v)
    stored = np.zeros(len(sizes), dtype=np.int64)
    n_neg, n_zero = _zero_block(v, r, codes, n_cells)
    tie = float(n_zero) ** 3 - n_zero
    below = 0  # cells ranked below the current block
    k = 0
    while k < len(v):
        x = v[order[k]]
        end = k + 1
        t = 1 if codes[r[order[k]]] >= 0 else 0
        while end < len(v) and v[order[end]] == x:
            t += 1 if codes[r[order[end]]] >= 0 else 0
            end += 1
        if x >= 0 and below == n_neg:  # the zero block sits here
            below += n_zero
        if x != 0 and t > 0:
            rank = below + (t + 1) / 2.0
            for j in range(k, end):
                g = codes[r[order[j]]]
                if g >= 0:
                    out[g] += rank
                    stored[g] += 1
            tie += float(t) ** 3 - t
            below += t
        k = end
    zero_rank = n_neg + (n_zero + 1) / 2.0
    for g in range(len(sizes)):
        out[g] += (sizes[g] - stored[g]) * zero_rank
    return tie


@_njit(nogil=True, parallel=True)
def _rank_sums(vals, rows, indptr, codes, sizes, n_cells, sums, ties):
    """Rank sums per (column, code) into ``sums`` (zeros, one row per column) and tie
    sums ``sum(t**3 - t)`` per column into ``ties``.

    Column ``c`` holds ``vals[indptr[c]:indptr[c + 1]]`` in cells ``rows[...]``;
    every other cell of that column is a zero.
    """
    for c in numba.prange(len(indptr) - 1):
        lo, hi = indptr[c], indptr[c + 1]
        ties[c] = _column_rank_sums(vals[lo:hi], rows[lo:hi], codes, sizes, n_cells, sums[c])


_ZERO = np.uint64(0x80000000)  # the order key of 0.0 (and of -0.0)
_LOW = np.uint64(0xFFFFFFFF)
_SHIFT = np.uint64(32)
_BYTE = np.uint64(0xFF)
SMALL_COLUMN = 64  # columns up to this many values are sorted by comparison


@_njit(nogil=True)
def _key(bits, code):
    """float32 bits and the cell's group packed in a uint64 whose high half orders as
    the value; the low half is ``code + 1`` (0: the cell takes no part)."""
    b = np.uint64(bits)
    if b == _ZERO:  # -0.0 is 0.0
        hi = _ZERO
    elif b > _ZERO:  # negative: larger magnitude first
        hi = _LOW - b
    else:
        hi = b + _ZERO
    return (hi << _SHIFT) | np.uint64(code + 1)


@_njit(nogil=True)
def _group(key):
    """The group packed in a key (-1: the cell takes no part)."""
    return np.int64(key & _LOW) - 1


@_njit(nogil=True)
def _radix_sort(keys, buf):
    """``keys`` in the order of their high halves (a stable LSD radix sort, a byte a
    pass; passes where every key has the same byte are skipped). The result is in
    ``keys`` or in ``buf`` (same length), whichever is returned."""
    n = len(keys)
    if n <= SMALL_COLUMN:
        keys.sort()  # ties of the high half may land in any order: ranks do not care
        return keys
    counts = np.zeros((4, 256), dtype=np.int64)
    for k in range(n):
        hi = keys[k] >> _SHIFT
        for d in range(4):
            counts[d, np.int64((hi >> np.uint64(8 * d)) & _BYTE)] += 1
    src, dst = keys, buf
    offsets = np.empty(256, dtype=np.int64)
    for d in range(4):
        shift = np.uint64(32 + 8 * d)
        if counts[d, np.int64((src[0] >> shift) & _BYTE)] == n:
            continue
        total = 0
        for byte in range(256):
            offsets[byte] = total
            total += counts[d, byte]
        for k in range(n):
            byte = np.int64((src[k] >> shift) & _BYTE)
            dst[offsets[byte]] = src[k]
            offsets[byte] += 1
        src, dst = dst, src
    return src


@_njit(nogil=True)
def _key_zero_block(keys, n_cells):
    n_neg = 0
    n_nonzero = 0
    for k in range(len(keys)):
        if keys[k] & _LOW == 0:
            continue
        hi = keys[k] >> _SHIFT
        if hi < _ZERO:
            n_neg += 1
        if hi != _ZERO:
            n_nonzero += 1
    return n_neg, n_cells - n_nonzero


@_njit(nogil=True)
def _block_end(keys, k):
    """End of the tie block starting at ``k``, and the cells in it that take part."""
    hi = keys[k] >> _SHIFT
    end = k
    t = 0
    while end < len(keys) and keys[end] >> _SHIFT == hi:
        t += 1 if keys[end] & _LOW != 0 else 0
        end += 1
    return end, t


@_njit(nogil=True)
def _value(hi, scratch):
    """The float32 value of a key's high half (``scratch``: a uint32 array of one, and
    its float32 view, for the bit cast)."""
    bits, as_float = scratch
    if hi >= _ZERO:
        bits[0] = np.uint32(hi - _ZERO)
    else:
        bits[0] = np.uint32(_LOW - hi)
    return np.float64(as_float[0])


@_njit(nogil=True)
def _keys_rank_sums(keys, buf, sizes, n_cells, out, values, positive):
    """:func:`_column_rank_sums` for float32 values packed with their groups
    (:func:`_key`): one radix sort, no indirection (``buf`` is scratch). Also adds
    each group's values to ``values`` and its values above zero to ``positive`` (a tie
    block holds one value, so it is unpacked once)."""
    keys = _radix_sort(keys, buf)
    bits = np.empty(1, dtype=np.uint32)
    scratch = (bits, bits.view(np.float32))
    stored = np.zeros(len(sizes), dtype=np.int64)
    n_neg, n_zero = _key_zero_block(keys, n_cells)
    tie = float(n_zero) ** 3 - n_zero
    below = 0
    k = 0
    while k < len(keys):
        hi = keys[k] >> _SHIFT
        end, t = _block_end(keys, k)
        if hi >= _ZERO and below == n_neg:  # the zero block sits here
            below += n_zero
        if hi != _ZERO and t > 0:
            rank = below + (t + 1) / 2.0
            v = _value(hi, scratch)
            for j in range(k, end):
                g = _group(keys[j])
                if g >= 0:
                    out[g] += rank
                    stored[g] += 1
                    values[g] += v
                    positive[g] += 1.0 if v > 0 else 0.0
            tie += float(t) ** 3 - t
            below += t
        k = end
    zero_rank = n_neg + (n_zero + 1) / 2.0
    for g in range(len(sizes)):
        out[g] += (sizes[g] - stored[g]) * zero_rank
    return tie


@_njit(nogil=True, parallel=True)
def _rank_sums_f32(bits, rows, indptr, codes, sizes, n_cells, sums, ties, values, positive):
    """:func:`_rank_sums` for float32 values (``bits`` is their uint32 view), with the
    sums of the values and the counts above zero per (column, code) into ``values`` and
    ``positive`` (zeros, one row per column)."""
    for c in numba.prange(len(indptr) - 1):
        lo, hi = indptr[c], indptr[c + 1]
        keys = np.empty(hi - lo, dtype=np.uint64)
        for k in range(hi - lo):
            keys[k] = _key(bits[lo + k], codes[rows[lo + k]])
        buf = np.empty_like(keys)
        ties[c] = _keys_rank_sums(keys, buf, sizes, n_cells, sums[c], values[c], positive[c])


@_njit(nogil=True, parallel=True)
def _rank_sums_keys(keys, indptr, sizes, n_cells, sums, ties, values, positive):
    """:func:`_rank_sums_f32` for columns already packed as keys (sorted here)."""
    for c in numba.prange(len(indptr) - 1):
        column = keys[indptr[c] : indptr[c + 1]]
        buf = np.empty_like(column)
        ties[c] = _keys_rank_sums(column, buf, sizes, n_cells, sums[c], values[c], positive[c])


@_njit(nogil=True, parallel=True)
def _csr_chunk_counts(indices, indptr, cursor, hi, lo, n_parts):
    """Stored values per (part of the rows, column) in columns ``lo:hi``."""
    n_rows = len(indptr) - 1
    step = (n_rows + n_parts - 1) // n_parts
    counts = np.zeros((n_parts, hi - lo), dtype=np.int64)
    for part in numba.prange(n_parts):
        for row in range(part * step, min(n_rows, (part + 1) * step)):
            j = cursor[row]
            while j < indptr[row + 1] and indices[j] < hi:
                counts[part, indices[j] - lo] += 1
                j += 1
    return counts


@_njit(nogil=True, parallel=True)
def _csr_chunk_keys(bits, indices, indptr, codes, cursor, hi, fill, n_keys):
    """Columns up to ``hi`` of a float32 CSR matrix (sorted indices) as packed keys,
    parts of the rows in parallel; ``fill[part, column]`` is where each part writes."""
    n_rows = len(indptr) - 1
    n_parts, width = fill.shape
    lo = hi - width
    step = (n_rows + n_parts - 1) // n_parts
    keys = np.empty(n_keys, dtype=np.uint64)
    for part in numba.prange(n_parts):
        for row in range(part * step, min(n_rows, (part + 1) * step)):
            j = cursor[row]
            while j < indptr[row + 1] and indices[j] < hi:
                c = indices[j] - lo
                keys[fill[part, c]] = _key(bits[j], codes[row])
                fill[part, c] += 1
                j += 1
            cursor[row] = j
    return keys


def _csr_keys(X, codes, cursor, hi: int, counts: np.ndarray, out_indptr: np.ndarray):
    """Columns up to ``hi`` (from where ``cursor`` stands) as packed keys; ``counts`` are
    their stored values per (part of the rows, column)."""
    fill = out_indptr[:-1][None, :] + np.cumsum(counts, axis=0) - counts
    bits = X.data.view(np.uint32)
    return _csr_chunk_keys(bits, X.indices, X.indptr, codes, cursor, hi, fill, out_indptr[-1])


@_njit(nogil=True)
def _csr_chunk_to_csc(data, indices, indptr, cursor, lo, hi, out_indptr):
    """Columns ``lo:hi`` of a CSR matrix with sorted indices as compressed columns.

    ``cursor[r]`` is where row ``r`` continues (chunks are taken left to right); it
    is advanced past the chunk.
    """
    fill = out_indptr[:-1].copy()
    vals = np.empty(out_indptr[-1], dtype=data.dtype)
    rows = np.empty(out_indptr[-1], dtype=np.int64)
    for row in range(len(indptr) - 1):
        j = cursor[row]
        end = indptr[row + 1]
        while j < end and indices[j] < hi:
            c = indices[j] - lo
            p = fill[c]
            vals[p] = data[j]
            rows[p] = row
            fill[c] = p + 1
            j += 1
        cursor[row] = j
    return vals, rows


def _chunk_bounds(per_column: np.ndarray, budget: int) -> list[tuple[int, int]]:
    """Consecutive column ranges holding about ``budget`` stored values each."""
    bounds, start, held = [], 0, 0
    for c, n in enumerate(per_column):
        if c > start and held + n > budget:
            bounds.append((start, c))
            start, held = c, 0
        held += int(n)
    bounds.append((start, len(per_column)))
    return bounds


def _csr_columns(X, codes) -> Iterator[tuple[int, int, tuple]]:
    if not X.has_sorted_indices:
        X = X.sorted_indices()  # a copy; the caller's matrix keeps its order
    cursor = X.indptr[:-1].astype(np.int64)
    # stored values per (part of the rows, column), counted once in parallel: their sum
    # cuts the chunks, and each chunk's slice says where each part writes its keys
    n_parts = max(1, numba.get_num_threads())
    counts = _csr_chunk_counts(X.indices, X.indptr, cursor, X.shape[1], 0, n_parts)
    per_column = counts.sum(axis=0)
    packed = X.dtype == np.float32
    for lo, hi in _chunk_bounds(per_column, CHUNK_ENTRIES):
        out_indptr = np.concatenate([[0], np.cumsum(per_column[lo:hi])]).astype(np.int64)
        if packed:
            keys = _csr_keys(X, codes, cursor, hi, counts[:, lo:hi], out_indptr)
            yield lo, hi, (keys, out_indptr)
            continue
        vals, rows = _csr_chunk_to_csc(X.data, X.indices, X.indptr, cursor, lo, hi, out_indptr)
        yield lo, hi, (vals, rows, out_indptr)


def _csc_columns(X) -> Iterator[tuple[int, int, tuple]]:
    yield 0, X.shape[1], (X.data, X.indices, X.indptr)


def _as_columns(block) -> tuple:
    block = intake_block(block)
    if block.dtype not in (np.float32, np.float64):  # float16 and integers: exact in float64
        block = block.astype(np.float64)
    block = sparse.csc_matrix(block)
    return block.data, block.indices, block.indptr


def _sliced_columns(X) -> Iterator[tuple[int, int, tuple]]:
    """Dense (in memory or h5py) and dask matrices: column chunks read as they are."""
    width = max(1, CHUNK_ENTRIES // max(X.shape[0], 1))
    for lo in range(0, X.shape[1], width):
        hi = min(lo + width, X.shape[1])
        block = X[:, lo:hi]
        yield lo, hi, _as_columns(block.compute() if is_dask(block) else block)


def _row_blocks(X) -> list:
    """Consecutive row ranges to read an out-of-core sparse matrix by: ``BACKED_ROWS``
    rows of a backed one, whole row chunks of about as many rows of a dask array (one
    graph per read: dask's cost per call outweighs a small chunk's read)."""
    edges = np.append(np.arange(0, X.shape[0], BACKED_ROWS), X.shape[0])
    if is_dask(X):
        bounds = np.concatenate([[0], np.cumsum(X.chunks[0])])
        edges = np.unique(bounds[np.searchsorted(bounds, edges)])
    return [(int(s), int(e)) for s, e in itertools.pairwise(edges) if e > s]


def _read_rows(X, start: int, stop: int):
    block = X[start:stop]
    return sparse.csr_matrix(intake_block(block.compute() if is_dask(block) else block))


def _fill_columns(block, start: int, lo: int, hi: int, out: tuple, filled: np.ndarray):
    """Append the columns ``lo:hi`` of a block of rows (from row ``start``) to the
    compressed columns ``out = (values, rows, indptr)``, ``filled`` held per column."""
    vals, rows, indptr = out
    part = sparse.csc_matrix(block[:, lo:hi])
    counts = np.diff(part.indptr)
    at = np.repeat(indptr[:-1] + filled - part.indptr[:-1], counts) + np.arange(part.nnz)
    vals[at] = part.data
    rows[at] = part.indices + start
    filled += counts


def _out_of_core_columns(X) -> Iterator[tuple[int, int, tuple]]:
    """A backed or dask sparse matrix: its rows read a block at a time, once to count
    the stored values per gene, then once per chunk of ``OUT_OF_CORE_ENTRIES`` of them
    (compressed columns filled in place: ~8 bytes a value in memory)."""
    blocks = _row_blocks(X)
    per_column = np.zeros(X.shape[1], dtype=np.int64)
    dtype = np.float64
    for s, e in blocks:
        block = _read_rows(X, s, e)
        per_column += np.bincount(block.indices, minlength=X.shape[1])
        dtype = np.float32 if block.dtype == np.float32 else np.float64
    for lo, hi in _chunk_bounds(per_column, OUT_OF_CORE_ENTRIES):
        indptr = np.concatenate([[0], np.cumsum(per_column[lo:hi])]).astype(np.int64)
        out = (np.empty(indptr[-1], dtype=dtype), np.empty(indptr[-1], dtype=np.int32), indptr)
        filled = np.zeros(hi - lo, dtype=np.int64)
        for s, e in blocks:
            _fill_columns(_read_rows(X, s, e), s, lo, hi, out, filled)
        yield lo, hi, out


def _dask_sparse(X) -> bool:
    return is_dask(X) and sparse.issparse(getattr(X, "_meta", None))


def _column_chunks(X, codes) -> Iterator[tuple[int, int, tuple]]:
    """``(lo, hi, (values, cells, indptr))`` for consecutive chunks of genes, or
    ``(lo, hi, (keys, indptr))`` for float32 CSR (values packed with their groups)."""
    if sparse.issparse(X):
        return _csr_columns(X, codes) if X.format == "csr" else _csc_columns(X)
    if hasattr(X, "to_memory") or _dask_sparse(X):
        return _out_of_core_columns(X)
    return _sliced_columns(X)


def _chunk_rank_sums(columns: tuple, codes, sizes, n_cells: int, out: tuple) -> bool:
    """Rank sums and tie sums of one chunk into ``out`` (``sums, ties, values,
    positive``: that chunk's rows), by the fastest kernel its layout allows: packed
    keys, float32 values, or any other values. The float32 kernels also write the sums
    of the values and the counts above zero (returns True); the other does not (False)."""
    if len(columns) == 2:  # (keys, indptr)
        _rank_sums_keys(*columns, sizes, n_cells, *out)
        return True
    vals, rows, indptr = columns
    if vals.dtype == np.float32:
        _rank_sums_f32(vals.view(np.uint32), rows, indptr, codes, sizes, n_cells, *out)
        return True
    _rank_sums(vals, rows, indptr, codes, sizes, n_cells, *out[:2])
    return False


def _rank_pass(X, codes: np.ndarray, sizes: np.ndarray):
    """Rank sums, tie sums per gene, and (float32 input) the sums of the values and the
    counts above zero, else ``None``. The tables are ``(genes, codes)`` in memory and
    handed out as ``(codes, genes)`` views (``.T``): the kernels write each gene's row
    in place, nothing is transposed or copied."""
    n_cells = int(sizes.sum())
    shape = (X.shape[1], len(sizes))
    sums, values, positive = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    ties = np.zeros(X.shape[1])
    fused = True
    for lo, hi, columns in _column_chunks(X, codes):
        out = (sums[lo:hi], ties[lo:hi], values[lo:hi], positive[lo:hi])
        fused = _chunk_rank_sums(columns, codes, sizes, n_cells, out) and fused
    return sums.T, ties, (values.T, positive.T) if fused else None


def _deviations(sums, ties, sizes, n_groups: int, tie_correct: bool):
    """Each group's rank sum minus its expectation and its standard deviation under the
    null (tie-corrected when ``tie_correct``), ``(n_groups, n_genes)`` each."""
    n_cells = int(sizes.sum())
    coef = tie_coef(ties, n_cells, tie_correct)
    n_active = sizes[:n_groups, None].astype(np.float64)
    deviation = sums[:n_groups] - n_active * (n_cells + 1) / 2.0
    std_dev = np.sqrt(coef[None, :] * n_active * (n_cells - n_active) * (n_cells + 1) / 12.0)
    return deviation, std_dev


def _sizes(codes: np.ndarray, n_groups: int) -> np.ndarray:
    return np.bincount(codes[codes >= 0], minlength=n_groups + 1).astype(np.int64)


def wilcoxon_scores(X, codes: np.ndarray, n_groups: int, tie_correct: bool) -> np.ndarray:
    """scanpy's Wilcoxon z-scores, ``(n_groups, n_genes)``: each group against all
    other cells that take part.

    ``codes`` is each cell's group, ``n_groups`` for the other cells (the rest of
    every group), and -1 for cells that take no part at all (as if the rows were
    removed from ``X``; no copy is made).
    """
    deviation, std_dev = rank_sum_deviations(X, codes, n_groups, tie_correct)
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = deviation / std_dev
    scores[np.isnan(scores)] = 0
    return scores


def rank_sum_deviations(X, codes: np.ndarray, n_groups: int, tie_correct: bool):
    """Each group's rank sum minus its expectation, ``R1 - n1 (n + 1) / 2`` (equal to
    ``U1 - n1 n2 / 2``), and its standard deviation under the null (tie-corrected when
    ``tie_correct``); both ``(n_groups, n_genes)``. ``codes`` as in :func:`wilcoxon_scores`.
    """
    codes = np.asarray(codes, dtype=np.int64)
    sizes = _sizes(codes, n_groups)
    sums, ties, _ = _rank_pass(X, codes, sizes)
    return _deviations(sums, ties, sizes, n_groups, tie_correct)


def _group_stats(X, codes: np.ndarray, n_groups: int, sizes, fused) -> GroupStats:
    """The group statistics of every gene (n, sums, counts above zero): from the
    ranking's own pass for float32 input (one read of ``X``; no variances: ``m2`` is
    ``None``), else from a pass of their own."""
    if fused is None:
        return group_stats_all(X, codes, n_groups + 1)
    return GroupStats(n=sizes, sums=fused[0], m2=None, n_pos=fused[1])


def _fold_changes(st: GroupStats, total_s, n_groups: int, log1p):
    """``(i, genes) -> scanpy's log2 fold changes`` of group ``i``'s genes; ``i`` may be
    a column of group positions and ``genes`` a (groups, genes) array of gene positions."""
    logfc = _logfc(log1p)
    total_n = st.n.sum()
    n = st.n[:n_groups].astype(np.float64)

    def fold_changes(i, genes: np.ndarray) -> np.ndarray:
        n_g = n[i]
        sums = st.sums[i, genes]
        return logfc(sums / n_g, (total_s[genes] - sums) / (total_n - n_g))

    return fold_changes


def _top_fields(scores, pvals, names, group_names, depth, corr_method, fold_changes) -> dict:
    """Each group's top ``depth`` genes (scanpy's order) and their fields, the adjusted
    p-values computed for those genes only (``_wilcoxon_top``)."""
    top, adjusted = top_genes(scores, pvals, depth, corr_method)
    rows = np.arange(len(group_names))[:, None]
    arrays = {
        "names": np.asarray(names)[top],
        "scores": scores[rows, top],
        "pvals": pvals[rows, top],
        "pvals_adj": adjusted,
        "logfoldchanges": fold_changes(rows, top),
    }
    return {k: dict(zip(group_names, v, strict=True)) for k, v in arrays.items()}


def wilcoxon_ranking(
    expr: Expression,
    codes: np.ndarray,
    group_names: list[str],
    request: Mapping,
    log1p,
    one_pass: dict | None = None,
    depth: int | None = None,
) -> dict:
    """A ``rank_genes_groups``-style Wilcoxon result for every group in
    ``group_names`` (``codes`` as in :func:`wilcoxon_scores`): each group's top
    ``depth`` genes (all genes when ``None``); the group statistics go to
    ``one_pass["stats"]`` when a dict is given, as in ``ttest_ranking``. With
    ``request["continuity"]`` the p-values take R's continuity correction."""
    n_groups = len(group_names)
    tie_correct = bool(request.get("tie_correct", False))
    continuity = bool(request.get("continuity", False))
    codes = np.asarray(codes, dtype=np.int64)
    sizes = _sizes(codes, n_groups)
    sums, ties, fused = _rank_pass(expr.X, codes, sizes)
    st = _group_stats(expr.X, codes, n_groups, sizes, fused)
    if one_pass is not None:
        one_pass["stats"] = st
    total_s = st.sums.sum(0)  # NaN or inf in a gene's sums make its total so
    refuse_nonfinite(expr, [str(g) for g in np.asarray(expr.var_names)[~np.isfinite(total_s)]])
    scores, pvals = scores_and_pvalues(sums.T, ties, sizes, n_groups, tie_correct, continuity)
    fold_changes = _fold_changes(st, total_s, n_groups, log1p)
    if depth is None:
        columns = {
            "scores": scores,
            "pvals": lambda i, genes: pvals[i, genes],
            "pvals_adj": adjust_rows(pvals, request["corr_method"]),
            "logfoldchanges": fold_changes,
        }
        fields = ordered_fields(columns, expr.var_names, group_names)
    else:
        args = (expr.var_names, group_names, depth, request["corr_method"], fold_changes)
        fields = _top_fields(scores, pvals, *args)
    return ranking_result(
        fields,
        expr,
        {**request, "method": "wilcoxon"},
        group_names,
        "sc_heatmaps compiled Wilcoxon",
        tie_correct=tie_correct,
        **({"continuity": True} if continuity else {}),
    )
