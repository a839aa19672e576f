"""Significance marks on the heatmaps: drawn where the table's pval_adj < alpha, and
labelled with the test's method, threshold, reference and unit.

The marks are read back from the drawn artists: each dot's centre is matched to the
nearest drawn row label (gene) and column label (group), and compared with the cells a
pandas filter of the table selects.
"""

from __future__ import annotations

import json
import os
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import fingerprint
from matplotlib.text import Text

import sc_heatmaps as sch

GENES = [f"G{i:02d}" for i in range(12)]
SEP = " / "


def contract_table(alpha_hits: float = 0.3, seed: int = 0, unit: str | None = "samples"):
    """A table in the contract format for the synthetic data (d2 vs d1, 4 clusters)."""
    rng = np.random.default_rng(seed)
    rows = [(c, "d2", "d1", g) for c in ["c0", "c1", "c2", "c3"] for g in GENES]
    table = pd.DataFrame(rows, columns=["cluster", "dataset", "reference", "gene"])
    table["logfc"] = rng.normal(0, 1, len(table))
    table["score"] = rng.normal(0, 3, len(table))
    table["pval"] = rng.uniform(0, 1, len(table))
    hit = rng.random(len(table)) < alpha_hits
    table["pval_adj"] = np.where(
        hit, rng.uniform(1e-6, 0.049, len(table)), rng.uniform(0.051, 1, len(table))
    )
    if unit is not None:
        table.attrs.update(
            unit=unit,
            method="pseudobulk DESeq2 (pydeseq2)" if unit == "samples" else "t-test",
            reference="d1",
            design="~ dataset",
        )
    return table


def expected_cells(table: pd.DataFrame, alpha: float, genes, sep_order=("dataset", "cluster")):
    """(gene, column label) of every cell the table calls significant, by pandas."""
    hits = table[(table["pval_adj"] < alpha) & table["gene"].astype(str).isin(genes)]
    hits = hits[hits["dataset"].astype(str) != hits["reference"].astype(str)]
    first, second = sep_order
    return {
        (str(g), f"{a}{SEP}{b}")
        for g, a, b in zip(
            hits["gene"], hits[first].astype(str), hits[second].astype(str), strict=True
        )
    }


def _centres(axes_list, axis: int) -> list[tuple[float, str]]:
    out = []
    for ax in axes_list:
        for t in ax.findobj(Text):
            if t.get_text() and t.get_visible():
                box = t.get_window_extent()
                out.append(
                    ((box.x0 + box.x1) / 2 if axis == 0 else (box.y0 + box.y1) / 2, t.get_text())
                )
    return out


def drawn_marks(plot) -> set[tuple[str, str]]:
    """(gene, column label) under each drawn dot, from the artists' positions."""
    plot.figure.canvas.draw()
    cols = _centres(plot.axes["col_labels"], 0)
    rows = _centres(plot.axes["row_labels"], 1)
    out, n = set(), 0
    for ax in plot.axes["heatmap"]:
        for coll in ax.collections:
            if coll.get_gid() != "cell_marks":
                continue
            for x, y in coll.get_offset_transform().transform(coll.get_offsets()):
                gene = min(rows, key=lambda r: abs(r[0] - y))[1]
                column = min(cols, key=lambda c: abs(c[0] - x))[1]
                out.add((gene, column))
                n += 1
    assert n == len(out), "two dots on one cell"
    return out


def mark_collections(plot) -> list:
    return [c for ax in plot.axes["heatmap"] for c in ax.collections if c.get_gid() == "cell_marks"]


def legend_text(plot) -> str:
    texts = [t.get_text() for t in plot.axes["legend"].findobj(Text) if t.get_text()]
    return " ".join(" ".join(texts).split())


def test_marks_sit_on_the_cells_whose_padj_is_below_alpha(synthetic):
    table = contract_table()
    before = fingerprint(synthetic)
    blocks = {"first": GENES[:5], "second": GENES[5:10]}  # row blocks: several body Axes
    plot = sch.pl.grouped_heatmap(
        synthetic,
        blocks,
        cluster_key="cluster",
        dataset_key="dataset",
        labels="all",
        significance=table,
    )
    assert fingerprint(synthetic) == before
    want = expected_cells(table, 0.05, GENES[:10])
    assert want  # the table has hits among the genes drawn
    assert drawn_marks(plot) == want
    # one collection per body Axes that has marks, never one artist per cell
    assert len(mark_collections(plot)) <= len(plot.axes["heatmap"])
    assert len(plot.axes["heatmap"]) == 4  # 2 row blocks x 2 dataset blocks


