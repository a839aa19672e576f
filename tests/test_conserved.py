"""Conserved markers against a brute-force computation: scanpy's rank_genes_groups run on
each dataset's cells alone, its p-values combined by the stated rule with scipy."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scanpy as sc
from conftest import fingerprint
from scipy import sparse, stats

import sc_heatmaps as sch

MIN_CELLS = 3


def _combined(P: np.ndarray, combine: str) -> np.ndarray:
    """metap's minimump / maximump as Beta cdfs; Fisher through scipy."""
    k = P.shape[0]
    if combine == "wilkinson":
        return stats.beta.cdf(P.min(0), 1, k)
    if combine == "max":
        return stats.beta.cdf(P.max(0), k, 1)
    # gene by gene: scipy < 1.12 (the lowest stack) has no axis= here
    return np.array([stats.combine_pvalues(P[:, j], method="fisher")[1] for j in range(P.shape[1])])


def _per_dataset(adata, cluster_key, dataset_key, method="t-test", **kws) -> dict:
    """{cluster: {dataset: scanpy's table for cluster vs the rest of that dataset}}."""
    per: dict = {}
    for ds in adata.obs[dataset_key].astype("category").cat.categories:
        sub = adata[(adata.obs[dataset_key] == ds).to_numpy()].copy()
        X = sub.X.toarray() if sparse.issparse(sub.X) else np.asarray(sub.X)
        sub.X = X.astype(np.float64)  # scanpy < 1.12 squares float32 values in float32
        counts = sub.obs[cluster_key].value_counts()
        groups = [
            str(c) for c, n in counts.items() if n >= MIN_CELLS and sub.n_obs - n >= MIN_CELLS
        ]
        if not groups:
            continue
        sc.tl.rank_genes_groups(
            sub, cluster_key, groups=groups, method=method, pts=True, n_genes=sub.n_vars, **kws
        )
        for g in groups:
            df = sc.get.rank_genes_groups_df(sub, g).set_index("names")
            per.setdefault(g, {})[str(ds)] = df
    return per


def _expected(per: dict, genes, combine: str, min_datasets: int = 2) -> dict:
    """{cluster: frame of every gene with combined p, mean logfc, conserved (all logfc > 0)}."""
    out = {}
    for cluster, by_ds in per.items():
        if len(by_ds) < min_datasets:
            continue
        P = np.vstack([df.loc[genes, "pvals"].to_numpy() for df in by_ds.values()])
        L = np.vstack(
            [df.loc[genes, "logfoldchanges"].to_numpy(np.float64) for df in by_ds.values()]
        )
        frame = pd.DataFrame(
            {"pval": _combined(P, combine), "mean_logfc": L.mean(0), "up": (L > 0).all(0)},
            index=genes,
        )
        up = frame[frame["up"]]
        order = np.lexsort((-up["mean_logfc"].to_numpy(), up["pval"].to_numpy()))
        out[cluster] = (frame, list(up.index[order]))
    return out


def _close(ours, theirs, rel=1e-6, tiny=1e-290):
    ours, theirs = np.asarray(ours, float), np.asarray(theirs, float)
    small = np.abs(theirs) < tiny
    np.testing.assert_allclose(ours[~small], theirs[~small], rtol=rel, atol=0)
    np.testing.assert_allclose(ours[small], theirs[small], atol=tiny)


def _check_against(table, per, expected, n_genes):
    for cluster, (frame, top) in expected.items():
        rows = table[table["cluster"].astype(str) == cluster]
        assert list(rows["gene"]) == top[:n_genes], cluster
        assert list(rows["rank"]) == list(range(1, len(rows) + 1))
        genes = list(rows["gene"])
        _close(rows["pval"], frame.loc[genes, "pval"])
        for ds, df in per[cluster].items():
            _close(rows[f"pval_{ds}"], df.loc[genes, "pvals"])
            np.testing.assert_allclose(
                rows[f"logfc_{ds}"], df.loc[genes, "logfoldchanges"], rtol=1e-5, atol=1e-5
            )
            np.testing.assert_allclose(rows[f"pct_in_{ds}"], df.loc[genes, "pct_nz_group"])
            np.testing.assert_allclose(rows[f"pct_out_{ds}"], df.loc[genes, "pct_nz_reference"])
        assert (rows["n_datasets"] == len(per[cluster])).all()


@pytest.fixture(scope="module")
def example():
    return sch.datasets.example()


@pytest.fixture(scope="module")
def example_per(example):
    return _per_dataset(example, "cluster", "dataset")


