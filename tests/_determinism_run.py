"""Draw every kind of figure with fixed seeds and export it (run twice by test_determinism)."""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

sys.path.insert(0, str(Path(__file__).parent))
from conftest import make_synthetic

import sc_heatmaps as sch


def main(out: Path) -> None:
    adata = make_synthetic(seed=5, n_per_group=30)
    genes = {"c0": ["G00", "G01"], "c1": ["G04", "G05"], "c3": ["G12", "G13"]}
    markers = sch.tl.top_markers(adata, "cluster", n_genes=3, duplicates="best")
    sch.export.write_table(markers, out / "marker_table.tsv")
    plots = {
        "grouped": sch.pl.grouped_heatmap(
            adata, genes, ["dataset", "cluster"], cluster_key="cluster", cluster_rows=True
        ),
        "markers": sch.pl.grouped_heatmap(adata, cluster_key="cluster", n_genes=2),
        "cells": sch.pl.cell_heatmap(
            adata, ["G00", "G04", "G12"], "cluster", max_cells_per_group=7, reduce="sample"
        ),
        "dual": sch.pl.dual_expression(adata, "G00", "G01", color="dataset", split_by="cluster"),
        "correlation": sch.pl.correlation_heatmap(
            adata, genes=["G00", "G01", "G04", "G05", "G12"], groupby="dataset", min_nonzero=0
        ),
    }
    for name, plot in plots.items():
        plot.savefig(out / f"{name}.svg", dpi=72)
        plot.data.to_pickle(out / f"{name}.data.pkl")
    sch.pl.interactive_heatmap(plots["grouped"], path=out / "grouped.html")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
