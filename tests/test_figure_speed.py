"""The two speed-ups of pl/_figure_speed.py change nothing that is drawn.

Each figure is built twice, once with LazyTickAxes and once with matplotlib's own Axes
(``LAZY_TICKS = False``), and the files must be the same bytes. The speed claim itself is
structural: building a board makes no tick objects (a benchmark times it).
"""

from __future__ import annotations

import gc
import io
import re

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

import sc_heatmaps as sch
from sc_heatmaps.pl import _figure_speed
from sc_heatmaps.pl._figure_speed import BoardFigure, LazyTickAxes, gc_paused


def _bytes(fig, fmt: str) -> bytes:
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "sc_heatmaps", "pdf.compression": 0}):
        metadata = {"Date": None} if fmt in ("svg", "pdf") else None
        if fmt == "pdf":
            metadata = {"CreationDate": None}
        fig.savefig(buffer, format=fmt, dpi=72, metadata=metadata)
    data = buffer.getvalue()
    if fmt == "svg":  # matplotlib < 3.10 names clip paths by the object's id() in memory
        names = {}
        for name in re.findall(rb"#?(p[0-9a-f]{10})\b", data):
            names.setdefault(name, b"clip%d" % len(names))
        data = re.sub(rb"\bp[0-9a-f]{10}\b", lambda m: names[m.group(0)], data)
    return data


def _both(monkeypatch, build, fmt: str):
    files = {}
    for lazy in (True, False):
        monkeypatch.setattr(_figure_speed, "LAZY_TICKS", lazy)
        fig = build()
        kinds = {type(ax) for ax in fig.axes}
        assert (LazyTickAxes in kinds) == lazy, kinds
        files[lazy] = _bytes(fig, fmt)
        plt.close(fig)
    return files


BOARDS = {
    "grouped, dataset x cluster": lambda a: sch.pl.grouped_heatmap(
        a, groupby=["dataset", "cluster"], cluster_key="cluster", dataset_key="dataset", n_genes=3
    ),
    "grouped, clustered rows and columns": lambda a: sch.pl.grouped_heatmap(
        a, ["CD3E", "MS4A1", "LYZ", "NKG7"], "cluster", cluster_rows=True, cluster_cols=True
    ),
    "per cell": lambda a: sch.pl.cell_heatmap(a, ["CD3E", "MS4A1", "LYZ"], ["dataset", "cluster"]),
    "correlation": lambda a: sch.pl.correlation_heatmap(a, genes=["CD3E", "MS4A1", "LYZ", "NKG7"]),
}


@pytest.mark.parametrize("fmt", ["png", "svg"])
@pytest.mark.parametrize("name", list(BOARDS))
def test_board_is_the_same_file_with_lazy_ticks(monkeypatch, example, name, fmt):
    files = _both(monkeypatch, lambda: BOARDS[name](example).figure, fmt)
    assert files[True] == files[False]


def _axis_on_figure():
    """Axes that do draw ticks: tick parameters, grid, log scale, labels, a twin."""
    fig = plt.figure(FigureClass=BoardFigure, figsize=(4, 3))
    ax = fig.add_axes((0.15, 0.15, 0.7, 0.7))
    ax.plot([1, 10, 100], [3, 1, 2])
    ax.set_xscale("log")
    ax.grid(True, which="both")
    ax.tick_params(labelsize=6, colors="tab:red", labelcolor="tab:blue", direction="in")
    ax.tick_params(which="minor", length=6)
    ax.set_xlabel("x")
    twin = ax.twinx()
    twin.plot([1, 10, 100], [300, 100, 200], color="k")
    twin.tick_params(labelright=False)
    ax.clear()  # cleared and drawn again
    ax.imshow(np.arange(12).reshape(3, 4), aspect="auto")
    ax.tick_params(top=True, labeltop=True)
    return fig


@pytest.mark.filterwarnings("ignore:Attempt to set non-positive xlim:UserWarning")
@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_axes_that_draw_ticks_are_the_same_file(monkeypatch, fmt):
    files = _both(monkeypatch, _axis_on_figure, fmt)
    assert files[True] == files[False]


