"""Our compiled Wilcoxon rank-sum test reproduces scanpy's ``rank_genes_groups(method="wilcoxon")``
on every input type, for both ``tie_correct`` settings, without scanpy and without
touching the input."""

from __future__ import annotations

import logging

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scanpy as sc
from conftest import fingerprint
from scipy import sparse

import sc_heatmaps as sch
from sc_heatmaps._sources import resolve_source
from sc_heatmaps.tl._ranking import compute_ranking

# scanpy's own 0/0 for a gene at zero in every cell (tie-corrected), in the reference
pytestmark = pytest.mark.filterwarnings(
    "ignore:invalid value encountered in divide:RuntimeWarning:scanpy.*"
)

GROUPS = ["a", "b", "c", "d"]
FIELDS = ("scores", "pvals", "pvals_adj", "logfoldchanges")


def _tied(seed: int = 0, n: int = 260, n_genes: int = 40) -> ad.AnnData:
    """Log-normalised counts: mostly zeros, many ties, some cells without a group,
    genes with negative values (as after scaling) and stored zeros."""
    rng = np.random.default_rng(seed)
    label = rng.choice([*GROUPS, None], n, p=[0.3, 0.25, 0.2, 0.15, 0.1])
    counts = rng.poisson(0.3, (n, n_genes)).astype(np.float64)
    for k, g in enumerate(GROUPS):  # genes 4k..4k+3 mark group k
        rows = label == g
        counts[np.ix_(rows, range(4 * k, 4 * k + 4))] += rng.poisson(2.0, (rows.sum(), 4))
    X = np.log1p(counts).astype(np.float32)
    X[:, 30] -= 0.4  # every cell below zero, many tied
    X[rng.random(n) < 0.3, 31] = -1.5
    X[:, 32] = 0.0  # a gene with no value anywhere: every cell tied
    obs = pd.DataFrame(
        {"cluster": pd.Categorical(label, categories=GROUPS)},
        index=[f"cell{i}" for i in range(n)],
    )
    adata = ad.AnnData(X=X, obs=obs, var=pd.DataFrame(index=[f"G{i:02d}" for i in range(n_genes)]))
    adata.uns["log1p"] = {"base": None}
    return adata


def _as(adata: ad.AnnData, kind: str) -> ad.AnnData:
    out = adata.copy()
    X = np.asarray(adata.X)
    if kind == "csr":
        out.X = sparse.csr_matrix(X)
        out.X.data[::7] = 0.0  # stored zeros are zeros
    elif kind == "csc":
        out.X = sparse.csc_matrix(X)
    elif kind == "float64 csr":  # values not packed with their cells: the generic kernel
        out.X = sparse.csr_matrix(X.astype(np.float64))
    return out


def _scanpy(adata, tie_correct, groupby="cluster"):
    ref = adata.to_memory() if adata.isbacked else adata.copy()
    if sparse.issparse(ref.X):
        ref.X = sparse.csr_matrix(ref.X)
    else:
        ref.X = np.asarray(ref.X)
    ref.X = ref.X.astype(np.float64)  # exact means for the fold changes in every scanpy
    sc.tl.rank_genes_groups(
        ref, groupby, method="wilcoxon", tie_correct=tie_correct, n_genes=ref.n_vars
    )
    return ref.uns["rank_genes_groups"]


def _ours(adata, tie_correct, groupby="cluster"):
    cat = adata.obs[groupby].values
    names = [str(c) for c in cat.categories]
    request = {
        "groupby": groupby,
        "method": "wilcoxon",
        "source": "RNA",
        "groups": names,
        "corr_method": "benjamini-hochberg",
        "tie_correct": tie_correct,
    }
    return compute_ranking(resolve_source(adata, "RNA"), cat, request, adata.uns.get("log1p"))


def _close(ours, theirs, rel=1e-6, tiny=1e-300):
    ours, theirs = np.asarray(ours, float), np.asarray(theirs, float)
    small = np.abs(theirs) < tiny
    np.testing.assert_allclose(ours[~small], theirs[~small], rtol=rel, atol=1e-12)
    np.testing.assert_allclose(ours[small], theirs[small], atol=tiny)


def _assert_same(ours, theirs, n_top=10):
    for g in theirs["names"].dtype.names:
        assert list(ours["names"][g][:n_top]) == list(theirs["names"][g][:n_top]), g
        order = {n: i for i, n in enumerate(theirs["names"][g])}
        idx = [order[n] for n in ours["names"][g]]
        for field in FIELDS:
            _close(ours[field][g], theirs[field][g][idx], rel=1e-5 if field[0] == "l" else 1e-6)


