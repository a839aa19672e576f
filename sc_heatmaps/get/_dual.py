"""Two genes, every cell: the per-cell frame and co-expression statistics per group."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import sparse

from .._genes import gene_names
from .._groups import cluster_mask, labelled_cells
from .._sources import column_block, nan_genes, resolve_source
from .._validate import categorical_obs, check_choice, check_number

METHODS = ("pearson", "spearman")
# pooled rows carry no group name (None) and a True flag: a category may be named "all"
POOLED = None
STAT_COLUMNS = [
    "n",
    "r",
    "pval",
    "frac_x_only",
    "frac_y_only",
    "frac_both",
    "frac_neither",
    "n_total",
]


@dataclass(frozen=True)
class DualExpression:
    """Result of :func:`dual_expression`.

    Attributes
    ----------
    cells
        One row per cell kept: ``x`` and ``y`` (expression of ``gene_x`` and
        ``gene_y``), and ``color`` / ``split`` (categorical) when those keys
        were given.
    stats
        One row per (``split`` panel, ``color`` group), plus a pooled row per
        panel (and an overall pooled row with ``split_by``): ``n`` cells
        used for ``r``, ``r`` and ``pval`` (Pearson or Spearman), the
        fractions of cells expressing x only, y only, both and neither (value
        above ``threshold``, over all ``n_total`` cells of the row).
        ``all_groups`` is ``True`` on the rows that pool every colour group, and
        with ``split_by`` ``all_panels`` is ``True`` on the row that pools every
        panel. A pooled row has no name: its ``group`` (and, pooling every panel,
        its ``split``) is ``None``, so a category named ``"all"`` stays a category.
    """

    cells: pd.DataFrame
    stats: pd.DataFrame
    gene_x: str
    gene_y: str
    color_key: str | None
    split_key: str | None
    method: str
    threshold: float
    source: str
    exclude_double_zero: bool


def _correlation(x: np.ndarray, y: np.ndarray, method: str) -> tuple[float, float]:
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return np.nan, np.nan
    from scipy import stats

    test = stats.pearsonr if method == "pearson" else stats.spearmanr
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.ConstantInputWarning)
        result = test(x, y)
    return float(result.statistic), float(result.pvalue)


def _row(x, y, threshold: float, method: str, exclude_double_zero: bool) -> dict:
    ex, ey = x > threshold, y > threshold
    n_total = len(x)
    used = ex | ey if exclude_double_zero else np.ones(n_total, dtype=bool)
    r, p = _correlation(x[used], y[used], method)
    share = (lambda m: float(m.mean())) if n_total else (lambda m: np.nan)
    return {
        "n": int(used.sum()),
        "r": r,
        "pval": p,
        "frac_x_only": share(ex & ~ey),
        "frac_y_only": share(~ex & ey),
        "frac_both": share(ex & ey),
        "frac_neither": share(~ex & ~ey),
        "n_total": n_total,
    }


def _panel_rows(
    cells: pd.DataFrame, panel: str | None, all_panels: bool, has_color: bool, opts
) -> list[dict]:
    """Rows of one panel: one per colour group, then the row pooling them all."""

    def row(sub: pd.DataFrame, group: str | None, all_groups: bool) -> dict:
        where = {"split": panel, "group": group, "all_panels": all_panels}
        values = _row(sub["x"].to_numpy(), sub["y"].to_numpy(), *opts)
        return {**where, "all_groups": all_groups, **values}

    rows = []
    if has_color:
        for group, sub in cells.groupby("color", observed=True, sort=True):
            rows.append(row(sub, str(group), False))
    rows.append(row(cells, POOLED, True))
    return rows


def co_expression_stats(
    cells: pd.DataFrame, *, method: str, threshold: float, exclude_double_zero: bool
) -> pd.DataFrame:
    """Statistics per split panel and colour group of a per-cell frame."""
    opts = (threshold, method, exclude_double_zero)
    has_color = "color" in cells
    rows = []
    if "split" in cells:
        for panel, sub in cells.groupby("split", observed=True, sort=True):
            rows += _panel_rows(sub, str(panel), False, has_color, opts)
    rows += _panel_rows(cells, POOLED, True, has_color and "split" not in cells, opts)
    frame = pd.DataFrame(rows)
    # names as objects: a pooled row's None stays None (pandas 3 would store the column
    # as strings, with NaN for None)
    for column in ("split", "group"):
        frame[column] = pd.Series([r[column] for r in rows], index=frame.index, dtype=object)
    if "split" not in cells:
        frame = frame.drop(columns=["split", "all_panels"])
    return frame


def _categorical_column(obs, key, what, mask):
    return pd.Categorical(categorical_obs(obs, key, what))[mask]


def dual_expression(
    adata,
    gene_x: str,
    gene_y: str,
    *,
    color: str | None = None,
    source: str = "RNA",
    clusters: str | Sequence[str] | None = None,
    cluster_key: str | None = None,
    split_by: str | None = None,
    method: Literal["pearson", "spearman"] = "pearson",
    exclude_double_zero: bool = False,
    threshold: float = 0.0,
    gene_symbols: str | None = None,
) -> DualExpression:
    """Expression of two genes in every cell, with co-expression statistics per group.

    Cells without a ``color`` or ``split_by`` label (NaN) belong to no group and
    are left out, as in the grouped functions.

    Parameters
    ----------
    adata
        Annotated data; only read.
    gene_x, gene_y
        The two genes (x and y).
    color
        Categorical obs key whose groups get their own statistics (e.g. the dataset).
    source
        ``"RNA"``, ``"integrated"`` or a layer name.
    clusters, cluster_key
        Keep only these clusters of ``cluster_key`` (default: ``color``).
    split_by
        Categorical obs key: statistics per panel of this key as well.
    method
        ``"pearson"`` or ``"spearman"``.
    exclude_double_zero
        Leave cells with neither gene above ``threshold`` out of ``r`` (and of
        the per-cell frame); the expression fractions still count every cell.
    threshold
        A gene counts as expressed in a cell when its value is above this.
    gene_symbols
        A var column holding gene symbols, as in scanpy: ``gene_x`` and ``gene_y`` are
        then symbols, and ``gene_x``/``gene_y`` of the result too (see
        :func:`sc_heatmaps.get.grouped_expression`).

    Returns
    -------
    DualExpression
        ``.cells`` (one row per cell kept: ``x``, ``y`` and the group keys) and
        ``.stats`` (``n``, ``r``, ``pval`` and the expression fractions per panel
        and group, with pooled rows, whose ``group`` is ``None``), and the options used.

    Examples
    --------
    >>> import sc_heatmaps as sch
    >>> adata = sch.datasets.example()
    >>> de = sch.get.dual_expression(adata, "ISG15", "IFI6", color="dataset")
    >>> list(de.stats["group"])
    ['ctrl', 'stim_IFN', 'stim_LPS', None]
    """
    check_choice("method", method, METHODS)
    check_number("threshold", threshold)
    names = gene_names(adata, gene_symbols, source)
    genes, _ = names.to_var_names(_check_genes(gene_x, gene_y))
    gene_x, gene_y = names.labels(genes)
    expr = resolve_source(adata, source)
    idx, _ = expr.gene_indices(genes)
    keys = [k for k in (color,) if k is not None]
    mask = cluster_mask(adata.obs, keys, clusters, cluster_key)
    mask = mask & labelled_cells(adata.obs, {"color": color, "split_by": split_by})
    if not mask.any():
        labels = " or ".join(repr(k) for k in (color, split_by) if k is not None)
        why = f" (cells without a {labels} label are left out)" if labels else ""
        raise ValueError(f"No cells left after selecting clusters={clusters!r}{why}.")
    block = column_block(expr.X, idx)
    bad = nan_genes(block, genes)
    if bad:
        raise ValueError(
            f"Genes {bad!r} hold NaN or inf values in source={source!r}; "
            "use source='RNA' or another layer."
        )
    values = block.toarray() if sparse.issparse(block) else np.asarray(block)
    cells = pd.DataFrame({"x": values[mask, 0], "y": values[mask, 1]}, index=adata.obs_names[mask])
    if color is not None:
        cells["color"] = _categorical_column(adata.obs, color, "color", mask)
    if split_by is not None:
        cells["split"] = _categorical_column(adata.obs, split_by, "split_by", mask)
    table = co_expression_stats(
        cells, method=method, threshold=threshold, exclude_double_zero=exclude_double_zero
    )
    if exclude_double_zero:
        cells = cells[(cells["x"] > threshold) | (cells["y"] > threshold)]
    return DualExpression(
        cells=cells,
        stats=table,
        gene_x=gene_x,
        gene_y=gene_y,
        color_key=color,
        split_key=split_by,
        method=method,
        threshold=float(threshold),
        source=source,
        exclude_double_zero=exclude_double_zero,
    )


def _check_genes(gene_x, gene_y) -> list[str]:
    for name, gene in (("gene_x", gene_x), ("gene_y", gene_y)):
        if not isinstance(gene, str) or not gene:
            raise ValueError(f"{name}={gene!r} is not valid; give one gene name as a string.")
    if gene_x == gene_y:
        raise ValueError(f"gene_x and gene_y are both {gene_x!r}; give two different genes.")
    return [gene_x, gene_y]
