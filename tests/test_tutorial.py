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
    assert (tmp_path / "kang_markers_by_condition.pdf").is_file()
    assert (tmp_path / "kang_markers_by_condition.json").is_file()
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
    heatmaps = sum(c.source.count("sch.pl.grouped_heatmap(") for c in nb.cells)
    assert len(images) == heatmaps, "each heatmap is displayed exactly once"


def test_there_is_a_tutorial():
    assert TUTORIALS and os.path.basename(TUTORIALS[0]) == "01_grouped_heatmaps.ipynb"
