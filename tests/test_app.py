"""The point-and-click app (``sc-heatmaps app``): a real server on 127.0.0.1 and
Debian's headless Chromium (through Playwright), every control set once.

Expected values come from the public API called here (``sch.get.dual_expression``,
the Python snippet the page shows, ``plot.savefig``) and from PIL reading the files.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sc_heatmaps as sch

pytest.importorskip("shiny")
CHROMIUM = Path(os.environ.get("SC_HEATMAPS_CHROMIUM", "/usr/bin/chromium"))
PAYLOAD = "<img src=x onerror=alert(1)>"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
WAIT = 120_000  # ms; the first figure imports scanpy and compiles kernels

# the browser: opt-in tier (README, Development)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    """Part of the example (2 datasets, 4 clusters: quick to draw) with a cluster named
    like an XSS payload and an integrated layer."""
    adata = sch.datasets.example()
    keep = adata.obs["cluster"].isin(["B", "NK", "CD4 T", "DC"])
    adata = adata[keep & adata.obs["dataset"].isin(["ctrl", "stim_IFN"])].copy()
    for key in ("cluster", "dataset"):
        adata.obs[key] = adata.obs[key].cat.remove_unused_categories()
    adata.obs["cluster"] = adata.obs["cluster"].cat.rename_categories({"DC": PAYLOAD})
    adata.layers["integrated"] = adata.X * 0.5
    path = tmp_path_factory.mktemp("app") / "data.h5ad"
    adata.write_h5ad(path)
    return path


@pytest.fixture(scope="module")
def server(data_file):
    """``sc-heatmaps app FILE --port 0`` in a subprocess; its address; stopped at the end."""
    before = _sha256(data_file)
    env = {**os.environ, "MPLBACKEND": "Agg"}
    log = data_file.with_name("server.log")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sc_heatmaps", "app", str(data_file), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
        env=env,
    )
    try:
        line = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert match, f"no address printed: {line!r} {log.read_text()}"
        url = match.group(0)
        _wait_until_up(url)
        yield url, log
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert proc.returncode is not None  # the server stopped
    assert _sha256(data_file) == before  # the file on disk is never modified


def _wait_until_up(url: str) -> None:
    for _ in range(200):
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Chromium not found at {CHROMIUM}; .ci/run installs Debian's chromium")
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(browser, server):
    """The app's page, with its console errors and dialogs collected."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.errors, page.dialogs = [], []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    url, log = server
    page.goto(url)
    try:
        page.wait_for_selector("#heatmap_image img", timeout=WAIT)  # the first figure
    except Exception as err:
        message = page.inner_text("#heatmap_message")
        server_log = log.read_text()
        raise AssertionError(f"no figure; page: {message!r}; server: {server_log}") from err
    yield page
    context.close()


# ---- helpers ----


def _idle(page) -> None:
    """Wait until Shiny has sent every pending input and output."""
    page.wait_for_timeout(400)  # text and numeric inputs are debounced
    page.wait_for_function(
        "() => !document.documentElement.classList.contains('shiny-busy')", timeout=WAIT
    )


def _src(page, prefix: str) -> str:
    _idle(page)
    return page.evaluate(
        "sel => { const e = document.querySelector(sel); return e ? e.src : ''; }",
        f"#{prefix}_image img",
    )


def _changed(page, prefix: str, action) -> tuple[int, int]:
    """Do ``action``, wait for a new figure; return its pixel size."""
    before = _src(page, prefix)
    action()
    page.wait_for_function(
        "([sel, old]) => { const e = document.querySelector(sel);"
        " return e && e.src !== old && e.complete && e.naturalWidth > 0; }",
        arg=[f"#{prefix}_image img", before],
        timeout=WAIT,
    )
    _idle(page)
    return _size(page, prefix)


def _size(page, prefix: str) -> tuple[int, int]:
    return tuple(
        page.eval_on_selector(f"#{prefix}_image img", "e => [e.naturalWidth, e.naturalHeight]")
    )