def test_alpha_moves_the_threshold(synthetic):
    table = contract_table()
    plot = sch.pl.grouped_heatmap(
        synthetic,
        GENES,
        cluster_key="cluster",
        dataset_key="dataset",
        labels="all",
        significance=table,
        alpha=0.01,
    )
    assert drawn_marks(plot) == expected_cells(table, 0.01, GENES)
    assert "padj < 0.01" in legend_text(plot)


def test_legend_names_method_threshold_and_reference(synthetic):
    plot = sch.pl.grouped_heatmap(
        synthetic,
        GENES,
        cluster_key="cluster",
        dataset_key="dataset",
        significance=contract_table(),
    )
    text = legend_text(plot)
    assert "pseudobulk DESeq2 (pydeseq2)" in text
    assert "padj < 0.05" in text
    assert "vs d1" in text
    assert "cell-level" not in text


def test_cell_level_tables_are_labelled_exploratory(synthetic):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cells = sch.tl.dataset_differences(synthetic, "dataset", "cluster", reference="d1")
    assert cells.attrs["unit"] == "cells"
    plot = sch.pl.grouped_heatmap(
        synthetic,
        GENES,
        cluster_key="cluster",
        dataset_key="dataset",
        labels="all",
        significance=cells,
    )
    assert "cell-level test (exploratory)" in legend_text(plot)
    assert drawn_marks(plot) == expected_cells(cells, 0.05, GENES)
    assert plot.params["significance"]["unit"] == "cells"


def test_a_table_without_a_unit_is_never_shown_as_replicate_level(synthetic):
    table = contract_table(unit=None)
    plot = sch.pl.grouped_heatmap(
        synthetic, GENES, cluster_key="cluster", dataset_key="dataset", significance=table
    )
    assert "cell-level test (exploratory)" in legend_text(plot)
    assert plot.params["significance"]["unit"] == "cells"
    assert "unit" in plot.params["significance"]["unit_note"]


def test_sample_level_welch_table_is_recorded_as_samples(synthetic):
    obs = synthetic.obs.copy()
    obs["sample"] = (
        obs["dataset"].astype(str) + "_s" + (np.arange(len(obs)) % 3).astype(str)
    ).astype("category")
    adata = synthetic.copy()
    adata.obs = obs
    table = sch.tl.dataset_differences(
        adata, "dataset", "cluster", reference="d1", sample_key="sample"
    )
    assert table.attrs["unit"] == "samples"
    assert table.attrs["reference"] == "d1"
    assert "Welch" in table.attrs["method"]


def test_sidecars_carry_the_test_next_to_the_drawn_values(synthetic, tmp_path):
    table = contract_table()
    plot = sch.pl.grouped_heatmap(
        synthetic, GENES, cluster_key="cluster", dataset_key="dataset", significance=table
    )
    plot.savefig(tmp_path / "fig.png", dpi=72)
    tsv = pd.read_csv(tmp_path / "fig.tsv", sep="\t")
    assert {"value", "logfc", "pval_adj", "significant"} <= set(tsv.columns)
    assert len(tsv) == plot.data.size
    marked = {
        (g, c) for g, c, s in zip(tsv["gene"], tsv["column"], tsv["significant"], strict=True) if s
    }
    assert marked == expected_cells(table, 0.05, GENES)
    # the drawn values are the plot's matrix, cell by cell
    drawn = plot.data.stack(future_stack=True).to_numpy()
    assert np.allclose(tsv["value"].to_numpy(), drawn, rtol=1e-5)
    # logfc beside each tested cell equals the table's
    keyed = table.set_index(["gene", "cluster", "dataset"])["logfc"]
    tested = tsv.dropna(subset=["logfc"])
    for g, c, v in zip(tested["gene"], tested["column"], tested["logfc"], strict=True):
        dataset, cluster = c.split(SEP)
        assert v == pytest.approx(keyed[(g, cluster, dataset)], rel=1e-5)
    params = json.loads((tmp_path / "fig.json").read_text())["significance"]
    assert params["method"] == "pseudobulk DESeq2 (pydeseq2)"
    assert params["unit"] == "samples"
    assert params["reference"] == "d1"
    assert params["alpha"] == 0.05


