"""Structure of the drawn grouped heatmap: data, bars, legends, labels, order, colours."""

from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.text as mtext
import numpy as np
import pandas as pd
import pytest
import scipy.stats
from matplotlib.colors import to_hex
from scipy.cluster import hierarchy

import sc_heatmaps as sch


def legend_texts(plot) -> list[str]:
    box = plot.axes["legend"].artists[0]
    seen = dict.fromkeys(id(t) for t in box.findobj(mtext.Text))
    texts = {id(t): t.get_text() for t in box.findobj(mtext.Text)}
    return [texts[i] for i in seen if texts[i]]


def axis_texts(axes: list | None) -> list[str]:
    return [t.get_text() for ax in axes or [] for t in ax.texts]


def bar_colors(axes: list) -> list[str]:
    """Face colours of an annotation bar, cell by cell, in drawn order."""
    out = []
    for ax in axes:
        mesh = ax.collections[0]
        values = np.asarray(mesh.get_array()).ravel()
        out += [to_hex(mesh.cmap(mesh.norm(v))) for v in values]
    return out


GENES = {"c0": ["G00", "G01"], "c1": ["G04", "G05"], "c2": ["G08"]}


def test_data_is_the_zscored_grouped_matrix(synthetic):
    plot = sch.pl.grouped_heatmap(
        synthetic, GENES, ["dataset", "cluster"], cluster_key="cluster", dataset_key="dataset"
    )
    genes = [g for block in GENES.values() for g in block]
    ge = sch.get.grouped_expression(synthetic, genes, ["dataset", "cluster"])
    expected = scipy.stats.zscore(ge.unscaled.to_numpy(), axis=1)
    np.testing.assert_allclose(plot.data.to_numpy(), expected, atol=1e-10)
    assert plot.data.index.names == ["cluster", "gene"]
    assert list(plot.data.index.get_level_values("cluster")) == ["c0", "c0", "c1", "c1", "c2"]


def test_two_labelled_bars_with_complete_legends(synthetic):
    plot = sch.pl.grouped_heatmap(synthetic, GENES, cluster_key="cluster", dataset_key="dataset")
    assert set(plot.axes["col_bars"]) == {"dataset", "cluster"}
    # one body axes per dataset block: gaps between datasets
    assert len(plot.axes["heatmap"]) == 2 * 3  # 2 dataset blocks x 3 gene blocks
    texts = legend_texts(plot)
    for name in ["dataset", "d1", "d2", "cluster", "c0", "c1", "c2", "c3"]:
        assert name in texts
    assert texts.count("cluster") == 1, "the cluster legend must appear once"
    # bar labels are drawn next to the bars
    all_texts = [t.get_text() for t in plot.figure.findobj(mtext.Text)]
    assert "dataset" in all_texts and "cluster" in all_texts


def test_bar_colours_come_from_uns_and_agree_with_rows(synthetic):
    synthetic.uns["cluster_colors"] = ["#111111", "#222222", "#333333", "#444444"]
    plot = sch.pl.grouped_heatmap(synthetic, GENES, cluster_key="cluster", dataset_key="dataset")
    top = bar_colors(plot.axes["col_bars"]["cluster"])
    expected = [
        dict(zip(["c0", "c1", "c2", "c3"], synthetic.uns["cluster_colors"], strict=True))[c]
        for c in plot.data.columns.str.split(" / ").str[1]
    ]
    assert top == expected
    rows = bar_colors(plot.axes["row_bar"])
    assert rows == ["#111111", "#111111", "#222222", "#222222", "#333333"]
    assert synthetic.uns["cluster_colors"] == ["#111111", "#222222", "#333333", "#444444"]


def test_dataset_and_cluster_bars_take_their_keys_colours(example):
    """Issue 12: a category's colour belongs to its obs key (no muted dataset palette)."""
    plot = sch.pl.grouped_heatmap(example, cluster_key="cluster", dataset_key="dataset", n_genes=2)
    datasets = set(bar_colors(plot.axes["col_bars"]["dataset"]))
    clusters = set(bar_colors(plot.axes["col_bars"]["cluster"]))
    assert len(datasets) == 3 and len(clusters) == 8
    assert datasets == set(sch.get.category_colors(example, "dataset").values())
    assert clusters == set(sch.get.category_colors(example, "cluster").values())


@pytest.mark.parametrize(
    ("labels", "rows", "cols"),
    [("all", True, True), ("x", False, True), ("y", True, False), ("none", False, False)],
)
def test_label_options(synthetic, labels, rows, cols):
    plot = sch.pl.grouped_heatmap(synthetic, ["G00", "G04"], "cluster", labels=labels)
    assert (axis_texts(plot.axes["row_labels"]) == ["G00", "G04"]) is rows
    assert (axis_texts(plot.axes["col_labels"]) == ["c0", "c1", "c2", "c3"]) is cols


