"""Options written once: signature, --kwargs and the JSON sidecar derive from one dataclass;
one bundle feeds the static figure and the interactive page; robust colour limits."""

from __future__ import annotations

import dataclasses
import inspect
import json
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest

import sc_heatmaps as sch
from sc_heatmaps._dotplot_options import DotPlotOptions
from sc_heatmaps._heatmap_options import (
    CellHeatmapOptions,
    CorrelationHeatmapOptions,
    DualExpressionOptions,
    GroupedHeatmapOptions,
    MatrixHeatmapOptions,
)
from sc_heatmaps.cli import _args

CASES = [
    (sch.pl.grouped_heatmap, GroupedHeatmapOptions, ["adata", "var_names", "groupby"]),
    (sch.pl.cell_heatmap, CellHeatmapOptions, ["adata", "var_names", "groupby"]),
    (sch.pl.matrix_heatmap, MatrixHeatmapOptions, ["frame"]),
    (sch.pl.correlation_heatmap, CorrelationHeatmapOptions, ["adata"]),
    (sch.pl.dual_expression, DualExpressionOptions, ["adata", "gene_x", "gene_y"]),
    (sch.pl.dotplot, DotPlotOptions, ["adata", "var_names", "groupby"]),
]


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.mark.parametrize(("func", "options", "leading"), CASES)
def test_signature_is_the_options_class(func, options, leading):
    params = inspect.signature(func).parameters
    keyword = {n: p for n, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
    fields = {f.name: f.default for f in dataclasses.fields(options)}
    assert list(params)[: len(leading)] == leading
    assert list(keyword) == list(fields)
    assert {n: p.default for n, p in keyword.items()} == fields


def test_options_are_frozen_and_checked():
    opts = GroupedHeatmapOptions.from_kwargs({"scale": "minmax"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.scale = None
    with pytest.raises(TypeError, match=r"Unknown options \['scael'\].*'scale'"):
        GroupedHeatmapOptions.from_kwargs({"scael": "zscore"})
    with pytest.raises(ValueError, match=r"stat.*'mode'.*mean"):
        GroupedHeatmapOptions.from_kwargs({"stat": "mode"})


def test_public_call_refuses_unknown_and_bad_options(example):
    with pytest.raises(TypeError, match="Unknown options"):
        sch.pl.grouped_heatmap(example, ["CD3E"], "cluster", colour="red")
    with pytest.raises(ValueError, match="labels"):
        sch.pl.grouped_heatmap(example, ["CD3E"], "cluster", labels="some")


def test_cli_kwargs_derive_from_the_options():
    keys = set(_args.kwargs_keys())
    hints = dataclasses.fields(GroupedHeatmapOptions)
    # a table (significance) is not text: the CLI cannot set it, nor its alpha
    not_text = ("clusters", "markers_kws", "significance", "alpha")
    settable = {f.name for f in hints if f.name not in not_text}
    assert keys == settable | {"center"}
    parsed = _args.kwargs("scale:none;figsize:8x6;labels:x;center:1;cluster_rows:yes;n_genes:3")
    assert parsed == {
        "scale": None,
        "figsize": (8.0, 6.0),
        "labels": "x",
        "vcenter": 1.0,
        "cluster_rows": True,
        "n_genes": 3,
    }
    with pytest.raises(_args.UsageError, match=r"labels.*'sideways'.*auto, all, x, y, none"):
        _args.kwargs("labels:sideways")
    with pytest.raises(_args.UsageError, match=r"n_genes.*whole number"):
        _args.kwargs("n_genes:2.5")
    assert set(_args.kwargs_keys(MatrixHeatmapOptions)) >= {"value_name", "scale", "center"}


def test_sidecar_records_every_option(example, tmp_path):
    plot = sch.pl.grouped_heatmap(
        example, ["CD3E", "MS4A1", "LYZ"], cluster_key="cluster", scale="minmax", title="t"
    )
    written = plot.savefig(tmp_path / "h.png", dpi=50)
    params = json.loads(next(p for p in written if p.suffix == ".json").read_text())
    params = params.get("params", params)
    for field in dataclasses.fields(GroupedHeatmapOptions):
        assert field.name in params, field.name
    assert params["scale"] == "minmax"
    assert params["title"] == "t"
    assert params["function"] == "sc_heatmaps.pl.grouped_heatmap"


def test_interactive_page_reads_the_same_bundle(example, tmp_path):
    plot = sch.pl.grouped_heatmap(example, cluster_key="cluster", dataset_key="dataset", n_genes=2)
    page = sch.pl.interactive_heatmap(plot, tmp_path / "p.html")
    inline = sch.pl.interactive_heatmap(plot)
    assert type(page) is type(inline) is sch.pl.InteractiveHTML  # one return type
    assert page.path == tmp_path / "p.html" and inline.path is None
    payload = json.loads(
        re.search(r'<script id="sch-data" type="application/json">(.*?)</script>', page, re.S)
        .group(1)
        .encode()
        .decode("unicode_escape")
    )
    drawn = plot.bundle.data.to_numpy(dtype=float)
    assert np.allclose(np.array(payload["values"], dtype=float), drawn, equal_nan=True)
    registry = sch.get.category_colors(example, "cluster")
    bar = next(b for b in payload["col_bars"] if b["name"] == "cluster")
    assert dict(zip(bar["categories"], bar["colors"], strict=True)) == {
        c: registry[c] for c in bar["categories"]
    }
    assert plot.spec.col_palettes["cluster"] == {
        c: registry[c] for c in plot.spec.col_palettes["cluster"]
    }


def test_heatmap_plot_fields_are_declared(example):
    names = {f.name for f in dataclasses.fields(sch.pl.HeatmapPlot)}
    assert {"figure", "axes", "data", "params", "bundle", "spec", "columns"} <= names
    plot = sch.pl.cell_heatmap(
        example, ["CD3E", "LYZ"], cluster_key="cluster", max_cells_per_group=5
    )
    assert plot.columns is not None and len(plot.columns) == plot.data.shape[1]


def test_zscore_limits_are_robust(example):
    """One extreme group must not set the colour range: z-scores are drawn at +-2.5."""
    genes = ["CD3E", "MS4A1", "LYZ", "NKG7", "CD14"]
    plot = sch.pl.grouped_heatmap(example, genes, ["dataset", "cluster"])
    values = plot.bundle.unscaled.to_numpy(dtype=float)
    z = (values - np.nanmean(values, axis=1, keepdims=True)) / np.nanstd(
        values, axis=1, keepdims=True
    )
    top = np.nanmax(np.abs(z))
    assert top > 2.5  # 24 groups: some gene has a group beyond 2.5 SD
    assert plot.params["vmin"] == -2.5 and plot.params["vmax"] == 2.5
    user = sch.pl.grouped_heatmap(example, genes, ["dataset", "cluster"], vmin=-4, vmax=4)
    assert (user.params["vmin"], user.params["vmax"]) == (-4, 4)


def test_unscaled_limits_stop_at_the_99th_percentile(example):
    plot = sch.pl.grouped_heatmap(
        example, ["CD3E", "MS4A1", "LYZ", "NKG7"], ["dataset", "cluster"], scale=None
    )
    values = plot.data.to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    assert plot.params["vmin"] == pytest.approx(finite.min())
    assert plot.params["vmax"] == pytest.approx(np.percentile(finite, 99))


def test_correlation_page_colours_groups_as_the_registry(example):
    corr = sch.pl.correlation_heatmap(example, genes=["ISG15", "IFI6", "CD3E"], groupby="dataset")
    payload = json.loads(
        re.search(
            r'<script id="sch-data" type="application/json">(.*?)</script>',
            sch.pl.interactive_heatmap(corr),
            re.S,
        )
        .group(1)
        .encode()
        .decode("unicode_escape")
    )
    bar = payload["row_bars"][0]
    registry = sch.get.category_colors(example, "dataset")
    assert dict(zip(bar["categories"], bar["colors"], strict=True)) == registry
    assert corr.params["method"] == "pearson" and corr.params["min_nonzero"] == 10
