"""Top marker genes per cluster through ``scanpy.tl.rank_genes_groups``."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from typing import Literal

import numpy as np
import pandas as pd

from .._aggregate import group_stats, subset_group_stats
from .._intake import intake
from .._sources import Expression, backed_columns, column_block, resolve_source
from .._validate import (
    ScHeatmapsKeyError,
    as_name_list,
    categorical_obs,
    check_choice,
    check_number,
    format_choices,
)
from ._checks import checked_log1p
from ._provenance import fingerprint
from ._rank_store import check_free, find_reusable, ranking_table, store_result
from ._ranking import compute_ranking, group_codes
from ._select import select_markers
from ._seurat import P_VALUE_METHODS, seurat_ranking

METHODS = ("t-test", "t-test_overestim_var", "wilcoxon", "logreg")
DUPLICATES = ("keep", "first", "best")
RECIPES = ("scanpy", "seurat")
# what each recipe uses when method= and duplicates= are left at None
RECIPE_DEFAULTS = {"scanpy": ("t-test", "best"), "seurat": ("wilcoxon", "keep")}
COLUMNS = ["group", "rank", "gene", "score", "logfc", "pval_adj", "pct_in", "pct_out"]


def top_markers(
    adata,
    groupby: str,
    *,
    n_genes: int | None = 10,
    method: Literal["t-test", "t-test_overestim_var", "wilcoxon", "logreg"] | None = None,
    source: str = "RNA",
    groups: Sequence[str] | str | None = None,
    min_logfc: float | None = None,
    max_pval_adj: float | None = None,
    min_in_group_fraction: float | None = None,
    duplicates: Literal["keep", "first", "best"] | None = None,
    key: str = "rank_genes_groups",
    key_added: str | None = None,
    corr_method: Literal["benjamini-hochberg", "bonferroni"] = "benjamini-hochberg",
    tie_correct: bool = False,
    candidates: Sequence[str] | None = None,
    recipe: Literal["scanpy", "seurat"] = "scanpy",
) -> pd.DataFrame:
    """Top marker genes of each group, as a tidy table.

    Markers are those of :func:`scanpy.tl.rank_genes_groups` (each group against
    the rest): the t-test and the Wilcoxon test run in this package's one-pass
    kernels, whose scores and p-values equal scanpy's; logreg runs in scanpy.
    A result already in ``adata.uns[key]`` (or ``adata.uns[key_added]``)
    is reused only when it provably belongs to these cells and genes: same
    ``groupby``, ``method``, expression source, groups and correction; it ranks
    exactly the genes of the source; our fingerprint of the cells, their groups
    and the genes matches (when it carries one); and the scores of a few of its
    genes, recomputed on these cells, equal the stored ones. ``uns`` travels with
    ``adata[mask].copy()``, so a ranking of other cells is common. Otherwise the
    ranking is computed on the side and the reason is logged (logger
    ``"sc_heatmaps"``, level INFO). Values that look like raw counts give
    scanpy's warning. It is stored under
    ``adata.uns[key_added]`` only when ``key_added`` is given, and an existing
    entry is never overwritten.

    Parameters
    ----------
    adata
        Annotated data.
    groupby
        Categorical obs key whose groups get markers (e.g. the cluster key).
    n_genes
        Markers per group; ``None`` reports every gene of each group (with the
        filters still applied).
    method
        The test, as scanpy names it. ``None`` takes the recipe's: ``"t-test"`` for
        ``"scanpy"`` (this package's default since its start), ``"wilcoxon"`` for
        ``"seurat"`` (Seurat's ``test.use = "wilcox"``).
    source
        ``"RNA"``, ``"integrated"`` or a layer name
        (see :func:`sc_heatmaps.get.grouped_expression`).
    groups
        Rank markers of these groups only, as scanpy's ``groups`` does: each
        listed group is still compared with every other cell, those of groups
        left out included. A list or ``"0,3,5"``.
    min_logfc, max_pval_adj, min_in_group_fraction
        Keep only genes with ``logfc >= min_logfc``, ``pval_adj <= max_pval_adj``
        and ``pct_in >= min_in_group_fraction``.
    duplicates
        A gene that is a top marker of several groups: ``"keep"`` it in each
        (scanpy's top-N), keep it in the ``"first"`` group in category order,
        or in the group where its score is highest (``"best"``). With
        ``"first"``/``"best"`` each group is refilled from further down its
        ranking so that it still gets ``n_genes`` where possible. ``None`` takes
        the recipe's: ``"best"`` for ``"scanpy"``, ``"keep"`` for ``"seurat"``
        (``FindAllMarkers`` lists a gene under every cluster it marks).
    key
        Where to look for an existing ranking.
    key_added
        Where to store a newly computed ranking (nothing is stored when ``None``).
    corr_method
        p-value correction, as scanpy's.
    tie_correct
        Wilcoxon only: correct the rank-sum variance for ties, as scanpy's
        ``tie_correct`` (our compiled kernel gives scanpy's scores and p-values
        with either setting).
    candidates
        Only these genes may be reported (for example the genes an integrated
        layer covers); the ranking itself still uses every gene of ``source``.
    recipe
        How the top genes are chosen from the ranking.

        - ``"scanpy"`` (default): the top ``n_genes`` by scanpy's score, as
          ``sc.tl.rank_genes_groups`` orders them (``logfc`` is scanpy's).
        - ``"seurat"``: the recipe of Seurat 4.3's ``FindAllMarkers(min.pct = 0.25,
          only.pos = TRUE)`` followed by ``avg_log2FC > 1`` and the top ``n_genes``
          (Cell-Hub's recipe). A gene is tested when the larger of its rounded
          (3 digits) fractions above 0 in the group and in the rest is at least
          0.25; it is kept when Seurat's fold change
          ``log2(mean(expm1(x)) + 1)`` (group minus rest; ``expm1`` in the base of
          ``adata.uns["log1p"]["base"]`` when one is set) is above 1 and its
          p-value is below 0.01; genes are ordered by p-value, then by fold change
          (descending). The Wilcoxon p-value is Seurat's: tie-corrected, with a
          continuity correction of 1/2 (scanpy's z-score turned into it). In the
          table ``logfc`` is Seurat's ``avg_log2FC`` and ``pval_adj`` its
          ``p_val_adj`` (Bonferroni over all genes; ``corr_method`` does not apply).
          ``x`` must be log1p of normalised counts, as Seurat's ``NormalizeData``
          writes and ``sc.pp.normalize_total`` + ``sc.pp.log1p`` do.

        ``"scanpy"`` is the default because this package is called from scanpy
        pipelines, where the markers are expected to equal
        ``sc.tl.rank_genes_groups``' top N (and its stored ranking is reused);
        a Seurat or Cell-Hub user gets that tool's list with ``recipe="seurat"``.

    Returns
    -------
    pandas.DataFrame
        One row per (group, gene) with columns ``group``, ``rank`` (1-based, after
        the duplicate policy), ``gene``, ``score``, ``logfc``, ``pval_adj``,
        ``pct_in`` and ``pct_out`` (fractions of cells with a value above 0 in the
        group and in the rest). Rows follow the category order of ``groupby``.
        ``group`` is categorical; its categories are the groups compared, as they
        are in ``adata.obs[groupby]`` (integers stay integers: ``table["group"] == 0``),
        in category order.

    Examples
    --------
    >>> import sc_heatmaps as sch
    >>> adata = sch.datasets.example()
    >>> table = sch.tl.top_markers(adata, "cluster", n_genes=3)
    >>> list(table.columns)
    ['group', 'rank', 'gene', 'score', 'logfc', 'pval_adj', 'pct_in', 'pct_out']
    >>> seurat = sch.tl.top_markers(adata, "cluster", n_genes=3, recipe="seurat")
    >>> bool((seurat["logfc"] > 1).all())
    True
    """
    method, duplicates = _recipe_defaults(recipe, method, duplicates)
    _check_options(
        n_genes,
        method,
        duplicates,
        key,
        key_added,
        (min_logfc, max_pval_adj, min_in_group_fraction),
    )
    # no cap on the groups (screens have thousands): a label per cell is refused below,
    # since every group needs 2 cells
    cat = categorical_obs(adata.obs, groupby, "groupby", max_categories=None)
    group_names = _resolve_groups(cat, groups, groupby)
    expr = resolve_source(adata, source)
    n_genes = max(1, expr.var_names.size) if n_genes is None else n_genes
    if candidates is not None:
        candidates = as_name_list(candidates, "candidates")
        expr.gene_indices(candidates)  # unknown genes raise, with close matches
    request = {
        "groupby": groupby,
        "method": method,
        "source": source,
        "groups": group_names,
        "corr_method": corr_method,
        "tie_correct": _check_tie_correct(tie_correct, method),
    }
    one_pass = {}  # the t-test's statistics of every gene, reused for the fractions
    select = partial(
        select_markers,
        n_genes=n_genes,
        duplicates=duplicates,
        filters=(min_logfc, max_pval_adj, min_in_group_fraction),
        pct=partial(_pct, expr, cat, group_names, one_pass),
        candidates=candidates,
    )
    log1p = checked_log1p(adata.uns)
    current = fingerprint(adata.obs_names, cat, expr.var_names)
    provenance = {
        "current": current,
        "rescore": partial(_rescore, expr, cat, request, log1p),
    }
    rank = partial(_recipe_ranking, recipe, expr, cat, group_names, method, log1p)
    result = find_reusable(adata.uns, [key, key_added], request, expr, provenance)
    table = None if result is None else select(rank(result))
    if table is None:
        check_free(adata.uns, key_added)
        filters = (min_logfc, max_pval_adj, min_in_group_fraction)
        whole = recipe != "scanpy" or key_added is not None or candidates is not None
        whole = whole or any(f is not None for f in filters)
        depth = _depth(n_genes, duplicates, len(group_names), whole)
        result = compute_ranking(expr, cat, request, log1p, current, one_pass, depth)
        table = select(rank(result))
        if key_added is not None:
            store_result(adata.uns, key_added, result)
    return _finish(table, group_names, cat)


def _depth(n_genes: int, duplicates: str, n_groups: int, whole: bool) -> int | None:
    """How far down each group's ranking the selection can reach, or ``None`` (every
    gene) when ``whole`` (a filter, a candidate list, Seurat's recipe or a stored
    result needs the whole ranking). ``"keep"`` takes the top ``n_genes``; ``"first"``
    and ``"best"`` refill from at most ``n_genes`` genes lost to each other group."""
    if whole:
        return None
    return n_genes if duplicates == "keep" else n_genes * n_groups


def _recipe_defaults(recipe, method, duplicates) -> tuple[str, str]:
    """``method`` and ``duplicates`` with the recipe's defaults where they are ``None``."""
    check_choice("recipe", recipe, RECIPES)
    default_method, default_duplicates = RECIPE_DEFAULTS[recipe]
    method = default_method if method is None else method
    if recipe == "seurat" and method not in P_VALUE_METHODS:
        raise ValueError(
            f"method={method!r} is not valid with recipe='seurat', which orders genes by "
            f"p-value; choose one of {format_choices(P_VALUE_METHODS)}."
        )
    return method, default_duplicates if duplicates is None else duplicates


def _recipe_ranking(recipe, expr, cat, group_names, method, log1p, result) -> pd.DataFrame:
    """The full ranking in the recipe's order (Seurat's: its filters, then by p-value)."""
    if recipe == "seurat":
        return seurat_ranking(result, expr, cat, group_names, method, log1p)
    return ranking_table(result, group_names)


def _check_options(n_genes, method, duplicates, key, key_added, filters) -> None:
    bad = not isinstance(n_genes, int | np.integer) or isinstance(n_genes, bool) or n_genes < 1
    if n_genes is not None and bad:
        raise ValueError(
            f"n_genes={n_genes!r} is not valid; it must be a positive integer or None (all genes)."
        )
    check_choice("method", method, METHODS)
    check_choice("duplicates", duplicates, DUPLICATES)
    min_logfc, max_pval_adj, min_in_group_fraction = filters
    check_number("min_logfc", min_logfc, allow_none=True)
    check_number("max_pval_adj", max_pval_adj, 0, 1, allow_none=True)
    check_number("min_in_group_fraction", min_in_group_fraction, 0, 1, allow_none=True)
    if not isinstance(key, str):
        raise ValueError(f"key={key!r} is not valid; it must be a string.")
    if key_added is not None and not isinstance(key_added, str):
        raise ValueError(f"key_added={key_added!r} is not valid; it must be a string or None.")


def _resolve_groups(cat: pd.Categorical, groups, groupby: str) -> list[str]:
    counts = pd.Series(cat).value_counts()
    names = [str(c) for c in cat.categories]
    wanted = as_name_list(groups, "groups")
    if wanted is not None:
        unknown = [g for g in wanted if g not in names]
        if unknown:
            raise ScHeatmapsKeyError(
                f"groups {unknown!r} are not categories of {groupby!r}; valid groups are {names!r}."
            )
        names = [n for n in names if n in set(wanted)]
    sizes = {str(k): int(v) for k, v in counts.items()}
    present = [n for n in names if sizes.get(n, 0) > 0]
    tiny = [n for n in present if sizes[n] < 2]
    if tiny:
        raise ValueError(
            f"groups {tiny!r} of {groupby!r} have a single cell; markers need at least 2 cells "
            "per group. Leave them out with groups=[...] or merge them."
        )
    if len(present) < 2:
        raise ValueError(
            f"Markers need at least 2 groups with cells in {groupby!r}; found {present!r}."
        )
    return present


def _pct(expr: Expression, cat, group_names: list[str], one_pass, genes, groups=None):
    """Fractions of cells above 0 in each group and in the rest (all other cells): of
    every group x ``genes`` as two frames, or with ``groups`` (as long as ``genes``) of
    each (group, gene) pair as two arrays.

    Taken from the counts of the ranking's own pass when it left them in ``one_pass``
    (the t-test, the Wilcoxon test on float32), else read for these genes alone."""
    n = len(group_names)
    unique = list(dict.fromkeys(genes))
    idx = expr.var_names.get_indexer(unique)
    if "stats" in one_pass:
        stats, cols = one_pass["stats"], idx
    else:
        stats = _read_counts(expr, group_codes(cat, group_names), n + 1, idx)
        cols = np.arange(len(idx))
    if groups is None:
        rows, pos = np.arange(n)[:, None], np.arange(len(unique))[None, :]
    else:
        rows, pos = pd.Index(group_names).get_indexer(groups), pd.Index(unique).get_indexer(genes)
    total_pos, total_n = stats.n_pos[:, cols].sum(axis=0)[pos], stats.n.sum()
    n_pos, n_g = stats.n_pos[rows, cols[pos]], stats.n[rows].astype(np.float64)
    pct_in, pct_out = n_pos / n_g, (total_pos - n_pos) / (total_n - n_g)
    if groups is not None:
        return pct_in, pct_out
    frame = partial(pd.DataFrame, index=group_names, columns=unique)
    return frame(pct_in), frame(pct_out)


def _read_counts(expr: Expression, codes: np.ndarray, n_groups: int, idx: np.ndarray):
    """Group statistics of the columns ``idx``: one compiled pass over the stored values
    where it applies, else the columns read as a block."""
    fast = subset_group_stats(expr.X, idx, codes, n_groups)
    if fast is not None:
        return fast[0]
    # columns read in matrix order: the block's indices stay sorted, so the intake
    # need not search it for duplicates (half the time of Wilcoxon at 500k cells)
    order = np.argsort(idx, kind="stable")
    return group_stats(column_block(expr.X, idx[order]), codes, n_groups).columns(np.argsort(order))


def _check_tie_correct(tie_correct: object, method) -> bool:
    if not isinstance(tie_correct, bool | np.bool_):
        raise TypeError(f"tie_correct={tie_correct!r} must be True or False.")
    if tie_correct and method != "wilcoxon":
        raise ValueError(
            f"tie_correct=True applies to method='wilcoxon' only, not method={method!r}."
        )
    return bool(tie_correct)


def _rescore(expr: Expression, cat, request, log1p, genes: list[str]) -> dict:
    """The ranking of ``genes`` alone on these cells (scores of t-tests and Wilcoxon
    tests are per gene), read in the layout and dtype of the source."""
    idx = np.sort(expr.var_names.get_indexer(genes))
    X = backed_columns(expr.X, idx) if hasattr(expr.X, "to_memory") else expr.X[:, idx]
    sub = replace(expr, X=intake(X, expr.where), var_names=expr.var_names[idx])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the full computation warned already, if at all
        return compute_ranking(sub, cat, request, log1p)


def _finish(table: pd.DataFrame, group_names: list[str], cat: pd.Categorical) -> pd.DataFrame:
    """Sorted rows; ``group`` holds the categories themselves (their own type), not
    the strings scanpy ranks by, unless two categories have the same string."""
    table = table.copy()
    own = {str(c): c for c in cat.categories}
    if len(own) == len(cat.categories):
        table["group"] = table["group"].map(own)
        group_names = [own[g] for g in group_names]
    table["group"] = pd.Categorical(table["group"], categories=group_names)
    table = table.sort_values(["group", "rank"], kind="stable").reset_index(drop=True)
    return table[COLUMNS]
