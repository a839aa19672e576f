"""``grouped_heatmap``: genes x groups, with dataset and cluster annotation bars."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np

from .._groups import as_keys
from .._sources import resolve_source, usable_genes
from .._validate import as_name_list, check_choice
from ..arrange import SCALES, apply_filter, arrange, expand_blocks, row_blocks, scale_rows
from ..get import category_colors, grouped_expression, marker_genes
from ..get._colors import bar_colors
from ..get._grouped import STATS
from ._heatmap_board import HeatmapBoard, HeatmapSpec, scaled_label, zscore_note
from ._plot import HeatmapPlot

LABELS = ("all", "x", "y", "none")
_DEFAULTS = {
    "cluster_key": None,
    "dataset_key": None,
    "n_genes": 10,
    "source": "RNA",
    "clusters": None,
    "stat": "mean",
    "scale": "zscore",
    "cluster_rows": False,
    "cluster_cols": False,
    "cmap": "RdBu_r",
    "labels": "all",
    "vmin": None,
    "vmax": None,
    "vcenter": None,
    "figsize": None,
    "title": None,
    "missing": "raise",
    "markers_kws": None,
    "filter": None,
}


def _resolve_groupby(groupby, cluster_key, dataset_key) -> list[str]:
    if groupby is not None:
        return as_keys(groupby)
    keys = [k for k in (dataset_key, cluster_key) if k is not None]
    if not keys:
        raise ValueError(
            "Say how to group cells: pass groupby=, or cluster_key= and/or dataset_key= "
            "(groupby then defaults to [dataset_key, cluster_key])."
        )
    return keys


def _resolve_genes(adata, var_names, cluster_key, n_genes, source, clusters, markers_kws):
    """Genes as {block: genes} (or a flat list), and where they came from."""
    if var_names is None:
        if cluster_key is None:
            raise ValueError(
                "var_names=None picks the top markers of cluster_key, but cluster_key is None; "
                "pass cluster_key= or a list of genes."
            )
        kws = {"n_genes": n_genes, "source": "RNA", **(markers_kws or {})}
        if clusters is not None:
            kws.setdefault("groups", as_name_list(clusters, "clusters"))
        if kws["source"] != source:
            kws.setdefault("candidates", usable_genes(resolve_source(adata, source)))
        blocks = marker_genes(adata, cluster_key, **kws)
        return _in_user_order({b: g for b, g in blocks.items() if g}, clusters), "top_markers"
    if isinstance(var_names, Mapping):
        return {str(b): list(g) for b, g in var_names.items()}, "user"
    if isinstance(var_names, str):
        return as_name_list(var_names, "var_names"), "user"
    return list(var_names), "user"


def _in_user_order(blocks: dict, clusters) -> dict:
    """A mapping keyed by cluster (marker blocks, colours) in the order of ``clusters``,
    as the columns are; the other keys follow in their own order."""
    wanted = as_name_list(clusters, "clusters") or []
    first = [w for w in dict.fromkeys(wanted) if w in blocks]
    return {b: blocks[b] for b in first + [b for b in blocks if b not in set(first)]}


def _norm_limits(values: np.ndarray, scale, vmin, vmax, vcenter):
    if scale == "zscore" and vmin is None and vmax is None:
        lim = float(np.nanmax(np.abs(values))) if values.size else 1.0
        lim = lim if lim > 0 else 1.0
        return -lim, lim, 0.0 if vcenter is None else vcenter
    return vmin, vmax, vcenter


def _block_palette(adata, cluster_key, blocks: list[str]) -> dict:
    from ..get._colors import default_palette

    if cluster_key is not None:
        colors = category_colors(adata, cluster_key)
        if all(b in colors for b in blocks):
            return {b: colors[b] for b in blocks}
    return dict(zip(blocks, default_palette(len(blocks)), strict=True))


def _cbar_label(stat: str, scale, source: str, n_groups: int) -> str:
    what = {"mean": "mean", "median": "median", "fraction": "fraction expressing"}[stat]
    return scaled_label(f"{what} ({source})", scale, n_groups)


def grouped_heatmap(
    adata,
    var_names: Sequence[str] | Mapping[str, Sequence[str]] | str | None = None,
    groupby: str | Sequence[str] | None = None,
    *,
    cluster_key: str | None = None,
    dataset_key: str | None = None,
    n_genes: int = 10,
    source: str = "RNA",
    clusters: str | Sequence[str] | None = None,
    stat: Literal["mean", "median", "fraction"] = "mean",
    scale: Literal["zscore", "minmax"] | None = "zscore",
    cluster_rows: bool = False,
    cluster_cols: bool = False,
    cmap: str = "RdBu_r",
    labels: Literal["all", "x", "y", "none"] = "all",
    vmin: float | None = None,
    vmax: float | None = None,
    vcenter: float | None = None,
    figsize: tuple[float, float] | None = None,
    title: str | None = None,
    missing: Literal["raise", "drop"] = "raise",
    markers_kws: dict | None = None,
    filter: str | None = None,
) -> HeatmapPlot:
    """Heatmap of genes x groups of cells, grouped by dataset and/or cluster.

    Parameters
    ----------
    adata
        Annotated data; never modified.
    var_names
        Genes: a list, or ``{block: genes}`` to draw the rows in labelled blocks.
        ``None`` takes the top ``n_genes`` markers of each cluster of
        ``cluster_key``, computed on the side (never stored) on the ``"RNA"``
        values as Seurat and scanpy recommend, each gene kept in the cluster
        where it scores best. When ``source`` is another layer, only genes that
        layer covers with finite values are eligible, so each cluster is
        refilled from further down its ranking instead of losing rows.
    groupby
        Obs key(s) of the columns; default ``[dataset_key, cluster_key]``
        (whichever are given).
    cluster_key, dataset_key
        The cluster and dataset obs keys. Each groupby key gets its own
        labelled annotation bar; the first key's blocks are separated by gaps.
    n_genes
        Markers per cluster when ``var_names`` is ``None``.
    source
        ``"RNA"``, ``"integrated"`` or a layer name.
    clusters
        Keep only these clusters of ``cluster_key`` (a list or ``"0,3,5"``), drawn in
        this order (columns, and marker blocks when ``var_names`` is ``None``).
    stat
        ``"mean"``, ``"median"`` or ``"fraction"``.
    scale
        ``"zscore"`` (per gene across the groups shown), ``"minmax"`` or ``None``.
    cluster_rows, cluster_cols
        Hierarchical clustering (average linkage, Euclidean) within blocks,
        with dendrograms.
    cmap
        A matplotlib colormap, or ``"blue_white_red"`` / ``"red_black_green"``.
    labels
        Which tick labels to show: ``"all"``, ``"x"`` (groups), ``"y"`` (genes) or ``"none"``.
    vmin, vmax, vcenter
        Colour limits; z-scores default to limits symmetric around 0.
    figsize
        Size of the whole figure in inches; by default it grows with the matrix.
    title
        Figure title.
    missing
        Genes absent from ``source``: ``"raise"`` or ``"drop"`` (recorded in the sidecar).
    markers_kws
        Extra options for :func:`sc_heatmaps.get.marker_genes` (e.g. ``method``).
    filter
        Keep only the rows (genes) and columns (groups) that pass a filter on the
        ``stat`` values before scaling, e.g. ``"row any >= 1.2 OR row any <= 0.8"``
        (see :func:`sc_heatmaps.arrange.filter_matrix`).

    Returns
    -------
    HeatmapPlot with ``.figure``, ``.axes``, ``.data`` (the matrix drawn) and ``.savefig``.

    Examples
    --------
    >>> import sc_heatmaps as sch
    >>> adata = sch.datasets.example()
    >>> plot = sch.pl.grouped_heatmap(adata, cluster_key="cluster", dataset_key="dataset",
    ...                               n_genes=3)
    >>> plot.data.index.names
    FrozenList(['cluster', 'gene'])
    """
    options = {k: v for k, v in locals().items() if k not in ("adata", "var_names", "groupby")}
    spec, ge, params = prepare(adata, var_names, groupby, **options)
    figure, axes = HeatmapBoard(spec).plot()
    params["figsize"] = [float(x) for x in figure.get_size_inches()]
    plot = HeatmapPlot(figure=figure, axes=axes, data=spec.data, params=params)
    plot.spec, plot.hover = spec, hover_extras(spec, ge)
    return plot


def prepare(adata, var_names=None, groupby=None, **opts) -> tuple[HeatmapSpec, object, dict]:
    """Everything :func:`grouped_heatmap` draws, without drawing: spec, grouped values, params.

    Takes the same options as :func:`grouped_heatmap`; the interactive view uses it too.
    """
    opts = {**_DEFAULTS, **opts}
    unknown = sorted(set(opts) - set(_DEFAULTS))
    if unknown:
        raise TypeError(f"Unknown options {unknown}; valid options are {sorted(_DEFAULTS)}.")
    check_choice("scale", opts["scale"], SCALES)
    check_choice("stat", opts["stat"], STATS)
    check_choice("labels", opts["labels"], LABELS)
    keys = _resolve_groupby(groupby, opts["cluster_key"], opts["dataset_key"])
    genes, origin = _resolve_genes(
        adata,
        var_names,
        opts["cluster_key"],
        opts["n_genes"],
        opts["source"],
        opts["clusters"],
        opts["markers_kws"],
    )
    ge = grouped_expression(
        adata,
        genes,
        keys,
        source=opts["source"],
        clusters=opts["clusters"],
        cluster_key=opts["cluster_key"],
        stat=opts["stat"],
        missing=opts["missing"],
    )
    done, removed = _arrange(ge, genes, keys, opts)
    lo, hi, centre = _norm_limits(
        done.frame.to_numpy(), opts["scale"], opts["vmin"], opts["vmax"], opts["vcenter"]
    )
    spec = _spec(adata, done, ge, keys, opts)
    spec.cmap, spec.vmin, spec.vmax, spec.vcenter = opts["cmap"], lo, hi, centre
    n_groups = done.frame.shape[1]
    spec.cbar_label = _cbar_label(opts["stat"], opts["scale"], opts["source"], n_groups)
    spec.labels, spec.title, spec.figsize = opts["labels"], opts["title"], opts["figsize"]
    cmap = opts["cmap"]
    params = {
        "function": "sc_heatmaps.pl.grouped_heatmap",
        "groupby": keys,
        **{
            k: opts[k]
            for k in (
                "cluster_key",
                "dataset_key",
                "source",
                "stat",
                "scale",
                "cluster_rows",
                "cluster_cols",
                "labels",
                "title",
                "filter",
            )
        },
        "clusters": as_name_list(opts["clusters"], "clusters"),
        "cmap": cmap if isinstance(cmap, str) else getattr(cmap, "name", str(cmap)),
        "vmin": lo,
        "vmax": hi,
        "vcenter": centre,
        "scale_note": zscore_note(opts["scale"], n_groups),
        "n_genes": opts["n_genes"] if origin == "top_markers" else None,
        **_provenance(genes, origin, ge, keys, removed),
    }
    return spec, ge, params


def hover_extras(spec: HeatmapSpec, ge) -> dict:
    """Extras for the interactive view, aligned to the data drawn: cells per group and
    fraction expressing (tooltips), and the values before row scaling (ranking)."""
    genes = spec.data.index.get_level_values(-1)
    fraction = ge.fraction.loc[genes, spec.data.columns]
    fraction.index = spec.data.index
    unscaled = ge.unscaled.loc[genes, spec.data.columns]
    unscaled.index = spec.data.index
    return {
        "n_cells": ge.n_cells.loc[spec.data.columns],
        "fraction": fraction,
        "unscaled": unscaled,
    }


def _arrange(ge, genes, keys, opts):
    """Rows in marker blocks, filtered, scaled, then ordered (clustered within blocks);
    with the genes and groups the filter removed."""
    blocks = genes if isinstance(genes, Mapping) else None
    frame = expand_blocks(ge.unscaled, blocks, opts["cluster_key"] or "block")
    removed = {"genes": [], "groups": []}
    if opts["filter"] is not None:
        kept = apply_filter(frame, opts["filter"])
        frame = kept.frame
        shown = set(frame.index.get_level_values(-1))
        out = kept.dropped_rows.get_level_values(-1)
        removed["genes"] = [str(g) for g in dict.fromkeys(out) if g not in shown]
        removed["groups"] = [str(g) for g in kept.dropped_columns]
    frame = scale_rows(frame, opts["scale"])
    groups = ge.groups.loc[frame.columns]
    col_blocks = list(groups[keys[0]].astype(str)) if len(keys) > 1 else None
    done = arrange(
        frame,
        col_blocks=col_blocks,
        cluster_rows=opts["cluster_rows"],
        cluster_cols=opts["cluster_cols"],
    )
    return done, removed


def _spec(adata, done, ge, keys, opts) -> HeatmapSpec:
    """Annotation bars, blocks and colours for the arranged frame."""
    cluster_key = opts["cluster_key"]
    blocks = row_blocks(done.frame)
    block_name = cluster_key or "block"
    palettes = bar_colors(adata, keys, opts["dataset_key"])
    if cluster_key in palettes:  # the legend lists the chosen clusters in the user's order
        palettes[cluster_key] = _in_user_order(palettes[cluster_key], opts["clusters"])
    return HeatmapSpec(
        data=done.frame,
        col_meta=ge.groups.loc[done.frame.columns, keys],
        col_palettes=palettes,
        col_split=keys[0] if len(keys) > 1 else None,
        row_blocks=blocks,
        row_block_name=block_name if blocks else None,
        row_palette=_block_palette(adata, cluster_key, list(dict.fromkeys(blocks or []))),
        row_bar_legend=block_name not in keys,
        row_linkage=done.row_linkage,
        col_linkage=done.col_linkage,
    )


def _provenance(genes, origin: str, ge, keys: list[str], removed: dict) -> dict:
    """Genes and groups with their cell counts, for the JSON sidecar; the genes and
    groups left out, each with why: ``"missing"`` (``missing="drop"``) or ``"filter"``."""
    why = {g: "missing" for g in ge.dropped_genes} | {g: "filter" for g in removed["genes"]}
    return {
        "genes_from": origin,
        "genes": _genes_for_json(genes),
        "dropped_genes": list(why),
        "dropped_genes_reason": why,
        "dropped_groups": removed["groups"],
        "dropped_groups_reason": {g: "filter" for g in removed["groups"]},
        "groups": ge.groups.astype({k: str for k in keys}),
    }


def _genes_for_json(genes):
    return {str(k): list(v) for k, v in genes.items()} if isinstance(genes, Mapping) else genes
