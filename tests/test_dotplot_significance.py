"""Significance marks on the dot plot: a ring around each dot whose difference from the
reference has pval_adj < alpha, read back from the drawn artists and compared with a
pandas filter of the table; the dots themselves are drawn exactly as without marks.

Tables come from sch.tl.dataset_differences: cell-level on the bundled example, and
pseudobulk DESeq2 (donor as a covariate) on Kang.
"""

from __future__ import annotations

import json
import os
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import fingerprint
from matplotlib.collections import PathCollection
from test_significance_marks import _Inputs, drawn_marks, expected_cells, legend_text

import sc_heatmaps as sch

GENES = ["ISG15", "IFI6", "MX1", "CD3E", "MS4A1", "LYZ", "NKG7", "GNLY"]
KEYS = {"cluster_key": "cluster", "dataset_key": "dataset"}
KANG_GENES = ["ISG15", "IFI6", "IFIT3", "MX1", "ISG20", "CD74", "LYZ", "MS4A1", "NKG7", "GNLY"]
KANG_CLUSTERS = ["B cells", "CD14+ Monocytes", "CD4 T cells"]


@pytest.fixture(scope="module")
def cell_table():
    """A cell-level t-test table on the example (each dataset vs ctrl in each cluster)."""
    adata = sch.datasets.example()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sch.tl.dataset_differences(adata, "dataset", "cluster", reference="ctrl")


@pytest.fixture(scope="module")
def kang_table(kang_raw):
    """Pseudobulk DESeq2 on Kang's counts (X), paired by donor, on a few genes and
    clusters (min_counts=0: a few genes sum to few counts per sample)."""
    counts = kang_raw[:, KANG_GENES].copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sch.tl.dataset_differences(
            counts,
            "group_id",
            "cluster_id",
            sample_key="sample_id",
            method="pseudobulk",
            reference="ctrl",
            design_covariates=["donor"],
            clusters=KANG_CLUSTERS,
            min_counts=0,
        )


def rings(plot) -> list:
    return [c for ax in plot.axes["heatmap"] for c in ax.collections if c.get_gid() == "cell_marks"]


def dots(plot) -> list:
    return [
        c
        for ax in plot.axes["heatmap"]
        for c in ax.collections
        if isinstance(c, PathCollection) and (c.get_gid() or "").startswith("dots:")
    ]


@pytest.mark.parametrize(
    ("layout", "color", "order"),
    [
        ("columns", "mean", ("dataset", "cluster")),
        ("paired", "mean", ("cluster", "dataset")),
        ("paired", "logfc", ("cluster", "dataset")),
    ],
)
def test_rings_sit_on_the_dots_whose_padj_is_below_alpha(example, cell_table, layout, color, order):
    before = fingerprint(example)
    logfc = {"color": "logfc", "reference": "ctrl"} if color == "logfc" else {}
    plot = sch.pl.dotplot(
        example, GENES, **KEYS, layout=layout, labels="all", significance=cell_table, **logfc
    )
    assert fingerprint(example) == before
    want = expected_cells(cell_table, 0.05, GENES, sep_order=order)
    assert want and len(want) < len(GENES) * 16  # some dots marked, not all
    assert drawn_marks(plot) == want
    # one collection per body Axes, never one artist per dot
    assert 0 < len(rings(plot)) <= len(plot.axes["heatmap"])


def test_alpha_moves_the_threshold(example, cell_table):
    plot = sch.pl.dotplot(
        example, GENES, **KEYS, labels="all", significance=cell_table, alpha=1e-30
    )
    want = expected_cells(cell_table, 1e-30, GENES)
    assert want != expected_cells(cell_table, 0.05, GENES)
    assert drawn_marks(plot) == want
    assert "padj < 1e-30" in legend_text(plot)


def test_the_ring_leaves_every_dot_as_drawn_without_marks(example, cell_table):
    """Same dots (positions, areas, colours) with and without marks; the ring is open,
    above the dots, and no smaller than the largest dot the cells hold."""
    plain = sch.pl.dotplot(example, GENES, **KEYS, layout="paired")
    marked = sch.pl.dotplot(example, GENES, **KEYS, layout="paired", significance=cell_table)
    for figure in (plain.figure, marked.figure):
        figure.canvas.draw()
    for a, b in zip(dots(plain), dots(marked), strict=True):
        np.testing.assert_allclose(a.get_offsets(), b.get_offsets())
        np.testing.assert_allclose(a.get_sizes(), b.get_sizes())
        np.testing.assert_allclose(a.get_facecolors(), b.get_facecolors())
    largest = marked.size_map.largest_dot
    dot_areas = np.concatenate([c.get_sizes() for c in dots(marked)])
    for ring in rings(marked):
        faces = ring.get_facecolors()
        assert len(faces) == 0 or faces[:, 3].max() == 0  # open: the dot shows through
        assert np.allclose(ring.get_sizes(), largest)  # on the largest dot's outline
        assert ring.get_zorder() > max(c.get_zorder() for c in dots(marked))
    assert dot_areas.max() <= largest + 1e-9


