"""Behaviour that differs between the lowest and the newest supported stack.

pandas 3 writes integer categories as floats in ``Categorical.astype(str)`` when a
label is missing ("0.0"), anndata 0.13 lists X under the layer key ``None``, and
numpy < 2 gives a 1 x 1 NaN as the correlation matrix of one row and no columns.
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
