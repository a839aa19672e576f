"""The ``differences`` subcommand: the table of tl.dataset_differences and its heatmap."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest
import scanpy as sc
from test_pseudobulk import make_counts

import sc_heatmaps as sch
from sc_heatmaps.cli import main

BASE = ["--dataset-key", "condition", "--cluster-key", "cluster", "--reference", "ctrl"]


@pytest.fixture(scope="module")
def counts_file(tmp_path_factory):
    """Counts in layers["counts"], log-normalised values in X (the usual layout)."""
    adata = make_counts()
    adata.layers["counts"] = adata.X.copy()
    sc.pp.normalize_total(adata)
    sc.pp.log1p(adata)
    path = tmp_path_factory.mktemp("cli") / "counts.h5ad"
    adata.write_h5ad(path)
    return path


def test_pseudobulk_table_and_heatmap_written(counts_file, tmp_path, capsys):
    out = tmp_path / "figs" / "stim_vs_ctrl"
    argv = ["differences", "-i", str(counts_file), *BASE, "--sample-key", "sample"]
    argv += ["--design", "donor", "--layer", "counts", "--min-counts", "0", "--dpi", "50"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pydeseq2: few residual df
        assert main([*argv, "-o", str(out)]) == 0
        expected = sch.tl.dataset_differences(
            sc.read_h5ad(counts_file),
            "condition",
            "cluster",
            reference="ctrl",
            method="pseudobulk",
            sample_key="sample",
            design_covariates=["donor"],
            layer="counts",
            min_counts=0,
        )
    printed = capsys.readouterr().out.split()
    table_path = out.with_name("stim_vs_ctrl_differences.tsv")
    assert str(table_path) in printed and str(out.with_suffix(".png")) in printed
    table = pd.read_csv(table_path, sep="\t")
    assert list(table.columns) == list(expected.columns)
    assert "baseMean" in table.columns
    assert table["gene"].astype(str).tolist() == expected["gene"].astype(str).tolist()
    pd.testing.assert_series_equal(table["logfc"], expected["logfc"], rtol=1e-5)
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert "pseudobulk DESeq2" in json.dumps(sidecar) and "~ donor + condition" in json.dumps(
        sidecar
    )


def test_cell_level_heatmap_says_exploratory(counts_file, tmp_path):
    out = tmp_path / "cells"
    argv = ["differences", "-i", str(counts_file), *BASE, "--dpi", "50", "-o", str(out)]
    assert main(argv) == 0
    sidecar = json.dumps(json.loads(out.with_suffix(".json").read_text()))
    assert "cell-level test (exploratory)" in sidecar
    table = pd.read_csv(tmp_path / "cells_differences.tsv", sep="\t")
    assert "baseMean" not in table.columns


def _exit_code(argv) -> int:
    """main's return code, or argparse's exit code for errors found while parsing."""
    try:
        return main(argv)
    except SystemExit as exit_:
        return exit_.code


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--method", "bogus"], "invalid choice"),
        (["--min-cells", "-1"], "--min-cells"),
        (["--min-cells", "0", "--sample-key", "sample"], "--min-cells 0"),
        (["--n-cpus", "0"], "--n-cpus"),
        (["--method", "pseudobulk"], "needs --sample-key"),
        (["--design", "donor"], "only apply to --method pseudobulk"),
        (["--sample-key", "sample", "--layer", "counts", "--source", "x"], "give one"),
    ],
)
def test_bad_values_exit_2_with_a_message(counts_file, tmp_path, capsys, extra, message):
    argv = ["differences", "-i", str(counts_file), *BASE, *extra, "-o", str(tmp_path / "x")]
    assert _exit_code(argv) == 2
    assert message in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
