"""Correlations per group: a variable is dropped in its own panel only, and the figure
says what each panel dropped, under that panel."""

from __future__ import annotations

import numpy as np
from conftest import make_synthetic
from matplotlib.colors import to_rgba
from matplotlib.text import Text

import sc_heatmaps as sch

GENES = ["G00", "G01", "G04", "G05", "G08", "G12"]


def _dense(adata, genes) -> np.ndarray:
    block = adata[:, genes].X
    block = block.toarray() if hasattr(block, "toarray") else block
    return np.asarray(block, dtype=np.float64)


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
