"""The command line, run as a pipeline would: subprocesses, files, exit codes, README examples."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys

import pandas as pd
import pytest
from conftest import KANG, MARKER_COLUMNS, ROOT, real_data_path
from PIL import Image

EXAMPLE = ROOT / "data" / "example.h5ad"


def run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "sc_heatmaps", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


@pytest.mark.exhaustive
def test_demo_writes_every_format_with_sidecars(tmp_path):
    result = run("demo", "--out", tmp_path / "demo", "--dpi", "60")
    assert result.returncode == 0, result.stderr
    names = sorted(p.split("/")[-1] for p in result.stdout.split())
    assert names == sorted(
        [
            "markers.tsv",
            "markers_heatmap.png",
            "markers_heatmap.pdf",
            "markers_heatmap.svg",
            "markers_heatmap.tiff",
            "markers_heatmap.jpg",
            "markers_heatmap.tsv",
            "markers_heatmap.json",
        ]
    )
    with Image.open(tmp_path / "demo" / "markers_heatmap.png") as im:
        assert tuple(round(d) for d in im.info["dpi"]) == (60, 60)
    markers = pd.read_csv(tmp_path / "demo" / "markers.tsv", sep="\t")
    assert list(markers.columns) == MARKER_COLUMNS
    assert len(markers) == 8 * 10


@pytest.mark.parametrize(
    "command", ["markers", "heatmap", "dual", "correlation", "interactive", "demo"]
)
def test_every_subcommand_has_help_with_an_example(command):
    result = run(command, "--help")
    assert result.returncode == 0
    assert "example:" in result.stdout and f"sc-heatmaps {command}" in result.stdout


@pytest.mark.exhaustive
def test_kang_subcommands(tmp_path):
    kang = real_data_path(KANG)
    r = run("markers", "-i", kang, "--groupby", "cluster_id", "-n", "5", "-o", tmp_path / "m.tsv")
    assert r.returncode == 0, r.stderr
    table = pd.read_csv(tmp_path / "m.tsv", sep="\t")
    assert set(table["group"]) == {
        "B cells",
        "CD14+ Monocytes",
        "CD4 T cells",
        "CD8 T cells",
        "FCGR3A+ Monocytes",
    }
    # counts in X: the heatmap reads the log-normalised layer
    r = run(
        "heatmap",
        "-i",
        kang,
        "-o",
        tmp_path / "figs" / "kang",
        "--groupby",
        "group_id,cluster_id",
        "--cluster-key",
        "cluster_id",
        "--source",
        "logcounts",
        "--clusters",
        "B cells,CD14+ Monocytes",
        "--format",
        "pdf,png",
        "--dpi",
        "100",
    )
    assert r.returncode == 0, r.stderr
    meta = json.loads((tmp_path / "figs" / "kang.json").read_text())
    assert meta["groupby"] == ["group_id", "cluster_id"] and meta["source"] == "logcounts"
    assert {g["cluster_id"] for g in meta["groups"]} == {"B cells", "CD14+ Monocytes"}
    assert (tmp_path / "figs" / "kang.pdf").is_file() and (tmp_path / "figs" / "kang.png").is_file()
    r = run(
        "dual",
        "-i",
        kang,
        "--genes",
        "ISG15,IFI6",
        "--color",
        "group_id",
        "--split-by",
        "group_id",
        "--source",
        "logcounts",
        "-o",
        tmp_path / "isg",
    )
    assert r.returncode == 0, r.stderr
    stats = pd.read_csv(tmp_path / "isg.tsv", sep="\t", index_col=0)
    assert set(stats.loc[~stats["all_panels"], "split"]) == {"ctrl", "stim"}
    assert stats.loc[stats["all_panels"], "split"].isna().all()
    r = run(
        "correlation",
        "-i",
        kang,
        "-y",
        "ISG15,IFI6,MX1,CD14",
        "--groupby",
        "group_id",
        "--source",
        "logcounts",
        "-o",
        tmp_path / "corr",
    )
    assert r.returncode == 0, r.stderr
    corr = pd.read_csv(tmp_path / "corr.tsv", sep="\t", index_col=[0, 1])
    assert set(corr.index.get_level_values(0)) == {"ctrl", "stim"}
    r = run(
        "interactive",
        "-i",
        kang,
        "--cluster-key",
        "cluster_id",
        "-n",
        "3",
        "--source",
        "logcounts",
        "-o",
        tmp_path / "inter",
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "inter.html").read_text().startswith("<!DOCTYPE html>")


@pytest.mark.exhaustive
def test_amiga_style_flags(tmp_path):
    genes = tmp_path / "genes.txt"
    genes.write_text("# a gene list\nCD3E\nMS4A1\n\nISG15\n")
    r = run(
        "heatmap",
        "-i",
        EXAMPLE,
        "-x",
        "dataset",
        "-y",
        genes,
        "-t",
        "From a file",
        "-f",
        "row any >= 0.5",
        "--kwargs",
        "center:0;vmin:-2;vmax:2",
        "-o",
        tmp_path / "h",
    )
    assert r.returncode == 0, r.stderr
    meta = json.loads((tmp_path / "h.json").read_text())
    assert meta["genes"] == ["CD3E", "MS4A1", "ISG15"] and meta["title"] == "From a file"
    assert (meta["vmin"], meta["vmax"], meta["vcenter"]) == (-2, 2, 0)
    assert meta["filter"] == "row any >= 0.5"
    r = run(
        "heatmap",
        "-i",
        EXAMPLE,
        "-s",
        "dataset:ctrl,stim_IFN;cluster:B,NK",
        "-x",
        "dataset",
        "-y",
        "cluster",
        "-v",
        "total_counts",
        "-p",
        "mean",
        "-o",
        tmp_path / "v",
    )
    assert r.returncode == 0, r.stderr
    table = pd.read_csv(tmp_path / "v.tsv", sep="\t", index_col=0)
    assert list(table.index) == ["NK", "B"] and list(table.columns) == ["ctrl", "stim_IFN"]


def test_default_output_is_a_timestamp(tmp_path):
    r = run("heatmap", "-i", EXAMPLE, "-x", "dataset", "-y", "CD3E", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert re.fullmatch(
        r"sc_heatmaps_\d{8}-\d{6}\.png", sorted(p.name for p in tmp_path.glob("*.png"))[0]
    )


@pytest.mark.exhaustive
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["heatmap", "-i", EXAMPLE, "-x", "dataset", "-y", "CD3E", "--format", "gif"],
            "unknown format",
        ),
        (
            ["heatmap", "-i", EXAMPLE, "-x", "dataset", "-y", "CD3E", "-f", "row any >= abc"],
            "expected a number at column 12",
        ),
        (
            ["heatmap", "-i", EXAMPLE, "-x", "dataset", "-y", "CD3E", "--kwargs", "centre:1"],
            "accepted keys are center, cluster_cols",
        ),
        (["heatmap", "-i", EXAMPLE, "-x", "dataset", "-y", "CD3E", "-p", "mean"], "-p/--operation"),
        (["dual", "-i", EXAMPLE, "--genes", "ISG15"], "exactly two genes"),
        (
            ["heatmap", "-i", EXAMPLE, "-x", "dataset", "-y", "CD3E", "--dpi", "0"],
            "give a resolution from 10 to 2400 dots per inch",
        ),
        (["nosuchcommand"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2(args, message):
    r = run(*args)
    assert r.returncode == 2 and message in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.exhaustive
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["heatmap", "-i", "missing.h5ad", "-x", "dataset", "-y", "CD3E"], "does not exist"),
        (
            ["heatmap", "-i", EXAMPLE, "-x", "dataset", "-y", "CD3", "--cluster-key", "cluster"],
            "did you mean 'CD3E'",
        ),
        (["heatmap", "-i", EXAMPLE, "-x", "datset", "-y", "CD3E"], "Did you mean 'dataset'"),
        (
            ["heatmap", "-i", EXAMPLE, "-x", "dataset", "-y", "cluster", "-v", "total_counts"],
            "-p mean or -p median",
        ),
        (
            ["heatmap", "-i", EXAMPLE, "-x", "dataset", "-y", "CD3E", "-f", "row any > 100"],
            "removes every row",
        ),
        (["dual", "-i", EXAMPLE, "--genes", "ISG15,ISG15"], "two different genes"),
    ],
)
def test_data_errors_exit_1_without_traceback(args, message, tmp_path):
    r = run(*args, "-o", tmp_path / "out") if args[0] != "dual" else run(*args)
    assert r.returncode == 1, r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr
    assert not list(tmp_path.iterdir())
    verbose = run(*args, "--verbose")
    assert "Traceback" in verbose.stderr


def _readme_cli_examples() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Command line", 1)[1].split("## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.startswith("sc-heatmaps ")]


@pytest.mark.exhaustive
def test_readme_cli_examples_run(tmp_path):
    examples = _readme_cli_examples()
    commands = {shlex.split(e)[1] for e in examples}
    assert commands == {
        "markers",
        "heatmap",
        "dual",
        "correlation",
        "interactive",
        "demo",
        "dotplot",
    }
    for example in examples:
        args = [str(EXAMPLE) if a == "data/example.h5ad" else a for a in shlex.split(example)[1:]]
        r = run(*args, cwd=tmp_path)
        assert r.returncode == 0, f"{example}\n{r.stderr}"
    assert (tmp_path / "figs" / "markers.pdf").is_file()
    assert (tmp_path / "figs" / "markers.html").is_file()


def test_dual_max_points_is_the_python_option(tmp_path):
    """``dual --max-points N`` draws what ``dual_expression(max_points=N)`` draws (the
    same sampled points), with statistics from every cell; the app's command line for a
    dual plot with max_points now says it instead of a note."""
    import anndata as ad

    import sc_heatmaps as sch
    from sc_heatmaps.app._calls import cli_line, make_call
    from sc_heatmaps.cli import main

    out = tmp_path / "dual.png"
    argv = ["dual", "-i", str(EXAMPLE), "--genes", "ISG15,IFI6", "--color", "dataset"]
    assert main([*argv, "--max-points", "40", "-o", str(out), "--dpi", "50"]) == 0
    written = json.loads(out.with_suffix(".json").read_text())
    plot = sch.pl.dual_expression(
        ad.read_h5ad(EXAMPLE), "ISG15", "IFI6", color="dataset", max_points=40
    )
    assert written["max_points"] == 40 == plot.params["max_points"]
    drawn = [len(c.get_offsets()) for ax in plot.figure.axes for c in ax.collections]
    assert 0 < sum(drawn) < plot.stats["n"].max()  # sampled points, full statistics
    stats = pd.read_csv(out.with_suffix(".tsv"), sep="\t", index_col=0)
    pd.testing.assert_series_equal(
        stats["n"].reset_index(drop=True), plot.stats["n"].reset_index(drop=True)
    )
    line = cli_line(make_call("dual", ["ISG15", "IFI6"], max_points=40), [EXAMPLE])
    assert "--max-points 40" in line and "#" not in line


def test_dotplot_command_draws_what_the_function_draws(tmp_path, capsys):
    """``dotplot`` passes its flags and the dot plot's ``--kwargs`` to ``pl.dotplot``."""
    import anndata as ad

    import sc_heatmaps as sch
    from sc_heatmaps.cli import main

    out = tmp_path / "dots.png"
    argv = ["dotplot", "-i", str(EXAMPLE), "--cluster-key", "cluster", "--dataset-key"]
    argv += ["dataset", "-y", "CD3E,LYZ,MS4A1", "--layout", "paired"]
    assert main([*argv, "--kwargs", "expression_cutoff:0.5;dot_max:0.8", "-o", str(out)]) == 0
    written = json.loads(out.with_suffix(".json").read_text())
    assert written["function"] == "sc_heatmaps.pl.dotplot"
    assert (written["layout"], written["expression_cutoff"], written["dot_max"]) == (
        "paired",
        0.5,
        0.8,
    )
    plot = sch.pl.dotplot(
        ad.read_h5ad(EXAMPLE),
        ["CD3E", "LYZ", "MS4A1"],
        cluster_key="cluster",
        dataset_key="dataset",
        layout="paired",
        expression_cutoff=0.5,
        dot_max=0.8,
    )
    table = pd.read_csv(out.with_suffix(".tsv"), sep="\t", index_col=[0, 1])
    pd.testing.assert_frame_equal(
        table.loc["fraction"],
        plot.sidecar_table().loc["fraction"],
        check_exact=False,
        rtol=1e-5,
        check_names=False,
        check_dtype=False,
    )
    assert main([*argv[:-2], "--layout", "split", "-o", str(tmp_path / "s.png")]) != 0
    assert "paired" in capsys.readouterr().err