def _options(page, select_id: str):
    """The options of a selectize input's own dropdown."""
    control = page.locator(f"#{select_id}-selectized").locator(
        "xpath=ancestor::div[contains(@class,'selectize-control')]"
    )
    return control.locator(".option")


def _pick(page, select_id: str, text: str, value=None) -> None:
    """Type into a selectize input and choose the option ``value`` (default ``text``)."""
    page.click(f"#{select_id}-selectized")
    page.fill(f"#{select_id}-selectized", text)
    _options(page, select_id).filter(has_text=value or text).first.click()
    page.keyboard.press("Escape")


def _fill(page, input_id: str, text: str) -> None:
    page.fill(f"#{input_id}", text)
    page.press(f"#{input_id}", "Tab")


def _message(page, prefix: str, pattern: str) -> str:
    page.wait_for_function(
        "([sel, pat]) => new RegExp(pat).test(document.querySelector(sel).innerText)",
        arg=[f"#{prefix}_message", pattern],
        timeout=WAIT,
    )
    return page.inner_text(f"#{prefix}_message")


def _download(page, button: str) -> bytes:
    with page.expect_download(timeout=WAIT) as info:
        page.click(f"#{button}")
    return Path(info.value.path()).read_bytes()


def _run_snippet(code: str, tmp_path: Path):
    """Execute the page's snippet in ``tmp_path``; return its ``plot``."""
    import matplotlib.pyplot as plt

    namespace: dict = {}
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(compile(code, "<app snippet>", "exec"), namespace)
    finally:
        os.chdir(cwd)
    plt.close(namespace["plot"].figure)
    return namespace["plot"], tmp_path


def _zip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _no_errors(page) -> None:
    assert page.errors == []  # no console errors
    assert page.dialogs == []  # no script from a label ran
    assert page.locator("img[src='x']").count() == 0
    assert "Traceback" not in page.inner_text("body")


# ---- the heatmap tab ----


def _heatmap_markers(page) -> None:
    """Markers: fewer per cluster, fewer groups and clusters, conserved, then genes."""
    _, h0 = _size(page, "heatmap")  # top 5 markers per cluster, by dataset and cluster
    w1, h1 = _changed(
        page, "heatmap", lambda: (page.fill("#n_genes", "2"), page.press("#n_genes", "Tab"))
    )
    assert h1 < h0
    w2, _ = _changed(page, "heatmap", lambda: page.check("input[name='group_by'][value='cluster']"))
    assert w2 < w1
    page.check("input[name='group_by'][value='both']")
    _pick(page, "clusters", "B", re.compile("^B$"))  # one cluster has no markers
    assert "at least 2 groups" in _message(page, "heatmap", "at least 2 groups")
    w3, h3 = _changed(page, "heatmap", lambda: _pick(page, "clusters", "NK"))
    assert w3 < w1 and h3 < h1
    _changed(page, "heatmap", lambda: page.check("input[name='marker_kind'][value='conserved']"))
    page.click("#use_markers")  # off, with no genes picked: an empty selection
    assert "pick at least one gene" in _message(page, "heatmap", "pick at least one gene")


def _heatmap_options(page) -> None:
    """Genes, value, source, scaling, clustering, colours, limits and title."""
    _pick(page, "genes", "CD3E")
    _pick(page, "genes", "MS4A1")
    _changed(page, "heatmap", lambda: _pick(page, "genes", "NKG7"))
    for select, value in (("stat", "fraction"), ("source", "integrated"), ("scale", "none")):
        _changed(page, "heatmap", lambda s=select, v=value: page.select_option(f"#{s}", v))
    w1, h1 = _size(page, "heatmap")
    w2, _ = _changed(page, "heatmap", lambda: page.check("#cluster_rows"))
    assert w2 > w1  # a row dendrogram
    _, h3 = _changed(page, "heatmap", lambda: page.check("#cluster_cols"))
    assert h3 > h1  # a column dendrogram
    size = _changed(page, "heatmap", lambda: page.select_option("#cmap", "red_black_green"))
    assert size == (w2, h3)
    page.fill("#vmin", "abc")
    assert "is not a number" in _message(page, "heatmap", "not a number")
    _changed(page, "heatmap", lambda: page.fill("#vmin", "0"))
    _changed(page, "heatmap", lambda: page.fill("#vmax", "0.5"))
    _, h4 = _changed(page, "heatmap", lambda: page.fill("#title", "My genes"))
    assert h4 > h3