def test_building_a_board_makes_fewer_ticks(monkeypatch, example):
    """Plain Axes make their ticks while they are built (4 per Axes, more when reset);
    LazyTickAxes make none on matplotlib >= 3.10, and on older versions only those that
    a tight bounding box asks for."""
    made = []
    original = matplotlib.axis.Axis._get_tick

    def counting(self, major):
        made.append(self)
        return original(self, major)

    monkeypatch.setattr(matplotlib.axis.Axis, "_get_tick", counting)
    counts = {}
    for lazy in (False, True):
        monkeypatch.setattr(_figure_speed, "LAZY_TICKS", lazy)
        made.clear()
        plot = sch.pl.grouped_heatmap(
            example, groupby=["dataset", "cluster"], cluster_key="cluster", dataset_key="dataset"
        )
        counts[lazy] = len(made), len(plot.figure.axes)
    assert counts[False][1] == counts[True][1] > 20
    assert counts[False][0] >= 4 * counts[False][1]
    assert counts[True][0] <= counts[False][0] / 2
    if tuple(int(p) for p in matplotlib.__version__.split(".")[:2]) >= (3, 10):
        assert counts[True][0] == 0


def test_gc_paused_restores_the_collector():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("inside")
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # a collector the user stopped stays stopped
    finally:
        gc.enable()


def test_plotting_leaves_the_collector_running(example):
    sch.pl.grouped_heatmap(example, ["CD3E", "MS4A1"], "cluster")
    sch.pl.dual_expression(example, "CD3E", "MS4A1", color="cluster")
    assert gc.isenabled()


@pytest.mark.parametrize(
    "texts",
    [
        ["CD3E", "MS4A1"],
        ["a\nlonger line\nx"],
        [""],
        ["$x^2$ costs $5", "ünï©ødé ≥ 5"],
        ["ctrl", "stim", "a very long dataset name 123"],
        ["x" * 200],
    ],
)
@pytest.mark.parametrize("fontsize", [5, 7, 9.5])
def test_text_width_from_metrics_equals_a_text_artist(texts, fontsize):
    """The board's label-width estimate reads font metrics; a Text artist of each label,
    measured by matplotlib, is the independent reference."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from sc_heatmaps._text import clean_label
    from sc_heatmaps.pl._heatmap_board import _max_text_width

    fig = Figure()
    renderer = FigureCanvasAgg(fig).get_renderer()
    widths = [
        fig.text(0, 0, clean_label(t), fontsize=fontsize, parse_math=False)
        .get_window_extent(renderer)
        .width
        for t in texts
    ]
    assert _max_text_width(texts, fontsize) == pytest.approx(max(widths) / fig.dpi, abs=1e-12)


EXTENT_BOARDS = {
    **BOARDS,
    "titled, every label": lambda a: sch.pl.grouped_heatmap(
        a, ["CD3E", "MS4A1"], ["dataset", "cluster"], labels="all", title="A title"
    ),
}


@pytest.mark.parametrize("shrink", [1.0, 0.6])
@pytest.mark.parametrize("name", list(EXTENT_BOARDS))
def test_board_extents_equal_matplotlibs_tight_boxes(example, name, shrink):
    """The board measures each Axes' drawn extent and the figure's spill directly;
    matplotlib's get_tightbbox is the reference (also on a figure shrunk until its
    labels and legends spill out)."""
    from sc_heatmaps.pl._heatmap_board import _extent, _overflow

    fig = EXTENT_BOARDS[name](example).figure
    fig.set_size_inches(*(fig.get_size_inches() * shrink))
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        np.testing.assert_allclose(
            _extent(ax, renderer).bounds, ax.get_tightbbox(renderer).bounds, atol=1e-9
        )
    box = fig.get_tightbbox(renderer)
    w, h = fig.get_size_inches()
    spill = np.maximum([box.y1 - h, box.x1 - w, -box.y0, -box.x0], 0.0)
    np.testing.assert_allclose(_overflow(fig), spill, atol=1e-9)
    if shrink < 1:
        assert spill.max() > 0  # the shrunk figure does spill
