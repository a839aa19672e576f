"""The default figure is laid out once: the estimate of the room around the body holds.

A second layout (``HeatmapBoard._fit_page`` finding the figure wider than the page)
doubled the drawing time of short boards such as a per-cell heatmap of a few genes.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

import sc_heatmaps as sch
from sc_heatmaps.pl._heatmap_board import PAGE, HeatmapBoard


@pytest.fixture
def renders(monkeypatch):
    calls = []
    original = HeatmapBoard._render

    def counted(self, *args, **kwargs):
        calls.append(args[1:3])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(HeatmapBoard, "_render", counted)
    return calls


@pytest.mark.parametrize(
    "draw",
    [
        lambda a: sch.pl.cell_heatmap(a, ["CD3E", "MS4A1", "ISG15", "LYZ"], "cluster"),
        lambda a: sch.pl.cell_heatmap(
            a, ["CD3E", "MS4A1"], None, cluster_key="cluster", dataset_key="dataset"
        ),
        lambda a: sch.pl.grouped_heatmap(a, cluster_key="cluster", dataset_key="dataset"),
        lambda a: sch.pl.grouped_heatmap(a, ["CD3E", "MS4A1", "LYZ"], ["dataset", "cluster"]),
    ],
    ids=["cells-4-genes", "cells-2-genes-both-keys", "demo", "grouped-3-genes"],
)
def test_default_figure_is_laid_out_once_and_fits_the_page(example, renders, draw):
    plot = draw(example)
    width, height = plot.figure.get_size_inches()
    plt.close(plot.figure)
    assert len(renders) == 1, renders
    assert width <= PAGE[0] + 0.01 and height <= PAGE[1] + 0.01
