"""The numpy pass over a few columns of a CSR matrix (``_csr_subset``), taken while
numba has not started: per-group sums and counts above zero equal numpy's on the dense
matrix for every storage a CSR matrix can have, in one thread or several, in one block
or many; and ``grouped_expression`` through it equals ``sc.get.aggregate``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scanpy as sc
from conftest import make_synthetic
from scipy import sparse

import sc_heatmaps as sch
from sc_heatmaps import _aggregate, _csr_subset


def _reference(dense: np.ndarray, idx, codes, n_groups: int):
    """Sums and counts above zero per group from numpy alone (codes -1: no group)."""
    cols = dense[:, idx].astype(np.float64)
    sums = np.zeros((n_groups, len(idx)))
    n_pos = np.zeros((n_groups, len(idx)))
    for g in range(n_groups):
        sums[g] = cols[codes == g].sum(axis=0)
        n_pos[g] = (cols[codes == g] > 0).sum(axis=0)
    return sums, n_pos


@pytest.fixture(params=["one block, one thread", "many blocks, three threads"])
def blocks(request, monkeypatch):
    if request.param.startswith("many"):
        monkeypatch.setattr(_csr_subset, "BLOCK_VALUES", 7)
        monkeypatch.setattr(_csr_subset, "THREADED_MIN_VALUES", 0)
        monkeypatch.setattr(_csr_subset, "available_threads", lambda: 3)
    return request.param


def _random_csr(seed: int, n_rows=60, n_cols=25, dtype=np.float32, index_dtype=np.int32):
    rng = np.random.default_rng(seed)
    dense = rng.gamma(1.0, 1.0, (n_rows, n_cols)) * (rng.random((n_rows, n_cols)) < 0.3)
    dense[5] = 0  # an empty row
    dense = dense.astype(dtype)
    X = sparse.csr_matrix(dense)
    X.indices, X.indptr = X.indices.astype(index_dtype), X.indptr.astype(index_dtype)
    codes = rng.integers(-1, 4, n_rows)  # -1: a cell in no group
    return X, dense, codes


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.uint16])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_sums_and_counts_equal_numpy_on_every_dtype(dtype, index_dtype, blocks):
    X, dense, codes = _random_csr(1, dtype=dtype, index_dtype=index_dtype)
    if np.dtype(dtype).kind in "iu":
        X.data = np.ceil(X.data * 3).astype(dtype)
        dense = X.toarray()
    idx = np.array([24, 0, 7, 13, 3])
    sums, n_pos, nonfinite = _csr_subset.csr_subset_sums(X, idx, codes, 4)
    ref_sums, ref_pos = _reference(dense, idx, codes, 4)
    np.testing.assert_allclose(sums, ref_sums, rtol=1e-12)
    np.testing.assert_array_equal(n_pos, ref_pos)
    assert not nonfinite.any()


def test_duplicate_and_unsorted_entries_are_summed_first(blocks):
    # cell 0 stores gene 1 twice (+1.5, -1.5: it holds 0 and does not express it), cell 3
    # stores gene 2 twice, cell 2's entries are unsorted
    indptr = [0, 4, 5, 7, 10]
    indices = [0, 1, 1, 2, 1, 2, 0, 1, 2, 2]
    data = [1.0, 1.5, -1.5, 2.0, 3.0, 1.0, 4.0, 1.0, 0.5, 0.25]
    X = sparse.csr_matrix((data, indices, indptr), shape=(4, 3))
    dense = X.toarray()  # duplicates summed
    np.testing.assert_array_equal(dense, [[1, 0, 2], [0, 3, 0], [4, 0, 1], [0, 1, 0.75]])
    codes = np.array([0, 0, 1, 1])
    sums, n_pos, _ = _csr_subset.csr_subset_sums(X, np.array([2, 1]), codes, 2)
    ref_sums, ref_pos = _reference(dense, [2, 1], codes, 2)
    np.testing.assert_allclose(sums, ref_sums)
    np.testing.assert_array_equal(n_pos, ref_pos)


def test_nonfinite_columns_are_flagged(blocks):
    X, dense, codes = _random_csr(2, dtype=np.float64)
    dense[10, 7], dense[40, 3] = np.nan, np.inf
    X = sparse.csr_matrix(dense)
    _, _, nonfinite = _csr_subset.csr_subset_sums(X, np.array([24, 0, 7, 13, 3]), codes, 4)
    assert nonfinite.tolist() == [False, False, True, False, True]


def test_an_empty_matrix_and_no_hits():
    X = sparse.csr_matrix((0, 5), dtype=np.float32)
    sums, n_pos, _ = _csr_subset.csr_subset_sums(X, np.array([1]), np.array([], int), 2)
    assert sums.shape == n_pos.shape == (2, 1) and not sums.any()
    X = sparse.csr_matrix(np.diag([1.0, 2.0, 0.0]))
    sums, n_pos, _ = _csr_subset.csr_subset_sums(X, np.array([2]), np.array([0, 1, 1]), 2)
    assert not sums.any() and not n_pos.any()


def test_grouped_expression_through_the_numpy_pass_equals_scanpy(monkeypatch):
    adata = make_synthetic(seed=5)
    adata.X = sparse.csr_matrix(adata.X)
    taken = []
    real = _csr_subset.csr_subset_sums
    monkeypatch.setattr(_aggregate, "numba_started", lambda: False)
    monkeypatch.setattr(_csr_subset, "csr_subset_sums", lambda *a: taken.append(1) or real(*a))
    genes, keys = ["G29", "G00", "G17", "G05"], ["dataset", "cluster"]
    ge = sch.get.grouped_expression(adata, genes, keys)
    assert taken  # the numpy pass was the one taken
    agg = sc.get.aggregate(adata[:, genes], by=keys, func=["mean", "count_nonzero"])
    labels = agg.obs[keys].astype(str).agg(" / ".join, axis=1)
    mean = pd.DataFrame(np.asarray(agg.layers["mean"]).T, index=genes, columns=labels)
    np.testing.assert_allclose(ge.unscaled.loc[genes, labels], mean, rtol=1e-6, atol=1e-7)
    n_cells = adata.obs.groupby(keys, observed=True).size()
    counts = np.asarray(agg.layers["count_nonzero"]).T  # all values are >= 0 here
    fraction = counts / n_cells.loc[[tuple(t) for t in agg.obs[keys].to_numpy()]].to_numpy()
    np.testing.assert_allclose(ge.fraction.loc[genes, labels], fraction, rtol=1e-12)
