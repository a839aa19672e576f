"""Options are checked from their declared types and bounds, once, when an options object
is built: the same refusal, naming the option, the value and what is allowed, in the
Python API, the command line (exit 2, before the file is read) and the app."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import sys
import traceback
import types
import typing

import matplotlib.pyplot as plt
import numpy as np
import pytest
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matplotlib.colors import LinearSegmentedColormap
from PIL import Image

import sc_heatmaps as sch
from sc_heatmaps._heatmap_options import GroupedHeatmapOptions
from sc_heatmaps._option_checks import OptionError
from sc_heatmaps.cli import console_main

pytestmark = pytest.mark.filterwarnings(
    r"ignore:dual_expression\(dataset_key=\) is deprecated:DeprecationWarning"
)
EXAMPLE_FILE = ROOT / "data" / "example.h5ad"
NAN = float("nan")


@pytest.fixture(scope="module")
def small():
    """The bundled example, 40 cells per (dataset, cluster) at most, 60 genes."""
    adata = sch.datasets.example()
    rng = np.random.default_rng(0)
    keep = []
    for _, idx in adata.obs.groupby(["dataset", "cluster"], observed=True).indices.items():
        keep += list(rng.choice(idx, size=min(len(idx), 40), replace=False))
    genes = ["ISG15", "IFI6", "MX1", "CD3E", "MS4A1", "CD79A", "NKG7", "GNLY", *adata.var_names]
    genes = list(dict.fromkeys(genes))[:60]
    return adata[np.sort(keep), genes].copy()


FIGURES = {
    "grouped": sch.pl.grouped_heatmap,
    "cell": sch.pl.cell_heatmap,
    "matrix": sch.pl.matrix_heatmap,
    "corr": sch.pl.correlation_heatmap,
    "dual": sch.pl.dual_expression,
    "diff": sch.pl.dataset_differences_heatmap,
    "dot": sch.pl.dotplot,
}

# ---- the cases found by hand: each refused by name, not deep in another library ---------

REFUSED = {
    "dual jitter nan": ("dual", {"jitter": NAN}, "jitter"),
    "dual negative seed": ("dual", {"random_state": -1}, "random_state"),
    "dual negative figsize": ("dual", {"figsize": (-1, 5)}, "figsize"),
    "dual zero figsize": ("dual", {"figsize": (0, 0)}, "figsize"),
    "dual ax as text": ("dual", {"ax": "left"}, "ax"),
    "dual palette as a colormap name": ("dual", {"palette": "viridis"}, "palette"),
    "cell max_cells_per_group float": ("cell", {"max_cells_per_group": 1.5}, "max_cells_per_group"),
    "cell negative width": ("cell", {"width": -1}, "width"),
    "cell nan width": ("cell", {"width": NAN}, "width"),
    "differences n_genes float": ("diff", {"n_genes": 1.5}, "n_genes"),
    "differences bad palette colour": (
        "diff",
        {"palettes": {"cluster": {"B": "notacolor"}}},
        "palettes",
    ),
    "differences vmax zero": ("diff", {"vmax": 0}, "vmax"),
    "differences min_cells zero": ("diff", {"min_cells": 0}, "min_cells"),
    "differences negative min_counts": ("diff", {"min_counts": -1}, "min_counts"),
    "differences n_cpus float": ("diff", {"n_cpus": 2.0}, "n_cpus"),
    "differences shrink as text": ("diff", {"shrink": "yes"}, "shrink"),
    "grouped figsize of one number": ("grouped", {"figsize": (8,)}, "figsize"),
    "grouped figsize as text": ("grouped", {"figsize": "8x6"}, "figsize"),
    "grouped cluster_rows as text": ("grouped", {"cluster_rows": "false"}, "cluster_rows"),
    "grouped n_genes bool": ("grouped", {"n_genes": True}, "n_genes"),
    "grouped vmin above vmax": ("grouped", {"vmin": 2, "vmax": 1}, "vmin"),
    "grouped vcenter outside": ("grouped", {"vmin": 0, "vmax": 1, "vcenter": 1}, "vcenter"),
    "correlation vmin above vmax": ("corr", {"vmin": 0.5, "vmax": -0.5}, "vmin"),
    "correlation min_nonzero negative": ("corr", {"min_nonzero": -1}, "min_nonzero"),
    "matrix cmap unknown": ("matrix", {"cmap": "nope"}, "cmap"),
    "dot n_genes negative": ("dot", {"n_genes": -5}, "n_genes"),
    "dot dot_max above 1": ("dot", {"dot_max": 1.5}, "dot_max"),
    "dot smallest_dot negative": ("dot", {"smallest_dot": -1.0}, "smallest_dot"),
    "dot alpha zero": ("dot", {"alpha": 0.0}, "alpha"),
}


def _call(kind: str, adata, **options):
    """Draw figure ``kind`` on ``adata``; ``options`` go over a small valid base."""
    leading, base = {
        "dual": (("ISG15", "IFI6"), {}),
        "cell": ((["ISG15", "CD3E"], "cluster"), {}),
        "grouped": ((["ISG15", "CD3E"], "cluster"), {}),
        "corr": ((), {"genes": ["ISG15", "IFI6"]}),
        "matrix": ((), {}),
        "diff": ((), {"dataset_key": "dataset", "cluster_key": "cluster"}),
        "dot": ((["ISG15", "CD3E"],), {"dataset_key": "dataset", "cluster_key": "cluster"}),
    }[kind]
    data = adata.to_df().iloc[:4, :3] if kind == "matrix" else adata
    return FIGURES[kind](data, *leading, **{**base, **options})


@pytest.mark.parametrize("case", list(REFUSED))
def test_bad_option_is_refused_by_name_before_any_work(small, case):
    kind, options, name = REFUSED[case]
    with pytest.raises(ValueError, match=rf"^option '{name}' = .*: must be ") as info:
        _call(kind, small, **options)
    assert isinstance(info.value, OptionError) and isinstance(info.value, TypeError)
    # raised while the options were built, in the options machinery
    assert (
        traceback.extract_tb(info.value.__traceback__)[-1].filename.endswith(
            os.path.join("sc_heatmaps", "_option_checks.py")
        )
        or "_options.py" in traceback.extract_tb(info.value.__traceback__)[-1].filename
    )


def test_message_says_the_value_and_what_is_allowed():
    with pytest.raises(ValueError) as info:
        GroupedHeatmapOptions(n_genes=-5)
    assert str(info.value) == "option 'n_genes' = -5: must be an integer >= 1"
    with pytest.raises(ValueError) as info:
        GroupedHeatmapOptions(cluster_rows="false")
    assert str(info.value) == "option 'cluster_rows' = 'false': must be True or False"
    from sc_heatmaps.pl._differences_heatmap import DifferencesHeatmapOptions

    with pytest.raises(ValueError, match=r"'notacolor' is not a colour"):
        DifferencesHeatmapOptions(palettes={"cluster": {"B": "red", "T": "notacolor"}})


def test_direct_construction_is_checked_like_keywords():
    with pytest.raises(ValueError, match=r"option 'figsize' = \(8,\)"):
        GroupedHeatmapOptions(figsize=(8,))


def test_numpy_scalars_lists_and_colormap_objects_are_accepted():
    cmap = LinearSegmentedColormap.from_list("mine", ["white", "red"])
    opts = GroupedHeatmapOptions(
        n_genes=np.int64(3), figsize=[np.float32(4), 3], vmin=np.float64(-1), cmap=cmap
    )
    assert type(opts.n_genes) is int and opts.n_genes == 3
    assert opts.figsize == (4.0, 3.0) and type(opts.vmin) is float
    assert opts.cmap is cmap
    assert GroupedHeatmapOptions(cmap="blue_white_red").cmap == "blue_white_red"


def test_a_names_string_is_a_comma_separated_list(small):
    """``genes="ISG15"`` is one gene (it was split into the letters I, S, G, 1, 5)."""
    one = sch.get.correlation(
        small, rows="genes", cols="obs", genes="ISG15", obs_keys="total_counts"
    )
    assert list(one.matrices[next(iter(one.matrices))].index) == ["ISG15"]
    x = small[:, "ISG15"].X
    x = np.asarray(x.todense() if hasattr(x, "todense") else x).ravel()
    expected = np.corrcoef(x, small.obs["total_counts"].to_numpy(np.float64))[0, 1]
    got = next(iter(one.matrices.values())).loc["ISG15", "total_counts"]
    assert got == pytest.approx(expected, abs=1e-6)
    two = sch.get.correlation(small, genes="ISG15,IFI6")
    assert list(next(iter(two.matrices.values())).index) == ["ISG15", "IFI6"]
    from sc_heatmaps._heatmap_options import CorrelationHeatmapOptions

    assert CorrelationHeatmapOptions(genes="ISG15").genes == ["ISG15"]


def test_a_gene_block_given_as_one_string_is_one_gene(small):
    plot = sch.pl.grouped_heatmap(small, {"B": "CD79A", "T": ["CD3E"]}, "cluster")
    assert list(plot.data.index) == [("B", "CD79A"), ("T", "CD3E")]
    grouped = sch.get.grouped_expression(small, {"B": "CD79A"}, "cluster")
    assert list(grouped.matrix.index) == ["CD79A"]


def test_integrate_takes_one_covariate_as_a_string(small):
    one, listed = small.copy(), small.copy()
    sch.pp.integrate(one, "dataset", covariates="cluster")
    sch.pp.integrate(listed, "dataset", covariates=["cluster"])
    layer = "integrated"
    np.testing.assert_allclose(np.asarray(one.layers[layer]), np.asarray(listed.layers[layer]))


def test_interactive_heatmap_checks_its_options_like_grouped_heatmap(small):
    with pytest.raises(ValueError, match=r"option 'vmin' = 2.0: must be smaller than vmax"):
        sch.pl.interactive_heatmap(small, var_names=["ISG15"], groupby="cluster", vmin=2, vmax=1)
    with pytest.raises(ValueError, match=r"option 'vcenter' = 5.0: must be strictly between"):
        sch.pl.interactive_heatmap(
            small, var_names=["ISG15"], groupby="cluster", vmin=0, vmax=1, vcenter=5
        )
    with pytest.raises(TypeError, match=r"Unknown options \['colour'\]"):
        sch.pl.interactive_heatmap(small, var_names=["ISG15"], groupby="cluster", colour="red")
    plot = sch.pl.grouped_heatmap(small, ["ISG15"], "cluster")
    with pytest.raises(TypeError, match=r"Unknown options \['vmin'\]: with a plot"):
        sch.pl.interactive_heatmap(plot, vmin=3)


# ---- export: a documented minimum DPI, the same in the API, the command line and the app --


@pytest.mark.parametrize("fmt", ["png", "tif", "jpg"])
def test_export_refuses_dpi_below_the_minimum_and_writes_at_it(small, tmp_path, fmt):
    from sc_heatmaps._limits import MIN_DPI

    plot = sch.pl.grouped_heatmap(small, ["ISG15", "CD3E"], "cluster")
    with pytest.raises(ValueError, match=r"option 'dpi' = 5: must be a number >= 10 dots"):
        plot.savefig(tmp_path / f"low.{fmt}", dpi=5)
    assert list(tmp_path.iterdir()) == []
    written = plot.savefig(tmp_path / f"min.{fmt}", dpi=MIN_DPI, sidecars=False)
    with Image.open(written[0]) as image:
        width, height = plot.figure.get_size_inches() * MIN_DPI
        assert abs(image.size[0] - width) <= 1 and abs(image.size[1] - height) <= 1


# ---- the command line: exit 2 before the file is read -----------------------------------


def _cli(capsys, monkeypatch, *args) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["sc-heatmaps", *map(str, args)])
    with pytest.raises(SystemExit) as info:
        console_main()
    return info.value.code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("command", "kwargs", "message"),
    [
        ("heatmap", "n_genes:-5", r"option 'n_genes' = -5: must be an integer >= 1"),
        ("heatmap", "vmin:2;vmax:1", r"option 'vmin' = 2.0: must be smaller than vmax = 1.0"),
        ("heatmap", "cmap:nope", r"option 'cmap' = 'nope'"),
        ("interactive", "vmin:2;vmax:1", r"option 'vmin' = 2.0"),
        ("interactive", "vmin:0;vmax:1;center:3", r"option 'vcenter' = 3.0"),
    ],
)
def test_cli_refuses_bad_kwargs_before_reading(
    capsys, monkeypatch, tmp_path, command, kwargs, message
):
    missing = tmp_path / "never_read.h5ad"  # reading it would fail with exit 1
    code, err = _cli(
        capsys, monkeypatch, command, "-i", missing, "-x", "cluster", "--cluster-key", "cluster",
        "--kwargs", kwargs, "-o", tmp_path / "out",
    )  # fmt: skip
    assert code == 2, err
    assert f"sc-heatmaps {command}: error: " in err
    assert re.search(message, err)


def test_cli_refuses_a_port_out_of_range(capsys, monkeypatch):
    code, err = _cli(capsys, monkeypatch, "app", EXAMPLE_FILE, "--port", "99999")
    assert code == 2
    assert "--port: '99999' is out of range; give a port from 0 to 65535" in err


def test_cli_refuses_dpi_below_the_minimum(capsys, monkeypatch, tmp_path):
    code, err = _cli(
        capsys, monkeypatch, "heatmap", "-i", EXAMPLE_FILE, "-x", "cluster", "-y", "CD3E",
        "--dpi", "9", "-o", tmp_path / "x",
    )  # fmt: skip
    assert code == 2 and "from 10 to 2400" in err


def test_cli_obs_value_heatmap_takes_kwargs_for_its_flags(capsys, monkeypatch, tmp_path):
    """``-v total_counts --kwargs cluster_rows:true`` clusters the rows (it crashed with
    "got multiple values for keyword argument"); a flag and a contradicting --kwargs
    key are refused by name."""
    base = ["heatmap", "-i", EXAMPLE_FILE, "-x", "dataset", "-y", "cluster", "-v",
            "total_counts", "-p", "median"]  # fmt: skip
    monkeypatch.setattr(sys, "argv", ["sc-heatmaps", *map(str, base)])
    code, err = _cli(capsys, monkeypatch, *base, "--kwargs", "cluster_rows:true", "-o",
                     tmp_path / "fig.png")  # fmt: skip
    assert code == 0, err
    params = json.loads((tmp_path / "fig.json").read_text())
    assert params["cluster_rows"] is True
    code, err = _cli(capsys, monkeypatch, *base, "-t", "A", "--kwargs", "title:B", "-o",
                     tmp_path / "fig2.png")  # fmt: skip
    assert code == 2 and "--kwargs title:B contradicts" in err


# ---- the app: the same checks and messages -----------------------------------------------


class _Inputs:
    def __init__(self, **values):
        self._values = values

    def __getattr__(self, name):
        return lambda: self._values.get(name)


APP_HEATMAP = dict(
    cluster_key="cluster", dataset_key="dataset", use_markers=True, marker_kind="top",
    genes=[], n_genes=5, group_by="cluster", source="RNA", clusters=[], stat="mean",
    scale="none", cmap="viridis", vmin="", vmax="", title="",
)  # fmt: skip


@pytest.mark.parametrize(
    ("controls", "options"),
    [
        ({"n_genes": 1.5}, {"n_genes": 1.5}),
        ({"n_genes": 0}, {"n_genes": 0}),
        ({"vmin": "2", "vmax": "1"}, {"vmin": 2.0, "vmax": 1.0}),
    ],
)
def test_app_shows_the_api_message(small, tmp_path, controls, options):
    from sc_heatmaps.app import _figures, load_state
    from sc_heatmaps.app._server import _attempt, heatmap_call

    path = tmp_path / "small.h5ad"
    small.write_h5ad(path)
    state = load_state([path])
    call, shown = _attempt(lambda: heatmap_call(_Inputs(**{**APP_HEATMAP, **controls}), state))
    if call is not None:
        _, shown = _attempt(lambda: _figures.display_png(state, call))
    with pytest.raises(ValueError) as api:
        sch.pl.grouped_heatmap(small, cluster_key="cluster", groupby="cluster", **options)
    assert shown == str(api.value) and shown.startswith("option ")


def test_app_refuses_dpi_below_the_minimum():
    from sc_heatmaps._limits import check_dpi

    with pytest.raises(ValueError, match=r"option 'dpi' = 5: must be a number >= 10"):
        check_dpi(5)
    from sc_heatmaps.app._ui import _export

    class _UI:
        def __getattr__(self, name):
            return lambda *a, **k: (name, a, k)

    numeric = [p for p in _export(_UI(), "heatmap")[1] if p[0] == "input_numeric"]
    assert numeric[0][2]["min"] == 10


# ---- property: random option values are drawn, or refused by name ----------------------

# examples per figure kind: the test tier's (tests/conftest.py: 10 fast, 100 with
# --run-exhaustive), as for tests/test_fuzz.py
EXAMPLES = int(os.environ.get("SC_HEATMAPS_FUZZ_EXAMPLES", "10"))
# fields naming obs keys, layers, genes or text: a valid value, or a value of a wrong type
FIXED = {
    "cluster_key": "cluster", "dataset_key": "dataset", "color": "dataset", "split_by": None,
    "source": "RNA", "clusters": None, "genes": None, "obs_keys": None, "groupby": None,
    "rows": "genes", "cols": "genes", "filter": None, "gene_symbols": None, "title": None,
    "reference": None, "sample_key": None, "markers_kws": None, "value_name": "value",
    "significance": None, "layer": None, "design_covariates": None,
}  # fmt: skip
PALETTES = {  # (valid, invalid)
    "palette": ([None, {"ctrl": "red", "stim_IFN": "blue", "stim_LPS": "#00ff00"}],
                ["viridis", ["notacolor"], {"ctrl": 3}]),
    "palettes": ([None, {"cluster": {"B": "red"}}],
                 [{"cluster": {"B": "notacolor"}}, {"cluster": "red"}, "viridis"]),
}  # fmt: skip
NOT = object()  # no invalid value of this kind


def _bounds(meta):
    lo = meta.get("ge", meta.get("gt", -5.0))
    hi = min(meta.get("le", meta.get("lt", lo + 20)), lo + 20)
    return lo, hi


def _valid(hint, meta):
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        none = [st.none()] if type(None) in args else []
        return st.one_of(*none, *(_valid(a, meta) for a in args if a is not type(None)))
    if origin is typing.Literal:
        return st.sampled_from(typing.get_args(hint))
    if meta.get("kind") == "figsize" or origin is tuple:
        return st.tuples(st.floats(0.5, 12), st.floats(0.5, 12))
    if meta.get("kind") == "cmap":
        colormap = LinearSegmentedColormap.from_list("mine", ["white", "red"])
        return st.sampled_from(["viridis", "RdBu_r", "blue_white_red", colormap])
    if hint is bool:
        return st.booleans()
    lo, hi = _bounds(meta)
    if hint is int:
        return st.integers(int(np.ceil(lo)), int(hi))
    if hint is float:
        return st.floats(lo, hi, exclude_min="gt" in meta, exclude_max="lt" in meta)
    raise AssertionError(f"no valid values for {hint} {meta}")


def _invalid(hint, meta) -> list:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        values = [v for a in args for v in _invalid(a, meta)]
        literals = [
            c for a in args if typing.get_origin(a) is typing.Literal for c in typing.get_args(a)
        ]
        return [v for v in values if v not in literals or isinstance(v, float)]
    if origin is typing.Literal:
        return ["nonsense", 3]
    if meta.get("kind") == "figsize" or origin is tuple:
        return [(8,), (0, 5), (-1, 3), "8x6", (NAN, 4), (1, 2, 3)]
    if meta.get("kind") == "cmap":
        return ["nope", 3]
    if hint is bool:
        return ["false", 1, None]
    outside = [meta[k] + d for k, d in (("ge", -1), ("gt", 0), ("le", 1), ("lt", 0)) if k in meta]
    return [*outside, NAN, float("inf"), "3", True] + ([2.5] if hint is int else [])


def _field_values(options_cls) -> dict:
    """``{field: (valid strategy, [invalid values])}``."""
    hints = typing.get_type_hints(options_cls)
    out = {}
    for f in dataclasses.fields(options_cls):
        if f.name in PALETTES:
            valid, invalid = PALETTES[f.name]
            out[f.name] = (st.sampled_from(valid), invalid)
        elif f.name == "ax":
            out[f.name] = (st.none(), ["left", 3])
        elif f.name in FIXED and typing.get_origin(hints[f.name]) is not typing.Literal:
            # (a name shared with a choice of another figure, e.g. the dot plot's color)
            out[f.name] = (st.just(FIXED[f.name]), [3])
        else:
            out[f.name] = (_valid(hints[f.name], f.metadata), _invalid(hints[f.name], f.metadata))
    return out


def _limits_in_order(options: dict) -> None:
    """Valid colour limits together: vmin < vcenter < vmax (those given)."""
    given = [n for n in ("vmin", "vcenter", "vmax") if options.get(n) is not None]
    values = sorted(options[n] for n in given)
    if len(set(values)) < len(values):
        values = [values[0] + i for i in range(len(values))]
    options.update(zip(given, values, strict=True))


@st.composite
def _options(draw, options_cls):
    """Valid values for every field, and at most one field given an invalid value."""
    fields = _field_values(options_cls)
    options = {name: draw(valid) for name, (valid, _) in fields.items()}
    _limits_in_order(options)
    broken = draw(st.one_of(st.none(), st.sampled_from(list(fields))))  # None: about half
    if broken is not None and fields[broken][1]:
        options[broken] = draw(st.sampled_from(fields[broken][1]))
    if options_cls is FIGURES["dot"].options:
        _dot_options_together(options, broken)
    return broken, options


def _dot_options_together(options: dict, broken) -> None:
    """Valid dot-plot options together (the fields not broken): dot_min < dot_max,
    largest_dot > smallest_dot, color="logfc" with a reference and no scale, and no
    layout="split" (the data has three datasets; split takes two)."""
    fixes = {}
    if _number_pair(options, "dot_min", "dot_max") and not options["dot_min"] < options["dot_max"]:
        fixes.update(dot_min=0.0, dot_max=1.0)
    if _number_pair(options, "smallest_dot", "largest_dot") and not (
        options["smallest_dot"] < options["largest_dot"]
    ):
        fixes.update(largest_dot=None)
    if options["color"] == "logfc":
        fixes.update(reference="ctrl", scale=None)
    if options["layout"] == "split":
        fixes.update(layout="paired")
    options.update({k: v for k, v in fixes.items() if k != broken})


def _number_pair(options: dict, *names: str) -> bool:
    return all(
        isinstance(options[n], int | float) and not isinstance(options[n], bool) for n in names
    )


LIMITED = {  # keep each example fast: few genes, few cells drawn
    "grouped": {"n_genes": 3},
    "cell": {"n_genes": 3, "max_cells_per_group": 20},
    "diff": {"n_genes": 3},
    "dot": {"n_genes": 3},
}
VALUE_OPTIONS = ("vmin", "vmax", "vcenter")  # refused together (vmin < vcenter < vmax)
# the differences heatmap's pseudobulk-only options: with a cell-level method the tool
# refuses any but their defaults (by name); drawn examples keep the defaults. With
# method="pseudobulk" the example (no sample key, logged values) is refused by name.
PSEUDOBULK_ONLY = {"min_cells": 10, "min_counts": 1000, "shrink": False, "n_cpus": 1}


def _check_one(kind, adata, broken, options) -> str:
    """Draw; a refusal must come from sc_heatmaps and name the broken option (or, with
    none broken, some option). Returns "drawn" or "refused"."""
    try:
        plot = _call(kind, adata, **options)
    except (ValueError, TypeError, KeyError) as err:
        text = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
        where = traceback.extract_tb(err.__traceback__)[-1].filename
        assert f"{os.sep}sc_heatmaps{os.sep}" in where, f"raised in {where}: {text}"
        named = [n for n in options if re.search(rf"\b{n}\b", text)]
        assert named, f"{type(err).__name__} names no option: {text}"
        if broken is not None and not set(named) & set(VALUE_OPTIONS):
            assert broken in named, f"{broken}={options[broken]!r} broken, but: {text}"
        return "refused"
    else:
        assert broken is None, f"{broken}={options[broken]!r} was accepted"
        # drawn: a figure (a dual plot whose threshold leaves no cell draws its panels
        # with n = 0, as designed: tests/test_fuzz.py)
        assert plot.figure is not None and (len(plot.data) or kind == "dual")
        return "drawn"
    finally:
        plt.close("all")


@pytest.mark.parametrize("kind", list(FIGURES))
def test_random_options_are_drawn_or_refused_by_name(small, kind):
    outcomes = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(drawn=_options(FIGURES[kind].options))
    def check(drawn):
        broken, options = drawn
        for name, limit in LIMITED.get(kind, {}).items():
            value = options.get(name)
            if name != broken and isinstance(value, int) and value > limit:
                options[name] = limit
        if kind == "diff" and options.get("method") != "pseudobulk":
            options.update({k: v for k, v in PSEUDOBULK_ONLY.items() if k != broken})
        outcomes.append(_check_one(kind, small, broken, options))

    check()
    assert {"drawn", "refused"} <= set(outcomes)  # the draws reach both outcomes
