"""A figure kind is one registry entry: the command line and the app derive from it.

The kind registered here lives only in this module (an options class, a bundle step, a
drawing step and a thin public function): registering it must give it an
``sc-heatmaps`` subcommand with its own flag, and a switch in the app's heatmap tab that
draws it through its own steps, without any other file knowing it.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass, fields
from typing import Literal

import pytest
from conftest import ROOT

from sc_heatmaps._heatmap_options import GroupedHeatmapOptions
from sc_heatmaps._kinds import KINDS, FigureKind, register
from sc_heatmaps._options import takes_options

EXAMPLE = ROOT / "data" / "example.h5ad"
TINTS = {"greens": "Greens", "purples": "Purples"}
STEPS: list[str] = []  # the steps of the throw-away kind, in the order they ran


@dataclass(frozen=True)
class TintedOptions(GroupedHeatmapOptions):
    """The grouped heatmap's options and one of its own."""

    tint: Literal["greens", "purples"] = "greens"


def tinted_bundle(adata, var_names, groupby, opts, *, expression=None, find_markers=None):
    from sc_heatmaps.get._bundle import grouped_bundle

    STEPS.append("bundle")
    return grouped_bundle(
        adata, var_names, groupby, opts, expression=expression, find_markers=find_markers
    )


def draw_tinted(bundle, opts):
    from sc_heatmaps.pl._draw import draw_bundle

    STEPS.append("draw")
    return draw_bundle(bundle, opts.replace(cmap=TINTS[opts.tint]), "tests.tinted")


@takes_options(TintedOptions, ("adata", "var_names", "groupby"))
def tinted(adata, var_names=None, groupby=None, *, opts):
    return draw_tinted(tinted_bundle(adata, var_names, groupby, opts), opts)


@pytest.fixture
def tinted_kind():
    kind = register(
        FigureKind(
            name="tinted",
            function=tinted,
            options=TintedOptions,
            bundle=tinted_bundle,
            draw=draw_tinted,
            command="tinted",
            summary="a heatmap in one hue",
            example="sc-heatmaps tinted -i data.h5ad --cluster-key cluster --tint purples",
            label="Tinted heatmap",
            flags=(("tint", "the hue of the colour scale"),),
        )
    )
    STEPS.clear()
    yield kind
    del KINDS["tinted"]


def test_registered_kind_is_a_subcommand_with_its_own_flag(tinted_kind, tmp_path, capsys):
    from sc_heatmaps.cli import main
    from sc_heatmaps.cli._main import build_parser

    help_text = build_parser()._subparsers._group_actions[0].choices["tinted"].format_help()
    assert "a heatmap in one hue" in help_text and "--tint {greens,purples}" in help_text
    assert "sc-heatmaps tinted -i data.h5ad" in help_text
    out = tmp_path / "tinted.png"
    argv = ["tinted", "-i", str(EXAMPLE), "--cluster-key", "cluster", "--dataset-key", "dataset"]
    argv += ["-y", "CD3E,LYZ", "--tint", "purples", "-o", str(out), "--dpi", "40"]
    assert main(argv) == 0
    assert STEPS == ["bundle", "draw"]
    written = json.loads(out.with_suffix(".json").read_text())
    assert (written["function"], written["tint"], written["cmap"]) == (
        "tests.tinted",
        "purples",
        "Purples",
    )
    # its --kwargs keys derive from its options, and a bad choice is a usage error
    assert main([*argv[:-4], "--kwargs", "tint:red", "-o", str(out)]) == 2
    assert "'red' is not one of greens, purples" in capsys.readouterr().err


def test_registered_kind_is_a_switch_of_the_app_drawn_by_its_steps(tinted_kind):
    pytest.importorskip("shiny")
    from test_app import HEATMAP_INPUTS, _Inputs

    from sc_heatmaps.app import _figures, load_state
    from sc_heatmaps.app._server import heatmap_call
    from sc_heatmaps.app._ui import build_ui

    state = load_state([EXAMPLE])
    page = str(build_ui(state))
    assert 'value="tinted"' in page and "Tinted heatmap" in page
    inputs = {**HEATMAP_INPUTS, "heatmap_kind": "tinted", "clusters": []}
    call = heatmap_call(_Inputs(**inputs), state)
    assert call.kind == "tinted" and call.function == "tinted"
    plot = _figures.draw(state, call)
    assert STEPS == ["bundle", "draw"] and plot.params["function"] == "tests.tinted"
    code, cli = _figures.code_texts(state, call, "png", 300)
    assert "sch.pl.tinted(" in code and cli.startswith("sc-heatmaps tinted ")
    params = json.loads(_figures.parameters_json(state, call, "png", 300))
    assert params["options"]["tint"] == "greens"


def test_a_kind_cannot_take_a_registered_name_or_command():
    dot = KINDS["dot"]
    with pytest.raises(ValueError, match="clashes with the registered kind 'dot'"):
        register(FigureKind(**{**{f.name: getattr(dot, f.name) for f in fields(dot)}}))
    assert list(KINDS) == ["heatmap", "dot"]


@pytest.mark.parametrize("name", ["heatmap", "dot"])
def test_each_registered_kind_names_its_public_function_and_options(name):
    """The registry's entries agree with the package: the public function of ``sch.pl``
    under its name, taking exactly its options class's fields."""
    import sc_heatmaps as sch

    kind = KINDS[name]
    public = kind.public()
    assert getattr(sch.pl, kind.public_name) is public
    assert public.options is kind.options_class()
    keyword = [
        p.name
        for p in inspect.signature(public).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    assert keyword == kind.options_class().field_names()
    assert callable(kind.bundle_step()) and callable(kind.draw_step())
