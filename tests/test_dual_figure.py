"""Dual expression, the drawn figure (issue 12): statistics in the legend, panels that
keep their size, labels once, legends complete and inside, fractions, print size."""

from __future__ import annotations

import dataclasses
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from matplotlib.colors import to_hex
from matplotlib.text import Text

import sc_heatmaps as sch

GX, GY = "CD74", "HLA-DRA_ENSG00000204287"  # MHC class II: co-expressed in B cells, monocytes
PAGE_W, PAGE_H = 7.087, 9.449  # inches: 180 x 240 mm
STAT = re.compile(r"(?:(\S+) )?(r|ρ)=(-?\d\.\d\d|n/a) n=([\d,]+)")


def _values(adata, gene) -> np.ndarray:
    col = adata[:, gene].X
    return np.asarray(col.toarray() if hasattr(col, "toarray") else col, dtype=np.float64).ravel()


def _with_keys(adata):
    """Kang with a 10-category key (cell type x donor) and a 40-category key."""
    obs = adata.obs
    adata.obs["type_donor"] = pd.Categorical(
        obs["cluster_id"].astype(str) + " d" + obs["donor"].astype(str)
    )
    names = [f"cluster {i:02d}" for i in range(40)]
    codes = np.arange(adata.n_obs) % 40  # every category has cells
    adata.obs["c40"] = pd.Categorical(np.array(names)[codes], categories=names)
    return adata


def _tick_labels(fig) -> tuple[list[Text], set[int]]:
    """Tick labels actually drawn (in the view limits, visible), and the ids of all."""
    drawn, every = [], set()
    for ax in fig.axes:
        for axis, lim in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            lo, hi = sorted(lim)
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                every |= {id(tick.label1), id(tick.label2)}
                label = tick.label1
                if lo <= tick.get_loc() <= hi and label.get_visible() and label.get_text():
                    drawn.append(label)
    return drawn, every


def _texts(fig) -> list[Text]:
    """Every text drawn on the figure (after a draw), empty strings left out."""
    fig.canvas.draw()
    ticks, tick_ids = _tick_labels(fig)
    other = [
        t
        for t in fig.findobj(Text)
        if id(t) not in tick_ids and t.get_visible() and t.get_text().strip()
    ]
    return ticks + other


def _check_page(fig) -> None:
    """Print size, no clipping, no overlap, every Axes of positive size."""
    texts = _texts(fig)
    w, h = fig.get_size_inches()
    assert w <= PAGE_W + 1e-6, f"figure is {w:.2f} in wide"
    s = min(1.0, PAGE_W / w, PAGE_H / h)
    small = [(t.get_text(), t.get_fontsize()) for t in texts if t.get_fontsize() * s < 6 - 1e-9]
    assert not small, f"texts under 6 pt at print size: {small[:5]}"
    r = fig.canvas.get_renderer()
    page = fig.bbox
    boxes = [(t.get_text(), t.get_window_extent(r)) for t in texts]
    for text, b in boxes:
        inside = b.x0 >= page.x0 - 1 and b.x1 <= page.x1 + 1
        assert inside and b.y0 >= page.y0 - 1 and b.y1 <= page.y1 + 1, f"{text!r} clipped"
    for i, (t1, b1) in enumerate(boxes):
        for t2, b2 in boxes[i + 1 :]:
            overlap = min(b1.x1, b2.x1) - max(b1.x0, b2.x0), min(b1.y1, b2.y1) - max(b1.y0, b2.y0)
            assert min(overlap) <= 0.5, f"{t1!r} overlaps {t2!r}"
    for ax in fig.axes:
        pos = ax.get_position()
        assert pos.width > 0 and pos.height > 0


def _panel_inches(plot) -> list[tuple[float, float]]:
    fig = plot.figure
    fig.canvas.draw()
    w, h = fig.get_size_inches()
    return [
        (ax.get_position().width * w, ax.get_position().height * h)
        for ax in plot.axes["panels"].values()
    ]


def _legend_stats(plot) -> dict[str, dict[str | None, tuple[str, float, int]]]:
    """{group: {panel: (symbol, r, n)}} read from the legend's labels."""
    out = {}
    for text in plot.axes["legend"].get_texts():
        label = text.get_text().replace("\n", " · ")
        name = label.split("  ")[0]
        stats = {}
        for panel, sym, r, n in STAT.findall(label):
            stats[panel or None] = (
                sym,
                float("nan") if r == "n/a" else float(r),
                int(n.replace(",", "")),
            )
        out[name] = stats
    return out


