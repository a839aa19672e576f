"""Behaviour that differs between the lowest and the newest supported stack.

pandas 3 writes integer categories as floats in ``Categorical.astype(str)`` when a
label is missing ("0.0"), anndata 0.13 lists X under the layer key ``None``, and
numpy < 2 gives a 1 x 1 NaN as the correlation matrix of one row and no columns, and
pandas < 2.2 refuses to turn a nullable column with missing values into floats.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scanpy as sc

import sc_heatmaps as sch


def _integer_clusters_with_a_missing_label(adata):
    codes = adata.obs["cluster"].cat.codes.to_numpy().copy()
    codes[:3] = -1
    integer = pd.Categorical.from_codes(codes, categories=pd.Index([0, 1, 2, 3]))
    text = pd.Categorical.from_codes(codes, categories=["0", "1", "2", "3"])
    return integer, text


@pytest.mark.parametrize("method", ["t-test", "wilcoxon"])
def test_integer_categories_with_a_missing_label_rank_like_scanpy(synthetic, method):
    integer, text = _integer_clusters_with_a_missing_label(synthetic)
    synthetic.obs["cluster"] = integer
    ours = sch.tl.top_markers(synthetic, "cluster", n_genes=3, method=method)
    ref = synthetic.copy()
    ref.obs["cluster"] = text
    sc.tl.rank_genes_groups(ref, "cluster", method=method)
    for group in ["0", "1", "2", "3"]:
        theirs = sc.get.rank_genes_groups_df(ref, group).head(3)
        mine = ours[ours["group"].astype(str) == group]
        assert list(mine["gene"]) == list(theirs["names"])
        np.testing.assert_allclose(mine["score"], theirs["scores"], rtol=1e-5)


def test_unknown_source_lists_only_named_layers(synthetic):
    synthetic.layers["counts"] = synthetic.X.copy()
    with pytest.raises(KeyError) as info:
        sch.get.grouped_expression(synthetic, ["G00"], "cluster", source="nope")
    message = str(info.value)
    assert "'counts'" in message
    assert "None" not in message


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_correlation_of_no_variables_is_empty(method):
    from sc_heatmaps.get._correlation import correlation_matrix

    for n_rows in (1, 5):  # one row: a one-cell group
        assert correlation_matrix(np.ones((n_rows, 0)), method).shape == (0, 0)


def _nullable_umis(adata):
    """A nullable Int64 obs column with missing values (pandas < 2.2 refuses to turn such a
    column into floats without an explicit na_value)."""
    umis = pd.array(np.arange(adata.n_obs) % 7 * 100, dtype="Int64")
    umis[::5] = pd.NA
    adata.obs["umis"] = umis
    return adata.obs["umis"].astype("float64")  # NaN for <NA>


def test_obs_summary_of_a_nullable_column(synthetic):
    floats = _nullable_umis(synthetic)
    table = sch.get.obs_summary(synthetic, "umis", "cluster", "dataset", op="mean")
    expected = (
        floats.groupby([synthetic.obs["cluster"], synthetic.obs["dataset"]], observed=True)
        .mean()
        .unstack()
    )
    np.testing.assert_allclose(
        table.to_numpy(dtype=float), expected.loc[table.index, table.columns].to_numpy()
    )


def test_correlation_with_a_nullable_column(synthetic):
    _nullable_umis(synthetic)
    res = sch.get.correlation(synthetic, rows=["G00", "umis"], cols=["G00"], min_nonzero=0)
    reasons = res.dropped.set_index("variable")["reason"]
    assert reasons["umis"] == "holds NaN or inf"
    assert res.matrix.loc["G00", "G00"] == pytest.approx(1.0)


def test_clustering_identical_columns_draws_a_flat_dendrogram():
    """Merge heights all 0 (each column one z-scored value): marsilea < 0.6.3 crashed."""
    frame = pd.DataFrame(
        np.diag([79.5, 82.0, 69.4]).astype(float), index=["1", "0", "30"], columns=["a", "b", "c"]
    )
    frame[frame == 0] = np.nan
    plot = sch.pl.matrix_heatmap(frame, scale="zscore", cluster_cols=True)
    assert sorted(plot.data.columns) == ["a", "b", "c"]
    assert plot.axes["col_dendrogram"] is not None
