"""Seurat's marker recipe on a full ranking: ``FindAllMarkers(min.pct = 0.25, only.pos = TRUE)``,
then ``avg_log2FC > 1``, ordered by p-value (Seurat 4.3, ``R/differential_expression.R``).

Read from Seurat 4.3.0's source:

- ``pct.1`` and ``pct.2`` are the fractions of cells above 0 in the cluster and in all
  other cells, **rounded to 3 digits** (``FoldChange.default``); a gene is tested when
  ``max(pct.1, pct.2) >= min.pct`` (``FindMarkers.default``).
- ``avg_log2FC`` after ``NormalizeData`` (LogNormalize) is
  ``log2(rowMeans(expm1(x)) + 1)`` of the cluster minus that of the rest
  (``FoldChange.Assay``; pseudocount 1, not divided by the number of cells as in Seurat 5).
  Seurat's data are natural logs; for data logged in another base
  (``uns["log1p"]["base"]``) ``expm1`` is taken in that base, as everywhere else here.
- The Wilcoxon p-value (``WilcoxDETest``: limma's ``rankSumTestWithCorrelation``, or
  ``wilcox.test``) is the normal approximation with the tie correction and a continuity
  correction of 1/2.
- Rows are ordered by ``p_val``, then by ``avg_log2FC`` descending (``order(p_val,
  -avg_log2FC)``; R's order is stable, so remaining ties keep the gene order);
  ``FindAllMarkers`` keeps ``p_val < return.thresh`` (0.01) and, with ``only.pos``,
  ``avg_log2FC > 0``; ``p_val_adj`` is Bonferroni over all genes of the object.

The test statistic itself comes from our ranking (``method``): this module only turns
scanpy's Wilcoxon z-score into Seurat's p-value, and reads t-test p-values as they are.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import sparse

from .._aggregate import group_stats, group_stats_all
from .._sources import Expression, column_block
from ._ranking import group_codes
from ._ttest import _expm1

MIN_PCT = 0.25  # FindAllMarkers(min.pct = 0.25)
MIN_LOG2FC = 1.0  # then avg_log2FC > 1 (strict)
RETURN_THRESH = 0.01  # FindAllMarkers' return.thresh: p_val < 0.01
P_VALUE_METHODS = ("wilcoxon", "t-test", "t-test_overestim_var")


def seurat_ranking(
    result: Mapping,
    expr: Expression,
    cat: pd.Categorical,
    group_names: list[str],
    method: str,
    log1p: Mapping | None = None,
) -> pd.DataFrame:
    """The genes that pass Seurat's filters, per group in Seurat's order.

    Same columns as ``ranking_table`` (group, position, gene, score, logfc,
    pval_adj): ``logfc`` is Seurat's ``avg_log2FC`` and ``pval_adj`` its ``p_val_adj``.
    """
    codes = group_codes(cat, group_names)
    n_groups = len(group_names)
    counts = group_stats_all(expr.X, codes, n_groups + 1)
    pct_in, pct_out = _rounded_fractions(counts.n_pos, counts.n)
    tested = np.maximum(pct_in, pct_out) >= MIN_PCT
    idx = np.flatnonzero(tested.any(axis=0))
    block = column_block(expr.X, idx)
    logfc = seurat_log2fc(block, codes, n_groups, log1p)
    keep = tested[:, idx] & (logfc > MIN_LOG2FC)
    used = np.flatnonzero(keep.any(axis=0))
    ties = tie_sums(_columns(block, used)) if method == "wilcoxon" else None
    frames = []
    for g, group in enumerate(group_names):
        cols = used[keep[g, used]]
        genes = expr.var_names[idx[cols]]
        score, pvals = _scanpy_values(result, group, genes)
        if ties is not None:
            sizes = (counts.n[g], counts.n.sum())
            pvals = wilcoxon_pvalues(score, *sizes, ties[keep[g, used]], _tie_corrected(result))
        values = (score, logfc[g, cols], pvals)
        frames.append(_ordered(group, genes, idx[cols], values, len(expr.var_names)))
    return pd.concat(frames, ignore_index=True)


def _rounded_fractions(n_pos: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Seurat's pct.1 (the group) and pct.2 (all other cells), rounded to 3 digits."""
    groups, total = n_pos[:-1], n_pos.sum(axis=0)
    n_in = n[:-1, None].astype(np.float64)
    n_out = n.sum() - n_in
    return np.round(groups / n_in, 3), np.round((total - groups) / n_out, 3)


