"""One label policy: display labels are unique or refused by name; pooled rows are flagged.

Also the ``clusters=`` selection on pandas 3 (read-only arrays under copy-on-write) and
``pp.integrate`` on genes holding NaN (an outer ``ad.concat``).
"""

from __future__ import annotations

import anndata as ad
import matplotlib.text as mtext
import numpy as np
import pandas as pd
import pytest
import scanpy as sc
import scipy.stats
from conftest import real_data_path
from scipy import sparse

import sc_heatmaps as sch

GX, GY = "ISG15", "IFI6"


def _values(adata, gene: str) -> np.ndarray:
    X = adata[:, gene].X
    return np.asarray(X.toarray() if sparse.issparse(X) else X, dtype=np.float64).ravel()


def _r_n(x: np.ndarray, y: np.ndarray) -> str:
    """The drawn "r=... n=..." text, from scipy."""
    return f"r={scipy.stats.pearsonr(x, y).statistic:.2f} n={len(x):,}"


def _legend_texts(legend) -> list[str]:
    return [t.get_text() for t in legend.findobj(mtext.Text) if t.get_text()]


# --- a category named "all" is not the all-cells row ---------------------------------


def test_a_colour_category_named_all_keeps_its_numbers_in_legend_and_title(kang):
    kang.obs["group_id"] = kang.obs["group_id"].cat.rename_categories({"ctrl": "all"})
    x, y = _values(kang, GX), _values(kang, GY)
    ctrl = (kang.obs["group_id"] == "all").to_numpy()
    plot = sch.pl.dual_expression(kang, GX, GY, color="group_id")
    ax = plot.axes["panels"]["all"]
    assert ax.get_title().split("\n")[0] == f"all cells  {_r_n(x, y)}"
    legend = _legend_texts(plot.axes["legend"])
    assert f"all  {_r_n(x[ctrl], y[ctrl])}" in legend
    assert f"stim  {_r_n(x[~ctrl], y[~ctrl])}" in legend
    stats = plot.stats
    pooled = stats[stats["all_groups"]]
    assert len(pooled) == 1
    assert pooled["r"].iloc[0] == pytest.approx(scipy.stats.pearsonr(x, y).statistic)
    assert pooled["n"].iloc[0] == kang.n_obs
    category = stats[~stats["all_groups"] & (stats["group"] == "all")]
    assert category["r"].iloc[0] == pytest.approx(scipy.stats.pearsonr(x[ctrl], y[ctrl])[0])
    assert category["n"].iloc[0] == ctrl.sum()


def test_a_panel_and_a_colour_group_named_all_with_split_by(kang):
    obs = kang.obs
    obs["group_id"] = obs["group_id"].cat.rename_categories({"ctrl": "all"})
    obs["cluster_id"] = obs["cluster_id"].cat.rename_categories({"B cells": "all"})
    x, y = _values(kang, GX), _values(kang, GY)
    plot = sch.pl.dual_expression(kang, GX, GY, color="cluster_id", split_by="group_id")
    assert list(plot.axes["panels"]) == ["all", "stim"]
    for panel in ("all", "stim"):
        cells = (obs["group_id"] == panel).to_numpy()
        b = cells & (obs["cluster_id"] == "all").to_numpy()
        ax = plot.axes["panels"][panel]
        assert ax.get_title().split("\n")[0] == f"{panel}  {_r_n(x[cells], y[cells])}"
        legend = " ".join(_legend_texts(plot.axes["legend"])).replace("\n", " ")
        assert f"{panel} {_r_n(x[b], y[b])}" in legend  # cluster "all" in this panel
    stats = plot.stats
    overall = stats[stats["all_panels"]]
    assert len(overall) == 1 and overall["n"].iloc[0] == kang.n_obs
    assert overall["r"].iloc[0] == pytest.approx(scipy.stats.pearsonr(x, y).statistic)
    # the panel named "all" has its own pooled row: ctrl cells, not every cell
    ctrl = stats[~stats["all_panels"] & stats["all_groups"] & (stats["split"] == "all")]
    assert ctrl["n"].iloc[0] == (obs["group_id"] == "all").sum()


