"""Welch's t-test markers from one-pass sufficient statistics (scanpy's definitions).

Reproduces ``scanpy.tl.rank_genes_groups(method="t-test" | "t-test_overestim_var")``:
each group against every other cell, scores and p-values from
:func:`scipy.stats.ttest_ind_from_stats`, NaN scores set to 0 and NaN p-values to
1, Benjamini-Hochberg or Bonferroni adjustment, log fold changes
``log2((expm1(mean_group) + 1e-9) / (expm1(mean_rest) + 1e-9))``, and genes
ranked by score. The statistics come from one pass over the data (n, sum and
sum of squared deviations per group and gene, merged exactly into each group's rest),
so no per-group copy of ``X`` is made.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy import special

from .._aggregate import GroupStats, group_stats_all
from .._sources import Expression
from ._checks import refuse_nonfinite

_DTYPES = {
    "names": "O",
    "scores": "float32",
    "logfoldchanges": "float32",
    "pvals": "float64",
    "pvals_adj": "float64",
}


def _mean_var(stats: GroupStats):
    """Mean and unbiased variance (NaN for one cell or none), from sums and the sums of
    squared deviations of ``stats`` (never a sum of squares minus a squared sum)."""
    n = np.asarray(stats.n, dtype=np.float64)[..., None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return stats.sums / n, stats.m2 / (n - 1)


def welch(mean_g, var_g, n_g, mean_r, var_r, n_r, method: str = "t-test"):
    """Scanpy's Welch t-test from group moments: scores and two-sided p-values, with
    NaN scores set to 0 and NaN p-values to 1. ``"t-test_overestim_var"`` counts the
    rest as if it had as many cells as the group (scanpy's rule).

    The arithmetic is :func:`scipy.stats.ttest_ind_from_stats` (``equal_var=False``)
    step by step, with the t distribution's tail from :func:`scipy.special.stdtr`,
    so that a t-test does not import ``scipy.stats`` (a third of a command's start-up).
    """
    n_r = n_r if method == "t-test" else n_g
    with np.errstate(invalid="ignore", divide="ignore"):
        vn_g = np.sqrt(var_g) ** 2 / n_g
        vn_r = np.sqrt(var_r) ** 2 / n_r
        df = (vn_g + vn_r) ** 2 / (vn_g**2 / (n_g - 1) + vn_r**2 / (n_r - 1))
        df = np.where(np.isnan(df), 1.0, df)
        scores = np.divide(np.asarray(mean_g) - np.asarray(mean_r), np.sqrt(vn_g + vn_r))
        pvals = 2 * special.stdtr(np.asarray(df, dtype=scores.dtype), -np.abs(scores))
    return np.where(np.isnan(scores), 0.0, scores), np.where(np.isnan(pvals), 1.0, pvals)


def _adjust(pvals: np.ndarray, corr_method: str) -> np.ndarray:
    if corr_method == "bonferroni":
        return np.minimum(pvals * len(pvals), 1.0)
    # Benjamini-Hochberg as statsmodels' multipletests(method="fdr_bh") computes it,
    # without importing statsmodels
    order = np.argsort(pvals)
    ranked = pvals[order] / (np.arange(1, len(pvals) + 1) / float(len(pvals)))
    adjusted = np.empty_like(ranked)
    adjusted[order] = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
    return adjusted


def _top_order(scores: np.ndarray, n: int | None = None) -> np.ndarray:
    """The ``n`` highest scores (all genes when ``None``), highest first, in the order of
    scanpy's ``_select_top_n`` over every gene (``rank_genes_groups``' default
    ``n_genes``): the same numpy calls, so tied scores come in scanpy's order. The whole
    order is always built (a partition of the top ``n`` alone breaks ties differently,
    e.g. with numpy 1.26) and cut to ``n``; the other fields are computed for those."""
    total = len(scores)
    partition = np.argpartition(scores, -total)[-total:]
    order = partition[np.argsort(scores[partition])[::-1]]
    return order if n is None else order[: min(n, total)]


def adjust_rows(pvals: np.ndarray, corr_method: str):
    """:func:`_adjust` of each row of a (groups, genes) matrix, read where asked:
    ``adjusted(i, genes)`` gives row ``i``'s adjusted p-values of ``genes``.

    Benjamini-Hochberg sorts each row's p-values (values only, one numpy call for all
    rows) and takes the running minimum from the end, as :func:`_adjust` does; a gene's
    adjusted value is the one at the last position of its p-value among the sorted
    ones (tied p-values share it), so the numbers are :func:`_adjust`'s exactly."""
    n = pvals.shape[1]
    if corr_method == "bonferroni":
        return lambda i, genes: np.minimum(pvals[i, genes] * n, 1.0)
    ordered = np.sort(pvals, axis=1)
    ranked = ordered / (np.arange(1, n + 1) / float(n))
    tail = np.minimum(np.minimum.accumulate(ranked[:, ::-1], axis=1)[:, ::-1], 1.0)

    def adjusted(i: int, genes: np.ndarray) -> np.ndarray:
        last = np.searchsorted(ordered[i], pvals[i, genes], side="right") - 1
        return tail[i, last]

    return adjusted


