"""The dot plot: sizes and colours read back from the drawn dots equal scanpy's dot plot;
layouts, legends, size map, options, figure rules, sidecars, speed."""

from __future__ import annotations

import json

import figure_checks as fc
import numpy as np
import pandas as pd
import pytest
import scanpy as sc
from conftest import fingerprint, make_synthetic
from matplotlib.collections import PathCollection

import sc_heatmaps as sch

GENES = ["CD3E", "IL7R", "MS4A1", "CD79A", "LYZ", "S100A8", "NKG7", "GNLY", "PPBP", "FCER1A"]


def drawn_dots(plot) -> dict[str, pd.DataFrame]:
    """``{layer: frame}`` of the dots as drawn: one row per dot with its row and column
    in ``plot.data`` (from the block Axes it lies in and its offset there), its area
    (points²), the fraction that area stands for, and the colour value it maps."""
    s = plot.spec
    col_blocks = _block_sizes([str(v) for v in s.col_meta[s.col_split]] if s.col_split else None)
    col_blocks = col_blocks or [s.data.shape[1]]
    row_blocks = _block_sizes(s.row_blocks) or [s.data.shape[0]]
    axes = plot.axes["heatmap"]
    xs = sorted({round(ax.get_position().x0, 5) for ax in axes})
    ys = sorted({round(ax.get_position().y0, 5) for ax in axes}, reverse=True)
    rows: dict[str, list] = {}
    for ax in axes:
        cb = xs.index(round(ax.get_position().x0, 5))
        rb = ys.index(round(ax.get_position().y0, 5))
        for coll in ax.collections:
            if not isinstance(coll, PathCollection):
                continue
            gid = coll.get_gid() or ""
            assert gid.startswith("dots:"), gid
            offsets = np.asarray(coll.get_offsets())
            sizes = np.broadcast_to(coll.get_sizes(), (len(offsets),))
            for (x, y), area, value in zip(offsets, sizes, coll.get_array(), strict=True):
                i = sum(row_blocks[:rb]) + int(y)
                j = sum(col_blocks[:cb]) + int(x)
                rows.setdefault(gid[5:], []).append((i, j, float(area), float(value)))
    out = {}
    for name, found in rows.items():
        frame = pd.DataFrame(found, columns=["row", "col", "area", "value"])
        frame["fraction"] = plot.size_map.fraction(frame["area"])
        out[name] = frame
    return out


def _block_sizes(labels) -> list[int] | None:
    if labels is None:
        return None
    order = list(dict.fromkeys(labels))
    return [labels.count(b) for b in order]


def as_matrix(frame: pd.DataFrame, column: str, shape) -> np.ndarray:
    out = np.full(shape, np.nan)
    out[frame["row"], frame["col"]] = frame[column]
    return out


def scanpy_dots(adata, genes, groupby, **kws):
    """scanpy's fractions and colours, genes x groups (groups named as scanpy names them)."""
    dp = sc.pl.dotplot(adata, genes, groupby, return_fig=True, **kws)
    return dp.dot_size_df.T, dp.dot_color_df.T


def _scanpy_name(meta_row) -> str:
    return "_".join(str(v) for v in meta_row)


@pytest.mark.parametrize(
    "kws",
    [
        {},
        {"expression_cutoff": 1.0},
        {"expression_cutoff": 0.5, "mean_only_expressed": True},
    ],
    ids=["default", "cutoff", "only_expressed"],
)
def test_drawn_dots_equal_scanpy_dotplot_on_example(example, kws):
    before = fingerprint(example)
    plot = sch.pl.dotplot(
        example, GENES, cluster_key="cluster", dataset_key="dataset", scale=None, **kws
    )
    assert fingerprint(example) == before
    size, colour = scanpy_dots(example, GENES, ["dataset", "cluster"], **kws)
    dots = drawn_dots(plot)[""]
    shape = plot.data.shape
    genes = list(plot.data.index.get_level_values(-1))
    groups = [_scanpy_name(r) for r in plot.spec.col_meta.itertuples(index=False)]
    want_size = size.loc[genes, groups].to_numpy(dtype=float)
    want_colour = colour.loc[genes, groups].to_numpy(dtype=float)
    np.testing.assert_allclose(as_matrix(dots, "fraction", shape), want_size, atol=1e-6)
    np.testing.assert_allclose(as_matrix(dots, "value", shape), want_colour, rtol=1e-5, atol=1e-6)
    assert len(dots) == np.prod(shape)  # one dot per (gene, group), none twice


