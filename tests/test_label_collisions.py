"""Names that used to make one row or column stand in for another.

Each case draws or computes with two sources that display alike (a symbol and another
gene's var_name, the block keys ``1`` and ``"1"``, a cluster/dataset pair holding the
separator, a gene and an obs column of one name, a category named ``"all"``) and
checks the figure's numbers against numpy or scipy on the right cells.
"""

from __future__ import annotations

import anndata as ad
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import scipy.stats

import sc_heatmaps as sch


def _small(symbols, seed=0) -> ad.AnnData:
    """60 cells in clusters A, B, C (20 each); g1 high in A, g2 high in B; log-like
    (non-integer) values."""
    rng = np.random.default_rng(seed)
    X = rng.gamma(2.0, 0.3, (60, 4))
    X[:20, 0] += 3.0
    X[20:40, 1] += 3.0
    obs = pd.DataFrame(
        {"cl": pd.Categorical(np.repeat(["A", "B", "C"], 20))},
        index=[f"c{i}" for i in range(60)],
    )
    var = pd.DataFrame({"symbol": symbols}, index=["g1", "g2", "g3", "g4"])
    return ad.AnnData(X, obs=obs, var=var)


def _means(adata, gene: str) -> np.ndarray:
    x = adata[:, gene].X.ravel()
    return np.array([x[(adata.obs["cl"] == c).to_numpy()].mean() for c in "ABC"])


def test_a_symbol_equal_to_another_genes_var_name_does_not_replace_that_gene():
    # g1's symbol is "g2", the var_name of another gene (which has no symbol)
    adata = _small(["g2", None, "CD3E", "LYZ"])
    plot = sch.pl.grouped_heatmap(
        adata, groupby="cl", cluster_key="cl", n_genes=1, gene_symbols="symbol", scale=None
    )
    try:
        rows = list(plot.data.index)
        assert rows[:2] == [("A", "g1"), ("B", "g2")]  # g1 keeps its var_name as label
        np.testing.assert_allclose(plot.data.loc[("A", "g1")], _means(adata, "g1"))
        np.testing.assert_allclose(plot.data.loc[("B", "g2")], _means(adata, "g2"))
        drawn = [t.get_text() for ax in plot.axes["row_labels"] for t in ax.texts]
        assert drawn[:2] == ["g1", "g2"]
        assert plot.params["gene_symbols_not_used"] == {"g1": "g2"}  # in the JSON sidecar
        # the name "g2" means the gene g2, every time
        ge = sch.get.grouped_expression(adata, ["g2"], "cl", gene_symbols="symbol")
        np.testing.assert_allclose(ge.matrix.loc["g2"], _means(adata, "g2"))
    finally:
        plt.close("all")


def test_block_keys_that_display_alike_are_refused_naming_both():
    adata = _small(["CD3E", "ISG15", None, None])
    with pytest.raises(ValueError, match=r"1 and '1' both display as '1'"):
        sch.pl.grouped_heatmap(adata, var_names={1: ["g1"], "1": ["g2"]}, groupby="cl")
    with pytest.raises(ValueError, match=r"1 and '1' both display as '1'"):
        sch.pl.grouped_heatmap(
            adata, var_names={1: ["CD3E"], "1": ["ISG15"]}, groupby="cl", gene_symbols="symbol"
        )


def test_differences_columns_with_the_separator_in_names_stay_apart():
    table = pd.DataFrame(
        {
            "cluster": ["T", "T / x"],
            "dataset": ["x / y", "y"],
            "reference": ["ref", "ref"],
            "gene": ["G", "G"],
            "logfc": [1.5, -2.0],
            "score": [1.0, 1.0],
            "pval_adj": [0.01, 0.01],
        }
    )
    plot = sch.pl.dataset_differences_heatmap(table, genes=["G"], labels="all")
    try:
        assert plot.data.shape == (1, 2)
        meta = plot.spec.col_meta
        pairs = zip(meta.iloc[:, 0], meta.iloc[:, 1], strict=True)
        by_pair = dict(zip(pairs, plot.data.iloc[0], strict=True))
        assert by_pair == {("T", "x / y"): 1.5, ("T / x", "y"): -2.0}
        drawn = [t.get_text() for ax in plot.axes["col_labels"] for t in ax.texts]
        assert len(set(drawn)) == 2
    finally:
        plt.close("all")


def test_correlation_keeps_a_gene_and_an_obs_column_of_one_name():
    rng = np.random.default_rng(1)
    X = rng.gamma(1.0, 1.0, (80, 2))
    obs = pd.DataFrame({"ISG15": rng.normal(size=80)}, index=[f"c{i}" for i in range(80)])
    adata = ad.AnnData(X, obs=obs, var=pd.DataFrame(index=["ISG15", "CD3E"]))
    expected = np.corrcoef(X[:, 0], obs["ISG15"])[0, 1]
    assert abs(expected) < 0.5  # the two are different vectors
    res = sch.get.correlation(adata, rows="genes", cols="obs", genes=["ISG15", "CD3E"])
    assert list(res.matrix.index) == ["ISG15 (gene)", "CD3E"]
    assert list(res.matrix.columns) == ["ISG15 (obs)"]
    assert res.matrix.iloc[0, 0] == pytest.approx(expected, abs=1e-12)
    assert res.matrix.iloc[1, 0] == pytest.approx(np.corrcoef(X[:, 1], obs["ISG15"])[0, 1])
    plot = sch.pl.correlation_heatmap(
        adata, rows="genes", cols="obs", genes=["ISG15", "CD3E"], cluster=False
    )
    plt.close("all")
    assert plot.data.loc["ISG15 (gene)", "ISG15 (obs)"] == pytest.approx(expected, abs=1e-12)
    with pytest.raises(ValueError, match="'ISG15', which is both an obs column and a gene"):
        sch.get.correlation(adata, rows=["ISG15"], cols=["CD3E"])


def test_dual_pooled_row_is_not_a_category_named_all():
    rng = np.random.default_rng(2)
    X = rng.gamma(2.0, 1.0, (90, 2))
    obs = pd.DataFrame(
        {"kind": pd.Categorical(np.repeat(["all", "other"], 45))},
        index=[f"c{i}" for i in range(90)],
    )
    adata = ad.AnnData(X, obs=obs, var=pd.DataFrame(index=["X1", "Y1"]))
    stats = sch.get.dual_expression(adata, "X1", "Y1", color="kind").stats
    assert list(stats["group"]) == ["all", "other", None]
    named_all = stats[stats["group"] == "all"]
    assert len(named_all) == 1 and not named_all["all_groups"].item()
    first = scipy.stats.pearsonr(X[:45, 0], X[:45, 1]).statistic
    assert named_all["r"].item() == pytest.approx(first)
    pooled = stats[stats["group"].isna()]
    assert pooled["r"].item() == pytest.approx(scipy.stats.pearsonr(X[:, 0], X[:, 1]).statistic)
