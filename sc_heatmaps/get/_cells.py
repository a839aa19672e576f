"""Selecting cells by obs categories, and summarising a numeric obs value per group."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from .._groups import make_grouping, select_categories
from .._validate import categorical_obs, check_choice, numeric_obs

OPERATIONS = ("mean", "median")


def select_cells(adata, subset: Mapping[str, Sequence[str] | str]):
    """The cells whose obs values are among the given categories, for every key.

    ``subset`` maps obs keys to the categories to keep, e.g.
    ``{"dataset": ["ctrl", "stim"], "cluster": ["B cells"]}``. Returns a view of
    ``adata`` (nothing is copied or modified). Unknown keys or categories are
    errors that list the valid ones; a selection that leaves no cell is an error.

    Parameters
    ----------
    adata
        Annotated data; never modified.
    subset
        ``{obs key: categories}``; the categories as a list or a comma-separated
        string (``"B,NK"``). A cell is kept when it matches every key.

    Returns
    -------
    anndata.AnnData
        A view of the cells kept.

    Examples
    --------
    >>> import sc_heatmaps as sch
    >>> adata = sch.datasets.example()
    >>> sch.get.select_cells(adata, {"dataset": ["ctrl"], "cluster": "B,NK"}).n_obs
    180
    """
    mask = np.ones(adata.n_obs, dtype=bool)
    for key, wanted in subset.items():
        cat = categorical_obs(adata.obs, key, "subset key")
        names = [w.strip() for w in wanted.split(",")] if isinstance(wanted, str) else wanted
        mask &= select_categories(cat, [str(w) for w in names], key, "categories")
    if not mask.any():
        raise ValueError(f"No cell matches the subset {dict(subset)!r}.")
    return adata[mask]


def obs_summary(
    adata,
    value: str,
    rows: str,
    cols: str | Sequence[str],
    *,
    op: Literal["mean", "median"] | None = None,
) -> pd.DataFrame:
    """A numeric obs column summarised per (``rows`` category, ``cols`` group).

    ``rows`` is one categorical obs key, ``cols`` one key or several (their
    combinations, first key outermost). Cells are the replicates of each
    combination: when any combination holds more than one cell, ``op``
    (``"mean"`` or ``"median"``) must say how to combine them.

    Parameters
    ----------
    adata
        Annotated data; never modified.
    value
        A numeric obs column (e.g. ``"total_counts"``).
    rows
        A categorical obs key: one row per category.
    cols
        A categorical obs key, or several: one column per (combination of) group(s).
    op
        ``"mean"`` or ``"median"`` of the cells of each (row, column); needed
        when a combination holds more than one cell.

    Returns
    -------
    pandas.DataFrame
        Rows x columns summary, ready for :func:`sc_heatmaps.pl.matrix_heatmap`
        (NaN where a combination has no cell).

    Examples
    --------
    >>> import sc_heatmaps as sch
    >>> adata = sch.datasets.example()
    >>> sch.get.obs_summary(adata, "total_counts", "cluster", "dataset", op="median").shape
    (8, 3)
    """
    col = numeric_obs(adata.obs, value, "value")
    if op is not None:
        check_choice("op", op, OPERATIONS)
    row_cat = categorical_obs(adata.obs, rows, "rows")
    grouping = make_grouping(adata.obs, cols)
    frame = pd.DataFrame(
        {
            "row": pd.Categorical(row_cat),
            "col": grouping.codes,
            # na_value: pandas < 2.2 refuses to turn a nullable column with <NA> into floats
            "value": col.to_numpy(dtype=np.float64, na_value=np.nan),
        }
    )
    frame = frame[(frame["col"] >= 0) & frame["row"].notna()]
    if frame.empty:
        raise ValueError(
            f"No cell has both a {rows!r} label and a {grouping.keys!r} group (cells "
            "without a label are left out); there is nothing to summarise."
        )
    counts = frame.groupby(["row", "col"], observed=True).size()
    if op is None and (counts > 1).any():
        raise ValueError(
            f"Groups of {rows!r} x {grouping.keys!r} hold several cells (replicates, up to "
            f"{int(counts.max())}); say how to combine them: op='mean' or op='median' "
            "(on the command line: -p mean or -p median)."
        )
    table = frame.groupby(["row", "col"], observed=True)["value"].agg(op or "mean").unstack()
    table.columns = grouping.labels[table.columns]
    table.index = table.index.astype(str)
    table.index.name, table.columns.name = rows, "group"
    return table
