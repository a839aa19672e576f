"""Grouped statistics of a few genes take a numpy pass (CSR) or scipy's columns (CSC,
dense) while numba has not started in the process (its start costs more than such
work), and every path gives the same numbers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import ROOT, make_synthetic
from scipy import sparse

import sc_heatmaps as sch
from sc_heatmaps import _aggregate

GENES = ["G00", "G05", "G10", "G17", "G29"]


def _layout(adata, layout: str):
    out = adata.copy()
    X = np.asarray(out.X.toarray() if sparse.issparse(out.X) else out.X, dtype=np.float32)
    X[X < 0.5] = 0
    out.X = {"csr": sparse.csr_matrix, "csc": sparse.csc_matrix, "dense": np.asarray}[layout](X)
    return out


def _paths(adata, monkeypatch, **kws) -> dict:
    """The same call through the compiled pass, the numpy pass (CSR only) and scipy's
    columns (``subset_group_stats`` declining), in a process taken as numba-less."""
    monkeypatch.setattr(_aggregate, "numba_started", lambda: False)
    runs = {}
    for name, limit in (("compiled", 0), ("numpy", 10**18)):
        monkeypatch.setattr(_aggregate, "SCIPY_MAX_VALUES", limit)
        monkeypatch.setattr(_aggregate, "NUMPY_MAX_VALUES", limit)
        runs[name] = sch.get.grouped_expression(adata, GENES, ["dataset", "cluster"], **kws)
    monkeypatch.setattr("sc_heatmaps.get._grouped.subset_group_stats", lambda *a: None)
    runs["scipy"] = sch.get.grouped_expression(adata, GENES, ["dataset", "cluster"], **kws)
    return runs


def _both_paths(adata, monkeypatch, **kws):
    runs = _paths(adata, monkeypatch, **kws)
    np.testing.assert_allclose(runs["numpy"].matrix, runs["scipy"].matrix, rtol=1e-12, atol=0)
    assert list(runs["numpy"].matrix.index) == list(runs["scipy"].matrix.index)
    return runs["compiled"], runs["scipy"]


@pytest.mark.parametrize("layout", ["csr", "csc", "dense"])
@pytest.mark.parametrize("stat", ["mean", "fraction"])
def test_scipy_and_compiled_paths_give_the_same_statistics(layout, stat, monkeypatch):
    adata = _layout(make_synthetic(), layout)
    compiled, scipy_path = _both_paths(adata, monkeypatch, stat=stat)
    np.testing.assert_allclose(compiled.matrix, scipy_path.matrix, rtol=1e-12, atol=0)
    # and both are numpy's group means / fractions
    dense = np.asarray(adata.X.toarray() if sparse.issparse(adata.X) else adata.X)
    cells = (adata.obs["dataset"] == "d1").to_numpy() & (adata.obs["cluster"] == "c0").to_numpy()
    cols = adata.var_names.get_indexer(GENES)
    rows = dense[cells][:, cols].astype(np.float64)
    expected = rows.mean(axis=0) if stat == "mean" else (rows > 0).mean(axis=0)
    column = next(c for c in scipy_path.matrix.columns if "d1" in str(c) and "c0" in str(c))
    np.testing.assert_allclose(scipy_path.matrix[column].to_numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("stat", ["mean", "fraction"])
def test_scipy_path_leaves_out_cells_of_clusters_not_asked_for(stat, monkeypatch):
    # cells outside clusters= have no group (code -1): they must add to no group's sums
    adata = _layout(make_synthetic(), "csr")
    kws = {"stat": stat, "clusters": ["c2", "c0"], "cluster_key": "cluster"}
    compiled, scipy_path = _both_paths(adata, monkeypatch, **kws)
    np.testing.assert_allclose(compiled.matrix, scipy_path.matrix, rtol=1e-12, atol=0)
    dense = adata.X.toarray()
    cols = adata.var_names.get_indexer(GENES)
    for dataset in ("d1", "d2"):
        for cluster in ("c2", "c0"):
            cells = (adata.obs["dataset"] == dataset).to_numpy() & (
                adata.obs["cluster"] == cluster
            ).to_numpy()
            rows = dense[cells][:, cols].astype(np.float64)
            expected = rows.mean(axis=0) if stat == "mean" else (rows > 0).mean(axis=0)
            column = next(
                c for c in scipy_path.matrix.columns if dataset in str(c) and cluster in str(c)
            )
            got = scipy_path.matrix[column].to_numpy()
            np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_both_paths_find_the_same_nonfinite_genes(monkeypatch):
    adata = _layout(make_synthetic(), "dense")
    adata.X[3, adata.var_names.get_loc("G10")] = np.nan
    adata.X = sparse.csr_matrix(adata.X)
    compiled, scipy_path = _both_paths(adata, monkeypatch, missing="drop")
    assert (
        list(compiled.matrix.index) == list(scipy_path.matrix.index) == ["G00", "G05", "G17", "G29"]
    )
    np.testing.assert_allclose(compiled.matrix, scipy_path.matrix, rtol=1e-12, atol=0)


@pytest.mark.parametrize(
    ("layout", "limit"), [("csr", "NUMPY_MAX_VALUES"), ("csc", "SCIPY_MAX_VALUES")]
)
def test_compiled_path_once_numba_has_started(layout, limit, monkeypatch):
    adata = _layout(make_synthetic(), layout)
    monkeypatch.setattr(_aggregate, "numba_started", lambda: True)
    assert _aggregate.compiled_pays(adata.X, np.arange(3))
    monkeypatch.setattr(_aggregate, "numba_started", lambda: False)
    assert not _aggregate.compiled_pays(adata.X, np.arange(3))
    values = adata.X.nnz if layout == "csr" else int(np.diff(adata.X.indptr)[:3].sum())
    monkeypatch.setattr(_aggregate, limit, values)  # reached: the compiled pass pays
    assert _aggregate.compiled_pays(adata.X, np.arange(3))


SCRIPT = textwrap.dedent(
    """
    import json, sys
    import sc_heatmaps as sch
    from sc_heatmaps._aggregate import numba_started

    adata = sch.datasets.example()
    sch.get.grouped_expression(adata, list(adata.var_names[:20]), "cluster")
    print(json.dumps({"started": numba_started(), "numba": "numba" in sys.modules}))
    """
)


def test_a_first_small_call_does_not_start_numba():
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, check=True
    )
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out == {"started": False, "numba": False}


CLI = textwrap.dedent(
    """
    import json, sys
    import sc_heatmaps._aggregate as agg
    if sys.argv[2] == "compiled":
        agg.BINCOUNT_MAX_VALUES = 0
    import sc_heatmaps.cli as cli
    argv = ["markers", "-i", sys.argv[1], "--groupby", "cluster", "--method", "t-test"]
    code = cli.main([*argv, "-o", sys.argv[3]])
    print(json.dumps({"code": code, "numba": "numba" in sys.modules}))
    """
)


def test_ttest_markers_of_a_small_file_skip_numba_and_equal_the_compiled_pass(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    example = str(ROOT / "data" / "example.h5ad")
    out = {}
    for path in ("bincount", "compiled"):
        tsv = tmp_path / f"{path}.tsv"
        done = subprocess.run(
            [sys.executable, "-c", CLI, example, path, str(tsv)],
            capture_output=True,
            text=True,
            env=env,
            check=True,
            cwd=tmp_path,
        )
        out[path] = json.loads(done.stdout.strip().splitlines()[-1]), tsv.read_text()
    assert out["bincount"][0] == {"code": 0, "numba": False}
    assert out["compiled"][0] == {"code": 0, "numba": True}
    assert out["bincount"][1] == out["compiled"][1]


def test_whole_matrix_statistics_equal_on_both_paths(monkeypatch):
    adata = _layout(make_synthetic(), "csr")
    codes = adata.obs["cluster"].cat.codes.to_numpy().astype(np.int64)
    runs = {}
    for name, limit in (("compiled", 0), ("bincount", 10**18)):
        monkeypatch.setattr(_aggregate, "BINCOUNT_MAX_VALUES", limit)
        monkeypatch.setattr(_aggregate, "numba_started", lambda: False)
        runs[name] = _aggregate.group_stats_all(adata.X, codes, 4)
    for field in ("sums", "n_pos"):
        a, b = getattr(runs["compiled"], field), getattr(runs["bincount"], field)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)
    # squared deviations from different shifts (each group's first stored value, its
    # stored values' mean): equal to rounding
    np.testing.assert_allclose(runs["compiled"].m2, runs["bincount"].m2, rtol=1e-10, atol=0)
    # and both are numpy's two-pass variances
    dense = adata.X.toarray().astype(np.float64)
    for g in range(4):
        expected = dense[codes == g].var(axis=0, ddof=1)
        np.testing.assert_allclose(runs["bincount"].var[g], expected, rtol=1e-10)


def _split_entries(X: sparse.csr_matrix) -> sparse.csr_matrix:
    """Non-canonical CSR with the same values: each stored value split in two entries
    of the same cell (built directly: scipy's conversions would sum them)."""
    coo = X.tocoo()
    half = (coo.data / 2).astype(X.dtype)
    rows = np.concatenate([coo.row, coo.row])
    cols = np.concatenate([coo.col, coo.col])
    order = np.lexsort((cols, rows))
    data = np.concatenate([half, coo.data - half])[order]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=X.shape[0]))])
    return sparse.csr_matrix((data, cols[order], indptr), shape=X.shape)


