"""Every public function leaves the AnnData untouched, except documented keys."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from conftest import fingerprint

import sc_heatmaps as sch

GENES = ["G00", "G04", "G08"]

CALLS = {
    "tl.top_markers": lambda a: sch.tl.top_markers(a, "cluster", n_genes=2),
    "tl.top_markers(first)": lambda a: sch.tl.top_markers(a, "cluster", duplicates="first"),
    "get.marker_genes": lambda a: sch.get.marker_genes(a, "cluster", n_genes=2),
    "get.grouped_expression": lambda a: sch.get.grouped_expression(
        a, GENES, ["dataset", "cluster"], scale="zscore", clusters="c0,c1", cluster_key="cluster"
    ),
    "get.grouped_expression(median)": lambda a: sch.get.grouped_expression(
        a, GENES, "cluster", stat="median"
    ),
    "get.category_colors": lambda a: sch.get.category_colors(a, "cluster"),
    "pl.grouped_heatmap(markers)": lambda a: sch.pl.grouped_heatmap(
        a,
        cluster_key="cluster",
        dataset_key="dataset",
        n_genes=2,
        cluster_rows=True,
        cluster_cols=True,
    ),
    "pl.grouped_heatmap(list)": lambda a: sch.pl.grouped_heatmap(a, GENES, "cluster"),
    "get.dual_expression": lambda a: sch.get.dual_expression(
        a, "G00", "G04", color="cluster", split_by="dataset", exclude_double_zero=True
    ),
    "pl.dual_expression": lambda a: sch.pl.dual_expression(
        a, "G00", "G04", color="cluster", split_by="dataset", jitter=0.1, max_points=10
    ),
    "get.correlation": lambda a: sch.get.correlation(
        a, genes=GENES, groupby="dataset", method="spearman", min_nonzero=0
    ),
    "get.correlation(obs)": lambda a: sch.get.correlation(
        a, rows="genes", cols="obs", genes=GENES, obs_keys=["umis"], min_nonzero=0
    ),
    "pl.correlation_heatmap": lambda a: sch.pl.correlation_heatmap(
        a, genes=GENES, groupby="dataset", min_nonzero=0
    ),
    "pl.cell_heatmap": lambda a: sch.pl.cell_heatmap(
        a, GENES, ["dataset", "cluster"], max_cells_per_group=4, reduce="sample"
    ),
    "pl.interactive_heatmap": lambda a: sch.pl.interactive_heatmap(
        sch.pl.grouped_heatmap(a, GENES, "cluster")
    ),
    "get.select_cells": lambda a: sch.get.select_cells(a, {"dataset": ["d1"]}),
    "get.obs_summary": lambda a: sch.get.obs_summary(a, "umis", "cluster", "dataset", op="mean"),
    "pl.matrix_heatmap": lambda a: sch.pl.matrix_heatmap(
        sch.get.obs_summary(a, "umis", "cluster", "dataset", op="median")
    ),
    "pl.savefig": lambda a: sch.pl.grouped_heatmap(a, GENES, "cluster").figure,
}


def test_every_public_function_is_checked():
    public = {
        f"{m}.{name}"
        for m in ("tl", "pp", "get", "pl")
        for name in getattr(sch, m).__all__
        if callable(getattr(getattr(sch, m), name))
        and not isinstance(getattr(getattr(sch, m), name), type)
    }
    checked = {name.split("(")[0] for name in CALLS} | {"pp.integrate"}
    assert public <= checked, sorted(public - checked)


@pytest.mark.parametrize("sparse_raw", [False, True])
@pytest.mark.parametrize("name", list(CALLS))
def test_public_calls_do_not_modify_adata(synthetic, name, sparse_raw):
    if sparse_raw:
        synthetic.raw = synthetic.copy()
    synthetic.uns["cluster_colors"] = ["#aa0000", "#00aa00", "#0000aa", "#aaaa00"]
    synthetic.obs["umis"] = np.arange(synthetic.n_obs, dtype=float)
    synthetic.obsm["X_umap"] = np.zeros((synthetic.n_obs, 2))
    before = fingerprint(synthetic)
    colors = list(synthetic.uns["cluster_colors"])
    CALLS[name](synthetic)
    assert fingerprint(synthetic) == before
    assert list(synthetic.uns["cluster_colors"]) == colors
    plt.close("all")


def test_top_markers_key_added_changes_only_that_key(synthetic):
    before = fingerprint(synthetic)
    sch.tl.top_markers(synthetic, "cluster", key_added="markers")
    after = fingerprint(synthetic)
    assert sorted(after["uns"]) == sorted([*before["uns"], "markers"])
    del after["uns"]["markers"]
    assert after == before


def test_integrate_changes_only_its_layer(synthetic):
    synthetic.raw = synthetic.copy()
    before = fingerprint(synthetic)
    sch.pp.integrate(synthetic, "dataset", key_added="combat")
    after = fingerprint(synthetic)
    assert set(after["layers"]) == {"combat"}
    after["layers"] = before["layers"]
    assert after == before
