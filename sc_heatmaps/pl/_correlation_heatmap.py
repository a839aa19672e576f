"""``correlation_heatmap``: one panel per group, one shared order and colour scale."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Literal

import marsilea as ma
import marsilea.plotter as mp
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .._limits import check_figure_inches
from .._text import clean_label, literal_text
from .._validate import MAX_LISTED, check_choice
from ..arrange import cluster_order, distance_order
from ..get import correlation
from ..get._correlation import LABELS
from ._cmaps import resolve_cmap
from ._heatmap_board import CELL_H, MIN_BODY, _linkage_arg
from ._plot import Plot

LABEL_CHOICES = ("all", "x", "y", "none")
MISSING = "#b3b3b3"  # a variable dropped in a panel: grey, apart from white (r = 0)
NOTE_SIZE = 7  # points


class CorrelationPlot(Plot):
    """Returned by :func:`sc_heatmaps.pl.correlation_heatmap`.

    ``data`` is the matrix drawn (rows indexed by (group, variable) when there
    are several panels); ``result`` the :class:`~sc_heatmaps.get.CorrelationResult`;
    ``axes`` has ``"panels"`` (group -> Axes), ``"row_dendrogram"``,
    ``"col_dendrogram"`` and ``"legend"``.
    """


def _kept(wanted, frames, axis: str) -> list:
    """The variables kept in at least one panel, in the order asked for."""
    seen = {name for frame in frames for name in getattr(frame, axis)}
    order = list(wanted) or list(dict.fromkeys(n for f in frames for n in getattr(f, axis)))
    return [name for name in order if name in seen]


def _union(res) -> tuple[list, list]:
    """Rows and columns of every panel: a variable kept in any panel is shown in all
    of them, as NaN (a grey cell) in the panels that dropped it."""
    frames = list(res.matrices.values())
    rows, cols = _kept(res.rows, frames, "index"), _kept(res.cols, frames, "columns")
    if not rows or not cols:
        dropped = res.dropped
        reasons = [
            f"{r.variable!r} in {r.group!r}: {r.reason}"
            for r in dropped.head(MAX_LISTED).itertuples(index=False)
        ]
        more = f"; ... ({len(dropped)} in all)" if len(dropped) > MAX_LISTED else ""
        raise ValueError(
            "No variable is left in any panel after filtering ("
            + "; ".join(reasons)
            + more
            + "); lower min_nonzero or choose other variables."
        )
    return rows, cols


def _mean(mats: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Mean over the panels that kept each pair (0 where none did), for the order."""
    stack = np.stack([m.to_numpy(dtype=np.float64) for m in mats.values()])
    kept = np.isfinite(stack)
    total = np.where(kept, stack, 0.0).sum(axis=0)
    mean = total / np.maximum(kept.sum(axis=0), 1)
    first = next(iter(mats.values()))
    return pd.DataFrame(mean, index=first.index, columns=first.columns)


def _short_reason(reason: str) -> str:
    if reason.startswith("fewer than min_nonzero"):
        return "sparse"
    return "NaN/inf" if reason == "holds NaN or inf" else reason


def dropped_note(dropped: pd.DataFrame, group: str, obs_keys) -> str | None:
    """``"2 genes dropped: sparse"``: what a panel left out, and why, in a few words."""
    rows = dropped[dropped["group"].astype(str) == str(group)]
    if rows.empty:
        return None
    counts = rows["reason"].map(_short_reason).value_counts(sort=True)
    n = len(rows)
    noun = "variable" if rows["variable"].isin(set(obs_keys)).any() else "gene"
    why = counts.index[0] if len(counts) == 1 else ", ".join(f"{k} {w}" for w, k in counts.items())
    return f"{n} {noun}{'s' if n != 1 else ''} dropped: {why}"


def _order(mean: pd.DataFrame, cluster: bool):
    """Row and column order (and linkages) from the mean matrix over panels."""
    n_rows, n_cols = mean.shape
    if not cluster:
        return np.arange(n_rows), np.arange(n_cols), None, None
    if list(mean.index) == list(mean.columns):
        res = distance_order(1.0 - mean.to_numpy())
        return res.order, res.order, res.linkages, res.linkages
    rows = cluster_order(mean.to_numpy()) if n_rows > 1 else None
    cols = cluster_order(mean.to_numpy().T) if n_cols > 1 else None
    return (
        rows.order if rows else np.arange(n_rows),
        cols.order if cols else np.arange(n_cols),
        rows.linkages if rows else None,
        cols.linkages if cols else None,
    )


