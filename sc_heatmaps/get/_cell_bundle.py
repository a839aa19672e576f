"""The bundle of a per-cell heatmap: one column per cell (or per bin of cells)."""

from __future__ import annotations

from collections.abc import Mapping

from .._groups import make_grouping
from .._validate import as_name_list
from ..arrange import arrange, expand_blocks, row_blocks, scale_rows
from ..arrange._limits import color_limits, scaled_label
from ._bundle import HeatmapBundle, block_palette, resolve_genes, resolve_groupby
from ._cells_matrix import cell_matrix
from ._colors import bar_colors

TOTAL_COLUMNS = 4000


def auto_limit(adata, keys, clusters, cluster_key) -> int:
    """Columns per group for ``max_cells_per_group="auto"``: about 4,000 in all."""
    n_groups = make_grouping(adata.obs, keys, clusters=clusters, cluster_key=cluster_key).n_groups
    return max(1, min(500, TOTAL_COLUMNS // n_groups))


def cell_bundle(adata, var_names, groupby, opts):
    """The bundle of :func:`sc_heatmaps.pl.cell_heatmap`, and its per-column table."""
    keys = resolve_groupby(groupby, opts.cluster_key, opts.dataset_key)
    genes, origin = resolve_genes(adata, var_names, opts)
    limit = opts.max_cells_per_group
    if limit == "auto":
        limit = auto_limit(adata, keys, opts.clusters, opts.cluster_key)
    cm = cell_matrix(
        adata,
        genes,
        keys,
        source=opts.source,
        clusters=opts.clusters,
        cluster_key=opts.cluster_key,
        max_cells_per_group=limit,
        reduce=opts.reduce,
        random_state=opts.random_state,
        **({} if opts.gene_symbols is None else {"gene_symbols": opts.gene_symbols}),
    )
    blocks = genes if isinstance(genes, Mapping) else None
    unscaled = expand_blocks(cm.matrix, blocks, opts.cluster_key or "block")
    done = arrange(
        scale_rows(unscaled, opts.scale),
        col_blocks=list(cm.columns["group"]),
        cluster_cols=opts.cluster_cells,
    )
    row_b = row_blocks(done.frame)
    name = opts.cluster_key or "block"
    bundle = HeatmapBundle(
        data=done.frame,
        unscaled=unscaled.loc[done.frame.index, done.frame.columns],
        col_meta=cm.columns.loc[done.frame.columns, keys],
        colors=bar_colors(adata, keys, opts.dataset_key),
        limits=color_limits(done.frame.to_numpy(), opts.scale, opts.vmin, opts.vmax, opts.vcenter),
        value_label=scaled_label(f"expression ({opts.source})", opts.scale),
        col_split=keys[0],
        row_blocks=row_b,
        row_block_name=name if row_b else None,
        row_palette=block_palette(adata, opts.cluster_key, list(dict.fromkeys(row_b or []))),
        row_bar_legend=name not in keys,
        provenance={
            "groupby": keys,
            "clusters": as_name_list(opts.clusters, "clusters"),
            "max_cells_per_group": limit,
            "genes_from": origin,
            "groups": cm.n_cells.rename("n_cells").reset_index(),
        },
    )
    return bundle, cm.columns.loc[done.frame.columns]
