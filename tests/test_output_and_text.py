"""One output writer, one text policy, one size limit (issue 11, items 8, 10 and 13).

- Files: the umask, all-or-nothing sets, long names, stale temporary files.
- Text: user strings drawn literally (no mathtext), control characters removed from
  SVG/PDF/HTML and from the drawn labels, one escape for the interactive page
  (its plotly templates included), a TSV download with quoted fields.
- Size: figures over the limit are refused early with a message naming it; canvases
  over the pixel limit are refused at export before anything is allocated.
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import test_interactive
from conftest import make_synthetic
from matplotlib.text import Text
from PIL import Image
from test_interactive import _hover_cell

import sc_heatmaps as sch
from sc_heatmaps.pl._heatmap_board import ROW_MIN

GENES = {"c0": ["G00", "G01"], "c1": ["G04", "G05"]}
DOLLARS = "CD4+ $T$ cells"
BAD_MATH = r"$\foo$"
CONTROL = "a\x00b\x01c\x1b"
NODE = shutil.which("node")
page_for = test_interactive.page_for  # the browser fixture of tests/test_interactive.py
TEMP = re.compile(r"\.part$")


@contextlib.contextmanager
def umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def plot(synthetic):
    return sch.pl.grouped_heatmap(
        synthetic, GENES, ["dataset", "cluster"], cluster_key="cluster", dataset_key="dataset"
    )


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


# --- item 8: one output writer -------------------------------------------------------------


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
def test_new_files_follow_the_umask(plot, tmp_path, mask):
    with umask(mask):
        written = plot.savefig(tmp_path / "fig.png", dpi=30)
        written.append(sch.export.write_table(plot.data, tmp_path / "table.tsv"))
        written.append(sch.pl.interactive_heatmap(plot, tmp_path / "page.html").path)
    assert {p.name: _mode(p) for p in written} == {p.name: 0o666 & ~mask for p in written}


def test_a_replaced_file_keeps_its_mode(plot, tmp_path):
    old = tmp_path / "fig.png"
    old.write_bytes(b"old")
    old.chmod(0o644)
    (tmp_path / "fig.tsv").write_text("old")
    (tmp_path / "fig.tsv").chmod(0o640)
    with umask(0o077):  # a plain open() keeps the modes of files it overwrites
        plot.savefig(old, dpi=30)
    assert (_mode(old), _mode(tmp_path / "fig.tsv")) == (0o644, 0o640)
    assert _mode(tmp_path / "fig.json") == 0o600  # new: 0o666 minus the umask
    assert old.read_bytes()[:4] == b"\x89PNG"


def test_a_directory_in_the_way_replaces_nothing(plot, tmp_path):
    for name in ("x.png", "x.json"):
        (tmp_path / name).write_text(f"old {name}")
    (tmp_path / "x.tsv").mkdir()
    with pytest.raises(IsADirectoryError, match=r"x\.tsv'.*directory.*in the way"):
        plot.savefig(tmp_path / "x.png", dpi=30)
    assert (tmp_path / "x.png").read_text() == "old x.png"
    assert (tmp_path / "x.json").read_text() == "old x.json"
    assert _names(tmp_path) == ["x.json", "x.png", "x.tsv"]


def test_a_replace_failing_midway_restores_the_replaced_files(plot, tmp_path, monkeypatch):
    import sc_heatmaps.export._atomic as atomic

    (tmp_path / "fig.png").write_bytes(b"old figure")
    (tmp_path / "fig.json").write_text("old json")  # fig.tsv is new
    real = os.replace
    failed = []

    def replace(src, dst, *args, **kwargs):
        if str(dst).endswith("fig.json") and TEMP.search(str(src)) and not failed:
            failed.append(dst)
            raise OSError(28, "No space left on device (injected)")
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(atomic.os, "replace", replace)
    with pytest.raises(OSError, match="injected"):
        plot.savefig(tmp_path / "fig.png", dpi=30)
    monkeypatch.setattr(atomic.os, "replace", real)
    assert failed
    assert (tmp_path / "fig.png").read_bytes() == b"old figure"
    assert (tmp_path / "fig.json").read_text() == "old json"
    assert _names(tmp_path) == ["fig.json", "fig.png"]  # the new fig.tsv went too


def _name_of_bytes(n: int, suffix: str, char: str = "g") -> str:
    """A file name of exactly ``n`` bytes in UTF-8 (``char`` may be multi-byte)."""
    stem_bytes = n - len(suffix.encode())
    width = len(char.encode())
    stem = char * (stem_bytes // width) + "s" * (stem_bytes % width)
    name = stem + suffix
    assert len(name.encode()) == n
    return name


@pytest.mark.parametrize("n", [244, 250, 254])
def test_long_names_that_the_os_accepts_work(plot, tmp_path, n):
    fig = tmp_path / _name_of_bytes(n, ".png")  # its .json sidecar is n + 1 bytes
    written = plot.savefig(fig, dpi=30)
    assert [p.name for p in written] == [fig.name, fig.stem + ".tsv", fig.stem + ".json"]
    table = tmp_path / _name_of_bytes(255, ".tsv", char="é")
    assert sch.export.write_table(plot.data, table) == table
    page = tmp_path / _name_of_bytes(255, ".html")
    assert sch.pl.interactive_heatmap(plot, page).path == page
    assert not [p for p in _names(tmp_path) if p.endswith(".part")]


def test_a_name_too_long_says_so(plot, tmp_path):
    name = _name_of_bytes(256, ".tsv")
    with pytest.raises(OSError, match=r"too long.*256 bytes.*at most 255") as err:
        sch.export.write_table(plot.data, tmp_path / name)
    assert not isinstance(err.value, PermissionError)
    assert "not writable" not in str(err.value) and "writable directory" not in str(err.value)
    assert _names(tmp_path) == []


_KILLED_WRITER = """
import sys, time
from pathlib import Path
from sc_heatmaps.export._atomic import write_all_or_nothing