def _wrap(text: str, width: float) -> str:
    """``text`` in lines that fit ``width`` inches at NOTE_SIZE points."""
    per_line = max(8, int(width * 72 / (NOTE_SIZE * 0.6)))
    return "\n".join(textwrap.wrap(text, per_line, break_on_hyphens=False))


def _panel(mat, name, first, last, spec) -> ma.Heatmap:
    n_rows, n_cols = mat.shape
    width = max(MIN_BODY, n_cols * CELL_H * 1.1)
    h = ma.Heatmap(
        mat.to_numpy(dtype=np.float64),
        cmap=spec["cmap"],
        vmin=spec["vmin"],
        vmax=spec["vmax"],
        label=LABELS[spec["method"]],
        width=width,
        height=max(MIN_BODY, n_rows * CELL_H),
        rasterized=True,
        name=f"body:{name}",
        legend=first,
    )
    if spec["row_link"] is not None and first:
        h.add_dendrogram(
            "left",
            linkage=_linkage_arg(spec["row_link"]),
            add_meta=False,
            name="row_dendrogram",
            size=0.5,
        )
    if spec["col_link"] is not None:
        h.add_dendrogram(
            "top",
            linkage=_linkage_arg(spec["col_link"]),
            add_meta=False,
            name=f"col_dendrogram:{name}",
            size=0.4,
        )
    if spec["labels"] in ("all", "y") and last:
        h.add_right(mp.Labels(list(map(clean_label, mat.index)), fontsize=8), pad=0.04)
    if spec["labels"] in ("all", "x"):
        h.add_bottom(
            mp.Labels(list(map(clean_label, mat.columns)), fontsize=8, rotation=90), pad=0.04
        )
    if name is not None:
        h.add_title(top=clean_label(name), fontsize=10, pad=0.05)
    note = spec["notes"].get(name)
    if note:
        h.add_title(bottom=_wrap(note, width), fontsize=NOTE_SIZE, pad=0.05, color="0.3")
    return h