def seurat_log2fc(block, codes: np.ndarray, n_groups: int, log1p=None) -> np.ndarray:
    """``log2(mean(expm1(x)) + 1)`` of each group minus that of all other cells, with
    ``expm1`` in the base of ``log1p["base"]`` when one is set (``base**x - 1``), as
    every other fold change of the package."""
    expm1 = _expm1(log1p)
    if sparse.issparse(block):
        linear = block.copy()
        linear.data = expm1(linear.data)
    else:
        linear = expm1(block)
    st = group_stats(linear, codes, n_groups + 1)
    total_sum, total_n = st.sums.sum(axis=0), st.n.sum()
    n_in = st.n[:n_groups, None].astype(np.float64)
    mean_in = st.sums[:n_groups] / n_in
    mean_out = (total_sum - st.sums[:n_groups]) / (total_n - n_in)
    return np.log2(mean_in + 1) - np.log2(mean_out + 1)


def _columns(block, cols: np.ndarray):
    return block.tocsc()[:, cols] if sparse.issparse(block) else block[:, cols]


def tie_sums(block) -> np.ndarray:
    """``sum(t**3 - t)`` over the runs of equal values of each column (all cells)."""
    n_cells, n_cols = block.shape
    out = np.zeros(n_cols)
    csc = sparse.csc_matrix(block) if sparse.issparse(block) else None
    for j in range(n_cols):
        if csc is None:
            values, zeros = block[:, j], 0
        else:  # the zeros that are not stored form one more tie block
            values = csc.data[csc.indptr[j] : csc.indptr[j + 1]]
            zeros = n_cells - len(values)
        values, t = np.unique(values, return_counts=True)
        t = t.astype(np.float64)
        t[values == 0] += zeros
        out[j] = np.sum(t**3 - t) + (0.0 if (values == 0).any() else float(zeros) ** 3 - zeros)
    return out


def _tie_corrected(result: Mapping) -> bool:
    params = result.get("params", {})
    return bool(params.get("tie_correct", False)) if isinstance(params, Mapping) else False


def wilcoxon_pvalues(
    z: np.ndarray, n1: int, n: int, ties: np.ndarray, tie_corrected: bool = False
) -> np.ndarray:
    """Seurat's Wilcoxon p-values from scanpy's z-scores.

    scanpy's score is ``(R1 - n1 (n + 1) / 2) / sqrt(n1 n2 (n + 1) / 12)`` (the deviation
    times ``sqrt(1 - ties / (n**3 - n))`` with ``tie_correct``); Seurat (limma or
    ``wilcox.test``) divides ``|U - n1 n2 / 2| - 1/2`` by the tie-corrected deviation.
    """
    n2 = n - n1
    sigma = np.sqrt(n1 * n2 / 12.0 * ((n + 1) - ties / (n * (n - 1.0))))
    plain = np.sqrt(n1 * n2 * (n + 1) / 12.0)
    shift = np.asarray(z, dtype=np.float64) * (sigma if tie_corrected else plain)
    with np.errstate(divide="ignore", invalid="ignore"):
        corrected = (np.abs(shift) - 0.5) / sigma
    from scipy import stats

    return np.minimum(2.0 * stats.norm.sf(corrected), 1.0)


def _scanpy_values(result: Mapping, group: str, genes: pd.Index):
    names = pd.Index(np.asarray(result["names"][group]).astype(str))
    at = names.get_indexer(genes.astype(str))
    score = np.asarray(result["scores"][group], dtype=np.float64)[at]
    pvals = np.asarray(result["pvals"][group], dtype=np.float64)[at] if "pvals" in result else None
    return score, pvals


def _ordered(group, genes, positions, values, n_vars: int) -> pd.DataFrame:
    """p < 0.01, ordered by p-value, then log2FC descending, then gene order."""
    score, logfc, pvals = values
    ok = pvals < RETURN_THRESH
    order = np.lexsort((positions[ok], -logfc[ok], pvals[ok]))
    p = pvals[ok][order]
    return pd.DataFrame(
        {
            "group": group,
            "position": np.arange(len(p)),
            "gene": np.asarray(genes.astype(str))[ok][order],
            "score": score[ok][order],
            "logfc": logfc[ok][order],
            "pval_adj": np.minimum(p * n_vars, 1.0),
        }
    )
