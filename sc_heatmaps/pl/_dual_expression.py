"""``dual_expression``: gene A vs gene B, one point per cell, r per dataset or cluster."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd
from matplotlib.colors import is_color_like, to_hex

from .._heatmap_options import DualExpressionOptions
from .._options import takes_options
from .._validate import ScHeatmapsKeyError, as_name_list, check_positive, format_choices
from ..get import category_colors
from ..get import dual_expression as get_dual_expression
from ._plot import Plot
from ._scatter_panels import ScatterPanels, ScatterSpec


@dataclass(repr=False)
class DualExpressionPlot(Plot):
    """Returned by :func:`sc_heatmaps.pl.dual_expression`.

    ``data`` is the per-cell frame. ``axes`` has ``"panels"`` (panel name ->
    Axes) and ``"legend"``.

    Attributes
    ----------
    stats
        The statistics table (written as the TSV sidecar), in drawing order.
    modes
        How each panel was drawn: ``"points"`` or ``"density"``.
    """

    stats: pd.DataFrame = field(default_factory=pd.DataFrame)
    modes: dict = field(default_factory=dict)

    def sidecar_table(self) -> pd.DataFrame:
        """The table written as the TSV sidecar: the statistics per panel and group.

        Returns
        -------
        pandas.DataFrame
            :attr:`stats` (r, n and fractions per group, in drawing order).

        Examples
        --------
        >>> import sc_heatmaps as sch
        >>> plot = sch.pl.dual_expression(sch.datasets.example(), "CD3E", "CD2")
        >>> plot.sidecar_table() is plot.stats
        True
        """
        return self.stats


def _palette(adata, color, palette) -> dict | None:
    """The colour registry's colours of ``color``, overridden by the user's ``palette``."""
    if color is None:
        return None
    base = category_colors(adata, color)
    if palette is None:
        return base
    if isinstance(palette, Mapping):
        unknown = [k for k in palette if str(k) not in base]
        if unknown:
            raise ScHeatmapsKeyError(
                f"palette names {unknown!r}, which are not categories of {color!r}; "
                f"valid categories are {format_choices(base)}."
            )
        colors = {**base, **{str(k): v for k, v in palette.items()}}
    else:
        colors = dict(
            zip(base, list(palette) * (len(base) // max(len(palette), 1) + 1), strict=False)
        )
    bad = [c for c in colors.values() if not is_color_like(c)]
    if bad:
        raise ValueError(f"palette holds {bad!r}, which are not colours.")
    return {k: to_hex(v) for k, v in colors.items()}


@takes_options(DualExpressionOptions, ("adata", "gene_x", "gene_y"))
def dual_expression(
    adata, gene_x: str, gene_y: str, *, opts: DualExpressionOptions
) -> DualExpressionPlot:
    """Scatter of two genes, one point per cell, with r per colour group.

    Parameters
    ----------
    adata
        Annotated data; never modified.
    gene_x, gene_y
        Genes on the x and y axes.
    color
        Categorical obs key for the colours (dataset or cluster); ``None`` for one colour.
    source
        ``"RNA"``, ``"integrated"`` or a layer name.
    clusters, cluster_key
        Keep only these clusters of ``cluster_key`` (a list or ``"0,3,5"``),
        drawn in the order listed (legend or panels).
    split_by
        One panel per category of this key, with shared axes and one legend.
    method
        ``"pearson"`` or ``"spearman"``; the coefficient and n are shown per
        colour group in the legend (per panel with ``split_by``) and pooled in
        each panel's title, labelled r for Pearson and ρ for Spearman.
    exclude_double_zero
        Leave cells expressing neither gene out of r and of the drawing.
    threshold
        Expression above this counts as expressed (fractions in ``.stats``).
    shuffle, random_state
        Draw points in a seeded random order so that no group hides another.
    size, alpha
        Point size and opacity (default: from the number of points).
    jitter
        Spread cells at exactly 0 by up to this much; drawn only, never in the statistics.
    palette
        Colours: a mapping category -> colour, or a list. Default: the colour
        of each category of ``color`` in every figure
        (:func:`sc_heatmaps.get.category_colors`).
    max_points
        Draw at most about this many points per panel (seeded, every group keeps
        some); statistics always use every cell.
    density_threshold
        From this many cells in a panel, draw a per-group density image instead
        of points, so that drawing time and file size stay flat.
    dataset_key
        Deprecated and ignored: a key's colours are the same in every figure.
    ax
        Draw into this Axes (not with ``split_by``).
    figsize, title
        Figure size in inches and title. By default each panel is about 2 x 1.9
        inches (one panel: 2.6 x 2.4), the figure at most 180 mm wide with text
        of 6 to 8 pt; the legend goes beside the panels when it fits, else
        below them in columns, and the figure grows by its size.
    show_fractions
        Write in each panel's title the share of its cells that express both
        genes, x only, y only and neither (above ``threshold``; over every cell
        of the panel, double zeros included).
    gene_symbols
        A var column holding gene symbols (scanpy's name): ``gene_x`` and
        ``gene_y`` are symbols, and the axes are labelled by them.

    Returns
    -------
    DualExpressionPlot
        ``.data`` (one row per cell drawn), ``.stats`` (n, r, p-value and the
        expression fractions per panel and group; the TSV sidecar), ``.modes``
        (points or density per panel), ``.axes`` (``"panels"``, ``"legend"``),
        ``.params`` and ``.savefig``.

    Examples
    --------
    >>> import sc_heatmaps as sch
    >>> adata = sch.datasets.example()
    >>> plot = sch.pl.dual_expression(adata, "ISG15", "IFI6", color="dataset")
    >>> list(plot.stats["group"])  # the pooled row has no group name
    ['ctrl', 'stim_IFN', 'stim_LPS', None]
    >>> list(plot.stats["all_groups"])
    [False, False, False, True]
    """
    o = opts
    _check_draw_options(
        o.ax, o.split_by, o.size, o.alpha, o.jitter, o.max_points, o.density_threshold
    )
    if o.dataset_key is not None:
        warnings.warn(
            "dual_expression(dataset_key=) is deprecated and ignored: a key's colours "
            "are the same in every figure (sc_heatmaps.get.category_colors).",
            DeprecationWarning,
            stacklevel=3,
        )
    de = get_dual_expression(
        adata,
        gene_x,
        gene_y,
        color=o.color,
        source=o.source,
        clusters=o.clusters,
        cluster_key=o.cluster_key,
        split_by=o.split_by,
        method=o.method,
        exclude_double_zero=o.exclude_double_zero,
        threshold=o.threshold,
        gene_symbols=o.gene_symbols,
    )
    keys = {"cluster": o.cluster_key or o.color, "color": o.color, "split": o.split_by}
    colors = _palette(adata, o.color, o.palette)
    cells, stats, colors = _user_order(de.cells, de.stats, colors, o.clusters, keys)
    spec = ScatterSpec(
        cells=cells,
        stats=stats,
        gene_x=de.gene_x,
        gene_y=de.gene_y,
        axis_suffix=f" ({o.source})",
        palette=colors,
        color_key=o.color,
        shuffle=o.shuffle,
        random_state=o.random_state,
        size=o.size,
        alpha=o.alpha,
        jitter=o.jitter,
        max_points=o.max_points,
        density_threshold=o.density_threshold,
        figsize=o.figsize,
        title=o.title,
        method=o.method,
        show_fractions=o.show_fractions,
    )
    figure, axes, modes = ScatterPanels(spec).plot(o.ax)
    params = {
        "function": "sc_heatmaps.pl.dual_expression",
        "gene_x": gene_x,
        "gene_y": gene_y,
        **o.to_params(),
        "clusters": as_name_list(o.clusters, "clusters"),
        "modes": {str(k): v for k, v in modes.items()},
        "n_cells": len(cells),
    }
    return DualExpressionPlot(
        figure=figure, axes=axes, data=cells, params=params, stats=stats, modes=modes
    )


def _user_order(cells, stats, colors, clusters, keys: dict):
    """Put the listed ``clusters`` first, in the user's order, wherever their key is
    drawn: as colour groups (legend) or as panels. ``keys`` maps ``"cluster"``,
    ``"color"`` and ``"split"`` to obs keys."""
    wanted = as_name_list(clusters, "clusters")
    if wanted is None:
        return cells, stats, colors
    ranks = {}
    for column in ("color", "split"):
        if column not in cells or keys[column] != keys["cluster"]:
            continue
        cat = cells[column].cat
        by_name = {str(c): c for c in cat.categories}
        first = [by_name[w] for w in dict.fromkeys(wanted) if w in by_name]
        order = first + [c for c in cat.categories if c not in first]
        cells = cells.assign(**{column: cat.reorder_categories(order)})
        ranks[column] = {str(c): i for i, c in enumerate(order)}
        if column == "color" and colors is not None:
            colors = {str(c): colors[str(c)] for c in order}
    return cells, _sort_stats(stats, ranks), colors


def _sort_stats(stats: pd.DataFrame, ranks: dict) -> pd.DataFrame:
    """Statistics rows in drawing order; the pooled rows stay last in their block."""
    if not ranks:
        return stats
    keys = pd.DataFrame(index=stats.index)
    if "split" in stats:
        keys["a"] = stats["all_panels"].astype(int)
        keys["b"] = stats["split"].map(ranks.get("split", {})).fillna(-1)
    keys["c"] = stats["all_groups"].astype(int)
    keys["d"] = stats["group"].map(ranks.get("color", {})).fillna(-1)
    order = keys.sort_values(list(keys.columns), kind="stable").index
    return stats.loc[order].reset_index(drop=True)


def _check_draw_options(ax, split_by, size, alpha, jitter, max_points, density_threshold):
    if ax is not None and split_by is not None:
        raise ValueError("ax= draws a single panel; it cannot be combined with split_by=.")
    if size is not None:
        check_positive("size", size)
    if alpha is not None and not 0 < alpha <= 1:
        raise ValueError(f"alpha={alpha!r} is not valid; it must be in (0, 1].")
    if jitter < 0:
        raise ValueError(f"jitter={jitter!r} is not valid; it must be 0 or positive.")
    if max_points is not None and max_points < 1:
        raise ValueError(f"max_points={max_points!r} is not valid; it must be positive.")
    check_positive("density_threshold", density_threshold)
