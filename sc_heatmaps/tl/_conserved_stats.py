"""Per-dataset tests of each cluster against the rest of its dataset, and their combination.

The t-tests come from one pass over ``X``: the statistics of every (dataset, cluster)
cell group (n, sum, sum of squared deviations, count above zero, from ``_aggregate``).
A cluster's rest within a dataset is the dataset's other groups merged exactly (Chan et
al.'s update), so no second pass is needed. Other methods (Wilcoxon) rank each
dataset's cells on the side with ``_ranking.compute_ranking``; fold changes and
fractions still come from the one-pass statistics (scanpy computes them from group
means for every method).
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
    """Statistics of each (dataset, cluster) group, and of each cluster's rest within its
    dataset: ``n`` is (datasets, clusters), the others (datasets, clusters, genes)."""

    cells: GroupStats
    rest: GroupStats

    @property
    def n(self) -> np.ndarray:
        return self.cells.n


def dataset_cluster_stats(expr: Expression, design: Design) -> Cube:
    """One pass over ``expr.X``: statistics of every (dataset, cluster) group."""
    st = group_stats_all(expr.X, design.codes, design.n_groups)
    bad = ~np.isfinite(st.sums).all(axis=0)
    refuse_nonfinite(expr, [str(g) for g in np.asarray(expr.var_names)[bad]])
    width = len(design.clusters) + 1  # the clusters, then the cells without one
    per_dataset = [st.rows(slice(d * width, (d + 1) * width)) for d in range(len(design.datasets))]
    rest = [stats.others() for stats in per_dataset]

    def stacked(parts: list[GroupStats]) -> GroupStats:
        k = len(design.clusters)
        fields = ("n", "sums", "m2", "n_pos")
        return GroupStats(*(np.stack([getattr(p, f)[:k] for p in parts]) for f in fields))

    return Cube(cells=stacked(per_dataset), rest=stacked(rest))


def coverage(cube: Cube, design: Design, min_cells: int) -> pd.DataFrame:
    """Status of each cluster in each dataset (clusters x datasets): ``"used"``,
    ``"absent"``, ``"too small"`` (fewer than ``min_cells`` cells) or ``"rest too
    small"`` (fewer than ``min_cells`` other cells in the dataset)."""
    n_in = cube.n
    n_rest = cube.rest.n
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
    cells, rest = cube.cells.rows((used, c)), cube.rest.rows((used, c))
    n_g, n_r = cells.n[:, None], rest.n[:, None]
    mean_g, var_g = _mean_var(cells)
    mean_r, var_r = _mean_var(rest)
    scores, pvals = welch(mean_g, var_g, n_g, mean_r, var_r, n_r, method)
    expm1 = _expm1(log1p)
    return {
        "scores": scores,
        "pvals": pvals,
        "logfc": np.log2((expm1(mean_g) + 1e-9) / (expm1(mean_r) + 1e-9)),
        "pct_in": cells.n_pos / n_g,
        "pct_out": rest.n_pos / n_r,
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
