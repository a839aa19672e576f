"""Property-based fuzzing of the public API with hypothesis (hardening, part 4).

One composite strategy, :func:`anndatas`, builds random multi-dataset AnnData:
1 to 50 cells per (dataset, cluster) group, unused categories, NaN labels,
integers-as-strings (or awkward, or integer) categories in a user's unsorted order,
any sparsity, CSR/CSC or dense X of several dtypes, an optional ``integrated`` layer
(sometimes with NaN or inf genes), an optional ``counts`` layer and an optional
``.raw`` with more genes. :func:`cases` adds the usual options (source, groupby,
cluster subset, genes) and sometimes takes a view; :func:`frames` builds tables for
``matrix_heatmap``.

Every public ``sch.get``, ``sch.pl`` and ``sch.tl.top_markers`` call must either
return a well-formed result (checked against numpy where a number is computed) or
raise our own ``ValueError`` / ``KeyError`` / ``TypeError`` from a ``raise``
statement in sc_heatmaps, with a message; and it must leave the AnnData untouched.

``SC_HEATMAPS_FUZZ_EXAMPLES`` sets the examples per test (default 25); with
``CI=true`` the examples are derandomised so that runs are reproducible.
``--hypothesis-show-statistics`` shows how often each outcome (a result, or which
error) occurred. Regression tests for the defects the fuzzing found are at the end.
"""

from __future__ import annotations

import json
import os
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import anndata as ad
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from conftest import MARKER_COLUMNS, fingerprint, make_synthetic
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from matplotlib.colors import is_color_like, to_hex
from scipy import sparse

import sc_heatmaps as sch

FILTERS = ("row any >= 0.5", "col all < 3", "row any > 1 AND col any >= 0", "row all >= 9")
EXAMPLES = int(os.environ.get("SC_HEATMAPS_FUZZ_EXAMPLES", "25"))
CI = os.environ.get("CI", "").lower() == "true"
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=CI,
    database=None if CI else settings.default.database,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)

PACKAGE = Path(sch.__file__).resolve().parent
OUR_ERRORS = (ValueError, KeyError, TypeError)
SEP = " / "
DTYPES = (np.float32, np.float64, np.int32, np.int64, np.bool_)
NUMERIC_OBS = ("total_counts", "n_genes", "score")
MISSING_GENE = "NOT-A-GENE"
OBS_COLUMNS = ("dataset", "cluster", *NUMERIC_OBS, "doublet")
GENE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
WORDS = ("B", "T", "NK", "Mono", "DC", "ctrl", "stim", "ko", "Plasma", "pDC", "HSC")
# names that trip up string handling: a trailing space, "all", "nan", a float look-alike
TRICKY = ("B cells ", "all", "nan", "NA", "CD4+ T", "1.0", "T/NK", "-1")


# --------------------------------------------------------------------------------------
# the generator
# --------------------------------------------------------------------------------------


def _category_names(draw, prefix: str, n: int) -> list:
    """``n`` names in the user's order (never sorted): words, integers-as-strings,
    awkward strings, or (sometimes) real integers."""
    style = draw(st.sampled_from(["prefix", "ints", "words", "tricky", "int-dtype"]))
    if style in ("ints", "int-dtype"):
        ints = draw(st.lists(st.integers(0, 30), min_size=n, max_size=n, unique=True))
        return ints if style == "int-dtype" else [str(i) for i in ints]
    if style in ("words", "tricky"):
        pool = WORDS if style == "words" else TRICKY
        return draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n, unique=True))
    return [f"{prefix}{i}" for i in draw(st.permutations(range(n)))]


def _with_unused(draw, names: list, pool: list[str]) -> list:
    """Categories: the used names plus 0-2 unused ones, at drawn positions."""
    if names and not isinstance(names[0], str):
        pool = [97, 98]
    extra = [p for p in pool if p not in names][: draw(st.integers(0, 2))]
    categories = list(names)
    for name in extra:
        categories.insert(draw(st.integers(0, len(categories))), name)
    return categories


def _labels(draw, rng, names, counts_axis, categories, n_cells):
    """A categorical label column (sometimes plain strings), with some NaN labels."""
    values = np.asarray(names, dtype=object)[counts_axis]
    nan_share = draw(st.sampled_from([0.0, 0.0, 0.05, 0.3]))
    values[rng.random(n_cells) < nan_share] = None
    if isinstance(names[0], str) and draw(st.integers(0, 4)) == 0:
        return values  # object column: the package sorts its values
    return pd.Categorical(values, categories=categories)


def _matrix(draw, rng, n_cells: int, n_genes: int):
    """Random expression values: sparsity, dtype and layout all drawn."""
    zero = draw(st.floats(0.0, 0.95))
    dtype = draw(st.sampled_from(DTYPES))
    counts = rng.gamma(2.0, 2.0, (n_cells, n_genes)) * (rng.random((n_cells, n_genes)) >= zero)
    if dtype is np.bool_:
        values = counts > 0
    elif np.issubdtype(dtype, np.integer):
        values = np.round(counts * 3).astype(dtype)
    else:
        values = np.log1p(counts).astype(dtype)
    layout = draw(st.sampled_from(["csr", "csr", "dense", "dense", "csc"]))
    return values if layout == "dense" else sparse.csr_matrix(values).asformat(layout)


