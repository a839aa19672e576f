"""The command line on hostile and unusual input: exit codes, messages, never a traceback.

The console entry point runs in-process (as the installed ``sc-heatmaps`` script does),
so that a command can be made to fail in a chosen way.
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import version

import anndata as ad
import pandas as pd
import pytest
from conftest import ROOT

from sc_heatmaps.cli import _args, _commands, console_main

EXAMPLE = ROOT / "data" / "example.h5ad"
HEATMAP = ["heatmap", "-i", EXAMPLE, "-x", "dataset", "-y", "CD3E"]


def cli(capsys, monkeypatch, *args) -> tuple[int, str, str]:
    """Run ``sc-heatmaps ARGS``; returns (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["sc-heatmaps", *map(str, args)])
    try:
        console_main()
    except SystemExit as exit_info:
        code = exit_info.code
    except BaseException as err:  # escaped the command line (a KeyboardInterrupt would stop pytest)
        pytest.fail(f"{type(err).__name__} escaped the command line: {err}")
    else:
        pytest.fail("the command line returned without an exit code")
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-n", "inf"], "'inf' is not a finite number"),
        (["-n", "nan"], "'nan' is not a finite number"),
        (["--dpi", "1e308"], "give a resolution from 10 to 2400 dots per inch"),
        (["--dpi", "inf"], "'inf' is not a finite number"),
        (["--dpi", "20000"], "give a resolution from 10 to 2400 dots per inch"),
        (["--dpi", "5"], "give a resolution from 10 to 2400 dots per inch"),
        (["--kwargs", "vmin:inf"], "--kwargs vmin: 'inf' is not a finite number"),
        (["--kwargs", "figsize:1e999x4"], "--kwargs figsize: '1e999' is not a finite number"),
    ],
)
def test_numbers_must_be_finite_and_in_range(capsys, monkeypatch, tmp_path, args, message):
    code, _, err = cli(capsys, monkeypatch, *HEATMAP, *args, "-o", tmp_path / "h")
    assert code == 2, err
    assert message in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("value", "message"),
    [("inf", "'inf' is not a finite number"), ("1e308", "give a jitter from 0 to 1e+06")],
)
def test_jitter_must_be_finite_and_in_range(capsys, monkeypatch, tmp_path, value, message):
    args = ["dual", "-i", EXAMPLE, "--genes", "ISG15,IFI6", "--jitter", value]
    code, _, err = cli(capsys, monkeypatch, *args, "-o", tmp_path / "d")
    assert code == 2 and message in err and "Traceback" not in err


def test_dpi_in_range_is_used(capsys, monkeypatch, tmp_path):
    from PIL import Image

    code, _, err = cli(capsys, monkeypatch, *HEATMAP, "--dpi", "10", "-o", tmp_path / "h")
    assert code == 0, err
    with Image.open(tmp_path / "h.png") as im:
        assert tuple(round(d) for d in im.info["dpi"]) == (10, 10)


@pytest.mark.parametrize("spec", ["markers:0", "markers:", "markers:-1", "markers:²"])
def test_markers_count_must_be_one_or_more(capsys, monkeypatch, tmp_path, spec):
    args = ["heatmap", "-i", EXAMPLE, "-x", "dataset", "--cluster-key", "cluster", "-y", spec]
    code, _, err = cli(capsys, monkeypatch, *args, "-o", tmp_path / "h")
    assert code == 2, err
    assert "markers:N with a whole number N of 1 or more" in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())


def test_markers_count_sets_the_genes_per_cluster(capsys, monkeypatch, tmp_path):
    args = ["heatmap", "-i", EXAMPLE, "-x", "dataset", "--cluster-key", "cluster", "-y"]
    code, _, err = cli(capsys, monkeypatch, *args, "markers:2", "-o", tmp_path / "h")
    assert code == 0, err
    n_clusters = ad.read_h5ad(EXAMPLE).obs["cluster"].nunique()
    genes = json.loads((tmp_path / "h.json").read_text())["genes"]
    assert 0 < len(genes) <= 2 * n_clusters


