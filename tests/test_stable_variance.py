"""Group variances stay exact for genes far from zero (1e6 +- 1e-2).

A variance from sums of squares (mean of squares minus squared mean) cancels there:
scores came out as 0 or arbitrary. Expected values come from scipy and numpy, which
compute variances from deviations.
"""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from scipy import sparse, stats

import sc_heatmaps as sch
from sc_heatmaps import _aggregate
from sc_heatmaps._sources import resolve_source
from sc_heatmaps.tl._conserved_stats import Design, cluster_tests, dataset_cluster_stats
from sc_heatmaps.tl._ranking import group_codes
from sc_heatmaps.tl._ttest import ttest_ranking

pytestmark = pytest.mark.filterwarnings(
    # log fold changes of values near 1e6 overflow expm1: not what is tested here
    "ignore:overflow encountered in expm1:RuntimeWarning",
    "ignore:invalid value encountered in divide:RuntimeWarning",
    "ignore:divide by zero encountered in log2:RuntimeWarning",
)

# means near 1e6 are held to ~1e-10 in float64; merging chunks' means leaves variances of
# 1e-4 right to ~1e-8 (numpy's own two-pass variance has the same limit); the one-pass
# variance got them wrong by 100% or more
RTOL_VAR = 1e-7
# float32 holds 1e6 in steps of 1/16: noise of 1e-2 would round away, so float32 gets 0.25
NOISE = {np.float64: 1e-2, np.float32: 0.25}


def _offset_data(dtype, layout: str, seed: int = 0) -> ad.AnnData:
    """Three clusters x two datasets; genes at 1e6 + noise (some shifted by a few noise
    widths in one cluster), one gene at 1e6 in cluster a and near 0 elsewhere, one sparse."""
    rng = np.random.default_rng(seed)
    sizes = {"a": 30, "b": 25, "c": 35}
    cluster = np.repeat(list(sizes), list(sizes.values()))
    n, noise = len(cluster), NOISE[dtype]
    X = 1e6 + rng.normal(0.0, noise, size=(n, 6))
    X[cluster == "a", 1] += 3 * noise
    X[cluster == "b", 2] -= 2 * noise
    X[:, 3] = np.where(cluster == "a", 1e6 + rng.normal(0, noise, n), rng.normal(5, 1e-2, n))
    X[:, 4] = np.where(rng.random(n) < 0.5, 0.0, 1e6 + rng.normal(0, noise, n))
    X = X.astype(dtype)
    if layout != "dense":
        X = {"csr": sparse.csr_matrix, "csc": sparse.csc_matrix}[layout](X)
    obs = pd.DataFrame(
        {"cluster": pd.Categorical(cluster), "dataset": np.where(np.arange(n) % 2, "A", "B")},
        index=[f"cell{i}" for i in range(n)],
    )
    obs["dataset"] = obs["dataset"].astype("category")
    return ad.AnnData(X=X, obs=obs, var=pd.DataFrame(index=[f"g{i}" for i in range(6)]))


def _dense64(adata) -> np.ndarray:
    X = adata.X.toarray() if sparse.issparse(adata.X) else np.asarray(adata.X)
    return X.astype(np.float64)


def _path(layout: str, monkeypatch) -> str:
    """The matrix layout of a case; ``"first_call"`` is CSR read while numba has not
    started in the process (bincounts of the whole matrix instead of the compiled pass),
    ``"csr"`` the compiled pass."""
    started = layout != "first_call"
    monkeypatch.setattr(_aggregate, "numba_started", lambda: started)
    monkeypatch.setattr(_aggregate, "BINCOUNT_MAX_VALUES", 0 if started else 10**18)
    return "csr" if layout == "first_call" else layout


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layout", ["dense", "csr", "csc", "first_call"])
def test_ttest_at_a_large_offset_equals_scipy_welch(dtype, layout, monkeypatch):
    adata = _offset_data(dtype, _path(layout, monkeypatch))
    names = ["a", "b", "c"]
    request = {
        "groupby": "cluster",
        "method": "t-test",
        "source": "RNA",
        "groups": names,
        "corr_method": "benjamini-hochberg",
    }
    cat = adata.obs["cluster"].values
    result = ttest_ranking(
        resolve_source(adata, "RNA"), group_codes(cat, names), names, request, None
    )
    X = _dense64(adata)
    for group in names:
        inside = adata.obs["cluster"].to_numpy() == group
        expected = stats.ttest_ind(X[inside], X[~inside], equal_var=False)
        order = adata.var_names.get_indexer(result["names"][group])
        got_scores = np.asarray(result["scores"][group], dtype=np.float64)
        np.testing.assert_allclose(got_scores, expected.statistic[order], rtol=1e-5)
        np.testing.assert_allclose(result["pvals"][group], expected.pvalue[order], rtol=1e-5)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layout", ["dense", "csr", "csc", "dask", "bincount", "first_call"])
