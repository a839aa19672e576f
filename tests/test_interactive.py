"""Interactive HTML heatmap: the page itself, and real headless Chromium (Debian's package)."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sc_heatmaps as sch

CHROMIUM = Path(os.environ.get("SC_HEATMAPS_CHROMIUM", "/usr/bin/chromium"))
PAYLOAD = "<img src=x onerror=alert(1)>"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def injected(example):
    """The example with a cluster and a gene named like an XSS payload."""
    example.obs["cluster"] = example.obs["cluster"].cat.rename_categories({"DC": PAYLOAD})
    names = list(example.var_names)
    names[names.index("CST3")] = PAYLOAD
    example.var_names = names
    return example


@pytest.fixture
def plot(injected):
    return sch.pl.grouped_heatmap(injected, cluster_key="cluster", dataset_key="dataset", n_genes=4)


def test_page_is_self_contained_and_escaped(plot):
    page = sch.pl.interactive_heatmap(plot)
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"""<(script|link|img)[^>]+(src|href)=["']?https?:""", page)
    assert "Plotly" in page and len(page) > 1_000_000  # plotly.js embedded
    assert PAYLOAD not in page  # every label is escaped in the embedded JSON
    assert "<iframe srcdoc=" in page._repr_html_()


def test_written_atomically_and_from_adata(example, tmp_path):
    out = sch.pl.interactive_heatmap(
        example, tmp_path / "view.html", cluster_key="cluster", n_genes=2, title="Example"
    )
    assert out.path == tmp_path / "view.html" and out.path.read_text() == out
    assert out.startswith("<!DOCTYPE html>")
    with pytest.raises(ValueError, match=r"\.html path"):
        sch.pl.interactive_heatmap(example, tmp_path / "view.png", cluster_key="cluster")
    with pytest.raises(TypeError, match="grouped or correlation heatmap"):
        sch.pl.interactive_heatmap(pd.DataFrame())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["view.html"]


def _browser():
    if not CHROMIUM.is_file():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Chromium not found at {CHROMIUM}; .ci/run installs Debian's chromium")
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    playwright = pytest.importorskip("playwright.sync_api")
    return playwright.sync_playwright()


@pytest.fixture
def page_for(tmp_path):
    """Open an interactive page in headless Chromium; collect errors and dialogs."""
    opened = {}

    def open_page(html_path: Path):
        pw = _browser().start()
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100}, accept_downloads=True)
        page.errors, page.dialogs = [], []
        page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
        page.goto(html_path.resolve().as_uri())
        page.wait_for_selector("#sch-heatmap .main-svg")
        opened.update(pw=pw, browser=browser)
        return page

    yield open_page
    if opened:
        opened["browser"].close()
        opened["pw"].stop()


def _state(page) -> tuple[list[int], list[int]]:
    return page.evaluate("[window.schState.rows, window.schState.cols]")


def _hover_cell(page, r: int, c: int) -> str:
    x, y = page.evaluate(
        """([r, c]) => {
            const gd = document.getElementById('sch-heatmap'), L = gd._fullLayout;
            const box = gd.getBoundingClientRect();
            return [box.left + L.xaxis._offset + L.xaxis.d2p(c),
                    box.top + L.yaxis._offset + L.yaxis.d2p(r)];
        }""",
        [r, c],
    )
    page.mouse.move(x, y)
    page.wait_for_selector(".hoverlayer .hovertext")
    return page.eval_on_selector(".hoverlayer .hovertext", "e => e.textContent")