@pytest.mark.parametrize("name", ["page.html", "page.HTM"])
def test_interactive_keeps_an_html_output_name(capsys, monkeypatch, tmp_path, name):
    args = ["interactive", "-i", EXAMPLE, "-x", "dataset", "-y", "CD3E,MS4A1"]
    code, out, err = cli(capsys, monkeypatch, *args, "-o", tmp_path / name)
    assert code == 0, err
    assert [p.name for p in tmp_path.iterdir()] == [name]
    assert out.split() == [str(tmp_path / name)]


def test_interactive_refuses_another_extension(capsys, monkeypatch, tmp_path):
    args = ["interactive", "-i", EXAMPLE, "-x", "dataset", "-y", "CD3E"]
    code, _, err = cli(capsys, monkeypatch, *args, "-o", tmp_path / "page.png")
    assert code == 2 and "end -o in .html or .htm" in err
    assert not list(tmp_path.iterdir())


def test_unknown_figure_extension_is_refused(capsys, monkeypatch, tmp_path):
    code, _, err = cli(capsys, monkeypatch, *HEATMAP, "-o", tmp_path / "x.gif")
    assert code == 2, err
    assert ".gif is not a figure format" in err and ".png, .pdf, .svg" in err
    assert "Traceback" not in err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("output", "fmt", "written"),
    [
        ("x.pdf", None, ["x.json", "x.pdf", "x.tsv"]),
        ("x.PNG", "png,svg", ["x.json", "x.png", "x.svg", "x.tsv"]),
        ("run.5", None, ["run.5.json", "run.5.png", "run.5.tsv"]),  # a dotted name, no extension
    ],
)
def test_output_extension_and_format(capsys, monkeypatch, tmp_path, output, fmt, written):
    extra = ["--format", fmt] if fmt else []
    args = [*HEATMAP, "--dpi", "20", "-o", tmp_path / output, *extra]
    code, _, err = cli(capsys, monkeypatch, *args)
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == written


def test_output_extension_must_agree_with_format(capsys, monkeypatch, tmp_path):
    args = [*HEATMAP, "-o", tmp_path / "x.png", "--format", "pdf"]
    code, _, err = cli(capsys, monkeypatch, *args)
    assert code == 2 and "asks for png but --format asks for pdf" in err
    assert not list(tmp_path.iterdir())


def test_markers_refuses_an_extension_other_than_tsv(capsys, monkeypatch, tmp_path):
    args = ["markers", "-i", EXAMPLE, "--groupby", "cluster", "-o", tmp_path / "m.csv"]
    code, _, err = cli(capsys, monkeypatch, *args)
    assert code == 2 and "writes a TSV table; end -o in .tsv" in err
    assert not list(tmp_path.iterdir())


def test_directory_input_is_named_a_directory(capsys, monkeypatch, tmp_path):
    args = ["heatmap", "-i", tmp_path, "-x", "dataset", "-y", "CD3E"]
    code, _, err = cli(capsys, monkeypatch, *args)
    assert code == 1
    assert f"input {str(tmp_path)!r} is a directory, not an .h5ad file" in err
    assert "does not exist" not in err and "Traceback" not in err


def test_missing_genes_advice_names_the_cli_option(capsys, monkeypatch, tmp_path):
    args = ["heatmap", "-i", EXAMPLE, "-x", "dataset", "-y", "CD3E,NOTAGENE1"]
    code, _, err = cli(capsys, monkeypatch, *args, "-o", tmp_path / "h")
    assert code == 1 and "NOTAGENE1" in err
    assert "--missing drop" in err and "missing='drop'" not in err


