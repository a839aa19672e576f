"""``interactive_heatmap``: a single self-contained HTML file (plotly.js embedded, offline)."""

from __future__ import annotations

import html
import json
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.colors import to_hex

from .._heatmap_options import GroupedHeatmapOptions
from .._labels import text
from .._text import clean_strings, html_text
from ..arrange import cluster_order
from ..get._correlation import LABELS
from ._cmaps import resolve_cmap
from ._correlation_heatmap import CorrelationPlot
from ._grouped_heatmap import prepare
from ._plot import HeatmapPlot

TOP_N = (500, 250, 100, 50, 20, 10)
DOT_PX = 14  # pixels: the diameter of a dot of fraction 1 in the interactive dot plot


class InteractiveHTML(str):
    """The HTML page as a string; displayed inline in a notebook (in a sandboxed iframe).

    ``path`` is the file it was written to, or ``None``.
    """

    path: Path | None = None

    def _repr_html_(self) -> str:
        return (
            f'<iframe srcdoc="{html.escape(self, quote=True)}" '
            'style="width:100%;height:760px;border:0" sandbox="allow-scripts allow-downloads">'
            "</iframe>"
        )


def _nan_to_none(values: np.ndarray) -> list:
    return [[None if not np.isfinite(v) else float(v) for v in row] for row in values]


def _cluster_leaves(values: np.ndarray) -> list[int]:
    """The "clustering" order of the page: the static figures' average-linkage order."""
    return [int(i) for i in cluster_order(values).order]


def _row_scores(values: np.ndarray) -> dict:
    """Sum and variance (ddof=0) of every row, missing values left out; ``None`` for a
    row with no value (ranked last)."""
    present = np.isfinite(values)
    n = present.sum(axis=1)
    filled = np.where(present, values, 0.0)
    total = filled.sum(axis=1)
    mean = np.divide(total, n, out=np.zeros_like(total), where=n > 0)
    spread = np.where(present, (values - mean[:, None]) ** 2, 0.0).sum(axis=1)
    var = np.divide(spread, n, out=np.zeros_like(spread), where=n > 0)
    return {
        "sum": [float(t) if k else None for t, k in zip(total, n, strict=True)],
        "variance": [float(v) if k else None for v, k in zip(var, n, strict=True)],
    }


def _colorscale(cmap) -> list:
    cm = resolve_cmap(cmap)
    return [[float(t), to_hex(cm(t))] for t in np.linspace(0, 1, 11)]


def _bar(name: str, labels: list[str], palette: dict) -> dict:
    present = set(labels)
    categories = [c for c in palette if c in present]
    index = {c: i for i, c in enumerate(categories)}
    return {
        "name": str(name),
        "categories": categories,
        "colors": [palette[c] for c in categories],
        "codes": [index[v] for v in labels],
    }


def _base(data: pd.DataFrame, title, filename, cmap, limits, unscaled=None) -> dict:
    """The page's data. Rows are ranked ("sum", "variance", "keep top N") by ``unscaled``
    when the rows were scaled: a z-scored row always sums to 0 with variance 1."""
    values = data.to_numpy(dtype=np.float64)
    ranked = values if unscaled is None else unscaled.to_numpy(dtype=np.float64)
    return {
        "rows": [text(r) for r in data.index.get_level_values(-1)],
        "cols": [text(c) for c in data.columns],
        "values": _nan_to_none(values),
        "row_order": {"drawn": list(range(len(data))), "cluster": _cluster_leaves(values)},
        "col_order": {"drawn": list(range(data.shape[1])), "cluster": _cluster_leaves(values.T)},
        "row_scores": _row_scores(ranked),
        "rows_ranked_unscaled": unscaled is not None,
        "colorscale": _colorscale(cmap),
        "zmin": limits[0],
        "zmax": limits[1],
        "zmid": limits[2],
        "title": title or "",
        "filename": filename,
        "n_cells": None,
        "fraction": None,
        "test": None,
        "row_bars": [],
        "col_bars": [],
    }


