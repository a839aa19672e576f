"""Per-dataset tests of each cluster against the rest of its dataset, and their combination.

The t-tests come from one pass over ``X``: the statistics of every (dataset, cluster)
cell group (n, sum, sum of squares, count above zero, from ``_aggregate``). A
cluster's rest within a dataset is the dataset's total minus the cluster, so no
second pass is needed. Other methods (Wilcoxon) rank each dataset's cells on the side
with ``_ranking.compute_ranking``; fold changes and fractions still come from the
one-pass statistics (scanpy computes them from group means for every method).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .._aggregate import GroupStats, group_stats_all
from .._intake import intake
from .._sources import Expression
from ._checks import refuse_nonfinite
from ._ranking import compute_ranking
from ._ttest import _expm1, _mean_var, welch

COMBINE = ("wilkinson", "max", "fisher")


@dataclass(frozen=True)
class Design:
    """Cells coded by (dataset, cluster).

    Code ``d * (n_clusters + 1) + c`` for a cell of cluster ``c`` in dataset ``d``;
    ``c = n_clusters`` for a cell without a cluster label (it belongs to the rest of
    every cluster of its dataset, as in scanpy); cells without a dataset label get the
    last code and are left out.
    """

    codes: np.ndarray
    clusters: list[str]
    datasets: list[str]

    @classmethod
    def of(cls, clusters: pd.Categorical, datasets: pd.Categorical) -> Design:
        n_cl, n_ds = len(clusters.categories), len(datasets.categories)
        c = np.where(clusters.codes < 0, n_cl, clusters.codes).astype(np.int64)
        d = np.asarray(datasets.codes, dtype=np.int64)
        codes = np.where(d < 0, n_ds * (n_cl + 1), d * (n_cl + 1) + c)
        return cls(
            codes=codes,
            clusters=[str(x) for x in clusters.categories],
            datasets=[str(x) for x in datasets.categories],
        )

    @property
    def n_groups(self) -> int:
        return len(self.datasets) * (len(self.clusters) + 1) + 1


@dataclass(frozen=True)
class Cube:
    """Statistics as (dataset, cluster, gene) arrays, and the dataset totals."""

    n: np.ndarray  # (datasets, clusters)
    sums: np.ndarray  # (datasets, clusters, genes)
    sum_sq: np.ndarray
    n_pos: np.ndarray
    total: GroupStats  # per dataset: n (datasets,), sums etc. (datasets, genes)


def dataset_cluster_stats(expr: Expression, design: Design) -> Cube:
    """One pass over ``expr.X``: statistics of every (dataset, cluster) group."""
    st = group_stats_all(expr.X, design.codes, design.n_groups)
    bad = ~np.isfinite(st.sums).all(axis=0)
    refuse_nonfinite(expr, [str(g) for g in np.asarray(expr.var_names)[bad]])
    n_ds, width = len(design.datasets), len(design.clusters) + 1

    def shaped(a: np.ndarray) -> np.ndarray:
        return a[: n_ds * width].reshape(n_ds, width, *a.shape[1:])

    n, sums, sum_sq, n_pos = (shaped(a) for a in (st.n, st.sums, st.sum_sq, st.n_pos))
    total = GroupStats(n=n.sum(1), sums=sums.sum(1), sum_sq=sum_sq.sum(1), n_pos=n_pos.sum(1))
    k = len(design.clusters)
    return Cube(n=n[:, :k], sums=sums[:, :k], sum_sq=sum_sq[:, :k], n_pos=n_pos[:, :k], total=total)


def coverage(cube: Cube, design: Design, min_cells: int) -> pd.DataFrame:
    """Status of each cluster in each dataset (clusters x datasets): ``"used"``,
    ``"absent"``, ``"too small"`` (fewer than ``min_cells`` cells) or ``"rest too
    small"`` (fewer than ``min_cells`` other cells in the dataset)."""
    n_in = cube.n
    n_rest = cube.total.n[:, None] - n_in
    status = np.where(
        n_in == 0,
        "absent",
        np.where(
            n_in < min_cells, "too small", np.where(n_rest < min_cells, "rest too small", "used")
        ),
    )
    return pd.DataFrame(status.T, index=design.clusters, columns=design.datasets)


def cluster_tests(cube: Cube, c: int, used: np.ndarray, method: str, log1p) -> dict:
    """Welch t-tests (scanpy's) of cluster ``c`` against the rest of each dataset in
    ``used``; arrays of shape (datasets used, genes)."""
    n_g = cube.n[used, c][:, None]
    n_r = cube.total.n[used][:, None] - n_g
    mean_g, var_g = _mean_var(cube.sums[used, c], cube.sum_sq[used, c], n_g)
    rest_s = cube.total.sums[used] - cube.sums[used, c]
    rest_q = cube.total.sum_sq[used] - cube.sum_sq[used, c]
    mean_r, var_r = _mean_var(rest_s, rest_q, n_r)
    scores, pvals = welch(mean_g, var_g, n_g, mean_r, var_r, n_r, method)
    expm1 = _expm1(log1p)
    rest_pos = cube.total.n_pos[used] - cube.n_pos[used, c]
    return {
        "scores": scores,
        "pvals": pvals,
        "logfc": np.log2((expm1(mean_g) + 1e-9) / (expm1(mean_r) + 1e-9)),
        "pct_in": cube.n_pos[used, c] / n_g,
        "pct_out": rest_pos / n_r,
    }


def ranked_pvalues(
    expr: Expression,
    clusters: pd.Categorical,
    in_dataset: np.ndarray,
    groups: list[str],
    request: Mapping,
    log1p,
) -> pd.DataFrame:
    """p-values (genes x ``groups``) of each cluster against the rest of one dataset's
    cells (``in_dataset``), from ``compute_ranking`` on those cells (e.g. Wilcoxon)."""
    rows = np.flatnonzero(in_dataset)
    sub = replace(expr, X=intake(expr.X[rows], expr.where))
    with warnings.catch_warnings():
        # the caller warned once for the whole matrix
        warnings.filterwarnings("ignore", message=".*look like raw counts")
        result = compute_ranking(sub, clusters[rows], {**request, "groups": groups}, log1p)
    names = pd.Index(expr.var_names)
    out = {
        g: pd.Series(np.asarray(result["pvals"][g], dtype=np.float64), index=result["names"][g])
        for g in groups
    }
    return pd.DataFrame(out).reindex(names)


def combine_pvalues(pvals: np.ndarray, combine: str) -> np.ndarray:
    """Combine p-values over datasets (axis 0), per gene.

    ``"wilkinson"``: metap's ``minimump`` (Wilkinson's method with r = 1, Seurat's
    default), ``1 - (1 - min p)^k``; ``"max"``: metap's ``maximump``, ``(max p)^k``;
    ``"fisher"``: Fisher's method as :func:`scipy.stats.combine_pvalues`.
    """
    k = pvals.shape[0]
    if combine == "wilkinson":
        # 1 - (1 - p)^k without cancellation for small p (the Beta(1, k) cdf)
        with np.errstate(divide="ignore"):  # min p = 1 gives log(0): combined p = 1
            return -np.expm1(k * np.log1p(-np.min(pvals, axis=0)))
    if combine == "max":
        return np.max(pvals, axis=0) ** k
    with np.errstate(divide="ignore"):
        statistic = -2.0 * np.sum(np.log(pvals), axis=0)
    from scipy import stats

    return stats.chi2.sf(statistic, 2 * k)