def test_group_variances_at_a_large_offset_equal_numpy(dtype, layout, monkeypatch):
    layout = _path(layout, monkeypatch) if layout in ("csr", "first_call") else layout
    adata = _offset_data(dtype, "csr" if layout == "bincount" else layout.replace("dask", "dense"))
    X = adata.X
    codes = adata.obs["cluster"].cat.codes.to_numpy().astype(np.int64)
    codes[::7] = -1  # cells in no group
    if layout == "dask":
        import dask.array as da

        st = _aggregate.group_stats_all(da.from_array(X, chunks=(17, 6)), codes, 3)
    elif layout == "bincount":  # the path for a few selected genes
        st = _aggregate.group_stats(X, codes, 3)
    else:
        st = _aggregate.group_stats_all(X, codes, 3, chunk_rows=23)  # several chunks merged
    dense = _dense64(adata)
    for g in range(3):
        np.testing.assert_allclose(st.var[g], dense[codes == g].var(axis=0, ddof=1), rtol=RTOL_VAR)
        np.testing.assert_allclose(st.mean[g], dense[codes == g].mean(axis=0), rtol=1e-12)
    others = st.others()
    for g in range(3):
        rest = dense[(codes >= 0) & (codes != g)]
        np.testing.assert_allclose(others.var[g], rest.var(axis=0, ddof=1), rtol=RTOL_VAR)
    pooled = st.pooled(np.array([True, False, True]))
    both = dense[(codes == 0) | (codes == 2)]
    np.testing.assert_allclose(pooled.m2 / (pooled.n - 1), both.var(axis=0, ddof=1), rtol=RTOL_VAR)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_conserved_tests_at_a_large_offset_equal_scipy_welch(dtype):
    adata = _offset_data(dtype, "csr")
    obs = adata.obs
    design = Design.of(obs["cluster"].values, obs["dataset"].values)
    cube = dataset_cluster_stats(resolve_source(adata, "RNA"), design)
    X = _dense64(adata)
    for c, cluster in enumerate(design.clusters):
        res = cluster_tests(cube, c, np.arange(2), "t-test", None)
        for d, dataset in enumerate(design.datasets):
            in_ds = obs["dataset"].to_numpy() == dataset
            inside = in_ds & (obs["cluster"].to_numpy() == cluster)
            expected = stats.ttest_ind(X[inside], X[in_ds & ~inside], equal_var=False)
            np.testing.assert_allclose(res["scores"][d], expected.statistic, rtol=1e-6)
            np.testing.assert_allclose(res["pvals"][d], expected.pvalue, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dataset_differences_at_a_large_offset_equal_scipy_welch(dtype):
    adata = _offset_data(dtype, "csr")
    table = sch.tl.dataset_differences(adata, "dataset", "cluster", reference="A")
    X = _dense64(adata)
    obs = adata.obs
    for cluster in ["a", "b", "c"]:
        in_cluster = obs["cluster"].to_numpy() == cluster
        ds = in_cluster & (obs["dataset"].to_numpy() == "B")
        ref = in_cluster & (obs["dataset"].to_numpy() == "A")
        expected = stats.ttest_ind(X[ds], X[ref], equal_var=False)
        rows = table[table["cluster"].astype(str) == cluster].set_index("gene")
        got = rows.loc[adata.var_names]
        np.testing.assert_allclose(got["score"], expected.statistic, rtol=1e-5)
        np.testing.assert_allclose(got["pval"], expected.pvalue, rtol=1e-5)