def _export_matches_savefig(page, prefix: str, fmt: str, dpi: int, tmp_path: Path) -> None:
    """The zip holds exactly what the snippet's plot.savefig writes, at the asked DPI."""
    from PIL import Image

    page.select_option(f"#{prefix}_format", fmt)
    _fill(page, f"{prefix}_dpi", str(dpi))
    page.wait_for_function(
        "([sel, d]) => document.querySelector(sel).innerText.includes('dpi=' + d)",
        arg=[f"#{prefix}_code", str(dpi)],
        timeout=WAIT,
    )
    files = _zip(_download(page, f"{prefix}_download"))
    suffix = {"jpeg": "jpg"}.get(fmt, fmt)
    assert sorted(files) == sorted(f"{prefix}.{s}" for s in (suffix, "tsv", "json"))
    with Image.open(io.BytesIO(files[f"{prefix}.{suffix}"])) as image:
        shown = [float(v) for v in image.info["dpi"]]  # PIL 10.0: IFDRational in TIFF
        assert np.allclose(shown, dpi, atol=0.05)  # PNG stores dots per metre
    plot, out = _run_snippet(page.inner_text(f"#{prefix}_code"), tmp_path)
    for name, data in files.items():
        assert (out / name).read_bytes() == data, name  # savefig's bytes, sidecars too
    return plot


@pytest.mark.slow
@pytest.mark.exhaustive
def test_heatmap_tab(page, tmp_path):
    page.click("a[data-value='heatmap']")
    _heatmap_markers(page)
    _heatmap_options(page)
    plot = _export_matches_savefig(page, "heatmap", "png", 150, tmp_path)
    assert list(plot.data.index.get_level_values(-1)) == ["CD3E", "MS4A1", "NKG7"] or set(
        plot.data.index.get_level_values(-1)
    ) == {"CD3E", "MS4A1", "NKG7"}
    _export_matches_savefig(page, "heatmap", "tiff", 200, tmp_path)
    cli = page.inner_text("#heatmap_cli")
    assert cli.startswith("sc-heatmaps heatmap -i ") and "-v fraction" in cli
    assert "cmap:red_black_green" in cli and "--cluster-rows" in cli
    params = __import__("json").loads(_download(page, "heatmap_params"))
    assert params["function"] == "sc_heatmaps.pl.grouped_heatmap"
    assert params["options"]["cmap"] == "red_black_green" and params["dpi"] == 200
    _no_errors(page)


# ---- the dual-expression tab ----


def _shown_table(page) -> pd.DataFrame:
    header = page.eval_on_selector_all(
        "#dual_stats table thead tr:first-child th", "hs => hs.map(h => h.innerText.trim())"
    )
    rows = page.eval_on_selector_all(
        "#dual_stats table tbody tr", "rs => rs.map(r => Array.from(r.cells, c => c.innerText))"
    )
    return pd.DataFrame(rows, columns=header)


