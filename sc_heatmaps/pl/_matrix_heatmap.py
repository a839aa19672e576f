"""``matrix_heatmap``: any rows x columns frame, with the same layout and export."""

from __future__ import annotations

from typing import Literal

import pandas as pd

from .._validate import check_choice, numeric_frame
from ..arrange import SCALES, apply_filter, arrange, scale_rows
from ._heatmap_board import HeatmapBoard, HeatmapSpec, scaled_label, zscore_note
from ._plot import HeatmapPlot

LABELS = ("all", "x", "y", "none")


def matrix_heatmap(
    frame: pd.DataFrame,
    *,
    scale: Literal["zscore", "minmax"] | None = None,
    filter: str | None = None,
    cluster_rows: bool = False,
    cluster_cols: bool = False,
    cmap: str = "viridis",
    labels: Literal["all", "x", "y", "none"] = "all",
    vmin: float | None = None,
    vmax: float | None = None,
    vcenter: float | None = None,
    figsize: tuple[float, float] | None = None,
    title: str | None = None,
    value_name: str = "value",
) -> HeatmapPlot:
    """Draw a ready-made matrix (e.g. :func:`sc_heatmaps.get.obs_summary`) as a heatmap.

    Filtering (``filter``, see :func:`sc_heatmaps.arrange.filter_matrix`), row
    scaling and clustering work as in :func:`grouped_heatmap`; the result has
    the same ``.data`` and ``.savefig``.

    Examples
    --------
    >>> import sc_heatmaps as sch
    >>> adata = sch.datasets.example()
    >>> table = sch.get.obs_summary(adata, "total_counts", "cluster", "dataset", op="mean")
    >>> sch.pl.matrix_heatmap(table, value_name="mean total counts").data.shape
    (8, 3)
    """
    check_choice("scale", scale, SCALES)
    check_choice("labels", labels, LABELS)
    values, removed = _filtered(numeric_frame(frame, "frame"), filter)
    done = arrange(scale_rows(values, scale), cluster_rows=cluster_rows, cluster_cols=cluster_cols)
    spec = HeatmapSpec(
        data=done.frame,
        col_meta=pd.DataFrame(index=done.frame.columns),
        col_palettes={},
        row_linkage=done.row_linkage,
        col_linkage=done.col_linkage,
        cmap=cmap,
        vmin=vmin,
        vmax=vmax,
        vcenter=vcenter,
        labels=labels,
        title=title,
        figsize=figsize,
        cbar_label=scaled_label(value_name, scale, done.frame.shape[1], "columns"),
    )
    figure, axes = HeatmapBoard(spec).plot()
    params = {
        "function": "sc_heatmaps.pl.matrix_heatmap",
        "scale": scale,
        "filter": filter,
        "cluster_rows": cluster_rows,
        "cluster_cols": cluster_cols,
        "cmap": str(cmap),
        "labels": labels,
        "vmin": vmin,
        "vmax": vmax,
        "vcenter": vcenter,
        "title": title,
        "value_name": value_name,
        "scale_note": zscore_note(scale, done.frame.shape[1], "columns"),
        "figsize": [float(x) for x in figure.get_size_inches()],
        **removed,
    }
    plot = HeatmapPlot(figure=figure, axes=axes, data=done.frame, params=params)
    plot.spec = spec
    plot.hover = {"unscaled": values.iloc[done.rows, done.cols]}  # ranks rows in the HTML
    return plot


def _filtered(values: pd.DataFrame, text: str | None) -> tuple[pd.DataFrame, dict]:
    """The frame after ``filter``, and the sidecar's record of the rows and columns it
    removed (``dropped_rows``/``dropped_columns``, each with its reason, "filter")."""
    kept = apply_filter(values, text) if text is not None else None
    removed = {}
    for axis in ("rows", "columns"):
        names = _names(getattr(kept, f"dropped_{axis}")) if kept is not None else []
        removed[f"dropped_{axis}"] = names
        removed[f"dropped_{axis}_reason"] = dict.fromkeys(names, "filter")
    return (values if kept is None else kept.frame), removed


def _names(labels: pd.Index) -> list[str]:
    """Row or column labels as text (the parts of a multi-level label joined by " / ")."""
    return [" / ".join(map(str, v)) if isinstance(v, tuple) else str(v) for v in labels]