# --- categories 1 and "1" --------------------------------------------------------------


def _with_int_and_str_one(kang, categorical: bool):
    labels = kang.obs["cluster_id"].astype(str).to_numpy().astype(object)
    labels[labels == "B cells"] = 1
    labels[labels == "CD4 T cells"] = "1"
    column = pd.Series(labels, index=kang.obs_names, dtype=object)
    if categorical:
        column = column.astype(pd.CategoricalDtype(list(dict.fromkeys(labels))))
    kang.obs["cluster"] = column
    return kang


CALLS = {
    "grouped_expression": lambda a: sch.get.grouped_expression(a, [GX, "CD3E"], "cluster"),
    "clusters": lambda a: sch.get.grouped_expression(
        a, [GX], "group_id", clusters=["1"], cluster_key="cluster"
    ),
    "grouped_heatmap": lambda a: sch.pl.grouped_heatmap(a, [GX, "CD3E"], "cluster"),
    "marker_heatmap": lambda a: sch.pl.grouped_heatmap(a, cluster_key="cluster", n_genes=2),
    "cell_heatmap": lambda a: sch.pl.cell_heatmap(a, [GX, "CD3E"], "cluster"),
    "top_markers": lambda a: sch.tl.top_markers(a, "cluster", n_genes=2),
    "dual_expression": lambda a: sch.pl.dual_expression(a, GX, GY, color="cluster"),
    "category_colors": lambda a: sch.get.category_colors(a, "cluster"),
}


@pytest.mark.parametrize("categorical", [False, True], ids=["object", "categorical"])
@pytest.mark.parametrize("call", list(CALLS))
def test_int_and_str_categories_that_display_alike_are_refused(kang, call, categorical):
    adata = _with_int_and_str_one(kang, categorical)
    message = r"categories 1 and '1' of .*'cluster' both display as '1'"
    with pytest.raises(ValueError, match=message):
        CALLS[call](adata)


# --- combined labels of several keys ---------------------------------------------------


@pytest.mark.parametrize(
    ("datasets", "clusters", "expected"),
    [
        (
            ("x / y", "x"),
            ("z", "y / z"),
            ["'x / y' / z", "'x / y' / 'y / z'", "x / z", "x / 'y / z'"],
        ),
        (("x /", "x"), ("y", "/ y"), ["'x /' / y", "'x /' / '/ y'", "x / y", "x / '/ y'"]),
    ],
)
def test_combined_labels_never_collide(kang, datasets, clusters, expected):
    ctrl = (kang.obs["group_id"] == "ctrl").to_numpy()
    lymph = kang.obs["cluster_id"].isin(["B cells", "CD4 T cells", "CD8 T cells"]).to_numpy()
    kang.obs["ds"] = pd.Categorical(np.where(ctrl, *datasets), categories=list(datasets))
    kang.obs["cl"] = pd.Categorical(np.where(lymph, *clusters), categories=list(clusters))
    genes = [GX, "CD3E", "CD14"]
    ge = sch.get.grouped_expression(kang, genes, ["ds", "cl"])
    assert list(ge.matrix.columns) == expected
    X = np.column_stack([_values(kang, g) for g in genes])
    for label, group in ge.groups.iterrows():
        cells = ((kang.obs["ds"] == group["ds"]) & (kang.obs["cl"] == group["cl"])).to_numpy()
        assert group["n_cells"] == cells.sum()
        np.testing.assert_allclose(ge.unscaled[label], X[cells].mean(axis=0), rtol=1e-5)
    plot = sch.pl.grouped_heatmap(kang, genes, ["ds", "cl"], scale=None)
    drawn = [t.get_text() for ax in plot.axes["col_labels"] for t in ax.texts]
    assert sorted(drawn) == sorted(expected)
    np.testing.assert_allclose(plot.data[expected], ge.unscaled[expected], rtol=1e-6)
    cells = sch.pl.cell_heatmap(kang, genes, ["ds", "cl"])
    assert cells.data.shape[0] == len(genes)


# --- clusters= on pandas 3 (copy-on-write makes np.asarray of pandas read-only) --------