def _integrated(draw, rng, n_cells: int, n_genes: int):
    """Seurat-style integrated values: dense, centred (negatives), sometimes NaN genes."""
    values = rng.normal(0.0, 1.0, (n_cells, n_genes)).astype(
        draw(st.sampled_from([np.float32, np.float64]))
    )
    nan_mode = draw(st.sampled_from(["none", "none", "genes", "cells", "inf"]))
    if nan_mode != "none":
        genes = rng.choice(n_genes, draw(st.integers(1, max(1, n_genes // 2))), replace=False)
        rows = np.ones(n_cells, bool) if nan_mode == "genes" else rng.random(n_cells) < 0.2
        values[np.ix_(rows, genes)] = np.inf if nan_mode == "inf" else np.nan
    return sparse.csr_matrix(values) if draw(st.integers(0, 3)) == 0 else values


def _obs(draw, rng, n_cells: int, X) -> pd.DataFrame:
    totals = np.asarray(X.sum(axis=1)).ravel().astype(np.float64)
    obs = pd.DataFrame(
        {
            "total_counts": totals,
            "n_genes": np.asarray((X != 0).sum(axis=1)).ravel().astype(np.int64),
            "score": rng.normal(size=n_cells).astype(np.float32),
            "doublet": rng.random(n_cells) < 0.1,
        },
        index=[f"cell{i}" for i in range(n_cells)],
    )
    if draw(st.booleans()):
        obs.loc[rng.random(n_cells) < 0.1, "total_counts"] = np.nan
    if draw(st.integers(0, 3)) == 0:  # pandas nullable integers, with missing values
        nullable = pd.array(obs["n_genes"].to_numpy(), dtype="Int64")
        nullable[rng.random(n_cells) < 0.1] = pd.NA
        obs["n_genes"] = nullable
    return obs


def _colors(draw, n: int):
    kind = draw(st.sampled_from(["none", "none", "valid", "short", "invalid"]))
    if kind == "none":
        return None
    colors = [to_hex(plt.cm.tab20(i % 20)) for i in range(n)]
    if kind == "short":
        return colors[:-1]
    if kind == "invalid":
        return ["not-a-colour", *colors[1:]]
    return colors


@st.composite
def anndatas(draw) -> ad.AnnData:
    """A random multi-dataset AnnData (see the module docstring)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    datasets = _category_names(draw, "d", draw(st.integers(1, 3)))
    clusters = _category_names(draw, "c", draw(st.integers(1, 4)))
    n_combos = len(datasets) * len(clusters)
    per_group = draw(st.lists(st.integers(1, 50), min_size=n_combos, max_size=n_combos))
    if n_combos > 1 and draw(st.booleans()):  # some (dataset, cluster) pairs have no cells
        for empty in draw(st.lists(st.integers(0, n_combos - 1), max_size=n_combos - 1)):
            per_group[empty] = 0
        per_group[draw(st.integers(0, n_combos - 1))] = draw(st.integers(1, 50))
    combos = np.repeat(np.arange(len(per_group)), per_group)
    rng.shuffle(combos)
    n_cells = len(combos)
    d_idx, c_idx = np.divmod(combos, len(clusters))
    d_cats = _with_unused(draw, datasets, ["d_unused", "99"])
    c_cats = _with_unused(draw, clusters, ["c_unused", "42"])
    names = draw(st.lists(st.text(GENE_ALPHABET, min_size=1, max_size=7), min_size=3, max_size=12))
    genes = list(dict.fromkeys(f"g-{g}" if g in OBS_COLUMNS else g for g in names))
    genes += [f"pad+{i}" for i in range(3 - len(genes))]  # unique names, at least 3
    X = _matrix(draw, rng, n_cells, len(genes))
    obs = _obs(draw, rng, n_cells, X)
    obs["dataset"] = _labels(draw, rng, datasets, d_idx, d_cats, n_cells)
    obs["cluster"] = _labels(draw, rng, clusters, c_idx, c_cats, n_cells)
    adata = ad.AnnData(X=X, obs=obs, var=pd.DataFrame(index=genes))
    if draw(st.booleans()):
        adata.var["highly_variable"] = rng.random(len(genes)) < 0.5
    if draw(st.booleans()):
        adata.layers["integrated"] = _integrated(draw, rng, n_cells, len(genes))
    if draw(st.booleans()):
        adata.layers["counts"] = _matrix(draw, rng, n_cells, len(genes))
    if draw(st.booleans()):
        extra = [f"raw-{i}" for i in range(draw(st.integers(0, 3)))]
        raw_X = _matrix(draw, rng, n_cells, len(genes) + len(extra))
        adata.raw = ad.AnnData(X=raw_X, obs=obs[[]], var=pd.DataFrame(index=genes + extra))
    colors = _colors(draw, len(c_cats))
    if colors is not None:
        adata.uns["cluster_colors"] = colors
    return adata


@dataclass
class Case:
    """An AnnData and the options most functions share."""

    adata: ad.AnnData
    source: str
    groupby: list[str]
    clusters: list[str] | str | None
    cluster_key: str | None
    genes: list[str]


def categories(column: pd.Series) -> list:
    """The groups of an obs column in the package's order: the categories of a
    categorical (the user's order), else the sorted distinct values."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return list(column.cat.categories)
    return sorted(column.dropna().unique())


def as_text(column: pd.Series) -> pd.Series:
    """Each label as ``str(label)``, missing labels left missing (under pandas 3,
    ``astype(str)`` writes integer categories as floats when a label is missing)."""
    return column.map(str, na_action="ignore")


def source_names(adata: ad.AnnData, source: str) -> list[str] | None:
    """Genes of ``source`` (``None`` when the source does not exist)."""
    if source == "RNA":
        return list((adata.raw if adata.raw is not None else adata).var_names)
    return list(adata.var_names) if source in adata.layers else None


def source_values(adata: ad.AnnData, source: str) -> np.ndarray:
    """The dense values of ``source`` (fine for these small matrices)."""
    if source == "RNA":
        X = adata.raw.X if adata.raw is not None else adata.X
    else:
        X = adata.layers[source]
    return np.asarray(X.toarray() if sparse.issparse(X) else X, dtype=np.float64)


@st.composite
def cases(draw) -> Case:
    adata = draw(anndatas())
    if adata.n_obs > 1 and draw(st.integers(0, 4)) == 0:  # a view, as adata[mask] gives
        start = draw(st.integers(0, adata.n_obs - 1))
        adata = adata[start : start + draw(st.integers(1, adata.n_obs))]
    source = draw(st.sampled_from(["RNA", "RNA", "integrated", "counts"]))
    groupby = draw(
        st.sampled_from(
            [["dataset"], ["cluster"], ["dataset", "cluster"], ["cluster", "dataset"], ["doublet"]]
        )
    )
    names = [str(c) for c in categories(adata.obs["cluster"])]
    clusters = cluster_key = None
    if names and draw(st.integers(0, 2)) == 0:
        clusters = draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
        if all(c == c.strip() for c in clusters) and draw(st.booleans()):
            clusters = ",".join(clusters)  # the "0,3,5" form (its names are stripped)
        if groupby != ["cluster"] or draw(st.booleans()):
            cluster_key = "cluster"
    pool = list(dict.fromkeys([*adata.var_names, *(source_names(adata, "RNA") or [])]))
    genes = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=5, unique=True))
    if draw(st.integers(0, 9)) == 0:
        genes.append(MISSING_GENE)
    return Case(adata, source, groupby, clusters, cluster_key, genes)


# --------------------------------------------------------------------------------------
# checking outcomes
# --------------------------------------------------------------------------------------


def raised_by_us(err: BaseException) -> bool:
    """Whether the exception was raised deliberately in sc_heatmaps code: by a ``raise``
    statement there (not, say, a TypeError of Python itself inside our code)."""
    frames = traceback.extract_tb(err.__traceback__)
    if not frames or not Path(frames[-1].filename).resolve().is_relative_to(PACKAGE):
        return False
    return (frames[-1].line or "").lstrip().startswith("raise ")


def run(adata: ad.AnnData, call: Callable, check: Callable | None = None):
    """Call ``call(adata)``: a result (checked by ``check``) or our documented error.

    Returns ``(result, error)``. Fails on any other exception, on an error not
    raised in sc_heatmaps or without a message, and on any change to ``adata``.
    """
    before = fingerprint(adata)
    uns_before = {k: repr(v) for k, v in adata.uns.items()}
    try:
        try:
            result, error = call(adata), None
        except OUR_ERRORS as err:
            text = "".join(traceback.format_exception(err))
            assert raised_by_us(err), f"{type(err).__name__} not raised by sc_heatmaps:\n{text}"
            assert str(err).strip(), f"{type(err).__name__} without a message:\n{text}"
            result, error = None, err
        if error is None and check is not None:
            check(result)
    finally:
        plt.close("all")
    event("result" if error is None else f"{type(error).__name__}: {str(error)[:40]}")
    assert fingerprint(adata) == before, "the AnnData was modified"
    assert {k: repr(v) for k, v in adata.uns.items()} == uns_before, "adata.uns was modified"
    return result, error


def selected_cells(obs: pd.DataFrame, clusters, cluster_key, keys) -> np.ndarray:
    """Cells kept by ``clusters`` (of ``cluster_key``, default the only key)."""
    keep = np.ones(len(obs), dtype=bool)
    if clusters is not None:
        key = cluster_key or keys[0]
        wanted = clusters.split(",") if isinstance(clusters, str) else clusters
        keep &= as_text(obs[key]).isin(wanted).to_numpy() & obs[key].notna().to_numpy()
    return keep


def expected_groups(
    obs: pd.DataFrame, keys, keep, clusters=None, cluster_key=None
) -> list[tuple[str, np.ndarray]]:
    """Non-empty groups in category order (first key outermost), with their cells; the
    ``clusters`` of ``cluster_key`` (default the first key) in the order listed."""
    levels = {k: categories(obs[k]) for k in keys}
    key = cluster_key or keys[0]
    if clusters is not None and key in levels:
        wanted = clusters.split(",") if isinstance(clusters, str) else clusters
        listed = [c for w in dict.fromkeys(wanted) for c in levels[key] if str(c) == w]
        levels[key] = listed + [c for c in levels[key] if c not in listed]
    out = []
    for combo in pd.MultiIndex.from_product([levels[k] for k in keys]):
        cells = keep.copy()
        for key, value in zip(keys, combo, strict=True):
            cells &= (obs[key] == value).to_numpy()
        if cells.any():
            out.append((SEP.join(map(str, combo)), cells))
    return out


def check_scaled(unscaled: pd.DataFrame, scaled: pd.DataFrame, scale) -> None:
    """Row scaling as documented: z-score (ddof 0) or min-max over the values present;
    constant rows become 0 and missing values stay missing."""
    assert scaled.index.equals(unscaled.index) and scaled.columns.equals(unscaled.columns)
    for (_, raw), (_, out) in zip(unscaled.iterrows(), scaled.iterrows(), strict=True):
        values, got = raw.to_numpy(dtype=float), out.to_numpy(dtype=float)
        present = values[~np.isnan(values)]
        if scale is None:
            expected = values
        elif not len(present) or np.ptp(present) == 0 or present.std() == 0:
            expected = np.where(np.isnan(values), np.nan, 0.0)  # (a std may underflow to 0)
        elif scale == "zscore":
            expected = (values - present.mean()) / present.std()
        else:
            expected = (values - present.min()) / (present.max() - present.min())
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)


def heatmap_cells(plot) -> int:
    """Cells drawn in the heatmap body (over all of its blocks)."""
    return sum(
        np.asarray(c.get_array()).size for ax in plot.axes["heatmap"] for c in ax.collections
    )


# --------------------------------------------------------------------------------------
# get
# --------------------------------------------------------------------------------------


def grouped_oracle(case: Case, missing: str, groups) -> tuple[tuple, list, list]:
    """(errors that may be raised, genes kept, genes dropped) for grouped expression.

    With several problems at once, any of their errors is right.
    """
    errors = [] if groups else [ValueError]
    names = source_names(case.adata, case.source)
    if names is None:
        return (*errors, KeyError), [], []
    absent = [g for g in case.genes if g not in names]
    if absent and missing == "raise":
        errors.append(KeyError)
    present = [g for g in case.genes if g in names]
    values = source_values(case.adata, case.source)
    nan = [g for g in present if not np.isfinite(values[:, names.index(g)]).all()]
    if nan and missing == "raise":
        errors.append(ValueError)
    kept = [g for g in present if g not in nan]
    if not kept:
        errors.append(KeyError)
    return tuple(errors), kept, absent + nan


def expected_stat(values: np.ndarray, stat: str) -> float:
    if stat == "mean":
        return values.mean()
    if stat == "median":
        return np.median(values)
    return (values > 0).mean()


@FUZZ
@given(
    case=cases(),
    stat=st.sampled_from(["mean", "median", "fraction"]),
    scale=st.sampled_from([None, "zscore", "minmax"]),
    missing=st.sampled_from(["raise", "drop"]),
    form=st.sampled_from(["list", "tuple", "array", "index", "mapping", "str"]),
)
def test_grouped_expression(case, stat, scale, missing, form):
    adata = case.adata
    var_names = {
        "list": case.genes,
        "tuple": tuple(case.genes),
        "array": np.array(case.genes),
        "index": pd.Index(case.genes),
        "mapping": {"block": case.genes[:1], "rest": case.genes[1:]},
        "str": case.genes[0],
    }[form]
    if form == "str":
        case.genes = case.genes[:1]
    groupby = case.groupby[0] if len(case.groupby) == 1 else tuple(case.groupby)
    result, error = run(
        adata,
        lambda a: sch.get.grouped_expression(
            a,
            var_names,
            groupby,
            source=case.source,
            clusters=case.clusters,
            cluster_key=case.cluster_key,
            stat=stat,
            scale=scale,
            missing=missing,
        ),
    )
    keep = selected_cells(adata.obs, case.clusters, case.cluster_key, case.groupby)
    groups = expected_groups(adata.obs, case.groupby, keep, case.clusters, case.cluster_key)
    expected_errors, kept, dropped = grouped_oracle(case, missing, groups)
    if expected_errors:
        assert isinstance(error, expected_errors), f"expected {expected_errors}: {error!r}"
        return
    assert error is None, f"valid input refused: {error!r}"
    assert list(result.matrix.index) == kept and result.dropped_genes == dropped
    assert list(result.matrix.columns) == [label for label, _ in groups]
    assert result.n_cells.tolist() == [int(cells.sum()) for _, cells in groups]
    for key in case.groupby:
        assert list(result.groups[key].cat.categories) == categories(adata.obs[key])
    names, values = source_names(adata, case.source), source_values(adata, case.source)
    for gene in kept:
        column = values[:, names.index(gene)]
        expected = [expected_stat(column[cells], stat) for _, cells in groups]
        np.testing.assert_allclose(result.unscaled.loc[gene], expected, rtol=1e-9, atol=1e-12)
        fraction = [(column[cells] > 0).mean() for _, cells in groups]
        np.testing.assert_allclose(result.fraction.loc[gene], fraction, rtol=1e-12)
    assert np.isfinite(result.matrix.to_numpy()).all()
    check_scaled(result.unscaled, result.matrix, scale)


@FUZZ
@given(
    case=cases(),
    key=st.sampled_from(["dataset", "cluster", "score", "missing_key"]),
    role=st.sampled_from(["cluster", "dataset"]),
)
def test_category_colors(case, key, role):
    adata = case.adata

    def check(colors):
        names = [str(c) for c in categories(adata.obs[key])]
        assert list(colors) == names
        assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in colors.values())
        stored = adata.uns.get(f"{key}_colors")
        usable = stored is not None and len(stored) >= len(names)
        if usable and all(is_color_like(c) for c in stored):
            assert list(colors.values()) == [to_hex(c) for c in stored[: len(names)]]

    _, error = run(adata, lambda a: sch.get.category_colors(a, key, role), check)
    if key in ("dataset", "cluster"):
        assert error is None, f"valid input refused: {error!r}"


@FUZZ
@given(case=cases(), data=st.data())
def test_select_cells(case, data):
    adata = case.adata
    subset = {}
    for key in data.draw(st.lists(st.sampled_from(["dataset", "cluster"]), unique=True)):
        names = [str(c) for c in categories(adata.obs[key])] or ["no-such-category"]
        wanted = data.draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
        plain = all(w == w.strip() for w in wanted)
        subset[key] = ",".join(wanted) if plain and data.draw(st.booleans()) else wanted
    expected = np.ones(adata.n_obs, dtype=bool)
    for key, wanted in subset.items():
        wanted = wanted.split(",") if isinstance(wanted, str) else wanted
        expected &= as_text(adata.obs[key]).isin(wanted).to_numpy()
        expected &= adata.obs[key].notna().to_numpy()

    def check(view):
        assert isinstance(view, ad.AnnData) and view.is_view
        assert list(view.obs_names) == list(adata.obs_names[expected])

    _, error = run(adata, lambda a: sch.get.select_cells(a, subset), check)
    if any("no-such-category" in wanted for wanted in subset.values()):
        assert isinstance(error, KeyError) and "no-such-category" in str(error)
    elif expected.any():
        assert error is None, f"valid input refused: {error!r}"
    else:
        assert isinstance(error, ValueError)


@FUZZ
@given(
    case=cases(),
    value=st.sampled_from([*NUMERIC_OBS, "doublet", "dataset"]),
    rows=st.sampled_from(["dataset", "cluster"]),
    op=st.sampled_from([None, "mean", "median"]),
    matrix_options=st.fixed_dictionaries(
        {
            "scale": st.sampled_from([None, "zscore", "minmax"]),
            "cluster_rows": st.booleans(),
            "cluster_cols": st.booleans(),
        }
    ),
)
def test_obs_summary_and_matrix_heatmap(case, value, rows, op, matrix_options):
    adata = case.adata
    cols = case.groupby
    table, error = run(adata, lambda a: sch.get.obs_summary(a, value, rows, cols, op=op))
    keep = adata.obs[rows].notna().to_numpy()
    groups = expected_groups(adata.obs, cols, keep)
    if not groups:
        assert isinstance(error, ValueError), "a table without cells is not an answer"
    if error is not None:
        return
    row_names = [str(c) for c in categories(adata.obs[rows])]
    assert list(table.columns) == [label for label, _ in groups]
    in_groups = np.logical_or.reduce([cells for _, cells in groups])
    present = set(as_text(adata.obs[rows][in_groups]).dropna())
    assert list(table.index) == [r for r in row_names if r in present]
    numbers = adata.obs[value].to_numpy(dtype=np.float64, na_value=np.nan)
    for label, cells in groups:
        for row in table.index:
            here = cells & (as_text(adata.obs[rows]) == row).to_numpy()
            if not here.any():
                assert np.isnan(table.loc[row, label])
                continue
            finite = numbers[here][~np.isnan(numbers[here])]
            if not len(finite):
                assert np.isnan(table.loc[row, label])
                continue
            expected = np.median(finite) if op == "median" else finite.mean()
            np.testing.assert_allclose(table.loc[row, label], expected, rtol=1e-9)

    def check(plot):
        assert isinstance(plot, sch.pl.HeatmapPlot)
        assert set(plot.data.index) == set(table.index)
        assert heatmap_cells(plot) == plot.data.size

    run(adata, lambda a: sch.pl.matrix_heatmap(table, **matrix_options), check)


@FUZZ
@given(
    case=cases(),
    color=st.sampled_from([None, "dataset", "cluster"]),
    split_by=st.sampled_from([None, None, "dataset", "cluster"]),
    method=st.sampled_from(["pearson", "spearman"]),
    exclude_double_zero=st.booleans(),
    threshold=st.sampled_from([0.0, 0.5, 1]),
)
def test_dual_expression(case, color, split_by, method, exclude_double_zero, threshold):
    adata = case.adata
    genes = [*case.genes, *adata.var_names[:2]][:2]
    cluster_key = case.cluster_key if color != "cluster" else case.cluster_key or "cluster"
    if case.clusters is not None and color is None:
        cluster_key = "cluster"

    def check(de):
        names, values = source_names(adata, case.source), source_values(adata, case.source)
        keep = selected_cells(adata.obs, case.clusters, cluster_key, [color])
        for key in (color, split_by):  # cells without a label belong to no group
            keep &= adata.obs[key].notna().to_numpy() if key is not None else True
        x, y = (values[:, names.index(g)][keep] for g in genes)
        if exclude_double_zero:
            shown = (x > threshold) | (y > threshold)
            x, y, keep = x[shown], y[shown], np.flatnonzero(keep)[shown]
        assert list(de.cells.index) == list(adata.obs_names[keep])
        np.testing.assert_array_equal(de.cells["x"], x)
        np.testing.assert_array_equal(de.cells["y"], y)
        for key, column in ((color, "color"), (split_by, "split")):
            if key is not None:
                assert list(de.cells[column].cat.categories) == list(categories(adata.obs[key]))
        stats = de.stats
        assert ((stats["r"].abs() <= 1 + 1e-12) | stats["r"].isna()).all()
        fractions = stats[["frac_x_only", "frac_y_only", "frac_both", "frac_neither"]]
        np.testing.assert_allclose(fractions.sum(axis=1), 1.0)

    run(
        adata,
        lambda a: sch.get.dual_expression(
            a,
            *genes,
            color=color,
            source=case.source,
            clusters=case.clusters,
            cluster_key=cluster_key,
            split_by=split_by,
            method=method,
            exclude_double_zero=exclude_double_zero,
            threshold=threshold,
        ),
        check,
    )


@FUZZ
@given(
    case=cases(),
    rows=st.sampled_from(["genes", "obs", "list"]),
    cols=st.sampled_from(["genes", "obs"]),
    method=st.sampled_from(["pearson", "spearman"]),
    min_nonzero=st.integers(0, 5),
    groupby=st.sampled_from([None, "dataset", "cluster"]),
    level=st.sampled_from(["cells", "pseudobulk"]),
    default_genes=st.booleans(),
)
def test_correlation(case, rows, cols, method, min_nonzero, groupby, level, default_genes):
    adata = case.adata
    if rows == "list":
        rows = [*case.genes[:2], "score"]
    genes = None if default_genes else case.genes  # None: highly variable genes, or markers

    def check(res):
        assert isinstance(res, sch.get.CorrelationResult)
        assert res.matrices, "a result without a matrix is not an answer"
        if groupby is not None and level == "cells":
            order = [str(c) for c in categories(adata.obs[groupby])]
            assert list(res.matrices) == [g for g in order if g in res.matrices]
        else:
            assert list(res.matrices) == ["all"]
        assert list(res.n.index) == list(res.matrices)
        for mat in res.matrices.values():
            check_correlation_matrix(mat)
        assert list(res.dropped.columns) == ["group", "variable", "reason"]
        if groupby is None and method == "pearson":  # one matrix over the selected cells
            check_pearson(res.matrix, case)

    run(
        adata,
        lambda a: sch.get.correlation(
            a,
            rows=rows,
            cols=cols,
            genes=genes,
            method=method,
            min_nonzero=min_nonzero,
            groupby=groupby,
            level=level,
            source=case.source,
            clusters=case.clusters,
            cluster_key="cluster" if case.clusters is not None else None,
        ),
        check,
    )


def check_correlation_matrix(mat: pd.DataFrame) -> None:
    values = mat.to_numpy(dtype=np.float64)
    assert np.isfinite(values).all()
    assert (np.abs(values) <= 1 + 1e-9).all()
    for name in set(mat.index) & set(mat.columns):
        assert mat.loc[name, name] == pytest.approx(1.0)


def check_pearson(mat: pd.DataFrame, case: Case) -> None:
    """Every value equals numpy's Pearson r over the selected cells."""
    adata = case.adata
    keep = selected_cells(adata.obs, case.clusters, "cluster", ["cluster"])
    names, values = source_names(adata, case.source), source_values(adata, case.source)

    def column(name):
        if name in adata.obs.columns:
            return adata.obs[name].to_numpy(dtype=np.float64, na_value=np.nan)[keep]
        return values[keep, names.index(name)]

    for r in mat.index:
        for c in mat.columns:
            expected = np.corrcoef(column(r), column(c))[0, 1]
            assert mat.loc[r, c] == pytest.approx(expected, rel=1e-7, abs=1e-9)


def check_markers_table(table: pd.DataFrame, adata, groupby, n_genes, duplicates, source):
    assert list(table.columns) == MARKER_COLUMNS
    order = [str(c) for c in categories(adata.obs[groupby])]
    shown = [str(c) for c in table["group"].cat.categories]  # categories keep their type
    assert shown == [g for g in order if g in shown]
    assert table["gene"].isin(source_names(adata, source)).all()
    for _, frame in table.groupby("group", observed=True):
        assert len(frame) <= n_genes
        assert list(frame["rank"]) == list(range(1, len(frame) + 1))
    if duplicates != "keep":
        assert not table["gene"].duplicated().any()
    assert table[["pct_in", "pct_out"]].stack().between(0, 1).all()


MARKER_OPTIONS = st.fixed_dictionaries(
    {
        "n_genes": st.integers(1, 4),
        "method": st.sampled_from(["t-test", "t-test_overestim_var", "wilcoxon", "logreg"]),
        "duplicates": st.sampled_from(["keep", "first", "best"]),
        "min_logfc": st.sampled_from([None, 0.0, 1.0]),
        "max_pval_adj": st.sampled_from([None, 0.5]),
        "min_in_group_fraction": st.sampled_from([None, 0.2]),
    }
)


@FUZZ
@given(case=cases(), groupby=st.sampled_from(["dataset", "cluster"]), options=MARKER_OPTIONS)
def test_top_markers_and_marker_genes(case, groupby, options):
    adata = case.adata
    groups = case.clusters if groupby == "cluster" else None

    def check(table):
        check_markers_table(
            table, adata, groupby, options["n_genes"], options["duplicates"], case.source
        )
        values = source_values(adata, case.source)
        assert np.isfinite(values).all(), "markers ranked on NaN or inf values"

    def call(a):
        return sch.tl.top_markers(a, groupby, source=case.source, groups=groups, **options)

    table, _ = run(adata, call, check)

    def check_mapping(markers):
        assert isinstance(markers, dict)
        assert list(markers) == list(table["group"].cat.categories)  # their own type
        for group, genes in markers.items():
            assert genes == list(table.loc[table["group"] == group, "gene"])

    if table is not None:
        run(
            adata,
            lambda a: sch.get.marker_genes(
                a, groupby, source=case.source, groups=groups, **options
            ),
            check_mapping,
        )


# --------------------------------------------------------------------------------------
# pl
# --------------------------------------------------------------------------------------


MATRIX_VALUES = st.one_of(
    st.floats(-1e6, 1e6),
    st.sampled_from([0.0, 1.0, np.nan, np.inf, -np.inf]),
)


@st.composite
def frames(draw) -> pd.DataFrame:
    """A small table such as users pass to matrix_heatmap: NaN and inf, repeated or
    numeric labels, integer/boolean/string columns."""
    n_rows, n_cols = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    values = np.array(
        draw(st.lists(MATRIX_VALUES, min_size=n_rows * n_cols, max_size=n_rows * n_cols))
    ).reshape(n_rows, n_cols)
    labels = st.sampled_from(["a", "b", "c", "d", "0", "1", "B cells ", "x/y"])
    index = draw(st.lists(labels, min_size=n_rows, max_size=n_rows, unique=draw(st.booleans())))
    columns = draw(st.lists(labels, min_size=n_cols, max_size=n_cols, unique=True))
    frame = pd.DataFrame(values, index=index, columns=columns)
    kind = draw(st.sampled_from(["float", "float", "int", "bool", "numeric text", "text"]))
    first = frame.columns[0]
    finite = np.nan_to_num(frame[first].to_numpy(), nan=0.0, posinf=1.0, neginf=-1.0)
    if kind == "int":
        frame[first] = np.round(finite).astype(np.int64)
    elif kind == "bool":
        frame[first] = finite > 0
    elif kind == "numeric text":
        frame[first] = [f"{v:g}" for v in finite]
    elif kind == "text":
        frame[first] = ["x"] * n_rows
    return frame


@FUZZ
@given(
    frame=frames(),
    options=st.fixed_dictionaries(
        {
            "scale": st.sampled_from([None, "zscore", "minmax"]),
            "cluster_rows": st.booleans(),
            "cluster_cols": st.booleans(),
            "filter": st.sampled_from([None, None, *FILTERS]),
            "labels": st.sampled_from(["all", "x", "y", "none"]),
            "vmin": st.sampled_from([None, None, -1.0]),
            "vmax": st.sampled_from([None, None, 2.0]),
        }
    ),
)
def test_matrix_heatmap(frame, options):
    original = frame.copy()

    def check(plot):
        assert isinstance(plot, sch.pl.HeatmapPlot)
        assert heatmap_cells(plot) == plot.data.size > 0
        assert set(plot.data.index) <= set(frame.index)
        assert set(plot.data.columns) <= set(frame.columns)
        shown = plot.data.to_numpy(dtype=np.float64)
        assert np.isfinite(shown).any(), "a heatmap with nothing to colour"
        for ax in plot.axes["heatmap"]:
            norm = ax.collections[0].norm
            assert np.isfinite([norm.vmin, norm.vmax]).all() and norm.vmin < norm.vmax
            if options["vmin"] is None and options["vmax"] is None:
                check_robust_limits(norm, shown, options["scale"])
        if frame.index.is_unique:  # the values drawn are the table's, scaled per row
            unscaled = frame.astype(np.float64).loc[plot.data.index, plot.data.columns]
            check_scaled(unscaled, plot.data, options["scale"])

    run(ad.AnnData(np.zeros((1, 1))), lambda _: sch.pl.matrix_heatmap(frame, **options), check)
    pd.testing.assert_frame_equal(frame, original)  # the table is not modified either


def check_robust_limits(norm, shown: np.ndarray, scale) -> None:
    """The default colour scale, as documented (robust limits, arrows beyond them):
    z-scores symmetric at +-2.5 or less; min-max rows 0 to 1; unscaled values from the
    smallest to at least their 99th percentile (numpy's) and at most the largest."""
    finite = shown[np.isfinite(shown)]
    tol = 1e-9 * max(1.0, float(np.abs(finite).max()))
    if scale == "zscore":
        top = float(np.abs(finite).max())
        assert norm.vmin == pytest.approx(-norm.vmax) and norm.vmax <= 2.5 + tol
        assert norm.vmax >= min(2.5, top) - tol
    elif scale == "minmax":
        assert (norm.vmin, norm.vmax) == (0.0, 1.0)
    elif finite.max() > finite.min():
        assert norm.vmin <= finite.min() + tol
        assert np.percentile(finite, 99) - tol <= norm.vmax <= finite.max() + tol


def heatmap_genes(case: Case, data: st.DataObject):
    """``var_names`` for a heatmap: ``None`` (markers), a list or a {block: genes} mapping."""
    kind = data.draw(st.sampled_from(["markers", "list", "blocks"]))
    if kind == "markers":
        return None
    if kind == "list":
        return case.genes
    split = data.draw(st.integers(0, len(case.genes)))
    return {"first": case.genes[:split], "second": case.genes[split:]}


def check_heatmap(plot, case: Case, keys, var_names) -> None:
    assert isinstance(plot, sch.pl.HeatmapPlot)
    data = plot.data
    assert data.shape[0] > 0 and data.shape[1] > 0
    assert heatmap_cells(plot) == data.size
    assert set(plot.axes["col_bars"]) == set(keys)
    genes = list(data.index.get_level_values(-1))
    if isinstance(var_names, list):
        assert set(genes) <= set(var_names)
    assert set(genes) <= set(source_names(case.adata, case.source))


@FUZZ
@given(
    case=cases(),
    data=st.data(),
    options=st.fixed_dictionaries(
        {
            "stat": st.sampled_from(["mean", "median", "fraction"]),
            "scale": st.sampled_from([None, "zscore", "minmax"]),
            "cluster_rows": st.booleans(),
            "cluster_cols": st.booleans(),
            "labels": st.sampled_from(["all", "x", "y", "none"]),
            "missing": st.sampled_from(["raise", "drop"]),
            "n_genes": st.integers(1, 3),
            "filter": st.sampled_from([None, None, *FILTERS]),
            "figsize": st.sampled_from([None, None, None, (7.0, 5.0), (1.0, 1.0)]),
            "title": st.sampled_from([None, "t", "A rather long title " * 6]),
        }
    ),
)
def test_grouped_heatmap(case, data, options):
    var_names = heatmap_genes(case, data)
    keys = case.groupby
    adata = case.adata

    def check(plot):
        check_heatmap(plot, case, keys, var_names)
        labels = [
            SEP.join(map(str, combo))
            for combo in zip(*(plot.spec.col_meta[k].astype(str) for k in keys), strict=True)
        ]
        assert labels == list(plot.data.columns)
        keep = selected_cells(adata.obs, case.clusters, "cluster", keys)
        groups = expected_groups(adata.obs, keys, keep, case.clusters, "cluster")
        expected = [label for label, _ in groups]
        if not options["cluster_cols"] and options["filter"] is None:
            assert list(plot.data.columns) == expected
        assert set(plot.data.columns) <= set(expected)
        assert np.isfinite(plot.data.to_numpy()).all()
        if options["scale"] is None:  # the values drawn are the group statistics
            names, values = source_names(adata, case.source), source_values(adata, case.source)
            cells = dict(groups)
            genes = plot.data.index.get_level_values(-1)
            for gene, (_, row) in zip(genes, plot.data.iterrows(), strict=True):
                column = values[:, names.index(gene)]
                stat = [expected_stat(column[cells[g]], options["stat"]) for g in row.index]
                np.testing.assert_allclose(row.to_numpy(), stat, rtol=1e-9, atol=1e-12)
        if options["figsize"] is not None:
            np.testing.assert_allclose(plot.figure.get_size_inches(), options["figsize"], atol=0.05)

    run(
        adata,
        lambda a: sch.pl.grouped_heatmap(
            a,
            var_names,
            keys,
            cluster_key="cluster",
            dataset_key="dataset",
            source=case.source,
            clusters=case.clusters,
            **options,
        ),
        check,
    )


@FUZZ
@given(
    case=cases(),
    data=st.data(),
    options=st.fixed_dictionaries(
        {
            "max_cells_per_group": st.sampled_from(["auto", None, 1, 3]),
            "reduce": st.sampled_from(["bins", "sample"]),
            "cluster_cells": st.booleans(),
            "scale": st.sampled_from([None, "zscore", "minmax"]),
            "n_genes": st.integers(1, 3),
        }
    ),
)
def test_cell_heatmap(case, data, options):
    var_names = heatmap_genes(case, data)

    def check(plot):
        check_heatmap(plot, case, case.groupby, var_names)
        keep = selected_cells(case.adata.obs, case.clusters, "cluster", case.groupby)
        groups = expected_groups(case.adata.obs, case.groupby, keep, case.clusters, "cluster")
        shown = list(dict.fromkeys(plot.columns["group"]))
        assert shown == [label for label, _ in groups]  # category order, clusters as listed
        n_cells = plot.columns.groupby("group", sort=False)["n_cells"].sum()
        sizes = [int(cells.sum()) for _, cells in groups]
        if options["reduce"] == "bins" or options["max_cells_per_group"] is None:
            assert n_cells.tolist() == sizes  # every cell counts
        else:
            assert (n_cells <= sizes).all()

    run(
        case.adata,
        lambda a: sch.pl.cell_heatmap(
            a,
            var_names,
            case.groupby,
            cluster_key="cluster",
            dataset_key="dataset",
            source=case.source,
            clusters=case.clusters,
            **options,
        ),
        check,
    )


@FUZZ
@given(
    case=cases(),
    color=st.sampled_from([None, "dataset", "cluster"]),
    split_by=st.sampled_from([None, None, "dataset", "cluster"]),
    options=st.fixed_dictionaries(
        {
            "exclude_double_zero": st.booleans(),
            "jitter": st.sampled_from([0.0, 0.2]),
            "max_points": st.sampled_from([None, 5]),
            "density_threshold": st.sampled_from([200_000, 20]),
        }
    ),
)
def test_pl_dual_expression(case, color, split_by, options):
    adata = case.adata
    genes = [*case.genes, *adata.var_names[:2]][:2]

    def check(plot):
        assert isinstance(plot, sch.pl.DualExpressionPlot)
        panels = plot.axes["panels"]
        if split_by is None:
            assert list(panels) == ["all"]
        else:
            order = [str(c) for c in categories(adata.obs[split_by])]
            assert list(panels) == [p for p in order if p in panels]
        for name, ax in panels.items():
            split = plot.data["split"].astype(str) if split_by is not None else None
            cells = plot.data if split_by is None else plot.data[split == name]
            modes = {str(k): v for k, v in plot.modes.items()}
            if modes[name if split_by else "None"] == "points":
                check_points(ax, cells, options["max_points"])
            else:
                assert ax.images
        if color is not None:
            present = {str(v) for v in plot.data["color"].dropna()}
            handles = plot.axes["legend"].legend_handles
            assert len(handles) == len(present)

    def check_points(ax, cells, limit):
        drawn = [
            to_hex(c)
            for coll in ax.collections
            if len(coll.get_offsets())  # an empty scatter still reports one face colour
            for c in coll.get_facecolors()
        ]
        if limit is not None:  # "about" limit points: each group keeps a few hundred
            assert len(drawn) <= len(cells)
            return
        assert len(drawn) == len(cells)
        if color is not None:  # every cell in its category's colour
            palette = sch.get.category_colors(adata, color)
            assert cells["color"].notna().all(), "cells without a colour label are drawn"
            expected = [palette[str(c)] for c in cells["color"]]
            assert sorted(drawn) == sorted(expected)

    run(
        adata,
        lambda a: sch.pl.dual_expression(
            a,
            *genes,
            color=color,
            split_by=split_by,
            source=case.source,
            clusters=case.clusters,
            cluster_key="cluster",
            **options,
        ),
        check,
    )


def _only_dropped_variables_are_missing(plot) -> None:
    """A panel may hold NaN only in the rows and columns of variables it dropped."""
    dropped = plot.result.dropped
    panels = list(plot.result.matrices)
    for group in panels:
        mat = plot.data if len(panels) == 1 else plot.data.loc[group]
        gone = dropped if len(panels) == 1 else dropped[dropped["group"].astype(str) == group]
        gone = set(gone["variable"].astype(str))
        ok = np.isfinite(mat.to_numpy(dtype=np.float64))
        ok |= np.asarray(mat.index.astype(str).isin(gone))[:, None]
        ok |= np.asarray(mat.columns.astype(str).isin(gone))[None, :]
        assert ok.all(), (group, gone)


@FUZZ
@given(
    case=cases(),
    groupby=st.sampled_from([None, "dataset", "cluster"]),
    level=st.sampled_from(["cells", "pseudobulk"]),
    rows=st.sampled_from(["genes", "obs"]),
    min_nonzero=st.integers(0, 3),
    cluster=st.booleans(),
)
def test_correlation_heatmap_and_interactive(case, groupby, level, rows, min_nonzero, cluster):
    adata = case.adata

    def check(plot):
        assert isinstance(plot, sch.pl.CorrelationPlot)
        panels = plot.axes["panels"]
        assert list(panels) == list(plot.result.matrices)
        for ax in panels.values():
            assert sum(np.asarray(c.get_array()).size for c in ax.collections) == (
                plot.data.shape[0] // len(panels) * plot.data.shape[1]
            )
        _only_dropped_variables_are_missing(plot)
        page_data = interactive_payload(sch.pl.interactive_heatmap(plot))
        assert page_data["cols"] == [str(c) for c in plot.data.columns]

    run(
        adata,
        lambda a: sch.pl.correlation_heatmap(
            a,
            rows=rows,
            genes=case.genes,
            min_nonzero=min_nonzero,
            groupby=groupby,
            level=level,
            source=case.source,
            clusters=case.clusters,
            cluster_key="cluster" if case.clusters is not None else None,
            cluster=cluster,
        ),
        check,
    )


def interactive_payload(page: str) -> dict:
    assert isinstance(page, sch.pl.InteractiveHTML) and page.startswith("<!DOCTYPE html>")
    raw = re.search(r'<script id="sch-data" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(raw.group(1))


@FUZZ
@given(case=cases(), data=st.data(), scale=st.sampled_from([None, "zscore"]))
def test_interactive_heatmap(case, data, scale):
    var_names = heatmap_genes(case, data)

    def check(page):
        payload = interactive_payload(page)
        values = np.array(payload["values"], dtype=float)
        assert values.shape == (len(payload["rows"]), len(payload["cols"]))
        assert sorted(payload["row_order"]["cluster"]) == list(range(len(payload["rows"])))
        assert {b["name"] for b in payload["col_bars"]} == set(case.groupby)
        keep = selected_cells(case.adata.obs, case.clusters, "cluster", case.groupby)
        groups = expected_groups(case.adata.obs, case.groupby, keep, case.clusters, "cluster")
        assert payload["cols"] == [label for label, _ in groups]
        assert payload["n_cells"] == [int(cells.sum()) for _, cells in groups]

    run(
        case.adata,
        lambda a: sch.pl.interactive_heatmap(
            a,
            var_names=var_names,
            groupby=case.groupby,
            cluster_key="cluster",
            dataset_key="dataset",
            source=case.source,
            clusters=case.clusters,
            scale=scale,
            n_genes=2,
        ),
        check,
    )


@FUZZ
@given(adata=anndatas())
def test_generator_is_well_formed(adata):
    """The generator itself: groups of 1-50 cells, unique genes, label columns."""
    assert adata.var_names.is_unique
    for key in ("dataset", "cluster"):
        column = adata.obs[key]
        # a column of strings is str (not object) under pandas 3
        text = isinstance(column.dtype, pd.StringDtype) or column.dtype == object
        assert isinstance(column.dtype, pd.CategoricalDtype) or text
    sizes = adata.obs.groupby(["dataset", "cluster"], observed=True).size()
    assert sizes.between(1, 50).all()


# --------------------------------------------------------------------------------------
# regression tests for the defects found by fuzzing
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["csr", "csc"])
def test_usable_genes_of_a_sparse_layer_are_found_by_column(layout):
    """Defect 1: the NaN search read CSC row numbers as columns (IndexError, wrong genes)."""
    from sc_heatmaps._sources import resolve_source, usable_genes

    adata = make_synthetic()  # 96 cells x 30 genes
    layer = adata.X.toarray()
    layer[50, 3] = np.nan  # cell 50, gene G03: a row number beyond the number of genes
    adata.layers["integrated"] = sparse.csr_matrix(layer).asformat(layout)
    expected = [g for g in adata.var_names if g != "G03"]
    assert usable_genes(resolve_source(adata, "integrated")) == expected
    plot = sch.pl.grouped_heatmap(adata, cluster_key="cluster", source="integrated", n_genes=4)
    genes = set(plot.data.index.get_level_values("gene"))
    assert "G03" not in genes and {"G00", "G01", "G02"} <= genes  # c0 refilled without G03


def test_clustering_a_single_row_block():
    """Defect 2: one gene block (or one dataset block) with clustering crashed in scipy."""
    adata = make_synthetic()
    genes = {"first": [], "second": ["G00", "G04", "G08"]}
    plot = sch.pl.grouped_heatmap(adata, genes, "cluster", cluster_rows=True)
    assert plot.axes["row_dendrogram"] is not None
    assert sorted(plot.data.index.get_level_values("gene")) == ["G00", "G04", "G08"]
    one_dataset = adata[adata.obs["dataset"] == "d1"]
    plot = sch.pl.grouped_heatmap(
        one_dataset, ["G00", "G04", "G08"], ["dataset", "cluster"], cluster_cols=True
    )
    assert plot.axes["col_dendrogram"] is not None
    assert sorted(plot.data.columns) == [f"d1 / c{i}" for i in range(4)]


def test_clustering_skips_missing_values():
    """Defect 3: a matrix with holes (a group without cells) could not be clustered."""
    from scipy.spatial.distance import squareform
    from sklearn.metrics.pairwise import nan_euclidean_distances

    from sc_heatmaps.arrange import cluster_order
    from sc_heatmaps.arrange._order import _nan_euclidean

    values = np.array([[1.0, 2.0, np.nan], [1.1, 2.1, 0.0], [9.0, np.nan, 5.0], [8.0, 7.0, 5.5]])
    np.testing.assert_allclose(squareform(_nan_euclidean(values)), nan_euclidean_distances(values))
    assert sorted(cluster_order(values).order[:2]) == [0, 1]  # the two close rows together
    with pytest.raises(ValueError, match=r"metric='cosine'.*missing.*metric='euclidean'"):
        cluster_order(values, metric="cosine")
    frame = pd.DataFrame(values, index=list("abcd"), columns=list("xyz"))
    plot = sch.pl.matrix_heatmap(frame, cluster_rows=True, cluster_cols=True)
    assert sorted(plot.data.index) == list("abcd") and sorted(plot.data.columns) == list("xyz")


def test_list_items_keep_their_spaces():
    """Defect 4: list items were stripped, so a category named "B cells " was refused."""
    adata = make_synthetic()
    adata.obs["cluster"] = adata.obs["cluster"].cat.rename_categories({"c1": "B cells "})
    ge = sch.get.grouped_expression(adata, ["G04"], "cluster", clusters=["B cells "])
    assert list(ge.matrix.columns) == ["B cells "]
    table = sch.tl.top_markers(adata, "cluster", groups=["c0", "B cells "], n_genes=1)
    assert list(table["group"].cat.categories) == ["c0", "B cells "]
    ge = sch.get.grouped_expression(adata, ["G04"], "cluster", clusters=" c0 , c2")
    assert list(ge.matrix.columns) == ["c0", "c2"]  # the "a,b" form is still stripped


def test_cells_without_a_colour_label_are_left_out():
    """Defect 5: cells with a NaN colour label were drawn in the last category's colour."""
    adata = make_synthetic()
    unlabelled = np.zeros(adata.n_obs, dtype=bool)
    unlabelled[::7] = True
    adata.obs.loc[unlabelled, "dataset"] = np.nan
    de = sch.get.dual_expression(adata, "G00", "G04", color="dataset")
    assert list(de.cells.index) == list(adata.obs_names[~unlabelled])
    assert de.stats.loc[de.stats["all_groups"], "n_total"].item() == (~unlabelled).sum()
    plot = sch.pl.dual_expression(adata, "G00", "G04", color="dataset")
    drawn = [to_hex(c) for c in plot.axes["panels"]["all"].collections[0].get_facecolors()]
    palette = sch.get.category_colors(adata, "dataset")
    assert sorted(drawn) == sorted(palette[d] for d in adata.obs["dataset"][~unlabelled])
    split = sch.get.dual_expression(adata, "G00", "G04", split_by="dataset")
    assert len(split.cells) == (~unlabelled).sum()
    with pytest.raises(ValueError, match=r"No cells left.*without a 'dataset' label"):
        sch.get.dual_expression(adata[unlabelled], "G00", "G04", color="dataset")


def test_obs_summary_without_labelled_cells_is_an_error():
    """Defect 6: no cell with both labels gave an empty table instead of an error."""
    adata = make_synthetic()
    adata.obs["total_counts"] = np.arange(adata.n_obs, dtype=np.float64)
    adata.obs.loc[adata.obs["dataset"] == "d1", "cluster"] = np.nan
    sub = adata[adata.obs["dataset"] == "d1"]
    with pytest.raises(ValueError, match=r"No cell has both a 'cluster' label and a \['dataset'\]"):
        sch.get.obs_summary(sub, "total_counts", "cluster", "dataset", op="mean")


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        # a column of strings is object under pandas 2, str under pandas 3
        (pd.DataFrame({"n": [1.0, 2.0], "label": ["x", "y"]}), r"columns 'label' \((object|str)\)"),
        (pd.DataFrame({"n": [np.nan, np.nan]}), r"no value \(every cell is NaN\)"),
        (pd.DataFrame({"n": [1.0, np.inf]}, index=["a", "b"]), r"1 infinite.*row 'b'.*replace"),
        (pd.DataFrame(), r"non-empty pandas DataFrame; got a DataFrame of shape \(0, 0\)"),
    ],
)
def test_matrix_heatmap_refuses_what_it_cannot_draw(frame, message):
    """Defects 7-9: a text column crashed in pandas; an all-NaN table drew nothing; an
    infinite value collapsed the colour scale so that every other cell had the top colour."""
    with pytest.raises(ValueError, match=message):
        sch.pl.matrix_heatmap(frame)


