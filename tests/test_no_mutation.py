"""Every public function leaves the AnnData untouched, except documented keys."""

from __future__ import annotations

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
}


@pytest.mark.parametrize("sparse_raw", [False, True])
@pytest.mark.parametrize("name", list(CALLS))
def test_public_calls_do_not_modify_adata(synthetic, name, sparse_raw):
    if sparse_raw:
        synthetic.raw = synthetic.copy()
    synthetic.uns["cluster_colors"] = ["#aa0000", "#00aa00", "#0000aa", "#aaaa00"]
    before = fingerprint(synthetic)
    colors = list(synthetic.uns["cluster_colors"])
    CALLS[name](synthetic)
    assert fingerprint(synthetic) == before
    assert list(synthetic.uns["cluster_colors"]) == colors


def test_top_markers_key_added_changes_only_that_key(synthetic):
    before = fingerprint(synthetic)
    sch.tl.top_markers(synthetic, "cluster", key_added="markers")
    after = fingerprint(synthetic)
    assert after["uns"] == sorted([*before["uns"], "markers"])
    after["uns"] = before["uns"]
    assert after == before


def test_integrate_changes_only_its_layer(synthetic):
    synthetic.raw = synthetic.copy()
    before = fingerprint(synthetic)
    sch.pp.integrate(synthetic, "dataset", key_added="combat")
    after = fingerprint(synthetic)
    assert set(after["layers"]) == {"combat"}
    after["layers"] = before["layers"]
    assert after == before