def test_drawn_dots_equal_scanpy_dotplot_on_kang(kang):
    genes = ["CD3E", "MS4A1", "CD14", "FCGR3A", "NKG7", "ISG15", "IFI6", "LYZ"]
    plot = sch.pl.dotplot(
        kang, genes, cluster_key="cluster_id", dataset_key="group_id", layout="paired"
    )
    size, colour = scanpy_dots(kang, genes, ["cluster_id", "group_id"])
    dots = drawn_dots(plot)[""]
    drawn = plot.data.index.get_level_values(-1)
    groups = [_scanpy_name(r) for r in plot.spec.col_meta.itertuples(index=False)]
    np.testing.assert_allclose(
        as_matrix(dots, "fraction", plot.data.shape),
        size.loc[drawn, groups].to_numpy(dtype=float),
        atol=1e-6,
    )
    np.testing.assert_allclose(
        as_matrix(dots, "value", plot.data.shape),
        colour.loc[drawn, groups].to_numpy(dtype=float),
        rtol=1e-5,
        atol=1e-6,
    )


def test_dots_are_one_collection_per_block_and_colour_through_the_scale(example):
    plot = sch.pl.dotplot(example, cluster_key="cluster", dataset_key="dataset", n_genes=2)
    plot.figure.canvas.draw()
    for ax in plot.axes["heatmap"]:
        colls = [c for c in ax.collections if isinstance(c, PathCollection)]
        assert len(colls) == 1
        coll = colls[0]
        want = coll.cmap(coll.norm(coll.get_array()))
        np.testing.assert_allclose(coll.get_facecolors(), want, atol=1e-6)
    norms = {(c.norm.vmin, c.norm.vmax) for ax in plot.axes["heatmap"] for c in ax.collections}
    assert len(norms) == 1  # one colour scale for every dataset and cluster


def test_size_legend_dots_have_the_area_of_a_dot_of_that_fraction(example):
    plot = sch.pl.dotplot(example, cluster_key="cluster", dataset_key="dataset", n_genes=2)
    plot.figure.canvas.draw()
    found = {}
    for artist in plot.figure.findobj(lambda a: (a.get_gid() or "").startswith("size_legend:")):
        fraction = float(artist.get_gid().split(":")[1])
        diameter_pt = 2 * artist.get_radius()  # a DrawingArea's units are points
        found[fraction] = diameter_pt**2
    assert 3 <= len(found) <= 4
    for fraction, area in found.items():
        assert area == pytest.approx(float(plot.size_map.area(fraction)), rel=1e-9)
    texts = {t.get_text() for t in fc.visible_texts(plot.figure)}
    assert {f"{100 * f:g}%" for f in found} <= texts
    # a scatter's s is the square of the marker's diameter in points: the same unit
    for frac in (0.2, 0.5):
        assert plot.size_map.fraction(plot.size_map.area(frac)) == pytest.approx(frac)


def test_size_map_means_the_same_at_any_figure_size(example):
    kws = dict(cluster_key="cluster", dataset_key="dataset", n_genes=2, largest_dot=80.0)
    small = sch.pl.dotplot(example, **kws)
    large = sch.pl.dotplot(example, **kws, figsize=(12, 10))
    a, b = drawn_dots(small)[""], drawn_dots(large)[""]
    np.testing.assert_allclose(np.sort(a["area"]), np.sort(b["area"]))
    assert small.params["size_map"] == large.params["size_map"]


