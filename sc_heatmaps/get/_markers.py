"""Marker genes as a mapping, for plotting.

The one place where ``get`` calls ``tl``: markers are computed by
:func:`sc_heatmaps.tl.top_markers` (with ``key_added=None``, so nothing is written)
and read out per group. ``tl`` never imports ``get`` (see ``sc_heatmaps.tl``).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from .._genes import gene_names
from .._validate import as_name_list


def marker_genes(
    adata,
    groupby: str,
    *,
    n_genes: int = 10,
    method: str = "t-test",
    source: str = "RNA",
    groups: Sequence[Hashable] | str | None = None,
    min_logfc: float | None = None,
    max_pval_adj: float | None = None,
    min_in_group_fraction: float | None = None,
    duplicates: str = "best",
    key: str = "rank_genes_groups",
    candidates: Sequence[str] | None = None,
    gene_symbols: str | None = None,
) -> dict[Hashable, list[str]]:
    """Top marker genes per group as ``{group: [genes]}``, in category order.

    Same options as :func:`sc_heatmaps.tl.top_markers`; nothing is written
    into ``adata`` (a stored ranking under ``key`` is reused when it matches).
    The keys are the categories of ``groupby`` with their own type: ``markers[0]``
    for integer categories, ``markers["B"]`` for strings.

    With ``gene_symbols`` (a var column holding symbols, as in scanpy) the markers
    are returned, and ``candidates`` given, as symbols (a gene without a symbol of
    its own keeps its var_name; see :func:`sc_heatmaps.get.grouped_expression`).

    Examples
    --------
    >>> import sc_heatmaps as sch
    >>> adata = sch.datasets.example()
    >>> markers = sch.get.marker_genes(adata, "cluster", n_genes=2)
    >>> len(markers) == adata.obs["cluster"].nunique()
    True
    """
    from ..tl import top_markers  # on first use: the ranking code loads anndata

    names = gene_names(adata, gene_symbols, source)
    if candidates is not None:
        candidates, _ = names.to_var_names(as_name_list(candidates, "candidates"))
    table = top_markers(
        adata,
        groupby,
        n_genes=n_genes,
        method=method,
        source=source,
        groups=groups,
        min_logfc=min_logfc,
        max_pval_adj=max_pval_adj,
        min_in_group_fraction=min_in_group_fraction,
        duplicates=duplicates,
        key=key,
        key_added=None,
        candidates=candidates,
    )
    groups = table["group"]
    return {
        group: names.labels(table.loc[groups == group, "gene"]) for group in groups.cat.categories
    }
