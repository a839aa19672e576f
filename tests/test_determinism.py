"""Determinism: the same inputs and seeds give byte-identical sidecars and equal .data
frames, in separate processes with different hash seeds; category order is respected."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from conftest import make_synthetic

import sc_heatmaps as sch

HERE = Path(__file__).parent


def _run(out: Path, hash_seed: str) -> None:
    out.mkdir()
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "MPLBACKEND": "Agg"}
    subprocess.run(
        [sys.executable, str(HERE / "_determinism_run.py"), str(out)],
        check=True,
        env=env,
        timeout=600,
    )


@pytest.mark.exhaustive
def test_two_processes_write_identical_sidecars_and_data(tmp_path):
    _run(tmp_path / "a", "1")
    _run(tmp_path / "b", "2")
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    sidecars = [n for n in names if n.endswith((".tsv", ".json"))]
    assert len(sidecars) == 11  # markers table + TSV and JSON for five figures
    for name in sidecars:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    for name in (n for n in names if n.endswith(".data.pkl")):
        pd.testing.assert_frame_equal(
            pd.read_pickle(tmp_path / "a" / name), pd.read_pickle(tmp_path / "b" / name)
        )
    # the figures themselves are deterministic too
    for name in (n for n in names if n.endswith((".svg", ".html"))):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


@pytest.fixture
def reordered():
    """Categories in an order that is neither alphabetical nor the order of appearance."""
    a = make_synthetic(seed=2)
    a.obs["dataset"] = a.obs["dataset"].cat.reorder_categories(["d2", "d1"])
    a.obs["cluster"] = (
        a.obs["cluster"]
        .cat.rename_categories({"c0": "T", "c1": "B", "c2": "NK", "c3": "Mono"})
        .cat.reorder_categories(["NK", "Mono", "T", "B"])
    )
    return a


def _first_seen(values) -> list[str]:
    return list(dict.fromkeys(map(str, values)))


def test_category_order_is_respected_everywhere(reordered):
    a = reordered
    clusters = ["NK", "Mono", "T", "B"]
    pairs = [f"{d} / {c}" for d in ["d2", "d1"] for c in clusters]
    ge = sch.get.grouped_expression(a, ["G00", "G04"], ["dataset", "cluster"])
    assert list(ge.matrix.columns) == pairs
    markers = sch.tl.top_markers(a, "cluster", n_genes=2)
    assert _first_seen(markers["group"]) == clusters
    assert list(sch.get.marker_genes(a, "cluster", n_genes=2)) == clusters
    heat = sch.pl.grouped_heatmap(a, cluster_key="cluster", dataset_key="dataset", n_genes=2)
    assert list(heat.data.columns) == pairs
    assert _first_seen(heat.spec.row_blocks) == clusters  # gene blocks follow the clusters
    assert list(heat.spec.col_meta["cluster"].astype(str)) == [c for _ in "12" for c in clusters]
    cells = sch.pl.cell_heatmap(a, ["G00"], ["dataset", "cluster"], max_cells_per_group=3)
    assert _first_seen(cells.columns["group"]) == pairs
    dual = sch.get.dual_expression(a, "G00", "G04", color="cluster")
    assert list(dual.stats["group"]) == [*clusters, None]
    corr = sch.get.correlation(a, genes=["G00", "G04", "G12"], groupby="dataset", min_nonzero=0)
    assert list(corr.matrices) == ["d2", "d1"]
    colors = sch.get.category_colors(a, "cluster")
    assert list(colors) == clusters
    a.obs["umis"] = np.arange(a.n_obs, dtype=float)
    summary = sch.get.obs_summary(a, "umis", "cluster", "dataset", op="mean")
    assert list(summary.index.astype(str)) == clusters
    assert list(summary.columns.astype(str)) == ["d2", "d1"]
    subset = sch.get.grouped_expression(a, ["G00"], "cluster", clusters=["B", "NK"])
    assert list(subset.matrix.columns) == ["B", "NK"]  # the order asked (issue 12)
    plt.close("all")


def test_seeded_sampling_depends_on_the_seed_only(reordered):
    one = sch.pl.cell_heatmap(reordered, ["G00"], "cluster", max_cells_per_group=4, reduce="sample")
    two = sch.pl.cell_heatmap(reordered, ["G00"], "cluster", max_cells_per_group=4, reduce="sample")
    other = sch.pl.cell_heatmap(
        reordered, ["G00"], "cluster", max_cells_per_group=4, reduce="sample", random_state=1
    )
    pd.testing.assert_frame_equal(one.data, two.data)
    assert not np.array_equal(one.data.to_numpy(), other.data.to_numpy())
    plt.close("all")
