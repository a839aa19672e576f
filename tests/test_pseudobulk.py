"""Pseudobulk DESeq2 differences (``tl.dataset_differences(method="pseudobulk")``).

The references are independent: ``sc.get.aggregate(func="sum")`` for the sums, pydeseq2
run by hand on those sums for every number of the table, planted effects in simulated
negative-binomial counts, and known biology on Kang (interferon-stimulated genes).
"""

from __future__ import annotations

import sys
import warnings

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scanpy as sc
from conftest import fingerprint
from pydeseq2.dds import DeseqDataSet  # the de extra, part of the test extra
from pydeseq2.default_inference import DefaultInference
from pydeseq2.ds import DeseqStats
from scipy import sparse

import sc_heatmaps as sch

ISGS = ["ISG15", "IFI6", "IFIT3", "MX1"]
PLANTED = [0, 1, 2, 3, 4]  # genes up 4x in "stim", in cluster c0 only


def make_counts(seed=0, n_donors=3, n_cells=25, n_genes=40, float_counts=False) -> ad.AnnData:
    """Negative-binomial counts: donors x (ctrl, stim) x 2 clusters, donor effects on
    every gene, a 4x condition effect on genes 0-4 of cluster c0."""
    rng = np.random.default_rng(seed)
    base = rng.lognormal(0.0, 1.0, n_genes)
    rows, blocks = [], []
    for d in range(n_donors):
        donor_effect = rng.lognormal(0.0, 0.4, n_genes)
        for cond in ("ctrl", "stim"):
            for cl in ("c0", "c1"):
                mu = base * donor_effect * (1.5 if cl == "c1" else 1.0)
                if cond == "stim" and cl == "c0":
                    mu[PLANTED] *= 4.0
                lib = rng.lognormal(0.0, 0.3, (n_cells, 1))
                r = 5.0  # NB size: variance mu + mu^2 / 5
                blocks.append(rng.negative_binomial(r, r / (r + mu * lib)))
                rows += [(f"d{d}", cond, cl, f"{cond}_d{d}")] * n_cells
    obs = pd.DataFrame(rows, columns=["donor", "condition", "cluster", "sample"])
    obs.index = [f"cell{i}" for i in range(len(obs))]
    for c in obs.columns:
        obs[c] = obs[c].astype("category")
    X = np.vstack(blocks).astype(np.float32 if float_counts else np.int64)
    var = pd.DataFrame(index=[f"G{i:02d}" for i in range(n_genes)])
    return ad.AnnData(X=sparse.csr_matrix(X), obs=obs, var=var)


def by_hand(adata, cluster_key, cluster, sample_key, design, contrast) -> pd.DataFrame:
    """pydeseq2 run directly on ``sc.get.aggregate(func="sum")`` sums of one cluster."""
    sub = adata[adata.obs[cluster_key] == cluster]
    agg = sc.get.aggregate(sub, sample_key, func="sum")
    counts = pd.DataFrame(
        np.asarray(agg.layers["sum"]).astype(np.int64),
        index=agg.obs_names.astype(str),
        columns=agg.var_names.astype(str),
    )
    counts = counts[counts.sum(axis=1) > 0]
    factors = [f.strip() for f in design.lstrip("~").split("+")]
    meta = sub.obs.drop_duplicates(sample_key).set_index(sample_key)[factors]
    meta = meta.astype(str).loc[counts.index]
    inference = DefaultInference(n_cpus=1)
    dds = DeseqDataSet(
        counts=counts,
        metadata=meta,
        design=design,
        size_factors_fit_type="poscounts",
        inference=inference,
        quiet=True,
    )
    dds.deseq2()
    stats = DeseqStats(dds, contrast=contrast, inference=inference, quiet=True)
    stats.summary()
    return stats.results_df


