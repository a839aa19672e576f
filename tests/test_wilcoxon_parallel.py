"""The Wilcoxon kernel gives the same numbers on one thread as on several, its radix
sort gives scanpy's ranks on long columns, and the top-N selection (only as deep as it
needs) gives scanpy's top-N lists."""

from __future__ import annotations

import anndata as ad
import numba
import numpy as np
import pandas as pd
import pytest
import scanpy as sc
from scipy import sparse
from test_wilcoxon import _as, _assert_same, _ours, _scanpy, _tied

import sc_heatmaps as sch
from sc_heatmaps.tl._wilcoxon import wilcoxon_scores

pytestmark = [
    pytest.mark.filterwarnings(
        "ignore:invalid value encountered in divide:RuntimeWarning:scanpy.*"
    ),
    # scanpy's own frame building with many groups
    pytest.mark.filterwarnings(
        "ignore:DataFrame is highly fragmented:pandas.errors.PerformanceWarning"
    ),
]


def _many_groups(n_cells=1500, n_genes=120, n_groups=30, seed=0) -> ad.AnnData:
    """Log-normalised sparse counts in many groups; each group raises a few genes, and
    small counts make many tied scores."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, n_groups, n_cells)
    counts = rng.poisson(0.4, (n_cells, n_genes)).astype(np.float64)
    for g in range(n_groups):
        cols = (3 * g + np.arange(4)) % n_genes
        counts[np.ix_(group == g, cols)] += rng.poisson(1.5, ((group == g).sum(), 4))
    X = np.log1p(counts / np.maximum(counts.sum(1, keepdims=True), 1) * 1e3)
    obs = pd.DataFrame(
        {"cluster": pd.Categorical([f"k{g:02d}" for g in group])},
        index=[f"c{i}" for i in range(n_cells)],
    )
    var = pd.DataFrame(index=[f"G{i:03d}" for i in range(n_genes)])
    adata = ad.AnnData(X=sparse.csr_matrix(X.astype(np.float32)), obs=obs, var=var)
    adata.uns["log1p"] = {"base": None}
    return adata


@pytest.fixture
def threads():
    """Runs the body with 1 thread, then with 2; restores numba's setting."""
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has a single thread here (NUMBA_NUM_THREADS=1)")
    saved = numba.get_num_threads()
    yield lambda n: numba.set_num_threads(n)
    numba.set_num_threads(saved)


@pytest.mark.parametrize("kind", ["csr", "csc", "float64 csr", "dense"])
def test_two_threads_give_exactly_the_numbers_of_one(threads, kind):
    adata = _as(_tied(n=900), kind)
    codes = adata.obs["cluster"].cat.codes.to_numpy().astype(np.int64)
    codes[codes < 0] = 4  # unlabelled cells: the rest of every group
    runs = {}
    for n in (1, 2):
        threads(n)
        scores = wilcoxon_scores(adata.X, codes, 4, tie_correct=True)
        table = sch.tl.top_markers(adata, "cluster", method="wilcoxon", duplicates="best")
        runs[n] = (scores, table)
    assert np.array_equal(runs[1][0], runs[2][0])
    pd.testing.assert_frame_equal(runs[1][1], runs[2][1])


@pytest.mark.parametrize("tie_correct", [False, True])
def test_long_columns_radix_sorted_match_scanpy(tie_correct):
    # columns of hundreds of stored values (the radix sort), negatives and stored zeros
    adata = _as(_tied(n=1200), "csr")
    _assert_same(_ours(adata, tie_correct), _scanpy(adata, tie_correct), n_top=40)


def test_top10_lists_are_scanpys_with_duplicates_kept():
    adata = _many_groups()
    table = sch.tl.top_markers(adata, "cluster", method="wilcoxon", duplicates="keep")
    ref = adata.copy()
    sc.tl.rank_genes_groups(ref, "cluster", method="wilcoxon", n_genes=10)
    res = ref.uns["rank_genes_groups"]
    repeated = 0
    for g, frame in table.groupby("group", observed=True):
        assert list(frame["gene"]) == list(res["names"][g]), g
        np.testing.assert_allclose(frame["score"], res["scores"][g], rtol=1e-6)
        np.testing.assert_allclose(frame["pval_adj"], res["pvals_adj"][g], rtol=1e-9)
        repeated += frame["gene"].isin(table.loc[table["group"] != g, "gene"]).sum()
    assert repeated > 0  # the data do share top genes between groups: they are kept


def test_all_genes_with_n_genes_none_in_scanpys_order():
    adata = _many_groups(n_cells=600, n_genes=60, n_groups=6)
    table = sch.tl.top_markers(adata, "cluster", method="wilcoxon", duplicates="keep", n_genes=None)
    ref = adata.copy()
    sc.tl.rank_genes_groups(ref, "cluster", method="wilcoxon", n_genes=ref.n_vars)
    res = ref.uns["rank_genes_groups"]
    for g, frame in table.groupby("group", observed=True):
        assert list(frame["gene"]) == list(res["names"][g])


@pytest.mark.parametrize("method", ["wilcoxon", "t-test"])
@pytest.mark.parametrize("duplicates", ["best", "first"])
def test_shallow_ranking_selects_what_the_whole_ranking_does(method, duplicates):
    # max_pval_adj=1.0 removes nothing but makes the selection read the whole ranking
    adata = _many_groups(n_cells=900, n_genes=80, n_groups=12, seed=3)
    kws = dict(method=method, duplicates=duplicates, n_genes=5)
    shallow = sch.tl.top_markers(adata, "cluster", **kws)
    whole = sch.tl.top_markers(adata, "cluster", max_pval_adj=1.0, **kws)
    pd.testing.assert_frame_equal(shallow, whole)
