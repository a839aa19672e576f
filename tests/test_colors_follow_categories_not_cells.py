"""A category's colour depends on its obs key's categories, not on which cells are
selected: a subset (``select_cells``, the command line's ``-s``, ``adata[mask]``) draws
each category in the colour it has in the full data, when no colours are stored.

The expected colour is the package palette at the category's position among the full
data's categories (read from :data:`sc_heatmaps._palette.PALETTE`, not from the registry).
"""

from __future__ import annotations

import figure_checks as fc
import matplotlib.pyplot as plt
import pytest

import sc_heatmaps as sch
from sc_heatmaps._palette import PALETTE
from sc_heatmaps.get import select_cells

KEPT = ["NK", "DC"]  # not the first categories: their positions shift in a subset


@pytest.fixture(scope="module")
def example():
    adata = sch.datasets.example()
    assert "cluster_colors" not in adata.uns and "dataset_colors" not in adata.uns
    return adata


def _expected(adata, key: str, names) -> dict[str, str]:
    full = [str(c) for c in adata.obs[key].cat.categories]
    return {n: PALETTE[full.index(n)] for n in names}


def test_registry_colours_of_a_subset_are_those_of_the_full_data(example):
    expected = _expected(example, "cluster", KEPT)
    subset = select_cells(example, {"cluster": KEPT})
    assert list(subset.obs["cluster"].cat.categories) == KEPT  # anndata dropped the rest
    assert sch.get.category_colors(subset, "cluster") == expected
    # a view of a view, and a plain boolean mask, the same
    again = subset[subset.obs["dataset"] == "ctrl"]
    assert sch.get.category_colors(again, "cluster") == expected
    masked = example[example.obs["cluster"].isin(KEPT).to_numpy()]
    assert sch.get.category_colors(masked, "cluster") == expected
    full = sch.get.category_colors(example, "cluster")
    assert {k: full[k] for k in KEPT} == expected


def test_a_string_column_keeps_its_colours_in_a_subset(example):
    adata = example.copy()
    adata.obs["label"] = adata.obs["cluster"].astype(str).to_numpy()  # sorted as categories
    subset = adata[adata.obs["label"].isin(KEPT).to_numpy()]
    full = sorted(adata.obs["label"].unique())
    assert sch.get.category_colors(subset, "label") == {
        n: PALETTE[full.index(n)] for n in sorted(KEPT)
    }


def test_stored_colours_still_win_in_a_subset(example):
    adata = example.copy()
    n = len(adata.obs["cluster"].cat.categories)
    adata.uns["cluster_colors"] = [f"#{i:02x}0000" for i in range(n)]
    full = [str(c) for c in adata.obs["cluster"].cat.categories]
    subset = select_cells(adata, {"cluster": KEPT})
    assert sch.get.category_colors(subset, "cluster") == {
        k: f"#{full.index(k):02x}0000" for k in KEPT
    }


def test_heatmap_bars_and_legend_of_a_subset_keep_the_full_colours(example):
    expected = _expected(example, "cluster", KEPT)
    subset = select_cells(example, {"cluster": KEPT})
    plot = sch.pl.grouped_heatmap(subset, ["CD3E", "NKG7", "FCER1A"], groupby=["cluster"])
    try:
        plot.figure.canvas.draw()
        bars = fc.bar_category_colors(
            plot.axes["col_bars"]["cluster"], plot.bundle.col_meta["cluster"]
        )
        assert bars == {k: {v} for k, v in expected.items()}
        legend = fc.legend_groups(plot.figure)
        drawn = {k: v for group in legend.values() for k, v in group.items() if k in KEPT}
        assert drawn == expected
    finally:
        plt.close(plot.figure)


def test_dual_expression_legend_of_a_subset_keeps_the_full_colours(example):
    expected = _expected(example, "cluster", KEPT)
    subset = select_cells(example, {"cluster": KEPT})
    plot = sch.pl.dual_expression(subset, "CD3E", "NKG7", color="cluster")
    try:
        plot.figure.canvas.draw()
        # entries read "NK  r=... n=...": the category, then its statistics
        entries = {k.split("  ")[0]: v for k, v in fc.legend_entries(plot.figure).items()}
        assert {k: entries[k] for k in KEPT} == expected
        assert set(fc.point_colors(plot.figure.axes)) <= set(expected.values())
    finally:
        plt.close(plot.figure)
