"""The one-pass t-test reproduces scanpy.tl.rank_genes_groups on every input type."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pytest
import scanpy as sc
from conftest import make_synthetic
from scipy import sparse, stats

import sc_heatmaps as sch
from sc_heatmaps._sources import resolve_source
from sc_heatmaps.tl._ranking import group_codes
from sc_heatmaps.tl._ttest import ttest_ranking


def _close(ours, theirs, rel=1e-6, tiny=1e-300):
    ours, theirs = np.asarray(ours, float), np.asarray(theirs, float)
    small = np.abs(theirs) < tiny
    np.testing.assert_allclose(ours[~small], theirs[~small], rtol=rel, atol=0)
    np.testing.assert_allclose(ours[small], theirs[small], atol=tiny)


def _float64_copy(adata):
    """A float64 copy for scanpy to rank.

    scanpy before 1.12 squares float32 values in float32 (``_get_mean_var``), which
    moves p-values below ~1e-30 by up to 1e-4 relative; scanpy 1.12 (like us) squares
    in float64. On float64 values every scanpy version computes the exact statistics.
    """
    ref = adata.copy() if not adata.isbacked else adata.to_memory()
    ref.X = ref.X.astype(np.float64)
    return ref


def _ours(adata, groupby, method, names):
    request = {
        "groupby": groupby,
        "method": method,
        "source": "RNA",
        "groups": names,
        "corr_method": "benjamini-hochberg",
    }
    cat = adata.obs[groupby].astype("category").values
    return ttest_ranking(
        resolve_source(adata, "RNA"),
        group_codes(cat, names),
        names,
        request,
        adata.uns.get("log1p"),
    )


def _compare(adata, groupby="cluster", method="t-test", groups=None, n_top=10):
    ref = _float64_copy(adata)
    sc.tl.rank_genes_groups(ref, groupby, method=method, groups=groups or "all", n_genes=ref.n_vars)
    theirs = ref.uns["rank_genes_groups"]
    cat = adata.obs[groupby].astype("category").values
    names = [str(c) for c in cat.categories] if groups is None else groups
    ours = _ours(adata, groupby, method, names)
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
    import sc_heatmaps._aggregate as agg

    adata = make_synthetic(seed=8, n_per_group=40)
    big = _compare(adata)
    monkeypatch.setattr(agg, "CHUNK_ROWS", 7)
    monkeypatch.setattr(agg, "CHUNK_COLS", 3)
    small = _compare(adata)
    for field in ("scores", "pvals"):
        for g in ["c0", "c1", "c2", "c3"]:
            np.testing.assert_allclose(small[field][g], big[field][g], rtol=1e-12)


@pytest.mark.parametrize("kind", ["csr", "dense"])
def test_tiny_pvalues_equal_welch_on_float64_values(kind):
    """float32 data: p-values far below 1e-38 equal scipy's Welch test on the float64
    values (two-pass variance). Squares taken in float32 moved them by up to 1e-4."""
    adata = make_synthetic(seed=5, n_per_group=30)
    if kind == "dense":
        adata.X = adata.X.toarray()
    assert adata.X.dtype == np.float32
    names = ["c0", "c1", "c2", "c3"]
    ours = _ours(adata, "cluster", "t-test", names)
    X = adata.X.toarray() if kind == "csr" else adata.X
    X = X.astype(np.float64)
    cluster = adata.obs["cluster"].to_numpy()
    for g in names:
        top = [adata.var_names.get_loc(n) for n in ours["names"][g][:4]]
        t, p = stats.ttest_ind(
            X[cluster == g][:, top], X[cluster != g][:, top], equal_var=False, axis=0
        )
        assert (p < 1e-38).all()
        np.testing.assert_allclose(ours["pvals"][g][:4], p, rtol=1e-9, atol=0)
        np.testing.assert_allclose(ours["scores"][g][:4], t, rtol=1e-6)


def test_real_kang_top10_identical(kang):
    ours = _compare(kang, groupby="cluster_id")
    assert set(ours["params"]) >= {"groupby", "method", "reference", "use_raw", "layer"}


def test_stored_result_is_readable_by_scanpy(synthetic):
    sch.tl.top_markers(synthetic, "cluster", key_added="fast")
    df = sc.get.rank_genes_groups_df(synthetic, "c0", key="fast")
    assert list(df.columns[:5]) == ["names", "scores", "logfoldchanges", "pvals", "pvals_adj"]
    assert synthetic.uns["fast"]["params"]["engine"].startswith("sc_heatmaps")
    sc.pl.rank_genes_groups(synthetic, key="fast", n_genes=3, show=False)
