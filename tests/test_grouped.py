"""Grouped expression against scanpy.get.aggregate, numpy and scipy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scanpy as sc
import scipy.stats
from conftest import make_synthetic
from scipy import sparse

import sc_heatmaps as sch

GENES = ["G00", "G05", "G10", "G17", "G29"]


def _aggregate(adata, genes, keys, func):
    """scanpy's own aggregate, as genes x label frame (labels joined like ours)."""
    agg = sc.get.aggregate(adata[:, genes], by=keys, func=func)
    frame = pd.DataFrame(
        np.asarray(
            agg.layers[func].toarray() if sparse.issparse(agg.layers[func]) else agg.layers[func]
        ).T,
        index=genes,
        columns=agg.obs[keys].astype(str).agg(" / ".join, axis=1),
    )
    return frame


@pytest.mark.parametrize("layout", ["csr", "csc", "dense"])
@pytest.mark.parametrize("keys", [["cluster"], ["dataset", "cluster"]])
def test_mean_and_fraction_equal_scanpy_aggregate(layout, keys):
    adata = make_synthetic(seed=3, sparse_x=layout != "dense")
    if layout == "csc":
        adata.X = sparse.csc_matrix(adata.X)
    ge = sch.get.grouped_expression(adata, GENES, keys)
    mean = _aggregate(adata, GENES, keys, "mean")
    np.testing.assert_allclose(ge.matrix.loc[GENES, mean.columns], mean, rtol=1e-5, atol=1e-6)
    counts = _aggregate(adata, GENES, keys, "count_nonzero")
    n_cells = adata.obs.groupby(keys, observed=True).size()
    n_cells.index = n_cells.index.map(lambda t: " / ".join(map(str, np.atleast_1d(t))))
    fraction = counts / n_cells[counts.columns].to_numpy()[None, :]
    np.testing.assert_allclose(ge.fraction.loc[GENES, fraction.columns], fraction, rtol=1e-6)
    assert ge.n_cells.loc[n_cells.index].tolist() == n_cells.tolist()


def test_groups_follow_category_order_first_key_outermost(synthetic):
    ge = sch.get.grouped_expression(synthetic, GENES, ["dataset", "cluster"])
    expected = [f"{d} / {c}" for d in ["d1", "d2"] for c in ["c0", "c1", "c2", "c3"]]
    assert list(ge.matrix.columns) == expected
    assert list(ge.groups["dataset"].astype(str)) == [e.split(" / ")[0] for e in expected]
    assert list(ge.groups["cluster"].astype(str)) == [e.split(" / ")[1] for e in expected]


def test_median_equals_numpy(synthetic):
    ge = sch.get.grouped_expression(synthetic, GENES, "cluster", stat="median")
    dense = synthetic[:, GENES].X.toarray()
    for c in ["c0", "c1", "c2", "c3"]:
        rows = (synthetic.obs["cluster"] == c).to_numpy()
        np.testing.assert_allclose(ge.matrix[c], np.median(dense[rows], axis=0), rtol=1e-6)


def test_fraction_stat_is_share_above_zero(synthetic):
    ge = sch.get.grouped_expression(synthetic, GENES, "dataset", stat="fraction")
    dense = synthetic[:, GENES].X.toarray()
    rows = (synthetic.obs["dataset"] == "d2").to_numpy()
    np.testing.assert_allclose(ge.matrix["d2"], (dense[rows] > 0).mean(axis=0))


def test_zscore_and_minmax_match_scipy(synthetic):
    ge = sch.get.grouped_expression(synthetic, GENES, "cluster", scale="zscore")
    raw = ge.unscaled.to_numpy()
    np.testing.assert_allclose(ge.matrix, scipy.stats.zscore(raw, axis=1, ddof=0), atol=1e-12)
    mm = sch.get.grouped_expression(synthetic, GENES, "cluster", scale="minmax").matrix
    lo, hi = raw.min(axis=1, keepdims=True), raw.max(axis=1, keepdims=True)
    np.testing.assert_allclose(mm, (raw - lo) / (hi - lo), atol=1e-12)


