"""A backed .h5ad (opened with backed="r") gives the same results as the same data in
memory, for every get/pl function that reads expression, and the file is left as it was."""

from __future__ import annotations

import hashlib

import anndata as ad
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from conftest import make_synthetic

import sc_heatmaps as sch

GENES = ["G00", "G04", "G09", "G13"]

CALLS = {
    "grouped_expression": lambda a: (
        sch.get.grouped_expression(a, GENES, ["dataset", "cluster"], scale="zscore").matrix
    ),
    "grouped_fraction": lambda a: (
        sch.get.grouped_expression(
            a, GENES, "cluster", stat="fraction", clusters="c0,c2", cluster_key="cluster"
        ).matrix
    ),
    "grouped_median": lambda a: (
        sch.get.grouped_expression(a, GENES, "cluster", stat="median").matrix
    ),
    "dual_expression": lambda a: sch.get.dual_expression(a, "G00", "G04", color="dataset").stats,
    "correlation": lambda a: sch.get.correlation(a, genes=GENES, min_nonzero=0).matrices["all"],
    "cell_heatmap": lambda a: (
        sch.pl.cell_heatmap(a, GENES, ["dataset", "cluster"], max_cells_per_group=5).data
    ),
    "grouped_heatmap": lambda a: (
        sch.pl.grouped_heatmap(
            a, GENES, ["dataset", "cluster"], cluster_key="cluster", cluster_rows=True
        ).data
    ),
    "markers": lambda a: sch.tl.top_markers(a, "cluster", n_genes=3),
}


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    path = tmp_path_factory.mktemp("backed") / "data.h5ad"
    make_synthetic(seed=4, n_per_group=20).write_h5ad(path)
    return path


@pytest.mark.parametrize("name", list(CALLS))
def test_backed_equals_in_memory(stored, name):
    digest = hashlib.sha256(stored.read_bytes()).hexdigest()
    memory = CALLS[name](ad.read_h5ad(stored))
    backed = ad.read_h5ad(stored, backed="r")
    try:
        result = CALLS[name](backed)
    finally:
        backed.file.close()
    plt.close("all")
    if isinstance(memory, pd.DataFrame):
        pd.testing.assert_frame_equal(result, memory, check_exact=False, rtol=1e-9)
    else:
        np.testing.assert_allclose(result, memory)
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == digest
