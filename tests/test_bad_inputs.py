"""A catalogue of bad inputs: each one raises our error, naming the bad value and what is valid.

(A start on the hardening issue; the CLI's exit codes are in test_cli.py.)
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_synthetic

import sc_heatmaps as sch


def _dup_names():
    a = make_synthetic()
    a.var_names = ["G00", *a.var_names[1:-1], "G00"]
    return a


def _nan_x():
    a = make_synthetic()
    X = a.X.toarray()
    X[0, 0] = np.nan
    a.X = X
    return a


def _empty():
    return make_synthetic()[:0].copy()


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
        r"vmin=2 must be smaller",
    ),
    "vcenter outside": (
        make_synthetic,
        lambda a: sch.pl.grouped_heatmap(a, ["G00"], "cluster", vmin=0, vmax=1, vcenter=3),
        ValueError,
        r"vcenter=3 must lie",
    ),
    "figsize too small": (
        make_synthetic,
        lambda a: sch.pl.grouped_heatmap(a, ["G00"], "cluster", figsize=(-1, 3)),
        ValueError,
        r"figsize=\(-1, 3\) is too small",
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
        r"reduce='x'.*'bins', 'sample'",
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
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_gives_a_clear_error(name):
    make, call, error, message = CASES[name]
    with pytest.raises(error, match=message):
        call(make())
