"""Dask arrays: same statistics and markers as in memory; out of core on a LocalCluster."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import make_synthetic

import sc_heatmaps as sch
from sc_heatmaps._aggregate import group_stats_all

da = pytest.importorskip("dask.array")


@pytest.mark.parametrize("sparse_chunks", [False, True])
def test_dask_markers_and_grouped_expression_equal_in_memory(sparse_chunks):
    adata = make_synthetic(seed=11, n_per_group=20)
    lazy = adata.copy()
    X = adata.X if sparse_chunks else adata.X.toarray()
    lazy.X = da.from_array(X, chunks=(37, 11))
    pd.testing.assert_frame_equal(
        sch.tl.top_markers(lazy, "cluster", n_genes=4),
        sch.tl.top_markers(adata, "cluster", n_genes=4),
    )
    genes = ["G00", "G07", "G13"]
    pd.testing.assert_frame_equal(
        sch.get.grouped_expression(lazy, genes, ["dataset", "cluster"]).matrix,
        sch.get.grouped_expression(adata, genes, ["dataset", "cluster"]).matrix,
    )


@pytest.mark.slow
@pytest.mark.exhaustive
def test_out_of_core_on_a_local_cluster_with_small_workers():
    distributed = pytest.importorskip("distributed")
    # 800 MB of float32 made lazily on the workers; each worker may use 300 MB in all, less
    # than the half of the data it would hold if it kept its blocks (an idle worker of
    # distributed 2024.1 holds ~155 MB: paused for good at 80% of 200 MB, it deadlocked)
    n_cells, n_genes, rows = 400_000, 500, 2_500
    rng = da.random.default_rng(0)
    values = rng.standard_gamma(1.0, (n_cells, n_genes), chunks=(rows, n_genes), dtype=np.float32)
    X = da.where(rng.random((n_cells, n_genes), chunks=(rows, n_genes)) < 0.3, values, 0)
    X = X.astype(np.float32)
    codes = np.arange(n_cells) % 7
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            memory_limit="300MB",
            processes=True,
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster),
    ):
        stats = group_stats_all(X, codes, 7)
        # the same sums by another route: dask's own masked reductions, group by group
        expected = np.stack(
            [X[codes == g].sum(axis=0, dtype=np.float64).compute() for g in range(7)]
        )
    np.testing.assert_allclose(stats.sums, expected, rtol=1e-9)
    assert stats.n.sum() == n_cells
