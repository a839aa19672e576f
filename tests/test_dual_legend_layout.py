"""The dual-expression legend of many colour groups: beside or below the panels in
columns, so that the panels keep at least 40% of the figure's height and the figure
fits the 180 x 240 mm page. Read back from the drawn figure."""

from __future__ import annotations

import anndata as ad
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import sc_heatmaps as sch

PAGE_W, PAGE_H = 180 / 25.4, 240 / 25.4
MIN_SHARE = 0.4


def _data(n_groups: int, name: str = "cell type number {}") -> ad.AnnData:
    rng = np.random.default_rng(n_groups)
    n = 3000
    names = [name.format(i) for i in range(n_groups)]
    codes = np.arange(n) % n_groups
    obs = pd.DataFrame(
        {
            "group": pd.Categorical(np.array(names)[codes], categories=names),
            "batch": pd.Categorical(rng.choice(["ctrl", "stim"], n)),
        },
        index=[f"c{i}" for i in range(n)],
    )
    X = rng.poisson(1.0, (n, 3)).astype(np.float32)
    return ad.AnnData(X, obs=obs, var=pd.DataFrame(index=["G0", "G1", "G2"]))


def _check(plot, categories: list[str]) -> None:
    fig = plot.figure
    fig.canvas.draw()
    w, h = fig.get_size_inches()
    assert w <= PAGE_W + 1e-6 and h <= PAGE_H + 1e-6, (w, h)
    panels = list(plot.axes["panels"].values())
    top = max(ax.get_position().y1 for ax in panels)
    bottom = min(ax.get_position().y0 for ax in panels)
    if len(panels) <= 3:  # one row: each panel is the block
        assert all(ax.get_position().height >= MIN_SHARE for ax in panels)
    assert top - bottom >= MIN_SHARE
    legend = plot.axes["legend"]
    texts = legend.get_texts()
    assert [t.get_text().split("  ")[0] for t in texts] == categories
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in texts]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b), "legend entries overlap"
    page = fig.bbox
    for box in [legend.get_window_extent(renderer)]:
        assert box.x0 >= page.x0 - 1 and box.x1 <= page.x1 + 1
        assert box.y0 >= page.y0 - 1 and box.y1 <= page.y1 + 1
        for ax in panels:
            assert not box.overlaps(ax.get_window_extent(renderer)), "legend over a panel"


@pytest.mark.parametrize("n_groups", [8, 40, 60])
@pytest.mark.parametrize("split_by", [None, "batch"])
def test_legend_keeps_the_panels_share_and_the_page(n_groups, split_by):
    adata = _data(n_groups)
    plot = sch.pl.dual_expression(adata, "G0", "G1", color="group", split_by=split_by)
    try:
        _check(plot, list(adata.obs["group"].cat.categories))
    finally:
        plt.close(plot.figure)


def test_forty_groups_use_legend_columns():
    """The case that drew one 40-row column below a 3.0 x 8.5 in figure (panel 0.28 of
    its height)."""
    adata = _data(40)
    plot = sch.pl.dual_expression(adata, "G0", "G1", color="group")
    try:
        plot.figure.canvas.draw()
        assert plot.axes["legend"]._ncols >= 2
        assert plot.figure.get_size_inches()[1] < 5.0
    finally:
        plt.close(plot.figure)


def test_real_clusters_keep_the_panels_share(kang):
    for split_by in (None, "group_id"):
        plot = sch.pl.dual_expression(kang, "ISG15", "IFI6", color="cluster_id", split_by=split_by)
        try:
            _check(plot, [str(c) for c in kang.obs["cluster_id"].cat.categories])
        finally:
            plt.close(plot.figure)