def test_dot_min_dot_max_smallest_dot_clip_like_scanpy(synthetic):
    plot = sch.pl.dotplot(
        synthetic,
        ["G00", "G05", "G20"],
        cluster_key="cluster",
        dataset_key="dataset",
        dot_min=0.2,
        dot_max=0.6,
        smallest_dot=4.0,
        largest_dot=50.0,
        size_exponent=1.5,
    )
    dots = drawn_dots(plot)[""]
    frac = plot.bundle.fraction.to_numpy()
    t = (np.clip(frac, 0.2, 0.6) - 0.2) / 0.4
    want = 4.0 + 46.0 * t**1.5  # scanpy's DotPlot.style formula
    np.testing.assert_allclose(as_matrix(dots, "area", frac.shape), want)


def test_split_layout_draws_left_and_right_halves_per_dataset(synthetic):
    plot = sch.pl.dotplot(
        synthetic, ["G00", "G04"], cluster_key="cluster", dataset_key="dataset", layout="split"
    )
    dots = drawn_dots(plot)
    assert set(dots) == {"d1", "d2"}
    assert list(plot.data.columns) == ["c0", "c1", "c2", "c3"]
    for name in ("d1", "d2"):
        cells = synthetic[synthetic.obs["dataset"] == name]
        ge = sch.get.grouped_expression(cells, ["G00", "G04"], "cluster")
        got = as_matrix(dots[name], "fraction", plot.data.shape)
        np.testing.assert_allclose(got, ge.fraction.loc[["G00", "G04"]].to_numpy(), atol=1e-9)
    colls = [c for ax in plot.axes["heatmap"] for c in ax.collections]
    assert len(colls) == 2
    texts = {t.get_text() for t in fc.visible_texts(plot.figure)}
    assert {"d1", "d2", "half dots"} <= texts


def test_split_refuses_more_than_two_datasets_naming_paired(example):
    with pytest.raises(ValueError, match="paired"):
        sch.pl.dotplot(example, GENES, cluster_key="cluster", dataset_key="dataset", layout="split")


def test_paired_layout_puts_datasets_of_a_cluster_under_its_label(example):
    plot = sch.pl.dotplot(
        example, GENES, cluster_key="cluster", dataset_key="dataset", layout="paired"
    )
    meta = plot.spec.col_meta
    assert list(meta.columns) == ["cluster", "dataset"]
    assert plot.spec.col_split == "cluster"
    assert len(plot.axes["heatmap"]) == meta["cluster"].nunique() * 1
    texts = {t.get_text() for t in fc.visible_texts(plot.figure)}
    assert set(meta["cluster"].astype(str)) <= {t.replace("\n", " ") for t in texts}


def test_logfc_against_reference_within_each_cluster(synthetic):
    genes = ["G00", "G04", "G08"]
    plot = sch.pl.dotplot(
        synthetic,
        genes,
        cluster_key="cluster",
        dataset_key="dataset",
        color="logfc",
        reference="d1",
    )
    dots = drawn_dots(plot)[""]
    got = as_matrix(dots, "value", plot.data.shape)
    X = synthetic[:, genes].X.toarray()
    obs = synthetic.obs
    for j, (d, c) in enumerate(plot.spec.col_meta.itertuples(index=False)):
        a = X[((obs.dataset == d) & (obs.cluster == c)).to_numpy()].mean(0)
        b = X[((obs.dataset == "d1") & (obs.cluster == c)).to_numpy()].mean(0)
        want = np.log2(np.expm1(a) + 1) - np.log2(np.expm1(b) + 1)
        np.testing.assert_allclose(got[:, j], want, atol=1e-6)
    vmin, vmax, vcenter = plot.bundle.limits
    assert vcenter == 0 and vmin == -vmax


def test_logfc_on_raw_counts_is_refused_naming_the_source_and_log_layers(kang_raw):
    # Kang's X holds raw counts: a "log2 fold change" from count means would be
    # (mean_a - mean_b) / ln 2, a wrong number on the colour bar
    before = fingerprint(kang_raw)
    refused = r"source='RNA' \(adata\.X\) looks like raw counts.*'logcounts'"
    with pytest.raises(ValueError, match=refused):
        sch.pl.dotplot(
            kang_raw,
            ["ISG15", "IFI6"],
            cluster_key="cluster_id",
            dataset_key="group_id",
            color="logfc",
            reference="ctrl",
        )
    assert fingerprint(kang_raw) == before