def _from_bundle(bundle, cmap, title, filename) -> dict:
    """The page's data, from the same bundle the static figure draws."""
    unscaled = bundle.unscaled
    if np.array_equal(
        unscaled.to_numpy(dtype=np.float64), bundle.data.to_numpy(dtype=np.float64), equal_nan=True
    ):
        unscaled = None  # rows were not scaled
    d = _base(bundle.data, title, filename, cmap, bundle.limits, unscaled)
    d.update(row_title="gene", col_title="group", value_name=bundle.value_label.replace("\n", " "))
    if bundle.row_blocks is not None:
        d["row_bars"] = [_bar(bundle.row_block_name, list(bundle.row_blocks), bundle.row_palette)]
    d["col_bars"] = [
        _bar(k, [text(v) for v in bundle.col_meta[k]], bundle.colors[k])
        for k in bundle.col_meta.columns
    ]
    if bundle.n_cells is not None:
        d["n_cells"] = [int(n) for n in bundle.n_cells]
        d["fraction"] = _nan_to_none(bundle.fraction.to_numpy(dtype=np.float64))
    d["test"] = _test(getattr(bundle, "marks", None))
    if getattr(bundle, "layers", ()):
        raise ValueError(
            "interactive_heatmap draws whole dots: a dot plot with layout='split' (half "
            "dots) has no interactive view; draw it with layout='paired' (the same numbers, "
            "the datasets of a cluster side by side)."
        )
    if getattr(bundle, "layout", None) is not None:  # a dot plot's bundle
        means = bundle.unscaled.to_numpy(dtype=np.float64)
        d["dots"] = {"max_px": DOT_PX, "mean": _nan_to_none(means)}
    return d


def _test(marks) -> dict | None:
    """The significance test of a marked figure, for the hover: logfc and padj as text
    ("NA" where there is no test, e.g. in the reference's columns)."""
    if marks is None:
        return None

    def text(frame: pd.DataFrame, fmt: str) -> list:
        return [
            [format(v, fmt) if np.isfinite(v) else "NA" for v in row]
            for row in frame.to_numpy(dtype=np.float64)
        ]

    return {
        "logfc": text(marks.logfc, ".3f"),
        "padj": text(marks.pval_adj, ".3g"),
        "significant": marks.significant.to_numpy(dtype=bool).tolist(),
        "label": marks.label.replace("\n", ", "),
    }


def _from_correlation(plot: CorrelationPlot, title, filename) -> dict:
    p = plot.params
    d = _base(plot.data, title, filename, p["cmap"], (p["vmin"], p["vmax"], 0.0))
    d.update(row_title="variable", col_title="variable", value_name=LABELS[p["method"]])
    if isinstance(plot.data.index, pd.MultiIndex):
        groups = [text(g) for g in plot.data.index.get_level_values(0)]
        d["row_bars"] = [_bar(p["groupby"], groups, plot.group_colors or {})]
    return d


def _is_adata(value) -> bool:
    return hasattr(value, "obs") and hasattr(value, "var_names")