def write(temp):
    temp.write_text("half a table")
    print("writing", flush=True)
    time.sleep(600)

write_all_or_nothing([(Path(sys.argv[1]), write)])
"""


@contextlib.contextmanager
def _writer_in_progress(target: Path):
    """Another process in the middle of writing ``target``; killed (-9) on exit."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(target)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        assert proc.stdout.readline().strip() == "writing"
        yield proc
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)


def test_temp_files_of_a_killed_writer_are_removed_on_the_next_write(plot, tmp_path):
    target, other = tmp_path / "table.tsv", tmp_path / "other.tsv"
    with _writer_in_progress(target):
        pass  # killed with -9 in the middle of its write: its temporary file stays
    killed = set(_names(tmp_path))
    assert len(killed) == 1
    with _writer_in_progress(other):  # a live writer of another file is left alone
        others = set(_names(tmp_path)) - killed
        sch.export.write_table(plot.data, target)
        assert set(_names(tmp_path)) == {"table.tsv"} | others
    with _writer_in_progress(target):  # and so is a live writer of the same file
        live = set(_names(tmp_path)) - {"table.tsv"} - others
        sch.export.write_table(plot.data, target)
        assert set(_names(tmp_path)) == {"table.tsv"} | others | live
    sch.export.write_table(plot.data, target)
    assert set(_names(tmp_path)) == {"table.tsv"} | others
    sch.export.write_table(plot.data, other)
    assert _names(tmp_path) == ["other.tsv", "table.tsv"]


def test_temp_files_left_by_earlier_versions_are_removed(plot, tmp_path):
    """Before the fix, a killed writer left ``.fig.<8 random>.png.part``."""
    left = tmp_path / ".fig.k3x_9a0b.png.part"
    left.write_bytes(b"half a figure")
    os.utime(left, (1e9, 1e9))
    keep = tmp_path / ".other.k3x_9a0b.png.part"  # another figure's
    keep.write_bytes(b"half a figure")
    os.utime(keep, (1e9, 1e9))
    plot.savefig(tmp_path / "fig.png", dpi=30)
    assert _names(tmp_path) == [keep.name, "fig.json", "fig.png", "fig.tsv"]


def test_every_file_is_written_by_the_one_writer():
    """No code outside sc_heatmaps/export opens a file for writing by itself."""
    root = Path(sch.__file__).parent
    pattern = re.compile(
        r"open\([^)]*['\"][wax]b?\+?['\"]|\.write_(text|bytes)\(|"
        r"\.to_(csv|parquet|json|html)\((?!\s*\)|\s*\w+=)|savefig\(\s*(?:path|fname|out|str\()|"
        r"write_h5ad\(|os\.open\(|shutil\.copy"
    )
    found = []
    for path in root.rglob("*.py"):
        if path.parent.name == "export":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line):
                found.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    assert found == []