def test_clusters_selection_matches_numpy(kang):
    genes = [GX, "CD3E"]
    ge = sch.get.grouped_expression(
        kang, genes, ["group_id", "cluster_id"], clusters=["B cells"], cluster_key="cluster_id"
    )
    assert list(ge.matrix.columns) == ["ctrl / B cells", "stim / B cells"]
    X = np.column_stack([_values(kang, g) for g in genes])
    for cond in ("ctrl", "stim"):
        cells = ((kang.obs["group_id"] == cond) & (kang.obs["cluster_id"] == "B cells")).to_numpy()
        np.testing.assert_allclose(ge.matrix[f"{cond} / B cells"], X[cells].mean(0), rtol=1e-5)
    de = sch.get.dual_expression(
        kang, GX, GY, color="group_id", clusters="B cells", cluster_key="cluster_id"
    )
    b = (kang.obs["cluster_id"] == "B cells").to_numpy()
    x, y = _values(kang, GX)[b], _values(kang, GY)[b]
    pooled = de.stats[de.stats["all_groups"]].iloc[0]
    assert pooled["n"] == b.sum()
    assert pooled["r"] == pytest.approx(scipy.stats.pearsonr(x, y).statistic)


# --- pp.integrate on genes holding NaN (outer concat) ----------------------------------


@pytest.fixture(scope="module")
def outer_pbmc():
    """pbmc1k v2 and v3, log-normalised, 160 genes each: 150 shared, 10 their own.
    The outer concat holds NaN where a dataset did not measure a gene."""
    parts, own = {}, {}
    v2 = ad.read_h5ad(real_data_path("pbmc1k_10x_v2.h5ad"))
    v3 = ad.read_h5ad(real_data_path("pbmc1k_10x_v3.h5ad"))
    shared = v2.var_names.intersection(v3.var_names)
    totals = np.asarray(v2[:, shared].X.sum(axis=0)).ravel()
    top = list(shared[np.argsort(-totals)[:150]])
    for name, data, other in (("v2", v2, v3), ("v3", v3, v2)):
        only = data.var_names.difference(other.var_names)
        sums = np.asarray(data[:, only].X.sum(axis=0)).ravel()
        own[name] = list(only[np.argsort(-sums)[:5]])
        a = data.copy()
        sc.pp.normalize_total(a, target_sum=1e4)
        sc.pp.log1p(a)
        a = a[:, top + own[name]].copy()
        a.X = a.X.toarray()
        a.obs_names = [f"{name}_{c}" for c in a.obs_names]
        parts[name] = ad.AnnData(X=a.X, obs=a.obs[[]], var=a.var[[]])
    combined = ad.concat(parts, join="outer", label="batch")
    return combined, top, own["v2"] + own["v3"]


def test_integrate_names_the_genes_holding_nan(outer_pbmc):
    combined, _, own = outer_pbmc
    adata = combined.copy()
    assert np.isnan(adata[:, own].X).any(axis=0).all()  # the premise: NaN from the concat
    with pytest.raises(ValueError, match=r"10 of 160 genes .*hold NaN") as err:
        sch.pp.integrate(adata, "batch")
    assert all(repr(g) in str(err.value) for g in own)
    assert "missing='drop'" in str(err.value) and "join='inner'" in str(err.value)
    assert "integrated" not in adata.layers


def test_integrate_drop_corrects_the_finite_genes_as_scanpy(outer_pbmc):
    combined, shared, own = outer_pbmc
    adata = combined.copy()
    sch.pp.integrate(adata, "batch", missing="drop")
    layer = pd.DataFrame(adata.layers["integrated"], columns=adata.var_names)
    assert layer[own].isna().all().all()
    inner = combined[:, shared].copy()
    expected = sc.pp.combat(inner, key="batch", inplace=False)
    np.testing.assert_allclose(layer[shared].to_numpy(), expected, rtol=1e-4, atol=1e-4)
    assert np.isfinite(layer[shared].to_numpy()).all()
    with pytest.raises(ValueError, match=r"hold NaN or inf values in source='integrated'"):
        sch.get.grouped_expression(adata, own[:1], "batch", source="integrated")
