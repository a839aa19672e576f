"""Conserved markers: each cluster against the rest within every dataset, p-values combined.

Seurat's ``FindConservedMarkers`` for every cluster in one call. The tests per dataset
are in ``_conserved_stats``; this module validates the options, orders and selects
the genes, and builds the table.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from .._plural import counted
from .._sources import resolve_source
from .._validate import (
    ScHeatmapsKeyError,
    as_name_list,
    categorical_obs,
    check_choice,
    format_choices,
)
from ._checks import checked_log1p, warn_if_counts
from ._conserved_stats import (
    COMBINE,
    Cube,
    Design,
    cluster_tests,
    combine_pvalues,
    coverage,
    dataset_cluster_stats,
    ranked_pvalues,
)
from ._markers import _check_tie_correct
from ._rank_store import check_free
from ._select import _resolve
from ._ttest import _adjust

logger = logging.getLogger("sc_heatmaps")

METHODS = ("t-test", "t-test_overestim_var", "wilcoxon")
DIRECTIONS = ("up", "down", "both")
DUPLICATES = ("keep", "first", "best")
PER_DATASET = ("logfc", "pct_in", "pct_out", "pval")


def conserved_markers(
    adata,
    cluster_key: str,
    dataset_key: str,
    *,
    n_genes: int = 10,
    method: Literal["t-test", "t-test_overestim_var", "wilcoxon"] = "t-test",
    combine: Literal["wilkinson", "max", "fisher"] = "wilkinson",
    min_datasets: int | None = None,
    min_cells: int = 3,
    direction: Literal["up", "down", "both"] = "up",
    duplicates: Literal["keep", "first", "best"] = "best",
    source: str = "RNA",
    groups: Sequence[Hashable] | str | None = None,
    candidates: Sequence[str] | None = None,
    corr_method: Literal["benjamini-hochberg", "bonferroni"] = "benjamini-hochberg",
    tie_correct: bool = False,
    continuity: bool = False,
    key_added: str | None = None,
) -> pd.DataFrame:
    """Markers of every cluster that hold in every dataset, as a tidy table.

    Within each dataset, each cluster is tested against the other cells of that
    dataset (cells without a cluster label count in the rest, as in scanpy). A
    cluster is tested in a dataset only when it has at least ``min_cells`` cells
    there and the rest of the dataset has too. The per-gene p-values are then
    combined over the datasets where the cluster was tested. A gene is a
    conserved marker only when its log fold change has the same sign in every
    one of them (``direction``). Genes are ordered by the combined p-value,
    then by the mean log fold change.

    The t-tests are scanpy's ``rank_genes_groups(method="t-test")`` run on each
    dataset's cells, computed from one pass over the data. Log fold changes are
    scanpy's, ``log2((expm1(mean_in) + 1e-9) / (expm1(mean_rest) + 1e-9))``.
    ``method="wilcoxon"`` ranks each dataset's cells on the side.

    Parameters
    ----------
    adata
        Annotated data; log-normalised values in ``source``. Never modified unless
        ``key_added`` is given.
    cluster_key
        Categorical obs key of the clusters.
    dataset_key
        Categorical obs key of the datasets (batches, conditions, samples).
    n_genes
        Markers per cluster.
    method
        Test within each dataset.
    combine
        How the p-values of a gene are combined over the ``k`` datasets where the
        cluster was tested: ``"wilkinson"`` is metap's ``minimump``, the default
        of Seurat's ``FindConservedMarkers``: ``1 - (1 - min p)^k``; ``"max"`` is
        metap's ``maximump``, ``(max p)^k`` (every dataset must agree);
        ``"fisher"`` is :func:`scipy.stats.combine_pvalues` with Fisher's method.
    min_datasets
        A cluster gets markers only when it was tested in at least this many
        datasets. ``None``: 2 (1 when there is a single dataset), since a
        marker seen in one dataset cannot be shown to be conserved. Pass 1 for
        Seurat's behaviour (any dataset where the cluster has enough cells).
    min_cells
        Fewest cells a cluster, and the rest of its dataset, needs in a dataset to
        be tested there (Seurat's ``min.cells.group``; scanpy needs 2).
    direction
        ``"up"``: markers higher in the cluster in every dataset (logfc > 0 in
        each); ``"down"``: lower in every dataset; ``"both"``: either, ordered by
        the absolute mean log fold change after the p-value.
    duplicates
        A gene among the top markers of several clusters: ``"keep"`` it in each,
        keep it in the ``"first"`` cluster in category order, or in the
        ``"best"`` one (smallest combined p-value, then largest mean log fold
        change); the other clusters are refilled from further down.
    source
        ``"RNA"``, ``"integrated"`` or a layer name.
    groups
        Only these clusters get markers (a list or ``"B,NK"``); each is still tested
        against all other cells of its dataset.
    candidates
        Only these genes may be reported (for example the genes an integrated layer
        covers); the tests and the correction still use every gene of ``source``.
    corr_method
        Correction of the combined p-values over all genes of a cluster.
    tie_correct
        With ``method="wilcoxon"``: correct the variance of the rank sums for
        ties, as scanpy's ``tie_correct=True`` and R's ``wilcox.test`` (which
        Seurat's ``FindConservedMarkers`` calls) do. Single-cell values hold
        many zeros, so this changes the p-values noticeably. Only valid with
        ``method="wilcoxon"``.
    continuity
        With ``method="wilcoxon"``: move the rank sum's deviation 1/2 towards
        zero before the normal approximation, as R's ``wilcox.test(correct =
        TRUE)`` (its default) does. With ``tie_correct=True`` as well, each
        dataset's p-values are R's ``wilcox.test(exact = FALSE)`` ones (and
        :func:`scipy.stats.mannwhitneyu` with ``method="asymptotic"``), which
        Seurat's ``FindConservedMarkers`` combines; scanpy has no continuity
        correction (the default, ``False``). Only valid with ``method="wilcoxon"``.
    key_added
        Store the result in ``adata.uns[key_added]`` (a dict with ``"markers"``,
        ``"coverage"`` and ``"params"``). Nothing is stored when ``None``; an
        existing entry is never overwritten.

    Returns
    -------
    pandas.DataFrame
        One row per (cluster, gene): ``cluster`` (categorical, the categories of
        ``cluster_key`` with their own type), ``rank`` (1-based), ``gene``, ``pval``
        (combined), ``pval_adj`` (combined, corrected), ``mean_logfc`` (over the
        datasets used), ``n_datasets`` (datasets used), then for each dataset ``ds``
        (in category order) ``logfc_<ds>``, ``pct_in_<ds>``, ``pct_out_<ds>`` and
        ``pval_<ds>``, NaN where the cluster was not tested in ``ds``.
        ``table.attrs["coverage"]`` gives, per cluster and dataset, ``"used"``,
        ``"absent"``, ``"too small"`` or ``"rest too small"``;
        ``table.attrs["no_markers"]`` lists the clusters tested in fewer than
        ``min_datasets`` datasets. Both are also logged (logger ``"sc_heatmaps"``,
        level INFO).

    Examples
    --------
    >>> import sc_heatmaps as sch
    >>> adata = sch.datasets.example()
    >>> table = sch.tl.conserved_markers(adata, "cluster", "dataset", n_genes=3)
    >>> list(table.columns[:7])
    ['cluster', 'rank', 'gene', 'pval', 'pval_adj', 'mean_logfc', 'n_datasets']
    """
    options = dict(
        n_genes=n_genes,
        method=method,
        combine=combine,
        min_cells=min_cells,
        direction=direction,
        duplicates=duplicates,
        corr_method=corr_method,
        key_added=key_added,
    )
    _check_options(**options)
    options["tie_correct"] = _check_tie_correct(tie_correct, method)
    options["continuity"] = _check_continuity(continuity, method)
    if cluster_key == dataset_key:
        raise ValueError(
            f"cluster_key and dataset_key are both {cluster_key!r}; they must be two obs keys."
        )
    clusters = categorical_obs(adata.obs, cluster_key, "cluster_key")
    # a dataset category without cells is no dataset: it must not change the result
    datasets = categorical_obs(adata.obs, dataset_key, "dataset_key").remove_unused_categories()
    min_datasets = _min_datasets(min_datasets, len(datasets.categories))
    check_free(adata.uns, key_added)
    expr = resolve_source(adata, source)
    wanted = _wanted(expr, clusters, cluster_key, groups, candidates)
    warn_if_counts(expr)
    design = Design.of(clusters, datasets)
    cube = dataset_cluster_stats(expr, design)
    status = coverage(cube, design, min_cells).loc[wanted[0]]
    log1p = checked_log1p(adata.uns)
    pvals = None
    if method == "wilcoxon":
        request = {"groupby": cluster_key, "method": method, "source": source}
        request["tie_correct"] = options["tie_correct"]
        request["continuity"] = options["continuity"]
        pvals = _ranked(
            expr, clusters, datasets, status, {**request, "corr_method": corr_method}, log1p
        )
    options.update(candidates=wanted[1], min_datasets=min_datasets)
    tested = _tests(cube, design, status, options, pvals, log1p)
    table = _table(tested, design, expr.var_names, n_genes, duplicates)
    table["cluster"] = _own_categories(table["cluster"], clusters, list(status.index))
    _report(table, status, tested, clusters, datasets)
    if key_added is not None:
        params = {k: v for k, v in options.items() if k not in ("candidates", "key_added")}
        params.update(cluster_key=cluster_key, dataset_key=dataset_key, source=source)
        if groups is not None:
            params["groups"] = list(status.index)
        stored = {"markers": table.copy(), "coverage": status.copy(), "params": params}
        adata.uns[key_added] = stored
    return table


def _check_options(
    n_genes, method, combine, min_cells, direction, duplicates, corr_method, key_added
):
    for name, value, low in (("n_genes", n_genes, 1), ("min_cells", min_cells, 2)):
        if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < low:
            raise ValueError(f"{name}={value!r} is not valid; it must be an integer >= {low}.")
    check_choice("method", method, METHODS)
    check_choice("combine", combine, COMBINE)
    check_choice("direction", direction, DIRECTIONS)
    check_choice("duplicates", duplicates, DUPLICATES)
    check_choice("corr_method", corr_method, ("benjamini-hochberg", "bonferroni"))
    if key_added is not None and not isinstance(key_added, str):
        raise ValueError(f"key_added={key_added!r} is not valid; it must be a string or None.")


def _check_continuity(continuity: object, method) -> bool:
    if not isinstance(continuity, bool | np.bool_):
        raise TypeError(f"continuity={continuity!r} must be True or False.")
    if continuity and method != "wilcoxon":
        raise ValueError(
            f"continuity=True applies to method='wilcoxon' only, not method={method!r}."
        )
    return bool(continuity)


def _wanted(expr, clusters, cluster_key, groups, candidates) -> tuple[list[str], np.ndarray]:
    """Clusters that get markers (as strings) and a mask of the genes that may be reported."""
    names = [str(c) for c in clusters.categories]
    wanted = as_name_list(groups, "groups")
    if wanted is not None:
        unknown = [g for g in wanted if g not in names]
        if unknown:
            raise ScHeatmapsKeyError(
                f"groups {unknown!r} are not categories of {cluster_key!r}; valid groups are "
                f"{format_choices(names)}."
            )
        names = [n for n in names if n in set(wanted)]
    mask = np.ones(len(expr.var_names), dtype=bool)
    candidates = as_name_list(candidates, "candidates")
    if candidates is not None:
        idx, _ = expr.gene_indices(candidates)  # unknown genes raise, with close matches
        mask[:] = False
        mask[idx] = True
    return names, mask


def _min_datasets(value, n_datasets: int) -> int:
    if value is None:
        return min(2, max(n_datasets, 1))
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
        raise ValueError(
            f"min_datasets={value!r} is not valid; it must be a positive integer or None."
        )
    if value > n_datasets:
        raise ValueError(
            f"min_datasets={value!r} is more than the {counted(n_datasets, 'dataset')} of "
            "dataset_key."
        )
    return int(value)


def _ranked(expr, clusters, datasets, status: pd.DataFrame, request, log1p) -> dict:
    """p-values (genes x clusters) per dataset from a ranking of that dataset's cells."""
    out = {}
    for d, name in enumerate(status.columns):
        groups = [c for c in status.index if status.at[c, name] == "used"]
        if groups:
            in_dataset = np.asarray(datasets.codes) == d
            out[name] = ranked_pvalues(expr, clusters, in_dataset, groups, request, log1p)
    return out


def _order_key(mean_logfc: np.ndarray, direction: str) -> np.ndarray:
    """Larger is better, after the combined p-value."""
    return {"up": mean_logfc, "down": -mean_logfc, "both": np.abs(mean_logfc)}[direction]


def _tests(cube: Cube, design: Design, status, options, pvals, log1p) -> dict:
    """Per cluster with enough datasets: its per-dataset tests and combined p-values."""
    out = {}
    for cluster in status.index:
        c = design.clusters.index(cluster)
        used = np.flatnonzero(status.loc[cluster].to_numpy() == "used")
        if len(used) < options["min_datasets"]:
            continue
        res = cluster_tests(cube, c, used, options["method"], log1p)
        if pvals is not None:
            res["pvals"] = np.vstack([pvals[design.datasets[d]][cluster].to_numpy() for d in used])
        logfc = res["logfc"]
        agree = {"up": (logfc > 0).all(0), "down": (logfc < 0).all(0)}
        agree["both"] = agree["up"] | agree["down"]
        combined = combine_pvalues(res["pvals"], options["combine"])
        mean_logfc = logfc.mean(axis=0)
        key = _order_key(mean_logfc, options["direction"])
        keep = np.flatnonzero(agree[options["direction"]] & options["candidates"])
        order = keep[np.lexsort((-key[keep], combined[keep]))]
        out[cluster] = {
            **res,
            "used": used,
            "pval": combined,
            "pval_adj": _adjust(combined, options["corr_method"]),
            "mean_logfc": mean_logfc,
            "key": key,
            "order": order,
        }
    return out


def _cluster_frame(res: dict, genes: np.ndarray, positions: np.ndarray, datasets) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "gene": genes[positions],
            "pval": res["pval"][positions],
            "pval_adj": res["pval_adj"][positions],
            "mean_logfc": res["mean_logfc"][positions],
            "n_datasets": len(res["used"]),
        }
    )
    by_dataset = dict(zip(res["used"], range(len(res["used"])), strict=True))
    for d, name in enumerate(datasets):
        for field, source in zip(PER_DATASET, ("logfc", "pct_in", "pct_out", "pvals"), strict=True):
            row = by_dataset.get(d)
            frame[f"{field}_{name}"] = np.nan if row is None else res[source][row, positions]
    return frame


