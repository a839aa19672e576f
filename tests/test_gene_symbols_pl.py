"""``gene_symbols=`` through the figures and the command line: genes given by symbol,
rows labelled by symbol, values equal to the same figure drawn from var_names."""

from __future__ import annotations

import subprocess
import sys

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from conftest import fingerprint

import sc_heatmaps as sch

GENES = ["CD3E", "MS4A1", "LYZ", "NKG7"]


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture
def ensembl(example):
    adata = example.copy()
    symbols = list(adata.var_names)
    adata.var_names = [f"ENSG{i:011d}" for i in range(adata.n_vars)]
    adata.var["symbol"] = pd.Categorical(symbols)
    return adata


def _row_labels(plot) -> list[str]:
    return [t.get_text() for ax in plot.axes["row_labels"] or [] for t in ax.texts]


def test_grouped_heatmap_by_symbols(ensembl, example):
    before = fingerprint(ensembl)
    plot = sch.pl.grouped_heatmap(ensembl, GENES, ["dataset", "cluster"], gene_symbols="symbol")
    same = sch.pl.grouped_heatmap(example, GENES, ["dataset", "cluster"])
    assert list(plot.data.index) == GENES
    assert _row_labels(plot) == GENES
    np.testing.assert_array_equal(plot.data.to_numpy(), same.data.to_numpy())
    assert fingerprint(ensembl) == before


def test_top_markers_are_labelled_by_symbol(ensembl, example):
    plot = sch.pl.grouped_heatmap(
        ensembl, cluster_key="cluster", dataset_key="dataset", n_genes=2, gene_symbols="symbol"
    )
    same = sch.pl.grouped_heatmap(example, cluster_key="cluster", dataset_key="dataset", n_genes=2)
    assert list(plot.data.index) == list(same.data.index)
    assert not any(g.startswith("ENSG") for g in _row_labels(plot))
    np.testing.assert_allclose(plot.data.to_numpy(), same.data.to_numpy())


def test_cell_heatmap_and_misspelt_symbol(ensembl):
    plot = sch.pl.cell_heatmap(
        ensembl, GENES[:2], cluster_key="cluster", max_cells_per_group=3, gene_symbols="symbol"
    )
    assert _row_labels(plot) == GENES[:2]
    with pytest.raises(KeyError, match=r"CD3EE.*CD3E"):
        sch.pl.grouped_heatmap(ensembl, ["CD3EE"], "cluster", gene_symbols="symbol")


def test_cli_gene_symbols(ensembl, tmp_path):
    path = tmp_path / "ens.h5ad"
    ensembl.write_h5ad(path)
    out = tmp_path / "heat"
    cmd = [sys.executable, "-m", "sc_heatmaps", "heatmap", "-i", str(path), "-x", "cluster"]
    cmd += ["-y", "CD3E,LYZ", "--gene-symbols", "symbol", "-o", str(out), "--dpi", "40"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(tmp_path / "heat.tsv", sep="\t", index_col=0)
    assert list(table.index) == ["CD3E", "LYZ"]


def test_dual_expression_by_symbols(ensembl, example):
    plot = sch.pl.dual_expression(ensembl, "CD3E", "LYZ", color="dataset", gene_symbols="symbol")
    same = sch.pl.dual_expression(example, "CD3E", "LYZ", color="dataset")
    pd.testing.assert_frame_equal(plot.stats, same.stats)
    labels = [ax.get_xlabel() + ax.get_ylabel() for ax in plot.figure.axes]
    assert any("CD3E" in t for t in labels) and not any("ENSG" in t for t in labels)
