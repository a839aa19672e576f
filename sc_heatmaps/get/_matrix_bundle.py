"""The bundle of a ready-made matrix (any rows x columns frame)."""

from __future__ import annotations

import pandas as pd

from .._labels import joined, text
from .._validate import numeric_frame
from ..arrange import apply_filter, arrange, scale_rows
from ..arrange._limits import color_limits, scaled_label, zscore_note
from ._bundle import HeatmapBundle


def matrix_bundle(frame: pd.DataFrame, opts) -> HeatmapBundle:
    """The bundle of :func:`sc_heatmaps.pl.matrix_heatmap` (``opts``: its options)."""
    values, removed = _filtered(numeric_frame(frame, "frame"), opts.filter)
    done = arrange(
        scale_rows(values, opts.scale),
        cluster_rows=opts.cluster_rows,
        cluster_cols=opts.cluster_cols,
    )
    n_cols = done.frame.shape[1]
    note = zscore_note(opts.scale, n_cols, "columns")
    return HeatmapBundle(
        data=done.frame,
        unscaled=values.iloc[done.rows, done.cols],
        col_meta=pd.DataFrame(index=done.frame.columns),
        colors={},
        limits=color_limits(done.frame.to_numpy(), opts.scale, opts.vmin, opts.vmax, opts.vcenter),
        value_label=scaled_label(opts.value_name, opts.scale, n_cols, "columns"),
        row_linkage=done.row_linkage,
        col_linkage=done.col_linkage,
        provenance={"scale_note": note, **removed},
        notes=[note] if note else [],
    )


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
    """Row or column labels as text (a multi-level label as its parts joined)."""
    return [joined(v) if isinstance(v, tuple) else text(v) for v in labels]