# --- item 13: size -----------------------------------------------------------------------


def _wide(n_genes: int, n_clusters: int = 3, n_per: int = 20):
    import anndata as ad

    rng = np.random.default_rng(0)
    clusters = [f"k{i}" for i in range(n_clusters)]
    obs = pd.DataFrame(
        {"cluster": pd.Categorical(np.repeat(clusters, n_per), categories=clusters)},
        index=[f"cell{i}" for i in range(n_clusters * n_per)],
    )
    var = pd.DataFrame(index=[f"G{i}" for i in range(n_genes)])
    return ad.AnnData(rng.random((len(obs), n_genes)).astype(np.float32), obs=obs, var=var)


@pytest.mark.parametrize("n_genes", [3_000, pytest.param(10_000, marks=pytest.mark.exhaustive)])
def test_a_heatmap_over_the_size_limit_is_refused_before_drawing(n_genes):
    adata = _wide(n_genes)
    n_figures = len(plt.get_fignums())
    with pytest.raises(ValueError, match=r"inches per side") as err:
        sch.pl.grouped_heatmap(adata, list(adata.var_names), "cluster")
    message = str(err.value)
    limit = float(re.search(r"over the limit of ([\d.]+) inches per side", message).group(1))
    assert n_genes * ROW_MIN > limit  # the smallest row height, beyond any margin
    assert f"{n_genes:,} rows" in message
    assert "figsize=" in message and "interactive_heatmap" in message and "TSV" in message
    assert len(plt.get_fignums()) == n_figures  # nothing was drawn


def test_going_beyond_the_limit_with_figsize(tmp_path):
    adata = _wide(1_000)
    plot = sch.pl.grouped_heatmap(
        adata, list(adata.var_names), "cluster", labels="x", figsize=(5, 12)
    )
    np.testing.assert_allclose(plot.figure.get_size_inches(), (5, 12), atol=0.05)
    assert plot.data.shape == (1_000, 3)


def test_savefig_refuses_a_canvas_over_the_pixel_limit_before_allocating(tmp_path, monkeypatch):
    fig = plt.figure(figsize=(6.4, 12))
    with pytest.raises(ValueError, match=r"dpi=20000 is 128,000 x 240,000 pixels.*lower dpi"):
        sch.pl.savefig(fig, tmp_path / "big.png", dpi=20000)
    import sc_heatmaps._limits as limits

    monkeypatch.setattr(limits, "MAX_PIXELS", 1_000_000)  # the total is checked too
    most = int(np.sqrt(1_000_000 / (6.4 * 12)))
    with pytest.raises(ValueError, match=rf"1 million pixels in all; lower dpi \(at most {most} "):
        sch.pl.savefig(fig, tmp_path / "big.pdf", dpi=300)
    assert _names(tmp_path) == []


def test_normal_sizes_still_work(tmp_path):
    """10 clusters x 10 markers at 300 DPI."""
    adata = _wide(120, n_clusters=10)
    genes = {f"k{i}": [f"G{10 * i + j}" for j in range(10)] for i in range(10)}
    plot = sch.pl.grouped_heatmap(adata, genes, "cluster", cluster_key="cluster")
    fig = plot.savefig(tmp_path / "markers.png", dpi=300)[0]
    w, h = plot.figure.get_size_inches()
    with Image.open(fig) as im:
        # matplotlib truncates or rounds the pixel size depending on its version
        assert abs(im.size[0] - w * 300) <= 1 and abs(im.size[1] - h * 300) <= 1
    assert 100 * ROW_MIN < h <= 240 / 25.4 + 0.01  # 100 rows on a 240 mm page


# --- item 10: one text policy --------------------------------------------------------------


def _renamed(adata, mapping: dict):
    """A copy with categories and genes renamed (keys: old names)."""
    adata = adata.copy()
    for key in ("cluster", "dataset"):
        cats = {c: mapping.get(c, c) for c in adata.obs[key].cat.categories}
        adata.obs[key] = adata.obs[key].cat.rename_categories(cats)
    adata.var_names = [mapping.get(g, g) for g in adata.var_names]
    return adata


