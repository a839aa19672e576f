"""Differences between datasets within each cluster: ``tl.dataset_differences`` and its
heatmap, ``pl.dataset_differences_heatmap``.

Expected values come from scanpy's ``rank_genes_groups`` run on each cluster's cells,
from ``scipy.stats.ttest_ind`` on per-sample means, from numpy, and from known biology
(the interferon response of stimulated PBMCs in Kang et al. 2018).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import scanpy as sc
from conftest import fingerprint
from scipy import sparse, stats
from statsmodels.stats.multitest import multipletests

import sc_heatmaps as sch
from sc_heatmaps.get import category_colors

FIELDS = [("scores", "score"), ("pvals", "pval"), ("pvals_adj", "pval_adj")]


def _scanpy_table(adata, cluster_key, cluster, dataset_key, dataset, reference) -> pd.DataFrame:
    sub = adata[adata.obs[cluster_key] == cluster].copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sc.tl.rank_genes_groups(
            sub,
            dataset_key,
            groups=[dataset],
            reference=reference,
            method="t-test",
            use_raw=False,
        )
    return sc.get.rank_genes_groups_df(sub, dataset).set_index("names")


def _dense(m) -> np.ndarray:
    return np.asarray(m.toarray() if sparse.issparse(m) else m, dtype=np.float64)


def _check_against_scanpy(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    ours = ours.set_index("gene")
    assert set(ours.index) == set(theirs.index)
    ours = ours.loc[theirs.index]
    for field, column in FIELDS:
        np.testing.assert_allclose(ours[column], theirs[field], rtol=1e-4, atol=1e-300)
    finite = np.isfinite(theirs["logfoldchanges"].to_numpy())
    np.testing.assert_allclose(
        ours["logfc"].to_numpy()[finite], theirs["logfoldchanges"].to_numpy()[finite], rtol=1e-4
    )


def test_reference_equals_scanpy_per_cluster(kang):
    table = sch.tl.dataset_differences(kang, "group_id", "cluster_id", reference="ctrl")
    assert list(table.columns[:10]) == [
        "cluster",
        "dataset",
        "reference",
        "gene",
        "logfc",
        "score",
        "pval",
        "pval_adj",
        "pct_dataset",
        "pct_reference",
    ]
    assert set(table["dataset"].astype(str)) == {"stim"}
    assert set(table["reference"]) == {"ctrl"}
    for cluster in ["B cells", "CD8 T cells", "FCGR3A+ Monocytes"]:
        ours = table[table["cluster"] == cluster]
        theirs = _scanpy_table(kang, "cluster_id", cluster, "group_id", "stim", "ctrl")
        _check_against_scanpy(ours, theirs)
        # sorted by score, as scanpy ranks
        assert list(ours["gene"][:20]) == list(theirs.index[:20])
        # fractions of the cluster's cells above 0, from numpy
        cells = (kang.obs["cluster_id"] == cluster).to_numpy()
        X = _dense(kang.X)
        for side, column in (("stim", "pct_dataset"), ("ctrl", "pct_reference")):
            rows = cells & (kang.obs["group_id"] == side).to_numpy()
            expected = pd.Series((X[rows] > 0).mean(axis=0), index=kang.var_names)
            got = ours.set_index("gene")[column]
            np.testing.assert_allclose(got, expected.loc[got.index])
            assert (ours["n_" + column[4:]] == rows.sum()).all()


def test_rest_equals_scanpy_one_vs_rest_within_the_cluster(example):
    table = sch.tl.dataset_differences(example, "dataset", "cluster", clusters=["B", "DC"])
    assert list(table["cluster"].cat.categories) == ["B", "DC"]
    assert set(table["reference"]) == {"rest"}
    for cluster in ["B", "DC"]:
        for ds in ["ctrl", "stim_IFN", "stim_LPS"]:
            ours = table[(table["cluster"] == cluster) & (table["dataset"] == ds)]
            theirs = _scanpy_table(example, "cluster", cluster, "dataset", ds, "rest")
            _check_against_scanpy(ours, theirs)


def test_pseudobulk_equals_welch_on_per_sample_means(kang):
    table = sch.tl.dataset_differences(
        kang, "group_id", "cluster_id", reference="ctrl", sample_key="sample_id"
    )
    X = _dense(kang.X)
    for cluster in ["B cells", "CD14+ Monocytes"]:
        cells = (kang.obs["cluster_id"] == cluster).to_numpy()
        means = {}
        for side, samples in (("stim", ["stim101", "stim107"]), ("ctrl", ["ctrl101", "ctrl107"])):
            rows = [cells & (kang.obs["sample_id"] == s).to_numpy() for s in samples]
            means[side] = np.stack([X[r].mean(axis=0) for r in rows])
        t, p = stats.ttest_ind(means["stim"], means["ctrl"], equal_var=False)
        t, p = np.nan_to_num(t, nan=0.0), np.nan_to_num(p, nan=1.0)
        ours = table[table["cluster"] == cluster].set_index("gene").loc[kang.var_names]
        np.testing.assert_allclose(ours["score"], t, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(ours["pval"], p, rtol=1e-6, atol=1e-300)
        np.testing.assert_allclose(ours["pval_adj"], multipletests(p, method="fdr_bh")[1])
        fc = np.log2(
            (np.expm1(means["stim"].mean(0)) + 1e-9) / (np.expm1(means["ctrl"].mean(0)) + 1e-9)
        )
        np.testing.assert_allclose(ours["logfc"], fc, rtol=1e-6)
        assert (ours["n_dataset"] == 2).all() and (ours["n_reference"] == 2).all()


def test_pseudobulk_skips_and_reports_clusters_with_one_sample(synthetic):
    adata = synthetic
    # d1 has samples s1, s2; d2 has s3, s4; cluster c3 of d2 only in s3
    sample = np.where(adata.obs["dataset"] == "d1", "s1", "s3").astype(object)
    second = np.arange(adata.n_obs) % 2 == 1
    sample[second & (adata.obs["dataset"] == "d1").to_numpy()] = "s2"
    sample[second & (adata.obs["dataset"] == "d2").to_numpy() & (adata.obs["cluster"] != "c3")] = (
        "s4"
    )
    adata.obs["sample"] = pd.Categorical(sample)
    with pytest.warns(UserWarning, match=r"c3 / d2: 1 sample in the dataset"):
        table = sch.tl.dataset_differences(
            adata, "dataset", "cluster", reference="d1", sample_key="sample"
        )
    assert list(table["cluster"].cat.categories) == ["c0", "c1", "c2"]
    assert table.attrs["skipped"] == [
        {
            "cluster": "c3",
            "dataset": "d2",
            "reason": "1 sample in the dataset (at least 2 are needed)",
        }
    ]


def test_sample_in_two_datasets_is_refused(synthetic):
    synthetic.obs["sample"] = pd.Categorical(np.arange(synthetic.n_obs) % 3)
    with pytest.raises(ValueError, match="several datasets"):
        sch.tl.dataset_differences(synthetic, "dataset", "cluster", sample_key="sample")


def test_bad_reference_names_the_valid_datasets(example):
    with pytest.raises(KeyError, match=r"'ctl'.*\['ctrl', 'stim_IFN', 'stim_LPS'\]"):
        sch.tl.dataset_differences(example, "dataset", "cluster", reference="ctl")


def test_adata_unchanged_and_key_added(example):
    before = fingerprint(example)
    sch.tl.dataset_differences(example, "dataset", "cluster", reference="ctrl", n_genes=2)
    sch.pl.dataset_differences_heatmap(
        example, dataset_key="dataset", cluster_key="cluster", reference="ctrl", n_genes=2
    )
    assert fingerprint(example) == before
    table = sch.tl.dataset_differences(example, "dataset", "cluster", key_added="diff")
    pd.testing.assert_frame_equal(example.uns["diff"], table)
    with pytest.raises(ValueError, match="already exists"):
        sch.tl.dataset_differences(example, "dataset", "cluster", key_added="diff")


def test_n_genes_keeps_the_top_up_and_down(example):
    full = sch.tl.dataset_differences(example, "dataset", "cluster", reference="ctrl")
    top = sch.tl.dataset_differences(example, "dataset", "cluster", reference="ctrl", n_genes=3)
    for (cluster, ds), rows in full.groupby(["cluster", "dataset"], observed=True):
        kept = top[(top["cluster"] == cluster) & (top["dataset"] == ds)]
        scores = rows["score"].to_numpy()
        expected = set(rows["gene"][:3]) | set(rows["gene"][-3:])
        assert set(kept["gene"]) == expected, (cluster, ds)
        assert np.all(np.diff(scores) <= 0)


def test_wilcoxon_equals_scanpy_within_a_cluster(example):
    table = sch.tl.dataset_differences(
        example, "dataset", "cluster", reference="ctrl", method="wilcoxon", clusters="NK"
    )
    sub = example[example.obs["cluster"] == "NK"].copy()
    sc.tl.rank_genes_groups(
        sub, "dataset", groups=["stim_IFN"], reference="ctrl", method="wilcoxon"
    )
    theirs = sc.get.rank_genes_groups_df(sub, "stim_IFN").set_index("names")
    ours = table[table["dataset"] == "stim_IFN"]
    _check_against_scanpy(ours, theirs)


INTERFERON = ["ISG15", "IFI6", "IFIT3", "MX1", "IFIT1", "ISG20"]


def test_kang_interferon_genes_up_in_stim_in_every_cell_type(kang):
    """Known biology: interferon-beta stimulation raises the interferon-stimulated genes
    in every cell type (Kang et al. 2018, Fig. 2)."""
    table = sch.tl.dataset_differences(kang, "group_id", "cluster_id", reference="ctrl")
    assert list(table["cluster"].cat.categories) == list(kang.obs["cluster_id"].cat.categories)
    for cluster, rows in table.groupby("cluster", observed=True):
        rows = rows.set_index("gene")
        genes = rows.loc[INTERFERON]
        assert (genes["logfc"] > 1).all(), cluster
        assert (genes["pval_adj"] < 1e-5).all(), cluster
        assert "ISG15" in list(rows.index[:5]), cluster


def test_heatmap_structure(kang):
    plot = sch.pl.dataset_differences_heatmap(
        kang,
        dataset_key="group_id",
        cluster_key="cluster_id",
        reference="ctrl",
        n_genes=4,
        rank_by="logfc",
    )
    clusters = [str(c) for c in kang.obs["cluster_id"].cat.categories]
    assert list(plot.data.columns) == [f"{c} / stim" for c in clusters]
    spec = plot.spec
    assert list(spec.col_meta.columns) == ["cluster_id", "group_id"]
    assert list(spec.col_meta["cluster_id"]) == clusters
    assert spec.col_split == "cluster_id"
    assert spec.col_palettes["cluster_id"] == category_colors(kang, "cluster_id")
    assert spec.col_palettes["group_id"] == {"stim": category_colors(kang, "group_id")["stim"]}
    assert spec.vcenter == 0 and spec.vmin == -spec.vmax and spec.vmax > 0
    assert spec.cmap == "RdBu_r"
    assert set(plot.axes["col_bars"]) == {"cluster_id", "group_id"}
    # values are the table's log fold changes
    table = sch.tl.dataset_differences(kang, "group_id", "cluster_id", reference="ctrl")
    lookup = table.set_index(["gene", "cluster"])["logfc"]
    for gene in plot.data.index[:5]:
        for cluster in clusters:
            assert plot.data.loc[gene, f"{cluster} / stim"] == pytest.approx(
                lookup.loc[(gene, cluster)]
            )
    # each cluster's block holds its top genes by |logfc| among significant ones
    block = [g for g, b in zip(plot.data.index, spec.row_blocks, strict=True) if b == "B cells"]
    b_rows = table[(table["cluster"] == "B cells") & (table["pval_adj"] <= 0.05)]
    assert block == list(
        b_rows.reindex(b_rows["logfc"].abs().sort_values().index)["gene"][::-1][:4]
    )


def test_heatmap_from_a_table_with_given_colours(example):
    table = sch.tl.dataset_differences(example, "dataset", "cluster")
    colors = {"dataset": {"ctrl": "#000000", "stim_IFN": "#ff0000", "stim_LPS": "#00ff00"}}
    plot = sch.pl.dataset_differences_heatmap(
        table, genes="IFI6,ISG15", palettes=colors, clusters=["NK", "B"], vmax=2.0
    )
    assert list(plot.data.index) == ["IFI6", "ISG15"]
    assert list(plot.data.columns[:3]) == ["NK / ctrl", "NK / stim_IFN", "NK / stim_LPS"]
    assert plot.spec.col_palettes["dataset"] == colors["dataset"]
    assert (plot.spec.vmin, plot.spec.vmax, plot.spec.vcenter) == (-2.0, 2.0, 0.0)
    with pytest.raises(KeyError, match="IFI6"):
        sch.pl.dataset_differences_heatmap(table, genes=["IFI7"])


def test_heatmap_picks_genes_by_score_when_asked(example):
    table = sch.tl.dataset_differences(example, "dataset", "cluster")
    plot = sch.pl.dataset_differences_heatmap(table, n_genes=3, rank_by="score", clusters="NK")
    nk = table[(table["cluster"] == "NK") & (table["pval_adj"] <= 0.05)]
    best = nk.assign(a=nk["score"].abs()).groupby("gene")["a"].max()
    assert list(plot.data.index) == list(best.sort_values(ascending=False).index[:3])
    assert plot.params["genes_from"] == "top |score| per cluster"


def test_the_same_key_twice_is_refused_naming_both(example):
    with pytest.raises(ValueError, match=r"dataset_key='dataset' and cluster_key='dataset'.*same"):
        sch.tl.dataset_differences(example, "dataset", "dataset")
    with pytest.raises(ValueError, match=r"cluster_key='cluster' and sample_key='cluster'"):
        sch.tl.dataset_differences(example, "dataset", "cluster", sample_key="cluster")


def test_a_single_cell_is_counted_in_the_singular(synthetic):
    """The skipped comparison's reason says "1 cell", not "1 cells"."""
    adata = synthetic
    in_c3_d2 = np.flatnonzero((adata.obs["cluster"] == "c3") & (adata.obs["dataset"] == "d2"))
    adata = adata[np.setdiff1d(np.arange(adata.n_obs), in_c3_d2[1:])].copy()
    with pytest.warns(UserWarning, match=r"c3 / d2: 1 cell in the dataset"):
        table = sch.tl.dataset_differences(adata, "dataset", "cluster", reference="d1")
    reasons = [s["reason"] for s in table.attrs["skipped"]]
    assert reasons == ["1 cell in the dataset (at least 2 are needed)"]
