"""Issue 12, "Also found on real data" (Kang data): the user's order of ``clusters=``,
genes removed by a filter in the JSON sidecar, z-scores of two groups, and ranking in
the interactive view."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import KANG, real_data_path
from matplotlib.text import Text
from scipy import sparse
from test_cli_hardening import cli
from test_interactive import _state
from test_interactive import page_for as _page_for

import sc_heatmaps as sch

# user's order, unlike the category order (B cells, CD14+ Monocytes, CD4 T cells, ...)
CHOSEN = ["FCGR3A+ Monocytes", "B cells", "CD4 T cells"]
GENES = ["ISG15", "IFI6", "CD74", "LYZ", "FCGR3A", "CD3E", "MS4A1", "NKG7", "S100A8"]


def _means(adata, genes: list[str], key: str) -> pd.DataFrame:
    """Genes x categories mean of adata.X, with pandas (independent of the package)."""
    x = adata[:, genes].X
    x = x.toarray() if sparse.issparse(x) else np.asarray(x)
    cells = pd.DataFrame(x, columns=genes, index=adata.obs_names)
    return cells.groupby(adata.obs[key].to_numpy()).mean().T


def _figure_texts(plot) -> list[str]:
    return [t.get_text() for t in plot.figure.findobj(Text) if t.get_text()]


def _col_ticks(plot) -> list[str]:
    return [t.get_text() for ax in plot.axes["col_labels"] for t in ax.texts]


# 1. the user's order of clusters= is kept


def test_clusters_keep_the_users_order_on_kang(kang):
    plot = sch.pl.grouped_heatmap(
        kang, GENES, "cluster_id", clusters=", ".join(CHOSEN), labels="all"
    )
    assert list(plot.data.columns) == CHOSEN and _col_ticks(plot) == CHOSEN

    both = sch.pl.grouped_heatmap(
        kang,
        GENES,
        ["group_id", "cluster_id"],
        cluster_key="cluster_id",
        clusters=CHOSEN,
        labels="all",  # "auto" leaves out the column labels the two bars already say
    )
    expected = [f"{g} / {c}" for g in ("ctrl", "stim") for c in CHOSEN]
    assert list(both.data.columns) == expected and _col_ticks(both) == expected

    outer = sch.get.grouped_expression(
        kang, GENES, ["cluster_id", "group_id"], cluster_key="cluster_id", clusters=CHOSEN
    )
    assert list(outer.matrix.columns) == [f"{c} / {g}" for c in CHOSEN for g in ("ctrl", "stim")]


def test_clusters_order_markers_and_cells_on_kang(kang):
    plot = sch.pl.grouped_heatmap(kang, cluster_key="cluster_id", clusters=CHOSEN, n_genes=3)
    blocks = list(dict.fromkeys(plot.data.index.get_level_values(0)))
    assert blocks == CHOSEN and list(plot.data.columns) == CHOSEN

    cells = sch.pl.cell_heatmap(kang, GENES, "cluster_id", clusters=CHOSEN)
    groups = [c.rsplit("#", 1)[0] for c in cells.data.columns]
    assert list(dict.fromkeys(groups)) == CHOSEN


# 2. genes removed by a filter are recorded in the JSON sidecar, with the reason


def test_filtered_genes_are_in_the_json_sidecar(kang, tmp_path):
    condition = "row any >= 1.5"
    plot = sch.pl.grouped_heatmap(
        kang, [*GENES, "NOTAGENE"], "cluster_id", filter=condition, missing="drop"
    )
    plot.savefig(tmp_path / "h.png", dpi=50)
    meta = json.loads((tmp_path / "h.json").read_text())
    means = _means(kang, GENES, "cluster_id")
    filtered = [g for g in GENES if not (means.loc[g] >= 1.5).any()]
    assert filtered and len(filtered) < len(GENES)
    assert sorted(meta["dropped_genes"]) == sorted(["NOTAGENE", *filtered])
    assert meta["dropped_genes_reason"] == {"NOTAGENE": "missing"} | dict.fromkeys(
        filtered, "filter"
    )
    assert list(plot.data.index) == [g for g in GENES if g not in filtered]


def test_filtered_groups_and_matrix_rows_are_in_the_json_sidecar(kang, tmp_path):
    # a column criterion drops groups; matrix_heatmap records rows and columns
    plot = sch.pl.grouped_heatmap(kang, GENES, "cluster_id", filter="col any >= 3")
    plot.savefig(tmp_path / "g.png", dpi=50)
    meta = json.loads((tmp_path / "g.json").read_text())
    means = _means(kang, GENES, "cluster_id")
    gone = [c for c in means.columns if not (means[c] >= 3).any()]
    assert gone and meta["dropped_groups"] == gone
    assert meta["dropped_groups_reason"] == dict.fromkeys(gone, "filter")

    table = _means(kang, GENES, "cluster_id")
    mplot = sch.pl.matrix_heatmap(table, filter="row all > 0.05 AND col any > 3")
    mplot.savefig(tmp_path / "m.png", dpi=50)
    meta = json.loads((tmp_path / "m.json").read_text())
    rows = [g for g in table.index if not (table.loc[g] > 0.05).all()]
    cols = [c for c in table.columns if not (table[c] > 3).any()]
    assert rows and cols
    assert meta["dropped_rows"] == rows and meta["dropped_columns"] == cols
    assert meta["dropped_rows_reason"] == dict.fromkeys(rows, "filter")
    assert meta["dropped_columns_reason"] == dict.fromkeys(cols, "filter")


def test_cli_filter_is_in_the_json_sidecar(capsys, monkeypatch, tmp_path, kang_raw):
    path = real_data_path(KANG)
    genes = ",".join(GENES)
    args = ["heatmap", "-i", path, "-x", "cluster_id", "-y", genes, "-f", "row any >= 2"]
    code, _, err = cli(capsys, monkeypatch, *args, "-o", tmp_path / "h")
    assert code == 0, err
    meta = json.loads((tmp_path / "h.json").read_text())
    means = _means(kang_raw, GENES, "cluster_id")  # the CLI reads the stored counts
    filtered = [g for g in GENES if not (means.loc[g] >= 2).any()]
    assert filtered and sorted(meta["dropped_genes"]) == sorted(filtered)
    assert set(meta["dropped_genes_reason"].values()) == {"filter"}


# 3. a z-score across two groups says that it shows only a direction


def test_zscore_of_two_groups_says_so_in_the_colour_bar(kang, tmp_path):
    plot = sch.pl.grouped_heatmap(kang, GENES, "group_id")
    assert plot.data.shape[1] == 2
    np.testing.assert_allclose(np.abs(plot.data.to_numpy()), 1.0)  # the fact behind it
    (label,) = [t for t in _figure_texts(plot) if t.startswith("mean (RNA)")]
    assert "2 groups" in label and "+1 higher" in label and "lower" in label
    plot.savefig(tmp_path / "z.png", dpi=50)
    meta = json.loads((tmp_path / "z.json").read_text())
    assert "2 groups" in meta["scale_note"] and "only which is higher" in meta["scale_note"]

    five = sch.pl.grouped_heatmap(kang, GENES, "cluster_id")
    assert "mean (RNA)\n(z-score)" in _figure_texts(five)
    assert five.params["scale_note"] is None

    table = _means(kang, GENES, "group_id")
    mplot = sch.pl.matrix_heatmap(table, scale="zscore", value_name="mean")
    (label,) = [t for t in _figure_texts(mplot) if t.startswith("mean\n")]
    assert "2 columns" in label and mplot.params["scale_note"] is not None


# 4. interactive view: "keep top N" and row order rank the unscaled values

page_for = _page_for  # the headless Chromium fixture of test_interactive


@pytest.mark.parametrize("by", ["variance", "sum"])
def test_interactive_top_n_ranks_unscaled_means_on_kang(kang, page_for, tmp_path, by):
    plot = sch.pl.grouped_heatmap(kang, cluster_key="cluster_id", dataset_key="group_id")
    genes = list(plot.data.index.get_level_values("gene"))
    assert len(genes) == len(set(genes)) > 20
    ge = sch.get.grouped_expression(kang, genes, ["group_id", "cluster_id"], scale=None)
    means = ge.matrix.loc[genes, plot.data.columns].to_numpy(dtype=np.float64)
    score = means.var(axis=1) if by == "variance" else means.sum(axis=1)
    ranked = [genes[i] for i in np.argsort(-score, kind="stable")]

    page = page_for(sch.pl.interactive_heatmap(plot, tmp_path / "kang.html").path)
    page.select_option("#sch-top-by", by)
    for n in (10, 20):
        page.select_option("#sch-top-n", str(n))
        rows, _ = _state(page)
        assert {genes[i] for i in rows} == set(ranked[:n])
    page.select_option("#sch-top-n", "all")
    page.select_option("#sch-row-order", by)
    rows, _ = _state(page)
    assert [genes[i] for i in rows] == ranked
    assert page.errors == []