def test_constant_gene_scales_to_zero():
    frame = pd.DataFrame([[1.0, 1.0, 1.0], [0.0, 1.0, 2.0]], index=["flat", "ramp"])
    z = sch.arrange.scale_rows(frame, "zscore")
    assert (z.loc["flat"] == 0).all()
    assert np.isfinite(z.to_numpy()).all()


def test_cluster_subset_from_string_and_list(synthetic):
    a = sch.get.grouped_expression(
        synthetic, GENES, ["dataset", "cluster"], clusters="c0, c2", cluster_key="cluster"
    )
    b = sch.get.grouped_expression(
        synthetic, GENES, ["dataset", "cluster"], clusters=["c2", "c0"], cluster_key="cluster"
    )
    assert list(a.matrix.columns) == ["d1 / c0", "d1 / c2", "d2 / c0", "d2 / c2"]
    assert list(b.matrix.columns) == ["d1 / c2", "d1 / c0", "d2 / c2", "d2 / c0"]  # as listed
    pd.testing.assert_frame_equal(a.matrix, b.matrix[a.matrix.columns])
    # a subset by cluster while grouping by dataset only uses the kept cells
    c = sch.get.grouped_expression(
        synthetic, GENES, "dataset", clusters="c0", cluster_key="cluster"
    )
    keep = (synthetic.obs["cluster"] == "c0") & (synthetic.obs["dataset"] == "d1")
    np.testing.assert_allclose(
        c.matrix["d1"], synthetic[keep.to_numpy(), GENES].X.mean(axis=0).A1, rtol=1e-6
    )


def test_empty_combinations_are_left_out(synthetic):
    adata = synthetic[~((synthetic.obs["dataset"] == "d2") & (synthetic.obs["cluster"] == "c1"))]
    ge = sch.get.grouped_expression(adata.copy(), GENES, ["dataset", "cluster"])
    assert "d2 / c1" not in ge.matrix.columns
    assert ge.matrix.shape[1] == 7 and (ge.n_cells > 0).all()


def test_unknown_cluster_and_key_name_valid_choices(synthetic):
    with pytest.raises(KeyError, match=r"'c9'.*valid clusters are 'c0', 'c1'"):
        sch.get.grouped_expression(synthetic, GENES, "cluster", clusters="c0,c9")
    with pytest.raises(KeyError, match=r"'clusterr'.*valid keys.*Did you mean 'cluster'"):
        sch.get.grouped_expression(synthetic, GENES, "clusterr")
    with pytest.raises(ValueError, match="cluster_key"):
        sch.get.grouped_expression(synthetic, GENES, ["dataset", "cluster"], clusters="c0")
    with pytest.raises(ValueError, match=r"stat='mode'.*'mean', 'median', 'fraction'"):
        sch.get.grouped_expression(synthetic, GENES, "cluster", stat="mode")


def test_continuous_groupby_is_refused(synthetic):
    synthetic.obs["score"] = np.linspace(0, 1, synthetic.n_obs)
    with pytest.raises(ValueError, match="'score' is a continuous"):
        sch.get.grouped_expression(synthetic, GENES, "score")


def test_real_kang_means_equal_scanpy(kang):
    genes = ["ISG15", "IFI6", "CD14", "MS4A1", "CD3E"]
    keys = ["group_id", "cluster_id"]
    ge = sch.get.grouped_expression(kang, genes, keys)
    mean = _aggregate(kang, genes, keys, "mean")
    np.testing.assert_allclose(ge.matrix.loc[genes, mean.columns], mean, rtol=1e-5, atol=1e-6)
    # known biology: ISG15 is far higher in stimulated cells of every cell type
    for cell_type in kang.obs["cluster_id"].cat.categories:
        assert (
            ge.matrix.loc["ISG15", f"stim / {cell_type}"]
            > ge.matrix.loc["ISG15", f"ctrl / {cell_type}"] + 1.0
        )
