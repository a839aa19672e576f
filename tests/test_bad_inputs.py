"""A catalogue of bad inputs across tl, get, pp, pl, export and the CLI.

Each case asserts the exception type (or the CLI's exit code) and that the message names
the offending value and what would be valid. Objects converted from Seurat or merged by
hand bring most of these: unused or NaN categories, integer values, duplicated names,
one-cell clusters, NaN in an integrated layer.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, make_synthetic

import sc_heatmaps as sch


def _dup_names():
    a = make_synthetic()
    a.var_names = ["G00", *a.var_names[1:-1], "G00"]
    return a


def _with_values(rows, cols, value):
    """The synthetic data, dense, with ``value`` written at ``X[rows, cols]``."""

    def make():
        a = make_synthetic()
        X = a.X.toarray()
        X[rows, cols] = value
        a.X = X
        return a

    return make


_nan_x = _with_values(0, 0, np.nan)
_inf_x = _with_values(3, 5, np.inf)
_constant_genes = _with_values(slice(None), [2, 3], 1.0)  # G02 and G03 are 1 everywhere


def _empty():
    return make_synthetic()[:0].copy()


def _one_cell_cluster():
    """Cluster c3 keeps a single cell."""
    a = make_synthetic()
    c3 = np.flatnonzero(a.obs["cluster"] == "c3")
    return a[np.setdiff1d(np.arange(a.n_obs), c3[1:])].copy()


def _unused_category():
    a = make_synthetic()
    a.obs["cluster"] = a.obs["cluster"].cat.add_categories(["c9"])
    return a


def _continuous():
    a = make_synthetic()
    a.obs["score"] = np.linspace(0.0, 1.0, a.n_obs)
    return a


def _one_group():
    a = make_synthetic()
    a.obs["tissue"] = pd.Categorical(["blood"] * a.n_obs)
    return a


def _bad_layer():
    a = make_synthetic()
    a.layers._data["bad"] = np.zeros((a.n_obs, 3))  # anndata guards assignment; files may not
    return a


def _raw_only_genes():
    """30 genes in .raw, 20 in X and in the integrated layer (a typical Seurat export)."""
    full = make_synthetic()
    a = full[:, :20].copy()
    a.raw = full
    a.layers["integrated"] = a.X.copy()
    return a


def _integrated():
    a = make_synthetic()
    a.layers["integrated"] = a.X.copy()
    return a


CASES = {
    "duplicated var_names (get)": (
        _dup_names,
        lambda a: sch.get.grouped_expression(a, ["G00"], "cluster"),
        ValueError,
        r"not unique: \['G00'\].*var_names_make_unique",
    ),
    "duplicated var_names (tl)": (
        _dup_names,
        lambda a: sch.tl.top_markers(a, "cluster"),
        ValueError,
        r"not unique",
    ),
    "empty AnnData": (
        _empty,
        lambda a: sch.get.grouped_expression(a, ["G00"], "cluster"),
        ValueError,
        r"no cells \(n_obs = 0\)",
    ),
    "empty AnnData (markers)": (
        _empty,
        lambda a: sch.tl.top_markers(a, "cluster"),
        ValueError,
        r"at least 2 groups",
    ),
    "NaN in X (get)": (
        _nan_x,
        lambda a: sch.get.grouped_expression(a, ["G00"], "cluster"),
        ValueError,
        r"\['G00'\] hold NaN.*missing='drop'",
    ),
    "NaN in X (markers)": (
        _nan_x,
        lambda a: sch.tl.top_markers(a, "cluster"),
        ValueError,
        r"NaN or inf.*\['G00'\]",
    ),
    "groupby not a key": (
        make_synthetic,
        lambda a: sch.get.grouped_expression(a, ["G00"], 3),
        ValueError,
        r"groupby=3 is not valid",
    ),
    "groupby repeated": (
        make_synthetic,
        lambda a: sch.get.grouped_expression(a, ["G00"], ["cluster", "cluster"]),
        ValueError,
        r"repeats a key",
    ),
    "source not a string": (
        make_synthetic,
        lambda a: sch.get.grouped_expression(a, ["G00"], "cluster", source=None),
        ValueError,
        r"source=None.*'RNA', 'integrated'",
    ),
    "gene list empty": (
        make_synthetic,
        lambda a: sch.get.grouped_expression(a, [], "cluster"),
        ValueError,
        r"var_names is empty",
    ),
    "gene listed twice": (
        make_synthetic,
        lambda a: sch.get.grouped_expression(a, ["G00", "G00"], "cluster"),
        ValueError,
        r"\['G00'\] more than once",
    ),
    "n_genes not whole": (
        make_synthetic,
        lambda a: sch.tl.top_markers(a, "cluster", n_genes=2.5),
        ValueError,
        r"n_genes=2.5.*positive integer",
    ),
    "dual gene not a string": (
        make_synthetic,
        lambda a: sch.get.dual_expression(a, 1, "G00"),
        ValueError,
        r"gene_x=1 is not valid",
    ),
    "dual threshold NaN": (
        make_synthetic,
        lambda a: sch.get.dual_expression(a, "G00", "G01", threshold=float("nan")),
        ValueError,
        r"threshold=nan",
    ),
    "vmin above vmax": (
        make_synthetic,
        lambda a: sch.pl.grouped_heatmap(a, ["G00"], "cluster", vmin=2, vmax=1),
        ValueError,
        r"option 'vmin' = 2.0: must be smaller than vmax = 1.0",
    ),
    "vcenter outside": (
        make_synthetic,
        lambda a: sch.pl.grouped_heatmap(a, ["G00"], "cluster", vmin=0, vmax=1, vcenter=3),
        ValueError,
        r"option 'vcenter' = 3.0: must be strictly between vmin = 0.0 and vmax = 1.0",
    ),
    "figsize too small": (
        make_synthetic,
        lambda a: sch.pl.grouped_heatmap(a, ["G00"], "cluster", figsize=(-1, 3)),
        ValueError,
        r"option 'figsize' = \(-1, 3\): must be two positive finite numbers",
    ),
    "subset category unknown": (
        make_synthetic,
        lambda a: sch.get.select_cells(a, {"dataset": ["d9"]}),
        KeyError,
        r"\['d9'\] are not categories of 'dataset'.*'d1'",
    ),
    "subset leaves nothing": (
        make_synthetic,
        lambda a: sch.get.select_cells(
            a[~((a.obs["dataset"] == "d1") & (a.obs["cluster"] == "c0")).to_numpy()],
            {"dataset": ["d1"], "cluster": ["c0"]},
        ),
        ValueError,
        r"No cell matches",
    ),
    "obs value not numeric": (
        make_synthetic,
        lambda a: sch.get.obs_summary(a, "dataset", "cluster", "dataset", op="mean"),
        ValueError,
        r"'dataset' is not a numeric",
    ),
    "obs op unknown": (
        make_synthetic,
        lambda a: sch.get.obs_summary(a.copy(), "dataset", "cluster", "dataset", op="max"),
        ValueError,
        r"not a numeric|op=",
    ),
    "correlation filters all": (
        make_synthetic,
        lambda a: sch.pl.correlation_heatmap(a, genes=["G00", "G01"], min_nonzero=10**6),
        ValueError,
        r"No variable is left",
    ),
    "cell heatmap reduce": (
        make_synthetic,
        lambda a: sch.pl.cell_heatmap(a, ["G00"], "cluster", reduce="x"),
        ValueError,
        r"option 'reduce' = 'x': must be one of 'bins', 'sample'",
    ),
    "interactive on a scatter": (
        make_synthetic,
        lambda a: sch.pl.interactive_heatmap(sch.pl.dual_expression(a, "G00", "G01")),
        TypeError,
        r"got DualExpressionPlot",
    ),
    "filter syntax": (
        make_synthetic,
        lambda a: sch.pl.grouped_heatmap(a, ["G00", "G04"], "cluster", filter="row any >= abc"),
        ValueError,
        r"expected a number at column 12",
    ),
    "clusters without cluster_key": (
        make_synthetic,
        lambda a: sch.pl.grouped_heatmap(a, ["G00"], ["dataset", "cluster"], clusters="c0"),
        ValueError,
        r"pass cluster_key",
    ),
    "missing gene, suggestions (get)": (
        make_synthetic,
        lambda a: sch.get.grouped_expression(a, ["g00"], "cluster"),
        KeyError,
        r"not found: 'g00' \(did you mean 'G00'\?\)",
    ),
    "missing gene, suggestions (pl dual)": (
        make_synthetic,
        lambda a: sch.pl.dual_expression(a, "G0", "G01"),
        KeyError,
        r"not found: 'G0' \(did you mean 'G00', 'G01'",
    ),
    "missing gene, suggestions (pl cell heatmap)": (
        make_synthetic,
        lambda a: sch.pl.cell_heatmap(a, ["G001"], "cluster"),
        KeyError,
        r"'G001' \(did you mean 'G01', 'G00'\?\)",
    ),
    "missing gene (tl candidates)": (
        make_synthetic,
        lambda a: sch.tl.top_markers(a, "cluster", candidates=["G00", "G0X"]),
        KeyError,
        r"'G0X'",
    ),
    "missing obs key (get)": (
        make_synthetic,
        lambda a: sch.get.grouped_expression(a, ["G00"], "clustr"),
        KeyError,
        r"groupby 'clustr' is not a column.*'dataset', 'cluster'.*Did you mean 'cluster'",
    ),
    "missing obs key (tl)": (
        make_synthetic,
        lambda a: sch.tl.top_markers(a, "clustr"),
        KeyError,
        r"'clustr' is not a column.*Did you mean 'cluster'",
    ),
    "missing obs key (pl colour)": (
        make_synthetic,
        lambda a: sch.pl.dual_expression(a, "G00", "G01", color="datset"),
        KeyError,
        r"color 'datset' is not a column.*Did you mean 'dataset'",
    ),
    "missing obs key (pp)": (
        make_synthetic,
        lambda a: sch.pp.integrate(a, "batch"),
        KeyError,
        r"batch_key 'batch' is not a column.*'dataset', 'cluster'",
    ),
    "missing obs key (colours)": (
        make_synthetic,
        lambda a: sch.get.category_colors(a, "nokey"),
        KeyError,
        r"'nokey' is not a column.*'dataset', 'cluster'",
    ),
    "continuous groupby (get)": (
        _continuous,
        lambda a: sch.get.grouped_expression(a, ["G00"], "score"),
        ValueError,
        r"groupby 'score' is a continuous \(float\) column.*categorical",
    ),
    "continuous groupby (tl)": (
        _continuous,
        lambda a: sch.tl.top_markers(a, "score"),
        ValueError,
        r"'score' is a continuous.*astype\('category'\)",
    ),
    "continuous batch (pp)": (
        _continuous,
        lambda a: sch.pp.integrate(a, "score"),
        ValueError,
        r"batch_key 'score' is a continuous",
    ),
    "unknown cluster": (
        make_synthetic,
        lambda a: sch.get.grouped_expression(a, ["G00"], "cluster", clusters="c9"),
        KeyError,
        r"\['c9'\] are not categories of 'cluster'; valid clusters are 'c0', 'c1'",
    ),
    "cluster subset leaves nothing (get)": (
        _unused_category,
        lambda a: sch.get.grouped_expression(a, ["G00"], "cluster", clusters="c9"),
        ValueError,
        r"No cells left after selecting clusters='c9'",
    ),
    "cluster subset leaves nothing (pl)": (
        _unused_category,
        lambda a: sch.pl.grouped_heatmap(
            a, ["G00"], ["dataset", "cluster"], cluster_key="cluster", clusters=["c9"]
        ),
        ValueError,
        r"No cells left after selecting clusters=\['c9'\]",
    ),
    "fewer than two groups (tl)": (
        _one_group,
        lambda a: sch.tl.top_markers(a, "tissue"),
        ValueError,
        r"at least 2 groups with cells in 'tissue'; found \['blood'\]",
    ),
    "fewer than two groups selected (tl)": (
        make_synthetic,
        lambda a: sch.tl.top_markers(a, "cluster", groups=["c0"]),
        ValueError,
        r"at least 2 groups.*found \['c0'\]",
    ),
    "group with one cell (tl)": (
        _one_cell_cluster,
        lambda a: sch.tl.top_markers(a, "cluster"),
        ValueError,
        r"groups \['c3'\] of 'cluster' have a single cell.*groups=\[\.\.\.\]",
    ),
    "inf in X (get)": (
        _inf_x,
        lambda a: sch.get.grouped_expression(a, ["G05"], "cluster"),
        ValueError,
        r"\['G05'\] hold NaN or inf.*missing='drop'",
    ),
    "inf in X (tl)": (
        _inf_x,
        lambda a: sch.tl.top_markers(a, "cluster"),
        ValueError,
        r"NaN or inf.*\['G05'\]",
    ),
    "inf in X (pl dual)": (
        _inf_x,
        lambda a: sch.pl.dual_expression(a, "G05", "G01"),
        ValueError,
        r"\['G05'\] hold NaN or inf",
    ),
    "constant genes only (pl correlation)": (
        _constant_genes,
        lambda a: sch.pl.correlation_heatmap(a, genes=["G02", "G03"]),
        ValueError,
        r"'G02' in 'all': constant; 'G03' in 'all': constant.*other variables",
    ),
    "integrated layer missing (get)": (
        make_synthetic,
        lambda a: sch.get.grouped_expression(a, ["G00"], "cluster", source="integrated"),
        KeyError,
        r"source='integrated' is not available.*sch\.pp\.integrate.*source='RNA'",
    ),
    "integrated layer missing (tl)": (
        make_synthetic,
        lambda a: sch.tl.top_markers(a, "cluster", source="integrated"),
        KeyError,
        r"source='integrated' is not available",
    ),
    "unknown layer (pl)": (
        make_synthetic,
        lambda a: sch.pl.dual_expression(a, "G00", "G01", source="counts"),
        KeyError,
        r"source='counts' is not available.*'RNA'",
    ),
    "layer shape mismatch": (
        _bad_layer,
        lambda a: sch.get.grouped_expression(a, ["G01"], "cluster", source="bad"),
        ValueError,
        r"'bad'.*shape \(96, 3\)",
    ),
    "gene only in .raw (integrated source)": (
        _raw_only_genes,
        lambda a: sch.pl.cell_heatmap(a, ["G01", "G25"], "cluster", source="integrated"),
        KeyError,
        r"not found: 'G25'.*cover 20 genes\. \['G25'\] are in source='RNA' \(adata\.raw\.X\)",
    ),
    "integrated layer exists (pp)": (
        _integrated,
        lambda a: sch.pp.integrate(a, "dataset"),
        ValueError,
        r"'integrated'.*overwrite=True|key_added",
    ),
    "integration method (pp)": (
        make_synthetic,
        lambda a: sch.pp.integrate(a, "dataset", method="harmony"),
        ValueError,
        r"method='harmony' is not valid; choose one of 'combat'",
    ),
    "single batch (pp)": (
        _one_group,
        lambda a: sch.pp.integrate(a, "tissue"),
        ValueError,
        r"'tissue' has fewer than 2 batches",
    ),
    "marker method (tl)": (
        make_synthetic,
        lambda a: sch.tl.top_markers(a, "cluster", method="ttest"),
        ValueError,
        r"method='ttest' is not valid; choose one of 't-test'",
    ),
    "p-value cut-off above 1 (tl)": (
        make_synthetic,
        lambda a: sch.tl.top_markers(a, "cluster", max_pval_adj=2),
        ValueError,
        r"max_pval_adj=2 is not valid; it must be a number between 0 and 1",
    ),
    "statistic (get)": (
        make_synthetic,
        lambda a: sch.get.grouped_expression(a, ["G00"], "cluster", stat="max"),
        ValueError,
        r"stat='max' is not valid; choose one of 'mean', 'median', 'fraction'",
    ),
    "correlation method (get)": (
        make_synthetic,
        lambda a: sch.get.correlation(a, genes=["G00", "G01"], method="kendall"),
        ValueError,
        r"method='kendall'.*'pearson', 'spearman'",
    ),
    "same gene twice (dual)": (
        make_synthetic,
        lambda a: sch.get.dual_expression(a, "G00", "G00"),
        ValueError,
        r"both 'G00'; give two different genes",
    ),
    "unknown colour scheme (pl)": (
        make_synthetic,
        lambda a: sch.pl.grouped_heatmap(a, ["G00"], "cluster", cmap="nosuchcmap"),
        ValueError,
        r"option 'cmap' = 'nosuchcmap'.*'blue_white_red'",
    ),
    "vmin not a number (pl)": (
        make_synthetic,
        lambda a: sch.pl.grouped_heatmap(a, ["G00"], "cluster", vmin="0"),
        ValueError,
        r"option 'vmin' = '0': must be a finite number or None",
    ),
    "empty AnnData (pl)": (
        _empty,
        lambda a: sch.pl.grouped_heatmap(a, ["G00"], "cluster"),
        ValueError,
        r"no cells \(n_obs = 0\)",
    ),
    "subset key unknown": (
        make_synthetic,
        lambda a: sch.get.select_cells(a, {"datset": ["d1"]}),
        KeyError,
        r"subset key 'datset' is not a column.*Did you mean 'dataset'",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_gives_a_clear_error(name):
    make, call, error, message = CASES[name]
    with pytest.raises(error, match=message):
        call(make())


# --- export: formats, resolution, directories ---------------------------------------------


@pytest.fixture
def read_only_dir(tmp_path, monkeypatch):
    """A directory that refuses new files.

    Permission bits bind ordinary users; root ignores them, so there the directory
    refuses new files the way a read-only mount does (EROFS from the OS call).
    """
    d = tmp_path / "read_only"
    d.mkdir()
    d.chmod(0o555)
    try:
        (d / ".probe").touch()
        (d / ".probe").unlink()
        writable = True
    except PermissionError:
        writable = False
    if writable:
        real = tempfile.mkstemp

        def refuse(*args, dir=None, **kwargs):
            if dir is not None and Path(dir) == d:
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(dir))
            return real(*args, dir=dir, **kwargs)

        monkeypatch.setattr(tempfile, "mkstemp", refuse)
    yield d
    d.chmod(0o755)


@pytest.fixture
def plot():
    return sch.pl.grouped_heatmap(make_synthetic(), ["G00", "G04"], "cluster")


EXPORT_CASES = {
    "unknown extension": (
        lambda p, d: p.savefig(d / "fig.gif"),
        ValueError,
        r"fig\.gif'.*'\.gif'; use one of '\.png', '\.pdf', '\.svg'",
    ),
    "no extension": (lambda p, d: p.savefig(d / "fig"), ValueError, r"'\.png'"),
    "dpi zero": (
        lambda p, d: p.savefig(d / "fig.png", dpi=0),
        ValueError,
        r"option 'dpi' = 0: must be a number >= 10 dots per inch",
    ),
    "dpi negative": (
        lambda p, d: p.savefig(d / "fig.png", dpi=-300),
        ValueError,
        r"option 'dpi' = -300: must be a number >= 10",
    ),
    "dpi as text": (
        lambda p, d: p.savefig(d / "fig.png", dpi="300"),
        ValueError,
        r"option 'dpi' = '300': must be a number >= 10",
    ),
    "missing directory": (
        lambda p, d: p.savefig(d / "nope" / "fig.pdf"),
        FileNotFoundError,
        r"nope' does not exist; create it first",
    ),
    "directory is a file": (
        lambda p, d: (d / "taken").write_text("x") and p.savefig(d / "taken" / "fig.pdf"),
        FileNotFoundError,
        r"taken' is a file, not a directory",
    ),
    "table not tsv": (
        lambda p, d: sch.export.write_table(p.data, d / "table.xlsx"),
        ValueError,
        r"use a \.tsv path, not '.*table\.xlsx'",
    ),
    "html path not html": (
        lambda p, d: sch.pl.interactive_heatmap(p, path=d / "page.png"),
        ValueError,
        r"use a \.html path, not '.*page\.png'",
    ),
}


@pytest.mark.parametrize("name", list(EXPORT_CASES))
def test_bad_export_gives_a_clear_error_and_writes_nothing(name, plot, tmp_path):
    call, error, message = EXPORT_CASES[name]
    before = {p.name for p in tmp_path.iterdir()}
    with pytest.raises(error, match=message):
        call(plot, tmp_path)
    assert {p.name for p in tmp_path.iterdir()} - before <= {"taken"}


@pytest.mark.parametrize("ext", ["png", "pdf", "tsv", "html"])
def test_read_only_directory_names_it_and_keeps_it_empty(ext, plot, read_only_dir):
    call = {
        "png": lambda: plot.savefig(read_only_dir / "fig.png"),
        "pdf": lambda: sch.pl.savefig(plot.figure, read_only_dir / "fig.pdf"),
        "tsv": lambda: sch.export.write_table(plot.data, read_only_dir / "t.tsv"),
        "html": lambda: sch.pl.interactive_heatmap(plot, path=read_only_dir / "p.html"),
    }[ext]
    with pytest.raises(PermissionError, match=r"read_only'.*choose a writable directory"):
        call()
    assert list(read_only_dir.iterdir()) == []


# --- the command line (in process: exit code and message) -----------------------------------

EXAMPLE = str(ROOT / "data" / "example.h5ad")
HEATMAP = ["heatmap", "-i", EXAMPLE, "-x", "dataset", "-y", "CD3E"]

CLI_CASES = {
    "unknown command": (["draw"], 2, r"invalid choice: 'draw' \(choose from 'markers'"),
    "input missing": (["heatmap", "-x", "dataset"], 2, r"-i/--input"),
    "format unknown": ([*HEATMAP, "--format", "gif"], 2, r"unknown format.*'gif'.*png"),
    "dpi zero": ([*HEATMAP, "--dpi", "0"], 2, r"'0' is out of range.*10 to 2400"),
    "kwargs key": ([*HEATMAP, "--kwargs", "centre:1"], 2, r"'centre'.*accepted keys are center"),
    "markers n zero": (
        ["markers", "-i", EXAMPLE, "--groupby", "cluster", "-n", "0"],
        2,
        r"'0'.*positive",
    ),
    "markers method": (
        ["markers", "-i", EXAMPLE, "--groupby", "cluster", "--method", "ttest"],
        2,
        r"invalid choice: 'ttest' \(choose from 't-test'",
    ),
    "filter syntax": ([*HEATMAP, "-f", "row any >= abc"], 2, r"expected a number at column 12"),
    "dual one gene": (["dual", "-i", EXAMPLE, "--genes", "ISG15"], 2, r"exactly two genes"),
    "input file missing": (
        ["heatmap", "-i", "missing.h5ad", "-x", "dataset", "-y", "CD3E"],
        1,
        r"'missing\.h5ad' does not exist",
    ),
    "gene typo": ([*HEATMAP[:-1], "CD3"], 1, r"'CD3' \(did you mean 'CD3E'"),
    "obs key typo": (
        ["heatmap", "-i", EXAMPLE, "-x", "datset", "-y", "CD3E"],
        1,
        r"'datset'.*Did you mean 'dataset'",
    ),
    "cluster unknown": (
        [*HEATMAP, "--cluster-key", "cluster", "--clusters", "Zeta"],
        1,
        r"\['Zeta'\] are not categories of 'cluster'",
    ),
    "source missing": (
        [*HEATMAP, "--source", "integrated"],
        1,
        r"source='integrated' is not available",
    ),
}


@pytest.mark.parametrize("name", list(CLI_CASES))
def test_bad_cli_input_exits_with_a_clear_message(name, capsys, tmp_path):
    from sc_heatmaps.cli import main

    argv, code, message = CLI_CASES[name]
    out = ["-o", str(tmp_path / "out")] if argv[0] in ("heatmap", "markers") and code == 1 else []
    try:
        status = main([*argv, *out])
    except SystemExit as exit_:  # argparse's own usage errors
        status = exit_.code
    err = capsys.readouterr().err
    assert status == code, err
    assert re.search(message, err, re.S), err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_cli_read_only_output_directory(capsys, read_only_dir):
    from sc_heatmaps.cli import main

    status = main([*HEATMAP, "-o", str(read_only_dir / "fig"), "--format", "png"])
    err = capsys.readouterr().err
    assert status == 1 and re.search(r"read_only'.*writable directory", err), err
    assert list(read_only_dir.iterdir()) == []


def test_catalogue_size():
    """The issue asks for at least 40 cases across tl, get, pp, pl, export and the CLI."""
    assert len(CASES) + len(EXPORT_CASES) + 4 + len(CLI_CASES) + 1 >= 40


# --- edge cases that are not errors -------------------------------------------------------


def test_a_one_cell_cluster_is_kept_everywhere_but_markers():
    """A one-cell cluster is a valid group: its mean is that cell, its fraction 0 or 1,
    and it keeps its own column in the per-cell heatmap; only markers refuse it."""
    a = _one_cell_cluster()
    cell = np.flatnonzero(a.obs["cluster"] == "c3")
    assert len(cell) == 1
    genes = ["G00", "G12", "G13"]
    values = a[cell, genes].X.toarray()[0]
    ge = sch.get.grouped_expression(a, genes, "cluster")
    np.testing.assert_allclose(ge.matrix["c3"].to_numpy(), values, rtol=1e-6)
    frac = sch.get.grouped_expression(a, genes, "cluster", stat="fraction")
    np.testing.assert_array_equal(frac.matrix["c3"].to_numpy(), (values > 0).astype(float))
    z = sch.get.grouped_expression(a, genes, "cluster", scale="zscore")
    assert np.isfinite(z.matrix.to_numpy()).all()
    plot = sch.pl.cell_heatmap(a, genes, "cluster", max_cells_per_group=5)
    assert (plot.columns["group"] == "c3").sum() == 1
    corr = sch.get.correlation(a, genes=genes, groupby="cluster", min_nonzero=0)
    assert corr.matrices["c3"].empty  # one cell: nothing to correlate, and it says why
    assert set(corr.dropped.loc[corr.dropped["group"] == "c3", "variable"]) == set(genes)
    plt.close("all")
