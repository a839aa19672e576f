"""Every public function leaves the AnnData untouched, except documented keys."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from conftest import fingerprint, layout_params
from scipy import sparse

import sc_heatmaps as sch

GENES = ["G00", "G04", "G08"]

CALLS = {
    "tl.top_markers": lambda a: sch.tl.top_markers(a, "cluster", n_genes=2),
    "tl.top_markers(first)": lambda a: sch.tl.top_markers(a, "cluster", duplicates="first"),
    "tl.top_markers(wilcoxon)": lambda a: sch.tl.top_markers(a, "cluster", method="wilcoxon"),
    "tl.top_markers(logreg)": lambda a: sch.tl.top_markers(a, "cluster", method="logreg"),
    "tl.top_markers(overestim)": lambda a: sch.tl.top_markers(
        a, "cluster", method="t-test_overestim_var"
    ),
    "get.marker_genes": lambda a: sch.get.marker_genes(a, "cluster", n_genes=2),
    "get.grouped_expression": lambda a: sch.get.grouped_expression(
        a, GENES, ["dataset", "cluster"], scale="zscore", clusters="c0,c1", cluster_key="cluster"
    ),
    "get.grouped_expression(median)": lambda a: sch.get.grouped_expression(
        a, GENES, "cluster", stat="median"
    ),
    "get.category_colors": lambda a: sch.get.category_colors(a, "cluster"),
    "pl.grouped_heatmap(markers)": lambda a: sch.pl.grouped_heatmap(
        a,
        cluster_key="cluster",
        dataset_key="dataset",
        n_genes=2,
        cluster_rows=True,
        cluster_cols=True,
    ),
    "pl.grouped_heatmap(list)": lambda a: sch.pl.grouped_heatmap(a, GENES, "cluster"),
    "get.dual_expression": lambda a: sch.get.dual_expression(
        a, "G00", "G04", color="cluster", split_by="dataset", exclude_double_zero=True
    ),
    "pl.dual_expression": lambda a: sch.pl.dual_expression(
        a, "G00", "G04", color="cluster", split_by="dataset", jitter=0.1, max_points=10
    ),
    "get.correlation": lambda a: sch.get.correlation(
        a, genes=GENES, groupby="dataset", method="spearman", min_nonzero=0
    ),
    "get.correlation(obs)": lambda a: sch.get.correlation(
        a, rows="genes", cols="obs", genes=GENES, obs_keys=["umis"], min_nonzero=0
    ),
    "pl.correlation_heatmap": lambda a: sch.pl.correlation_heatmap(
        a, genes=GENES, groupby="dataset", min_nonzero=0
    ),
    "pl.cell_heatmap": lambda a: sch.pl.cell_heatmap(
        a, GENES, ["dataset", "cluster"], max_cells_per_group=4, reduce="sample"
    ),
    "pl.interactive_heatmap": lambda a: sch.pl.interactive_heatmap(
        sch.pl.grouped_heatmap(a, GENES, "cluster")
    ),
    "get.select_cells": lambda a: sch.get.select_cells(a, {"dataset": ["d1"]}),
    "get.obs_summary": lambda a: sch.get.obs_summary(a, "umis", "cluster", "dataset", op="mean"),
    "pl.matrix_heatmap": lambda a: sch.pl.matrix_heatmap(
        sch.get.obs_summary(a, "umis", "cluster", "dataset", op="median")
    ),
    "pl.savefig": lambda a: sch.pl.grouped_heatmap(a, GENES, "cluster").figure,
    "tl.dataset_differences": lambda a: sch.tl.dataset_differences(a, "dataset", "cluster"),
    "tl.conserved_markers": lambda a: sch.tl.conserved_markers(a, "cluster", "dataset"),
    "tl.top_markers(seurat)": lambda a: sch.tl.top_markers(a, "cluster", recipe="seurat"),
    "pl.grouped_heatmap(conserved)": lambda a: sch.pl.grouped_heatmap(
        a, cluster_key="cluster", dataset_key="dataset", n_genes=2, markers="conserved"
    ),
    "pl.dotplot(split)": lambda a: sch.pl.dotplot(
        a,
        cluster_key="cluster",
        dataset_key="dataset",
        n_genes=2,
        layout="split",
        expression_cutoff=0.5,
    ),
    "pl.dotplot(logfc)": lambda a: sch.pl.dotplot(
        a, GENES, cluster_key="cluster", dataset_key="dataset", color="logfc", reference="d1"
    ),
    "pl.dataset_differences_heatmap": lambda a: sch.pl.dataset_differences_heatmap(
        a, dataset_key="dataset", cluster_key="cluster", reference="d1", max_pval_adj=None
    ),
}


def test_every_public_function_is_checked():
    public = {
        f"{m}.{name}"
        for m in ("tl", "pp", "get", "pl")
        for name in getattr(sch, m).__all__
        if callable(getattr(getattr(sch, m), name))
        and not isinstance(getattr(getattr(sch, m), name), type)
    }
    checked = {name.split("(")[0] for name in CALLS} | {"pp.integrate"}
    assert public <= checked, sorted(public - checked)


@pytest.mark.parametrize("sparse_raw", [False, True])
@pytest.mark.parametrize("name", list(CALLS))
def test_public_calls_do_not_modify_adata(synthetic, name, sparse_raw):
    if sparse_raw:
        synthetic.raw = synthetic.copy()
    synthetic.uns["cluster_colors"] = ["#aa0000", "#00aa00", "#0000aa", "#aaaa00"]
    synthetic.obs["umis"] = np.arange(synthetic.n_obs, dtype=float)
    synthetic.obsm["X_umap"] = np.zeros((synthetic.n_obs, 2))
    before = fingerprint(synthetic)
    colors = list(synthetic.uns["cluster_colors"])
    CALLS[name](synthetic)
    assert fingerprint(synthetic) == before
    assert list(synthetic.uns["cluster_colors"]) == colors
    plt.close("all")


def _awkward(X) -> dict:
    """The matrices anndata hands over that a careless reader changes or misreads."""
    X = sparse.csr_matrix(X)
    coo = X.tocoo()
    rows = np.concatenate([coo.row, coo.row[::4]])
    cols = np.concatenate([coo.col, coo.col[::4]])
    data = np.concatenate([coo.data, np.zeros(len(coo.data[::4]), dtype=X.dtype)])
    order = np.lexsort((cols, rows))
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=X.shape[0]))])
    # repeated entries (one of each pair a stored zero), int64 indptr with int32 indices
    messy = sparse.csr_matrix(X.shape, dtype=X.dtype)
    messy.data = data[order]
    messy.indices = cols[order].astype(np.int32)
    messy.indptr = indptr.astype(np.int64)
    return {
        "duplicates, stored zeros, mixed index dtypes": messy,
        "csr_array": sparse.csr_array(X),
        "csc_array": sparse.csc_array(X),
    }


@pytest.mark.parametrize("matrix", layout_params(_awkward(sparse.csr_matrix((1, 1)))))
@pytest.mark.parametrize("name", list(CALLS))
def test_awkward_matrices_are_not_modified(synthetic, name, matrix):
    synthetic.X = _awkward(synthetic.X)[matrix]
    synthetic.obs["umis"] = np.arange(synthetic.n_obs, dtype=float)
    before = fingerprint(synthetic)
    X = synthetic.X
    parts = [p.copy() for p in (X.data, X.indices, X.indptr)]
    CALLS[name](synthetic)
    assert fingerprint(synthetic) == before
    assert synthetic.X is X
    for old, new in zip(parts, (X.data, X.indices, X.indptr), strict=True):
        assert old.dtype == new.dtype
        np.testing.assert_array_equal(old, new)
    plt.close("all")


def test_top_markers_key_added_changes_only_that_key(synthetic):
    before = fingerprint(synthetic)
    sch.tl.top_markers(synthetic, "cluster", key_added="markers")
    after = fingerprint(synthetic)
    assert sorted(after["uns"]) == sorted([*before["uns"], "markers"])
    del after["uns"]["markers"]
    assert after == before


def test_integrate_changes_only_its_layer(synthetic):
    synthetic.raw = synthetic.copy()
    before = fingerprint(synthetic)
    sch.pp.integrate(synthetic, "dataset", key_added="combat")
    after = fingerprint(synthetic)
    assert set(after["layers"]) == {"combat"}
    after["layers"] = before["layers"]
    assert after == before
