"""The correlation figure (issue 12): one board, panel titles that never overlap, gaps
between panels, print size, figsize, the user's cluster order, declared plot fields.

Tests read the drawn figure (text extents, axes positions, font sizes); expected
values come from numpy or from the data, never from our own output.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pandas as pd
import pytest
from conftest import make_synthetic
from matplotlib.text import Text

import sc_heatmaps as sch
from sc_heatmaps.pl import _heatmap_board

GENES = ["G00", "G01", "G04", "G05"]
KANG_GENES = ["CD3E", "LYZ", "CD14", "MS4A1", "NKG7", "CD74", "FCGR3A", "HLA-DRA"]
PAGE_W, PAGE_H = 180 / 25.4, 240 / 25.4  # inches
LONG = "a cluster with a rather long and descriptive annotation name"


def _visible_texts(fig) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def _extents(fig) -> list[tuple[str, object]]:
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    return [(t.get_text(), t.get_window_extent(renderer)) for t in _visible_texts(fig)]


def _long_groups(n: int = 10):
    """The synthetic data with ``n`` groups whose names are 60+ characters long."""
    adata = make_synthetic(n_per_group=12)
    rng = np.random.default_rng(1)
    names = [f"{i}: {LONG}" for i in range(n)]
    adata.obs["long"] = pd.Categorical(rng.choice(names, adata.n_obs), categories=names)
    return adata, names


def _titles(plot) -> list[tuple[str, object]]:
    """Texts above the panels (the panel titles), with their extents."""
    fig = plot.figure
    texts = _extents(fig)
    renderer = fig.canvas.get_renderer()
    top = max(ax.get_window_extent(renderer).y1 for ax in plot.axes["panels"].values())
    return [(s, box) for s, box in texts if box.y0 > top]


def test_panel_titles_never_overlap_with_many_long_group_names():
    adata, names = _long_groups(10)
    plot = sch.pl.correlation_heatmap(adata, genes=GENES, groupby="long", min_nonzero=0)
    assert list(plot.axes["panels"]) == names
    titles = _titles(plot)
    assert len(titles) == len(names)  # one title per panel, none left out
    for (a, box_a), (b, box_b) in itertools.combinations(titles, 2):
        assert not box_a.overlaps(box_b), (a, b)
    # each title sits over its own panel: its centre lies within the panel's columns
    renderer = plot.figure.canvas.get_renderer()
    panels = [ax.get_window_extent(renderer) for ax in plot.axes["panels"].values()]
    centres = sorted((box.x0 + box.x1) / 2 for _, box in titles)
    for centre, panel in zip(centres, panels, strict=True):
        assert panel.x0 <= centre <= panel.x1
    # shortened titles still begin as the group name does, and keep what tells them apart
    for (text, _), name in zip(sorted(titles, key=lambda t: t[1].x0), names, strict=True):
        flat = " ".join(text.split())
        assert flat.startswith(name.split()[0])


def test_no_visible_texts_overlap_or_leave_the_figure():
    adata, _ = _long_groups(8)
    plot = sch.pl.correlation_heatmap(
        adata, genes=GENES, groupby="long", min_nonzero=0, title="Correlation per group"
    )
    texts = _extents(plot.figure)
    fig_box = plot.figure.bbox
    for text, box in texts:
        assert box.x0 >= fig_box.x0 - 1 and box.x1 <= fig_box.x1 + 1, text
        assert box.y0 >= fig_box.y0 - 1 and box.y1 <= fig_box.y1 + 1, text
    for (a, box_a), (b, box_b) in itertools.combinations(texts, 2):
        assert not box_a.overlaps(box_b), (a, b)


def test_panels_are_separated_by_a_gap():
    adata, _ = _long_groups(8)
    plot = sch.pl.correlation_heatmap(adata, genes=GENES, groupby="long", min_nonzero=0)
    fig = plot.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [ax.get_window_extent(renderer) for ax in plot.axes["panels"].values()]
    for left, right in itertools.pairwise(boxes):
        gap_pt = (right.x0 - left.x1) / fig.dpi * 72
        assert gap_pt >= 3, gap_pt  # a visible gap, not touching panels
        assert left.y0 == pytest.approx(right.y0) and left.y1 == pytest.approx(right.y1)


def _kang_genes(kang) -> list[str]:
    return [g for g in KANG_GENES if g in kang.var_names]


def test_default_figure_is_print_sized_on_kang(kang):
    genes = _kang_genes(kang)
    assert len(genes) >= 7
    plot = sch.pl.correlation_heatmap(
        kang, genes=genes, groupby="cluster_id", title="Gene correlation per cluster"
    )
    w, h = plot.figure.get_size_inches()
    assert w <= PAGE_W + 1e-6 and h <= PAGE_H + 1e-6, (w, h)
    sizes = [t.get_fontsize() for t in _visible_texts(plot.figure)]
    assert min(sizes) >= 6, min(sizes)
    # one colour scale, one colour bar, worded like the method
    assert sum(t.get_text() == "Pearson r" for t in _visible_texts(plot.figure)) == 1
    # each panel's note counts the genes that panel dropped (numpy on the same cells)
    texts = [" ".join(t.get_text().split()) for t in _visible_texts(plot.figure)]
    X = kang[:, genes].X
    X = np.asarray(X.toarray() if hasattr(X, "toarray") else X)
    labels = kang.obs["cluster_id"].to_numpy()
    for group in kang.obs["cluster_id"].cat.categories:
        cells = X[labels == group]
        dropped = ((cells != 0).sum(axis=0) < 10) | (np.ptp(cells, axis=0) == 0)
        n_dropped = int(dropped.sum())
        if n_dropped:
            noun = "gene" if n_dropped == 1 else "genes"
            assert any(t.startswith(f"{n_dropped} {noun} dropped") for t in texts), group


def test_figsize_sets_the_figure_size(synthetic):
    plot = sch.pl.correlation_heatmap(
        synthetic, genes=GENES, groupby="dataset", min_nonzero=0, figsize=(6.0, 4.0)
    )
    np.testing.assert_allclose(plot.figure.get_size_inches(), (6.0, 4.0), atol=0.05)
    assert plot.params["figsize"] == [6.0, 4.0]  # JSON-ready, as the sidecar writes it


@pytest.mark.parametrize("cluster_key", ["cluster_id", None])
def test_the_users_cluster_order_is_the_panel_order(kang, cluster_key):
    wanted = ["FCGR3A+ Monocytes", "B cells", "CD4 T cells"]
    categories = list(kang.obs["cluster_id"].cat.categories)
    assert [c for c in categories if c in wanted] != wanted  # not the category order
    kws = dict(groupby="cluster_id", clusters=wanted, cluster_key=cluster_key)
    res = sch.get.correlation(kang, genes=["CD74", "LYZ", "NKG7"], min_nonzero=0, **kws)
    assert list(res.matrices) == wanted
    for group in wanted:
        cells = (kang.obs["cluster_id"] == group).to_numpy()
        X = np.asarray(kang[cells, ["CD74", "LYZ", "NKG7"]].X.toarray(), dtype=np.float64)
        np.testing.assert_allclose(
            res.matrices[group].loc[["CD74", "LYZ", "NKG7"], ["CD74", "LYZ", "NKG7"]],
            np.corrcoef(X, rowvar=False),
            atol=1e-10,
        )
    plot = sch.pl.correlation_heatmap(kang, genes=["CD74", "LYZ", "NKG7"], min_nonzero=0, **kws)
    assert list(plot.axes["panels"]) == wanted
    renderer = (plot.figure.canvas.draw(), plot.figure.canvas.get_renderer())[1]
    x0 = [ax.get_window_extent(renderer).x0 for ax in plot.axes["panels"].values()]
    assert x0 == sorted(x0)  # drawn left to right in that order


def test_correlation_is_drawn_by_the_one_board(synthetic, monkeypatch):
    calls = []
    plot_method = _heatmap_board.HeatmapBoard.plot

    def counting(self):
        calls.append(self.spec)
        return plot_method(self)

    monkeypatch.setattr(_heatmap_board.HeatmapBoard, "plot", counting)
    plot = sch.pl.correlation_heatmap(synthetic, genes=GENES, groupby="dataset", min_nonzero=0)
    assert len(calls) == 1
    assert len(plot.axes["panels"]) == 2


def test_plot_fields_are_declared(synthetic):
    names = {f.name for f in dataclasses.fields(sch.pl.CorrelationPlot)}
    assert {"figure", "axes", "data", "params", "result"} <= names
    plot = sch.pl.correlation_heatmap(synthetic, genes=GENES, min_nonzero=0)
    assert isinstance(plot.result, sch.get.CorrelationResult)
    assert plot.result.pooled
