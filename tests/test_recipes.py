"""recipe="scanpy" | "seurat" in tl.top_markers (issue 13, item 4).

The expected Seurat lists are computed here from the definitions in Seurat 4.3's
``R/differential_expression.R`` with scanpy, scipy and numpy only: ``pct.1``/``pct.2``
from scanpy's ``pts``/``pts_rest`` rounded to 3 digits, tested when their maximum is at
least 0.25; ``avg_log2FC = log2(mean(expm1(x)) + 1)`` (group) minus the same of the
rest; the Wilcoxon p-value of ``scipy.stats.mannwhitneyu`` (normal approximation,
tie-corrected, continuity-corrected, as ``wilcox.test`` and limma compute it); positive
markers with ``avg_log2FC > 1`` and ``p < 0.01``, ordered by p-value, then by
``avg_log2FC`` descending.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import fingerprint
from scipy import sparse, stats

import sc_heatmaps as sch

N = 6


def _scanpy(adata, method: str, **kwargs):
    import scanpy as sc

    tmp = adata.copy()
    sc.tl.rank_genes_groups(
        tmp, "cluster", method=method, n_genes=tmp.n_vars, pts=True, use_raw=False, **kwargs
    )
    return tmp.uns["rank_genes_groups"]


def _dense(adata) -> np.ndarray:
    X = adata.X.toarray() if sparse.issparse(adata.X) else np.asarray(adata.X)
    return X.astype(np.float64)


def _seurat_expected(adata, method: str) -> dict[str, list[str]]:
    res = _scanpy(adata, method)
    X, labels = _dense(adata), adata.obs["cluster"].astype(str).to_numpy()
    genes = adata.var_names.to_numpy()
    expected = {}
    for group in adata.obs["cluster"].cat.categories:
        inside = labels == group
        pct_in = np.round(res["pts"][group].reindex(genes).to_numpy(), 3)
        pct_out = np.round(res["pts_rest"][group].reindex(genes).to_numpy(), 3)
        log2fc = np.log2(np.expm1(X[inside]).mean(axis=0) + 1) - np.log2(
            np.expm1(X[~inside]).mean(axis=0) + 1
        )
        if method == "wilcoxon":
            p = stats.mannwhitneyu(
                X[inside], X[~inside], axis=0, use_continuity=True, method="asymptotic"
            ).pvalue
        else:
            p = pd.Series(res["pvals"][group], index=res["names"][group]).reindex(genes)
            p = p.to_numpy()
        keep = (np.maximum(pct_in, pct_out) >= 0.25) & (log2fc > 1) & (p < 0.01)
        frame = pd.DataFrame({"gene": genes, "p": p, "fc": log2fc, "pos": np.arange(len(genes))})
        frame = frame[keep].sort_values(["p", "fc", "pos"], ascending=[True, False, True])
        expected[group] = list(frame["gene"][:N])
    return expected


def _lists(table: pd.DataFrame) -> dict[str, list[str]]:
    return {str(g): list(t["gene"]) for g, t in table.groupby("group", observed=True, sort=False)}


@pytest.mark.parametrize("method", ["wilcoxon", "t-test"])
def test_seurat_recipe_equals_an_independent_computation(example, method):
    expected = _seurat_expected(example, method)
    assert sum(len(v) for v in expected.values()) > 30  # the comparison is not vacuous
    kwargs = {} if method == "wilcoxon" else {"method": method}
    table = sch.tl.top_markers(example, "cluster", n_genes=N, recipe="seurat", **kwargs)
    assert _lists(table) == {g: v for g, v in expected.items() if v}
    assert (table["logfc"] > 1).all()


def test_seurat_recipe_reports_seurats_fold_change_and_bonferroni(example):
    table = sch.tl.top_markers(example, "cluster", n_genes=3, recipe="seurat")
    X, labels = _dense(example), example.obs["cluster"].astype(str).to_numpy()
    for row in table.itertuples():
        col = example.var_names.get_loc(row.gene)
        inside = labels == str(row.group)
        fc = np.log2(np.expm1(X[inside, col]).mean() + 1) - np.log2(
            np.expm1(X[~inside, col]).mean() + 1
        )
        assert row.logfc == pytest.approx(fc, rel=1e-9)
        p = stats.mannwhitneyu(X[inside, col], X[~inside, col], method="asymptotic").pvalue
        assert row.pval_adj == pytest.approx(min(p * example.n_vars, 1.0), rel=1e-4, abs=1e-300)


def test_scanpy_recipe_is_unchanged_and_equals_scanpy_top_n(example):
    res = _scanpy(example, "t-test")
    table = sch.tl.top_markers(example, "cluster", n_genes=N, recipe="scanpy", duplicates="keep")
    expected = {g: list(res["names"][g][:N]) for g in example.obs["cluster"].cat.categories}
    assert _lists(table) == expected
    default = sch.tl.top_markers(example, "cluster", n_genes=N)
    explicit = sch.tl.top_markers(example, "cluster", n_genes=N, recipe="scanpy")
    pd.testing.assert_frame_equal(default, explicit)


def test_bad_recipe_names_the_choices(example):
    with pytest.raises(ValueError, match=r"recipe='Seurat'.*'scanpy'.*'seurat'"):
        sch.tl.top_markers(example, "cluster", recipe="Seurat")
    with pytest.raises(ValueError, match=r"method='logreg'.*recipe='seurat'.*'wilcoxon'"):
        sch.tl.top_markers(example, "cluster", recipe="seurat", method="logreg")


def test_recipes_leave_adata_unchanged_and_reach_get(example):
    before = fingerprint(example)
    table = sch.tl.top_markers(example, "cluster", n_genes=4, recipe="seurat")
    markers = sch.get.marker_genes(
        example, "cluster", n_genes=4, recipe="seurat", method="wilcoxon", duplicates="keep"
    )
    assert fingerprint(example) == before
    assert {str(g): v for g, v in markers.items() if v} == _lists(table)


def _pct_rule_data():
    """Group A (1250 cells) against B (1250 cells), genes built around Seurat's min.pct rule."""
    import anndata as ad

    n = 1250
    X = np.zeros((2 * n, 4), dtype=np.float32)
    X[:250, 0] = 6.1  # A: 20% high; B: 60% low -> max(pct.1, pct.2) = 0.6, log2FC > 1
    X[n : n + 750, 0] = 0.4
    X[:312, 1] = 3.1  # pct.1 = 0.2496, rounds to 0.250: tested
    X[:311, 2] = 3.1  # pct.1 = 0.2488, rounds to 0.249: not tested
    X[n:, 3] = 2.1  # the marker of B
    obs = pd.DataFrame(
        {"cluster": pd.Categorical(["A"] * n + ["B"] * n)}, index=[f"c{i}" for i in range(2 * n)]
    )
    var = pd.DataFrame(index=["WIDER_IN_REST", "ROUNDS_UP", "ROUNDS_DOWN", "B_MARKER"])
    return ad.AnnData(sparse.csr_matrix(X), obs=obs, var=var)


