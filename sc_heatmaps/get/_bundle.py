"""One bundle per heatmap: everything a heatmap draws, prepared from AnnData.

A :class:`HeatmapBundle` holds the matrix drawn, the same values before row scaling,
row and column metadata, blocks, colours (from the colour registry) and provenance,
all pandas. The static figure, the interactive page and the app all draw from a
bundle, so they cannot disagree; drawing code never touches AnnData.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from .._genes import gene_names
from .._groups import as_keys
from .._labels import labelled_mapping
from .._sources import resolve_source, usable_genes
from .._validate import as_name_list
from ..arrange import apply_filter, arrange, expand_blocks, row_blocks, scale_rows
from ..arrange._limits import color_limits, scaled_label, zscore_note
from ._colors import bar_colors, category_colors, default_palette
from ._grouped import grouped_expression
from ._markers import marker_genes
from ._significance import check_significance, with_significance


@dataclass(frozen=True)
class HeatmapBundle:
    """Everything one heatmap draws, already arranged (rows and columns in drawn order).

    Attributes
    ----------
    data
        The matrix drawn (after filtering, row scaling and ordering).
    unscaled
        The same cells before row scaling (ranks rows in the interactive view).
    col_meta
        One row per column of ``data``: the value of each annotation-bar key.
    colors
        ``{bar key: {category: hex}}`` from :func:`category_colors` (the registry).
    col_split
        The bar whose blocks are separated by gaps, or ``None``.
    row_blocks, row_block_name, row_palette, row_bar_legend
        Block of each row (e.g. the cluster a marker gene belongs to), the blocks'
        name, their colours and whether their bar needs its own legend.
    row_linkage, col_linkage
        Linkages behind a clustered order (per block), or ``None``.
    limits
        ``(vmin, vmax, vcenter)`` of the colour scale.
    value_label
        What the colours show (the colour-bar title).
    n_cells, fraction
        Cells per column and fraction of cells expressing (grouped heatmaps only).
    empty_columns
        Columns of groups without cells (drawn as "no cells").
    provenance
        JSON-ready record of what was drawn and left out, for the sidecar.
    notes
        Remarks on the figure (e.g. why z-scores show only a direction).
    marks
        Significance marks on the drawn cells
        (:class:`sc_heatmaps.arrange._significance.CellMarks`), or ``None``.
    """

    data: pd.DataFrame
    unscaled: pd.DataFrame
    col_meta: pd.DataFrame
    colors: dict
    limits: tuple
    value_label: str
    col_split: str | None = None
    row_blocks: list | None = None
    row_block_name: str | None = None
    row_palette: dict | None = None
    row_bar_legend: bool = True
    row_linkage: dict | None = None
    col_linkage: dict | None = None
    n_cells: pd.Series | None = None
    fraction: pd.DataFrame | None = None
    empty_columns: list = field(default_factory=list)
    provenance: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    marks: object = None


def resolve_groupby(groupby, cluster_key, dataset_key) -> list[str]:
    """The column keys: ``groupby``, else ``[dataset_key, cluster_key]`` (those given)."""
    if groupby is not None:
        return as_keys(groupby)
    keys = [k for k in (dataset_key, cluster_key) if k is not None]
    if not keys:
        raise ValueError(
            "Say how to group cells: pass groupby=, or cluster_key= and/or dataset_key= "
            "(groupby then defaults to [dataset_key, cluster_key])."
        )
    return keys


def resolve_genes(adata, var_names, opts, *, find_markers=None) -> tuple[list | dict, str]:
    """Genes as {block: genes} (or a flat list), and where they came from.

    ``find_markers`` computes the markers of ``var_names=None`` (default
    :func:`marker_genes`, same arguments); the app passes one that caches its results."""
    if var_names is None:
        if opts.cluster_key is None:
            raise ValueError(
                "var_names=None picks the top markers of cluster_key, but cluster_key is None; "
                "pass cluster_key= or a list of genes."
            )
        kws = {"n_genes": opts.n_genes, "source": "RNA", **_markers_kws(opts)}
        if opts.clusters is not None:
            kws.setdefault("groups", as_name_list(opts.clusters, "clusters"))
        if kws["source"] != opts.source:
            kws.setdefault("candidates", usable_genes(resolve_source(adata, opts.source)))
        blocks = (find_markers or marker_genes)(adata, opts.cluster_key, **kws)
        kept = {b: g for b, g in blocks.items() if g}
        return in_user_order(kept, opts.clusters), "top_markers"
    if getattr(opts, "markers_kws", None):
        raise ValueError(
            f"markers_kws={opts.markers_kws!r} applies to the markers of var_names=None, but "
            "var_names are given; drop markers_kws or var_names."
        )
    if isinstance(var_names, Mapping):
        blocks = labelled_mapping(var_names, "var_names' block keys")
        return {b: [g] if isinstance(g, str) else list(g) for b, g in blocks.items()}, "user"
    if isinstance(var_names, str):
        return as_name_list(var_names, "var_names"), "user"
    return list(var_names), "user"


# markers_kws keys that repeat an option of the figure: {marker_genes argument: option}
_MARKERS_KWS_OWNED = {
    "n_genes": "n_genes",
    "groups": "clusters",
    "gene_symbols": "gene_symbols",
    "kind": "markers",
    "dataset_key": "dataset_key",
}


def _markers_kws(opts) -> dict:
    kws = dict(getattr(opts, "markers_kws", None) or {})
    repeated = {k: _MARKERS_KWS_OWNED[k] for k in kws if k in _MARKERS_KWS_OWNED}
    if repeated:
        said = ", ".join(
            f"markers_kws[{k!r}]={kws[k]!r} (the figure's {o}={getattr(opts, o)!r})"
            for k, o in repeated.items()
        )
        raise ValueError(
            f"{said}: these are options of the figure itself, recorded in its sidecar; "
            f"pass {', '.join(f'{o}=' for o in repeated.values())} and leave them out of "
            "markers_kws."
        )
    if opts.gene_symbols is not None:
        kws.setdefault("gene_symbols", opts.gene_symbols)
    if opts.markers == "conserved":
        if opts.dataset_key is None:
            raise ValueError(
                "markers='conserved' needs dataset_key= (markers conserved across the "
                "datasets of that obs key); pass it, or use markers='top'."
            )
        kws.update(kind="conserved", dataset_key=opts.dataset_key)
    return kws


def in_user_order(blocks: dict, clusters) -> dict:
    """A mapping keyed by cluster in the order of ``clusters``, as the columns are;
    the other keys follow in their own order."""
    wanted = as_name_list(clusters, "clusters") or []
    first = [w for w in dict.fromkeys(wanted) if w in blocks]
    return {b: blocks[b] for b in first + [b for b in blocks if b not in set(first)]}


def block_palette(adata, cluster_key, blocks: list[str]) -> dict:
    """Colours of row blocks: the cluster's registry colour when every block is a cluster."""
    if cluster_key is not None:
        colors = category_colors(adata, cluster_key)
        if all(b in colors for b in blocks):
            return {b: colors[b] for b in blocks}
    return dict(zip(blocks, default_palette(len(blocks)), strict=True))