def _own_categories(column: pd.Series, clusters: pd.Categorical, names: list[str]):
    """The clusters as the categories themselves (integers stay integers), in order."""
    own = {str(c): c for c in clusters.categories}
    return pd.Categorical(column.map(own), categories=[own[c] for c in names])


def _table(tested: dict, design: Design, genes, n_genes: int, duplicates: str):
    """Top ``n_genes`` per cluster after the duplicate policy, one row per (cluster, gene)."""
    genes = np.asarray(genes, dtype=object)
    depth = n_genes if duplicates == "keep" else n_genes * max(len(tested), 1)
    candidates = {c: list(genes[r["order"][:depth]]) for c, r in tested.items()}
    scores = {
        c: {
            g: (-r["pval"][p], r["key"][p])
            for g, p in zip(genes[r["order"][:depth]], r["order"][:depth], strict=True)
        }
        for c, r in tested.items()
    }
    chosen = _resolve(candidates, scores, n_genes, duplicates)
    frames = []
    position = {g: i for i, g in enumerate(genes)}
    for cluster, res in tested.items():
        positions = np.array([position[g] for g in chosen[cluster]], dtype=np.int64)
        frame = _cluster_frame(res, genes, positions, design.datasets)
        frame.insert(0, "rank", np.arange(1, len(frame) + 1))
        frame.insert(0, "cluster", cluster)
        frames.append(frame)
    columns = ["cluster", "rank", "gene", "pval", "pval_adj", "mean_logfc", "n_datasets"]
    columns += [f"{f}_{d}" for d in design.datasets for f in PER_DATASET]
    if not frames:  # no cluster was tested in enough datasets
        frames = [
            pd.DataFrame({c: pd.Series(dtype=float) for c in columns}).astype({"gene": object})
        ]
    table = pd.concat(frames, ignore_index=True)
    table = table[columns]
    table["rank"] = table["rank"].astype(np.int64)
    table["n_datasets"] = table["n_datasets"].astype(np.int64)
    return table


def _report(table, status: pd.DataFrame, tested: dict, clusters, datasets) -> None:
    """``table.attrs`` and the log: where each cluster was tested, and which got none."""
    own_c = {str(c): c for c in clusters.categories}
    own_d = {str(d): d for d in datasets.categories}
    table.attrs["coverage"] = {
        own_c[c]: {own_d[d]: str(status.at[c, d]) for d in status.columns} for c in status.index
    }
    table.attrs["no_markers"] = [own_c[c] for c in status.index if c not in tested]
    for c in status.index:
        missing = {d: s for d, s in status.loc[c].items() if s != "used"}
        if missing:
            logger.info("conserved markers: cluster %r is not tested in %s.", c, missing)
    if table.attrs["no_markers"]:
        logger.info(
            "conserved markers: clusters %r are tested in too few datasets; they get none.",
            table.attrs["no_markers"],
        )
