"""One intake for matrices (issue 11, items 3-6): every array type anndata can hand us
gives the numbers of the same values held as a clean float64 matrix, and the caller's
object is never changed. Expected values come from scanpy or numpy on a clean copy."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scanpy as sc
from conftest import fingerprint, layout_params, make_synthetic
from scipy import sparse

import sc_heatmaps as sch

GENES = ["G00", "G04", "G08", "G13"]


def _with_x(adata: ad.AnnData, X) -> ad.AnnData:
    out = ad.AnnData(X=X, obs=adata.obs.copy(), var=adata.var.copy())
    return out


def _scanpy_scores(X_dense: np.ndarray, adata: ad.AnnData, method: str) -> pd.DataFrame:
    ref = ad.AnnData(
        X=np.asarray(X_dense, dtype=np.float64), obs=adata.obs.copy(), var=adata.var.copy()
    )
    sc.tl.rank_genes_groups(ref, "cluster", method=method, n_genes=ref.n_vars)
    frames = [
        sc.get.rank_genes_groups_df(ref, g).assign(group=g)
        for g in ref.obs["cluster"].cat.categories
    ]
    return pd.concat(frames).set_index(["group", "names"])["scores"]


def _our_scores(adata: ad.AnnData, method: str) -> pd.Series:
    table = sch.tl.top_markers(
        adata, "cluster", n_genes=adata.n_vars, method=method, duplicates="keep"
    )
    return table.assign(group=table["group"].astype(str)).set_index(["group", "gene"])["score"]


def _stored_zeros(seed: int = 0) -> sparse.csr_matrix:
    """CSR whose data holds explicit zeros (as files written by some tools do)."""
    X = sparse.csr_matrix(make_synthetic(seed).X)
    X.data[::3] = 0.0  # stored, not eliminated
    return X


def _duplicated(X: sparse.csr_matrix) -> sparse.csr_matrix:
    """Non-canonical CSR with the same values: each stored value split in two entries."""
    coo = X.tocoo()
    half = coo.data / 2
    rows = np.concatenate([coo.row, coo.row])
    cols = np.concatenate([coo.col, coo.col])
    data = np.concatenate([half, coo.data - half]).astype(X.dtype)
    order = np.lexsort((cols, rows))
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=X.shape[0]))])
    out = sparse.csr_matrix((data[order], cols[order], indptr), shape=X.shape)
    assert not out.has_canonical_format
    return out


# item 3: wilcoxon and logreg never change the caller's matrix, and take every layout
@pytest.mark.parametrize("method", ["wilcoxon", "logreg"])
def test_rank_methods_keep_stored_zeros_of_the_caller(method):
    adata = make_synthetic()
    adata.X = _stored_zeros()
    nnz = adata.X.nnz
    before = fingerprint(adata)
    sch.tl.top_markers(adata, "cluster", n_genes=2, method=method)
    assert adata.X.nnz == nnz
    assert fingerprint(adata) == before


def _layouts(X: sparse.csr_matrix) -> dict:
    mixed = sparse.csr_matrix(X, copy=True)
    mixed.indptr = mixed.indptr.astype(np.int64)
    mixed.indices = mixed.indices.astype(np.int32)
    return {
        "csr_array": sparse.csr_array(X),
        "csc_array": sparse.csc_array(X),
        "int64 indptr, int32 indices": mixed,
        "float16 dense": X.toarray().astype(np.float16),
        "stored zeros": _stored_zeros(),
    }


@pytest.mark.parametrize("layout", layout_params(_layouts(make_synthetic().X)))
def test_wilcoxon_takes_every_layout(layout):
    adata = make_synthetic()
    X = _layouts(adata.X)[layout]
    values = X.toarray() if sparse.issparse(X) else X
    ours = _our_scores(_with_x(adata, X), "wilcoxon")
    expected = _scanpy_scores(np.asarray(values, dtype=np.float64), adata, "wilcoxon")
    np.testing.assert_allclose(ours.to_numpy(), expected.reindex(ours.index).to_numpy(), rtol=1e-5)


def test_wilcoxon_on_a_backed_file(tmp_path):
    adata = make_synthetic()
    path = tmp_path / "x.h5ad"
    adata.write_h5ad(path)
    backed = ad.read_h5ad(path, backed="r")
    ours = _our_scores(backed, "wilcoxon")
    expected = _scanpy_scores(adata.X.toarray(), adata, "wilcoxon")
    np.testing.assert_allclose(ours.to_numpy(), expected.reindex(ours.index).to_numpy(), rtol=1e-5)
    backed.file.close()


# item 4: duplicate entries are summed, never counted twice
def test_duplicate_entries_are_summed():
    adata = make_synthetic()
    dense = adata.X.toarray()
    dup = _with_x(adata, _duplicated(adata.X))
    ge = sch.get.grouped_expression(dup, GENES, "cluster", stat="fraction")
    codes = adata.obs["cluster"].cat.codes.to_numpy()
    idx = adata.var_names.get_indexer(GENES)
    truth = np.stack([(dense[codes == k][:, idx] > 0).mean(0) for k in range(4)]).T
    np.testing.assert_allclose(ge.matrix.to_numpy(), truth)
    table = sch.tl.top_markers(dup, "cluster", n_genes=3, duplicates="keep")
    pct = table.set_index(["group", "gene"])["pct_in"]
    for (group, gene), value in pct.items():
        cells = (adata.obs["cluster"] == group).to_numpy()
        assert value == pytest.approx((dense[cells, adata.var_names.get_loc(gene)] > 0).mean())
    ours = _our_scores(dup, "t-test")
    expected = _scanpy_scores(dense, adata, "t-test")
    np.testing.assert_allclose(ours.to_numpy(), expected.reindex(ours.index).to_numpy(), rtol=1e-4)
    assert not dup.X.has_canonical_format  # the caller's matrix is left as it was


# item 5: integer and float16 values are widened before squaring
@pytest.mark.parametrize(
    ("dtype", "sparse_x"),  # scipy.sparse holds no float16
    [(np.uint8, False), (np.int16, False), (np.float16, False), (np.uint8, True), (np.int16, True)],
)
def test_small_dtypes_are_widened_before_squaring(dtype, sparse_x):
    rng = np.random.default_rng(1)
    adata = make_synthetic(sparse_x=False)
    counts = rng.integers(0, 4, adata.shape).astype(np.float64)
    in_c0 = (adata.obs["cluster"] == "c0").to_numpy()
    counts[in_c0, 5] = rng.integers(200, 251, in_c0.sum())  # a strong marker of c0
    expected = _scanpy_scores(counts, adata, "t-test")
    narrow = counts.astype(dtype)
    narrow = _with_x(adata, sparse.csr_matrix(narrow) if sparse_x else narrow)
    with pytest.warns(UserWarning, match="raw counts"):
        ours = _our_scores(narrow, "t-test")
    # atol: where a group's mean equals the rest's, scanpy 1.12 (rest mean by subtraction)
    # gives a score of about 1e-15 instead of 0
    np.testing.assert_allclose(
        ours.to_numpy(), expected.reindex(ours.index).to_numpy(), rtol=1e-4, atol=1e-9
    )
    assert ours.loc["c0"].idxmax() == "G05"
    ge = sch.get.grouped_expression(narrow, ["G05"], "cluster")
    assert ge.matrix.loc["G05", "c0"] == pytest.approx(counts[in_c0, 5].mean())


# item 6: out-of-range indices raise before any compiled loop
def _corrupt(index_value: int) -> sparse.csr_matrix:
    X = sparse.csr_matrix(make_synthetic().X, copy=True)
    X.indices[5] = index_value
    return X


@pytest.mark.parametrize("bad", [30, -1])
def test_out_of_range_indices_are_refused(bad):
    adata = _with_x(make_synthetic(), _corrupt(bad))
    with pytest.raises(ValueError, match=r"corrupted CSR matrix: a column index is"):
        sch.tl.top_markers(adata, "cluster", n_genes=2)
    with pytest.raises(ValueError, match="corrupted"):
        sch.get.grouped_expression(adata, GENES, "cluster")
    with pytest.raises(ValueError, match="corrupted"):
        sch.pl.cell_heatmap(adata, GENES, "cluster")


@pytest.mark.parametrize("where", ["first", "last"])
@pytest.mark.parametrize("bad", [30, -1])
def test_out_of_range_indices_are_found_by_the_check_in_threads(where, bad, monkeypatch):
    # the check of a large matrix splits its indices between threads: a bad index in
    # either part is found
    from sc_heatmaps import _intake

    monkeypatch.setattr(_intake, "THREADED_CHECK_VALUES", 0)
    monkeypatch.setattr("sc_heatmaps._threads.available_threads", lambda: 3)
    X = sparse.csr_matrix(make_synthetic().X, copy=True)
    X.indices[0 if where == "first" else -1] = bad
    with pytest.raises(ValueError, match=rf"corrupted CSR matrix: a column index is {bad},"):
        sch.get.grouped_expression(_with_x(make_synthetic(), X), GENES, "cluster")


def test_far_out_of_range_index_in_a_backed_file_is_an_error_not_a_crash(tmp_path):
    import h5py

    path = tmp_path / "bad.h5ad"
    make_synthetic().write_h5ad(path)
    with h5py.File(path, "r+") as f:
        indices = f["X/indices"][...]
        indices[7] = 10**8
        f["X/indices"][...] = indices
    code = textwrap.dedent(f"""
        import anndata as ad, sc_heatmaps as sch
        for backed in (None, "r"):
            a = ad.read_h5ad({str(path)!r}, backed=backed)
            try:
                sch.tl.top_markers(a, "cluster", n_genes=2)
            except ValueError as err:
                assert "corrupted" in str(err), err
            else:
                raise SystemExit("no error")
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("ok")
