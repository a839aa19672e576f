"""Conserved markers in the heatmap and on the command line (issue 13): the rows are the
markers that sch.tl.conserved_markers picks, whose own numbers test_conserved checks
against scanpy per dataset."""

from __future__ import annotations

import subprocess
import sys

import matplotlib.pyplot as plt
import pandas as pd
import pytest

import sc_heatmaps as sch


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _expected_blocks(adata, n: int) -> dict:
    table = sch.tl.conserved_markers(adata, "cluster", "dataset", n_genes=n)
    blocks = {}
    for cluster, genes in table.groupby("cluster", observed=True, sort=False)["gene"]:
        blocks[str(cluster)] = list(genes)
    return {b: g for b, g in blocks.items() if g}


def test_grouped_heatmap_draws_the_conserved_markers(example):
    plot = sch.pl.grouped_heatmap(
        example, cluster_key="cluster", dataset_key="dataset", n_genes=3, markers="conserved"
    )
    expected = _expected_blocks(example, 3)
    drawn = {}
    for block, gene in plot.data.index:
        drawn.setdefault(block, []).append(gene)
    assert drawn == {b: g for b, g in expected.items() if b in drawn}
    assert set(drawn) == set(expected)
    assert plot.params["markers"] == "conserved"
    top = sch.pl.grouped_heatmap(example, cluster_key="cluster", dataset_key="dataset", n_genes=3)
    assert list(top.data.index) != list(plot.data.index)  # a different recipe, other rows


def test_conserved_needs_a_dataset_key(example):
    with pytest.raises(ValueError, match="dataset_key"):
        sch.pl.grouped_heatmap(example, cluster_key="cluster", markers="conserved")
    with pytest.raises(ValueError, match=r"markers.*'best'.*top"):
        sch.pl.grouped_heatmap(example, cluster_key="cluster", markers="best")


def test_cli_conserved(example, tmp_path):
    path = tmp_path / "ex.h5ad"
    example.write_h5ad(path)
    cmd = [sys.executable, "-m", "sc_heatmaps", "heatmap", "-i", str(path), "-x", "dataset"]
    cmd += ["--cluster-key", "cluster", "--dataset-key", "dataset", "-y", "conserved:2"]
    cmd += ["-o", str(tmp_path / "h"), "--dpi", "40"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(tmp_path / "h.tsv", sep="\t", index_col=[0, 1])
    expected = _expected_blocks(example, 2)
    assert list(table.index.get_level_values(-1)) == [g for gs in expected.values() for g in gs]