def test_clustering_follows_scipy_leaves_within_blocks(synthetic):
    genes = {"c0": ["G00", "G01", "G02", "G03", "G10"], "c1": ["G04", "G05", "G06", "G07"]}
    plot = sch.pl.grouped_heatmap(
        synthetic,
        genes,
        "cluster",
        cluster_key="cluster",
        cluster_rows=True,
        cluster_cols=True,
        labels="all",  # "auto" leaves out column labels that the cluster bar already says
    )
    ge = sch.get.grouped_expression(synthetic, [g for v in genes.values() for g in v], "cluster")
    z = pd.DataFrame(
        scipy.stats.zscore(ge.unscaled.to_numpy(), axis=1),
        index=ge.unscaled.index,
        columns=ge.unscaled.columns,
    )
    expected_rows = []
    for block in genes.values():
        sub = z.loc[block].to_numpy()
        expected_rows += [
            block[i] for i in hierarchy.leaves_list(hierarchy.linkage(sub, "average"))
        ]
    assert list(plot.data.index.get_level_values("gene")) == expected_rows
    col_leaves = hierarchy.leaves_list(hierarchy.linkage(z.to_numpy().T, "average"))
    assert list(plot.data.columns) == [z.columns[i] for i in col_leaves]
    assert plot.axes["row_dendrogram"] is not None and plot.axes["col_dendrogram"] is not None
    # the drawn labels follow .data
    assert axis_texts(plot.axes["row_labels"]) == expected_rows
    assert axis_texts(plot.axes["col_labels"]) == list(plot.data.columns)


def test_no_dendrogram_without_clustering(synthetic):
    plot = sch.pl.grouped_heatmap(synthetic, GENES, "cluster")
    assert plot.axes["row_dendrogram"] is None and plot.axes["col_dendrogram"] is None


def test_markers_by_default_and_cluster_subset(example):
    plot = sch.pl.grouped_heatmap(
        example, cluster_key="cluster", dataset_key="dataset", clusters="B,NK", n_genes=3
    )
    blocks = list(dict.fromkeys(plot.data.index.get_level_values("cluster")))
    assert blocks == ["B", "NK"]  # the order of clusters= (issue 12)
    assert {"MS4A1", "CD79A", "CD79B", "CD19"} & set(plot.data.loc["B"].index)
    assert {c.split(" / ")[1] for c in plot.data.columns} == {"NK", "B"}


def test_colour_schemes_and_limits(synthetic):
    plot = sch.pl.grouped_heatmap(
        synthetic, ["G00", "G04"], "cluster", cmap="red_black_green", scale=None, vmin=0, vmax=2
    )
    mesh = plot.axes["heatmap"][0].collections[0]
    assert to_hex(mesh.cmap(0.0)) == "#00c000" and to_hex(mesh.cmap(1.0)) == "#e00000"
    assert max(mesh.cmap(0.5)[:3]) < 0.01  # black in the middle
    assert (mesh.norm.vmin, mesh.norm.vmax) == (0, 2)
    bwr = sch.pl.grouped_heatmap(synthetic, ["G00"], "cluster", cmap="blue_white_red")
    cm = bwr.axes["heatmap"][0].collections[0].cmap
    assert min(cm(0.5)[:3]) > 0.98  # white in the middle
    z = sch.pl.grouped_heatmap(synthetic, ["G00", "G04"], "cluster")
    norm = z.axes["heatmap"][0].collections[0].norm
    assert norm.vmin == pytest.approx(-norm.vmax)
    with pytest.raises(ValueError, match=r"option 'cmap' = 'rainbowz'.*'blue_white_red'"):
        sch.pl.grouped_heatmap(synthetic, ["G00"], "cluster", cmap="rainbowz")


def test_body_is_rasterised_and_figsize_is_honoured(synthetic):
    plot = sch.pl.grouped_heatmap(synthetic, GENES, "cluster", figsize=(7, 5), title="T")
    assert all(ax.collections[0].get_rasterized() for ax in plot.axes["heatmap"])
    np.testing.assert_allclose(plot.figure.get_size_inches(), (7, 5), atol=0.02)
    with pytest.raises(ValueError, match=r"figsize=.*too small"):
        sch.pl.grouped_heatmap(synthetic, GENES, "cluster", figsize=(1, 1))


def test_bad_options_name_valid_choices(synthetic):
    with pytest.raises(ValueError, match=r"option 'labels' = 'both'.*'all', 'x', 'y', 'none'"):
        sch.pl.grouped_heatmap(synthetic, ["G00"], "cluster", labels="both")
    with pytest.raises(ValueError, match=r"option 'scale' = 'log'.*'zscore', 'minmax'"):
        sch.pl.grouped_heatmap(synthetic, ["G00"], "cluster", scale="log")
    with pytest.raises(ValueError, match="cluster_key"):
        sch.pl.grouped_heatmap(synthetic, None, "cluster")
    with pytest.raises(ValueError, match="groupby"):
        sch.pl.grouped_heatmap(synthetic, ["G00"])