@pytest.mark.parametrize("combine", ["wilkinson", "max", "fisher"])
def test_example_equals_scanpy_per_dataset(example, example_per, combine):
    before = fingerprint(example)
    table = sch.tl.conserved_markers(
        example, "cluster", "dataset", n_genes=8, combine=combine, duplicates="keep"
    )
    assert fingerprint(example) == before
    expected = _expected(example_per, list(example.var_names), combine)
    assert set(expected) == set(example.obs["cluster"].cat.categories)
    _check_against(table, example_per, expected, 8)
    assert table.attrs["no_markers"] == []


def test_every_gene_combined_p(example, example_per):
    """All conserved genes of every cluster, not only the top ones."""
    table = sch.tl.conserved_markers(
        example, "cluster", "dataset", n_genes=example.n_vars, duplicates="keep"
    )
    expected = _expected(example_per, list(example.var_names), "wilkinson")
    _check_against(table, example_per, expected, example.n_vars)


def test_kang(kang):
    per = _per_dataset(kang, "cluster_id", "group_id")
    table = sch.tl.conserved_markers(kang, "cluster_id", "group_id", n_genes=10, duplicates="keep")
    expected = _expected(per, list(kang.var_names), "wilkinson")
    assert len(expected) == 5
    _check_against(table, per, expected, 10)
    assert list(table.columns[7:11]) == ["logfc_ctrl", "pct_in_ctrl", "pct_out_ctrl", "pval_ctrl"]


def test_absent_cluster(example):
    """A cluster missing from one dataset is combined over the other two, reported, and
    gets no markers when min_datasets asks for all three."""
    keep = ~((example.obs["cluster"] == "DC") & (example.obs["dataset"] == "stim_LPS"))
    adata = example[keep.to_numpy()].copy()
    per = _per_dataset(adata, "cluster", "dataset")
    assert set(per["DC"]) == {"ctrl", "stim_IFN"}
    table = sch.tl.conserved_markers(adata, "cluster", "dataset", n_genes=5, duplicates="keep")
    _check_against(table, per, _expected(per, list(adata.var_names), "wilkinson"), 5)
    dc = table[table["cluster"] == "DC"]
    assert (dc["n_datasets"] == 2).all() and dc["pval_stim_LPS"].isna().all()
    assert table.attrs["coverage"]["DC"] == {
        "ctrl": "used",
        "stim_IFN": "used",
        "stim_LPS": "absent",
    }
    strict = sch.tl.conserved_markers(adata, "cluster", "dataset", n_genes=5, min_datasets=3)
    assert "DC" not in set(strict["cluster"]) and strict.attrs["no_markers"] == ["DC"]
    assert set(strict["cluster"].cat.categories) == set(adata.obs["cluster"].cat.categories)


def test_cluster_with_one_cell(example):
    """One Platelet cell in ctrl: too small to be tested there, it stays in ctrl's rest."""
    obs = example.obs
    platelet_ctrl = np.flatnonzero((obs["cluster"] == "Platelet") & (obs["dataset"] == "ctrl"))
    drop = np.zeros(example.n_obs, dtype=bool)
    drop[platelet_ctrl[1:]] = True
    adata = example[~drop].copy()
    per = _per_dataset(adata, "cluster", "dataset")
    assert set(per["Platelet"]) == {"stim_IFN", "stim_LPS"}
    table = sch.tl.conserved_markers(adata, "cluster", "dataset", n_genes=5, duplicates="keep")
    _check_against(table, per, _expected(per, list(adata.var_names), "wilkinson"), 5)
    assert table.attrs["coverage"]["Platelet"]["ctrl"] == "too small"
    assert table.loc[table["cluster"] == "Platelet", "pval_ctrl"].isna().all()