@pytest.mark.parametrize("layout", ["csr", "csc"])
@pytest.mark.parametrize("stat", ["mean", "fraction"])
def test_duplicate_entries_are_summed_on_both_paths(layout, stat, monkeypatch):
    # the whole matrix is not searched for duplicates here: blocks cut from it and the
    # compiled pass sum them
    adata = _layout(make_synthetic(), "csr")
    dup = adata.copy()
    dup.X = _split_entries(adata.X) if layout == "csr" else _split_entries(adata.X.T.tocsr()).T
    assert dup.X.format == layout and not dup.X.has_canonical_format
    dense = adata.X.toarray().astype(np.float64)
    cols = adata.var_names.get_indexer(GENES)
    for result in _both_paths(dup, monkeypatch, stat=stat):
        for label, group in result.groups.iterrows():
            cells = (adata.obs["dataset"] == group["dataset"]).to_numpy()
            cells = cells & (adata.obs["cluster"] == group["cluster"]).to_numpy()
            rows = dense[cells][:, cols]
            expected = rows.mean(axis=0) if stat == "mean" else (rows > 0).mean(axis=0)
            np.testing.assert_allclose(result.matrix[label].to_numpy(), expected, rtol=1e-6)
    assert not dup.X.has_canonical_format  # the caller's matrix is left as it was


STARTED = textwrap.dedent(
    """
    import json
    import numba
    from numba.core.registry import cpu_target
    from sc_heatmaps._aggregate import numba_started

    cpu_target.target_context  # what importing a library that uses numba may do
    before = numba_started()
    numba.njit(lambda x: x + 1)(1)
    print(json.dumps([before, numba_started()]))
    """
)


def test_numba_counts_as_started_once_it_has_compiled_not_when_imported():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", STARTED], capture_output=True, text=True, env=env, check=True
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [False, True]
