"""Pseudobulk correlations: ``min_nonzero`` counts cells, so few groups keep their
markers, and only constant or rarely expressed variables are dropped."""

from __future__ import annotations

import numpy as np
from conftest import make_synthetic

import sc_heatmaps as sch

GENES = ["G00", "G01", "G04", "G05", "G08", "G12"]
KANG_GENES = ["CD3E", "LYZ", "CD14", "MS4A1", "NKG7", "FCGR3A", "CD8A", "ISG15"]


def _dense(adata, genes) -> np.ndarray:
    block = adata[:, genes].X
    block = block.toarray() if hasattr(block, "toarray") else block
    return np.asarray(block, dtype=np.float64)


def test_pseudobulk_on_kang_keeps_markers_and_equals_numpy(kang):
    res = sch.get.correlation(kang, genes=KANG_GENES, groupby="cluster_id", level="pseudobulk")
    assert res.dropped.empty, res.dropped
    assert list(res.matrix.index) == KANG_GENES
    values = _dense(kang, KANG_GENES)
    labels = kang.obs["cluster_id"].to_numpy()
    groups = list(kang.obs["cluster_id"].cat.categories)
    assert len(groups) == 5  # fewer groups than min_nonzero=10
    means = np.stack([values[labels == g].mean(axis=0) for g in groups])
    expected = np.corrcoef(means, rowvar=False)
    np.testing.assert_allclose(res.matrix.to_numpy(), expected, atol=1e-10)
    assert res.n["all"] == 5
    plot = sch.pl.correlation_heatmap(
        kang, genes=KANG_GENES, groupby="cluster_id", level="pseudobulk"
    )
    assert sorted(plot.data.index) == sorted(KANG_GENES)


def test_pseudobulk_drops_only_constant_or_rarely_expressed_variables():
    adata = make_synthetic()  # 4 clusters of 24 cells
    X = adata.X.toarray()
    clusters = adata.obs["cluster"].to_numpy()
    X[:, 8] = 0.0
    X[np.flatnonzero(clusters == "c1")[:5], 8] = 2.0  # 5 expressing cells: too few
    X[:, 12] = 0.0
    for c in ["c0", "c1", "c2", "c3"]:  # 6 of 24 cells per cluster: equal group means
        X[np.flatnonzero(clusters == c)[:6], 12] = 1.0
    adata.X = X
    res = sch.get.correlation(adata, genes=GENES, groupby="cluster", level="pseudobulk")
    reasons = dict(zip(res.dropped["variable"], res.dropped["reason"], strict=True))
    assert set(reasons) == {"G08", "G12"}
    assert "min_nonzero=10" in reasons["G08"] and "(5)" in reasons["G08"]
    assert "cells" in reasons["G08"]
    assert reasons["G12"] == "constant"
    kept = ["G00", "G01", "G04", "G05"]
    assert list(res.matrix.index) == kept
    means = np.stack(
        [X[clusters == c][:, [0, 1, 4, 5]].mean(axis=0) for c in sorted(set(clusters))]
    )
    np.testing.assert_allclose(res.matrix.to_numpy(), np.corrcoef(means, rowvar=False), atol=1e-6)