def test_matrix_heatmap_keeps_numeric_text_and_nullable_columns():
    frame = pd.DataFrame(
        {"a": ["1.5", "2"], "b": pd.array([1, None], dtype="Int64"), "c": [True, False]}
    )
    plot = sch.pl.matrix_heatmap(frame)
    np.testing.assert_array_equal(plot.data.to_numpy(), [[1.5, 1.0, 1.0], [2.0, np.nan, 0.0]])


def test_scaling_skips_missing_values():
    """Defect 10: a row with a hole (NaN) was z-scored to all zeros."""
    frame = pd.DataFrame([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan]], columns=list("xyz"))
    z = sch.arrange.scale_rows(frame, "zscore")
    np.testing.assert_array_equal(z.to_numpy(), [[-1.0, np.nan, 1.0], [np.nan] * 3])
    minmax = sch.arrange.scale_rows(frame, "minmax")
    np.testing.assert_array_equal(minmax.to_numpy()[0], [0.0, np.nan, 1.0])
    plot = sch.pl.matrix_heatmap(frame.iloc[:1], scale="zscore")
    np.testing.assert_array_equal(plot.data.to_numpy(), [[-1.0, np.nan, 1.0]])


@pytest.mark.parametrize("scale", ["zscore", "minmax"])
def test_constant_rows_scale_to_zero_exactly(scale):
    """Defect 11: 0.1 three times has a floating-point std of 1e-17, so the row became -1."""
    frame = pd.DataFrame([[0.1, 0.1, 0.1], [0.7, 0.7, 0.7], [1.0, 2.0, 3.0]])
    scaled = sch.arrange.scale_rows(frame, scale).to_numpy()
    np.testing.assert_array_equal(scaled[:2], 0.0)
    assert scaled[2].min() < scaled[2].max()


