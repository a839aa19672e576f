"""The gallery's figures checked as a journal page sees them (issue 12, the figure rules).

Each case of ``docs/gallery/make_gallery.py`` is built once, in-process, and checked for:
no clipped text, no overlapping text, every font >= 6 pt at print size (180 x 240 mm),
every category drawn (bar cell or point) present in its legend with its colour and in the
bar's order, and the colour of the registry (``sch.get.category_colors``) for every
category in every figure kind. The stressed and large cases carry ``gallery_full``
(``pytest -m gallery_full``); cases on the real data fail under CI when it is missing.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import figure_checks as fc
import matplotlib.pyplot as plt
import numpy as np
import pytest
from conftest import real_data_path
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex

ROOT = Path(__file__).resolve().parents[1]


def _load_gallery():
    path = ROOT / "docs" / "gallery" / "make_gallery.py"
    spec = importlib.util.spec_from_file_location("make_gallery", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_gallery"] = module
    spec.loader.exec_module(module)
    return module


gallery = _load_gallery()
CASES = {c.name: c for c in gallery.CASES + gallery.HTML_CASES}


def _params(cases, only_colored: bool = False) -> list:
    out = []
    for c in cases:
        if only_colored and not c.colors:
            continue
        marks = [pytest.mark.gallery_full] if c.full else []
        marks += [pytest.mark.realdata] if c.files else []
        out.append(pytest.param(c.name, marks=marks, id=c.name))
    return out


FIGURES = _params(gallery.CASES)
COLORED = _params(gallery.CASES, only_colored=True)


@dataclass
class Built:
    """A built case: the plot, its data and the texts a draw renders."""

    case: object
    plot: object
    adata: object
    texts: list


_BUILT: dict[str, Built] = {}


def built(name: str) -> Built:
    """Build a case once per session (real data: fails under CI when missing)."""
    case = CASES[name]
    for file in case.files:
        real_data_path(file)
    if name not in _BUILT:
        plot = case.make()
        texts = []
        if not isinstance(plot, str):
            # keep the figure across tests: out of pyplot (closed after every test),
            # on its own Agg canvas
            plt.close(plot.figure)
            FigureCanvasAgg(plot.figure)
            texts = fc.visible_texts(plot.figure)
            assert texts, f"{name}: the figure draws no text (the checks would pass vacuously)"
        _BUILT[name] = Built(case, plot, gallery.load(case.data), texts)
    return _BUILT[name]


def _names(texts, n: int = 6) -> str:
    return ", ".join(fc.describe(t) for t in texts[:n]) + (" ..." if len(texts) > n else "")


# ------------------------------------------------------------------ reading colours


def _bar_colors(b: Built, key: str) -> dict[str, set]:
    """{category: colours} over every bar of the heatmap labelled ``key`` (column bars
    and the row bar of the gene blocks), read from the drawn cells."""
    spec, axes = b.plot.spec, b.plot.axes
    out: dict[str, set] = defaultdict(set)
    if key in spec.col_meta.columns:
        drawn = fc.bar_category_colors(axes["col_bars"][key], spec.col_meta[key])
        for cat, cols in drawn.items():
            out[cat] |= cols
    if spec.row_block_name == key and axes.get("row_bar"):
        for cat, cols in fc.bar_category_colors(axes["row_bar"], spec.row_blocks).items():
            out[cat] |= cols
    assert out, f"no bar labelled {key!r} was drawn"
    return dict(out)


def _bar_order(b: Built, key: str) -> list[str]:
    values = [str(v) for v in b.plot.spec.col_meta[key]]
    return list(dict.fromkeys(values))


def _point_colors(b: Built, key: str) -> dict[str, set]:
    """{category: colours} of the scatter points, matched to cells by position (points
    at a position shared by several categories are left out)."""
    data = b.plot.data
    at = defaultdict(set)
    for x, y, cat in zip(data["x"], data["y"], data["color"].astype(str), strict=True):
        at[(round(float(x), 6), round(float(y), 6))].add(cat)
    out: dict[str, set] = defaultdict(set)
    panels = b.plot.axes["panels"]
    for ax in panels.values() if isinstance(panels, dict) else panels:
        for coll in ax.collections:
            offsets = np.asarray(coll.get_offsets())
            faces = coll.get_facecolors()
            if len(faces) == 1:
                faces = np.repeat(faces, len(offsets), axis=0)
            for (x, y), face in zip(offsets, faces, strict=False):
                cats = at.get((round(float(x), 6), round(float(y), 6)), set())
                if len(cats) == 1:
                    out[next(iter(cats))].add(to_hex(face, keep_alpha=False))
    return dict(out)


def _html_colors(b: Built, key: str) -> dict[str, set]:
    match = re.search(r'<script id="sch-data" type="application/json">(.*?)</script>', b.plot, re.S)
    assert match, "the page holds no sch-data JSON"
    data = json.loads(match.group(1))
    out: dict[str, set] = defaultdict(set)
    for bar in data["col_bars"] + data["row_bars"]:
        if bar["name"] == key:
            for cat, col in zip(bar["categories"], bar["colors"], strict=True):
                out[cat].add(to_hex(col, keep_alpha=False))
    assert out, f"the page has no bar named {key!r}"
    return dict(out)


def drawn_colors(b: Built, key: str) -> dict[str, set]:
    where = dict(b.case.colors)[key]
    reader = {"bar": _bar_colors, "points": _point_colors, "html": _html_colors}[where]
    return reader(b, key)


def _categories_drawn(b: Built, key: str) -> list[str]:
    if dict(b.case.colors)[key] == "points":
        present = set(b.plot.data["color"].astype(str))
        return [str(c) for c in b.adata.obs[key].cat.categories if str(c) in present]
    return _bar_order(b, key)


def _legend_for(b: Built, key: str) -> dict[str, str]:
    """{category: colour} of the legend titled ``key`` (else of all legends). A label may
    add statistics after the name, e.g. ``"ctrl (r = 0.16, n = 750)"``."""
    groups = fc.legend_groups(b.plot.figure, b.texts)
    entries = groups.get(key) or {k: v for g in groups.values() for k, v in g.items()}
    categories = sorted(map(str, b.adata.obs[key].cat.categories), key=len, reverse=True)
    out = {}
    for label, color in entries.items():
        out[_category_of(label, categories)] = color
    return out


def _category_of(label: str, categories: list[str]) -> str:
    """The category a legend label names: the label itself, or the longest category it
    starts with, followed by a space, a bracket or a colon; line breaks (a wrapped name)
    count as spaces. The label itself when none matches."""
    flat = " ".join(label.split())
    for c in categories:
        name = " ".join(c.split())
        if flat == name or (flat.startswith(name) and flat[len(name)] in " (:"):
            return c
    return label


# ------------------------------------------------------------------ the figure rules


@pytest.mark.parametrize("name", FIGURES)
def test_no_clipped_text(name):
    b = built(name)
    clipped = fc.clipped_texts(b.plot.figure, b.texts)
    assert not clipped, f"{len(clipped)} texts leave the figure: {_names(clipped)}"


@pytest.mark.parametrize("name", FIGURES)
def test_no_overlapping_text(name):
    b = built(name)
    pairs = fc.overlapping_texts(b.plot.figure, b.texts)
    shown = "; ".join(f"{fc.describe(s)} x {fc.describe(t)}" for s, t in pairs[:5])
    assert not pairs, f"{len(pairs)} pairs of texts overlap: {shown}"


@pytest.mark.parametrize("name", FIGURES)
def test_smallest_print_font(name):
    b = built(name)
    fig = b.plot.figure
    small = fc.small_print_texts(fig, b.texts)
    w, h = fig.get_size_inches()
    if small and _past_the_page(b):
        return  # more than 100 rows: the figure may leave the page, and says so
    assert not small, (
        f"{w:.2f} x {h:.2f} in, print scale {fc.print_scale(fig):.2f}: smallest font "
        f"{fc.smallest_print_font(fig, b.texts):.2f} pt at print size; "
        f"{len(small)} texts under {fc.MIN_PRINT_PT} pt: {_names(small)}"
    )


def _past_the_page(b: Built) -> bool:
    """More than 100 rows (genes; group x variable for correlations), or long column
    labels, and a note in ``params["notes"]`` saying that the figure is larger than the
    page (the print rule holds up to 100 rows of short labels; past that the figure
    records what it did)."""
    if b.case.kind == "dual":
        return False
    notes = [str(n) for n in (getattr(b.plot, "params", None) or {}).get("notes") or []]
    if len(b.plot.data) <= 100:  # up to 100 rows only columns may push it off the page
        return any("page" in n and ("column labels" in n or "columns need" in n) for n in notes)
    return any("page" in n for n in notes)


def _keys(names) -> list:
    return [
        pytest.param(p.values[0], key, marks=p.marks, id=f"{p.values[0]}-{key}")
        for p in names
        for key in dict(CASES[p.values[0]].colors)
    ]


@pytest.mark.parametrize(("name", "key"), _keys(COLORED))
def test_legend_complete(name, key):
    """Every category drawn has a legend entry with exactly the colour drawn."""
    b = built(name)
    drawn = drawn_colors(b, key)
    legend = _legend_for(b, key)
    missing = [c for c in _categories_drawn(b, key) if c not in legend]
    assert not missing, f"{key}: no legend entry for {missing}; legend has {list(legend)}"
    wrong = {c: (sorted(cols), legend[c]) for c, cols in drawn.items() if cols != {legend[c]}}
    assert not wrong, f"{key}: drawn colours differ from the legend's: {wrong}"


@pytest.mark.parametrize(("name", "key"), _keys(COLORED))
def test_legend_order(name, key):
    """The legend lists the categories in the order they are drawn (the bar's order)."""
    b = built(name)
    order = _categories_drawn(b, key)
    legend = [c for c in _legend_for(b, key) if c in set(order)]
    assert legend == order, f"{key}: legend order {legend}, drawn order {order}"


def _bar_keys(name: str) -> list[str]:
    return [k for k, where in CASES[name].colors if where == "bar"]


@pytest.mark.parametrize("name", [p for p in COLORED if len(_bar_keys(p.values[0])) > 1])
def test_legends_follow_bars(name):
    """The legends of the column bars come in the bars' order (top bar first)."""
    b = built(name)
    keys = [k for k in _bar_keys(name) if k in b.plot.spec.col_meta.columns]
    top = {k: b.plot.axes["col_bars"][k][0].get_position().y0 for k in keys}
    bars = sorted(keys, key=lambda k: -top[k])
    legends = [t for t in fc.legend_reading_order(b.plot.figure, b.texts) if t in set(keys)]
    assert legends == bars, f"legends in the order {legends}, bars top-down {bars}"


@pytest.mark.parametrize(("name", "key"), _keys(COLORED + _params(gallery.HTML_CASES)))
def test_registry_colors(name, key):
    """Each category is drawn in the colour of the registry, and in one colour only."""
    import sc_heatmaps as sch

    b = built(name)
    expected = sch.get.category_colors(b.adata, key)
    drawn = drawn_colors(b, key)
    wrong = {c: sorted(cols) for c, cols in drawn.items() if cols != {expected[c].lower()}}
    assert not wrong, f"{key}: {wrong} instead of { ({c: expected[c] for c in wrong}) }"


ACROSS_KINDS = {
    "cluster_id": ["kang_grouped", "kang_cell", "kang_dual", "kang_interactive"],
    "group_id": ["kang_grouped", "kang_cell", "kang_dual_two", "kang_interactive"],
}


@pytest.mark.realdata
@pytest.mark.parametrize("key", list(ACROSS_KINDS))
def test_same_colour_across_kinds(key):
    """Kang's keys: heatmap bars, per-cell bars, dual points and the HTML agree."""
    names = ACROSS_KINDS[key]
    seen = {n: drawn_colors(built(n), key) for n in names}
    cats = sorted(set().union(*seen.values()))
    differ = {c: {n: sorted(seen[n].get(c, ())) for n in names} for c in cats}
    differ = {c: v for c, v in differ.items() if len({tuple(x) for x in v.values()}) > 1}
    assert not differ, f"{key} colours differ between figure kinds: {differ}"


# ------------------------------------------------------------------ the checks themselves


def test_checks_read_texts_and_legends():
    """The checks see overlap, clipping, rotated text and legend colours as drawn."""
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.set_xticks(np.arange(12), [f"label {i}" for i in range(12)], rotation=45, fontsize=7)
    ax.set_yticks([])
    ax.set_xlim(-0.5, 11.5)
    fig.subplots_adjust(bottom=0.4)
    a = fig.text(0.5, 0.5, "overlap me", fontsize=9)
    b = fig.text(0.52, 0.5, "overlap you", fontsize=9)
    c = fig.text(0.98, 0.9, "clipped on the right", fontsize=9)
    ax.scatter([0, 1], [0, 1], color=["#ff0000", "#00ff00"])
    patch = plt.Rectangle((0, 0), 1, 1, color="#123456")
    marker = plt.Line2D([], [], marker="o", color="#abcdef", markerfacecolor="#fedcba", ls="")
    ax.legend(
        [patch, marker],
        ["patch", "marker"],
        title="kind",
        loc="upper left",
    )
    texts = fc.visible_texts(fig)
    labels = {t.get_text() for t in texts}
    assert {"label 0", "label 11", "overlap me", "kind", "patch", "marker"} <= labels
    assert fc.clipped_texts(fig, texts) == [c]
    pairs = {frozenset((s.get_text(), t.get_text())) for s, t in fc.overlapping_texts(fig, texts)}
    assert pairs == {frozenset((a.get_text(), b.get_text()))}
    # the 45-degree tick labels do not touch, though their axis-aligned boxes overlap
    ticks = [t.get_window_extent() for t in ax.get_xticklabels()]
    assert ticks[0].overlaps(ticks[1])
    assert fc.legend_groups(fig, texts) == {"kind": {"patch": "#123456", "marker": "#fedcba"}}
    assert fc.print_scale(fig) == 1.0
    fig.set_size_inches(14.174, 3)  # twice the print width: fonts count half
    assert fc.smallest_print_font(fig, texts) == pytest.approx(3.5)
