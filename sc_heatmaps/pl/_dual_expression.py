"""``dual_expression``: gene A vs gene B, one point per cell, r per dataset or cluster."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import pandas as pd
from matplotlib.colors import is_color_like, to_hex

from .._validate import ScHeatmapsKeyError, as_name_list, check_positive, format_choices
from ..get import category_colors
from ..get import dual_expression as get_dual_expression
from ._plot import Plot
from ._scatter_panels import ScatterPanels, ScatterSpec


class DualExpressionPlot(Plot):
    """Returned by :func:`sc_heatmaps.pl.dual_expression`.

    ``data`` is the per-cell frame, ``stats`` the statistics table (written
    as the TSV sidecar). ``axes`` has ``"panels"`` (panel name -> Axes) and
    ``"legend"``; ``modes`` says how each panel was drawn (``"points"`` or
    ``"density"``).
    """

    stats: pd.DataFrame
    modes: dict

    def sidecar_table(self) -> pd.DataFrame:
        return self.stats


def _palette(adata, color, palette, dataset_key) -> dict | None:
    if color is None:
        return None
    base = category_colors(adata, color, "dataset" if color == dataset_key else "cluster")
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


def dual_expression(
    adata,
    gene_x: str,
    gene_y: str,
    *,
    color: str | None = "dataset",
    source: str = "RNA",
    clusters: str | Sequence[str] | None = None,
    cluster_key: str | None = None,
    split_by: str | None = None,
    method: Literal["pearson", "spearman"] = "pearson",
    exclude_double_zero: bool = False,
    threshold: float = 0.0,
    shuffle: bool = True,
    random_state: int = 0,
    size: float | None = None,
    alpha: float | None = None,
    jitter: float = 0.0,
    palette: Mapping[str, str] | Sequence[str] | None = None,
    max_points: int | None = None,
    density_threshold: int = 200_000,
    dataset_key: str | None = None,
    ax=None,
    figsize: tuple[float, float] | None = None,
    title: str | None = None,
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
        Keep only these clusters of ``cluster_key`` (a list or ``"0,3,5"``).
    split_by
        One panel per category of this key, with shared axes and one legend.
    method
        ``"pearson"`` or ``"spearman"``; the coefficient and n are shown per
        colour group (in the legend, or under each panel with ``split_by``),
        labelled r for Pearson and ρ for Spearman.
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
        Colours: a mapping category -> colour, or a list. Default:
        ``adata.uns[f"{color}_colors"]``, else a stable palette.
    max_points
        Draw at most about this many points per panel (seeded, every group keeps
        some); statistics always use every cell.
    density_threshold
        From this many cells in a panel, draw a per-group density image instead
        of points, so that drawing time and file size stay flat.
    dataset_key
        When ``color`` is this key, use the dataset palette (the one
        :func:`grouped_heatmap` uses for its ``dataset_key``).
    ax
        Draw into this Axes (not with ``split_by``).
    figsize, title
        Figure size in inches and title.

    Examples
    --------
    >>> import sc_heatmaps as sch
    >>> adata = sch.datasets.example()
    >>> plot = sch.pl.dual_expression(adata, "ISG15", "IFI6", color="dataset")
    >>> list(plot.stats["group"])
    ['ctrl', 'stim_IFN', 'stim_LPS', 'all']
    """
    _check_draw_options(ax, split_by, size, alpha, jitter, max_points, density_threshold)
    de = get_dual_expression(
        adata,
        gene_x,
        gene_y,
        color=color,
        source=source,
        clusters=clusters,
        cluster_key=cluster_key,
        split_by=split_by,
        method=method,
        exclude_double_zero=exclude_double_zero,
        threshold=threshold,
    )
    spec = ScatterSpec(
        cells=de.cells,
        stats=de.stats,
        gene_x=gene_x,
        gene_y=gene_y,
        axis_suffix=f" ({source})",
        palette=_palette(adata, color, palette, dataset_key),
        color_key=color,
        shuffle=shuffle,
        random_state=random_state,
        size=size,
        alpha=alpha,
        jitter=jitter,
        max_points=max_points,
        density_threshold=density_threshold,
        figsize=figsize,
        title=title,
        method=method,
    )
    figure, axes, modes = ScatterPanels(spec).plot(ax)
    params = {
        "function": "sc_heatmaps.pl.dual_expression",
        "gene_x": gene_x,
        "gene_y": gene_y,
        "color": color,
        "source": source,
        "clusters": as_name_list(clusters, "clusters"),
        "cluster_key": cluster_key,
        "split_by": split_by,
        "method": method,
        "exclude_double_zero": exclude_double_zero,
        "threshold": threshold,
        "shuffle": shuffle,
        "random_state": random_state,
        "jitter": jitter,
        "max_points": max_points,
        "density_threshold": density_threshold,
        "modes": {str(k): v for k, v in modes.items()},
        "n_cells": len(de.cells),
    }
    plot = DualExpressionPlot(figure=figure, axes=axes, data=de.cells, params=params)
    plot.stats, plot.modes = de.stats, modes
    return plot


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
