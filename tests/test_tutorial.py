"""The tutorial notebook runs top to bottom on the real data, so it can never go stale."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from conftest import KANG, ROOT, real_data_path
from nbclient import NotebookClient

TUTORIALS = sorted((ROOT / "tutorials").glob("*.ipynb"))


@pytest.mark.slow
@pytest.mark.exhaustive
@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.name)
def test_tutorial_executes(path: Path, tmp_path, monkeypatch):
    data = real_data_path(KANG).parent
    monkeypatch.setenv("SC_HEATMAPS_DATA", str(data))
    monkeypatch.setenv("SC_HEATMAPS_OUT", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    figures = [p for p in tmp_path.iterdir() if p.suffix in {".png", ".pdf"}]
    assert all(p.with_suffix(".json").is_file() for p in figures)
    assert figures or list(tmp_path.glob("*.html"))
    errors = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors
    images = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if "image/png" in o.get("data", {})
    ]
    calls = sum(
        c.source.count(f"sch.pl.{f}(")
        for c in nb.cells
        for f in (
            "grouped_heatmap",
            "dotplot",
            "dual_expression",
            "correlation_heatmap",
            "dataset_differences_heatmap",
        )
    )
    assert len(images) == calls, "each figure is displayed exactly once"


def test_the_tutorials_are_there():
    names = [os.path.basename(p) for p in TUTORIALS]
    assert names[:3] == [
        "01_grouped_heatmaps.ipynb",
        "02_dual_expression.ipynb",
        "03_correlation_and_interactive.ipynb",
    ]
