"""Genes, groups, rows and columns removed by a filter are recorded in the JSON sidecar,
with the reason, from the API and from the command line (Kang data)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from conftest import KANG, real_data_path
from scipy import sparse
from test_cli_hardening import cli

import sc_heatmaps as sch

GENES = ["ISG15", "IFI6", "CD74", "LYZ", "FCGR3A", "CD3E", "MS4A1", "NKG7", "S100A8"]


def _means(adata, genes: list[str], key: str) -> pd.DataFrame:
    """Genes x categories mean of adata.X, with pandas (independent of the package)."""
    x = adata[:, genes].X
    x = x.toarray() if sparse.issparse(x) else np.asarray(x)
    cells = pd.DataFrame(x, columns=genes, index=adata.obs_names)
    return cells.groupby(adata.obs[key].to_numpy()).mean().T


def test_filtered_genes_are_in_the_json_sidecar(kang, tmp_path):
    condition = "row any >= 1.5"
    plot = sch.pl.grouped_heatmap(
        kang, [*GENES, "NOTAGENE"], "cluster_id", filter=condition, missing="drop"
    )
    plot.savefig(tmp_path / "h.png", dpi=50)
    meta = json.loads((tmp_path / "h.json").read_text())
    means = _means(kang, GENES, "cluster_id")
    filtered = [g for g in GENES if not (means.loc[g] >= 1.5).any()]
    assert filtered and len(filtered) < len(GENES)
    assert sorted(meta["dropped_genes"]) == sorted(["NOTAGENE", *filtered])
    assert meta["dropped_genes_reason"] == {"NOTAGENE": "missing"} | dict.fromkeys(
        filtered, "filter"
    )
    assert list(plot.data.index) == [g for g in GENES if g not in filtered]


def test_filtered_groups_and_matrix_rows_are_in_the_json_sidecar(kang, tmp_path):
    # a column criterion drops groups; matrix_heatmap records rows and columns
    plot = sch.pl.grouped_heatmap(kang, GENES, "cluster_id", filter="col any >= 3")
    plot.savefig(tmp_path / "g.png", dpi=50)
    meta = json.loads((tmp_path / "g.json").read_text())
    means = _means(kang, GENES, "cluster_id")
    gone = [c for c in means.columns if not (means[c] >= 3).any()]
    assert gone and meta["dropped_groups"] == gone
    assert meta["dropped_groups_reason"] == dict.fromkeys(gone, "filter")

    table = _means(kang, GENES, "cluster_id")
    mplot = sch.pl.matrix_heatmap(table, filter="row all > 0.05 AND col any > 3")
    mplot.savefig(tmp_path / "m.png", dpi=50)
    meta = json.loads((tmp_path / "m.json").read_text())
    rows = [g for g in table.index if not (table.loc[g] > 0.05).all()]
    cols = [c for c in table.columns if not (table[c] > 3).any()]
    assert rows and cols
    assert meta["dropped_rows"] == rows and meta["dropped_columns"] == cols
    assert meta["dropped_rows_reason"] == dict.fromkeys(rows, "filter")
    assert meta["dropped_columns_reason"] == dict.fromkeys(cols, "filter")


def test_cli_filter_is_in_the_json_sidecar(capsys, monkeypatch, tmp_path, kang_raw):
    path = real_data_path(KANG)
    genes = ",".join(GENES)
    args = ["heatmap", "-i", path, "-x", "cluster_id", "-y", genes, "-f", "row any >= 2"]
    code, _, err = cli(capsys, monkeypatch, *args, "-o", tmp_path / "h")
    assert code == 0, err
    meta = json.loads((tmp_path / "h.json").read_text())
    means = _means(kang_raw, GENES, "cluster_id")  # the CLI reads the stored counts
    filtered = [g for g in GENES if not (means.loc[g] >= 2).any()]
    assert filtered and sorted(meta["dropped_genes"]) == sorted(filtered)
    assert set(meta["dropped_genes_reason"].values()) == {"filter"}
