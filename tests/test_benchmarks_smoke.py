"""A tiny run of the benchmark script, so it cannot rot (timings are not checked)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from importlib.metadata import version

import pytest
from conftest import ROOT

pytestmark = pytest.mark.exhaustive


def test_benchmark_script_runs_at_a_tiny_size():
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "run.py"),
            "--cells",
            "300",
            "--genes",
            "120",
            "--density",
            "0.2",
            "--ops",
            "grouped_expression_200,markers_ttest,dotplot_draw_100x80",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    lines = result.stdout.strip().splitlines()
    assert lines[0].split()[:3] == ["cells", "operation", "ours"]
    assert [line.split()[1] for line in lines[1:]] == [
        "grouped_expression_200",
        "markers_ttest",
        "dotplot_draw_100x80",
    ]


def test_startup_export_benchmark_runs_at_a_tiny_size():
    script = ROOT / "benchmarks" / "startup_export.py"
    argv = ["--repeats", "1", "--commands", "markers", "--figures", "demo", "--dpi", "50"]
    result = subprocess.run(
        [sys.executable, str(script), *argv],
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    )
    lines = result.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines[:5]] == [
        "command",
        "import",
        "import",
        "markers",
        "figure",
    ]
    assert [line.split()[2] for line in lines[5:]] == ["png", "pdf", "svg"]


TINY_CALIB = ["--genes", "40", "--cells", "15", "--min-counts", "0"]
TINY_SPEED = ["--cases", "synthetic", "--cells", "2000", "--genes", "30", "--clusters", "2"]


def test_pseudobulk_benchmarks_run_at_a_tiny_size():
    calibration = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "pseudobulk_calibration.py"), *TINY_CALIB],
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    )
    assert calibration.stdout.count("pseudobulk DESeq2, ~ donor + condition") == 2
    speed = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "pseudobulk_speed.py"), *TINY_SPEED],
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    )
    assert "max rel. diff 0.0e+00" in speed.stdout


def test_wilcoxon_benchmark_runs_at_a_tiny_size():
    # illico is a benchmark requirement only (benchmarks/requirements.txt): not used here
    argv = ["--sizes", "400x60", "--groups", "4", "--threads", "1", "--sides", "ours,scanpy"]
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "wilcoxon.py"), *argv],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    header, row = result.stdout.strip().splitlines()
    cols = dict(zip(header.split(), row.split(), strict=True))
    assert cols["same_top10_scanpy"] == "True"
    assert float(cols["p_rel_diff_scanpy"]) < 1e-9


def test_atlas_benchmark_runs_at_a_tiny_size(tmp_path):
    # the benchmark writes its atlas with anndata.io (anndata >= 0.11) and as a zarr store
    if importlib.util.find_spec("anndata.io") is None or importlib.util.find_spec("zarr") is None:
        pytest.skip(f"the atlas benchmark needs anndata.io and zarr (anndata {version('anndata')})")
    script = str(ROOT / "benchmarks" / "atlas.py")
    tiny = ["--cells", "600", "--genes", "90", "--density", "0.4", "--clusters", "3"]
    subprocess.run(
        [sys.executable, script, "generate", "--data-dir", str(tmp_path), *tiny],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    argv = ["--inputs", "backed,zarr", "--ops", "markers_wilcoxon,dotplot_pdf", "--clusters", "3"]
    argv += ["--scanpy-inputs", "backed", "--scanpy-ops", "aggregate"]
    result = subprocess.run(
        [sys.executable, script, "run", "--data-dir", str(tmp_path), *argv],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    rows = [line.split(maxsplit=5) for line in result.stdout.strip().splitlines()[1:]]
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("ours", "backed", "markers_wilcoxon"),
        ("ours", "backed", "dotplot_pdf"),
        ("scanpy", "backed", "aggregate"),
        ("ours", "zarr", "markers_wilcoxon"),
        ("ours", "zarr", "dotplot_pdf"),
    ]
    ours = [r for r in rows if r[0] == "ours"]
    assert all(r[5].startswith("ok ") for r in ours), rows
    # every cluster's top marker is one the generator made for it
    assert all('"top_is_made_marker": 1.0' in r[5] for r in ours if "markers" in r[2])
    assert all(float(r[4]) > 0 for r in rows)  # /usr/bin/time -v's peak RSS was read
