"""``correlation_heatmap``: one panel per group, one shared order and colour scale.

The panels are the column blocks of one :class:`HeatmapBoard`: the rows (variables)
are shared, the columns are panel x variable, with a gap and a title over each panel
and one colour bar.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._heatmap_options import CorrelationHeatmapOptions
from .._options import takes_options
from .._validate import MAX_LISTED
from ..arrange import cluster_order, distance_order
from ..get import category_colors, correlation
from ..get._correlation import LABELS, CorrelationResult
from ._cmaps import resolve_cmap
from ._heatmap_board import HeatmapBoard, HeatmapSpec
from ._plot import Plot

MISSING = "#b3b3b3"  # a variable dropped in a panel: grey, apart from white (r = 0)
PANEL = "panel"  # the column-block key of the board
PANEL_GAP = 0.1  # inches between panels


@dataclass(repr=False)
class CorrelationPlot(Plot):
    """Returned by :func:`sc_heatmaps.pl.correlation_heatmap`.

    ``data`` is the matrix drawn (rows indexed by (group, variable) when there
    are several panels); ``axes`` has ``"panels"`` (group -> Axes),
    ``"row_dendrogram"``, ``"col_dendrogram"`` (one Axes per panel) and ``"legend"``.

    Attributes
    ----------
    result
        The :class:`~sc_heatmaps.get.CorrelationResult` drawn.
    group_colors
        The colour of each panel's group (the colour registry of ``groupby``).
    """

    result: CorrelationResult | None = None
    group_colors: dict | None = None


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


def _linkage(res):
    """The one linkage matrix of a clustering, or ``None`` (fewer than 2 leaves)."""
    return None if res is None else next(iter(res.linkages.values()))


def _order(mean: pd.DataFrame, cluster: bool):
    """Row and column order (and linkage matrices) from the mean matrix over panels."""
    n_rows, n_cols = mean.shape
    if not cluster:
        return np.arange(n_rows), np.arange(n_cols), None, None
    if list(mean.index) == list(mean.columns):
        res = distance_order(1.0 - mean.to_numpy())
        return res.order, res.order, _linkage(res), _linkage(res)
    rows = cluster_order(mean.to_numpy()) if n_rows > 1 else None
    cols = cluster_order(mean.to_numpy().T) if n_cols > 1 else None
    return (
        rows.order if rows else np.arange(n_rows),
        cols.order if cols else np.arange(n_cols),
        _linkage(rows),
        _linkage(cols),
    )


@takes_options(CorrelationHeatmapOptions, ("adata",))
def correlation_heatmap(adata, *, opts: CorrelationHeatmapOptions) -> CorrelationPlot:
    """Heatmap of correlations between genes and/or numeric obs columns.

    Takes the options of :func:`sc_heatmaps.get.correlation`. With ``groupby``
    (at the cell level) one panel is drawn per group, in the group order (the
    order of ``clusters`` when they are listed), with one shared colour scale
    and one common row and column order (clustered on the mean matrix), so that
    the panels can be compared. Panels are separated by a gap, and each is
    titled with its group, wrapped or shortened with "…" to the panel's width.
    A variable dropped in one panel (too few expressing cells there, or
    constant) is dropped there only: its row and column are grey in that panel.
    Under each panel a short note says how many variables it dropped and why
    (``"2 genes dropped: sparse"``); the full list is ``plot.result.dropped``.
    The colour bar names the statistic (``"Pearson r"`` or ``"Spearman ρ"``).

    By default the figure is sized for print (the board's rule): it fits
    180 x 240 mm with no text under 6 pt; what was done to fit is listed in
    ``plot.params["notes"]``.

    Parameters
    ----------
    adata
        Annotated data; never modified.
    rows, cols
        ``"genes"``, ``"obs"`` (numeric obs columns, e.g. QC values) or a list
        of names (genes or obs columns).
    genes
        Genes for ``"genes"``; default: the top 50 highly variable genes when
        they are marked, else the top 5 markers per cluster of ``cluster_key``.
    obs_keys
        Obs columns for ``"obs"``; default: every numeric column.
    method
        ``"pearson"`` or ``"spearman"``.
    min_nonzero
        A variable needs at least this many cells with a non-zero value (in the
        panel's group); constant variables and those holding NaN or inf are
        dropped too (see :func:`sc_heatmaps.get.correlation`).
    groupby
        Categorical obs key. At ``level="cells"``: one panel per group. At
        ``level="pseudobulk"``: one matrix across the means of these groups.
    level
        ``"cells"`` or ``"pseudobulk"``.
    source
        ``"RNA"``, ``"integrated"`` or a layer name.
    clusters, cluster_key
        Keep only these clusters of ``cluster_key`` (default: ``groupby``), in
        this order.
    cluster
        Order rows and columns by average-linkage clustering (distance ``1 - r``
        for a square gene x gene matrix) and draw dendrograms.
    labels
        ``"all"``, ``"x"``, ``"y"`` or ``"none"``.
    cmap, vmin, vmax
        Colour scheme and limits (default -1 to 1).
    title
        Figure title.
    figsize
        Size of the whole figure in inches; the panels are fitted inside it.
        Default: sized from the number of variables, within the print size.
    gene_symbols
        A var column holding gene symbols: genes are given and labelled by symbol.

    Returns
    -------
    CorrelationPlot
        ``.data`` (the matrix drawn), ``.result`` (the
        :class:`~sc_heatmaps.get.CorrelationResult`), ``.axes`` (``"panels"``,
        dendrograms, ``"legend"``), ``.params`` and ``.savefig``.

    Examples
    --------
    >>> import sc_heatmaps as sch
    >>> adata = sch.datasets.example()
    >>> plot = sch.pl.correlation_heatmap(adata, genes=["ISG15", "IFI6", "MX1", "CD3E"],
    ...                                   groupby="dataset")
    >>> sorted(plot.axes["panels"])
    ['ctrl', 'stim_IFN', 'stim_LPS']
    """
    res = correlation(
        adata,
        rows=opts.rows,
        cols=opts.cols,
        genes=opts.genes,
        obs_keys=opts.obs_keys,
        method=opts.method,
        min_nonzero=opts.min_nonzero,
        groupby=opts.groupby,
        level=opts.level,
        source=opts.source,
        clusters=opts.clusters,
        cluster_key=opts.cluster_key,
        **({} if opts.gene_symbols is None else {"gene_symbols": opts.gene_symbols}),
    )
    mats, links = _arranged(res, opts.cluster)
    notes = {g: dropped_note(res.dropped, g, adata.obs.columns) for g in mats}
    spec = _spec(mats, links, notes, res, opts)
    figure, axes, fitted = _draw(spec, list(mats))
    data = next(iter(mats.values())) if len(mats) == 1 else pd.concat(mats, names=["group"])
    params = {
        "function": "sc_heatmaps.pl.correlation_heatmap",
        **opts.to_params(),
        "n": res.n.to_dict(),
        "dropped": res.dropped,
        "rows": list(next(iter(mats.values())).index),
        "cols": list(data.columns),
        "notes": fitted,
    }
    return CorrelationPlot(
        figure=figure,
        axes=axes,
        data=data,
        params=params,
        result=res,
        group_colors=_group_colors(adata, opts.groupby, list(mats), res.pooled),
    )


def _group_colors(adata, groupby, names: list, pooled: bool) -> dict | None:
    """The panels' colours from the registry (for the interactive view's group bar)."""
    if groupby is None or pooled:
        return None
    colors = category_colors(adata, groupby)
    return {str(g): colors.get(str(g), "#808080") for g in names}


def _arranged(res, cluster: bool) -> tuple[dict[str, pd.DataFrame], tuple]:
    """Every panel on the same rows and columns, in one (clustered) order."""
    row_names, col_names = _union(res)
    mats = {g: m.reindex(index=row_names, columns=col_names) for g, m in res.matrices.items()}
    r_order, c_order, r_link, c_link = _order(_mean(mats), cluster)
    mats = {g: m.iloc[r_order, c_order] for g, m in mats.items()}
    return mats, (r_link, c_link)


def _spec(mats, links, notes, res, opts) -> HeatmapSpec:
    """The board: rows shared, columns = panel x variable, one block per panel."""
    names = list(mats)
    first = mats[names[0]]
    wide = pd.concat([mats[g] for g in names], axis=1)
    panels = pd.DataFrame({PANEL: np.repeat(names, first.shape[1])})
    r_link, c_link = links
    return HeatmapSpec(
        data=wide,
        col_meta=panels,
        col_palettes={},  # the panels are titled, not coloured
        col_split=PANEL,
        col_split_titles=not res.pooled,
        col_split_notes={g: n for g, n in notes.items() if n},
        col_gap=PANEL_GAP,
        row_linkage=None if r_link is None else {None: r_link},
        col_linkage=None if c_link is None else dict.fromkeys(names, c_link),
        cmap=resolve_cmap(opts.cmap),
        nan_color=MISSING,
        vmin=opts.vmin,
        vmax=opts.vmax,
        cbar_label=LABELS[res.method],
        labels=opts.labels,
        title=opts.title,
        figsize=opts.figsize,
    )


def _draw(spec: HeatmapSpec, names: list[str]) -> tuple:
    """Draw the board: the figure, the named axes and what the board did to fit the page."""
    board = HeatmapBoard(spec)
    fig, board_axes = board.plot()
    return fig, _axes(board_axes, names), list(board.notes)


def _axes(board_axes: dict, names: list[str]) -> dict:
    row_dendrogram = board_axes["row_dendrogram"]
    return {
        "panels": dict(zip(names, board_axes["heatmap"], strict=True)),
        "row_dendrogram": row_dendrogram[0] if row_dendrogram else None,
        "col_dendrogram": board_axes["col_dendrogram"],
        "legend": board_axes["legend"],
    }