def test_legend_names_the_test_once(example, cell_table, kang, kang_table):
    cells = sch.pl.dotplot(example, GENES, **KEYS, significance=cell_table)
    text = legend_text(cells)
    assert "cell-level test (exploratory)" in text and "t-test" in text
    assert "padj < 0.05" in text and "vs ctrl" in text
    entries = [t for t in cells.axes["legend"].findobj() if getattr(t, "get_gid", None)]
    assert sum(e.get_gid() == "cell_marks" for e in entries) == 1
    keys = {"cluster_key": "cluster_id", "dataset_key": "group_id"}
    pseudo = sch.pl.dotplot(
        kang, KANG_GENES, **keys, clusters=KANG_CLUSTERS, layout="paired", significance=kang_table
    )
    text = legend_text(pseudo)
    assert "pseudobulk DESeq2 (pydeseq2)" in text and "padj < 0.05, vs ctrl" in text
    assert "cell-level" not in text


def test_split_marks_the_dot_whose_other_half_differs_from_the_reference(example, cell_table):
    two = example[example.obs["dataset"] != "stim_LPS"].copy()
    plot = sch.pl.dotplot(two, GENES, **KEYS, layout="split", labels="all", significance=cell_table)
    hits = cell_table[
        (cell_table["dataset"] == "stim_IFN")
        & (cell_table["pval_adj"] < 0.05)
        & cell_table["gene"].isin(GENES)
    ]
    want = {(g, c) for g, c in zip(hits["gene"], hits["cluster"].astype(str), strict=True)}
    assert want
    assert drawn_marks(plot) == want
    assert plot.params["significance"]["marked_half"] == "stim_IFN"


def test_split_without_the_reference_is_refused_naming_paired(example, cell_table):
    no_ref = example[example.obs["dataset"] != "ctrl"].copy()
    with pytest.raises(ValueError, match="layout='paired'") as info:
        sch.pl.dotplot(no_ref, GENES, **KEYS, layout="split", significance=cell_table)
    assert "'ctrl'" in str(info.value)


def test_sidecars_carry_the_test_next_to_colour_and_fraction(example, cell_table, tmp_path):
    plot = sch.pl.dotplot(example, GENES, **KEYS, layout="paired", significance=cell_table)
    plot.savefig(tmp_path / "dots.png", dpi=72)
    tsv = pd.read_csv(tmp_path / "dots.tsv", sep="\t")
    assert list(tsv.columns) == [
        "gene",
        "column",
        "color",
        "fraction",
        "logfc",
        "pval_adj",
        "significant",
    ]
    assert len(tsv) == plot.data.size
    np.testing.assert_allclose(
        tsv["color"].to_numpy(), plot.data.stack(future_stack=True).to_numpy(), rtol=1e-5
    )
    fraction = plot.bundle.fraction.stack(future_stack=True).to_numpy()
    np.testing.assert_allclose(tsv["fraction"].to_numpy(), fraction, rtol=1e-5)
    hits = tsv[tsv["significant"]]
    marked = set(zip(hits["gene"], hits["column"], strict=True))
    assert marked == expected_cells(cell_table, 0.05, GENES, sep_order=("cluster", "dataset"))
    keyed = cell_table.set_index(["gene", "cluster", "dataset"])["pval_adj"]
    for g, c, p in tsv.dropna(subset=["pval_adj"])[["gene", "column", "pval_adj"]].itertuples(
        index=False
    ):
        cluster, dataset = c.split(" / ")
        assert p == pytest.approx(keyed[(g, cluster, dataset)], rel=1e-5)
    record = json.loads((tmp_path / "dots.json").read_text())["significance"]
    assert record["method"] == "t-test" and record["unit"] == "cells"
    assert record["reference"] == "ctrl" and record["alpha"] == 0.05


def test_split_sidecar_has_both_halves_and_the_test(example, cell_table):
    two = example[example.obs["dataset"] != "stim_LPS"].copy()
    plot = sch.pl.dotplot(two, GENES, **KEYS, layout="split", significance=cell_table)
    table = plot.sidecar_table()
    assert list(table.columns) == [
        "color (ctrl)",
        "fraction (ctrl)",
        "color (stim_IFN)",
        "fraction (stim_IFN)",
        "logfc",
        "pval_adj",
        "significant",
    ]
    row = table.loc[("ISG15", "CD4 T")]
    want = cell_table.set_index(["gene", "cluster", "dataset"]).loc[("ISG15", "CD4 T", "stim_IFN")]
    assert row["pval_adj"] == pytest.approx(want["pval_adj"], rel=1e-9)
    assert row["logfc"] == pytest.approx(want["logfc"], rel=1e-9)