@pytest.mark.parametrize("kind", ["dense", "csr", "csc", "float64 csr"])
def test_matches_scanpy_in_memory(kind):
    adata = _as(_tied(seed=1), kind)
    before = fingerprint(adata)
    for tie_correct in (False, True):
        ours = _ours(adata, tie_correct)
        _assert_same(ours, _scanpy(adata, tie_correct))
        assert ours["params"]["tie_correct"] is tie_correct
    assert fingerprint(adata) == before


def test_tie_corrected_pvalues_equal_scipy_mannwhitneyu():
    """The tie-corrected z-score is scipy's Mann-Whitney z (no continuity correction)."""
    from scipy import stats

    adata = _tied(seed=2)
    ours = _ours(adata, True)
    X, label = np.asarray(adata.X, float), adata.obs["cluster"].to_numpy()
    for gene in ["G00", "G05", "G30", "G31"]:
        j = adata.var_names.get_loc(gene)
        inside, rest = X[label == "b", j], X[label != "b", j]
        res = stats.mannwhitneyu(inside, rest, use_continuity=False, method="asymptotic")
        i = list(ours["names"]["b"]).index(gene)
        np.testing.assert_allclose(ours["pvals"]["b"][i], res.pvalue, rtol=1e-6)


def test_cells_of_code_minus_one_take_no_part():
    """Code -1 leaves cells out of the test altogether, as removing their rows does
    (the within-dataset tests of conserved markers rank each dataset this way)."""
    from sc_heatmaps.tl._ranking import group_codes
    from sc_heatmaps.tl._wilcoxon import wilcoxon_ranking

    adata = _as(_tied(seed=9), "csr")
    keep = np.random.default_rng(0).random(adata.n_obs) < 0.6
    cat = adata.obs["cluster"].values
    codes = group_codes(cat, GROUPS)
    codes[~keep] = -1
    request = {"groupby": "cluster", "source": "RNA", "corr_method": "benjamini-hochberg"}
    for tie_correct in (False, True):
        request["tie_correct"] = tie_correct
        ours = wilcoxon_ranking(resolve_source(adata, "RNA"), codes, GROUPS, request, None)
        _assert_same(ours, _scanpy(adata[keep], tie_correct))


def test_small_chunks_and_unsorted_indices_give_the_same_result(monkeypatch):
    import sc_heatmaps.tl._wilcoxon as wx

    adata = _as(_tied(seed=3), "csr")
    adata.X = adata.X[:, np.r_[5:40, 0:5]].tocsr()  # unsorted indices within rows
    adata.X.has_sorted_indices = False
    before = fingerprint(adata)
    big = _ours(adata, True)
    monkeypatch.setattr(wx, "CHUNK_ENTRIES", 50)
    small = _ours(adata, True)
    for g in GROUPS:
        for field in FIELDS:
            np.testing.assert_array_equal(small[field][g], big[field][g])
    _assert_same(small, _scanpy(adata, True))
    assert fingerprint(adata) == before


@pytest.mark.parametrize("kind", ["csr", "dense"])
def test_backed_is_read_in_chunks_never_whole(tmp_path, monkeypatch, kind):
    import sc_heatmaps.tl._wilcoxon as wx

    _as(_tied(seed=4), kind).write_h5ad(tmp_path / "b.h5ad")
    backed = ad.read_h5ad(tmp_path / "b.h5ad", backed="r")
    expected = {t: _scanpy(backed, t) for t in (False, True)}

    def refuse(*args, **kwargs):
        raise AssertionError("the whole backed matrix was loaded into memory")

    if hasattr(backed.X, "to_memory"):
        monkeypatch.setattr(type(backed.X), "to_memory", refuse)
    monkeypatch.setattr(wx, "BACKED_ROWS", 60)
    monkeypatch.setattr(wx, "CHUNK_ENTRIES", 800)
    # the raw-count check reads the first cells only; on this small file its default
    # sample would be every cell (anndata 0.10 then loads the matrix whole)
    monkeypatch.setattr("sc_heatmaps._sources.COUNT_SAMPLE_VALUES", 500)
    # and so would the one-pass group statistics (fold changes), read in row chunks
    monkeypatch.setattr("sc_heatmaps._aggregate.CHUNK_ROWS", 60)
    for tie_correct in (False, True):
        _assert_same(_ours(backed, tie_correct), expected[tie_correct])
    backed.file.close()


