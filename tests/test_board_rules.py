"""The heatmap board's figure rules (issue 12), read back from the drawn figure.

Print size (180 x 240 mm, every text >= 6 pt), legends (order, completeness, columns,
never clipped, "no cells"), colour bar (end triangles, no tick marks inside the bar),
no redundant column labels, and no wasted space (gaps, above the body, before legends).
"""

from __future__ import annotations

import itertools
from unittest import mock

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PatchCollection
from matplotlib.colors import to_hex
from matplotlib.lines import Line2D
from matplotlib.offsetbox import DrawingArea, HPacker, TextArea, VPacker
from matplotlib.patches import Polygon, Rectangle
from matplotlib.text import Text

from sc_heatmaps.pl._heatmap_board import HeatmapBoard, HeatmapSpec

PAGE_W, PAGE_H = 180 / 25.4, 240 / 25.4  # inches
PALETTE = [to_hex(c) for c in plt.get_cmap("tab20").colors] + [
    to_hex(c) for c in plt.get_cmap("tab20b").colors
]


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def make_spec(n_rows=20, n_datasets=2, n_clusters=4, names=None, **kw) -> HeatmapSpec:
    """genes x (dataset / cluster) columns, two bars, genes in cluster blocks."""
    rng = np.random.default_rng(0)
    datasets = [f"d{i}" for i in range(n_datasets)]
    clusters = names or [f"c{j}" for j in range(n_clusters)]
    pairs = [(d, c) for d in datasets for c in clusters]
    columns = [f"{d} / {c}" for d, c in pairs]
    blocks = [clusters[i * len(clusters) // n_rows] for i in range(n_rows)]
    genes = [f"GENE{i:03d}" for i in range(n_rows)]
    data = pd.DataFrame(
        rng.normal(size=(n_rows, len(columns))).clip(-2.4, 2.4),
        index=pd.MultiIndex.from_arrays([blocks, genes], names=["cluster", "gene"]),
        columns=columns,
    )
    meta = pd.DataFrame(
        {"dataset": [d for d, _ in pairs], "cluster": [c for _, c in pairs]}, index=columns
    )
    cluster_colors = dict(zip(clusters, PALETTE[: len(clusters)], strict=True))
    dataset_colors = dict(zip(datasets, ["#333333", "#999999", "#cccc00"], strict=False))
    options = {
        "col_split": "dataset",
        "row_blocks": blocks,
        "row_block_name": "cluster",
        "row_palette": cluster_colors,
        "row_bar_legend": False,
        "vmin": -2.5,
        "vmax": 2.5,
        "vcenter": 0.0,
        "cbar_label": "mean\n(z-score)",
        "labels": "auto",
        **kw,
    }
    palettes = {"dataset": dataset_colors, "cluster": cluster_colors}
    return HeatmapSpec(data=data, col_meta=meta, col_palettes=palettes, **options)


def draw(spec):
    board = HeatmapBoard(spec)
    fig, axes = board.plot()
    return board, fig, axes


def drawn_texts(fig) -> list[Text]:
    """The non-empty Text artists that a draw of ``fig`` renders."""
    seen: dict = {}
    original = Text.draw

    def record(self, renderer):
        if self.get_visible() and self.get_text().strip():
            seen[id(self)] = self
        return original(self, renderer)

    with mock.patch.object(Text, "draw", record):
        fig.canvas.draw()
    return list(seen.values())


def print_scale(fig) -> float:
    w, h = fig.get_size_inches()
    return min(1.0, PAGE_W / w, PAGE_H / h)


def inches(fig, bbox) -> np.ndarray:
    """x0, y0, x1, y1 of a display bbox, in inches."""
    return np.array([bbox.x0, bbox.y0, bbox.x1, bbox.y1]) / fig.dpi


def check_text_rules(fig) -> None:
    """Every drawn text >= 6 pt at print size, inside the figure, overlapping no other."""
    texts = drawn_texts(fig)
    scale = print_scale(fig)
    small = [(t.get_text(), t.get_fontsize()) for t in texts if t.get_fontsize() * scale < 5.999]
    assert not small, f"texts under 6 pt at print size (scale {scale:.3f}): {small[:5]}"
    renderer = fig.canvas.get_renderer()
    w, h = fig.get_size_inches()
    boxes = [(t.get_text(), inches(fig, t.get_window_extent(renderer))) for t in texts]
    out = [s for s, b in boxes if b[0] < -0.005 or b[1] < -0.005 or b[2] > w + 0.005]
    out += [s for s, b in boxes if b[3] > h + 0.005]
    assert not out, f"clipped texts: {out[:5]}"
    tol = 0.5 / 72  # half a point
    for i, (s, a) in enumerate(boxes):
        for r, b in boxes[i + 1 :]:
            overlap = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
            assert min(overlap) <= tol, f"{s!r} overlaps {r!r}"


# ---------------------------------------------------------------- print size


@pytest.mark.parametrize(("n_rows", "n_clusters"), [(100, 20), (80, 8), (6, 2)])
def test_default_figure_fits_the_page_with_6pt_text(n_rows, n_clusters):
    spec = make_spec(n_rows=n_rows, n_clusters=n_clusters)  # up to 40 columns
    board, fig, _ = draw(spec)
    w, h = fig.get_size_inches()
    assert w <= PAGE_W + 0.01 and h <= PAGE_H + 0.01, (w, h)
    check_text_rules(fig)
    assert board.notes == []


@pytest.mark.exhaustive
def test_past_100_rows_the_figure_grows_and_says_so_unless_figsize_is_given():
    board, fig, _ = draw(make_spec(n_rows=140, n_clusters=4))
    assert fig.get_size_inches()[1] > PAGE_H
    assert len(board.notes) == 1 and "180 x 240 mm" in board.notes[0]
    texts = drawn_texts(fig)
    assert min(t.get_fontsize() for t in texts) >= 6  # at the figure's own size
    board, fig, _ = draw(make_spec(n_rows=140, n_clusters=4, figsize=(6.0, 14.0)))
    np.testing.assert_allclose(fig.get_size_inches(), [6.0, 14.0], atol=0.05)
    assert board.notes == []


# ---------------------------------------------------------------- legends


def _legends(axes) -> list[tuple[str, list[tuple[str, str, str | None]]]]:
    """``[(title, [(label, face colour, hatch), ...]), ...]`` in drawn order (top to
    bottom, then left to right), read from the legend axes' packed boxes."""
    found = []

    def entries(box):
        out = []
        for child in box.get_children():
            kids = child.get_children()
            if isinstance(child, HPacker) and isinstance(kids[0], DrawingArea):
                patch = next(k for k in kids[0].get_children() if isinstance(k, Rectangle))
                text = kids[1].get_text()
                out.append((text, to_hex(patch.get_facecolor()), patch.get_hatch()))
            else:
                out += entries(child)
        return out

    def walk(box):
        kids = box.get_children()
        if isinstance(box, VPacker) and any(isinstance(k, HPacker) for k in kids[-1:]):
            title = kids[0].get_text() if isinstance(kids[0], TextArea) else ""
            if entries(box):
                found.append((title, entries(box)))
                return
        for child in kids:
            walk(child)

    for artist in axes["legend"].artists:
        walk(artist)
    return found


def _top(ax_list) -> float:
    return max(ax.get_position().y1 for ax in ax_list)


def test_legends_follow_the_bars_top_to_bottom_with_every_category():
    spec = make_spec(n_rows=12, n_clusters=5)
    _, _fig, axes = draw(spec)
    bars = sorted(spec.col_meta.columns, key=lambda k: -_top(axes["col_bars"][k]))
    assert bars == ["dataset", "cluster"]  # dataset drawn on top
    legends = _legends(axes)
    assert [t for t, _ in legends] == bars
    for title, items in legends:
        expected = [(c, col) for c, col in spec.col_palettes[title].items()]
        assert [(label, color) for label, color, _ in items] == expected


def _entry_lefts(fig, names) -> set:
    renderer = fig.canvas.get_renderer()
    texts = [t for t in drawn_texts(fig) if t.get_text() in names]
    return {round(t.get_window_extent(renderer).x0) for t in texts}


@pytest.mark.exhaustive
def test_long_legends_take_several_columns_and_fit_the_page():
    names = [f"cluster {j:02d}" for j in range(40)]
    spec = make_spec(n_rows=6, n_datasets=1, names=names, col_split=None)
    _, fig, axes = draw(spec)
    legends = dict(_legends(axes))
    assert [label for label, _, _ in legends["cluster"]] == names
    assert len(_entry_lefts(fig, names)) >= 2, "40 entries beside 6 rows: several columns"
    w, h = fig.get_size_inches()
    assert w <= PAGE_W + 0.01 and h <= PAGE_H + 0.01, (w, h)
    check_text_rules(fig)


@pytest.mark.exhaustive
def test_legends_of_60_character_names_run_down_the_page_not_off_its_side():
    names = [f"cluster {j:02d} with a long name".ljust(59, ".") + "!" for j in range(20)]
    assert all(len(n) == 60 for n in names)
    spec = make_spec(n_rows=10, n_datasets=1, names=names, col_split=None)
    _, fig, axes = draw(spec)
    assert [label for label, _, _ in dict(_legends(axes))["cluster"]] == names
    w, h = fig.get_size_inches()
    assert w <= PAGE_W + 0.01 and h <= PAGE_H + 0.01, (w, h)
    check_text_rules(fig)


def test_columns_without_cells_are_hatched_and_have_a_legend_entry():
    spec = make_spec(n_rows=8, n_clusters=3, empty_columns=["d1 / c2"])
    spec.data.loc[:, "d1 / c2"] = np.nan
    _, _fig, axes = draw(spec)
    hatched = [
        p
        for ax in axes["heatmap"]
        for p in ax.patches
        if p.get_hatch() and to_hex(p.get_facecolor()) == "#d9d9d9"
    ]
    # one hatched cell per row block, in the last column of the second dataset block
    assert len(hatched) == len({ax.get_position().y0 for ax in axes["heatmap"]})
    d1_left = max(ax.get_position().x0 for ax in axes["heatmap"])
    for patch in hatched:
        assert patch.axes.get_position().x0 == d1_left
        assert patch.get_x() == 2 and patch.get_width() == 1
    items = [i for _, entries in _legends(axes) for i in entries]
    assert ("no cells", "#d9d9d9", "////") in items


# ---------------------------------------------------------------- colour bar


def _colour_bar(axes) -> DrawingArea:
    areas = [
        a
        for art in axes["legend"].artists
        for a in art.findobj(DrawingArea)
        if any(isinstance(c, PatchCollection) for c in a.get_children())
    ]
    assert len(areas) == 1
    return areas[0]


@pytest.mark.parametrize(
    ("low", "high", "extend"),
    [(-2.0, 2.0, "neither"), (-3.0, 2.0, "min"), (-2.0, 4.0, "max"), (-4.0, 4.0, "both")],
)
def test_colour_bar_ends_show_values_beyond_the_limits(low, high, extend):
    spec = make_spec(n_rows=6, n_clusters=2)
    spec.data.iloc[0, 0], spec.data.iloc[1, 1] = low, high
    board, _fig, axes = draw(spec)
    assert board.extend == extend
    area = _colour_bar(axes)
    bar = next(c for c in area.get_children() if isinstance(c, PatchCollection))
    ys = [p.get_extents().y0 for p in bar.get_paths()]
    tips = [p for p in area.get_children() if isinstance(p, Polygon)]
    below = [p for p in tips if p.get_xy()[:, 1].min() < min(ys) - 1e-9]
    above = [p for p in tips if p.get_xy()[:, 1].max() > max(ys) + 1e-9]
    assert (len(below), len(above)) == {
        "neither": (0, 0),
        "min": (1, 0),
        "max": (0, 1),
        "both": (1, 1),
    }[extend]


def test_colour_bar_ticks_are_outside_the_bar():
    _, _fig, axes = draw(make_spec(n_rows=6, n_clusters=2))
    area = _colour_bar(axes)
    bar = next(c for c in area.get_children() if isinstance(c, PatchCollection))
    right = max(p.get_extents().x1 for p in bar.get_paths())
    ticks = [c for c in area.get_children() if isinstance(c, Line2D)]
    assert len(ticks) >= 2
    for tick in ticks:
        assert min(tick.get_xdata()) >= right - 1e-9, "a tick mark inside the colour bar"
        assert to_hex(tick.get_color()) != "#ffffff"


# ---------------------------------------------------------------- labels


def test_auto_labels_drop_column_labels_the_bars_already_say():
    _, _, axes = draw(make_spec(n_rows=6, n_clusters=2))
    assert axes["col_labels"] is None
    assert [t.get_text() for ax in axes["row_labels"] for t in ax.texts] == [
        f"GENE{i:03d}" for i in range(6)
    ]
    spec = make_spec(n_rows=6, n_clusters=2)
    spec.data.columns = [f"group {i}" for i in range(spec.data.shape[1])]
    _, _, axes = draw(spec)
    drawn = [t.get_text() for ax in axes["col_labels"] for t in ax.texts]
    assert drawn == list(spec.data.columns)
    _, _, axes = draw(make_spec(n_rows=6, n_clusters=2, labels="all"))
    assert axes["col_labels"] is not None and axes["row_labels"] is not None


# ---------------------------------------------------------------- space


def test_gaps_between_blocks_are_small_and_fixed():
    for n_rows in (12, 60):
        _, fig, axes = draw(make_spec(n_rows=n_rows, n_clusters=4))
        h = fig.get_size_inches()[1]
        left = min(ax.get_position().x0 for ax in axes["heatmap"])
        column = sorted(
            (ax.get_position() for ax in axes["heatmap"] if ax.get_position().x0 == left),
            key=lambda b: -b.y1,
        )
        gaps = [(a.y0 - b.y1) * h for a, b in itertools.pairwise(column)]
        row_h = column[0].height * h / (n_rows / 4)
        assert len(gaps) == 3
        assert all(0.02 <= g <= 0.05 for g in gaps), gaps
        assert all(g < row_h for g in gaps), (gaps, row_h)


@pytest.mark.parametrize("n_rows", [2, 30])
def test_no_empty_band_above_the_bars_or_before_the_legends(n_rows):
    spec = make_spec(n_rows=n_rows, n_clusters=2, vmin=None, vmax=None, vcenter=None)
    _, fig, axes = draw(spec)
    h = fig.get_size_inches()[1]
    bars = [ax for k in ("dataset", "cluster") for ax in axes["col_bars"][k]]
    assert (1 - _top(bars)) * h <= 0.15, "empty space above the top bar"
    renderer = fig.canvas.get_renderer()
    labels_right = max(
        inches(fig, ax.get_tightbbox(renderer))[2] for ax in axes["row_labels"] + bars
    )
    legend_left = min(inches(fig, a.get_window_extent(renderer))[0] for a in axes["legend"].artists)
    assert 0 < legend_left - labels_right <= 0.25, "wide gap before the legends"