def test_kang_heatmap_rna_and_integrated(kang):
    sch.pp.integrate(kang, "group_id")
    for source in ("RNA", "integrated"):
        plot = sch.pl.grouped_heatmap(
            kang, cluster_key="cluster_id", dataset_key="group_id", source=source, n_genes=5
        )
        assert plot.data.shape[1] == 10  # 2 conditions x 5 cell types
        assert list(dict.fromkeys(plot.data.index.get_level_values(0))) == list(
            kang.obs["cluster_id"].cat.categories
        )


def text_problems(fig):
    """Pairs of overlapping texts, and texts that stick out of the figure."""
    import itertools

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    width, height = fig.get_size_inches() * fig.dpi
    texts = [
        t
        for t in dict.fromkeys(fig.findobj(mtext.Text))
        if t.get_visible() and t.get_text().strip()
    ]
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
    overlapping = []
    for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
        inter = box_a.intersection(box_a, box_b)
        if inter is not None and inter.width > 1 and inter.height > 1:
            overlapping.append((a, b))
    outside = [
        n for n, b in boxes if b.x0 < -1 or b.y0 < -1 or b.x1 > width + 1 or b.y1 > height + 1
    ]
    return overlapping, outside


def test_text_problem_detector_detects():
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(2, 2))
    fig.text(0.1, 0.5, "overlapping label")
    fig.text(0.15, 0.5, "another label")
    fig.text(0.9, 0.5, "sticks out on the right")
    overlapping, outside = text_problems(fig)
    assert overlapping and outside == ["sticks out on the right"]


LAYOUTS = {
    "markers dataset x cluster": dict(cluster_key="cluster", dataset_key="dataset", n_genes=3),
    "x labels only, title": dict(
        cluster_key="cluster", dataset_key="dataset", n_genes=3, labels="x", title="Markers"
    ),
    "long title, fixed figsize": dict(
        var_names=["ISG15", "IFI6", "CD3E"],
        groupby="dataset",
        dataset_key="dataset",
        labels="x",
        figsize=(5, 4),
        title="A rather long title that is wider than the narrow heatmap body",
    ),
    "one gene, no labels": dict(var_names=["ISG15"], groupby="cluster", labels="none"),
    "clustered subset": dict(
        cluster_key="cluster",
        dataset_key="dataset",
        n_genes=2,
        cluster_rows=True,
        cluster_cols=True,
        clusters="B,NK",
    ),
    "blocks, y labels": dict(
        var_names={"B": ["MS4A1"], "NK": ["NKG7"]},
        groupby=["dataset", "cluster"],
        cluster_key="cluster",
        labels="y",
    ),
}


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_no_text_overlaps_or_clipping(example, name):
    plot = sch.pl.grouped_heatmap(example, **LAYOUTS[name])
    overlapping, outside = text_problems(plot.figure)
    assert overlapping == [] and outside == []


@pytest.mark.parametrize("kind", ["grouped", "cells"])
def test_two_bars_take_their_keys_colours_without_dataset_key(kind):
    """Issue 12: without dataset_key too, each bar takes the registry colours of its key
    (the outer bar no longer switches to a muted dataset palette)."""
    from conftest import make_synthetic

    a = make_synthetic()
    draw = sch.pl.grouped_heatmap if kind == "grouped" else sch.pl.cell_heatmap
    plot = draw(a, ["G00", "G04"], ["dataset", "cluster"])
    palettes = plot.spec.col_palettes
    assert palettes["dataset"] == sch.get.category_colors(a, "dataset")
    assert palettes["cluster"] == sch.get.category_colors(a, "cluster")
    plt.close("all")


@pytest.mark.parametrize("scale", ["zscore", "minmax"])
def test_every_heatmap_names_the_scaling_the_same_way(scale):
    from conftest import make_synthetic

    a = make_synthetic()
    words = {"zscore": "(z-score)", "minmax": "(min-max)"}[scale]
    plots = [
        sch.pl.grouped_heatmap(a, ["G00", "G04"], "cluster", scale=scale),
        sch.pl.cell_heatmap(a, ["G00", "G04"], "cluster", scale=scale),
        sch.pl.matrix_heatmap(
            pd.DataFrame([[1.0, 2.0, 4.0], [3.0, 5.0, 4.0]], index=["r1", "r2"], columns=[*"abc"]),
            scale=scale,
            value_name="value",
        ),
    ]
    assert [p.spec.cbar_label.splitlines()[-1] for p in plots] == [words] * 3
    plt.close("all")