@pytest.mark.parametrize("sparse_chunks", [False, True])
def test_dask_matches_scanpy(sparse_chunks):
    da = pytest.importorskip("dask.array")
    adata = _as(_tied(seed=5), "csr" if sparse_chunks else "dense")
    lazy = adata.copy()
    lazy.X = da.from_array(adata.X, chunks=(61, 9))
    for tie_correct in (False, True):
        _assert_same(_ours(lazy, tie_correct), _scanpy(adata, tie_correct))


@pytest.mark.parametrize("tie_correct", [False, True])
def test_real_kang_matches_scanpy(kang, tie_correct):
    _assert_same(_ours(kang, tie_correct, "cluster_id"), _scanpy(kang, tie_correct, "cluster_id"))


def test_top_markers_runs_without_scanpy_and_leaves_adata_alone(monkeypatch):
    adata = _as(_tied(seed=6), "csr")
    theirs = _scanpy(adata, False)
    before = fingerprint(adata)

    def refuse(*args, **kwargs):
        raise AssertionError("scanpy.tl.rank_genes_groups was called")

    monkeypatch.setattr(sc.tl, "rank_genes_groups", refuse)
    table = sch.tl.top_markers(adata, "cluster", method="wilcoxon", n_genes=5, duplicates="keep")
    assert fingerprint(adata) == before
    for g in GROUPS:
        rows = table[table["group"] == g]
        assert list(rows["gene"]) == list(theirs["names"][g][:5])
        _close(rows["score"], theirs["scores"][g][:5])
        _close(rows["pval_adj"], theirs["pvals_adj"][g][:5])


def test_stored_result_is_scanpys_and_readable_by_scanpy():
    adata = _as(_tied(seed=7), "csr")
    sch.tl.top_markers(adata, "cluster", method="wilcoxon", key_added="wx")
    assert adata.uns["wx"]["params"]["engine"] == "sc_heatmaps compiled Wilcoxon"
    df = sc.get.rank_genes_groups_df(adata, "a", key="wx")
    theirs = _scanpy(adata, False)
    assert list(df["names"][:10]) == list(theirs["names"]["a"][:10])


def test_quiet_no_log_records_and_nothing_printed(caplog, capfd):
    adata = _as(_tied(seed=8), "csr")
    verbosity = sc.settings.verbosity
    sc.settings.verbosity = "info"  # scanpy would say "ranking genes"
    try:
        with caplog.at_level(logging.DEBUG):
            sch.tl.top_markers(adata, "cluster", method="wilcoxon", n_genes=3)
    finally:
        sc.settings.verbosity = verbosity
    assert [r for r in caplog.records if r.levelno >= logging.INFO] == []
    out, err = capfd.readouterr()
    assert out == "" and err == ""


@pytest.mark.parametrize("tie_correct", [False, True])
def test_top_markers_takes_tie_correct_as_scanpy(example, tie_correct):
    """The public switch reaches the kernel, and a stored ranking made with the other
    setting is not reused for this one."""
    ref = example.copy()
    sc.tl.rank_genes_groups(ref, "cluster", method="wilcoxon", tie_correct=tie_correct)
    expected = sc.get.rank_genes_groups_df(ref, None)
    table = sch.tl.top_markers(
        example,
        "cluster",
        method="wilcoxon",
        tie_correct=tie_correct,
        n_genes=3,
        duplicates="keep",
    )
    for row in table.itertuples():
        want = expected[(expected["group"] == row.group) & (expected["names"] == row.gene)]
        assert row.score == pytest.approx(float(want["scores"].iloc[0]), rel=1e-5)
        assert row.pval_adj == pytest.approx(float(want["pvals_adj"].iloc[0]), rel=1e-5)
    other = ref.copy()  # holds a ranking made with the other setting
    sc.tl.rank_genes_groups(other, "cluster", method="wilcoxon", tie_correct=not tie_correct)
    again = sch.tl.top_markers(
        other,
        "cluster",
        method="wilcoxon",
        tie_correct=tie_correct,
        n_genes=3,
        duplicates="keep",
    )
    pd.testing.assert_frame_equal(again, table)


def test_tie_correct_is_for_wilcoxon_only(example):
    with pytest.raises(ValueError, match="tie_correct=True applies to method='wilcoxon'"):
        sch.tl.top_markers(example, "cluster", method="t-test", tie_correct=True)