def test_unmatched_genes_and_columns_are_listed_and_unmarked(synthetic):
    table = contract_table()
    partial = table[(table["gene"] != "G01") & (table["cluster"] != "c3")]
    partial.attrs = dict(table.attrs)
    plot = sch.pl.grouped_heatmap(
        synthetic,
        GENES,
        cluster_key="cluster",
        dataset_key="dataset",
        labels="all",
        significance=partial,
    )
    record = plot.params["significance"]
    assert record["genes_not_in_table"] == ["G01"]
    assert record["columns_not_in_table"] == [f"c3{SEP}d2"]
    assert drawn_marks(plot) == expected_cells(partial, 0.05, GENES)
    assert any("G01" in n for n in plot.params["notes"])


def test_a_table_matching_nothing_is_refused(synthetic):
    table = contract_table()
    table["gene"] = "NOT_A_GENE_" + table["gene"]
    with pytest.raises(ValueError, match="matches no cell"):
        sch.pl.grouped_heatmap(
            synthetic, GENES, cluster_key="cluster", dataset_key="dataset", significance=table
        )


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"alpha": 0.0}, ValueError, "alpha"),
        ({"alpha": 1.5}, ValueError, "alpha"),
        ({"significance": "pseudobulk"}, TypeError, "significance"),
        ({"significance": pd.DataFrame({"gene": ["G00"]})}, ValueError, "lacks the columns"),
        ({"groupby": "cluster"}, ValueError, "dataset_key"),
    ],
)
def test_bad_significance_options_are_refused(synthetic, kwargs, error, match):
    options = {"significance": contract_table(), "cluster_key": "cluster", "dataset_key": "dataset"}
    options.update(kwargs)
    with pytest.raises(error, match=match):
        sch.pl.grouped_heatmap(synthetic, GENES, **options)


def test_differences_heatmap_draws_the_same_marks(synthetic):
    table = contract_table()
    plot = sch.pl.dataset_differences_heatmap(table, genes=GENES, labels="all")
    want = expected_cells(table, 0.05, GENES, sep_order=("cluster", "dataset"))
    assert drawn_marks(plot) == want
    text = legend_text(plot)
    assert "pseudobulk DESeq2 (pydeseq2)" in text and "padj < 0.05" in text and "vs d1" in text
    none = sch.pl.dataset_differences_heatmap(table, genes=GENES, alpha=None)
    assert mark_collections(none) == []


def test_interactive_hover_shows_padj_and_logfc_of_a_marked_cell(synthetic):
    table = contract_table()
    plot = sch.pl.grouped_heatmap(
        synthetic, GENES, cluster_key="cluster", dataset_key="dataset", significance=table
    )
    page = sch.pl.interactive_heatmap(plot)
    payload = page.split('<script id="sch-data" type="application/json">')[1].split("</script>")[0]
    data = json.loads(payload)
    gene, column = sorted(expected_cells(table, 0.05, GENES))[0]
    i, j = data["rows"].index(gene), data["cols"].index(column)
    dataset, cluster = column.split(SEP)
    row = table[
        (table["gene"] == gene) & (table["cluster"] == cluster) & (table["dataset"] == dataset)
    ]
    assert data["test"]["significant"][i][j] is True
    assert data["test"]["padj"][i][j] == format(float(row["pval_adj"].iloc[0]), ".3g")
    assert data["test"]["logfc"][i][j] == format(float(row["logfc"].iloc[0]), ".3f")
    assert "padj: %{customdata[5]}" in page
    assert "pseudobulk DESeq2" in data["test"]["label"]


