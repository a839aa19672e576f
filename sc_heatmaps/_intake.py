"""One intake for matrices: every X, layer or raw is read through here.

anndata hands us dense arrays of any dtype, CSR/CSC as ``*_matrix`` or ``*_array``,
index arrays of mixed dtypes, non-canonical CSR (duplicate entries are kept on read),
backed datasets and dask arrays. Before any compiled loop sees a matrix it is

- bounds-checked once (a corrupted file must raise, never write out of bounds);
- given one integer dtype for ``indices`` and ``indptr`` (new index arrays, data shared);
- summed over duplicate entries, on a copy and only when there are any;
- returned as a ``scipy.sparse`` ``*_matrix`` (arrays are wrapped without copying).

Integer and float16 values are widened before squaring (``wide_squares``). The caller's
object is never modified, and is never handed to code that modifies it
(``private_copy``).
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy import sparse

_INDEX = {"csr": ("column", 1), "csc": ("row", 0)}


def is_dask(X) -> bool:
    """Whether ``X`` is a dask array (dask itself is an optional dependency)."""
    return type(X).__module__.split(".")[0] == "dask"


def is_backed(X) -> bool:
    """Whether ``X`` is an on-disk matrix (anndata backed sparse or an h5py dataset)."""
    return hasattr(X, "to_memory") or type(X).__module__.startswith("h5py")


def wide_squares(dtype) -> bool:
    """Whether squares must be taken in float64: every dtype but float32 (whose squares
    scanpy takes in float32, and so do we to match it) and float64 (already wide)."""
    return np.dtype(dtype) != np.float32


def _check_structure(X, where: str) -> None:
    """Refuse a compressed matrix whose index arrays point outside the matrix."""
    fmt = X.format
    what, axis = _INDEX[fmt]
    n_major = X.shape[1 - axis]
    n_minor = X.shape[axis]
    indptr, indices = X.indptr, X.indices
    problem = None
    if len(indptr) != n_major + 1:
        problem = f"indptr has {len(indptr)} entries where {n_major + 1} are expected"
    elif len(indptr) and (indptr[0] != 0 or indptr[-1] != len(indices)):
        problem = f"indptr runs from {indptr[0]} to {indptr[-1]}, not 0 to {len(indices)}"
    elif len(indices) != len(X.data):
        problem = f"{len(indices)} indices for {len(X.data)} stored values"
    elif len(indptr) > 1 and np.any(np.diff(indptr) < 0):
        problem = "indptr decreases"
    # one pass, not min() and max(): seen unsigned, a negative index is a huge one
    elif len(indices) and _largest(indices.view(f"u{indices.dtype.itemsize}")) >= n_minor:
        bad = indices[(indices < 0) | (indices >= n_minor)][0]
        problem = f"a {what} index is {bad}, outside 0..{n_minor - 1}"
    if problem is not None:
        raise ValueError(
            f"{where} is a corrupted {fmt.upper()} matrix: {problem}. The file is damaged "
            "or was written by a faulty tool; rewrite it from its source."
        )


THREADED_CHECK_VALUES = 8_000_000  # indices from which the check runs in threads


def _largest(values: np.ndarray):
    """``values.max()``, in threads over parts of a large array (numpy's reduction
    releases the GIL)."""
    from ._threads import available_threads, thread_map

    n_threads = available_threads() if len(values) >= THREADED_CHECK_VALUES else 1
    if n_threads == 1:
        return values.max()
    cuts = [len(values) * i // n_threads for i in range(n_threads + 1)]
    parts = [values[a:b] for a, b in itertools.pairwise(cuts)]
    return max(thread_map(np.max, parts, n_threads))


def _compressed(X):
    """CSR or CSC as a ``*_matrix`` without copying the values (COO and others: CSR)."""
    fmt = X.format if X.format in _INDEX else "csr"
    cls = sparse.csr_matrix if fmt == "csr" else sparse.csc_matrix
    if isinstance(X, cls):
        return X
    if X.format == fmt:  # csr_array/csc_array: wrap the same arrays
        out = cls(X.shape, dtype=X.dtype)
        out.data, out.indices, out.indptr = X.data, X.indices, X.indptr
        return out
    return cls(X)


def _one_index_dtype(X):
    """A matrix whose ``indices`` and ``indptr`` share one integer dtype (data shared)."""
    if X.indices.dtype == X.indptr.dtype and X.indices.dtype in (np.int32, np.int64):
        return X
    out = type(X)(X.shape, dtype=X.dtype)
    out.data = X.data
    out.indices = X.indices.astype(np.int64)
    out.indptr = X.indptr.astype(np.int64)
    return out


def _canonical(X):
    """Duplicate entries summed, on a copy and only when the matrix has any."""
    if X.has_canonical_format:
        return X
    # sorted but not canonical means repeated indices; unsorted may still be unique
    if not X.has_sorted_indices and not _has_duplicates(X):
        return X
    out = X.copy()
    out.sum_duplicates()
    return out


def _has_duplicates(X) -> bool:
    n_minor = X.shape[1] if X.format == "csr" else X.shape[0]
    major = np.repeat(np.arange(len(X.indptr) - 1, dtype=np.int64), np.diff(X.indptr))
    keys = major * n_minor + X.indices.astype(np.int64)
    return len(np.unique(keys)) < len(keys)


def intake_sparse(X, where: str = "the matrix", canonical: bool = True):
    """A checked CSR/CSC ``*_matrix`` for any scipy sparse input, canonical unless
    ``canonical=False`` (duplicate entries are then left for the caller)."""
    X = _compressed(X)
    _check_structure(X, where)
    X = _one_index_dtype(X)
    return _canonical(X) if canonical else X


def intake(X, where: str = "the matrix", canonical: bool = True):
    """The matrix every computation reads, for any type anndata hands us.

    In-memory sparse matrices are checked and made canonical here, once. Backed and
    dask matrices are read chunk by chunk later, and each chunk goes through
    :func:`intake_block`. Dense arrays are used as they are (squares are widened where
    they are taken, see :func:`wide_squares`).

    ``canonical=False`` skips the search of the whole matrix for duplicate entries (a
    pass over every stored value), for callers that read it only in ways that sum
    duplicates themselves: blocks cut from it through :func:`intake_block`, and the
    compiled subset pass (see ``_aggregate.subset_group_stats``).
    """
    if sparse.issparse(X):
        return intake_sparse(X, where, canonical)
    if isinstance(X, np.matrix):
        return np.asarray(X)
    return X


def intake_block(block, where: str = "a chunk of the matrix"):
    """A chunk read from a backed or dask matrix, made safe as :func:`intake` does."""
    if sparse.issparse(block):
        return intake_sparse(block, where)
    return np.asarray(block)


def private_copy(X, where: str = "the matrix"):
    """An in-memory copy that code which modifies its input (scanpy's wilcoxon and
    logreg call ``X.eliminate_zeros()``) may have: CSR ``*_matrix`` with one index
    dtype and no duplicates, or a float32/float64 dense array."""
    if is_dask(X):
        X = X.compute()
    elif hasattr(X, "to_memory"):
        X = X.to_memory()
    elif type(X).__module__.startswith("h5py"):
        X = X[...]
    if sparse.issparse(X):
        out = sparse.csr_matrix(intake_sparse(X, where), copy=True)
        return out if out.dtype in (np.float32, np.float64) else out.astype(np.float64)
    X = np.asarray(X)
    return X.astype(X.dtype if X.dtype in (np.float32, np.float64) else np.float64, copy=True)