def test_seurat_min_pct_is_the_larger_rounded_fraction():
    table = sch.tl.top_markers(_pct_rule_data(), "cluster", recipe="seurat")
    assert set(table.loc[table["group"] == "A", "gene"]) == {"WIDER_IN_REST", "ROUNDS_UP"}
    # the same genes fail min_in_group_fraction=0.25, scanpy's rule on the group alone
    scanpy_rule = sch.tl.top_markers(
        _pct_rule_data(), "cluster", method="wilcoxon", min_in_group_fraction=0.25
    )
    assert set(scanpy_rule.loc[scanpy_rule["group"] == "A", "gene"]).isdisjoint(
        {"WIDER_IN_REST", "ROUNDS_UP"}
    )


def _log2_copy(adata):
    """The same normalised counts, logged in base 2 (``sc.pp.log1p(base=2)``)."""
    out = adata.copy()
    X = _dense(adata)
    out.X = np.log2(np.expm1(X) + 1.0)
    out.uns["log1p"] = {"base": 2}
    return out


def test_seurat_fold_change_honours_the_log_base(example):
    """On base-2 data the fold change is ``log2(mean(2**x - 1) + 1)`` (group minus rest),
    which equals the natural-log data's; so are the ranks, hence the whole list."""
    log2_data = _log2_copy(example)
    table = sch.tl.top_markers(log2_data, "cluster", n_genes=N, recipe="seurat")
    X, labels = _dense(log2_data), log2_data.obs["cluster"].astype(str).to_numpy()
    assert len(table) > 20
    for row in table.itertuples():
        col = log2_data.var_names.get_loc(row.gene)
        inside = labels == str(row.group)
        linear = 2.0 ** X[:, col] - 1.0
        fc = np.log2(linear[inside].mean() + 1) - np.log2(linear[~inside].mean() + 1)
        assert row.logfc == pytest.approx(fc, rel=1e-9)
    natural = sch.tl.top_markers(example, "cluster", n_genes=N, recipe="seurat")
    assert _lists(table) == _lists(natural)
    np.testing.assert_allclose(table["logfc"], natural["logfc"], rtol=1e-9)