def test_kang_sample_level_marks_at_print_size(kang, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = sch.tl.dataset_differences(
            kang, "group_id", "cluster_id", sample_key="sample_id", reference="ctrl"
        )
    assert table.attrs["unit"] == "samples"
    genes = ["ISG15", "IFI6", "IFIT3", "MX1", "ISG20", "IFIT1", "CD74", "LYZ", "MS4A1", "NKG7"]
    alpha = 0.2  # two samples per side: few genes reach 0.05
    plot = sch.pl.grouped_heatmap(
        kang,
        genes,
        cluster_key="cluster_id",
        dataset_key="group_id",
        labels="all",
        significance=table,
        alpha=alpha,
    )
    want = expected_cells(table.rename(columns={}), alpha, genes)
    assert want
    assert drawn_marks(plot) == want
    text = legend_text(plot)
    assert (
        "Welch t-test on per-sample means" in text
        and "vs ctrl" in text
        and "cell-level" not in text
    )
    width, _ = plot.figure.get_size_inches()
    assert width <= 180 / 25.4 + 0.01
    paths = plot.savefig(tmp_path / "kang.png", dpi=300)
    assert paths[0].stat().st_size > 0


def test_rows_with_a_missing_padj_are_tested_but_not_marked(synthetic):
    table = contract_table()
    table.loc[table["gene"] == "G02", "pval_adj"] = np.nan  # e.g. DESeq2's filtering
    plot = sch.pl.grouped_heatmap(
        synthetic,
        GENES,
        cluster_key="cluster",
        dataset_key="dataset",
        labels="all",
        significance=table,
    )
    assert plot.params["significance"]["genes_not_in_table"] == []
    assert not any(g == "G02" for g, _ in drawn_marks(plot))
    assert drawn_marks(plot) == expected_cells(table, 0.05, GENES)


class _Inputs:
    """Stand-in for Shiny's inputs: ``inp.name()`` returns the value given."""

    def __init__(self, **values):
        self._values = values

    def __getattr__(self, name):
        return lambda: self._values.get(name)


def test_app_marks_significant_differences_vs_the_chosen_reference(synthetic, tmp_path):
    """The app's "mark significant differences" draws the marks of the public call with
    the table of sch.tl.dataset_differences (sample column and reference as chosen), and
    its Python code reproduces them."""
    from sc_heatmaps.app import _figures, load_state
    from sc_heatmaps.app._server import heatmap_call

    adata = synthetic.copy()
    replicate = (np.arange(adata.n_obs) % 3).astype(str)
    adata.obs["sample"] = pd.Categorical(adata.obs["dataset"].astype(str) + "_r" + replicate)
    path = tmp_path / "data.h5ad"
    adata.write_h5ad(path)
    state = load_state([path], cluster_key="cluster", dataset_key="dataset")
    assert state.sample_keys("dataset") == ["sample"]
    inputs = dict(
        cluster_key="cluster",
        dataset_key="dataset",
        use_markers=False,
        genes=GENES,
        n_genes=5,
        group_by="both",
        source="RNA",
        clusters=[],
        stat="mean",
        scale="zscore",
        cmap="RdBu_r",
        vmin="",
        vmax="",
        title="",
        mark_significant=True,
        sample_key="sample",
        reference="d1",
    )
    call = heatmap_call(_Inputs(**inputs), state)
    # logged values and no counts anywhere: Welch's t-test on the per-sample means
    method = "t-test"
    assert dict(call.marks) == {"sample_key": "sample", "reference": "d1", "method": method}
    plot = _figures.draw(state, call)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = sch.tl.dataset_differences(
            adata, "dataset", "cluster", sample_key="sample", reference="d1", method=method
        )
    public = sch.pl.grouped_heatmap(
        adata, GENES, cluster_key="cluster", dataset_key="dataset", significance=table
    )
    pd.testing.assert_frame_equal(plot.bundle.marks.significant, public.bundle.marks.significant)
    code, cli = _figures.code_texts(state, call, "png", 300)
    assert "significance=table" in code and "no significance marks" in cli
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
    assert snippet.params["significance"]["unit"] == "samples"
    # unticked: no marks
    plain = heatmap_call(_Inputs(**{**inputs, "mark_significant": False}), state)
    assert plain.marks == () and _figures.draw(state, plain).bundle.marks is None


def test_app_marks_use_pseudobulk_where_the_file_holds_counts(synthetic):
    """The app's test is DESeq2 on pseudobulk counts when the file holds raw counts (a
    'counts' layer, then raw, then X), and Welch's t-test on sample means otherwise."""
    import scipy.sparse as sp

    from sc_heatmaps.app._calls import differences_method

    logged = synthetic.copy()
    assert differences_method(logged) == {"method": "t-test"}
    counts = sp.csr_matrix(np.round(np.expm1(np.asarray(_dense(logged.X)))))
    with_layer = logged.copy()
    with_layer.layers["counts"] = counts
    assert differences_method(with_layer) == {"method": "pseudobulk", "layer": "counts"}
    in_x = logged.copy()
    in_x.X = counts
    assert differences_method(in_x) == {"method": "pseudobulk"}
    in_raw = in_x.copy()
    in_raw.raw = in_x
    in_raw.X = logged.X
    assert differences_method(in_raw) == {"method": "pseudobulk", "use_raw": True}


def _dense(x):
    return x.toarray() if hasattr(x, "toarray") else x


# ---- the pseudobulk test computed by the heatmap itself (an AnnData, not a table) -------

KANG_PSEUDOBULK = {
    "dataset_key": "group_id",
    "cluster_key": "cluster_id",
    "reference": "ctrl",
    "method": "pseudobulk",
    "sample_key": "sample_id",
    "design_covariates": ["donor"],
    "min_counts": 500,
}
KANG_GENES = ["ISG15", "IFI6", "IFIT3", "MX1", "CD74", "LYZ", "FTL", "TMSB4X", "NKG7", "MS4A1"]


@pytest.fixture(scope="module")
def kang_few_genes(kang_raw):
    """Kang's counts on ten genes and its 14 most counted ones (DESeq2 fits per gene)."""
    total = np.asarray(kang_raw.X.sum(axis=0)).ravel()
    top = list(kang_raw.var_names[np.argsort(-total)[:14]])
    adata = kang_raw[:, list(dict.fromkeys(KANG_GENES + top))].copy()
    adata.obs["donor"] = adata.obs["donor"].astype(str).astype("category")
    return adata


@pytest.mark.realdata
def test_differences_heatmap_runs_the_pseudobulk_test_from_an_anndata(kang_few_genes):
    """Counts in a layer of a logged copy: the drawn values are DESeq2's log2 fold changes
    of the table computed directly on the counts in X, and the dots sit where its
    pval_adj < alpha; the legend names the test, the threshold and the reference."""
    import scanpy as sc

    logged = kang_few_genes.copy()
    logged.layers["counts"] = logged.X.copy()
    sc.pp.normalize_total(logged, target_sum=1e4)
    sc.pp.log1p(logged)
    before = fingerprint(logged)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pydeseq2: few residual df
        table = sch.tl.dataset_differences(kang_few_genes, **KANG_PSEUDOBULK)
        plot = sch.pl.dataset_differences_heatmap(
            logged, layer="counts", genes=KANG_GENES, labels="all", alpha=0.01, **KANG_PSEUDOBULK
        )
    assert fingerprint(logged) == before
    columns = [f"{c}{SEP}{d}" for c, d in zip(table["cluster"], table["dataset"], strict=True)]
    want = (
        table.assign(column=columns)
        .pivot(index="gene", columns="column", values="logfc")
        .loc[KANG_GENES, plot.data.columns]
    )
    np.testing.assert_allclose(plot.data.to_numpy(), want.to_numpy(), rtol=1e-9, equal_nan=True)
    assert len(plot.data.columns) == 5
    marked = expected_cells(table, 0.01, KANG_GENES, sep_order=("cluster", "dataset"))
    assert {("ISG15", c) for c in plot.data.columns} <= marked  # interferon: every cell type
    assert drawn_marks(plot) == marked
    text = legend_text(plot)
    assert "pseudobulk DESeq2 (pydeseq2)" in text and "padj < 0.01, vs ctrl" in text


@pytest.mark.realdata
def test_differences_heatmap_refuses_pseudobulk_on_logged_values(kang_few_genes):
    logged = kang_few_genes.copy()
    import scanpy as sc

    sc.pp.normalize_total(logged, target_sum=1e4)
    sc.pp.log1p(logged)
    with pytest.raises(ValueError, match=r"layer='counts'"):
        sch.pl.dataset_differences_heatmap(logged, genes=KANG_GENES, **KANG_PSEUDOBULK)
