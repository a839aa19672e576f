"""A ranking stored in adata.uns is reused only when it provably belongs to these cells,
genes, source and options (issue 11, item 1); log1p and raw counts are checked (items 11
and 12). Expected values come from scanpy run on the very cells and genes."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
import scanpy as sc
from conftest import make_synthetic

import sc_heatmaps as sch


def _scanpy_top(adata, n: int, method: str = "t-test") -> dict[str, list[str]]:
    ref = adata.copy()
    ref.uns.pop("rank_genes_groups", None)
    sc.tl.rank_genes_groups(ref, "cluster", method=method, n_genes=ref.n_vars)
    return {
        g: list(sc.get.rank_genes_groups_df(ref, g)["names"].head(n))
        for g in ref.obs["cluster"].cat.categories
    }


def _ours_top(table: pd.DataFrame) -> dict[str, list[str]]:
    return {str(g): list(f["gene"]) for g, f in table.groupby("group", observed=True)}


def test_ranking_of_all_cells_is_not_reused_for_a_subset(kang, caplog):
    kang.obs["cluster"] = kang.obs["cluster_id"]
    sc.tl.rank_genes_groups(kang, "cluster", method="t-test", n_genes=kang.n_vars)
    stim = kang[kang.obs["group_id"] == "stim"].copy()
    with caplog.at_level(logging.INFO, logger="sc_heatmaps"):
        table = sch.tl.top_markers(stim, "cluster", n_genes=10, duplicates="keep")
    assert _ours_top(table) == _scanpy_top(stim, 10)
    assert "is not reused" in caplog.text and "other cells" in caplog.text


def test_ranking_with_genes_the_subset_lacks_is_not_reused(caplog):
    adata = make_synthetic()
    sc.tl.rank_genes_groups(adata, "cluster", method="t-test", n_genes=adata.n_vars)
    b = adata[:, [g for g in adata.var_names if g != "G00"]].copy()
    with caplog.at_level(logging.INFO, logger="sc_heatmaps"):
        table = sch.tl.top_markers(b, "cluster", n_genes=3, duplicates="keep")
    assert "G00" not in set(table["gene"])
    assert _ours_top(table) == _scanpy_top(b, 3)
    assert "does not hold" in caplog.text
    # the pct columns belong to the genes named in each row
    dense = b.X.toarray()
    for _, row in table.iterrows():
        cells = (b.obs["cluster"] == row["group"]).to_numpy()
        expected = (dense[cells, b.var_names.get_loc(row["gene"])] > 0).mean()
        assert row["pct_in"] == pytest.approx(expected)


def test_grouped_heatmap_of_a_gene_subset_names_no_foreign_gene():
    adata = make_synthetic()
    sc.tl.rank_genes_groups(adata, "cluster", method="t-test", n_genes=adata.n_vars)
    b = adata[:, [g for g in adata.var_names if g not in ("G00", "G04")]].copy()
    plot = sch.pl.grouped_heatmap(b, cluster_key="cluster", n_genes=2)
    assert set(plot.data.index.get_level_values(-1)) <= set(b.var_names)


def test_truncated_ranking_is_recomputed(caplog):
    adata = make_synthetic()
    sc.tl.rank_genes_groups(adata, "cluster", method="t-test", n_genes=5)
    with caplog.at_level(logging.INFO, logger="sc_heatmaps"):
        table = sch.tl.top_markers(adata, "cluster", n_genes=3, duplicates="keep")
    assert _ours_top(table) == _scanpy_top(adata, 3)
    assert "top 5 of 30" in caplog.text


def test_changed_values_are_detected_by_the_spot_check(caplog):
    adata = make_synthetic()
    sc.tl.rank_genes_groups(adata, "cluster", method="wilcoxon", n_genes=adata.n_vars)
    adata.X = adata.X[:, ::-1].copy()  # same names, other values
    with caplog.at_level(logging.INFO, logger="sc_heatmaps"):
        table = sch.tl.top_markers(
            adata, "cluster", n_genes=3, method="wilcoxon", duplicates="keep"
        )
    assert _ours_top(table) == _scanpy_top(adata, 3, "wilcoxon")
    assert "differ" in caplog.text


def test_matching_ranking_is_still_reused(monkeypatch):
    adata = make_synthetic()
    sc.tl.rank_genes_groups(adata, "cluster", method="wilcoxon", n_genes=adata.n_vars)
    stored = adata.uns["rank_genes_groups"]
    expected = {
        g: list(np.asarray(stored["names"][g])[:3]) for g in adata.obs["cluster"].cat.categories
    }
    calls = []
    real = sc.tl.rank_genes_groups

    def counting(tmp, *args, **kwargs):
        calls.append(tmp.n_vars)
        return real(tmp, *args, **kwargs)

    monkeypatch.setattr(sc.tl, "rank_genes_groups", counting)
    table = sch.tl.top_markers(adata, "cluster", n_genes=3, method="wilcoxon", duplicates="keep")
    assert _ours_top(table) == expected
    assert all(n < adata.n_vars for n in calls)  # only the spot check ran, on a few genes


def test_our_stored_ranking_carries_a_fingerprint_checked_on_reuse(caplog):
    adata = make_synthetic()
    sch.tl.top_markers(adata, "cluster", n_genes=2, method="logreg", key_added="lr")
    subset = adata[adata.obs["dataset"] == "d1"].copy()
    with caplog.at_level(logging.INFO, logger="sc_heatmaps"):
        sch.tl.top_markers(subset, "cluster", n_genes=2, method="logreg", key="lr")
    assert "fingerprint differs" in caplog.text


def test_log1p_that_is_not_a_mapping_is_a_clear_error():
    adata = make_synthetic()
    adata.uns["log1p"] = "yes"
    with pytest.raises(ValueError, match=r"adata.uns\['log1p'\] is 'yes'"):
        sch.tl.top_markers(adata, "cluster", n_genes=2)


def test_raw_counts_warn_as_scanpy_does():
    adata = make_synthetic()
    adata.X = adata.X.copy()
    adata.X.data = np.round(np.expm1(adata.X.data) * 10)
    with pytest.warns(UserWarning, match="look like raw counts"):
        sch.tl.top_markers(adata, "cluster", n_genes=2)
