"""``clusters=`` keeps the user's order (not the category order) in every figure and
reader, on the Kang data."""

from __future__ import annotations

import sc_heatmaps as sch

# user's order, unlike the category order (B cells, CD14+ Monocytes, CD4 T cells, ...)
CHOSEN = ["FCGR3A+ Monocytes", "B cells", "CD4 T cells"]
GENES = ["ISG15", "IFI6", "CD74", "LYZ", "FCGR3A", "CD3E", "MS4A1", "NKG7", "S100A8"]


def _col_ticks(plot) -> list[str]:
    return [t.get_text() for ax in plot.axes["col_labels"] for t in ax.texts]


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