def assert_equals_by_hand(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    ours = ours.set_index("gene").loc[theirs.index]
    pairs = {
        "logfc": "log2FoldChange",
        "score": "stat",
        "pval": "pvalue",
        "pval_adj": "padj",
        "baseMean": "baseMean",
    }
    for mine, their in pairs.items():
        np.testing.assert_allclose(
            ours[mine].to_numpy(float), theirs[their].to_numpy(float), rtol=1e-6, err_msg=mine
        )


def run(adata, **kwargs) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pydeseq2: few residual df
        return sch.tl.dataset_differences(adata, **kwargs)


PAIRED = {
    "dataset_key": "condition",
    "cluster_key": "cluster",
    "reference": "ctrl",
    "method": "pseudobulk",
    "sample_key": "sample",
    "design_covariates": ["donor"],
    "min_counts": 0,
}


@pytest.fixture(scope="module")
def counts_adata() -> ad.AnnData:
    return make_counts()


@pytest.fixture(scope="module")
def paired_table(counts_adata) -> pd.DataFrame:
    return run(counts_adata.copy(), **PAIRED)


def test_sums_equal_scanpy_aggregate(counts_adata):
    """The one-pass sums of each (cluster, sample) are sc.get.aggregate's."""
    from sc_heatmaps._aggregate import group_stats_all

    obs = counts_adata.obs
    n_samples = len(obs["sample"].cat.categories)
    codes = obs["cluster"].cat.codes.to_numpy() * n_samples + obs["sample"].cat.codes.to_numpy()
    ours = group_stats_all(counts_adata.X, codes.astype(np.int64), 2 * n_samples).sums
    agg = sc.get.aggregate(counts_adata, ["cluster", "sample"], func="sum")
    for i, (cl, sm) in enumerate(zip(agg.obs["cluster"], agg.obs["sample"], strict=True)):
        row = obs["cluster"].cat.categories.get_loc(cl) * n_samples
        row += obs["sample"].cat.categories.get_loc(sm)
        np.testing.assert_array_equal(ours[row], np.asarray(agg.layers["sum"][i]).ravel())


@pytest.mark.parametrize("cluster", ["c0", "c1"])
def test_paired_design_equals_pydeseq2_by_hand(counts_adata, paired_table, cluster):
    theirs = by_hand(
        counts_adata,
        "cluster",
        cluster,
        "sample",
        "~donor + condition",
        ["condition", "stim", "ctrl"],
    )
    assert_equals_by_hand(paired_table[paired_table["cluster"] == cluster], theirs)


def test_planted_effects_found_and_columns_described(paired_table):
    c0 = paired_table[paired_table["cluster"] == "c0"].set_index("gene")
    called = set(c0.index[c0["pval_adj"] < 0.05])
    planted = {f"G{i:02d}" for i in PLANTED}
    assert planted <= called
    assert len(called - planted) <= 2  # about 5% false discoveries of 35 null genes at most
    assert (c0.loc[sorted(planted), "logfc"] > 1.0).all()  # 4x: log2 fold change near 2
    assert (paired_table["n_samples_dataset"] == 3).all()
    assert (paired_table["n_samples_reference"] == 3).all()
    assert (paired_table["n_dataset"] == 75).all()  # cells of the 3 samples
    attrs = paired_table.attrs
    assert attrs["unit"] == "samples"
    assert attrs["method"] == "pseudobulk DESeq2 (pydeseq2)"
    assert attrs["design"] == "~ donor + condition"
    assert attrs["reference"] == "ctrl"
    assert attrs["skipped"] == [] and attrs["dropped"] == []
    assert attrs["samples"][0]["dataset_samples"] == ["stim_d0", "stim_d1", "stim_d2"]


def test_unpaired_design_equals_pydeseq2_by_hand(counts_adata):
    kwargs = {**PAIRED, "design_covariates": None, "clusters": ["c0"]}
    ours = run(counts_adata.copy(), **kwargs)
    theirs = by_hand(
        counts_adata, "cluster", "c0", "sample", "~condition", ["condition", "stim", "ctrl"]
    )
    assert_equals_by_hand(ours, theirs)
    assert ours.attrs["design"] == "~ condition"


def test_counts_in_a_layer_raw_and_float_dtype_give_the_same_table(counts_adata, paired_table):
    kwargs = {**PAIRED, "clusters": ["c0"]}
    expected = paired_table[paired_table["cluster"] == "c0"].reset_index(drop=True)
    logged = counts_adata.copy()
    logged.layers["counts"] = counts_adata.X.astype(np.float32)  # integers held as floats
    sc.pp.normalize_total(logged)
    sc.pp.log1p(logged)
    in_layer = run(logged, layer="counts", **kwargs)
    pd.testing.assert_frame_equal(in_layer, expected, check_categorical=False)
    in_raw = counts_adata.copy()
    in_raw.raw = in_raw
    in_raw.X = logged.X
    pd.testing.assert_frame_equal(
        run(in_raw, use_raw=True, **kwargs), expected, check_categorical=False
    )


def test_backed_and_dask_inputs_give_the_same_table(counts_adata, paired_table, tmp_path):
    da = pytest.importorskip("dask.array")
    kwargs = {**PAIRED, "clusters": ["c0"]}
    expected = paired_table[paired_table["cluster"] == "c0"].reset_index(drop=True)
    path = tmp_path / "counts.h5ad"
    counts_adata.write_h5ad(path)
    backed = ad.read_h5ad(path, backed="r")
    try:
        pd.testing.assert_frame_equal(run(backed, **kwargs), expected, check_categorical=False)
    finally:
        backed.file.close()
    lazy = counts_adata.copy()
    lazy.X = da.from_array(counts_adata.X.toarray(), chunks=(100, 40))
    pd.testing.assert_frame_equal(run(lazy, **kwargs), expected, check_categorical=False)


def test_adata_unchanged(counts_adata):
    adata = counts_adata.copy()
    before = fingerprint(adata)
    run(adata, **{**PAIRED, "clusters": ["c1"]})
    assert fingerprint(adata) == before


def test_skipped_comparison_listed_in_attrs(counts_adata):
    keep = ~(
        (counts_adata.obs["cluster"] == "c1")
        & counts_adata.obs["sample"].isin(["stim_d1", "stim_d2"])
    )
    table = run(counts_adata[keep].copy(), **PAIRED)
    assert list(table["cluster"].unique()) == ["c0"]
    (skip,) = table.attrs["skipped"]
    assert skip["cluster"] == "c1" and skip["dataset"] == "stim"
    assert skip["reason"] == "1 sample in the dataset (at least 2 are needed)"


def test_min_cells_and_min_counts_drop_samples_and_list_them(counts_adata):
    keep = ~(
        (counts_adata.obs["sample"] == "ctrl_d0")
        & (counts_adata.obs["cluster"] == "c0")
        & (np.arange(counts_adata.n_obs) % 25 >= 5)
    )  # ctrl_d0 keeps 5 cells in c0
    table = run(counts_adata[keep].copy(), **{**PAIRED, "min_cells": 10})
    (drop,) = table.attrs["dropped"]
    assert (drop["cluster"], drop["sample"], drop["dataset"]) == ("c0", "ctrl_d0", "ctrl")
    assert drop["n_cells"] == 5 and "5 cells < min_cells=10" in drop["reason"]
    c0 = table[table["cluster"] == "c0"]
    assert (c0["n_samples_reference"] == 2).all()
    with pytest.raises(
        ValueError,
        match=r"No comparison.*0 samples in the dataset \(at least 2 are needed; 3 more dropped",
    ):
        sch.tl.dataset_differences(counts_adata.copy(), **{**PAIRED, "min_counts": 10**9})


def test_sample_spanning_two_datasets_is_refused(counts_adata):
    adata = counts_adata.copy()
    adata.obs["sample"] = adata.obs["donor"]  # each donor holds ctrl and stim cells
    with pytest.raises(ValueError, match="several datasets"):
        sch.tl.dataset_differences(adata, **PAIRED)


def test_covariate_confounded_with_the_dataset_is_skipped(counts_adata):
    adata = counts_adata.copy()
    adata.obs["batch"] = adata.obs["condition"].astype(str)  # batch == condition
    with pytest.raises(ValueError, match="confounded"):
        sch.tl.dataset_differences(adata, **{**PAIRED, "design_covariates": ["batch"]})


def test_covariate_varying_within_a_sample_is_refused(counts_adata):
    adata = counts_adata.copy()
    adata.obs["lane"] = np.arange(adata.n_obs) % 2
    with pytest.raises(ValueError, match="constant within each sample"):
        sch.tl.dataset_differences(adata, **{**PAIRED, "design_covariates": "lane"})


def test_logged_values_are_refused_with_where_counts_live(counts_adata):
    adata = counts_adata.copy()
    sc.pp.normalize_total(adata)
    sc.pp.log1p(adata)
    with pytest.raises(ValueError, match=r"layers\['counts'\].*adata.raw"):
        sch.tl.dataset_differences(adata, **PAIRED)
    adata.X = sparse.csr_matrix(np.rint(adata.X.toarray() * 10) / 10)  # one decimal
    with pytest.raises(ValueError, match="not a non-negative integer"):
        sch.tl.dataset_differences(adata, **PAIRED)


def test_negative_counts_refused(counts_adata):
    adata = counts_adata.copy()
    adata.X = -adata.X
    with pytest.raises(ValueError, match="not a non-negative integer"):
        sch.tl.dataset_differences(adata, **PAIRED)


def test_missing_pydeseq2_names_the_extra(counts_adata, monkeypatch):
    for name in ("pydeseq2", "pydeseq2.dds", "pydeseq2.ds", "pydeseq2.default_inference"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match=r'pip install "sc-heatmaps\[de\]"'):
        sch.tl.dataset_differences(counts_adata.copy(), **PAIRED)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"sample_key": None}, "needs sample_key"),
        ({"min_cells": 0}, "min_cells=0"),
        ({"min_counts": -1}, "min_counts=-1"),
        ({"n_cpus": "2"}, "n_cpus='2'"),
        ({"shrink": "yes"}, "shrink='yes'"),
        ({"design_covariates": ["nope"]}, "nope"),
        ({"layer": "counts"}, "counts"),
        ({"layer": "x", "source": "y"}, "pass one of them"),
        ({"use_raw": True}, "adata.raw is not set"),
        ({"method": "wilcoxon"}, "cannot be used with sample_key"),
    ],
)
def test_bad_options_name_the_value(counts_adata, change, match):
    with pytest.raises((ValueError, KeyError), match=match):
        sch.tl.dataset_differences(counts_adata, **{**PAIRED, **change})