def correlation_heatmap(
    adata,
    *,
    rows: str | Sequence[str] = "genes",
    cols: str | Sequence[str] = "genes",
    genes: Sequence[str] | None = None,
    obs_keys: Sequence[str] | None = None,
    method: Literal["pearson", "spearman"] = "pearson",
    min_nonzero: int = 10,
    groupby: str | None = None,
    level: Literal["cells", "pseudobulk"] = "cells",
    source: str = "RNA",
    clusters: str | Sequence[str] | None = None,
    cluster_key: str | None = None,
    cluster: bool = True,
    labels: Literal["all", "x", "y", "none"] = "all",
    cmap: str = "RdBu_r",
    vmin: float = -1.0,
    vmax: float = 1.0,
    title: str | None = None,
) -> CorrelationPlot:
    """Heatmap of correlations between genes and/or numeric obs columns.

    Takes the options of :func:`sc_heatmaps.get.correlation`. With ``groupby``
    (at the cell level) one panel is drawn per group, with one shared colour
    scale and one common row and column order (clustered on the mean matrix),
    so that the panels can be compared. A variable dropped in one panel (too few
    expressing cells there, or constant) is dropped there only: its row and
    column are grey in that panel. Under each panel a short note says how many
    variables it dropped and why (``"2 genes dropped: sparse"``); the full list
    is ``plot.result.dropped``. The colour bar names the statistic
    (``"Pearson r"`` or ``"Spearman ρ"``).

    Parameters
    ----------
    cluster
        Order rows and columns by average-linkage clustering (distance ``1 - r``
        for a square gene x gene matrix) and draw dendrograms.
    labels
        ``"all"``, ``"x"``, ``"y"`` or ``"none"``.
    cmap, vmin, vmax
        Colour scheme and limits (default -1 to 1).
    title
        Figure title.

    Examples
    --------
    >>> import sc_heatmaps as sch
    >>> adata = sch.datasets.example()
    >>> plot = sch.pl.correlation_heatmap(adata, genes=["ISG15", "IFI6", "MX1", "CD3E"],
    ...                                   groupby="dataset")
    >>> sorted(plot.axes["panels"])
    ['ctrl', 'stim_IFN', 'stim_LPS']
    """
    check_choice("labels", labels, LABEL_CHOICES)
    res = correlation(
        adata,
        rows=rows,
        cols=cols,
        genes=genes,
        obs_keys=obs_keys,
        method=method,
        min_nonzero=min_nonzero,
        groupby=groupby,
        level=level,
        source=source,
        clusters=clusters,
        cluster_key=cluster_key,
    )
    row_names, col_names = _union(res)
    mats = {g: m.reindex(index=row_names, columns=col_names) for g, m in res.matrices.items()}
    r_order, c_order, r_link, c_link = _order(_mean(mats), cluster)
    mats = {g: m.iloc[r_order, c_order] for g, m in mats.items()}
    notes = {g: dropped_note(res.dropped, g, adata.obs.columns) for g in mats}
    spec = {
        "cmap": resolve_cmap(cmap).with_extremes(bad=MISSING),
        "notes": {(None if res.pooled else g): note for g, note in notes.items()},
        "vmin": vmin,
        "vmax": vmax,
        "method": method,
        "labels": labels,
        "row_link": r_link,
        "col_link": c_link,
    }
    figure, axes = _draw(mats, spec, title, res.pooled)
    data = next(iter(mats.values())) if len(mats) == 1 else pd.concat(mats, names=["group"])
    params = {
        "function": "sc_heatmaps.pl.correlation_heatmap",
        "method": method,
        "level": level,
        "groupby": groupby,
        "source": source,
        "min_nonzero": min_nonzero,
        "cluster": cluster,
        "labels": labels,
        "cmap": str(cmap),
        "vmin": vmin,
        "vmax": vmax,
        "n": res.n.to_dict(),
        "dropped": res.dropped,
        "rows": list(data.index.get_level_values(-1)[: len(row_names)]),
        "cols": list(data.columns),
    }
    plot = CorrelationPlot(figure=figure, axes=axes, data=data, params=params)
    plot.result = res
    return plot


def _check_size(mats: dict[str, pd.DataFrame]) -> None:
    """Refuse panels over the size limit before drawing them."""
    n_rows, n_cols = next(iter(mats.values())).shape
    width = len(mats) * max(MIN_BODY, n_cols * CELL_H * 1.1)
    what = f"{len(mats)} panel(s) of {n_rows:,} x {n_cols:,} variables"
    advice = "correlate fewer genes (genes=, rows=, cols=) or fewer groups (groupby=, clusters=)"
    check_figure_inches(width, max(MIN_BODY, n_rows * CELL_H), what, advice)


@literal_text
def _draw(mats: dict[str, pd.DataFrame], spec: dict, title: str | None, pooled: bool):
    _check_size(mats)
    names = list(mats)
    boards = []
    for i, name in enumerate(names):
        shown = None if pooled else f"{name}"
        boards.append(_panel(mats[name], shown, i == 0, i == len(names) - 1, spec))
    board = boards[0]
    for extra in boards[1:]:
        board = board + extra
    board.add_legends("right", pad=0.3)
    board.set_margin((0.6 if title else 0.2, 0.2, 0.2, 0.2))
    fig = plt.figure()
    board.render(figure=fig)
    if title:
        height = fig.get_size_inches()[1]
        fig.text(0.5, 1 - 0.15 / height, clean_label(title), ha="center", va="top", fontsize=12)
    composite = len(boards) > 1
    board_names = [f"body:{None if pooled else n}" for n in names]

    def ax(i: int, ax_name: str):
        return board.get_ax(board_names[i], ax_name) if composite else board.get_ax(ax_name)

    def main(i: int):
        return board.get_main_ax(board_names[i]) if composite else board.get_main_ax()

    return fig, {
        "panels": {n: main(i) for i, n in enumerate(names)},
        "row_dendrogram": ax(0, "row_dendrogram") if spec["row_link"] else None,
        "col_dendrogram": [ax(i, f"col_dendrogram:{board_names[i][5:]}") for i in range(len(names))]
        if spec["col_link"]
        else None,
        "legend": board.layout.get_legend_ax(),
    }