def grouped_bundle(
    adata, var_names, groupby, opts, *, expression=None, find_markers=None
) -> HeatmapBundle:
    """The bundle of :func:`sc_heatmaps.pl.grouped_heatmap` (``opts``: its options).

    ``expression`` computes the grouped expression (default :func:`grouped_expression`,
    same arguments) and ``find_markers`` the markers of ``var_names=None`` (default
    :func:`marker_genes`); the app passes ones that cache their results.
    """
    keys = resolve_groupby(groupby, opts.cluster_key, opts.dataset_key)
    genes, origin = resolve_genes(adata, var_names, opts, find_markers=find_markers)
    check_significance(opts, keys)
    names = gene_names(adata, opts.gene_symbols, opts.source)
    genes = _as_labels(names, genes)
    ge = (expression or grouped_expression)(
        adata,
        genes,
        keys,
        source=opts.source,
        clusters=opts.clusters,
        cluster_key=opts.cluster_key,
        stat=opts.stat,
        missing=opts.missing,
        **_symbols(opts),
    )
    frame, removed = _filtered(ge, genes, opts)
    done = _arranged(scale_rows(frame, opts.scale), ge.groups, keys, opts)
    columns = done.frame.columns
    unscaled = frame.loc[done.frame.index, columns]
    bundle = HeatmapBundle(
        data=done.frame,
        unscaled=unscaled,
        col_meta=ge.groups.loc[columns, keys],
        colors=_bar_colors(adata, keys, opts),
        limits=color_limits(done.frame.to_numpy(), opts.scale, opts.vmin, opts.vmax, opts.vcenter),
        value_label=_value_label(opts.stat, opts.scale, opts.source, len(columns)),
        col_split=keys[0] if len(keys) > 1 else None,
        **_row_fields(adata, done, keys, opts),
        row_linkage=done.row_linkage,
        col_linkage=done.col_linkage,
        n_cells=ge.n_cells.loc[columns],
        fraction=_aligned(ge.fraction, done.frame),
        empty_columns=[c for c in columns if ge.n_cells.loc[c] == 0],
        provenance=_provenance(genes, origin, ge, keys, removed, len(columns), opts)
        | _symbols_not_used(names, done.frame),
        notes=[n for n in [zscore_note(opts.scale, len(columns))] if n],
    )
    return with_significance(bundle, adata, opts)


