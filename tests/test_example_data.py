"""The bundled example: shape, size, offline loading, and the biology it simulates."""

from __future__ import annotations

import numpy as np

import sc_heatmaps as sch


def test_example_is_small_multi_dataset_and_fresh():
    path = sch.datasets.example_path()
    assert path.stat().st_size < 5 * 1024 * 1024
    a, b = sch.datasets.example(), sch.datasets.example()
    assert a is not b
    assert a.obs["dataset"].nunique() >= 3 and a.obs["cluster"].nunique() >= 6
    assert "simulated" in sch.datasets.example.__doc__.lower()
    assert set(a.layers) - {None} == {"counts"}  # anndata 0.13 lists X under None


def test_example_markers_recover_the_simulated_biology(example):
    markers = sch.get.marker_genes(example, "cluster", n_genes=5)
    assert "MS4A1" in markers["B"] or "CD79A" in markers["B"]
    assert {"CD14", "LYZ", "S100A8"} & set(markers["CD14 Mono"])
    assert {"NKG7", "GNLY"} & set(markers["NK"])
    assert {"PPBP", "PF4"} & set(markers["Platelet"])


def test_example_dataset_shifts(example):
    ge = sch.get.grouped_expression(example, ["ISG15", "IL1B"], ["dataset", "cluster"]).matrix
    for cluster in example.obs["cluster"].cat.categories:
        assert ge.loc["ISG15", f"stim_IFN / {cluster}"] > ge.loc["ISG15", f"ctrl / {cluster}"] + 1
    assert ge.loc["IL1B", "stim_LPS / CD14 Mono"] > ge.loc["IL1B", "ctrl / CD14 Mono"] + 1
    assert np.isclose(ge.loc["IL1B", "stim_LPS / B"], ge.loc["IL1B", "ctrl / B"], atol=0.3)