@pytest.mark.parametrize("command", ["heatmap", "interactive"])
def test_missing_drop_leaves_absent_genes_out(capsys, monkeypatch, tmp_path, command):
    args = [command, "-i", EXAMPLE, "-x", "dataset", "-y", "CD3E,NOTAGENE1,MS4A1"]
    code, _, err = cli(capsys, monkeypatch, *args, "--missing", "drop", "-o", tmp_path / "h")
    assert code == 0, err
    if command == "heatmap":
        meta = json.loads((tmp_path / "h.json").read_text())
        assert meta["dropped_genes"] == ["NOTAGENE1"]
        drawn = pd.read_csv(tmp_path / "h.tsv", sep="\t", index_col=0)
        assert list(drawn.index) == ["CD3E", "MS4A1"]
    else:
        assert "MS4A1" in (tmp_path / "h.html").read_text()


def test_version(capsys, monkeypatch):
    code, out, _ = cli(capsys, monkeypatch, "--version")
    assert code == 0
    assert out.strip() == f"sc-heatmaps {version('sc-heatmaps')}"


def test_deeply_nested_filter_is_a_usage_error(capsys, monkeypatch, tmp_path):
    text = "(" * 400 + "row any >= 0" + ")" * 400
    code, _, err = cli(capsys, monkeypatch, *HEATMAP, "-f", text, "-o", tmp_path / "h")
    assert code == 2, err
    assert "parentheses are nested more than 32 deep" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "error",
    [AttributeError("'str' object has no attribute 'get'"), MemoryError(), RecursionError("deep")],
)
def test_unexpected_errors_are_one_line_without_traceback(capsys, monkeypatch, tmp_path, error):
    def broken(args):
        raise error

    monkeypatch.setattr(_commands, "run_figure", broken)
    code, _, err = cli(capsys, monkeypatch, *HEATMAP, "-o", tmp_path / "h")
    assert code == 1
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert err.startswith(f"sc-heatmaps heatmap: error: {type(error).__name__}")
    assert "--verbose" in err
    code, _, err = cli(capsys, monkeypatch, *HEATMAP, "-o", tmp_path / "h", "--verbose")
    assert code == 1 and "Traceback" in err


def test_numba_without_a_cache_dir_is_explained(capsys, monkeypatch, tmp_path):
    def uncachable(args):
        raise RuntimeError("cannot cache function 'f': no locator available for file 'f.py'")

    monkeypatch.setattr(_commands, "run_figure", uncachable)
    code, _, err = cli(capsys, monkeypatch, *HEATMAP, "-o", tmp_path / "h")
    assert code == 1 and "Traceback" not in err
    assert "set the environment variable NUMBA_CACHE_DIR to a writable directory" in err


def test_unexpected_error_while_parsing_is_a_usage_error(capsys, monkeypatch):
    def broken(text):
        raise OverflowError("cannot convert float infinity to integer")

    monkeypatch.setattr(_args, "filter_text", broken)
    code, _, err = cli(capsys, monkeypatch, *HEATMAP, "-f", "row any > 1")
    assert code == 2
    assert "OverflowError: cannot convert float infinity to integer" in err
    assert "Traceback" not in err


def test_interrupt_exits_130_without_traceback(capsys, monkeypatch, tmp_path):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(_commands, "run_figure", interrupted)
    code, _, err = cli(capsys, monkeypatch, *HEATMAP, "-o", tmp_path / "h")
    assert code == 130 and "interrupted" in err and "Traceback" not in err


def test_log1p_stored_as_a_string_gives_no_traceback(capsys, monkeypatch, tmp_path):
    adata = ad.read_h5ad(EXAMPLE)
    adata.uns["log1p"] = "yes"
    path = tmp_path / "odd.h5ad"
    adata.write_h5ad(path)
    args = ["markers", "-i", path, "--groupby", "cluster", "-n", "2", "-o", tmp_path / "m.tsv"]
    code, _, err = cli(capsys, monkeypatch, *args)
    assert code in (0, 1)  # a clear error, or a result once tl reads such files
    assert "Traceback" not in err
    if code == 1:
        assert len(err.strip().splitlines()) == 1