def _two_datasets(rng) -> ad.AnnData:
    """Gene 'flip' is up in A in d1 and down in A in d2 (strongly); 'up' is up in both;
    'down' is down in both."""
    n = 40
    obs = pd.DataFrame(
        {
            "cluster": pd.Categorical(np.tile(np.repeat(["A", "B"], n // 2), 2)),
            "dataset": pd.Categorical(np.repeat(["d1", "d2"], n)),
        },
        index=[f"c{i}" for i in range(2 * n)],
    )
    X = rng.gamma(2.0, 0.3, size=(2 * n, 5))
    is_a = (obs["cluster"] == "A").to_numpy()
    d1 = (obs["dataset"] == "d1").to_numpy()
    X[is_a & d1, 0] += 3.0  # flip: up in d1
    X[~is_a & ~d1, 0] += 3.0  # flip: down in d2
    X[is_a, 1] += 2.0  # up
    X[~is_a, 2] += 2.0  # down
    var = pd.DataFrame(index=["flip", "up", "down", "n1", "n2"])
    adata = ad.AnnData(X=X, obs=obs, var=var)
    adata.uns["log1p"] = {"base": None}
    return adata


def test_direction_must_agree():
    adata = _two_datasets(np.random.default_rng(0))
    per = _per_dataset(adata, "cluster", "dataset")
    assert per["A"]["d1"].loc["flip", "pvals"] < 1e-10
    assert per["A"]["d2"].loc["flip", "logfoldchanges"] < 0
    up = sch.tl.conserved_markers(adata, "cluster", "dataset", n_genes=5, duplicates="keep")
    a = up[up["cluster"] == "A"]
    assert "flip" not in set(a["gene"]) and a["gene"].iloc[0] == "up"
    both = sch.tl.conserved_markers(
        adata, "cluster", "dataset", n_genes=5, direction="both", duplicates="keep"
    )
    assert "flip" not in set(both.loc[both["cluster"] == "A", "gene"])
    assert {"up", "down"} <= set(both.loc[both["cluster"] == "A", "gene"])
    down = sch.tl.conserved_markers(adata, "cluster", "dataset", n_genes=1, direction="down")
    assert down.loc[down["cluster"] == "A", "gene"].tolist() == ["down"]


def test_wilcoxon_equals_scanpy_per_dataset(example):
    adata = example[:, example.var_names[:60]].copy()
    per = _per_dataset(adata, "cluster", "dataset", method="wilcoxon")
    table = sch.tl.conserved_markers(
        adata, "cluster", "dataset", n_genes=5, method="wilcoxon", duplicates="keep"
    )
    expected = _expected(per, list(adata.var_names), "wilkinson")
    for cluster, (frame, top) in expected.items():
        rows = table[table["cluster"] == cluster]
        genes = list(rows["gene"])
        assert set(genes) <= set(top[:8]), cluster  # ties in Wilcoxon p-values may reorder
        _close(rows["pval"], frame.loc[genes, "pval"], rel=1e-6)
        for ds, df in per[cluster].items():
            _close(rows[f"pval_{ds}"], df.loc[genes, "pvals"], rel=1e-6)


def test_wilcoxon_tie_correction_equals_scanpy_per_dataset(example):
    adata = example[:, example.var_names[:60]].copy()
    per = _per_dataset(adata, "cluster", "dataset", method="wilcoxon", tie_correct=True)
    table = sch.tl.conserved_markers(
        adata, "cluster", "dataset", n_genes=5, method="wilcoxon", tie_correct=True
    )
    plain = sch.tl.conserved_markers(adata, "cluster", "dataset", n_genes=5, method="wilcoxon")
    for cluster, by_ds in per.items():
        rows = table[table["cluster"] == cluster]
        for ds, df in by_ds.items():
            _close(rows[f"pval_{ds}"], df.loc[list(rows["gene"]), "pvals"], rel=1e-6)
    merged = table.merge(plain, on=["cluster", "gene"], suffixes=("", "_plain"))
    assert (merged["pval"] != merged["pval_plain"]).any()  # the correction changes p-values
    with pytest.raises(ValueError, match="wilcoxon"):
        sch.tl.conserved_markers(adata, "cluster", "dataset", tie_correct=True)


def test_key_added_and_get(example):
    adata = example.copy()
    table = sch.tl.conserved_markers(adata, "cluster", "dataset", n_genes=3, key_added="cons")
    stored = adata.uns["cons"]
    pd.testing.assert_frame_equal(stored["markers"], table)
    assert stored["params"]["combine"] == "wilkinson" and stored["params"]["min_datasets"] == 2
    with pytest.raises(ValueError, match="never overwritten"):
        sch.tl.conserved_markers(adata, "cluster", "dataset", key_added="cons")
    before = fingerprint(example)
    markers = sch.get.marker_genes(
        example, "cluster", n_genes=3, kind="conserved", dataset_key="dataset"
    )
    assert fingerprint(example) == before
    assert list(markers) == list(example.obs["cluster"].cat.categories)
    for cluster, genes in markers.items():
        assert genes == table.loc[table["cluster"] == cluster, "gene"].tolist()
    picked = sch.get.marker_genes(
        example,
        "cluster",
        n_genes=2,
        kind="conserved",
        dataset_key="dataset",
        groups=["B", "NK"],
        conserved_kws={"combine": "max"},
    )
    assert list(picked) == ["NK", "B"] and all(len(g) == 2 for g in picked.values())


def test_duplicates_best_keeps_each_gene_once(example):
    table = sch.tl.conserved_markers(
        example, "cluster", "dataset", n_genes=10, direction="both", duplicates="best"
    )
    assert not table["gene"].duplicated().any()
    assert (table.groupby("cluster", observed=True).size() == 10).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"combine": "stouffer"}, "combine"),
        ({"method": "logreg"}, "method"),
        ({"min_datasets": 4}, "min_datasets"),
        ({"min_cells": 1}, "min_cells"),
        ({"direction": "sideways"}, "direction"),
        ({"groups": ["Neuron"]}, "Neuron"),
    ],
)
def test_bad_options(example, kwargs, message):
    with pytest.raises((ValueError, KeyError), match=message):
        sch.tl.conserved_markers(example, "cluster", "dataset", **kwargs)


