"""Each group's top genes and their adjusted p-values, computed for the reported genes
only, are exactly those of the whole ranking: scanpy's order (ties included),
statsmodels' Benjamini-Hochberg of the whole row, and scanpy's numbers at many groups."""

from __future__ import annotations

import numpy as np
import pytest
import scanpy as sc
from scanpy.tools._rank_genes_groups import _select_top_n
from scipy import sparse
from statsmodels.stats.multitest import multipletests
from test_wilcoxon_parallel import _many_groups

import sc_heatmaps as sch
from sc_heatmaps.tl._wilcoxon_top import bh_of, top_genes

pytestmark = [
    pytest.mark.filterwarnings(
        "ignore:invalid value encountered in divide:RuntimeWarning:scanpy.*"
    ),
    pytest.mark.filterwarnings(
        "ignore:DataFrame is highly fragmented:pandas.errors.PerformanceWarning"
    ),
]


def _pvalue_rows(rng) -> list[np.ndarray]:
    """p-value rows with what makes BH hard: ties, zeros, underflow, ones, a strong
    tail (many small values) and rows of no signal at all."""
    rows = [
        rng.uniform(size=300),
        np.round(rng.uniform(size=300), 2),  # many ties
        np.concatenate([np.zeros(5), [1e-320, 5e-324], rng.uniform(size=100) ** 8]),
        np.concatenate([rng.uniform(0, 1e-6, 40), np.ones(60)]),
        np.full(50, 0.3),
        np.ones(20),
        np.concatenate([rng.uniform(0.5, 1, 200), rng.uniform(0, 1e-3, 3)]),
    ]
    return [rng.permutation(r) for r in rows]


def test_adjusted_pvalues_of_a_few_genes_equal_statsmodels_bh_of_the_whole_row():
    rng = np.random.default_rng(4)
    for row in _pvalue_rows(rng):
        whole = multipletests(row, method="fdr_bh")[1]
        order = np.argsort(row, kind="stable")
        for wanted in (order[:10], order[-3:], rng.choice(len(row), 7, replace=False)):
            wanted = wanted.astype(np.int64)
            ours = bh_of(row, wanted, np.empty(len(wanted)))
            assert np.array_equal(ours, whole[wanted]), (row[:5], wanted)


@pytest.mark.parametrize("depth", [1, 5, 64, 65, 100])  # one pass up to 64, then sorted
def test_top_genes_are_scanpys_order_with_and_without_ties(depth):
    rng = np.random.default_rng(7)
    n_genes = 100
    signed_zeros = -np.abs(rng.normal(size=n_genes))
    signed_zeros[[4, 11]] = [0.0, -0.0]  # equal scores: a tie at the top
    tied_second = rng.normal(size=n_genes)
    tied_second[[2, 30]] = 9.0
    scores = np.stack(
        [
            rng.normal(size=n_genes),  # distinct: the one-pass selection
            np.round(rng.normal(size=n_genes), 1),  # ties: scanpy's sort decides
            np.zeros(n_genes),  # every gene tied
            signed_zeros,
            tied_second,
        ]
    )
    pvals = rng.uniform(size=scores.shape)
    top, adjusted = top_genes(scores, pvals, depth, "benjamini-hochberg")
    _, bonferroni = top_genes(scores, pvals, depth, "bonferroni")
    for i, row in enumerate(scores):
        assert list(top[i]) == list(_select_top_n(row, n_genes)[:depth]), i
        whole = multipletests(pvals[i], method="fdr_bh")[1]
        assert np.array_equal(adjusted[i], whole[top[i]]), i
        whole = multipletests(pvals[i], method="bonferroni")[1]
        assert np.array_equal(bonferroni[i], whole[top[i]]), i


def test_markers_at_many_groups_equal_scanpys_numbers_exactly():
    adata = _many_groups(n_cells=2400, n_genes=150, n_groups=60, seed=5)
    table = sch.tl.top_markers(adata, "cluster", method="wilcoxon", duplicates="keep", n_genes=7)
    ref = adata.copy()
    sc.tl.rank_genes_groups(ref, "cluster", method="wilcoxon")
    res = ref.uns["rank_genes_groups"]
    X = sparse.csr_matrix(adata.X).toarray()
    labels = adata.obs["cluster"].to_numpy()
    for g, frame in table.groupby("group", observed=True):
        assert list(frame["gene"]) == list(res["names"][g][:7]), g
        assert np.array_equal(frame["pval_adj"], res["pvals_adj"][g][:7]), g
        cols = adata.var_names.get_indexer(frame["gene"])
        inside = labels == g
        pct_in = (X[inside][:, cols] > 0).sum(0) / inside.sum()
        pct_out = (X[~inside][:, cols] > 0).sum(0) / (~inside).sum()
        assert np.array_equal(frame["pct_in"], pct_in), g
        assert np.array_equal(frame["pct_out"], pct_out), g