def test_logfc_on_kangs_log_layer_equals_numpy_per_cluster(kang_raw):
    genes = ["ISG15", "IFI6", "IFIT3", "MX1"]
    plot = sch.pl.dotplot(
        kang_raw,
        genes,
        cluster_key="cluster_id",
        dataset_key="group_id",
        color="logfc",
        reference="ctrl",
        source="logcounts",
        layout="paired",
    )
    got = as_matrix(drawn_dots(plot)[""], "value", plot.data.shape)
    X = kang_raw[:, genes].layers["logcounts"].toarray().astype(np.float64)
    obs = kang_raw.obs
    meta = plot.spec.col_meta
    for j, (c, d) in enumerate(meta[["cluster_id", "group_id"]].itertuples(index=False)):
        a = X[((obs.group_id == d) & (obs.cluster_id == c)).to_numpy()].mean(0)
        b = X[((obs.group_id == "ctrl") & (obs.cluster_id == c)).to_numpy()].mean(0)
        np.testing.assert_allclose(got[:, j], (a - b) / np.log(2), atol=1e-6)
    # the interferon genes go up in every stimulated cell type (Kang et al. 2018)
    stim = (meta["group_id"] == "stim").to_numpy()
    assert (got[:, stim] > 0.5).all()


@pytest.mark.parametrize(
    ("kws", "match"),
    [
        ({"color": "logfc"}, "reference"),
        ({"color": "logfc", "reference": "d1", "scale": "zscore"}, "scale"),
        ({"reference": "d1"}, "logfc"),
        ({"dot_min": 0.5, "dot_max": 0.4}, "dot_min"),
        ({"dot_max": 1.5}, "dot_max"),
        ({"smallest_dot": -1.0}, "smallest_dot"),
        ({"layout": "diagonal"}, "layout"),
        ({"color": "logfc", "reference": "d9"}, "d9"),
    ],
)
def test_bad_options_name_the_option(synthetic, kws, match):
    with pytest.raises((ValueError, KeyError), match=match):
        sch.pl.dotplot(synthetic, ["G00"], cluster_key="cluster", dataset_key="dataset", **kws)


def test_empty_group_is_hatched_and_small_group_noted():
    adata = make_synthetic(seed=3)
    drop = (adata.obs["dataset"] == "d2") & (adata.obs["cluster"] == "c1")
    few = np.flatnonzero((adata.obs["dataset"] == "d1") & (adata.obs["cluster"] == "c2"))
    keep = ~drop.to_numpy()
    keep[few[4:]] = False
    adata = adata[keep].copy()
    plot = sch.pl.dotplot(
        adata, ["G00", "G04"], cluster_key="cluster", dataset_key="dataset", min_cells=5
    )
    hatched = [p for ax in plot.axes["heatmap"] for p in ax.patches if p.get_gid() == "no_cells"]
    assert len(hatched) == 1
    texts = " ".join(t.get_text() for t in fc.visible_texts(plot.figure))
    assert "no cells" in texts
    assert "Fewer than 5 cells" in texts and "(4)" in texts
    assert plot.params["small_groups"] == {"d1 / c2": 4}


def test_split_hatches_the_half_of_a_cluster_without_cells_of_its_dataset():
    """An empty (cluster, dataset) is the hatched half of its cluster's column, on its
    dataset's side (d2: the right), in every row block, with a "no cells" legend entry."""
    adata = make_synthetic(seed=4)
    drop = ((adata.obs["dataset"] == "d2") & (adata.obs["cluster"] == "c1")).to_numpy()
    adata = adata[~drop].copy()
    genes = {"a": ["G00", "G04"], "b": ["G08"]}
    plot = sch.pl.dotplot(
        adata, genes, cluster_key="cluster", dataset_key="dataset", layout="split"
    )
    position = list(plot.data.columns).index("c1")
    for ax in plot.axes["heatmap"]:
        hatched = [p for p in ax.patches if p.get_gid() == "no_cells"]
        assert [(p.get_x(), p.get_width(), p.get_hatch()) for p in hatched] == [
            (position + 0.5, 0.5, "////")
        ]
        assert hatched[0].get_height() == max(ax.get_ylim())  # the block's rows, all
    d2 = [c for ax in plot.axes["heatmap"] for c in ax.collections if c.get_gid() == "dots:d2"]
    assert all(position + 0.5 not in c.get_offsets()[:, 0] for c in d2)  # no half dot
    texts = {t.get_text() for t in fc.visible_texts(plot.figure)}
    assert "no cells" in texts


