"""What the atlas benchmark runs, at a tiny size, on every kind of matrix anndata hands out
for files larger than memory (backed h5ad, ``read_lazy`` of h5ad and zarr with lazy obs
and dask X, dask X on in-memory obs): markers (t-test, Wilcoxon), the grouped heatmap by
dataset x cluster and the dot plot, each against scanpy on the in-memory copy."""

from __future__ import annotations

import warnings
from importlib.metadata import version
from importlib.util import find_spec

import anndata as ad
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import scanpy as sc
from conftest import make_synthetic

import sc_heatmaps as sch
from sc_heatmaps.tl import _wilcoxon

GENES = ["G00", "G04", "G05", "G09", "G13", "G20"]
HAS_READ_LAZY = hasattr(ad.experimental, "read_lazy")
needs_read_lazy = pytest.mark.skipif(
    not HAS_READ_LAZY, reason=f"anndata {version('anndata')} has no experimental.read_lazy"
)


@pytest.fixture(scope="module")
def memory():
    return make_synthetic(seed=21, n_per_group=15)


@pytest.fixture(scope="module")
def files(memory, tmp_path_factory):
    folder = tmp_path_factory.mktemp("out_of_core")
    memory.write_h5ad(folder / "data.h5ad")
    if find_spec("zarr") is None:  # anndata 0.10 does not need zarr; nor does read_lazy's
        return folder  # h5ad (the zarr input needs read_lazy, anndata >= 0.12, with zarr)
    with warnings.catch_warnings():  # anndata 0.12: zarr v3 will become the default
        warnings.filterwarnings("ignore", "Writing zarr v2", UserWarning)
        memory.write_zarr(folder / "data.zarr")
    return folder


def _open(files, how: str, memory):
    if how == "backed":
        return ad.read_h5ad(files / "data.h5ad", backed="r")
    if how == "dask":
        da = pytest.importorskip("dask.array")
        lazy = memory.copy()
        lazy.X = da.from_array(memory.X, chunks=(23, -1))  # CSR chunks, ragged last one
        return lazy
    if how == "read_elem_lazy":  # dask X of the file's own chunks, obs in memory
        if not hasattr(ad.experimental, "read_elem_lazy"):
            pytest.skip(f"anndata {version('anndata')} has no experimental.read_elem_lazy")
        h5py = pytest.importorskip("h5py")
        handle = h5py.File(files / "data.h5ad", "r")
        X = ad.experimental.read_elem_lazy(handle["X"], chunks=(41, memory.n_vars))
        return ad.AnnData(X=X, obs=memory.obs.copy(), var=memory.var.copy(), uns=memory.uns)
    if not HAS_READ_LAZY:
        pytest.skip(f"anndata {version('anndata')} has no experimental.read_lazy")
    pytest.importorskip("xarray")  # read_lazy's obs
    name = "data.h5ad" if how == "lazy_h5ad" else "data.zarr"
    return ad.experimental.read_lazy(files / name)


INPUTS = ["backed", pytest.param("lazy_h5ad", marks=needs_read_lazy), "dask"]
INPUTS += [pytest.param("lazy_zarr", marks=needs_read_lazy), "read_elem_lazy"]


@pytest.fixture
def small_chunks(monkeypatch):
    """Several row blocks and several column chunks even at this size (a block of every
    row is the whole matrix, which anndata 0.10 reads through ``to_memory``)."""
    monkeypatch.setattr(_wilcoxon, "BACKED_ROWS", 40)
    monkeypatch.setattr(_wilcoxon, "OUT_OF_CORE_ENTRIES", 300)
    monkeypatch.setattr("sc_heatmaps._sources.COLUMN_READ_ROWS", 40)
    monkeypatch.setattr("sc_heatmaps._sources.COUNT_SAMPLE_VALUES", 200)
    monkeypatch.setattr("sc_heatmaps._aggregate.CHUNK_ROWS", 40)


def _scanpy_top(memory, method: str, n: int) -> dict:
    ref = memory.copy()
    ref.X = ref.X.astype(np.float64)
    sc.tl.rank_genes_groups(ref, "cluster", method=method, n_genes=ref.n_vars)
    return {g: sc.get.rank_genes_groups_df(ref, g).head(n) for g in ["c0", "c1", "c2", "c3"]}