def test_panels_keep_their_size_from_2_to_40_groups(kang):
    kang = _with_keys(kang)
    sizes = {}
    for key in ("donor", "type_donor", "c40"):
        plot = sch.pl.dual_expression(kang, GX, GY, color=key, split_by="group_id")
        sizes[key] = _panel_inches(plot)
        fig_h = plot.figure.get_size_inches()[1]
        # the panels are the figure, not a strip above the statistics (was 0.35 of it)
        assert sizes[key][0][1] / fig_h >= (0.45 if key != "c40" else 0.4)
    np.testing.assert_allclose(sizes["type_donor"], sizes["donor"], rtol=0.02)
    # a 40-entry legend below: the panels keep their width and grow taller (at most
    # 1.3x) so that they stay 40% of the figure's height
    widths = np.array(sizes["c40"])[:, 0]
    np.testing.assert_allclose(widths, np.array(sizes["donor"])[:, 0], rtol=0.02)
    growth = np.array(sizes["c40"])[:, 1] / np.array(sizes["donor"])[:, 1]
    assert np.all((growth >= 1.0) & (growth <= 1.3 * 1.02 + 0.01))
    assert all(w > 1.5 and h > 1.5 for w, h in sizes["donor"])


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_legend_statistics_equal_scipy(kang, method):
    kang = _with_keys(kang)
    plot = sch.pl.dual_expression(
        kang, GX, GY, color="type_donor", split_by="group_id", method=method
    )
    x, y = _values(kang, GX), _values(kang, GY)
    test = scipy.stats.pearsonr if method == "pearson" else scipy.stats.spearmanr
    symbol = {"pearson": "r", "spearman": "ρ"}[method]
    shown = _legend_stats(plot)
    assert list(shown) == list(kang.obs["type_donor"].cat.categories)
    for group, panels in shown.items():
        assert list(panels) == ["ctrl", "stim"]
        for panel, (sym, r, n) in panels.items():
            m = ((kang.obs["type_donor"] == group) & (kang.obs["group_id"] == panel)).to_numpy()
            assert sym == symbol and n == m.sum()
            assert r == pytest.approx(test(x[m], y[m]).statistic, abs=0.005 + 1e-9)
    for panel, ax in plot.axes["panels"].items():
        m = (kang.obs["group_id"] == panel).to_numpy()
        ((_, sym, r, n),) = STAT.findall(ax.get_title().split("\n")[0])
        assert sym == symbol and int(n.replace(",", "")) == m.sum()
        assert float(r) == pytest.approx(test(x[m], y[m]).statistic, abs=0.005 + 1e-9)


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_symbol_is_rho_for_spearman_and_r_for_pearson_everywhere(synthetic, method):
    plot = sch.pl.dual_expression(synthetic, "G00", "G01", color="cluster", method=method)
    texts = " ".join(t.get_text() for t in _texts(plot.figure))
    wrong = r"\br\s*=" if method == "spearman" else "ρ"
    right = "ρ=" if method == "spearman" else "r="
    assert not re.search(wrong, texts)
    assert texts.count(right) == 1 + synthetic.obs["cluster"].nunique()  # title + legend


@pytest.mark.parametrize("split_by", ["group_id", "cluster_id"])  # one row; two rows
def test_axis_labels_appear_once(kang, split_by):
    plot = sch.pl.dual_expression(kang, GX, GY, color="donor", split_by=split_by)
    texts = [t.get_text() for t in _texts(plot.figure)]
    assert texts.count(f"{GX} (RNA)") == 1
    assert texts.count(f"{GY} (RNA)") == 1
    _check_page(plot.figure)


def _drawn_colours(ax) -> list[str]:
    return [to_hex(c) for coll in ax.collections for c in coll.get_facecolors()]


@pytest.mark.parametrize("key", ["type_donor", "c40", "long"])
def test_legend_complete_inside_and_in_point_colours(kang, key):
    kang = _with_keys(kang)
    long = [f"{i} very long cell type name with many words".ljust(60, "x") for i in range(6)]
    kang.obs["long"] = pd.Categorical(np.array(long)[np.arange(kang.n_obs) % 6], categories=long)
    n = len(kang.obs[key].cat.categories)
    rng = np.random.default_rng(1)
    colors = [to_hex(c) for c in rng.uniform(0, 0.8, (n, 3))]  # an independent palette
    kang.uns[f"{key}_colors"] = colors
    expected = dict(zip(kang.obs[key].cat.categories, colors, strict=True))
    plot = sch.pl.dual_expression(kang, GX, GY, color=key, split_by="group_id")
    legend = plot.axes["legend"]
    names = [
        t.get_text().split("  ")[0].split("\nctrl")[0].replace("\n", " ")
        for t in legend.get_texts()
    ]
    assert names == [str(c) for c in kang.obs[key].cat.categories]  # all, in order
    handles = [to_hex(h.get_markerfacecolor()) for h in legend.legend_handles]
    assert handles == [expected[c] for c in kang.obs[key].cat.categories]
    for panel, ax in plot.axes["panels"].items():
        cells = kang.obs.loc[kang.obs["group_id"] == panel, key]
        assert sorted(_drawn_colours(ax)) == sorted(expected[c] for c in cells)
    _check_page(plot.figure)
    fig_box = plot.figure.bbox
    box = legend.get_window_extent(plot.figure.canvas.get_renderer())
    assert box.width <= fig_box.width and box.x0 >= fig_box.x0 - 1 and box.x1 <= fig_box.x1 + 1


