"""Expression sources: RNA (raw or X), integrated, layers; missing genes and NaN."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

import sc_heatmaps as sch


def test_rna_reads_raw_when_set(synthetic):
    synthetic.raw = synthetic.copy()
    synthetic.X = synthetic.X * 0  # X differs from raw; RNA must read raw
    ge = sch.get.grouped_expression(synthetic, ["G00"], "cluster", source="RNA")
    assert ge.matrix.to_numpy().max() > 0


def test_rna_reads_x_without_raw(synthetic):
    ge = sch.get.grouped_expression(synthetic, ["G00"], "cluster")
    rows = (synthetic.obs["cluster"] == "c0").to_numpy()
    assert ge.matrix.loc["G00", "c0"] == pytest.approx(synthetic.X[rows, 0].mean(), rel=1e-6)


def test_layer_and_integrated_sources(synthetic):
    synthetic.layers["integrated"] = sparse.csr_matrix(synthetic.X * 2)
    synthetic.layers["other"] = synthetic.X * 3
    base = sch.get.grouped_expression(synthetic, ["G01"], "cluster").matrix
    integ = sch.get.grouped_expression(synthetic, ["G01"], "cluster", source="integrated").matrix
    other = sch.get.grouped_expression(synthetic, ["G01"], "cluster", source="other").matrix
    np.testing.assert_allclose(integ, 2 * base, rtol=1e-6)
    np.testing.assert_allclose(other, 3 * base, rtol=1e-6)


def test_missing_integrated_layer_says_how_to_make_it(synthetic):
    with pytest.raises(KeyError, match=r"source='integrated'.*sch.pp.integrate"):
        sch.get.grouped_expression(synthetic, ["G01"], "cluster", source="integrated")


def test_integrated_with_fewer_genes(synthetic):
    """Seurat-style: raw holds all genes, X and the integrated layer only some."""
    full = synthetic.copy()
    small = synthetic[:, :10].copy()
    small.raw = full
    small.layers["integrated"] = small.X.toarray()
    with pytest.raises(KeyError, match=r"'G20'.*source='RNA'.*missing='drop'"):
        sch.get.grouped_expression(small, ["G01", "G20"], "cluster", source="integrated")
    ge = sch.get.grouped_expression(
        small, ["G01", "G20"], "cluster", source="integrated", missing="drop"
    )
    assert list(ge.matrix.index) == ["G01"]
    assert ge.dropped_genes == ["G20"]
    rna = sch.get.grouped_expression(small, ["G01", "G20"], "cluster", source="RNA")
    assert list(rna.matrix.index) == ["G01", "G20"]


def test_nan_genes_in_integrated_are_reported(synthetic):
    layer = synthetic.X.toarray()
    layer[:, 3] = np.nan
    synthetic.layers["integrated"] = layer
    with pytest.raises(ValueError, match=r"\['G03'\] hold NaN"):
        sch.get.grouped_expression(synthetic, ["G01", "G03"], "cluster", source="integrated")
    ge = sch.get.grouped_expression(
        synthetic, ["G01", "G03"], "cluster", source="integrated", missing="drop"
    )
    assert ge.dropped_genes == ["G03"] and list(ge.matrix.index) == ["G01"]


def test_layer_shape_mismatch_is_an_error(synthetic):
    """anndata guards assignment; a mismatched layer read from elsewhere is refused too."""
    synthetic.layers._data["bad"] = np.zeros((synthetic.n_obs, 3))
    with pytest.raises(ValueError, match=r"'bad'.*shape \(96, 3\)"):
        sch.get.grouped_expression(synthetic, ["G01"], "cluster", source="bad")


def test_unknown_layer_lists_layers(synthetic):
    synthetic.layers["counts"] = synthetic.X
    with pytest.raises(KeyError, match=r"source='spliced'.*'counts'"):
        sch.get.grouped_expression(synthetic, ["G01"], "cluster", source="spliced")


def test_kang_suffixed_gene_gets_a_suggestion(kang):
    with pytest.raises(KeyError, match=r"'CD79A' \(did you mean 'CD79A_ENSG00000105369'"):
        sch.get.grouped_expression(kang, ["CD79A"], "cluster_id")
