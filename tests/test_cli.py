"""The command line: demo run, help, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from PIL import Image

from sc_heatmaps.cli import main


def test_demo_writes_every_format_with_sidecars(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--dpi", "60"]) == 0
    printed = capsys.readouterr().out.split()
    names = sorted(p.split("/")[-1] for p in printed)
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
    with Image.open(out / "markers_heatmap.png") as im:
        assert tuple(round(d) for d in im.info["dpi"]) == (60, 60)
    meta = json.loads((out / "markers_heatmap.json").read_text())
    assert meta["groupby"] == ["dataset", "cluster"] and meta["n_genes"] == 10
    markers = (out / "markers.tsv").read_text().splitlines()
    assert markers[0].split("\t") == [
        "group",
        "rank",
        "gene",
        "score",
        "logfc",
        "pval_adj",
        "pct_in",
        "pct_out",
    ]
    assert len(markers) == 1 + 8 * 10


def test_usage_errors_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as err:
        main(["demo", "--format", "gif"])
    assert err.value.code == 2
    assert "unknown format" in capsys.readouterr().err
    with pytest.raises(SystemExit) as err:
        main(["demo", "--dpi", "-3"])
    assert err.value.code == 2


def test_help_has_examples():
    result = subprocess.run(
        [sys.executable, "-m", "sc_heatmaps", "demo", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "examples:" in result.stdout and "sc-heatmaps demo --out" in result.stdout


def test_data_errors_exit_1_without_traceback(tmp_path):
    target = tmp_path / "file"
    target.write_text("not a directory")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sc_heatmaps",
            "demo",
            "--out",
            str(target / "sub"),
            "--format",
            "png",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("sc-heatmaps: error:")
    assert "Traceback" not in result.stderr