def _texts(figure) -> list[str]:
    return [t.get_text() for t in figure.findobj(Text) if t.get_text()]


def _svg_texts(path: Path) -> list[str]:
    root = ET.parse(path).getroot()  # valid XML, or this raises
    return ["".join(e.itertext()) for e in root.iter("{http://www.w3.org/2000/svg}text")]


def _draw(kind: str, adata, **kws):
    """One figure of each kind; genes are taken by position (G00, G01, G04, G05)."""
    g00, g01, g04, g05 = (str(g) for g in adata.var_names[[0, 1, 4, 5]])
    if kind == "grouped":
        return sch.pl.grouped_heatmap(adata, [g00, g01, g04], ["dataset", "cluster"], **kws)
    if kind == "cell":
        return sch.pl.cell_heatmap(
            adata, [g00, g01, g04], ["dataset", "cluster"], max_cells_per_group=5, **kws
        )
    if kind == "matrix":
        frame = sch.get.obs_summary(adata, "n", "cluster", "dataset", op="mean")
        return sch.pl.matrix_heatmap(frame, **kws)
    if kind == "correlation":
        return sch.pl.correlation_heatmap(
            adata, genes=[g00, g01, g04, g05], groupby="dataset", min_nonzero=3, **kws
        )
    return sch.pl.dual_expression(adata, g00, g01, color="cluster", **kws)


KINDS = ["grouped", "cell", "matrix", "correlation", "dual"]
LITERAL = {"c0": DOLLARS, "c1": BAD_MATH, "d1": "d $1$", "G00": "IL7R $x$", "G01": r"$\bar$"}


@pytest.mark.parametrize("kind", KINDS)
def test_user_strings_are_drawn_literally(kind, tmp_path):
    adata = _renamed(make_synthetic(), LITERAL)
    adata.obs["n"] = np.arange(adata.n_obs, dtype=float)
    plot = _draw(kind, adata, title=r"$\alpha$ title, 5$ and $6")
    texts = _texts(plot.figure)
    expected = {
        "grouped": [DOLLARS, BAD_MATH, "d $1$", "IL7R $x$", r"$\bar$"],
        "cell": [DOLLARS, BAD_MATH, "d $1$", "IL7R $x$", r"$\bar$"],
        "matrix": [DOLLARS, BAD_MATH, "d $1$"],
        "correlation": ["d $1$", "IL7R $x$", r"$\bar$"],
        "dual": [DOLLARS, BAD_MATH, "IL7R $x$", r"$\bar$"],
    }[kind]
    for label in [*expected, r"$\alpha$ title, 5$ and $6"]:
        assert any(label in t for t in texts), (label, texts)
    for artist in plot.figure.findobj(Text):  # none is read as mathtext
        assert artist._preprocess_math(artist.get_text())[1] is False
    png, *_ = plot.savefig(tmp_path / "fig.png", dpi=40)
    with Image.open(png) as im:
        assert im.size[0] > 10
    svg, *_ = plot.savefig(tmp_path / "fig.svg", dpi=40)
    svg_texts = _svg_texts(svg)
    for label in expected:
        assert any(label in t for t in svg_texts), (label, svg_texts)


@pytest.mark.parametrize("kind", KINDS)
def test_control_characters_leave_no_trace(kind, tmp_path):
    controls = {"c0": CONTROL, "d1": "d\x021", "G00": "G\x0700", "G01": "G01\x7f\x85"}
    adata = _renamed(make_synthetic(), controls)
    adata.obs["n"] = np.arange(adata.n_obs, dtype=float)
    plot = _draw(kind, adata, title="title\x00")
    bad = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
    assert [t for t in _texts(plot.figure) if bad.search(t)] == []
    assert any("abc" in t for t in _texts(plot.figure)) or kind == "correlation"
    svg, *_ = plot.savefig(tmp_path / "fig.svg", dpi=40)
    assert [t for t in _svg_texts(svg) if bad.search(t)] == []
    pdf, *_ = plot.savefig(tmp_path / "fig.pdf", dpi=40)
    assert pdf.read_bytes().startswith(b"%PDF")


def test_control_characters_in_a_user_figure_are_removed_at_export(tmp_path):
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.set_title("CD4\x00 T")
    ax.set_xlabel("x\x01")
    svg = sch.pl.savefig(fig, tmp_path / "user.svg")[0]
    assert "CD4 T" in _svg_texts(svg)


