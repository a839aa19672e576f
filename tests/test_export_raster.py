"""Vector export rasterises a board's meshes in one pass, with matplotlib's own pixels."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from matplotlib.backends import backend_agg

import sc_heatmaps as sch
from sc_heatmaps.export import _save


@pytest.fixture(scope="module")
def board():
    plot = sch.pl.grouped_heatmap(
        sch.datasets.example(), cluster_key="cluster", dataset_key="dataset", n_genes=2
    )
    yield plot
    plt.close(plot.figure)


def _canvases(monkeypatch) -> list:
    made = []
    original = backend_agg.RendererAgg.__init__

    def counting(self, width, height, dpi):
        made.append((width, height))
        original(self, width, height, dpi)

    monkeypatch.setattr(backend_agg.RendererAgg, "__init__", counting)
    return made


@pytest.mark.parametrize("ext", ["pdf", "svg"])
def test_one_full_page_canvas_for_all_meshes(board, tmp_path, monkeypatch, ext):
    meshes = [a for a in board.figure.findobj(lambda a: a.get_rasterized())]
    assert len(meshes) > 10  # one mesh per block and bar: the case worth a single pass
    made = _canvases(monkeypatch)
    board.savefig(tmp_path / f"board.{ext}", dpi=100, sidecars=False)
    assert len(made) <= 2  # the shared pass (and one for a legend's rasterised swatches)


@pytest.mark.parametrize("ext", ["pdf", "svg"])
def test_same_bytes_as_matplotlib_rasterising_each_mesh(board, tmp_path, monkeypatch, ext):
    ours = board.savefig(tmp_path / f"ours.{ext}", dpi=100, sidecars=False)[0]
    monkeypatch.setattr(_save, "_MIXED_MODE", ())
    theirs = board.savefig(tmp_path / f"theirs.{ext}", dpi=100, sidecars=False)[0]
    assert ours.read_bytes() == theirs.read_bytes()
