"""Marker selection against scanpy's own rank_genes_groups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scanpy as sc
from conftest import MARKER_COLUMNS, fingerprint

import sc_heatmaps as sch


def scanpy_ranking(adata, groupby, **kwargs) -> pd.DataFrame:
    """scanpy's full ranking, computed independently on a float64 copy: scanpy < 1.12
    squares float32 values in float32, which moves p-values below ~1e-30 by up to 1e-4
    relative; on float64 values every scanpy version gives the exact statistics."""
    ref = adata.copy()
    ref.X = ref.X.astype(np.float64)
    sc.tl.rank_genes_groups(
        ref, groupby, method=kwargs.pop("method", "t-test"), n_genes=ref.n_vars, pts=True, **kwargs
    )
    return ref


def test_keep_equals_scanpy_top_n_in_order(synthetic):
    ref = scanpy_ranking(synthetic, "cluster")
    table = sch.tl.top_markers(synthetic, "cluster", n_genes=5, duplicates="keep")
    assert list(table.columns) == MARKER_COLUMNS
    for group in synthetic.obs["cluster"].cat.categories:
        expected = sc.get.rank_genes_groups_df(ref, group).head(5)
        got = table[table["group"] == group]
        assert list(got["gene"]) == list(expected["names"])
        assert list(got["rank"]) == [1, 2, 3, 4, 5]
        np.testing.assert_allclose(got["score"], expected["scores"], rtol=1e-6)
        np.testing.assert_allclose(got["logfc"], expected["logfoldchanges"], rtol=1e-5)
        np.testing.assert_allclose(got["pval_adj"], expected["pvals_adj"], rtol=1e-6)
        pts = ref.uns["rank_genes_groups"]["pts"][group].loc[got["gene"]]
        pts_rest = ref.uns["rank_genes_groups"]["pts_rest"][group].loc[got["gene"]]
        np.testing.assert_allclose(got["pct_in"], pts, rtol=1e-9)
        np.testing.assert_allclose(got["pct_out"], pts_rest, rtol=1e-9)
    assert list(table["group"].cat.categories) == list(synthetic.obs["cluster"].cat.categories)


@pytest.mark.parametrize("method", ["wilcoxon", "t-test_overestim_var"])
def test_other_methods_match_scanpy(synthetic, method):
    ref = scanpy_ranking(synthetic, "cluster", method=method)
    table = sch.tl.top_markers(synthetic, "cluster", n_genes=4, method=method, duplicates="keep")
    for group in ["c0", "c3"]:
        expected = sc.get.rank_genes_groups_df(ref, group).head(4)["names"]
        assert list(table.loc[table["group"] == group, "gene"]) == list(expected)


def _shared_marker_data():
    """Synthetic data where G00..G03 mark both c0 and c1 (c1 more strongly for G00, G01)."""
    from conftest import make_synthetic

    adata = make_synthetic(seed=1)
    X = adata.X.toarray()
    c1 = (adata.obs["cluster"] == "c1").to_numpy()
    X[np.ix_(c1, [0, 1])] += 2.0
    X[np.ix_(c1, [2, 3])] += 1.0
    adata.X = X
    return adata


def _greedy_first(ranking: dict[str, list[str]], n: int) -> dict[str, list[str]]:
    """The 'first' policy written as the plain sequential greedy algorithm."""
    taken, out = set(), {}
    for group, genes in ranking.items():
        out[group] = [g for g in genes if g not in taken][:n]
        taken.update(out[group])
    return out


def _full_ranking(adata, groupby):
    ref = scanpy_ranking(adata, groupby)
    cats = adata.obs[groupby].cat.categories
    frames = {g: sc.get.rank_genes_groups_df(ref, g) for g in cats}
    return {g: list(f["names"]) for g, f in frames.items()}, {
        g: dict(zip(f["names"], f["scores"], strict=True)) for g, f in frames.items()
    }


def test_duplicates_first_matches_sequential_greedy():
    adata = _shared_marker_data()
    ranking, _ = _full_ranking(adata, "cluster")
    table = sch.tl.top_markers(adata, "cluster", n_genes=6, duplicates="first")
    got = {g: list(f["gene"]) for g, f in table.groupby("group", observed=True)}
    assert got == _greedy_first(ranking, 6)
    assert not table["gene"].duplicated().any()


def test_duplicates_best_invariants():
    adata = _shared_marker_data()
    ranking, scores = _full_ranking(adata, "cluster")
    table = sch.tl.top_markers(adata, "cluster", n_genes=6, duplicates="best")
    got = {g: list(f["gene"]) for g, f in table.groupby("group", observed=True)}
    owner = {gene: g for g, genes in got.items() for gene in genes}
    assert len(owner) == len(table), "a gene was kept in two groups"
    assert all(len(genes) == 6 for genes in got.values()), "groups were not refilled"
    # G00/G01 are stronger in c1: 'best' keeps them there, 'keep' has them in both
    assert owner.get("G00") == "c1" and owner.get("G01") == "c1"
    for group, genes in got.items():
        last = ranking[group].index(genes[-1])
        for skipped in ranking[group][:last]:
            if skipped in genes:
                continue
            # every gene passed over was kept by a group where it scores at least as high
            assert skipped in owner, f"{skipped} dropped from {group} without an owner"
            assert scores[owner[skipped]][skipped] >= scores[group][skipped]
    kept = sch.tl.top_markers(adata, "cluster", n_genes=6, duplicates="keep")
    assert kept["gene"].duplicated().any(), "test data should have shared markers"


def test_filters_apply_before_top_n(synthetic):
    ref = scanpy_ranking(synthetic, "cluster")
    table = sch.tl.top_markers(
        synthetic,
        "cluster",
        n_genes=3,
        duplicates="keep",
        min_logfc=1.0,
        max_pval_adj=1e-3,
        min_in_group_fraction=0.5,
    )
    for group in synthetic.obs["cluster"].cat.categories:
        df = sc.get.rank_genes_groups_df(ref, group)
        df = df[
            (df["logfoldchanges"] >= 1.0) & (df["pvals_adj"] <= 1e-3) & (df["pct_nz_group"] >= 0.5)
        ]
        assert list(table.loc[table["group"] == group, "gene"]) == list(df["names"].head(3))


def test_reuses_a_matching_stored_result(synthetic, monkeypatch):
    sc.tl.rank_genes_groups(synthetic, "cluster", method="t-test", n_genes=synthetic.n_vars)
    before = fingerprint(synthetic)

    def fail(*args, **kwargs):
        raise AssertionError("rank_genes_groups should not run again")

    monkeypatch.setattr(sc.tl, "rank_genes_groups", fail)
    table = sch.tl.top_markers(synthetic, "cluster", n_genes=3, duplicates="keep")
    assert len(table) == 12
    assert fingerprint(synthetic) == before


def test_does_not_reuse_another_source(synthetic):
    sc.tl.rank_genes_groups(synthetic, "cluster", method="t-test")
    synthetic.layers["integrated"] = synthetic.X.toarray()[:, ::-1].copy()
    table = sch.tl.top_markers(
        synthetic, "cluster", n_genes=2, source="integrated", duplicates="keep"
    )
    # columns reversed: c0's markers G00..G03 now sit at positions G26..G29
    assert set(table.loc[table["group"] == "c0", "gene"]) <= {"G26", "G27", "G28", "G29"}


def test_key_added_stores_and_never_overwrites(synthetic):
    sch.tl.top_markers(synthetic, "cluster", n_genes=2, key_added="sch_markers")
    stored = synthetic.uns["sch_markers"]
    assert stored["params"]["groupby"] == "cluster"
    assert stored["params"]["source"] == "RNA"
    assert sc.get.rank_genes_groups_df(synthetic, "c0", key="sch_markers").shape[0] == 30
    # same request: reused, nothing rewritten
    sch.tl.top_markers(synthetic, "cluster", n_genes=2, key_added="sch_markers")
    assert synthetic.uns["sch_markers"] is stored
    # a different request would overwrite: refused
    with pytest.raises(ValueError, match=r"adata.uns\['sch_markers'\] already exists"):
        sch.tl.top_markers(synthetic, "dataset", n_genes=2, key_added="sch_markers")


def test_without_key_added_nothing_is_written(synthetic):
    before = fingerprint(synthetic)
    sch.tl.top_markers(synthetic, "cluster", n_genes=2)
    sch.get.marker_genes(synthetic, "cluster", n_genes=2)
    assert fingerprint(synthetic) == before


def test_groups_restrict_the_comparison_like_scanpy(synthetic):
    ref = synthetic.copy()
    sc.tl.rank_genes_groups(ref, "cluster", groups=["c0", "c2"], n_genes=30, pts=True)
    table = sch.tl.top_markers(synthetic, "cluster", groups="c0,c2", n_genes=3, duplicates="keep")
    assert list(table["group"].cat.categories) == ["c0", "c2"]
    for g in ["c0", "c2"]:
        expected = sc.get.rank_genes_groups_df(ref, g).head(3)["names"]
        got = table[table["group"] == g]
        assert list(got["gene"]) == list(expected)
        # scanpy's rest is every other cell, also those of groups left out
        rest = ref.uns["rank_genes_groups"]["pts_rest"][g].loc[got["gene"]]
        np.testing.assert_allclose(got["pct_out"], rest, rtol=1e-9)


def test_marker_genes_dict(synthetic):
    markers = sch.get.marker_genes(synthetic, "cluster", n_genes=3)
    assert list(markers) == ["c0", "c1", "c2", "c3"]
    assert all(len(v) == 3 for v in markers.values())


def test_marker_errors_name_the_problem(synthetic):
    with pytest.raises(ValueError, match=r"duplicates='all'.*'keep', 'first', 'best'"):
        sch.tl.top_markers(synthetic, "cluster", duplicates="all")
    with pytest.raises(ValueError, match=r"method='deseq'.*'t-test'"):
        sch.tl.top_markers(synthetic, "cluster", method="deseq")
    with pytest.raises(ValueError, match="n_genes=0"):
        sch.tl.top_markers(synthetic, "cluster", n_genes=0)
    with pytest.raises(KeyError, match=r"\['c7'\].*valid groups"):
        sch.tl.top_markers(synthetic, "cluster", groups=["c0", "c7"])
    with pytest.raises(ValueError, match="at least 2 groups"):
        sch.tl.top_markers(synthetic, "cluster", groups=["c0"])
    one = synthetic.copy()
    one.obs["cluster"] = one.obs["cluster"].cat.add_categories("solo")
    one.obs.iloc[0, one.obs.columns.get_loc("cluster")] = "solo"
    with pytest.raises(ValueError, match=r"\['solo'\].*single cell"):
        sch.tl.top_markers(one, "cluster")


def test_kang_markers_match_known_biology(kang):
    markers = sch.get.marker_genes(kang, "cluster_id", n_genes=10)
    assert {"CD14", "LYZ"} & set(markers["CD14+ Monocytes"])
    assert {"MS4A1", "CD79A_ENSG00000105369", "CD79B"} & set(markers["B cells"])
    assert {"FCGR3A", "MS4A7"} & set(markers["FCGR3A+ Monocytes"])
    assert "CD8A" in markers["CD8 T cells"] or "CD8B" in markers["CD8 T cells"]


def test_kang_keep_equals_scanpy(kang):
    ref = kang.copy()
    sc.tl.rank_genes_groups(ref, "cluster_id", method="t-test", n_genes=10)
    table = sch.tl.top_markers(kang, "cluster_id", n_genes=10, duplicates="keep")
    for group in kang.obs["cluster_id"].cat.categories:
        expected = list(sc.get.rank_genes_groups_df(ref, group)["names"].head(10))
        assert list(table.loc[table["group"] == group, "gene"]) == expected


def test_backed_file_gives_the_same_markers(tmp_path, synthetic):
    import anndata as ad

    path = tmp_path / "syn.h5ad"
    synthetic.write_h5ad(path)
    backed = ad.read_h5ad(path, backed="r")
    in_memory = sch.tl.top_markers(synthetic, "cluster", n_genes=3)
    pd.testing.assert_frame_equal(sch.tl.top_markers(backed, "cluster", n_genes=3), in_memory)
    ge = sch.get.grouped_expression(backed, ["G00", "G05"], ["dataset", "cluster"])
    ref = sch.get.grouped_expression(synthetic, ["G00", "G05"], ["dataset", "cluster"])
    pd.testing.assert_frame_equal(ge.matrix, ref.matrix)
    backed.file.close()


def test_groups_compares_each_listed_group_with_every_other_cell(synthetic):
    """``groups=`` chooses which groups get markers; each is tested against all other
    cells (scipy's Welch test of the group against the rest of the data), as scanpy
    does, not against the other listed groups only; the docstring says so."""
    from scipy import stats

    table = sch.tl.top_markers(synthetic, "cluster", groups=["c0", "c2"], n_genes=5)
    ref = synthetic.copy()
    sc.tl.rank_genes_groups(ref, "cluster", groups=["c0", "c2"], n_genes=ref.n_vars)
    X = synthetic.X.toarray().astype(np.float64)
    labels = synthetic.obs["cluster"].astype(str).to_numpy()
    for row in table.itertuples():
        col = synthetic.var_names.get_loc(row.gene)
        inside = labels == str(row.group)
        every_other = stats.ttest_ind(X[inside, col], X[~inside, col], equal_var=False)
        listed = stats.ttest_ind(
            X[inside, col], X[np.isin(labels, ["c0", "c2"]) & ~inside, col], equal_var=False
        )
        assert row.score == pytest.approx(every_other.statistic, rel=1e-5)
        assert row.score != pytest.approx(listed.statistic, rel=1e-3)
        theirs = sc.get.rank_genes_groups_df(ref, str(row.group)).set_index("names")
        assert row.score == pytest.approx(theirs.loc[row.gene, "scores"], rel=1e-5)
    doc = " ".join(sch.tl.top_markers.__doc__.split())
    assert "each listed group is still compared with every other cell" in doc
    assert "the rest is then the other listed groups" not in doc