def _embedded(page: str) -> dict:
    raw = re.search(r'<script id="sch-data" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(raw.group(1))


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_interactive_page_has_no_control_characters(synthetic):
    adata = _renamed(synthetic, {"c0": CONTROL, "G00": "G\x0700"})
    page = sch.pl.interactive_heatmap(
        adata,
        var_names=["G\x0700", "G04"],
        groupby=["dataset", "cluster"],
        title="t\x00<b>itle</b>",
    )
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert title == "t&lt;b&gt;itle&lt;/b&gt;"
    strings = _strings(_embedded(page))
    assert "abc" in strings and "G00" in strings
    assert [s for s in strings if re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", s)] == []


# The interactive page's script, run under node with the few browser objects it uses.
_HARNESS = r"""
const fs = require("fs"), vm = require("vm");
const [script, data] = [fs.readFileSync(process.argv[2], "utf8"),
                        fs.readFileSync(process.argv[3], "utf8")];
const element = (props) => Object.assign({ value: "", textContent: "", style: {}, dataset: {},
  addEventListener() {}, appendChild() {}, querySelector() { return null; }, remove() {},
  click() {} }, props);
const initial = { "sch-data": { textContent: data }, "sch-top-n": { value: "all" },
  "sch-top-by": { value: "sum" }, "sch-row-order": { value: "drawn" },
  "sch-col-order": { value: "drawn" } };
const elements = {};
const calls = [];
const context = {
  window: {}, CSS: { escape: (s) => s },
  document: {
    getElementById: (id) => (elements[id] = elements[id] || element(initial[id] || {})),
    createElement: () => element({}), createTextNode: (t) => ({ t }), body: element({}),
  },
  Plotly: { react: (gd, traces, layout) => calls.push({ traces, layout }), relayout() {} },
};
vm.createContext(context);
vm.runInContext(script, context);
const last = calls[calls.length - 1];
process.stdout.write(JSON.stringify({ tsv: context.window.schTsv(), traces: last.traces,
  layout: last.layout }));
"""


def _run_page_script(page: str, tmp_path: Path) -> dict:
    if NODE is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("node is needed to run the interactive page's script")
        pytest.skip("node not found")
    from importlib import resources

    script = resources.files("sc_heatmaps.pl").joinpath("assets/interactive.js").read_text()
    files = {"harness.js": _HARNESS, "app.js": script}
    raw = re.search(r'<script id="sch-data" type="application/json">(.*?)</script>', page, re.S)
    files["data.json"] = raw.group(1)
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    out = subprocess.run(
        [NODE, "harness.js", "app.js", "data.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(out.stdout)


_PLOTLY_TEMPLATE = re.compile(r"%{([^\s%{}:]*)([:|\|][^}]*)?}")  # plotly.js TEMPLATE_STRING_REGEX
_PLOTLY_TAG = re.compile(r"(<[^<>]*>)")
_PLOTLY_ENTITY = re.compile(r"&(#\d+|#x[\da-fA-F]+|[a-z]+);")
_PLOTLY_NAMED = {"amp": "&", "lt": "<", "gt": ">", "nbsp": "\xa0", "mu": "μ", "times": "×"}


def _entity(match) -> str:
    name = match.group(1)
    if name.startswith("#x"):
        return chr(int(name[2:], 16))
    if name.startswith("#"):
        return chr(int(name[1:]))
    return _PLOTLY_NAMED.get(name, match.group(0))


def _plotly_shows(template: str) -> tuple[str, list[str], list[str]]:
    """What plotly shows for a hover template: text, tags (markup) and template fields."""
    fields = [m.group(1) for m in _PLOTLY_TEMPLATE.finditer(template)]
    filled = _PLOTLY_TEMPLATE.sub("VALUE", template)
    parts = _PLOTLY_TAG.split(filled)
    tags = [p for p in parts if _PLOTLY_TAG.fullmatch(p)]
    text = "".join(_PLOTLY_ENTITY.sub(_entity, p) for p in parts if not _PLOTLY_TAG.fullmatch(p))
    return text, tags, fields


HOSTILE_LAYER = 'raw %{x} <a href="https://example.org">link</a> %{customdata[2]}'


def test_plotly_templates_show_user_strings_literally(synthetic, tmp_path):
    adata = _renamed(synthetic, {"c0": "%{z} <b>c0</b>", "G00": "<a href='x'>G00</a>"})
    adata.layers[HOSTILE_LAYER] = adata.X.copy()
    plot = sch.pl.grouped_heatmap(
        adata, ["<a href='x'>G00</a>", "G04"], ["dataset", "cluster"], source=HOSTILE_LAYER
    )
    shown = _run_page_script(sch.pl.interactive_heatmap(plot), tmp_path)
    main, *bars = shown["traces"]
    text, tags, fields = _plotly_shows(main["hovertemplate"])
    assert HOSTILE_LAYER in text  # the layer name (in the value name) shown as written
    assert tags == ["<br>", "<br>", "<br>", "<br>", "<extra>", "</extra>"]
    assert fields == ["customdata[0]", "customdata[1]", "z", "customdata[2]", "customdata[3]"]
    for bar in bars:
        text, tags, fields = _plotly_shows(bar["hovertemplate"])
        assert tags == ["<extra>", "</extra>"] and fields == ["customdata"]
    cells = [v for row in main["customdata"] for cell in row for v in cell[:2]]
    assert "&lt;a href='x'&gt;G00&lt;/a&gt;" in cells
    shown_cells = {_plotly_shows(c)[0] for c in cells}
    assert "<a href='x'>G00</a>" in shown_cells and "%{z} <b>c0</b>" in " ".join(shown_cells)
    ticks = shown["layout"]["yaxis"]["ticktext"] + shown["layout"]["xaxis"]["ticktext"]
    assert all(_plotly_shows(t)[1:] == ([], []) for t in ticks)
    title = shown["traces"][0]["colorbar"]["title"]["text"]
    assert _plotly_shows(title)[0] == f"mean ({HOSTILE_LAYER}) (z-score)"


def test_tsv_download_quotes_its_fields(tmp_path):
    rows = ["plain", "tab\there", 'say "hi"', "two\nlines", "G$1$"]
    cols = ["c\t1", 'c"2', "c3\r\n"]
    frame = pd.DataFrame(
        np.arange(15, dtype=float).reshape(5, 3) / 7, index=pd.Index(rows), columns=cols
    )
    plot = sch.pl.matrix_heatmap(frame)
    tsv = _run_page_script(sch.pl.interactive_heatmap(plot), tmp_path)["tsv"]
    table = pd.read_csv(io.StringIO(tsv), sep="\t", index_col=0)
    assert list(table.index) == rows
    assert list(table.columns) == [c.replace("\r", "") for c in cols]  # \r is a control char
    np.testing.assert_allclose(table.to_numpy(), frame.to_numpy(), rtol=1e-12)
    assert html.unescape(tsv) == tsv  # plain text, not HTML


@pytest.mark.exhaustive
def test_hover_and_tsv_download_in_chromium(synthetic, request, tmp_path):
    """The same in the browser: hover text as written, no link, a TSV that reads back."""
    open_page = request.getfixturevalue("page_for")
    adata = _renamed(synthetic, {"c0": "c\t0", "G00": '<a href="x">G00</a>'})
    adata.layers[HOSTILE_LAYER] = adata.X.copy()
    plot = sch.pl.grouped_heatmap(
        adata, ['<a href="x">G00</a>', "G04"], ["dataset", "cluster"], source=HOSTILE_LAYER
    )
    page = open_page(sch.pl.interactive_heatmap(plot, tmp_path / "hostile.html").path)
    text = _hover_cell(page, 0, 0)
    assert HOSTILE_LAYER in text and '<a href="x">G00</a>' in text
    assert page.locator(".hoverlayer a, .ytick a, .xtick a").count() == 0
    with page.expect_download() as info:
        page.click("#sch-download-tsv")
    table = pd.read_csv(info.value.path(), sep="\t", index_col=0)
    assert list(table.index) == list(plot.data.index.get_level_values("gene"))
    assert list(table.columns) == list(plot.data.columns)
    assert "d1 / c\t0" in table.columns
    np.testing.assert_allclose(table.to_numpy(), plot.data.to_numpy(), rtol=1e-9)
    assert page.errors == [] and page.dialogs == []