def test_figure_rules_at_100_genes(example):
    genes = list(example.var_names[:100])
    plot = sch.pl.dotplot(example, genes, cluster_key="cluster", dataset_key="dataset")
    fig = plot.figure
    w, h = fig.get_size_inches()
    assert w <= fc.PRINT_W + 0.01 and h <= fc.PRINT_H + 0.01
    assert fc.smallest_print_font(fig) >= 6.0
    assert not fc.overlapping_texts(fig)
    assert not fc.clipped_texts(fig)
    groups = fc.legend_groups(fig)
    for key in ("dataset", "cluster"):
        cats = plot.spec.col_meta[key].astype(str)
        colours = fc.bar_category_colors(plot.axes["col_bars"][key], cats)
        for c in cats.unique():
            assert groups[key][c] in colours[c]


def test_sidecars_hold_fractions_and_colours(example, tmp_path):
    plot = sch.pl.dotplot(example, GENES[:4], cluster_key="cluster", dataset_key="dataset")
    paths = plot.savefig(tmp_path / "dots.png", dpi=72)
    table = pd.read_csv(paths[1], sep="\t", index_col=[0, 1])
    assert set(table.index.get_level_values(0)) == {"color", "fraction"}
    np.testing.assert_allclose(
        table.loc["fraction"].to_numpy(), plot.bundle.fraction.to_numpy(), rtol=1e-5
    )
    params = json.loads(paths[2].read_text())
    assert params["function"] == "sc_heatmaps.pl.dotplot"
    assert params["size_map"]["largest_dot"] > 0


@pytest.mark.parametrize("layout", ["csr", "dense", "csc"])
@pytest.mark.parametrize("cutoff", [-0.5, 0.0, 0.7])
def test_grouped_expression_cutoff_counts_and_means_as_numpy(layout, cutoff):
    adata = make_synthetic(seed=5, sparse_x=layout != "dense")
    if layout == "csc":
        adata.X = adata.X.tocsc()
    genes = ["G00", "G05", "G13"]
    X = np.asarray(adata[:, genes].X.todense() if layout != "dense" else adata[:, genes].X)
    for only in (False, True):
        ge = sch.get.grouped_expression(
            adata, genes, "cluster", expression_cutoff=cutoff, mean_only_expressed=only
        )
        for c in ge.fraction.columns:
            rows = X[(adata.obs["cluster"] == c).to_numpy()]
            above = rows > cutoff
            np.testing.assert_allclose(ge.fraction[c], above.mean(0))
            want = (
                np.nan_to_num(np.where(above, rows, 0.0).sum(0) / above.sum(0))
                if only
                else rows.mean(0)
            )
            np.testing.assert_allclose(ge.unscaled[c], want, rtol=1e-6)


def test_interactive_page_of_a_dot_plot_carries_fraction_mean_and_cells(example):
    from test_interactive import _embedded

    plot = sch.pl.dotplot(
        example, GENES[:4], cluster_key="cluster", dataset_key="dataset", scale="zscore"
    )
    data = _embedded(sch.pl.interactive_heatmap(plot))
    np.testing.assert_allclose(
        np.array(data["dots"]["mean"], dtype=float), plot.bundle.unscaled.to_numpy(), rtol=1e-9
    )
    np.testing.assert_allclose(
        np.array(data["fraction"], dtype=float), plot.bundle.fraction.to_numpy(), rtol=1e-9
    )
    assert data["n_cells"] == [int(n) for n in plot.bundle.n_cells]


def test_interactive_view_of_split_dots_is_refused_naming_paired(synthetic):
    plot = sch.pl.dotplot(
        synthetic, ["G00"], cluster_key="cluster", dataset_key="dataset", layout="split"
    )
    with pytest.raises(ValueError, match="paired"):
        sch.pl.interactive_heatmap(plot)