def test_interactive_page_has_the_test_of_each_dot(example, cell_table):
    plot = sch.pl.dotplot(example, GENES, **KEYS, layout="paired", significance=cell_table)
    page = sch.pl.interactive_heatmap(plot)
    payload = page.split('<script id="sch-data" type="application/json">')[1].split("</script>")[0]
    data = json.loads(payload)
    assert data["dots"] is not None and data["test"] is not None
    want = expected_cells(cell_table, 0.05, GENES, sep_order=("cluster", "dataset"))
    shown = {
        (data["rows"][i], data["cols"][j])
        for i, row in enumerate(data["test"]["significant"])
        for j, s in enumerate(row)
        if s
    }
    assert shown == want
    gene, column = sorted(want)[0]
    i, j = data["rows"].index(gene), data["cols"].index(column)
    cluster, dataset = column.split(" / ")
    row = cell_table[
        (cell_table["gene"] == gene)
        & (cell_table["cluster"] == cluster)
        & (cell_table["dataset"] == dataset)
    ]
    assert data["test"]["padj"][i][j] == format(float(row["pval_adj"].iloc[0]), ".3g")
    assert data["test"]["logfc"][i][j] == format(float(row["logfc"].iloc[0]), ".3f")
    assert "cell-level test (exploratory)" in data["test"]["label"]
    assert "padj: %{customdata[5]}" in page and "circle-open" in page


def test_kang_pseudobulk_marks_on_a_paired_dot_plot_at_print_size(kang, kang_table, tmp_path):
    assert kang_table.attrs["unit"] == "samples"
    plot = sch.pl.dotplot(
        kang,
        KANG_GENES,
        cluster_key="cluster_id",
        dataset_key="group_id",
        clusters=KANG_CLUSTERS,
        layout="paired",
        labels="all",
        significance=kang_table,
    )
    want = expected_cells(kang_table, 0.05, KANG_GENES, sep_order=("cluster", "dataset"))
    # interferon genes respond in every cell type (Kang et al. 2018)
    assert {("ISG15", f"{c} / stim") for c in KANG_CLUSTERS} <= want
    assert drawn_marks(plot) == want
    width, height = plot.figure.get_size_inches()
    assert width <= 180 / 25.4 + 0.01 and height <= 240 / 25.4 + 0.01
    assert plot.savefig(tmp_path / "kang_dots.png", dpi=300)[0].stat().st_size > 0


def test_app_dot_plot_marks_equal_the_public_call(synthetic, tmp_path):
    """The heatmap tab's Dot plot with "Mark significant differences" draws the marks of
    sch.pl.dotplot with the same table, and its Python code draws the same."""
    from sc_heatmaps.app import _figures, load_state
    from sc_heatmaps.app._server import heatmap_call

    adata = synthetic.copy()
    x = adata.X.toarray()
    x[(adata.obs["dataset"] == "d2").to_numpy(), :3] += 2.0  # d2 differs in G00-G02
    adata.X = x
    replicate = (np.arange(adata.n_obs) % 3).astype(str)
    adata.obs["sample"] = pd.Categorical(adata.obs["dataset"].astype(str) + "_r" + replicate)
    path = tmp_path / "data.h5ad"
    adata.write_h5ad(path)
    state = load_state([path], cluster_key="cluster", dataset_key="dataset")
    genes = [f"G{i:02d}" for i in range(8)]
    inputs = dict(
        heatmap_kind="dot",
        cluster_key="cluster",
        dataset_key="dataset",
        use_markers=False,
        genes=genes,
        n_genes=5,
        group_by="both",
        source="RNA",
        clusters=[],
        scale="none",
        cmap="Reds",
        vmin="",
        vmax="",
        title="",
        mark_significant=True,
        sample_key="sample",
        reference="d1",
    )
    call = heatmap_call(_Inputs(**inputs), state)
    assert call.kind == "dot" and call.marks
    plot = _figures.draw(state, call)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = sch.tl.dataset_differences(
            adata, "dataset", "cluster", sample_key="sample", reference="d1", method="t-test"
        )
    public = sch.pl.dotplot(adata, genes, ["dataset", "cluster"], **KEYS, significance=table)
    pd.testing.assert_frame_equal(plot.bundle.marks.significant, public.bundle.marks.significant)
    assert rings(plot) and plot.params["significance"]["unit"] == "samples"
    code, cli = _figures.code_texts(state, call, "png", 300)
    assert "sch.pl.dotplot(" in code and "significance=table" in code
    assert "dotplot command draws no significance marks" in cli
    namespace: dict = {}
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(compile(code, "<app snippet>", "exec"), namespace)
    finally:
        os.chdir(cwd)
    snippet = namespace["plot"]
    pd.testing.assert_frame_equal(snippet.bundle.marks.significant, plot.bundle.marks.significant)
    assert (tmp_path / "dot.png").exists()