def test_clustering_a_square_matrix_gives_no_distance_matrix_warning():
    """Defect 12: scipy's ClusterWarning (the values looked like a distance matrix)."""
    import warnings

    from scipy.cluster.hierarchy import ClusterWarning

    values = np.array([[0.0, 1.0], [1.0, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ClusterWarning)
        order = sch.arrange.cluster_order(values)
        plot = sch.pl.matrix_heatmap(pd.DataFrame(values), cluster_rows=True)
        page = sch.pl.interactive_heatmap(plot)  # the page's own "clustering" order
    assert sorted(order.order) == [0, 1] and plot.data.shape == (2, 2)
    assert interactive_payload(page)["row_order"]["cluster"] in ([0, 1], [1, 0])


@pytest.mark.parametrize("method", ["t-test", "wilcoxon", "logreg"])
def test_markers_refuse_nan_whatever_the_method(method):
    """Defect 13: only the t-tests refused NaN/inf; wilcoxon silently dropped the NaN gene
    (the best marker of c0) and logreg crashed inside scikit-learn."""
    adata = make_synthetic()
    layer = adata.X.toarray()
    layer[:, 0] = np.nan
    layer[3, 5] = np.inf
    adata.layers["integrated"] = layer
    with pytest.raises(ValueError, match=r"2 genes hold NaN or inf.*\['G00', 'G05'\]"):
        sch.tl.top_markers(adata, "cluster", method=method, source="integrated")


def test_correlation_per_group_without_labelled_cells_is_an_error():
    """Defect 14: no selected cell with a groupby label gave an empty result, and
    correlation_heatmap then crashed with an IndexError."""
    adata = make_synthetic()
    adata.obs["dataset"] = adata.obs["dataset"].cat.add_categories("d3")
    adata.obs.loc[adata.obs["cluster"] == "c0", "dataset"] = np.nan
    genes = ["G00", "G01", "G02"]
    for call in (sch.get.correlation, sch.pl.correlation_heatmap):
        with pytest.raises(ValueError, match=r"No cells left.*24 of 24 cells have no label"):
            call(adata, genes=genes, groupby="dataset", clusters="c0", cluster_key="cluster")
    res = sch.get.correlation(adata, genes=genes, groupby="dataset", min_nonzero=0)
    assert list(res.matrices) == ["d1", "d2"] and res.n.tolist() == [36, 36]


def test_logreg_markers_of_two_groups():
    """Defect 15: with two groups scanpy's logreg reports one ranking, under the first
    group's name but with the second group's coefficients: top_markers crashed (no field
    of name 'c1'). Each group now gets its own markers."""
    adata = make_synthetic()  # G00-G03 mark c0, G04-G07 mark c1
    two = adata[adata.obs["cluster"].isin(["c0", "c1"])]
    table = sch.tl.top_markers(two, "cluster", method="logreg", n_genes=3)
    genes = table.groupby("group", observed=True)["gene"].apply(set).to_dict()
    assert genes["c0"] <= {"G00", "G01", "G02", "G03"}
    assert genes["c1"] <= {"G04", "G05", "G06", "G07"}
    listed = sch.get.marker_genes(adata, "cluster", method="logreg", groups=["c1", "c0"])
    assert list(listed) == ["c0", "c1"] and set(listed["c0"][:3]) <= {"G00", "G01", "G02", "G03"}


def test_split_panels_whose_cells_are_all_left_out():
    """Defect 16: split_by with exclude_double_zero, when no cell expresses either gene,
    left no panel at all and the layout divided by zero. Each split category with cells
    keeps its panel (the statistics count its cells), showing n = 0."""
    adata = make_synthetic()
    adata.X = sparse.csr_matrix(adata.shape, dtype=np.float32)  # nothing expressed
    plot = sch.pl.dual_expression(
        adata, "G00", "G01", color=None, split_by="dataset", exclude_double_zero=True
    )
    assert list(plot.axes["panels"]) == ["d1", "d2"] and plot.data.empty
    assert [ax.get_title().split("\n")[0] for ax in plot.axes["panels"].values()] == [
        "d1  r=n/a n=0",
        "d2  r=n/a n=0",
    ]


def test_correlation_with_infinite_values_drops_them_quietly():
    """Defect 17 (cosmetic): a variable holding inf leaked numpy's 'invalid value
    encountered in subtract' RuntimeWarning; it is dropped with its reason."""
    import warnings

    adata = make_synthetic()
    adata.obs["score"] = np.inf  # max - min is inf - inf
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        res = sch.get.correlation(
            adata, rows=["G00", "G04", "score"], cols="genes", genes=["G00", "G04"]
        )
    assert list(res.dropped["variable"]) == ["score"]
    assert res.dropped["reason"].tolist() == ["holds NaN or inf"]