def _page(data: dict) -> str:
    """The page: user strings cleaned here, escaped for plotly by ``esc`` in the script."""
    import plotly.offline

    data = clean_strings(data)
    payload = (
        json.dumps(data, allow_nan=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )
    script = resources.files(__package__).joinpath("assets/interactive.js").read_text()
    options = "".join(f'<option value="{n}">top {n}</option>' for n in TOP_N)
    title = html_text(data["title"] or "sc_heatmaps interactive heatmap")
    return _TEMPLATE.format(
        title=title,
        plotly=plotly.offline.get_plotlyjs(),
        data=payload,
        app=script,
        top_options=options,
    )


def interactive_heatmap(
    plot_or_adata, path: str | Path | None = None, *, title: str | None = None, **options
):
    """An interactive heatmap in one self-contained HTML file that works offline.

    Zoom and pan, a tooltip on every cell (row, column, value; cells per
    group and fraction expressing for grouped heatmaps), reordering of rows
    and columns by drawn order, clustering, sum, variance or label, keeping the
    top N rows by sum or variance, category bars in the static figure's
    colours, search by row name, download of the current matrix as TSV, and
    PNG/SVG snapshots. Rows are ranked by the sum or variance of their values
    before row scaling (a z-scored row always sums to 0 with variance 1, so its
    rank would be noise), columns by the values drawn. Labels are always shown
    as text, never run as HTML nor read as plotly templates (``%{...}``), and
    control characters are removed (see :mod:`sc_heatmaps._text`). The TSV
    download quotes fields that hold a tab, a line break or a double quote, as
    pandas and spreadsheets expect.

    Parameters
    ----------
    plot_or_adata
        A plot from :func:`grouped_heatmap` or :func:`correlation_heatmap`, or an
        AnnData (then ``options`` are those of :func:`grouped_heatmap`).
    path
        Also write the page here (``.html``, atomically); the returned page's
        ``.path`` is then the file written.
    title
        Page and figure title.
    **options
        With an AnnData: the options of :func:`grouped_heatmap`, checked as it
        checks them (unknown names, types, bounds, ``vmin < vmax``, ``vcenter``
        between them). With a plot: none.

    Returns
    -------
    InteractiveHTML
        The page (a string, shown inline in a notebook), whatever the arguments;
        its ``.path`` is the file written, or ``None`` without ``path``.

    Examples
    --------
    >>> import sc_heatmaps as sch
    >>> page = sch.pl.interactive_heatmap(sch.datasets.example(), cluster_key="cluster",
    ...                                   dataset_key="dataset", n_genes=3)
    >>> page.startswith("<!DOCTYPE html>")
    True
    """
    filename = Path(path).stem if path is not None else "sc_heatmaps"
    if options and not _is_adata(plot_or_adata):
        raise TypeError(
            f"Unknown options {sorted(options)}: with a plot, interactive_heatmap takes only "
            "path and title (the plot's options were given when it was drawn)."
        )
    if isinstance(plot_or_adata, HeatmapPlot):
        plot = plot_or_adata
        data = _from_bundle(plot.bundle, plot.spec.cmap, title or plot.spec.title, filename)
    elif isinstance(plot_or_adata, CorrelationPlot):
        data = _from_correlation(plot_or_adata, title, filename)
    elif _is_adata(plot_or_adata):
        var_names = options.pop("var_names", None)
        groupby = options.pop("groupby", None)
        bundle = prepare(plot_or_adata, var_names, groupby, **options)
        cmap = options.get("cmap", GroupedHeatmapOptions.cmap)
        data = _from_bundle(bundle, cmap, title or options.get("title"), filename)
    else:
        raise TypeError(
            f"interactive_heatmap takes a grouped or correlation heatmap plot, or an AnnData; "
            f"got {type(plot_or_adata).__name__}."
        )
    page = InteractiveHTML(_page(data))
    if path is not None:
        from ..export import write_html

        page.path = write_html(page, path)
    return page


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<script>{plotly}</script>
<style>
body {{ font-family: system-ui, sans-serif; margin: 12px; }}
#sch-controls {{ display: flex; flex-wrap: wrap; gap: 12px; align-items: center;
  font-size: 13px; margin-bottom: 6px; }}
#sch-controls label {{ display: flex; gap: 4px; align-items: center; }}
#sch-search-status, #sch-shown {{ color: #444; }}
#sch-legend {{ display: flex; flex-wrap: wrap; gap: 14px; font-size: 12px; margin: 4px 0; }}
.sch-legend-group span {{ margin-left: 8px; white-space: nowrap; }}
.sch-legend-group i {{ display: inline-block; width: 10px; height: 10px; margin-right: 3px; }}
</style>
</head>
<body>
<div id="sch-controls">
  <label>Rows <select id="sch-row-order"><option value="drawn">as drawn</option>
    <option value="cluster">clustering</option><option value="sum">sum</option>
    <option value="variance">variance</option><option value="label">label</option></select></label>
  <label>Columns <select id="sch-col-order"><option value="drawn">as drawn</option>
    <option value="cluster">clustering</option><option value="sum">sum</option>
    <option value="variance">variance</option><option value="label">label</option></select></label>
  <label>Keep <select id="sch-top-n"><option value="all">all rows</option>{top_options}</select>
    by <select id="sch-top-by"><option value="sum">sum</option>
    <option value="variance">variance</option></select></label>
  <span id="sch-shown"></span>
  <label>Search <input id="sch-search" type="search" placeholder="gene name"></label>
  <span id="sch-search-status" role="status"></span>
  <button id="sch-download-tsv" type="button">Download TSV</button>
  <button id="sch-png" type="button">PNG</button>
  <button id="sch-svg" type="button">SVG</button>
</div>
<div id="sch-legend"></div>
<div id="sch-heatmap"></div>
<script id="sch-data" type="application/json">{data}</script>
<script>{app}</script>
</body>
</html>
"""