def ordered_fields(columns, var_names, group_names, depth=None):
    """The fields of a ranking: each group's top ``depth`` genes (all when ``None``) in
    scanpy's order, only those sorted (argpartition, then a sort). ``columns`` maps
    ``scores`` to a (groups, genes) matrix and every other field to a function
    ``(group position, genes) -> values`` (so that fold changes and adjusted p-values
    are computed for the reported genes only)."""
    names = np.asarray(var_names)
    scores = columns["scores"]
    fields = {k: {} for k in _DTYPES}
    for i, group in enumerate(group_names):
        order = _top_order(scores[i], depth)
        fields["names"][group] = names[order]
        fields["scores"][group] = scores[i, order]
        for key, values in columns.items():
            if key != "scores":
                fields[key][group] = values(i, order)
    return fields


def _expm1(log1p: Mapping | None):
    base = None if log1p is None else log1p.get("base")
    if base is not None:
        return lambda x: np.expm1(x * np.log(base))
    return np.expm1


def _logfc(log1p):
    """scanpy's log2 fold change of group means against rest means (``log1p`` data)."""
    expm1 = _expm1(log1p)
    return lambda g, r: np.log2((expm1(g) + 1e-9) / (expm1(r) + 1e-9))


def ttest_ranking(
    expr: Expression,
    codes: np.ndarray,
    group_names: list[str],
    request: Mapping,
    log1p,
    one_pass: dict | None = None,
    depth: int | None = None,
) -> dict:
    """A ``rank_genes_groups``-style result for every group in ``group_names``: each
    group's top ``depth`` genes (all genes when ``None``).

    ``codes`` gives each cell's group position, ``len(group_names)`` for the
    other cells (they count in every group's rest). The statistics of the one pass
    (with the counts above zero) are left in ``one_pass["stats"]`` when a dict is given.
    """
    n_groups = len(group_names)
    st = group_stats_all(expr.X, codes, n_groups + 1)
    if one_pass is not None:
        one_pass["stats"] = st
    bad = ~np.isfinite(st.sums).all(axis=0)
    refuse_nonfinite(expr, [str(g) for g in np.asarray(expr.var_names)[bad]])
    groups = slice(None, n_groups)
    others = st.others().rows(groups)
    n_g = st.n[:n_groups, None].astype(np.float64)
    n_r = others.n[:, None].astype(np.float64)
    mean_g, var_g = _mean_var(st.rows(groups))
    mean_r, var_r = _mean_var(others)
    scores, pvals = welch(mean_g, var_g, n_g, mean_r, var_r, n_r, request["method"])
    logfc = _logfc(log1p)
    columns = {
        "scores": scores,
        "pvals": lambda i, genes: pvals[i, genes],
        "pvals_adj": adjust_rows(pvals, request["corr_method"]),
        "logfoldchanges": lambda i, genes: logfc(mean_g[i, genes], mean_r[i, genes]),
    }
    fields = ordered_fields(columns, expr.var_names, group_names, depth)
    return ranking_result(fields, expr, request, group_names, "sc_heatmaps one-pass t-test")


def _records(columns: Mapping[str, np.ndarray], dtype: str) -> np.recarray:
    """One field of a ranking: a record array with a column per group (as pandas'
    ``to_records(index=False)`` builds it, without the frame)."""
    names = [str(g) for g in columns]
    layout = np.dtype({"names": names, "formats": [dtype] * len(names)})
    return np.rec.fromarrays([np.asarray(v, dtype=dtype) for v in columns.values()], dtype=layout)


def ranking_result(
    fields: Mapping[str, Mapping[str, np.ndarray]],
    expr: Expression,
    request: Mapping,
    group_names: list[str],
    engine: str,
    **params,
) -> dict:
    """A ranking in the layout of ``rank_genes_groups``: a record array per field (a
    column per group, in scanpy's dtypes) and the ``params``, with ``params`` added."""
    result = {name: _records(columns, _DTYPES[name]) for name, columns in fields.items()}
    result["params"] = {
        "groupby": request["groupby"],
        "reference": "rest",
        "method": request["method"],
        "use_raw": expr.scanpy_kwargs["use_raw"],
        "layer": expr.scanpy_kwargs["layer"],
        "corr_method": request["corr_method"],
        **params,
        "source": request["source"],
        "groups": list(group_names),
        "engine": engine,
    }
    return result
