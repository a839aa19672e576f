"""The compiled gene-subset pass (issue 14): grouped means and fractions read only the
selected genes of CSR, CSC and dense matrices in place, and equal scanpy's aggregate
and numpy on every layout, dtype and odd storage (unsorted indices, duplicate entries,
groups without cells, cells outside every group)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scanpy as sc
from conftest import make_synthetic
from scipy import sparse

import sc_heatmaps as sch
from sc_heatmaps import _aggregate

GENES = ["G00", "G05", "G10", "G17", "G29"]


def _refuse_column_block(monkeypatch):
    """Fail when the selected columns are copied out (``X[:, genes]``); the compiled
    pass is taken however small the data (not only once numba has started)."""
    monkeypatch.setattr(_aggregate, "SCIPY_MAX_VALUES", 0)
    monkeypatch.setattr(_aggregate, "NUMPY_MAX_VALUES", 0)

    def refuse(*args, **kwargs):
        raise AssertionError("X[:, genes] was built")

    monkeypatch.setattr("sc_heatmaps.get._grouped.column_block", refuse)


def _numpy_reference(dense: np.ndarray, codes: np.ndarray, n_groups: int):
    """Means and fractions above zero per group, from numpy alone (NaN for empty groups)."""
    mean = np.full((n_groups, dense.shape[1]), np.nan)
    frac = np.full((n_groups, dense.shape[1]), np.nan)
    for g in range(n_groups):
        rows = dense[codes == g].astype(np.float64)
        if len(rows):
            mean[g], frac[g] = rows.mean(axis=0), (rows > 0).mean(axis=0)
    return mean, frac


def _layout(adata, layout: str, dtype):
    X = adata.X.toarray() if sparse.issparse(adata.X) else np.asarray(adata.X)
    X = X.astype(dtype)
    if layout == "csr":
        return sparse.csr_matrix(X)
    if layout == "csc":
        return sparse.csc_matrix(X)
    if layout == "dense_f":
        return np.asfortranarray(X)
    return X


@pytest.mark.parametrize("layout", ["csr", "csc", "dense", "dense_f"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
def test_subset_pass_equals_scanpy_aggregate(layout, dtype, monkeypatch):
    adata = make_synthetic(seed=5)
    if np.dtype(dtype).kind == "i":
        adata.X = sparse.csr_matrix(np.round(adata.X.toarray() * 3))
    adata.X = _layout(adata, layout, dtype)
    keys = ["dataset", "cluster"]
    agg = sc.get.aggregate(adata[:, GENES], by=keys, func=["mean", "count_nonzero"])
    labels = agg.obs[keys].astype(str).agg(" / ".join, axis=1)
    n_cells = adata.obs.groupby(keys, observed=True).size()
    _refuse_column_block(monkeypatch)
    ge = sch.get.grouped_expression(adata, GENES, keys)
    mean = pd.DataFrame(np.asarray(agg.layers["mean"]).T, index=GENES, columns=labels)
    np.testing.assert_allclose(ge.unscaled.loc[GENES, labels], mean, rtol=1e-6, atol=1e-7)
    counts = np.asarray(agg.layers["count_nonzero"]).T  # all values are >= 0 here
    fraction = counts / n_cells.loc[[tuple(t) for t in agg.obs[keys].to_numpy()]].to_numpy()
    np.testing.assert_allclose(ge.fraction.loc[GENES, labels], fraction, rtol=1e-12)


def test_csr_with_unsorted_indices_reads_in_place(monkeypatch):
    adata = make_synthetic(seed=6)
    X = adata.X.tocsr()
    rng = np.random.default_rng(0)
    for r in range(X.shape[0]):  # shuffle the entries within each row
        start, stop = X.indptr[r], X.indptr[r + 1]
        perm = start + rng.permutation(stop - start)
        X.indices[start:stop], X.data[start:stop] = X.indices[perm], X.data[perm]
    X.has_sorted_indices = False
    assert not X.has_sorted_indices
    shuffled = adata.copy()
    shuffled.X = X
    _refuse_column_block(monkeypatch)
    ge = sch.get.grouped_expression(shuffled, GENES, "cluster")
    codes = adata.obs["cluster"].cat.codes.to_numpy()
    mean, frac = _numpy_reference(adata[:, GENES].X.toarray(), codes, 4)
    np.testing.assert_allclose(ge.unscaled.to_numpy(), mean.T, rtol=1e-6)
    np.testing.assert_allclose(ge.fraction.to_numpy(), frac.T, rtol=1e-12)


def test_duplicate_entries_are_summed_first():
    """As ``sum_duplicates`` (and ``toarray``) does: a cell whose two entries for a gene
    are +1.5 and -1.5 holds 0 there, and counts as not expressing it."""
    indptr = [0, 4, 5, 7, 10]  # 4 cells x 3 genes; cells 0 and 3 repeat a gene
    indices = [0, 1, 1, 2, 1, 0, 2, 1, 2, 2]
    data = [1.0, 1.5, -1.5, 2.0, 3.0, 4.0, 1.0, 1.0, 0.5, 0.25]
    X = sparse.csr_matrix((data, indices, indptr), shape=(4, 3))
    assert not X.has_canonical_format
    expected = X.toarray()  # duplicates summed
    np.testing.assert_array_equal(expected, [[1, 0, 2], [0, 3, 0], [4, 0, 1], [0, 1, 0.75]])
    codes = np.array([0, 0, 1, 1])
    stats, nonfinite = _aggregate.subset_group_stats(X, np.array([2, 1]), codes, 2)
    mean, frac = _numpy_reference(expected[:, [2, 1]], codes, 2)
    np.testing.assert_allclose(stats.mean, mean)
    np.testing.assert_allclose(stats.fraction, frac)
    assert stats.m2 is None  # this pass reads means and fractions only
    assert not nonfinite.any()


@pytest.mark.parametrize("layout", ["csr", "csc", "dense"])
def test_groups_without_cells_and_cells_outside_every_group(layout):
    adata = make_synthetic(seed=7)
    dense = adata.X.toarray()
    X = {"csr": sparse.csr_matrix, "csc": sparse.csc_matrix, "dense": np.asarray}[layout](dense)
    codes = adata.obs["cluster"].cat.codes.to_numpy().astype(np.int64)
    codes[codes == 2] = -1  # cells in no group; group 2 then holds no cell
    idx = np.array([29, 0, 17])
    stats, nonfinite = _aggregate.subset_group_stats(X, idx, codes, 5)
    mean, frac = _numpy_reference(dense[:, idx], codes, 5)
    np.testing.assert_allclose(stats.mean, mean, rtol=1e-6)
    np.testing.assert_allclose(stats.fraction, frac, rtol=1e-12)
    assert stats.n.tolist() == [int((codes == g).sum()) for g in range(5)]
    assert np.isnan(stats.mean[[2, 4]]).all()
    assert not nonfinite.any()


@pytest.mark.parametrize("layout", ["csr", "csc", "dense"])
def test_nan_in_a_cell_outside_the_groups_is_still_found(layout):
    """NaN anywhere in a selected gene is an error, even in a cell left out by clusters=."""
    adata = make_synthetic(seed=8, sparse_x=False)
    X = adata.X.copy()
    outside = np.flatnonzero(adata.obs["cluster"].to_numpy() == "c3")[0]
    X[outside, adata.var_names.get_loc("G05")] = np.nan
    adata.X = {"csr": sparse.csr_matrix, "csc": sparse.csc_matrix, "dense": np.asarray}[layout](X)
    with pytest.raises(ValueError, match="G05"):
        sch.get.grouped_expression(adata, GENES, "cluster", clusters=["c0", "c1"])
    ge = sch.get.grouped_expression(adata, GENES, "cluster", clusters="c0,c1", missing="drop")
    assert ge.dropped_genes == ["G05"]
    assert list(ge.matrix.index) == [g for g in GENES if g != "G05"]
    rows = adata.obs["cluster"].to_numpy() == "c0"
    expected = np.asarray(X[rows][:, adata.var_names.get_indexer(ge.matrix.index)]).mean(axis=0)
    np.testing.assert_allclose(ge.unscaled["c0"], expected, rtol=1e-6)


@pytest.mark.parametrize("layout", ["csr", "csc", "dense"])
def test_one_pass_statistics_equal_numpy_with_empty_groups(layout):
    adata = make_synthetic(seed=9)
    dense = adata.X.toarray()
    X = {"csr": sparse.csr_matrix, "csc": sparse.csc_matrix, "dense": np.asarray}[layout](dense)
    codes = adata.obs["cluster"].cat.codes.to_numpy().astype(np.int64)
    codes[codes == 1] = -1  # cells in no group; group 1 holds no cell
    st = _aggregate.group_stats_all(X, codes, 5)
    for g in range(5):
        rows = dense[codes == g].astype(np.float64)
        np.testing.assert_allclose(st.sums[g], rows.sum(axis=0), rtol=1e-6)
        if len(rows) > 1:
            np.testing.assert_allclose(st.var[g], rows.var(axis=0, ddof=1), rtol=1e-9)
        np.testing.assert_array_equal(st.n_pos[g], (rows > 0).sum(axis=0))
    assert st.n.tolist() == [int((codes == g).sum()) for g in range(5)]


def _fractions(adata, table):
    """pct_in and pct_out of each row of a marker table, from numpy."""
    dense = adata.X.toarray() if sparse.issparse(adata.X) else np.asarray(adata.X)
    labels = adata.obs["cluster"].astype(str).to_numpy()
    pct_in, pct_out = [], []
    for group, gene in zip(table["group"].astype(str), table["gene"], strict=True):
        above = dense[:, adata.var_names.get_loc(gene)] > 0
        pct_in.append(above[labels == group].mean())
        pct_out.append(above[labels != group].mean())
    return np.array(pct_in), np.array(pct_out)


@pytest.mark.parametrize("method", ["t-test", "wilcoxon"])
def test_marker_fractions_without_a_copy_of_the_columns(method, monkeypatch):
    """The fractions come from the test's own pass, or (for a stored ranking that is
    reused) from the compiled subset pass: the reported genes' columns are never
    copied out of X."""
    adata = make_synthetic(seed=10)

    def refuse(*args, **kwargs):
        raise AssertionError("the reported genes' columns were copied out of X")

    monkeypatch.setattr("sc_heatmaps.tl._markers.column_block", refuse)
    table = sch.tl.top_markers(adata, "cluster", n_genes=4, method=method, duplicates="keep")
    pct_in, pct_out = _fractions(adata, table)
    np.testing.assert_allclose(table["pct_in"], pct_in, rtol=1e-12)
    np.testing.assert_allclose(table["pct_out"], pct_out, rtol=1e-12)
    sch.tl.top_markers(adata, "cluster", method=method, key_added="stored")
    reused = sch.tl.top_markers(adata, "cluster", n_genes=4, method=method, key="stored")
    pct_in, pct_out = _fractions(adata, reused)
    np.testing.assert_allclose(reused["pct_in"], pct_in, rtol=1e-12)
    np.testing.assert_allclose(reused["pct_out"], pct_out, rtol=1e-12)
    filtered = sch.tl.top_markers(adata, "cluster", n_genes=4, min_in_group_fraction=0.9)
    assert (filtered["pct_in"] >= 0.9).all()
    np.testing.assert_allclose(filtered["pct_in"], _fractions(adata, filtered)[0], rtol=1e-12)