def _dual_controls(page) -> list[str]:
    """Set every dual-expression control once; return the clusters chosen."""
    _changed(page, "dual", lambda: _pick(page, "gene_y", "MS4A1"))
    _changed(page, "dual", lambda: _pick(page, "gene_x", "CD3D"))
    _changed(page, "dual", lambda: page.check("input[name='color_by'][value='cluster']"))
    page.click("#dual_clusters-selectized")
    page.fill("#dual_clusters-selectized", "onerror")
    option = _options(page, "dual_clusters").filter(has_text="onerror").first
    assert option.inner_text() == PAYLOAD  # a label from the file is shown as text
    _changed(page, "dual", option.click)
    page.keyboard.press("Escape")
    _changed(page, "dual", lambda: _pick(page, "dual_clusters", "B", re.compile("^B$")))
    w0, _ = _size(page, "dual")
    w1, _ = _changed(page, "dual", lambda: page.check("#split"))
    assert w1 > w0  # one panel per dataset
    _changed(page, "dual", lambda: page.select_option("#method", "spearman"))
    _changed(page, "dual", lambda: page.select_option("#dual_source", "integrated"))
    _changed(page, "dual", lambda: _fill(page, "max_points", "50"))
    return ["B", PAYLOAD]


@pytest.mark.slow
@pytest.mark.exhaustive
def test_dual_tab(page, data_file, tmp_path):
    import anndata as ad

    page.click("a[data-value='dual']")
    page.wait_for_selector("#dual_image img", timeout=WAIT)
    clusters = _dual_controls(page)
    expected = sch.get.dual_expression(
        ad.read_h5ad(data_file),
        "CD3D",
        "MS4A1",
        color="cluster",
        clusters=clusters,
        cluster_key="cluster",
        split_by="dataset",
        method="spearman",
        source="integrated",
    ).stats
    shown = _shown_table(page)
    assert list(shown.columns) == [str(c) for c in expected.columns]
    assert PAYLOAD in set(shown["group"])  # as text, in the statistics table
    shown = shown.sort_values(["split", "group"]).reset_index(drop=True)
    named = {"split": expected["split"].fillna(""), "group": expected["group"].fillna("")}
    expected = expected.assign(**named).sort_values(["split", "group"]).reset_index(drop=True)
    for column in expected.columns:
        if pd.api.types.is_bool_dtype(expected[column]):
            assert list(shown[column]) == [str(v).lower() for v in expected[column]], column
        elif pd.api.types.is_numeric_dtype(expected[column]):
            values = shown[column].astype(float).to_numpy()
            np.testing.assert_allclose(values, expected[column], rtol=5e-3, err_msg=column)
        else:
            assert list(shown[column]) == list(expected[column].astype(str)), column
    plot = _export_matches_savefig(page, "dual", "jpeg", 120, tmp_path)
    assert plot.params["max_points"] == 50
    assert "sc-heatmaps dual -i " in page.inner_text("#dual_cli")
    _no_errors(page)


# ---- without a browser (fast tier) ----


class _Inputs:
    """Stand-in for Shiny's inputs: ``inp.name()`` returns the value given."""

    def __init__(self, **values):
        self._values = values

    def __getattr__(self, name):
        return lambda: self._values.get(name)


HEATMAP_INPUTS = dict(
    cluster_key="cluster",
    dataset_key="dataset",
    use_markers=False,
    marker_kind="top",
    genes=["CD3E", "MS4A1"],
    n_genes=5,
    group_by="both",
    source="RNA",
    clusters=["B", "NK"],
    stat="mean",
    scale="none",
    cmap="red_black_green",
    vmin="",
    vmax="2",
    title="",
)


def test_cli_listens_on_localhost_by_default():
    from sc_heatmaps.cli._main import build_parser

    args = build_parser().parse_args(["app", "data.h5ad"])
    assert (args.host, args.port, args.files) == ("127.0.0.1", 8000, [Path("data.h5ad")])


def test_bad_controls_are_messages(data_file):
    from sc_heatmaps.app import load_state
    from sc_heatmaps.app._server import InputError, heatmap_call

    state = load_state([data_file])
    with pytest.raises(InputError, match="pick at least one gene"):
        heatmap_call(_Inputs(**{**HEATMAP_INPUTS, "genes": []}), state)
    with pytest.raises(InputError, match="'abc' is not a number"):
        heatmap_call(_Inputs(**{**HEATMAP_INPUTS, "vmin": "abc"}), state)
    with pytest.raises(FileNotFoundError, match=r"nope\.h5ad"):
        load_state([data_file.with_name("nope.h5ad")])


