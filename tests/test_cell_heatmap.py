"""Per-cell heatmap: column values, group order, reduction, structure."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import fingerprint, make_synthetic
from scipy import sparse

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


@pytest.mark.parametrize("storage", ["csr", "csr_unsorted", "csc", "dense", "int"])
@pytest.mark.parametrize("reduce", ["bins", "sample"])
def test_bins_equal_numpy_means_for_every_storage(storage, reduce):
    """The compiled CSR pass and the generic path give numpy's bin means, cell by cell."""
    adata = make_synthetic(seed=3, n_per_group=23)
    X = adata.X.toarray()
    if storage == "int":
        X = np.rint(X * 3).astype(np.int32)
    stored = {
        "csr": sparse.csr_matrix(X),
        "csr_unsorted": sparse.csr_matrix(X)[:, ::-1][:, ::-1],
        "csc": sparse.csc_matrix(X),
        "dense": X,
        "int": sparse.csr_matrix(X),
    }[storage]
    if storage == "csr_unsorted":
        stored.has_sorted_indices = False
        for r in range(stored.shape[0]):  # reverse the stored order within each row
            lo, hi = stored.indptr[r], stored.indptr[r + 1]
            stored.indices[lo:hi] = stored.indices[lo:hi][::-1].copy()
            stored.data[lo:hi] = stored.data[lo:hi][::-1].copy()
    adata.X = stored
    genes = ["G13", "G00", "G29", "G07"]
    cm = cell_matrix(adata, genes, ["dataset", "cluster"], max_cells_per_group=4, reduce=reduce)
    cols = [adata.var_names.get_loc(g) for g in genes]
    rng = np.random.default_rng(0)
    expected, k = [], 0
    for d in ["d1", "d2"]:
        for c in ["c0", "c1", "c2", "c3"]:
            rows = np.flatnonzero((adata.obs["dataset"] == d) & (adata.obs["cluster"] == c))
            parts = (
                np.array_split(rows, 4)
                if reduce == "bins"
                else [[r] for r in np.sort(rng.choice(rows, 4, replace=False))]
            )
            for part in parts:
                expected.append(X[np.ix_(part, cols)].astype(np.float64).mean(axis=0))
                assert cm.columns["n_cells"].iloc[k] == len(part)
                k += 1
    np.testing.assert_allclose(cm.matrix.to_numpy().T, np.array(expected), rtol=1e-12)


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
