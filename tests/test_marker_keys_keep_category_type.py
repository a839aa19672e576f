"""Integer categories keep their type as marker keys, in get, tl and pl."""

from __future__ import annotations

import pandas as pd
from conftest import make_synthetic

import sc_heatmaps as sch


def test_marker_keys_keep_the_category_type():
    adata = make_synthetic()
    codes = adata.obs["cluster"].cat.codes.to_numpy()
    adata.obs["num"] = pd.Categorical(codes, categories=[0, 1, 2, 3])
    genes = sch.get.marker_genes(adata, "num", n_genes=2)
    assert list(genes) == [0, 1, 2, 3]
    assert all(type(k) is int for k in genes)
    assert genes[0] == sch.get.marker_genes(adata, "cluster", n_genes=2)["c0"]
    table = sch.tl.top_markers(adata, "num", n_genes=2)
    assert list(table["group"].cat.categories) == [0, 1, 2, 3]
    assert list(table.loc[table["group"] == 1, "gene"]) == genes[1]
    listed = sch.get.marker_genes(adata, "num", n_genes=2, groups=[2, 0])
    assert list(listed) == [0, 2]
    strings = sch.get.marker_genes(adata, "cluster", n_genes=2)
    assert list(strings) == ["c0", "c1", "c2", "c3"] and len(strings["c1"]) == 2
    plot = sch.pl.grouped_heatmap(adata, cluster_key="num", groupby="num", n_genes=2)
    assert plot.data.shape == (8, 4)
