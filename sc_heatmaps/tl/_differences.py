"""Differences between datasets within each cluster (e.g. stimulated against control).

Per cluster, each dataset is compared with a reference dataset, or with the other
datasets of that cluster pooled. The t-tests come from one pass over ``X``: the
statistics of every (cluster, dataset) cell group (or of every (cluster, sample)
group with ``sample_key=``) from ``_aggregate``; a dataset's rest within a cluster is
the cluster's total minus the dataset, so no second pass is needed. The Wilcoxon test
ranks the cells of each comparison on the side (``_ranking.compute_ranking``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from .._aggregate import GroupStats, group_stats_all
from .._intake import intake
from .._plural import counted
from .._sources import resolve_source, resolve_x
from .._validate import ScHeatmapsKeyError, as_name_list, categorical_obs, check_choice
from . import _pseudobulk as pb
from ._checks import checked_log1p, refuse_nonfinite, warn_if_counts
from ._rank_store import check_free
from ._ranking import compute_ranking
from ._ttest import _adjust, _expm1, _mean_var, _top_order, welch

PSEUDOBULK = "pseudobulk"
METHODS = ("t-test", "t-test_overestim_var", "wilcoxon", PSEUDOBULK)
CELL_LEVEL = "cell-level test (exploratory)"  # how figures name a test with cells as unit
COLUMNS = [
    "cluster",
    "dataset",
    "reference",
    "gene",
    "logfc",
    "score",
    "pval",
    "pval_adj",
    "pct_dataset",
    "pct_reference",
    "n_dataset",
    "n_reference",
]
REST = "rest"


@dataclass(frozen=True)
class _Design:
    """Cells coded by (cluster, unit); a unit is a dataset, or a sample of one dataset.

    ``codes`` is ``cluster * n_units + unit`` (-1 for cells left out: no label, or a
    cluster not asked for); ``unit_dataset`` gives each unit's dataset name.
    """

    codes: np.ndarray
    clusters: list[str]
    datasets: list[str]
    units: list[str]
    unit_dataset: np.ndarray  # the dataset of each unit, "" for a sample without cells
    pseudobulk: bool


def dataset_differences(
    adata,
    dataset_key: str,
    cluster_key: str,
    *,
    reference: str | None = None,
    method: Literal["t-test", "t-test_overestim_var", "wilcoxon", "pseudobulk"] = "t-test",
    n_genes: int | None = None,
    sample_key: str | None = None,
    source: str = "RNA",
    layer: str | None = None,
    use_raw: bool | None = None,
    clusters: Sequence[str] | str | None = None,
    design_covariates: Sequence[str] | str | None = None,
    min_cells: int = 10,
    min_counts: int = 1000,
    shrink: bool = False,
    n_cpus: int = 1,
    key_added: str | None = None,
) -> pd.DataFrame:
    """Genes that differ between datasets within each cluster, as a tidy table.

    Per cluster, each dataset is tested against ``reference`` (a dataset), or, when
    ``reference=None``, against the cells of the other datasets in that cluster.
    The tests are scanpy's: ``method="t-test"`` equals
    ``sc.tl.rank_genes_groups(adata[in_cluster], dataset_key, groups=[dataset],
    reference=reference or "rest", method="t-test")`` (Welch's t-test; NaN scores
    set to 0 and NaN p-values to 1), with Benjamini-Hochberg ``pval_adj`` across the
    genes of each (cluster, dataset) comparison and scanpy's log fold change
    ``log2((expm1(mean_dataset) + 1e-9) / (expm1(mean_reference) + 1e-9))``.

    With ``sample_key``, replicates rather than cells are the unit (pseudobulk): each
    sample (which must belong to one dataset) is summarised per cluster by the mean
    of its cells' values in ``source``, and the sample means of a dataset are tested
    against those of the reference with Welch's t-test
    (``scipy.stats.ttest_ind(equal_var=False)``); ``n_dataset`` and
    ``n_reference`` then count samples, and ``logfc`` uses the mean of the sample
    means (``table.attrs["unit"] == "samples"``).

    ``method="pseudobulk"`` (with ``sample_key``; needs pydeseq2,
    ``pip install "sc-heatmaps[de]"``) is the replicate-level test the field uses: the
    raw counts of each (cluster, sample) are summed (one pass over the matrix, equal to
    ``sc.get.aggregate(func="sum")``), and per cluster the samples of each dataset are
    tested against those of the reference with pydeseq2 (DESeq2's negative-binomial
    GLM and Wald test, ``design = ~ covariates + dataset``, fitted to the samples of
    those two datasets only; size factors by ``"poscounts"``, which suits sparse
    profiles and never falls back to pydeseq2's slow iterative fit). ``logfc`` is
    DESeq2's log2 fold change, ``score`` its Wald statistic, ``pval_adj`` its adjusted
    p-value (Benjamini-Hochberg after independent filtering: NaN for filtered genes;
    ``score`` and ``pval`` are NaN for genes without counts or with outliers).
    Cell-level tests (no ``sample_key``) treat cells as independent and inflate
    significance: they are exploratory, and their table says
    ``attrs["unit"] == "cells"``.

    A comparison needs at least 2 cells (2 samples with ``sample_key``) on
    each side; the comparisons that cannot be made (too few cells or samples, the
    reference or the dataset absent from a cluster) are skipped, listed in
    ``table.attrs["skipped"]`` and named in a warning.

    Parameters
    ----------
    adata
        Annotated data with log-normalised values in ``source``; it is read only
        (written to only under ``key_added``).
    dataset_key
        Categorical obs key of the datasets (conditions, batches).
    cluster_key
        Categorical obs key of the clusters (cell types).
    reference
        The dataset every other dataset is compared with, or ``None``: each dataset
        against the other datasets of the cluster, pooled.
    method
        ``"t-test"``, ``"t-test_overestim_var"`` (as scanpy), ``"wilcoxon"``
        (cells only; scanpy's rank-sum test on the cells of each comparison) or
        ``"pseudobulk"`` (DESeq2 on summed counts of ``sample_key``'s samples).
    n_genes
        ``None`` keeps every gene. A number keeps, per (cluster, dataset), the
        ``n_genes`` genes with the highest scores (up) and the ``n_genes`` with the
        lowest (down).
    sample_key
        Categorical obs key of the samples (replicates) for a pseudobulk test.
    source
        ``"RNA"``, ``"integrated"`` or a layer name
        (see :func:`sc_heatmaps.get.grouped_expression`). For ``"pseudobulk"`` the
        values must be raw counts (non-negative integers, of any dtype).
    layer
        scanpy's name for ``source``: read ``adata.layers[layer]`` (e.g. ``"counts"``).
    use_raw
        scanpy's: ``True`` reads ``adata.raw.X``, ``False`` reads ``adata.X`` even when
        ``adata.raw`` is set; ``None`` (with ``layer=None``) follows ``source``.
    clusters
        Only these clusters (a list or ``"B,CD14 Mono"``), in this order.
    design_covariates
        ``"pseudobulk"`` only: obs columns added to the design, each constant within a
        sample and treated as categorical, e.g. ``["donor"]`` for a paired design
        (``~ donor + dataset``) when each donor was measured in every dataset.
    min_cells, min_counts
        ``"pseudobulk"`` only: a (cluster, sample) pseudobulk with fewer cells or fewer
        summed counts is dropped (decoupler's defaults); drops are listed in
        ``table.attrs["dropped"]``.
    shrink
        ``"pseudobulk"`` only: report apeGLM-shrunk log2 fold changes (pydeseq2's
        ``lfc_shrink``); p-values are unchanged.
    n_cpus
        ``"pseudobulk"`` only: processes pydeseq2 fits with.
    key_added
        Store the table in ``adata.uns[key_added]`` (never overwriting an entry).

    Returns
    -------
    pandas.DataFrame
        One row per (cluster, dataset, gene): ``cluster``, ``dataset``, ``reference``
        (the reference dataset, or ``"rest"``), ``gene``, ``logfc``, ``score``,
        ``pval``, ``pval_adj``, ``pct_dataset`` and ``pct_reference`` (fractions of the
        cluster's cells with a value above 0 in the dataset and in the reference, also
        with ``sample_key``), ``n_dataset`` and ``n_reference`` (cells, or samples).
        ``cluster`` and ``dataset`` are categorical (clusters in the order compared);
        rows are sorted by cluster, dataset and decreasing score (NaN last).
        ``"pseudobulk"`` adds ``baseMean`` (DESeq2's mean of normalised counts over
        the comparison's samples), ``n_samples_dataset`` and ``n_samples_reference``
        (samples used), and its ``n_dataset``/``n_reference`` count those samples'
        cells. ``table.attrs`` records ``"unit"`` (``"samples"`` or ``"cells"``),
        ``"method"`` (e.g. ``"pseudobulk DESeq2 (pydeseq2)"`` or ``"t-test"``),
        ``"design"`` (e.g. ``"~ donor + group_id"``; None for cell-level tests),
        ``"samples"`` (per comparison: ``cluster``, ``dataset``, ``dataset_samples``,
        ``reference_samples``), ``"dropped"`` (cluster, sample, dataset, n_cells,
        n_counts, reason), ``"skipped"`` (cluster, dataset, reason) and
        ``"reference"``.

    Examples
    --------
    >>> import sc_heatmaps as sch
    >>> adata = sch.datasets.example()
    >>> table = sch.tl.dataset_differences(adata, "dataset", "cluster", reference="ctrl")
    >>> sorted(table["dataset"].unique())
    ['stim_IFN', 'stim_LPS']
    """
    _check_options(method, n_genes, sample_key, key_added, adata.uns)
    settings = None
    if method == PSEUDOBULK:
        settings = pb.check_settings(
            adata.obs, design_covariates, min_cells, min_counts, shrink, n_cpus
        )
    else:
        _refuse_pseudobulk_options(design_covariates, min_cells, min_counts, shrink, n_cpus)
    design = _design(adata.obs, dataset_key, cluster_key, sample_key, clusters)
    ref = _check_reference(reference, design, dataset_key)
    expr = _expression(adata, source, layer, use_raw)
    if settings is not None:
        pb.pydeseq2_classes()  # the ImportError naming the extra, before the pass over X
    else:
        warn_if_counts(expr)
    st = group_stats_all(expr.X, design.codes, len(design.clusters) * len(design.units))
    if settings is not None:
        keys = (dataset_key, cluster_key, sample_key)
        table = _pseudobulk(adata.obs, st, expr, design, ref, settings, n_genes, keys)
    else:
        refuse_nonfinite(expr, [str(g) for g in expr.var_names[~np.isfinite(st.sums).all(axis=0)]])
        context = {"expr": expr, "design": design, "log1p": checked_log1p(adata.uns)}
        frames, skipped = _compare_all(st, ref, method, n_genes, context)
        table = _finish(frames, skipped, design, dataset_key, cluster_key)
        table.attrs.update(_cell_attrs(method, design, ref, dataset_key, sample_key))
    if key_added is not None:
        adata.uns[key_added] = table.copy()
    return table


def _pseudobulk(obs, st, expr, design, ref, settings, n_genes, keys) -> pd.DataFrame:
    """``method="pseudobulk"``: pydeseq2 on the summed counts of every comparison."""
    dataset_key, cluster_key, sample_key = keys
    pb.check_counts(expr, st.sums)
    meta = pb.sample_metadata(obs, sample_key, settings.covariates, design.units)
    found, skipped, dropped = pb.comparisons(st, design, ref, settings, meta, dataset_key)
    frames = [
        _frame(
            c.cluster,
            c.dataset,
            ref,
            expr.var_names,
            pb.deseq_fields(st, c, meta, settings, expr.var_names),
            n_genes,
        )
        for c in found
    ]
    table = _finish(frames, skipped, design, dataset_key, cluster_key)
    table.attrs.update(
        pb.table_attrs(found, dropped, settings, dataset_key, REST if ref is None else ref)
    )
    table.attrs["sample_key"] = sample_key
    return table


def _cell_attrs(method, design: _Design, ref, dataset_key, sample_key) -> dict:
    """What a cell-level or sample-mean table records about its test."""
    if design.pseudobulk:
        unit, name, formula = "samples", "Welch t-test on per-sample means", f"~ {dataset_key}"
    else:
        unit, name, formula = "cells", method, None
    return {
        "unit": unit,
        "method": name,
        "design": formula,
        "samples": [],
        "dropped": [],
        "reference": REST if ref is None else ref,
        "sample_key": sample_key,
    }


def _compare_all(st: GroupStats, ref, method: str, n_genes, context: dict):
    """Every (cluster, dataset) comparison: its rows, and the ones skipped (with why)."""
    design = context["design"]
    test = _rank_on_side if method == "wilcoxon" else _ttest
    frames, skipped = [], []
    for ci, cluster in enumerate(design.clusters):
        for ds in design.datasets:
            if ds == ref:
                continue
            sides = _sides(design, st, ci, ds, ref)
            why = _why_skipped(sides, design.pseudobulk)
            if why is not None:
                skipped.append({"cluster": cluster, "dataset": ds, "reason": why})
                continue
            fields = test(sides, method, ci=ci, **context)
            frames.append(_frame(cluster, ds, ref, context["expr"].var_names, fields, n_genes))
    return frames, skipped


def _check_options(method, n_genes, sample_key, key_added, uns) -> None:
    check_choice("method", method, METHODS)
    if n_genes is not None and (
        not isinstance(n_genes, int | np.integer) or isinstance(n_genes, bool) or n_genes < 1
    ):
        raise ValueError(
            f"n_genes={n_genes!r} is not valid; it must be a positive integer or None."
        )
    if sample_key is not None and method == "wilcoxon":
        raise ValueError(
            f"method={method!r} cannot be used with sample_key={sample_key!r}: samples are "
            "compared with method='pseudobulk' (DESeq2 on summed counts) or method='t-test' "
            "(Welch's t-test on per-sample means)."
        )
    if method == PSEUDOBULK and sample_key is None:
        raise ValueError(
            "method='pseudobulk' needs sample_key= (the obs column of the samples, i.e. the "
            "biological replicates, e.g. 'sample_id'); without samples there is no pseudobulk."
        )
    if key_added is not None and not isinstance(key_added, str):
        raise ValueError(f"key_added={key_added!r} is not valid; it must be a string or None.")
    check_free(uns, key_added)


def _refuse_pseudobulk_options(design_covariates, min_cells, min_counts, shrink, n_cpus):
    """The pseudobulk options, given with a cell-level method, are refused (not ignored)."""
    given = {
        "design_covariates": (design_covariates, None),
        "min_cells": (min_cells, 10),
        "min_counts": (min_counts, 1000),
        "shrink": (shrink, False),
        "n_cpus": (n_cpus, 1),
    }
    changed = [f"{k}={v!r}" for k, (v, default) in given.items() if v != default]
    if changed:
        raise ValueError(
            f"{', '.join(changed)} only apply to method='pseudobulk'; drop them or pass "
            "method='pseudobulk' with sample_key=."
        )


def _expression(adata, source: str, layer: str | None, use_raw: bool | None):
    """The matrix read: ``source``, or scanpy's ``layer=`` / ``use_raw=`` (not both)."""
    if layer is None and use_raw is None:
        return resolve_source(adata, source)
    if source != "RNA":
        raise ValueError(
            f"source={source!r} and layer={layer!r}/use_raw={use_raw!r} both name the values; "
            "pass one of them."
        )
    if use_raw is not None and not isinstance(use_raw, bool):
        raise ValueError(f"use_raw={use_raw!r} is not valid; it must be True, False or None.")
    if layer is not None:
        if use_raw:
            raise ValueError(
                f"layer={layer!r} and use_raw=True name two matrices; pass one of them."
            )
        return resolve_source(adata, layer)
    if use_raw:
        if adata.raw is None:
            raise ValueError(
                "use_raw=True, but adata.raw is not set; pass layer= or use_raw=False."
            )
        return resolve_source(adata, "RNA")
    return resolve_x(adata)


def _present(cat: pd.Categorical, mask: np.ndarray) -> list[str]:
    counts = np.bincount(np.asarray(cat.codes)[mask], minlength=len(cat.categories))
    return [str(c) for c, n in zip(cat.categories, counts, strict=True) if n > 0]


def _check_distinct_keys(dataset_key, cluster_key, sample_key) -> None:
    """The keys name different obs columns: a comparison of a column with itself has no
    cluster holding two datasets."""
    keys = {"dataset_key": dataset_key, "cluster_key": cluster_key, "sample_key": sample_key}
    named = [(k, v) for k, v in keys.items() if v is not None]
    for i, (first, value) in enumerate(named):
        for second, other in named[i + 1 :]:
            if isinstance(value, str) and value == other:
                raise ValueError(
                    f"{first}={value!r} and {second}={other!r} are the same obs key; "
                    f"{first} and {second} must be different columns of adata.obs."
                )


def _design(obs, dataset_key, cluster_key, sample_key, clusters) -> _Design:
    _check_distinct_keys(dataset_key, cluster_key, sample_key)
    ds_cat = categorical_obs(obs, dataset_key, "dataset_key")
    cl_cat = categorical_obs(obs, cluster_key, "cluster_key")
    sm_cat = None if sample_key is None else categorical_obs(obs, sample_key, "sample_key")
    cl_codes = _cluster_positions(cl_cat, clusters, cluster_key)
    ds_codes = np.asarray(ds_cat.codes, dtype=np.int64)
    keep = (cl_codes >= 0) & (ds_codes >= 0)
    if sm_cat is not None:
        keep &= np.asarray(sm_cat.codes) >= 0
    if not keep.any():
        raise ValueError(f"No cells have both a {dataset_key!r} and a {cluster_key!r} label.")
    names = [str(c) for c in cl_cat.categories]
    order = as_name_list(clusters, "clusters") or names
    present_clusters = [c for c in dict.fromkeys(order) if c in set(_present(cl_cat, keep))]
    datasets = [str(c) for c in ds_cat.categories]
    if sm_cat is None:
        units, unit_codes, unit_dataset = datasets, ds_codes, np.array(datasets, dtype=object)
    else:
        unit_codes = np.asarray(sm_cat.codes, dtype=np.int64)
        units = [str(c) for c in sm_cat.categories]
        unit_dataset = _sample_datasets(unit_codes, ds_codes, keep, units, datasets, sample_key)
    position = {c: i for i, c in enumerate(present_clusters)}
    cl_pos = np.array([position.get(n, -1) for n in names] + [-1])[cl_codes]
    keep &= cl_pos >= 0
    codes = np.where(keep, cl_pos * len(units) + unit_codes, -1).astype(np.int64)
    present_ds = [d for d in datasets if d in set(_present(ds_cat, keep))]
    return _Design(codes, present_clusters, present_ds, units, unit_dataset, sm_cat is not None)


def _cluster_positions(cl_cat: pd.Categorical, clusters, cluster_key: str) -> np.ndarray:
    """Category code of each cell's cluster, -1 for cells not in ``clusters``."""
    codes = np.asarray(cl_cat.codes, dtype=np.int64)
    wanted = as_name_list(clusters, "clusters")
    if wanted is None:
        return codes
    names = [str(c) for c in cl_cat.categories]
    unknown = [w for w in wanted if w not in names]
    if unknown:
        raise ScHeatmapsKeyError(
            f"clusters {unknown!r} are not categories of {cluster_key!r}; valid clusters are "
            f"{names!r}."
        )
    chosen = np.array([n in set(wanted) for n in names] + [False])
    return np.where(chosen[codes], codes, -1)


def _sample_datasets(sample_codes, ds_codes, keep, samples, datasets, sample_key) -> np.ndarray:
    """The dataset of each sample; a sample found in two datasets is refused."""
    pairs = pd.DataFrame({"s": sample_codes[keep], "d": ds_codes[keep]}).drop_duplicates()
    mixed = pairs["s"][pairs["s"].duplicated()].unique()
    if len(mixed):
        raise ValueError(
            f"samples {[samples[i] for i in mixed]!r} of {sample_key!r} hold cells of several "
            "datasets; each sample (replicate) must belong to one dataset."
        )
    out = np.full(len(samples), "", dtype=object)
    out[pairs["s"].to_numpy()] = [datasets[d] for d in pairs["d"]]
    return out


def _check_reference(reference, design: _Design, dataset_key: str) -> str | None:
    if reference is None:
        if len(design.datasets) < 2:
            raise ValueError(
                f"{dataset_key!r} has one dataset with cells ({design.datasets!r}); "
                "differences between datasets need at least 2."
            )
        return None
    if str(reference) not in design.datasets:
        raise ScHeatmapsKeyError(
            f"reference={reference!r} is not a dataset of {dataset_key!r} with cells; valid "
            f"references are {design.datasets!r}, or None (each dataset against the rest)."
        )
    if len(design.datasets) < 2:
        raise ValueError(f"{dataset_key!r} has no dataset besides the reference {reference!r}.")
    return str(reference)


@dataclass(frozen=True)
class _Sides:
    """The units (datasets or samples) of one comparison within one cluster."""

    stats: GroupStats  # of the cluster's units
    dataset: np.ndarray  # boolean over units
    reference: np.ndarray


def _sides(design: _Design, st: GroupStats, ci: int, ds: str, ref: str | None) -> _Sides:
    n_units = len(design.units)
    rows = slice(ci * n_units, (ci + 1) * n_units)
    sub = st.rows(rows)
    owner = design.unit_dataset
    is_ds = owner == ds
    is_ref = (owner == ref) if ref is not None else (~is_ds & (owner != ""))
    has_cells = sub.n > 0
    return _Sides(sub, is_ds & has_cells, is_ref & has_cells)


def _why_skipped(sides: _Sides, pseudobulk: bool) -> str | None:
    what = "sample" if pseudobulk else "cell"
    counts = [
        int(sides.dataset.sum()) if pseudobulk else int(sides.stats.n[sides.dataset].sum()),
        int(sides.reference.sum()) if pseudobulk else int(sides.stats.n[sides.reference].sum()),
    ]
    for side, n in zip(("dataset", "reference"), counts, strict=True):
        if n < 2:
            return f"{counted(n, what)} in the {side} (at least 2 are needed)"
    return None


def _side_moments(sides: _Sides, mask: np.ndarray, pseudobulk: bool) -> tuple:
    """Mean, variance and size of one side: of its cells, or of its samples' means."""
    if not pseudobulk:
        pooled = sides.stats.pooled(mask)
        mean, var = _mean_var(pooled)
        return mean, var, pooled.n
    means = sides.stats.sums[mask] / sides.stats.n[mask][:, None]
    return means.mean(axis=0), means.var(axis=0, ddof=1), int(mask.sum())


def _ttest(sides: _Sides, method: str, *, design: _Design, log1p, **_) -> dict:
    """Welch's t-test of the dataset against the reference, as scanpy computes it."""
    mean_d, var_d, n_d = _side_moments(sides, sides.dataset, design.pseudobulk)
    mean_r, var_r, n_r = _side_moments(sides, sides.reference, design.pseudobulk)
    scores, pvals = welch(mean_d, var_d, n_d, mean_r, var_r, n_r, method)
    return {
        "score": scores,
        "pval": pvals,
        **_descriptive(sides, mean_d, mean_r, log1p),
        "n_dataset": n_d,
        "n_reference": n_r,
    }


def _descriptive(sides: _Sides, mean_d, mean_r, log1p) -> dict:
    """scanpy's log fold change, and the fractions of cells above 0 on each side."""
    expm1 = _expm1(log1p)
    d, r = sides.stats.pooled(sides.dataset), sides.stats.pooled(sides.reference)
    n_d, pos_d, n_r, pos_r = d.n, d.n_pos, r.n, r.n_pos
    with np.errstate(invalid="ignore", divide="ignore"):
        logfc = np.log2((expm1(mean_d) + 1e-9) / (expm1(mean_r) + 1e-9))
    return {"logfc": logfc, "pct_dataset": pos_d / n_d, "pct_reference": pos_r / n_r}


def _rank_on_side(sides: _Sides, method: str, *, expr, design, log1p, ci) -> dict:
    """scanpy's Wilcoxon test on the cells of one comparison (the dataset and its
    reference only, so that each is the other's rest)."""
    n_units = len(design.units)
    unit = design.codes - ci * n_units
    in_cluster = (unit >= 0) & (unit < n_units)
    side = np.full(len(design.codes), -1, dtype=np.int64)
    side[in_cluster] = np.where(
        sides.dataset[unit[in_cluster]], 0, np.where(sides.reference[unit[in_cluster]], 1, -1)
    )
    rows = np.flatnonzero(side >= 0)
    sub = replace(expr, X=intake(expr.X[rows], expr.where))
    labels = ["dataset", "reference"]
    cat = pd.Categorical.from_codes(side[rows], categories=labels)
    request = {
        "groupby": "side",
        "method": method,
        "source": expr.source,
        "groups": labels,
        "corr_method": "benjamini-hochberg",
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the whole matrix was checked for counts already
        result = compute_ranking(sub, cat, request, log1p)
    position = pd.Index(np.asarray(result["names"]["dataset"]).astype(str))
    back = position.get_indexer(expr.var_names.astype(str))
    d, r = sides.stats.pooled(sides.dataset), sides.stats.pooled(sides.reference)
    n_d, s_d, n_r, s_r = d.n, d.sums, r.n, r.sums
    return {
        "score": np.asarray(result["scores"]["dataset"], dtype=np.float64)[back],
        "pval": np.asarray(result["pvals"]["dataset"], dtype=np.float64)[back],
        **_descriptive(sides, s_d / n_d, s_r / n_r, log1p),
        "n_dataset": n_d,
        "n_reference": n_r,
    }


def _frame(cluster, ds, ref, var_names: pd.Index, fields: dict, n_genes) -> pd.DataFrame:
    """One comparison's rows in scanpy's order (decreasing score), cut to ``n_genes``
    up and ``n_genes`` down."""
    fields = dict(fields)
    if "pval_adj" in fields:  # DESeq2's own (independent filtering): NaN scores go last
        order = _nan_last_order(fields["score"], n_genes)
    else:
        fields["pval_adj"] = _adjust(fields["pval"], "benjamini-hochberg")
        order = _top_order(fields["score"])
        if n_genes is not None and 2 * n_genes < len(order):
            order = np.concatenate([order[:n_genes], order[-n_genes:]])
    frame = pd.DataFrame({k: np.broadcast_to(v, len(var_names))[order] for k, v in fields.items()})
    frame.insert(0, "gene", np.asarray(var_names.astype(str))[order])
    frame.insert(0, "reference", REST if ref is None else ref)
    frame.insert(0, "dataset", ds)
    frame.insert(0, "cluster", cluster)
    return frame


def _nan_last_order(score: np.ndarray, n_genes) -> np.ndarray:
    """Decreasing score, genes without one (NaN: never counted) last; with ``n_genes``,
    the top and bottom ``n_genes`` of the genes with a score."""
    finite = np.flatnonzero(np.isfinite(score))
    order = finite[np.argsort(-score[finite], kind="stable")]
    if n_genes is not None:
        if 2 * n_genes < len(order):
            order = np.concatenate([order[:n_genes], order[-n_genes:]])
        return order
    return np.concatenate([order, np.flatnonzero(~np.isfinite(score))])


def _finish(frames, skipped, design: _Design, dataset_key, cluster_key) -> pd.DataFrame:
    if skipped:
        listed = "; ".join(f"{s['cluster']} / {s['dataset']}: {s['reason']}" for s in skipped)
        if not frames:
            raise ValueError(
                f"No comparison of {dataset_key!r} within {cluster_key!r} could be made: {listed}."
            )
        warnings.warn(
            f"Skipped comparisons (listed in table.attrs['skipped']): {listed}.",
            UserWarning,
            stacklevel=3,
        )
    table = pd.concat(frames, ignore_index=True)
    compared = [c for c in design.clusters if c in set(table["cluster"])]
    table["cluster"] = pd.Categorical(table["cluster"], categories=compared)
    table["dataset"] = pd.Categorical(table["dataset"], categories=design.datasets)
    counts = [c for c in table.columns if c.startswith("n_")]
    for column in counts:
        table[column] = table[column].astype(np.int64)
    table = table[COLUMNS + [c for c in pb.EXTRA_COLUMNS if c in table.columns]]
    table.attrs["skipped"] = list(skipped)
    return table
