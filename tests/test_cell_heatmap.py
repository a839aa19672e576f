"""Per-cell heatmap: column values, group order, reduction, structure."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import fingerprint

import sc_heatmaps as sch
from sc_heatmaps.get._cells_matrix import cell_matrix

GENES = ["G00", "G04", "G08"]


def test_all_cells_in_group_order_with_their_values(synthetic):
    cm = cell_matrix(synthetic, GENES, ["dataset", "cluster"], max_cells_per_group=None)
    assert cm.matrix.shape == (3, synthetic.n_obs)
    expected_groups = [f"{d} / {c}" for d in ["d1", "d2"] for c in ["c0", "c1", "c2", "c3"]]
    assert list(dict.fromkeys(cm.columns["group"])) == expected_groups
    # each column is one cell: the values are that cell's, cells of a group in obs order
    dense = synthetic[:, GENES].X.toarray()
    first = np.flatnonzero(
        ((synthetic.obs["dataset"] == "d1") & (synthetic.obs["cluster"] == "c0")).to_numpy()
    )
    np.testing.assert_allclose(cm.matrix.iloc[:, : len(first)].to_numpy(), dense[first].T)


def test_bins_average_every_cell_and_sampling_is_seeded(synthetic):
    bins = cell_matrix(synthetic, GENES, "cluster", max_cells_per_group=5)
    assert (bins.columns.groupby("group", sort=False).size() == 5).all()
    assert bins.columns["n_cells"].sum() == synthetic.n_obs
    dense = synthetic[:, GENES].X.toarray()
    c0 = np.flatnonzero((synthetic.obs["cluster"] == "c0").to_numpy())
    first_bin = np.array_split(c0, 5)[0]
    np.testing.assert_allclose(bins.matrix.iloc[:, 0], dense[first_bin].mean(axis=0))
    a = cell_matrix(synthetic, GENES, "cluster", max_cells_per_group=4, reduce="sample")
    b = cell_matrix(synthetic, GENES, "cluster", max_cells_per_group=4, reduce="sample")
    np.testing.assert_array_equal(a.matrix.to_numpy(), b.matrix.to_numpy())
    assert (a.columns["n_cells"] == 1).all() and len(a.columns) == 16


def test_every_group_stays_visible_however_small(synthetic):
    c3 = np.flatnonzero(synthetic.obs["cluster"] == "c3")
    keep = np.union1d(np.flatnonzero(synthetic.obs["cluster"] != "c3"), c3[:2])
    small = synthetic[keep].copy()
    plot = sch.pl.cell_heatmap(small, GENES, "cluster", max_cells_per_group=10)
    groups = plot.columns["group"]
    assert set(groups) == set(small.obs["cluster"].astype(str))
    assert (groups == "c3").sum() == min(10, (small.obs["cluster"] == "c3").sum())


def test_plot_structure(example):
    plot = sch.pl.cell_heatmap(
        example,
        cluster_key="cluster",
        dataset_key="dataset",
        n_genes=2,
        max_cells_per_group=30,
        cluster_cells=True,
    )
    assert set(plot.axes["col_bars"]) == {"dataset", "cluster"}
    assert len(plot.axes["heatmap"]) == 3 * 8  # dataset blocks x gene blocks
    assert all(ax.collections[0].get_rasterized() for ax in plot.axes["heatmap"])
    assert plot.axes["col_labels"] is None  # cells are not labelled
    # clustering reorders cells only within their group
    groups = list(plot.columns["group"])
    assert groups == sorted(groups, key=lambda g: list(dict.fromkeys(groups)).index(g))


def test_errors_and_no_mutation(synthetic):
    before = fingerprint(synthetic)
    sch.pl.cell_heatmap(synthetic, GENES, ["dataset", "cluster"], max_cells_per_group=3)
    assert fingerprint(synthetic) == before
    with pytest.raises(ValueError, match=r"reduce='mean'.*'bins', 'sample'"):
        cell_matrix(synthetic, GENES, "cluster", reduce="mean")
    with pytest.raises(ValueError, match="max_cells_per_group=0"):
        cell_matrix(synthetic, GENES, "cluster", max_cells_per_group=0)