def test_get_refuses_top_only_options(example):
    with pytest.raises(ValueError, match="dataset_key"):
        sch.get.marker_genes(example, "cluster", kind="conserved")
    with pytest.raises(ValueError, match="min_logfc"):
        sch.get.marker_genes(
            example, "cluster", kind="conserved", dataset_key="dataset", min_logfc=1.0
        )
    with pytest.raises(ValueError, match="kind"):
        sch.get.marker_genes(example, "cluster", kind="pooled")


def test_an_unused_dataset_category_changes_nothing(example):
    """One dataset plus a category without cells: the result is that of the one dataset
    (min_datasets defaults to 1 for a single dataset), equal to scanpy's ranking on it."""
    one = example[(example.obs["dataset"] == "ctrl").to_numpy()].copy()
    one.obs["dataset"] = one.obs["dataset"].cat.remove_unused_categories()
    unused = one.copy()
    unused.obs["dataset"] = unused.obs["dataset"].cat.add_categories(["never"])
    table = sch.tl.conserved_markers(unused, "cluster", "dataset", n_genes=5, duplicates="keep")
    clean = sch.tl.conserved_markers(one, "cluster", "dataset", n_genes=5, duplicates="keep")
    assert len(table) > 0
    pd.testing.assert_frame_equal(table, clean)
    per = _per_dataset(one, "cluster", "dataset")
    expected = _expected(per, list(one.var_names), "wilkinson", min_datasets=1)
    _check_against(table, per, expected, 5)
    assert table.attrs == clean.attrs


def test_wilcoxon_continuity_and_ties_equal_r_wilcox_test(example):
    """``continuity=True, tie_correct=True``: each dataset's p-value is R's
    ``wilcox.test(correct=TRUE, exact=FALSE)``, which scipy's ``mannwhitneyu``
    (``use_continuity=True, method="asymptotic"``) computes with the same formula."""
    adata = example[:, example.var_names[:60]].copy()
    kwargs = dict(n_genes=60, method="wilcoxon", duplicates="keep", direction="both")
    table = sch.tl.conserved_markers(
        adata, "cluster", "dataset", tie_correct=True, continuity=True, **kwargs
    )
    without = sch.tl.conserved_markers(adata, "cluster", "dataset", tie_correct=True, **kwargs)
    X = adata.X.toarray().astype(np.float64)
    cluster = adata.obs["cluster"].astype(str).to_numpy()
    dataset = adata.obs["dataset"].astype(str).to_numpy()
    checked = 0
    for ds in np.unique(dataset):
        for cl in table["cluster"].astype(str).unique():
            rows = table[table["cluster"].astype(str) == cl]
            cols = adata.var_names.get_indexer(rows["gene"])
            inside, rest = (dataset == ds) & (cluster == cl), (dataset == ds) & (cluster != cl)
            expected = stats.mannwhitneyu(
                X[inside][:, cols], X[rest][:, cols], use_continuity=True, method="asymptotic"
            ).pvalue
            _close(rows[f"pval_{ds}"], expected, rel=1e-9)
            checked += len(rows)
    assert checked > 100
    merged = table.merge(without, on=["cluster", "gene"], suffixes=("", "_plain"))
    # the correction is conservative
    assert (merged["pval"] >= merged["pval_plain"]).all() and (
        merged["pval"] > merged["pval_plain"]
    ).any()
    with pytest.raises(ValueError, match=r"continuity=True.*wilcoxon.*'t-test'"):
        sch.tl.conserved_markers(adata, "cluster", "dataset", continuity=True)
    with pytest.raises(TypeError, match=r"continuity='yes'"):
        sch.tl.conserved_markers(adata, "cluster", "dataset", method="wilcoxon", continuity="yes")
