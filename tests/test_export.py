"""Export: every format opens, DPI and pixel size, vector text, sidecars, atomic writes."""

from __future__ import annotations

import json
import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from PIL import Image

import sc_heatmaps as sch

GENES = {"c0": ["G00", "G01"], "c1": ["G04", "G05"]}


@pytest.fixture
def plot(synthetic):
    return sch.pl.grouped_heatmap(
        synthetic, GENES, ["dataset", "cluster"], cluster_key="cluster", dataset_key="dataset"
    )


@pytest.mark.parametrize("ext", ["png", "tif", "tiff", "jpg", "jpeg"])
# every format at 72 dpi in the fast tier; at 300 dpi too in the opt-in tier
@pytest.mark.parametrize("dpi", [72, pytest.param(300, marks=pytest.mark.exhaustive)])
def test_raster_formats_carry_dpi_and_pixel_size(plot, tmp_path, ext, dpi):
    out = plot.savefig(tmp_path / f"fig.{ext}", dpi=dpi)
    assert out[0].suffix == f".{ext}"
    with Image.open(out[0]) as im:
        im.load()
        w, h = plot.figure.get_size_inches()
        # matplotlib drops the fractional pixel (int(), not round()), so: to the pixel
        assert all(abs(px - inches * dpi) < 1 for px, inches in zip(im.size, (w, h), strict=True))
        assert tuple(round(d) for d in im.info["dpi"]) == (dpi, dpi)


def test_pdf_is_vector_text_with_a_rasterised_body(plot, tmp_path):
    path = plot.savefig(tmp_path / "fig.pdf", dpi=150)[0]
    raw = path.read_bytes()
    assert raw.startswith(b"%PDF")
    assert raw.count(b"/Subtype /Image") >= 1  # the heatmap body
    assert b"/FontFile2" in raw  # embedded TrueType: text is text, not pixels


def test_svg_keeps_text_as_text(plot, tmp_path):
    path = plot.savefig(tmp_path / "fig.svg")[0]
    svg = path.read_text()
    assert "<image" in svg  # rasterised body
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    for label in ["G00", "G05", "dataset", "cluster", "d1", "c1"]:
        assert any(label in t for t in texts), label


def test_sidecars_hold_matrix_parameters_and_versions(plot, tmp_path, synthetic):
    _fig, tsv, js = plot.savefig(tmp_path / "heat.png", dpi=50)
    assert (tsv.name, js.name) == ("heat.tsv", "heat.json")
    table = pd.read_csv(tsv, sep="\t", index_col=[0, 1])
    np.testing.assert_allclose(table.to_numpy(), plot.data.to_numpy(), rtol=1e-5, atol=1e-6)
    assert list(table.columns) == list(plot.data.columns)
    meta = json.loads(js.read_text())
    assert meta["genes"] == GENES
    assert meta["groupby"] == ["dataset", "cluster"]
    assert meta["dpi"] == 50 and meta["format"] == "png"
    counts = synthetic.obs.groupby(["dataset", "cluster"], observed=True).size()
    assert [g["n_cells"] for g in meta["groups"]] == counts.tolist()
    assert {"sc-heatmaps", "scanpy", "anndata", "matplotlib", "marsilea"} <= set(meta["versions"])


def test_sidecars_are_deterministic(synthetic, tmp_path):
    paths = []
    for i in range(2):
        p = sch.pl.grouped_heatmap(synthetic, GENES, "cluster", cluster_rows=True)
        paths.append(p.savefig(tmp_path / f"run{i}.svg"))
    for a, b in zip(paths[0], paths[1], strict=True):
        assert a.read_bytes() == b.read_bytes(), a.suffix


def test_module_level_savefig_accepts_a_figure(tmp_path):
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [0, 1])
    out = sch.pl.savefig(fig, tmp_path / "line.png", dpi=100)
    assert out == [tmp_path / "line.png"]
    with Image.open(out[0]) as im:
        assert im.size == (200, 100)


@pytest.mark.parametrize("name", ["fig.gif", "fig", "fig.PNGX"])
def test_unknown_extension_lists_formats(plot, tmp_path, name):
    with pytest.raises(ValueError, match=r"'\.png'.*'\.pdf'.*'\.svg'.*'\.tif'"):
        plot.savefig(tmp_path / name)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("dpi", [0, -5, float("nan")])
def test_bad_dpi(plot, tmp_path, dpi):
    with pytest.raises(ValueError, match=r"option 'dpi' = .*: must be a number >= 10"):
        plot.savefig(tmp_path / "fig.png", dpi=dpi)


def test_missing_directory(plot, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        plot.savefig(tmp_path / "nope" / "fig.png")


@pytest.mark.parametrize(
    "interrupt", [OSError("disk full (injected)"), KeyboardInterrupt("Ctrl-C (injected)")]
)
def test_interrupted_write_leaves_nothing_and_keeps_old_files(
    plot, tmp_path, monkeypatch, interrupt
):
    old = tmp_path / "fig.png"
    old.write_bytes(b"previous figure")
    (tmp_path / "fig.tsv").write_text("previous table")
    real_savefig = type(plot.figure).savefig

    def partial_then_fail(self, fname, *args, **kwargs):
        with open(fname, "wb") as handle:
            handle.write(b"\x89PNG half a figure")
        raise interrupt

    monkeypatch.setattr(type(plot.figure), "savefig", partial_then_fail)
    with pytest.raises(type(interrupt), match="injected"):
        plot.savefig(old)
    monkeypatch.setattr(type(plot.figure), "savefig", real_savefig)
    assert old.read_bytes() == b"previous figure"
    assert (tmp_path / "fig.tsv").read_text() == "previous table"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.png", "fig.tsv"]


def test_failure_in_a_sidecar_rolls_back_the_figure(plot, tmp_path, monkeypatch):
    import sc_heatmaps.export._save as save

    def broken(text):
        def write(temp):
            temp.write_text(text[:10])
            raise RuntimeError("sidecar failed (injected)")

        return write

    monkeypatch.setattr(save, "_text_writer", broken)
    with pytest.raises(RuntimeError, match="injected"):
        plot.savefig(tmp_path / "fig.png")
    assert list(tmp_path.iterdir()) == []
