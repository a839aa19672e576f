"""pp.integrate against scanpy's ComBat."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scanpy as sc

import sc_heatmaps as sch


def test_layer_equals_scanpy_combat_on_a_copy(synthetic):
    ref = synthetic.copy()
    ref.X = ref.X.toarray().astype(np.float64)
    expected = sc.pp.combat(ref, key="dataset", inplace=False)
    sch.pp.integrate(synthetic, "dataset")
    layer = synthetic.layers["integrated"]
    assert layer.shape == synthetic.shape and layer.dtype == np.float32
    np.testing.assert_allclose(layer, expected, rtol=1e-4, atol=1e-4)


def test_a_batch_shift_is_removed(synthetic):
    X = synthetic.X.toarray()
    d2 = (synthetic.obs["dataset"] == "d2").to_numpy()
    X[d2] += 1.5  # a pure batch effect on every gene
    synthetic.X = X
    sch.pp.integrate(synthetic, "dataset", covariates=["cluster"])
    genes = list(synthetic.var_names)
    raw = sch.get.grouped_expression(synthetic, genes, "dataset").matrix
    corr = sch.get.grouped_expression(synthetic, genes, "dataset", source="integrated").matrix
    assert np.allclose(raw["d2"] - raw["d1"], 1.5, atol=0.35)
    assert np.abs(corr["d2"] - corr["d1"]).max() < 0.2
    # cluster differences (biology) survive the correction
    by_cluster = sch.get.grouped_expression(synthetic, ["G00"], "cluster", source="integrated")
    assert by_cluster.matrix.loc["G00", "c0"] > by_cluster.matrix.loc["G00", "c2"] + 0.8


def test_integrate_uses_raw_for_rna_and_covers_var_names(synthetic):
    synthetic.raw = synthetic.copy()
    small = synthetic[:, :12].copy()
    sch.pp.integrate(small, "dataset")
    assert small.layers["integrated"].shape == (small.n_obs, 12)


def test_integrate_refuses_to_overwrite_and_bad_keys(synthetic):
    sch.pp.integrate(synthetic, "dataset")
    with pytest.raises(ValueError, match=r"layers\['integrated'\] already exists"):
        sch.pp.integrate(synthetic, "dataset")
    sch.pp.integrate(synthetic, "dataset", overwrite=True)
    with pytest.raises(KeyError, match=r"'batch'.*valid keys"):
        sch.pp.integrate(synthetic, "batch", key_added="x")
    with pytest.raises(ValueError, match=r"method='harmony'.*'combat'"):
        sch.pp.integrate(synthetic, "dataset", method="harmony", key_added="x")
    one = synthetic[synthetic.obs["dataset"] == "d1"].copy()
    with pytest.raises(ValueError, match="fewer than 2 batches"):
        sch.pp.integrate(one, "dataset", key_added="x")


def test_confounded_covariate_is_a_clear_error(synthetic):
    synthetic.obs["donor"] = synthetic.obs["dataset"].astype(str) + "_donor"
    with pytest.raises(ValueError, match=r"confounded"):
        sch.pp.integrate(synthetic, "dataset", covariates=["donor"], key_added="x")
    assert "x" not in synthetic.layers


@pytest.mark.filterwarnings("ignore:divide by zero encountered in divide:RuntimeWarning")
def test_a_batch_of_one_cell_is_refused_by_name(synthetic):
    """ComBat estimates each batch's variance: a batch of one cell gives NaN for every
    cell (scanpy's own ComBat does so silently). It is refused, naming the batch and the
    minimum; a batch of two cells is corrected to finite values, as scanpy computes."""
    obs = synthetic.obs
    dataset = obs["dataset"].astype(str).to_numpy().copy()
    dataset[0] = "lonely"
    synthetic.obs["batch"] = pd.Categorical(dataset)
    ref = synthetic.copy()
    ref.X = ref.X.toarray().astype(np.float64)
    # what scanpy does: all NaN (1.11), or its own refusal (1.12 and later)
    try:
        assert np.isnan(sc.pp.combat(ref, key="batch", inplace=False)).all()
    except ValueError as err:
        assert "lonely" in str(err)
    with pytest.raises(ValueError, match=r"batch 'lonely' \(1 cell\).*at least 2 cells"):
        sch.pp.integrate(synthetic, "batch")
    assert "integrated" not in synthetic.layers
    dataset[1] = "lonely"
    synthetic.obs["batch"] = pd.Categorical(dataset)
    ref.obs["batch"] = synthetic.obs["batch"]
    sch.pp.integrate(synthetic, "batch")
    layer = synthetic.layers["integrated"]
    assert np.isfinite(layer).all()
    expected = sc.pp.combat(ref, key="batch", inplace=False)
    np.testing.assert_allclose(layer, expected, rtol=1e-4, atol=1e-4)


def test_an_unused_batch_category_changes_nothing(synthetic):
    expected = synthetic.copy()
    sch.pp.integrate(expected, "dataset")
    synthetic.obs["dataset"] = synthetic.obs["dataset"].cat.add_categories(["never"])
    sch.pp.integrate(synthetic, "dataset")
    np.testing.assert_array_equal(synthetic.layers["integrated"], expected.layers["integrated"])