def test_pseudobulk_options_refused_for_cell_level_methods(counts_adata):
    with pytest.raises(ValueError, match="only apply to method='pseudobulk'"):
        sch.tl.dataset_differences(
            counts_adata, "condition", "cluster", reference="ctrl", design_covariates=["donor"]
        )


def test_cell_level_and_sample_mean_tables_say_their_unit(synthetic):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        cells = sch.tl.dataset_differences(synthetic, "dataset", "cluster", reference="d1")
    assert cells.attrs["unit"] == "cells" and cells.attrs["method"] == "t-test"
    assert cells.attrs["design"] is None and cells.attrs["reference"] == "d1"
    assert "baseMean" not in cells.columns


def test_shrunk_fold_changes_keep_pvalues(counts_adata, paired_table):
    shrunk = run(counts_adata.copy(), **{**PAIRED, "shrink": True, "clusters": ["c0"]})
    plain = paired_table[paired_table["cluster"] == "c0"].set_index("gene")
    shrunk = shrunk.set_index("gene").loc[plain.index]
    np.testing.assert_allclose(shrunk["pval"], plain["pval"], rtol=1e-9)
    assert (shrunk["logfc"].abs() <= plain["logfc"].abs() + 1e-6).mean() > 0.9
    assert "shrunk" in shrunk.attrs["method"]


