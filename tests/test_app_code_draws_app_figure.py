"""The app's Python snippet and command line draw exactly the figure the app shows:
markers on a layer that lacks some genes, and group names holding the command line's
separators (commas, semicolons, colons, quotes, spaces)."""

from __future__ import annotations

import os
import shlex

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import sc_heatmaps as sch
from sc_heatmaps._quoting import quote_names
from sc_heatmaps.app import _figures, load_state
from sc_heatmaps.app._calls import make_call
from sc_heatmaps.cli import main
from sc_heatmaps.cli._args import names, subset

ODD_NAMES = ["T, CD4", 'say "hi"', " lead space", "a;b", "c:d", "plain"]


def _small(n_per_cluster: int = 30):
    """Six clusters of the example with the cluster names given."""
    adata = sch.datasets.example()
    keep = adata.obs["cluster"].isin(list(adata.obs["cluster"].cat.categories[:6]))
    adata = adata[keep & (adata.obs["dataset"] == adata.obs["dataset"].iloc[0])].copy()
    adata.obs["cluster"] = adata.obs["cluster"].cat.remove_unused_categories()
    adata.obs["cluster"] = adata.obs["cluster"].cat.rename_categories(ODD_NAMES)
    return adata


def _lacking_layer(adata, n_genes: int):
    """An "integrated" layer with NaN in every cell for the best marker of each of the
    first three clusters (as scanpy ranks them on "RNA")."""
    import scanpy as sc

    ranked = adata.copy()
    sc.tl.rank_genes_groups(ranked, "cluster", method="t-test")
    table = pd.DataFrame(ranked.uns["rank_genes_groups"]["names"])
    lost = [table[c].iloc[0] for c in table.columns[:3]]
    X = np.asarray(adata.X.toarray() if hasattr(adata.X, "toarray") else adata.X, dtype=float)
    X[:, adata.var_names.get_indexer(lost)] = np.nan
    adata.layers["integrated"] = X
    return lost


def _cli_data(line: str, tmp_path, n_index: int) -> pd.DataFrame:
    """Run the printed command line in-process; the matrix it drew (its TSV sidecar)."""
    args = shlex.split(line.splitlines()[0])[1:]
    out = args.index("-o")
    args[out + 1] = str(tmp_path / "cli")
    assert main(args) == 0
    return pd.read_csv(
        tmp_path / "cli.tsv", sep="\t", index_col=list(range(n_index)), keep_default_na=False
    )


def _snippet_data(code: str, tmp_path) -> pd.DataFrame:
    namespace: dict = {}
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(compile(code, "<app snippet>", "exec"), namespace)
    finally:
        os.chdir(cwd)
    return namespace["plot"].data


def _labels(frame: pd.DataFrame) -> tuple[list, list]:
    rows = [tuple(map(str, r)) if isinstance(r, tuple) else str(r) for r in frame.index]
    return rows, [str(c) for c in frame.columns]


@pytest.fixture(scope="module")
def lacking_file(tmp_path_factory):
    adata = _small()
    lost = _lacking_layer(adata, 3)
    path = tmp_path_factory.mktemp("lacking") / "data.h5ad"
    adata.write_h5ad(path)
    return path, lost


def test_markers_on_a_layer_lacking_genes_are_the_same_in_app_snippet_and_cli(
    lacking_file, tmp_path
):
    path, lost = lacking_file
    state = load_state([path])
    clusters = ODD_NAMES[::-1]
    call = make_call(
        "heatmap",
        [],
        groupby=["cluster"],
        markers="top",
        n_genes=3,
        cluster_key="cluster",
        clusters=clusters,
        source="integrated",
        missing="drop",
    )
    app = _figures.draw(state, call).data
    code, line = _figures.code_texts(state, call, "png", 100)
    # every cluster keeps 3 genes (refilled from its ranking), none of them lacking
    assert len(app) == 3 * len(clusters)
    assert not set(lost) & set(app.index.get_level_values("gene"))
    assert [str(c) for c in app.columns] == clusters
    pd.testing.assert_frame_equal(_snippet_data(code, tmp_path), app)
    assert _labels(_cli_data(line, tmp_path, app.index.nlevels)) == _labels(app)


def test_group_names_with_separators_round_trip_through_the_command_line(tmp_path):
    adata = _small()
    path = tmp_path / "odd.h5ad"
    adata.write_h5ad(path)
    state = load_state([path])
    clusters = [ODD_NAMES[i] for i in (3, 0, 1, 4, 2)]
    genes = [str(g) for g in adata.var_names[:4]]
    call = make_call(
        "heatmap", genes, groupby=["cluster"], cluster_key="cluster", clusters=clusters
    )
    app = _figures.draw(state, call).data
    code, line = _figures.code_texts(state, call, "png", 100)
    assert [str(c) for c in app.columns] == clusters
    assert _labels(_cli_data(line, tmp_path, app.index.nlevels)) == _labels(app)
    pd.testing.assert_frame_equal(_snippet_data(code, tmp_path), app)


@given(st.lists(st.text(min_size=0, max_size=8), min_size=1, max_size=5))
def test_quoted_name_lists_read_back_as_written(items):
    assert names(quote_names(items)) == items


@given(
    st.text(min_size=1, max_size=6).filter(lambda k: k.strip() and k != "other"),
    st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=4),
)
def test_quoted_subset_reads_back_as_written(key, values):
    text = f"{quote_names([key])}:{quote_names(values)};other:x"
    assert subset(text) == {key: values, "other": ["x"]}


def test_a_lone_quote_in_an_unquoted_name_is_refused_with_the_way_to_write_it():
    import argparse

    with pytest.raises(argparse.ArgumentTypeError, match="unclosed double quote"):
        names('5"UTR')
    assert names('"5""UTR",B') == ['5"UTR', "B"]
    assert names(" a , b ,, c") == ["a", "b", "c"]  # unquoted names are stripped