def test_snippet_draws_the_app_figure(data_file, tmp_path):
    """The Python code shown reproduces the app's figure: same .data (clusters in the
    order of their categories, whatever order they were picked in)."""
    from sc_heatmaps.app import _figures, load_state
    from sc_heatmaps.app._server import heatmap_call

    before = _sha256(data_file)
    state = load_state([data_file])
    call = heatmap_call(_Inputs(**HEATMAP_INPUTS), state)
    assert call.kwargs["clusters"] == ["NK", "B"] and call.kwargs["scale"] is None
    plot = _figures.draw(state, call)
    code, cli = _figures.code_texts(state, call, "png", 300)
    snippet, _ = _run_snippet(code, tmp_path)
    pd.testing.assert_frame_equal(snippet.data, plot.data)
    assert "--clusters NK,B" in cli and "scale:none" in cli and "vmax:2" in cli
    assert _sha256(data_file) == before


def test_cached_statistics_draw_the_public_figure(data_file):
    """Heatmaps that differ only in scaling, colours, limits or clustering reuse one
    computation of the group statistics, and each is the same PNG as the public
    ``sch.pl.grouped_heatmap`` call with the same options."""
    import anndata as ad
    import matplotlib.pyplot as plt

    from sc_heatmaps.app import _figures, load_state
    from sc_heatmaps.app._calls import make_call

    state = load_state([data_file])
    adata = ad.read_h5ad(data_file)
    base = dict(groupby=["dataset", "cluster"], cluster_key="cluster", dataset_key="dataset")
    variants = [
        {},
        {"scale": None},
        {"scale": "minmax", "cmap": "red_black_green"},
        {"vmin": -1.0, "vmax": 1.0},
        {"cluster_rows": True, "cluster_cols": True},
    ]
    genes = ["CD3E", "MS4A1", "NKG7", "GNLY", "CD79A"]
    for options in variants:
        call = make_call("heatmap", genes, **base, **options)
        app_png = _png(_figures.draw(state, call).figure)
        kwargs = {k: v for k, v in base.items() if k != "groupby"} | options
        public = sch.pl.grouped_heatmap(adata, genes, base["groupby"], **kwargs)
        assert app_png == _png(public.figure), options
        plt.close("all")
    assert state.stats.misses == 1 and state.stats.hits == len(variants) - 1


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=72)
    return buffer.getvalue()


def test_dot_plot_switch_draws_the_public_dot_plot(data_file, tmp_path):
    """The heatmap tab's "Dot plot" switch draws ``sch.pl.dotplot`` (same PNG), its
    snippet draws the same data and its command line is the ``dotplot`` command."""
    import anndata as ad

    from sc_heatmaps.app import _figures, load_state
    from sc_heatmaps.app._server import heatmap_call

    state = load_state([data_file])
    call = heatmap_call(_Inputs(**{**HEATMAP_INPUTS, "heatmap_kind": "dot"}), state)
    assert call.kind == "dot" and "stat" not in call.kwargs
    plot = _figures.draw(state, call)
    kwargs = dict(call.kwargs)
    public = sch.pl.dotplot(ad.read_h5ad(data_file), list(call.genes), list(call.groupby), **kwargs)
    assert _png(plot.figure) == _png(public.figure)
    code, cli = _figures.code_texts(state, call, "png", 300)
    assert "sch.pl.dotplot(" in code and cli.startswith("sc-heatmaps dotplot ")
    snippet, _ = _run_snippet(code, tmp_path)
    pd.testing.assert_frame_equal(snippet.data, plot.data)
    params = json.loads(_figures.parameters_json(state, call, "png", 300))
    assert params["function"] == "sc_heatmaps.pl.dotplot"