# ---- Kang: real data ---------------------------------------------------------------

KANG = {
    "dataset_key": "group_id",
    "cluster_key": "cluster_id",
    "reference": "ctrl",
    "method": "pseudobulk",
    "sample_key": "sample_id",
    "design_covariates": ["donor"],
}


@pytest.fixture(scope="module")
def kang_counts(kang_raw) -> ad.AnnData:
    """Kang's counts on its 120 most counted genes and the four interferon genes (the
    test stays fast; DESeq2 is run per gene)."""
    total = np.asarray(kang_raw.X.sum(axis=0)).ravel()
    genes = list(kang_raw.var_names[np.argsort(-total)[:120]])
    genes += [g for g in ISGS if g not in genes]
    adata = kang_raw[:, genes].copy()
    adata.obs["donor"] = adata.obs["donor"].astype(str).astype("category")
    return adata


@pytest.fixture(scope="module")
def kang_table(kang_counts) -> pd.DataFrame:
    return run(kang_counts.copy(), **KANG)


@pytest.mark.realdata
def test_kang_paired_design_equals_pydeseq2_by_hand(kang_counts, kang_table):
    for cluster in ["B cells", "CD14+ Monocytes"]:
        theirs = by_hand(
            kang_counts,
            "cluster_id",
            cluster,
            "sample_id",
            "~donor + group_id",
            ["group_id", "stim", "ctrl"],
        )
        assert_equals_by_hand(kang_table[kang_table["cluster"] == cluster], theirs)


@pytest.mark.realdata
def test_kang_interferon_genes_significant_in_every_cell_type(kang_table):
    assert kang_table.attrs["skipped"] == []
    assert len(kang_table["cluster"].unique()) == 5
    isg = kang_table[kang_table["gene"].isin(ISGS)]
    assert len(isg) == 4 * 5
    assert (isg["pval_adj"] < 0.05).all(), isg
    assert (isg["logfc"] > 2).all()


@pytest.mark.realdata
def test_kang_top_donor_gene_not_a_condition_effect(kang_counts, kang_table):
    """The gene that differs most between the two donors (a donor-vs-donor test on the
    largest cell type, here by hand) is not called as a stimulation effect."""
    cluster = "CD14+ Monocytes"
    donors = by_hand(
        kang_counts,
        "cluster_id",
        cluster,
        "sample_id",
        "~group_id + donor",
        ["donor", "101", "107"],
    )
    gene = donors["pvalue"].idxmin()
    assert donors.loc[gene, "padj"] < 0.05  # a real donor effect
    row = kang_table[(kang_table["cluster"] == cluster) & (kang_table["gene"] == gene)]
    assert not (row["pval_adj"] < 0.05).any(), row