@pytest.mark.exhaustive
def test_in_chromium(plot, page_for, tmp_path):
    path = sch.pl.interactive_heatmap(plot, tmp_path / "heat.html").path
    page = page_for(path)
    data = plot.data
    genes = list(data.index.get_level_values("gene"))

    # loads without errors; the injected label is shown as text and never runs
    assert page.errors == []
    ticks = page.eval_on_selector_all(
        ".ytick text, .xtick text", "els => els.map(e => e.textContent)"
    )
    assert PAYLOAD in ticks and any(PAYLOAD in t for t in ticks if "/" in t)
    assert page.dialogs == [] and page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("#sch-legend").inner_text().count(PAYLOAD) == 1

    # hovering a cell shows its value, the cells in its group and the fraction expressing
    text = _hover_cell(page, 2, 5)
    assert f"{data.iloc[2, 5]:.3f}" in text and genes[2] in text
    assert f"n cells: {plot.hover['n_cells'].iloc[5]}" in text
    assert f"{plot.hover['fraction'].iloc[2, 5]:.2f}" in text

    # reorder rows by sum (descending) of the values before z-scoring
    page.select_option("#sch-row-order", "sum")
    rows, _ = _state(page)
    sums = np.nansum(plot.hover["unscaled"].to_numpy(), axis=1)
    assert rows == sorted(range(len(genes)), key=lambda i: (-sums[i], i))
    shown = page.eval_on_selector_all(".ytick text", "els => els.map(e => e.textContent)")
    assert shown == [genes[i] for i in rows]

    # keep the top 10 rows by variance
    page.select_option("#sch-top-by", "variance")
    page.select_option("#sch-top-n", "10")
    rows, _ = _state(page)
    variances = np.nanvar(plot.hover["unscaled"].to_numpy(), axis=1)
    assert len(rows) == 10 and set(rows) == set(np.argsort(-variances, kind="stable")[:10])
    assert page.inner_text("#sch-shown") == f"10 of {len(genes)} rows"
    page.select_option("#sch-top-n", "all")

    # search finds a gene
    page.fill("#sch-search", "cd79")
    assert "CD79A" in page.inner_text("#sch-search-status")
    page.fill("#sch-search", "NOTAGENE")
    assert page.inner_text("#sch-search-status") == "no match"

    # the TSV download is the matrix on screen
    page.select_option("#sch-col-order", "label")
    with page.expect_download() as info:
        page.click("#sch-download-tsv")
    table = pd.read_csv(info.value.path(), sep="\t", index_col=0)
    rows, cols = _state(page)
    assert list(table.index) == [genes[i] for i in rows]
    assert list(table.columns) == [data.columns[j] for j in cols]
    np.testing.assert_allclose(table.to_numpy(), data.to_numpy()[np.ix_(rows, cols)], rtol=1e-9)
    assert list(table.columns) == sorted(data.columns)

    # snapshots
    with page.expect_download() as info:
        page.click("#sch-svg")
    assert Path(info.value.path()).read_text()[:200].lstrip().startswith("<svg")
    with page.expect_download() as info:
        page.click("#sch-png")
    assert Path(info.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    page.screenshot(path=str(tmp_path / "interactive.png"), full_page=True)
    shots = os.environ.get("SC_HEATMAPS_SCREENSHOTS")
    if shots:
        page.screenshot(path=str(Path(shots) / "interactive.png"), full_page=True)
    assert page.errors == [] and page.dialogs == []


@pytest.mark.exhaustive
def test_correlation_plot_in_chromium(example, page_for, tmp_path):
    corr = sch.pl.correlation_heatmap(
        example, genes=["ISG15", "IFI6", "MX1", "CD3E", "LYZ"], groupby="dataset"
    )
    page = page_for(sch.pl.interactive_heatmap(corr, tmp_path / "corr.html").path)
    assert page.errors == []
    rows, cols = _state(page)
    assert len(rows) == len(corr.data) and len(cols) == corr.data.shape[1]
    text = _hover_cell(page, 0, 1)
    assert f"{corr.data.iloc[0, 1]:.3f}" in text


@pytest.mark.exhaustive
def test_tsv_helper_matches_python(plot, page_for, tmp_path):
    page = page_for(sch.pl.interactive_heatmap(plot, tmp_path / "h.html").path)
    table = pd.read_csv(io.StringIO(page.evaluate("window.schTsv()")), sep="\t", index_col=0)
    np.testing.assert_allclose(table.to_numpy(), plot.data.to_numpy(), rtol=1e-9)


def _embedded(page: str) -> dict:
    import json

    raw = re.search(r'<script id="sch-data" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(raw.group(1))


def test_bars_use_the_static_figure_colours(plot):
    data = _embedded(sch.pl.interactive_heatmap(plot))
    spec = plot.spec
    for bar in data["col_bars"]:
        palette = spec.col_palettes[bar["name"]]
        assert bar["colors"] == [palette[c] for c in bar["categories"]]
        shown = [bar["categories"][k] for k in bar["codes"]]
        assert shown == [str(v) for v in spec.col_meta[bar["name"]]]
    (rows,) = data["row_bars"]
    assert [rows["categories"][k] for k in rows["codes"]] == list(spec.row_blocks)
    assert rows["colors"] == [spec.row_palette[c] for c in rows["categories"]]
    assert data["rows"] == list(plot.data.index.get_level_values("gene"))
    np.testing.assert_allclose(np.array(data["values"], dtype=float), plot.data.to_numpy())


@pytest.mark.exhaustive
def test_interactive_dot_plot_in_chromium(example, page_for, tmp_path):
    plot = sch.pl.dotplot(
        example,
        ["CD3E", "IL7R", "MS4A1", "CD79A"],
        cluster_key="cluster",
        dataset_key="dataset",
        scale="zscore",
    )
    page = page_for(sch.pl.interactive_heatmap(plot, tmp_path / "dots.html").path)
    assert page.errors == []
    text = _hover_cell(page, 1, 2)
    frac, mean = plot.bundle.fraction.iloc[1, 2], plot.bundle.unscaled.iloc[1, 2]
    assert f"fraction expressing: {frac:.2f}" in text
    assert f"mean: {mean:.3f}" in text
    assert f"n cells: {int(plot.bundle.n_cells.iloc[2])}" in text
    n_points = page.evaluate("document.getElementById('sch-heatmap').data[0].x.length")
    assert n_points == plot.data.size
