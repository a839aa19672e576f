"""The one-pass t-test reproduces scanpy.tl.rank_genes_groups on every input type."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pytest
import scanpy as sc
from conftest import make_synthetic
from scipy import sparse

import sc_heatmaps as sch
from sc_heatmaps._sources import resolve_source
from sc_heatmaps.tl._rank_store import group_codes
from sc_heatmaps.tl._ttest import ttest_ranking


def _close(ours, theirs, rel=1e-6, tiny=1e-300):
    ours, theirs = np.asarray(ours, float), np.asarray(theirs, float)
    small = np.abs(theirs) < tiny
    np.testing.assert_allclose(ours[~small], theirs[~small], rtol=rel, atol=0)
    np.testing.assert_allclose(ours[small], theirs[small], atol=tiny)


def _compare(adata, groupby="cluster", method="t-test", groups=None, n_top=10):
    ref = adata.copy() if not adata.isbacked else adata.to_memory()
    sc.tl.rank_genes_groups(ref, groupby, method=method, groups=groups or "all", n_genes=ref.n_vars)
    theirs = ref.uns["rank_genes_groups"]
    cat = adata.obs[groupby].astype("category").values
    names = [str(c) for c in cat.categories] if groups is None else groups
    request = {
        "groupby": groupby,
        "method": method,
        "source": "RNA",
        "groups": names,
        "corr_method": "benjamini-hochberg",
    }
    ours = ttest_ranking(
        resolve_source(adata, "RNA"),
        group_codes(cat, names),
        names,
        request,
        adata.uns.get("log1p"),
    )
    for g in names:
        assert list(ours["names"][g][:n_top]) == list(theirs["names"][g][:n_top])
        order = {n: i for i, n in enumerate(theirs["names"][g])}
        idx = [order[n] for n in ours["names"][g]]
        _close(ours["scores"][g], theirs["scores"][g][idx])
        _close(ours["pvals"][g], theirs["pvals"][g][idx])
        _close(ours["pvals_adj"][g], theirs["pvals_adj"][g][idx])
        _close(ours["logfoldchanges"][g], theirs["logfoldchanges"][g][idx], rel=1e-5)
    return ours


@pytest.mark.parametrize("kind", ["csr", "csc", "dense"])
@pytest.mark.parametrize("method", ["t-test", "t-test_overestim_var"])
def test_matches_scanpy_in_memory(kind, method):
    adata = make_synthetic(seed=5, n_per_group=30)
    X = adata.X
    adata.X = {"csr": X, "csc": sparse.csc_matrix(X), "dense": X.toarray()}[kind]
    _compare(adata, method=method)


def test_matches_scanpy_backed(tmp_path):
    make_synthetic(seed=6, n_per_group=25).write_h5ad(tmp_path / "b.h5ad")
    backed = ad.read_h5ad(tmp_path / "b.h5ad", backed="r")
    _compare(backed)
    backed.file.close()


def test_matches_scanpy_with_groups_and_log_base():
    adata = make_synthetic(seed=7)
    adata.uns["log1p"] = {"base": 2}
    _compare(adata, groups=["c1", "c3"])


def test_small_chunks_give_the_same_statistics(monkeypatch):
    import sc_heatmaps.get._aggregate as agg

    adata = make_synthetic(seed=8, n_per_group=40)
    big = _compare(adata)
    monkeypatch.setattr(agg, "CHUNK_ROWS", 7)
    monkeypatch.setattr(agg, "CHUNK_COLS", 3)
    small = _compare(adata)
    for field in ("scores", "pvals"):
        for g in ["c0", "c1", "c2", "c3"]:
            np.testing.assert_allclose(small[field][g], big[field][g], rtol=1e-12)


def test_real_kang_top10_identical(kang):
    ours = _compare(kang, groupby="cluster_id")
    assert set(ours["params"]) >= {"groupby", "method", "reference", "use_raw", "layer"}


def test_stored_result_is_readable_by_scanpy(synthetic):
    sch.tl.top_markers(synthetic, "cluster", key_added="fast")
    df = sc.get.rank_genes_groups_df(synthetic, "c0", key="fast")
    assert list(df.columns[:5]) == ["names", "scores", "logfoldchanges", "pvals", "pvals_adj"]
    assert synthetic.uns["fast"]["params"]["engine"].startswith("sc_heatmaps")
    sc.pl.rank_genes_groups(synthetic, key="fast", n_genes=3, show=False)