@pytest.mark.parametrize("how", INPUTS)
@pytest.mark.parametrize("method", ["t-test", "wilcoxon"])
@pytest.mark.usefixtures("small_chunks")
def test_markers_out_of_core_equal_scanpy_in_memory(files, memory, how, method):
    adata = _open(files, how, memory)
    table = sch.tl.top_markers(adata, "cluster", method=method, n_genes=4, duplicates="keep")
    for group, expected in _scanpy_top(memory, method, 4).items():
        got = table[table["group"] == group]
        assert list(got["gene"]) == list(expected["names"])
        np.testing.assert_allclose(got["score"], expected["scores"], rtol=1e-5)
        np.testing.assert_allclose(got["pval_adj"], expected["pvals_adj"], rtol=1e-5)
        np.testing.assert_allclose(got["logfc"], expected["logfoldchanges"], rtol=1e-4)


def _scanpy_means(memory, by: list[str]) -> pd.DataFrame:
    """Mean per group of the genes, genes x groups, labelled like our columns."""
    agg = sc.get.aggregate(memory[:, GENES], by=by, func="mean")
    labels = [" / ".join(map(str, row)) for row in agg.obs[by].itertuples(index=False)]
    return pd.DataFrame(agg.layers["mean"].T, index=GENES, columns=labels)


@pytest.mark.parametrize("how", INPUTS)
def test_grouped_heatmap_out_of_core_equals_scanpy_means(files, memory, how, tmp_path):
    adata = _open(files, how, memory)
    plot = sch.pl.grouped_heatmap(
        adata, GENES, ["dataset", "cluster"], cluster_key="cluster", scale=None
    )
    plot.savefig(tmp_path / "heatmap.pdf")
    plt.close("all")
    assert (tmp_path / "heatmap.pdf").read_bytes()[:5] == b"%PDF-"
    expected = _scanpy_means(memory, ["dataset", "cluster"])
    got = plot.data.loc[GENES, expected.columns]
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-6)


@pytest.mark.parametrize("how", INPUTS)
def test_dotplot_out_of_core_equals_scanpy_means(files, memory, how, tmp_path):
    adata = _open(files, how, memory)
    plot = sch.pl.dotplot(adata, GENES, "cluster", scale=None)
    plot.savefig(tmp_path / "dotplot.pdf")
    plt.close("all")
    assert (tmp_path / "dotplot.pdf").read_bytes()[:5] == b"%PDF-"
    expected = _scanpy_means(memory, ["cluster"])
    got = plot.data.loc[GENES, expected.columns]
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-6)


@needs_read_lazy
def test_lazy_obs_keys_are_checked_like_in_memory_ones(files, memory):
    pytest.importorskip("xarray")
    lazy = ad.experimental.read_lazy(files / "data.h5ad")
    with pytest.raises(KeyError, match=r"'clustr' is not a column of adata\.obs"):
        sch.tl.top_markers(lazy, "clustr")


@pytest.mark.parametrize("method", ["t-test", "wilcoxon"])
@pytest.mark.usefixtures("small_chunks")
def test_backed_matrix_is_never_loaded_whole(files, memory, method, monkeypatch):
    # anndata loads all of a backed CSR matrix for a column index (X[:, genes]) and for
    # to_memory(); an atlas does not fit, so neither may happen on these paths
    backed = ad.read_h5ad(files / "data.h5ad", backed="r")

    def refuse(*args, **kwargs):
        raise AssertionError("all of the backed matrix was read into memory")

    monkeypatch.setattr(type(backed.X), "to_memory", refuse)
    got = sch.get.grouped_expression(backed, GENES, ["cluster"]).matrix
    expected = _scanpy_means(memory, ["cluster"])
    np.testing.assert_allclose(got.loc[GENES, expected.columns], expected, rtol=1e-6)
    table = sch.tl.top_markers(backed, "cluster", method=method, n_genes=2)
    assert len(table) == 8


@pytest.mark.usefixtures("small_chunks")
def test_stored_ranking_is_checked_on_a_backed_file_without_loading_it(
    memory, tmp_path, monkeypatch
):
    ranked = memory.copy()
    sc.tl.rank_genes_groups(ranked, "cluster", method="t-test", n_genes=ranked.n_vars)
    ranked.write_h5ad(tmp_path / "ranked.h5ad")
    expected = sch.tl.top_markers(ranked, "cluster", method="t-test", n_genes=3)
    backed = ad.read_h5ad(tmp_path / "ranked.h5ad", backed="r")

    def refuse(*args, **kwargs):
        raise AssertionError("all of the backed matrix was read into memory")

    monkeypatch.setattr(type(backed.X), "to_memory", refuse)
    got = sch.tl.top_markers(backed, "cluster", method="t-test", n_genes=3)
    pd.testing.assert_frame_equal(got, expected)