def _as_labels(names, genes):
    """The genes as their row labels (a symbol, or a var_name), block by block: the
    rows are found by label; a name that is no gene stays (``missing`` decides)."""
    if names.column is None:
        return genes

    def label(name):
        var_name = names.var_name_of(name)
        return name if var_name is None else names.label(var_name)

    if isinstance(genes, Mapping):
        return {b: [label(g) for g in block] for b, block in genes.items()}
    return [label(g) for g in genes]


def _symbols_not_used(names, drawn: pd.DataFrame) -> dict:
    """For the sidecar: drawn genes labelled by their var_name because their symbol is
    another gene's var_name (``{var_name: symbol}``); nothing without ``gene_symbols``."""
    if names.column is None:
        return {}
    shown = set(drawn.index.get_level_values(-1))
    return {"gene_symbols_not_used": {v: s for v, s in names.not_used.items() if v in shown}}


def _symbols(opts) -> dict:
    return {} if opts.gene_symbols is None else {"gene_symbols": opts.gene_symbols}


def _aligned(values: pd.DataFrame, drawn: pd.DataFrame) -> pd.DataFrame:
    genes = drawn.index.get_level_values(-1)
    out = values.loc[genes, drawn.columns]
    out.index = drawn.index
    return out


def _filtered(ge, genes, opts) -> tuple[pd.DataFrame, dict]:
    """Rows in marker blocks, after ``filter``; with the genes and groups it removed."""
    blocks = genes if isinstance(genes, Mapping) else None
    frame = expand_blocks(ge.unscaled, blocks, opts.cluster_key or "block")
    removed = {"genes": [], "groups": []}
    if opts.filter is not None:
        kept = apply_filter(frame, opts.filter)
        frame = kept.frame
        shown = set(frame.index.get_level_values(-1))
        out = kept.dropped_rows.get_level_values(-1)
        removed["genes"] = [str(g) for g in dict.fromkeys(out) if g not in shown]
        removed["groups"] = [str(g) for g in kept.dropped_columns]
    return frame, removed


def _arranged(frame: pd.DataFrame, groups: pd.DataFrame, keys: list[str], opts):
    col_blocks = list(groups.loc[frame.columns, keys[0]].astype(str)) if len(keys) > 1 else None
    return arrange(
        frame, col_blocks=col_blocks, cluster_rows=opts.cluster_rows, cluster_cols=opts.cluster_cols
    )


def _bar_colors(adata, keys: list[str], opts) -> dict:
    palettes = bar_colors(adata, keys, opts.dataset_key)
    if opts.cluster_key in palettes:  # legends list the chosen clusters in the user's order
        palettes[opts.cluster_key] = in_user_order(palettes[opts.cluster_key], opts.clusters)
    return palettes


def _row_fields(adata, done, keys: list[str], opts) -> dict:
    blocks = row_blocks(done.frame)
    name = opts.cluster_key or "block"
    return {
        "row_blocks": blocks,
        "row_block_name": name if blocks else None,
        "row_palette": block_palette(adata, opts.cluster_key, list(dict.fromkeys(blocks or []))),
        "row_bar_legend": name not in keys,
    }


def _value_label(stat: str, scale, source: str, n_groups: int) -> str:
    what = {"mean": "mean", "median": "median", "fraction": "fraction expressing"}[stat]
    return scaled_label(f"{what} ({source})", scale, n_groups)


def _provenance(genes, origin: str, ge, keys, removed: dict, n_groups: int, opts) -> dict:
    """Genes and groups with their cell counts, for the JSON sidecar; the genes and
    groups left out, each with why: ``"missing"`` (``missing="drop"``) or ``"filter"``."""
    why = {g: "missing" for g in ge.dropped_genes} | {g: "filter" for g in removed["genes"]}
    return {
        "groupby": keys,
        "clusters": as_name_list(opts.clusters, "clusters"),
        "n_genes": opts.n_genes if origin == "top_markers" else None,
        "scale_note": zscore_note(opts.scale, n_groups),
        "genes_from": origin,
        "genes": {str(k): list(v) for k, v in genes.items()}
        if isinstance(genes, Mapping)
        else list(genes),
        "dropped_genes": list(why),
        "dropped_genes_reason": why,
        "dropped_groups": removed["groups"],
        "dropped_groups_reason": {g: "filter" for g in removed["groups"]},
        "groups": ge.groups.astype({k: str for k in keys}),
    }
