"""Every drawn or written label names exactly one gene or group, whatever the names.

Hypothesis draws category, gene, symbol and obs-column names that trip up labelling:
the separator " / ", quotes, digit strings next to integers (``1`` and ``"1"``),
empty-looking names, and one name shared by a gene, another gene's symbol and an obs
column. For every figure kind the labels read back from the drawn artists (tick
labels, legend texts), the interactive page and the TSV sidecar must map one to one
onto the data's rows and columns, and the values drawn must be those of the right
gene or group, computed here with numpy. A collision may instead be refused, with a
ValueError that names both sources.
"""

from __future__ import annotations

import io
import json
import os
import re

import anndata as ad
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from matplotlib.colors import to_hex
from matplotlib.text import Text

import sc_heatmaps as sch

FAST = int(os.environ.get("SC_HEATMAPS_FUZZ_EXAMPLES", "10")) <= 20
EXAMPLES = 15 if FAST else 100
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
TRICKY = [" / ", "x / y", "T / x", "T", "y", "x", "'a'", '"a"', "'", "1", " ", "", "all", "x /"]
TRICKY += ["/ y", "None", "nan", "B cells", "B cells ", "G0", "G1", "ISG15"]
NAME = st.one_of(st.sampled_from(TRICKY), st.integers(0, 2), st.text("a/ '\"1", max_size=4))
COLLISION = re.compile(r"both display as|which is both an obs column and a gene")


def _distinct(n: int):
    """n names that pandas accepts as distinct categories (1 and "1" may both be there)."""
    return st.lists(NAME, min_size=n, max_size=n, unique_by=lambda v: (type(v), v))


@st.composite
def datasets(draw):
    """A small AnnData: 2 datasets x 3 clusters with drawn names, 6 genes (two named by
    drawn names), symbols that may be other genes' var_names, an obs column named like
    a gene."""
    ds, cl = draw(_distinct(2)), draw(_distinct(3))
    extra = draw(st.lists(st.sampled_from(["G0", "G1", "ISG15", "1", "x / y", "all"]), max_size=2))
    var_names = list(dict.fromkeys(["G0", "G1", "G2", "G3", *map(str, extra)]))
    while len(var_names) < 6:
        var_names.append(f"V{len(var_names)}")
    pool = [None, "ISG15", "G1", "G0", "S1", "S2", "x / y"]
    symbols = draw(st.lists(st.sampled_from(pool), min_size=6, max_size=6))
    seed = draw(st.integers(0, 2**16))
    return _adata(ds, cl, var_names, symbols, seed)