def test_fractions_on_the_figure_equal_numpy(kang):
    plot = sch.pl.dual_expression(kang, GX, GY, color="cluster_id", split_by="group_id")
    x, y = _values(kang, GX) > 0, _values(kang, GY) > 0
    for panel, ax in plot.axes["panels"].items():
        m = (kang.obs["group_id"] == panel).to_numpy()
        shown = dict(re.findall(r"(both|x only|y only|neither) (\S+)%", ax.get_title()))
        want = {
            "both": x & y,
            "x only": x & ~y,
            "y only": ~x & y,
            "neither": ~x & ~y,
        }
        assert set(shown) == set(want)
        for name, cells in want.items():
            assert shown[name] == f"{100 * cells[m].sum() / m.sum():.0f}"
    assert float(shown["neither"]) > 10  # the double zeros are counted, not hidden at (0, 0)
    plain = sch.pl.dual_expression(
        kang, GX, GY, color="cluster_id", split_by="group_id", show_fractions=False
    )
    assert all("neither" not in ax.get_title() for ax in plain.axes["panels"].values())


def test_colours_come_from_the_registry_and_palette_overrides(synthetic):
    registry = sch.get.category_colors(synthetic, "dataset")
    with pytest.warns(DeprecationWarning, match="dataset_key"):
        plot = sch.pl.dual_expression(
            synthetic, "G00", "G01", color="dataset", dataset_key="dataset"
        )
    handles = [to_hex(h.get_markerfacecolor()) for h in plot.axes["legend"].legend_handles]
    assert handles == [registry["d1"], registry["d2"]]
    assert set(_drawn_colours(plot.axes["panels"]["all"])) == set(registry.values())
    mine = sch.pl.dual_expression(
        synthetic, "G00", "G01", color="dataset", palette={"d2": "#123456"}
    )
    handles = [to_hex(h.get_markerfacecolor()) for h in mine.axes["legend"].legend_handles]
    assert handles == [registry["d1"], "#123456"]


def test_user_clusters_order_is_kept(synthetic):
    plot = sch.pl.dual_expression(synthetic, "G00", "G01", color="cluster", clusters="c2,c0")
    names = [t.get_text().split("  ")[0] for t in plot.axes["legend"].get_texts()]
    assert names == ["c2", "c0"]
    assert list(plot.stats["group"]) == ["c2", "c0", None]
    split = sch.pl.dual_expression(
        synthetic,
        "G00",
        "G01",
        color="dataset",
        split_by="cluster",
        clusters=["c3", "c1"],
        cluster_key="cluster",
    )
    assert list(split.axes["panels"]) == ["c3", "c1"]
    legend = _legend_stats(split)
    assert list(legend["d1"]) == ["c3", "c1"]  # statistics in panel order too


@pytest.mark.parametrize("case", ["one panel, forty", "two panels", "five panels", "forty"])
def test_default_figure_at_print_size(kang, case):
    kang = _with_keys(kang)
    opts = {
        "one panel, forty": {"color": "c40"},
        "two panels": {"color": "type_donor", "split_by": "group_id"},
        "five panels": {"color": "group_id", "split_by": "cluster_id"},
        "forty": {"color": "c40", "split_by": "group_id", "title": "CD74 and HLA-DRA"},
    }[case]
    plot = sch.pl.dual_expression(kang, GX, GY, **opts)
    _check_page(plot.figure)


def test_plot_fields_are_declared_and_set_at_construction(synthetic):
    names = {f.name for f in dataclasses.fields(sch.pl.DualExpressionPlot)}
    assert {"stats", "modes"} <= names
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plot = sch.pl.dual_expression(synthetic, "G00", "G01", color="dataset")
    assert plot.modes == {None: "points"}
    assert list(plot.stats["group"]) == ["d1", "d2", None]
