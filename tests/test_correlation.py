"""Correlation matrices against numpy/scipy, filtering, clustering order, drawing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from conftest import fingerprint
from scipy.cluster import hierarchy
from scipy.spatial.distance import squareform

import sc_heatmaps as sch

GENES = ["G00", "G01", "G04", "G05", "G08", "G12"]


def _dense(adata, genes):
    return np.asarray(adata[:, genes].X.toarray(), dtype=np.float64)


def test_pearson_equals_numpy_corrcoef(synthetic):
    res = sch.get.correlation(synthetic, genes=GENES, min_nonzero=0)
    np.testing.assert_allclose(
        res.matrix.loc[GENES, GENES],
        np.corrcoef(_dense(synthetic, GENES), rowvar=False),
        atol=1e-12,
    )
    assert list(res.matrices) == ["all"] and res.n["all"] == synthetic.n_obs


def test_spearman_equals_scipy_per_group(synthetic):
    res = sch.get.correlation(
        synthetic, genes=GENES, method="spearman", groupby="dataset", min_nonzero=0
    )
    for ds in ["d1", "d2"]:
        rows = (synthetic.obs["dataset"] == ds).to_numpy()
        expected = scipy.stats.spearmanr(_dense(synthetic, GENES)[rows]).statistic
        np.testing.assert_allclose(res.matrices[ds].loc[GENES, GENES], expected, atol=1e-12)
    with pytest.raises(ValueError, match=r"one matrix per group \('d1', 'd2'\)"):
        _ = res.matrix


def test_genes_against_qc_obs_columns(synthetic):
    synthetic.obs["total"] = np.asarray(synthetic.X.sum(axis=1)).ravel()
    synthetic.obs["label"] = "x"  # not numeric: never picked up
    res = sch.get.correlation(synthetic, rows="genes", cols="obs", genes=GENES, min_nonzero=0)
    assert list(res.matrix.columns) == ["total"]
    expected = [
        scipy.stats.pearsonr(_dense(synthetic, [g]).ravel(), synthetic.obs["total"])[0]
        for g in GENES
    ]
    np.testing.assert_allclose(res.matrix["total"], expected, atol=1e-12)


def test_pseudobulk_correlates_group_means(synthetic):
    res = sch.get.correlation(
        synthetic, genes=GENES, groupby="cluster", level="pseudobulk", min_nonzero=0
    )
    means = sch.get.grouped_expression(synthetic, GENES, "cluster").matrix
    np.testing.assert_allclose(
        res.matrix.loc[GENES, GENES], np.corrcoef(means.to_numpy()), atol=1e-10
    )
    assert res.n["all"] == 4


def test_constant_and_sparse_variables_are_dropped_and_reported(synthetic):
    X = synthetic.X.toarray()
    X[:, 12] = 0.0  # constant
    X[:, 8] = 0.0
    X[:5, 8] = 1.0  # only 5 non-zero cells
    synthetic.X = X
    res = sch.get.correlation(synthetic, genes=GENES, min_nonzero=10)
    assert list(res.matrix.index) == ["G00", "G01", "G04", "G05"]
    assert not res.matrix.isna().any().any()
    reasons = dict(zip(res.dropped["variable"], res.dropped["reason"], strict=True))
    assert reasons["G12"] == "constant"
    assert reasons["G08"].startswith("fewer than min_nonzero=10") and "(5)" in reasons["G08"]


def test_clustering_order_follows_scipy_leaves(synthetic):
    plot = sch.pl.correlation_heatmap(synthetic, genes=GENES, min_nonzero=0)
    r = np.corrcoef(_dense(synthetic, GENES), rowvar=False)
    Z = hierarchy.linkage(squareform(1 - r, checks=False), method="average")
    expected = [GENES[i] for i in hierarchy.leaves_list(Z)]
    assert list(plot.data.index) == expected and list(plot.data.columns) == expected
    assert sorted(plot.data.index) == sorted(GENES)  # a permutation
    assert plot.axes["row_dendrogram"] is not None


def test_panels_share_order_and_scale(synthetic):
    plot = sch.pl.correlation_heatmap(
        synthetic, genes=GENES, groupby="dataset", min_nonzero=0, labels="x"
    )
    assert list(plot.axes["panels"]) == ["d1", "d2"]
    d1, d2 = plot.data.loc["d1"], plot.data.loc["d2"]
    assert list(d1.index) == list(d2.index) and list(d1.columns) == list(d2.columns)
    norms = [ax.collections[0].norm for ax in plot.axes["panels"].values()]
    assert all((n.vmin, n.vmax) == (-1, 1) for n in norms)
    assert all(ax.collections[0].get_rasterized() for ax in plot.axes["panels"].values())


def test_no_clustering_keeps_the_given_order(synthetic):
    plot = sch.pl.correlation_heatmap(synthetic, genes=GENES, cluster=False, min_nonzero=0)
    assert list(plot.data.index) == GENES
    assert plot.axes["row_dendrogram"] is None


def test_errors(synthetic):
    with pytest.raises(ValueError, match=r"level='bulk'.*'cells', 'pseudobulk'"):
        sch.get.correlation(synthetic, genes=GENES, level="bulk")
    with pytest.raises(ValueError, match="pass groupby"):
        sch.get.correlation(synthetic, genes=GENES, level="pseudobulk")
    with pytest.raises(KeyError, match=r"'g05' \(did you mean 'G05'"):
        sch.get.correlation(synthetic, genes=["G00", "g05"])
    with pytest.raises(ValueError, match="rows='cells'"):
        sch.get.correlation(synthetic, rows="cells")
    with pytest.raises(ValueError, match="genes=None"):
        sch.get.correlation(synthetic)
    synthetic.obs["label"] = "x"
    with pytest.raises(
        ValueError, match="'label' is not a numeric obs column; numeric columns are"
    ):
        sch.get.correlation(synthetic, rows=["G00", "label"], cols=["G00"])


def test_correlation_does_not_modify_adata(synthetic):
    before = fingerprint(synthetic)
    sch.pl.correlation_heatmap(synthetic, genes=GENES, groupby="dataset", min_nonzero=0)
    sch.get.correlation(synthetic, genes=GENES, groupby="cluster", level="pseudobulk")
    sch.get.correlation(synthetic, cluster_key="cluster")  # default genes: top markers
    assert fingerprint(synthetic) == before


ISGS = ["ISG15", "IFI6", "IFIT3", "MX1", "LY6E", "IFITM3", "ISG20"]


def test_kang_isgs_correlate_in_stimulated_cells(kang):
    res = sch.get.correlation(kang, genes=ISGS, groupby="group_id", min_nonzero=0)
    stim = (kang.obs["group_id"] == "stim").to_numpy()
    values = np.asarray(kang[stim, ISGS].X.toarray(), dtype=np.float64)
    expected = np.corrcoef(values, rowvar=False)
    np.testing.assert_allclose(res.matrices["stim"].loc[ISGS, ISGS], expected, atol=1e-10)
    upper = expected[np.triu_indices(len(ISGS), 1)]
    assert (upper > 0).all()  # every pair of ISGs is positively correlated
    assert np.median(upper) > 0.2
    ctrl = res.matrices["ctrl"].loc[ISGS, ISGS].to_numpy()[np.triu_indices(len(ISGS), 1)]
    assert np.median(upper) > np.median(ctrl)


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(match=lambda a: hasattr(a, "get_text"))]


def test_a_group_named_all_keeps_its_panel_title(synthetic):
    synthetic.obs["batch"] = pd.Categorical(["all"] * synthetic.n_obs)
    res = sch.get.correlation(synthetic, genes=GENES, groupby="batch", min_nonzero=0)
    assert not res.pooled
    grouped = sch.pl.correlation_heatmap(synthetic, genes=GENES, groupby="batch", min_nonzero=0)
    assert "all" in _texts(grouped.figure)
    pooled = sch.pl.correlation_heatmap(synthetic, genes=GENES, min_nonzero=0)
    assert sch.get.correlation(synthetic, genes=GENES, min_nonzero=0).pooled
    assert "all" not in _texts(pooled.figure)