def _adata(ds, cl, var_names, symbols, seed):
    rng = np.random.default_rng(seed)
    n = 60
    X = rng.gamma(2.0, 1.0, (n, len(var_names))) * (rng.random((n, len(var_names))) > 0.2)
    obs = pd.DataFrame(
        {
            "ds": pd.Categorical([ds[i % 2] for i in range(n)], categories=ds),
            "cl": pd.Categorical([cl[(i // 2) % 3] for i in range(n)], categories=cl),
            "ISG15": rng.normal(size=n),
            "G1": rng.normal(size=n),
        },
        index=[f"c{i}" for i in range(n)],
    )
    var = pd.DataFrame({"symbol": symbols}, index=var_names)
    return ad.AnnData(X, obs=obs, var=var)


def _refused(err: Exception) -> None:
    """A refusal must say which two sources collide (or be an ordinary name check)."""
    if isinstance(err, ValueError) and COLLISION.search(str(err)):
        return
    raise err


def _texts(axes) -> list[str]:
    return [t.get_text() for ax in axes or [] for t in ax.texts]


def _gene_of_row(adata, values: np.ndarray, cells_of_col: list[np.ndarray]) -> str:
    """The one gene whose per-column means are ``values`` (random data: means differ)."""
    X = np.asarray(adata.X)
    means = np.column_stack([X[m].mean(axis=0) for m in cells_of_col])  # genes x cols
    hits = [g for g, row in zip(adata.var_names, means, strict=True) if np.allclose(row, values)]
    assert len(hits) == 1, hits
    return hits[0]


def _cells(adata, col_meta: pd.DataFrame) -> list[np.ndarray]:
    obs = adata.obs
    return [
        np.logical_and.reduce([(obs[k] == row[k]).to_numpy() for k in col_meta.columns])
        for _, row in col_meta.iterrows()
    ]


def _check_heatmap_labels(plot, rows: bool = True, cols: bool = True) -> None:
    """Drawn tick labels equal the data's labels, and the data's labels are distinct."""
    genes = [str(g) for g in plot.data.index.get_level_values(-1)]
    assert len(set(genes)) == len(genes)
    if rows:
        assert _texts(plot.axes["row_labels"]) == genes
    labels = [str(c) for c in plot.data.columns]
    assert len(set(labels)) == len(labels)
    if cols:
        assert _texts(plot.axes["col_labels"]) == labels


def _check_page_and_sidecar(plot) -> None:
    page = sch.pl.interactive_heatmap(plot)
    raw = re.search(r'<script id="sch-data" type="application/json">(.*?)</script>', page, re.S)
    data = json.loads(raw.group(1))
    assert data["rows"] == [str(g) for g in plot.data.index.get_level_values(-1)]
    assert data["cols"] == [str(c) for c in plot.data.columns]
    table = plot.sidecar_table()
    buffer = io.StringIO()
    table.to_csv(buffer, sep="\t")
    back = pd.read_csv(io.StringIO(buffer.getvalue()), sep="\t", dtype=str, keep_default_na=False)
    assert list(back.columns[table.index.nlevels :]) == [str(c) for c in table.columns]


VARS = ["G0", "G1", "G2", "G3", "ISG15", "V5"]
# G0's symbol is G1's var_name; the block keys 1 and "1"
SHARED = _adata(
    ["x / y", "x"], ["T / x", "1", "all"], VARS, ["G1", None, "ISG15", None, "S1", None], 0
)


@SETTINGS
@given(adata=datasets(), keys=_distinct(2), pick=st.lists(st.integers(0, 5), min_size=2))
@example(adata=SHARED, keys=[1, "1"], pick=[0, 1])
@example(adata=SHARED, keys=["A", "B"], pick=[0, 1])
def test_grouped_heatmap_rows_and_columns_name_one_gene_and_group(adata, keys, pick):
    genes = list(adata.var_names)
    blocks = {keys[0]: [genes[pick[0]]], keys[1]: [genes[pick[1] % 6]]}
    if blocks[keys[0]] == blocks[keys[1]]:
        blocks = {keys[0]: blocks[keys[0]]}
    wanted = [g for block in blocks.values() for g in block]
    try:
        plot = sch.pl.grouped_heatmap(
            adata, blocks, ["ds", "cl"], gene_symbols="symbol", labels="all", scale=None
        )
    except ValueError as err:
        _refused(err)
        return
    try:
        _check_heatmap_labels(plot)
        drawn_blocks = [str(b) for b in dict.fromkeys(plot.data.index.get_level_values(0))]
        assert drawn_blocks == [str(k) for k in blocks]  # every block drawn, none merged
        cells = _cells(adata, plot.spec.col_meta)
        drawn = [_gene_of_row(adata, row, cells) for row in plot.data.to_numpy()]
        assert drawn == wanted  # the genes asked for, each in its own block
        _check_page_and_sidecar(plot)
    finally:
        plt.close("all")


@SETTINGS
@given(adata=datasets())
def test_cell_heatmap_rows_name_one_gene(adata):
    genes = list(adata.var_names[:4])
    try:
        plot = sch.pl.cell_heatmap(adata, genes, ["ds", "cl"], max_cells_per_group=None)
    except ValueError as err:
        _refused(err)
        return
    try:
        _check_heatmap_labels(plot, cols=False)
        X = np.asarray(adata.X)[:, :4]
        in_group = _cells(adata, plot.spec.col_meta)
        drawn = []  # the cell behind every column: in the column's group, each cell once
        for j, values in enumerate(plot.data.to_numpy().T):
            # cells with the same values in the 4 genes (e.g. all four 0) are alike: take
            # the first of the column's group not drawn yet
            same = np.all(np.isclose(X, values), axis=1) & in_group[j]
            hits = [i for i in np.flatnonzero(same) if i not in drawn]
            assert hits, f"column {j} shows no cell of its group"
            drawn.append(hits[0])
        assert sorted(drawn) == list(range(adata.n_obs))
    finally:
        plt.close("all")


@SETTINGS
@given(adata=datasets())
@example(adata=SHARED)
def test_correlation_keeps_a_gene_and_an_obs_column_of_one_name_apart(adata):
    genes = list(adata.var_names[:4])
    try:
        plot = sch.pl.correlation_heatmap(
            adata,
            rows="genes",
            cols="obs",
            genes=genes,
            obs_keys=["ISG15", "G1"],
            min_nonzero=0,
            cluster=False,
            gene_symbols="symbol",
        )
    except ValueError as err:
        _refused(err)
        return
    try:
        rows, cols = [str(r) for r in plot.data.index], [str(c) for c in plot.data.columns]
        assert len(set(rows)) == len(rows) and len(set(cols)) == len(cols)
        texts = [t.get_text() for t in plot.figure.findobj(Text) if t.get_visible()]
        drawn = [t for t in texts if t.strip()][: len(rows) + len(cols)]
        assert drawn == rows + cols  # row labels, then column labels, as drawn
        X = np.asarray(adata.X)
        for i, gene in enumerate(genes):  # rows are the genes asked for, in order
            for j, key in enumerate(["ISG15", "G1"]):
                r = np.corrcoef(X[:, i], adata.obs[key].to_numpy())[0, 1]
                assert plot.data.iloc[i, j] == pytest.approx(r, abs=1e-9), (gene, key)
        _check_page_and_sidecar(plot)
    finally:
        plt.close("all")


@SETTINGS
@given(clusters=_distinct(2), datasets_=_distinct(2), seed=st.integers(0, 2**16))
@example(clusters=["T", "T / x"], datasets_=["x / y", "y"], seed=0)
def test_differences_columns_name_one_cluster_and_dataset(clusters, datasets_, seed):
    rng = np.random.default_rng(seed)
    pairs = [(c, d) for c in clusters for d in datasets_]
    table = pd.DataFrame(
        [(c, d, "ref", g) for c, d in pairs for g in ("A", "B")],
        columns=["cluster", "dataset", "reference", "gene"],
    ).assign(logfc=rng.normal(size=2 * len(pairs)), score=1.0, pval_adj=0.01)
    try:
        plot = sch.pl.dataset_differences_heatmap(table, genes=["A", "B"], labels="all")
    except ValueError as err:
        _refused(err)
        return
    try:
        _check_heatmap_labels(plot)
        meta = plot.spec.col_meta
        for j, (c, d) in enumerate(zip(meta.iloc[:, 0], meta.iloc[:, 1], strict=True)):
            rows = table[(table["cluster"].astype(str) == c) & (table["dataset"].astype(str) == d)]
            np.testing.assert_allclose(plot.data.iloc[:, j], rows.set_index("gene")["logfc"])
        assert len(meta) == len(pairs)
        _check_page_and_sidecar(plot)
    finally:
        plt.close("all")


@SETTINGS
@given(adata=datasets())
@example(adata=_adata(["d", "e"], ["B cells", "B cells ", "all"], VARS, [None] * 6, 0))
def test_dual_expression_legend_and_stats_name_one_group(adata):
    try:
        plot = sch.pl.dual_expression(adata, "G2", "G3", color="cl")
    except ValueError as err:
        _refused(err)
        return
    try:
        stats = plot.stats
        pooled = stats[stats["all_groups"]]
        assert list(pooled["group"]) == [None]  # never a name a category could have
        groups = list(stats.loc[~stats["all_groups"], "group"])
        present = [str(c) for c in adata.obs["cl"].cat.categories]
        assert groups == present
        legend = plot.axes["legend"]
        texts = [t.get_text() for t in legend.get_texts()]
        assert len(set(texts)) == len(texts) == len(groups)
        colors = sch.get.category_colors(adata, "cl")
        handles = [to_hex(h.get_markerfacecolor()) for h in legend.legend_handles]
        assert handles == [colors[g] for g in groups]
    finally:
        plt.close("all")


@pytest.mark.exhaustive
@settings(SETTINGS, max_examples=int(os.environ.get("SC_HEATMAPS_LABEL_EXAMPLES", "300")))
@given(adata=datasets(), keys=_distinct(2), pick=st.lists(st.integers(0, 5), min_size=2))
def test_grouped_heatmap_labels_many_examples(adata, keys, pick):
    test_grouped_heatmap_rows_and_columns_name_one_gene_and_group.hypothesis.inner_test(
        adata, keys, pick
    )
