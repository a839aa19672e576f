"""Issue 12, smaller fixes: pseudobulk min_nonzero, per-panel dropping, statistic labels,
integer categories as marker keys."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from conftest import make_synthetic
from matplotlib.colors import to_rgba
from matplotlib.text import Text

import sc_heatmaps as sch

GENES = ["G00", "G01", "G04", "G05", "G08", "G12"]
KANG_GENES = ["CD3E", "LYZ", "CD14", "MS4A1", "NKG7", "FCGR3A", "CD8A", "ISG15"]


def _dense(adata, genes) -> np.ndarray:
    block = adata[:, genes].X
    block = block.toarray() if hasattr(block, "toarray") else block
    return np.asarray(block, dtype=np.float64)


def _texts(fig) -> list[str]:
    """Every visible text, lines joined (a note may be wrapped to the panel width)."""
    texts = [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]
    return [" ".join(t.split()) for t in texts]


# --- 1. pseudobulk: min_nonzero counts cells -------------------------------------------


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


# --- 2. per group: a variable is dropped in its own panel only ---------------------------


def _sparse_in_d1():
    adata = make_synthetic()
    X = adata.X.toarray()
    d1 = np.flatnonzero(adata.obs["dataset"] == "d1")
    X[d1, 8] = 0.0
    X[d1[:5], 8] = 1.5  # 5 non-zero cells in d1; d2 unchanged
    adata.X = X
    return adata


def test_sparse_in_one_panel_is_dropped_there_only():
    adata = _sparse_in_d1()
    res = sch.get.correlation(adata, genes=GENES, groupby="dataset")
    assert list(zip(res.dropped["group"], res.dropped["variable"], strict=True)) == [("d1", "G08")]
    plot = sch.pl.correlation_heatmap(adata, genes=GENES, groupby="dataset", cluster=False)
    d1, d2 = plot.data.loc["d1"], plot.data.loc["d2"]
    assert list(d1.index) == list(d2.index) == GENES
    assert list(d1.columns) == list(d2.columns) == GENES
    assert d1.loc["G08"].isna().all() and d1["G08"].isna().all()
    X = _dense(adata, GENES)
    ds = adata.obs["dataset"].to_numpy()
    np.testing.assert_allclose(d2.to_numpy(), np.corrcoef(X[ds == "d2"], rowvar=False), atol=1e-6)
    others = [g for g in GENES if g != "G08"]
    idx = [GENES.index(g) for g in others]
    expected = np.corrcoef(X[ds == "d1"][:, idx], rowvar=False)
    np.testing.assert_allclose(d1.loc[others, others].to_numpy(), expected, atol=1e-6)
    # drawn: the dropped row and column are masked and grey, the rest is drawn
    mesh = plot.axes["panels"]["d1"].collections[0]
    drawn = np.ma.masked_invalid(np.ma.asarray(mesh.get_array())).reshape(len(GENES), len(GENES))
    i = GENES.index("G08")
    assert drawn.mask[i, :].all() and drawn.mask[:, i].all()
    assert drawn.mask.sum() == 2 * len(GENES) - 1
    bad = mesh.cmap.get_bad()
    assert bad[3] == 1  # opaque, and not the white of the page (r = 0 is near white)
    assert to_rgba(bad) != to_rgba("white")
    d2_mesh = plot.axes["panels"]["d2"].collections[0]
    assert not np.ma.getmaskarray(np.ma.masked_invalid(d2_mesh.get_array())).any()


def test_the_figure_says_what_each_panel_dropped():
    adata = _sparse_in_d1()
    plot = sch.pl.correlation_heatmap(adata, genes=GENES, groupby="dataset")
    notes = [t for t in plot.figure.findobj(Text) if "dropped" in t.get_text()]
    assert [" ".join(t.get_text().split()) for t in notes] == ["1 gene dropped: sparse"]
    plot.figure.canvas.draw()
    renderer = plot.figure.canvas.get_renderer()
    box = notes[0].get_window_extent(renderer)
    d1 = plot.axes["panels"]["d1"].get_window_extent(renderer)
    d2 = plot.axes["panels"]["d2"].get_window_extent(renderer)
    assert box.y1 < d1.y0  # under the panel
    assert d1.x0 - 1 <= (box.x0 + box.x1) / 2 <= d1.x1 + 1  # and under d1, not d2
    assert box.x1 < d2.x0
    fig_box = plot.figure.bbox
    assert box.x0 >= fig_box.x0 and box.y0 >= fig_box.y0  # not clipped


# --- 3. one wording for the statistic ------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "label"), [("pearson", "Pearson r"), ("spearman", "Spearman ρ")]
)
def test_correlation_colour_bar_names_the_statistic(synthetic, method, label):
    X = synthetic.X.toarray()
    X[:, 12] = 0.0  # constant: dropped, and the figure says so
    synthetic.X = X
    plot = sch.pl.correlation_heatmap(synthetic, genes=GENES, method=method, min_nonzero=0)
    texts = _texts(plot.figure)
    assert label in texts
    assert not any(t.lower() == label.lower() and t != label for t in texts)
    assert "1 gene dropped: constant" in texts
    page = sch.pl.interactive_heatmap(plot)  # the HTML names the statistic the same way
    raw = re.search(r'<script id="sch-data" type="application/json">(.*?)</script>', page, re.S)
    assert json.loads(raw.group(1))["value_name"] == label


# --- 4. dual expression: Spearman is rho -------------------------------------------------


def test_dual_expression_labels_spearman_rho_and_pearson_r(synthetic):
    for method, symbol, other in [("spearman", "ρ", "r"), ("pearson", "r", "ρ")]:
        legend = sch.pl.dual_expression(synthetic, "G00", "G01", color="cluster", method=method)
        split = sch.pl.dual_expression(
            synthetic, "G00", "G01", color="cluster", split_by="dataset", method=method
        )
        for plot in (legend, split):
            texts = " | ".join(_texts(plot.figure))
            assert f"{symbol}=" in texts
            assert f"{other}=" not in texts


# --- 5. integer categories keep their type ----------------------------------------------


def test_marker_keys_keep_the_category_type():
    adata = make_synthetic()
    codes = adata.obs["cluster"].cat.codes.to_numpy()
    adata.obs["num"] = pd.Categorical(codes, categories=[0, 1, 2, 3])
    genes = sch.get.marker_genes(adata, "num", n_genes=2)
    assert list(genes) == [0, 1, 2, 3]
    assert all(type(k) is int for k in genes)
    assert genes[0] == sch.get.marker_genes(adata, "cluster", n_genes=2)["c0"]
    table = sch.tl.top_markers(adata, "num", n_genes=2)
    assert list(table["group"].cat.categories) == [0, 1, 2, 3]
    assert list(table.loc[table["group"] == 1, "gene"]) == genes[1]
    listed = sch.get.marker_genes(adata, "num", n_genes=2, groups=[2, 0])
    assert list(listed) == [0, 2]
    strings = sch.get.marker_genes(adata, "cluster", n_genes=2)
    assert list(strings) == ["c0", "c1", "c2", "c3"] and len(strings["c1"]) == 2
    plot = sch.pl.grouped_heatmap(adata, cluster_key="num", groupby="num", n_genes=2)
    assert plot.data.shape == (8, 4)
