"""Marker genes as a mapping, for plotting.

The one place where ``get`` calls ``tl``: markers are computed by
:func:`sc_heatmaps.tl.top_markers`, or :func:`sc_heatmaps.tl.conserved_markers` for
``kind="conserved"`` (with ``key_added=None``, so nothing is written), and read out per
group. ``tl`` never imports ``get`` (see ``sc_heatmaps.tl``).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Literal

from .._genes import gene_names
from .._validate import as_name_list, check_choice

KINDS = ("top", "conserved")


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
    kind: Literal["top", "conserved"] = "top",
    dataset_key: str | None = None,
    conserved_kws: Mapping | None = None,
    recipe: str = "scanpy",
) -> dict[Hashable, list[str]]:
    """Top marker genes per group as ``{group: [genes]}``, in category order.

    Same options as :func:`sc_heatmaps.tl.top_markers`; nothing is written
    into ``adata`` (a stored ranking under ``key`` is reused when it matches).
    The keys are the categories of ``groupby`` with their own type: ``markers[0]``
    for integer categories, ``markers["B"]`` for strings.

    With ``gene_symbols`` (a var column holding symbols, as in scanpy) the markers
    are returned, and ``candidates`` given, as symbols (a gene without a symbol of
    its own keeps its var_name; see :func:`sc_heatmaps.get.grouped_expression`).

    ``recipe="seurat"`` (``kind="top"``) applies Seurat's ``FindAllMarkers`` recipe
    (see :func:`sc_heatmaps.tl.top_markers`) to the ranking of ``method``; pass
    ``method="wilcoxon"`` for Seurat's test (``method`` defaults to ``"t-test"`` here).

    ``kind="conserved"`` gives the markers of each group that are conserved across
    the datasets of ``dataset_key`` (:func:`sc_heatmaps.tl.conserved_markers`, which
    also takes ``n_genes``, ``method``, ``source``, ``groups``, ``duplicates`` and
    ``candidates``; its other options, such as ``combine``, ``min_datasets``,
    ``min_cells`` and ``direction``, go in ``conserved_kws``). The filters
    ``min_logfc``, ``max_pval_adj``, ``min_in_group_fraction`` and ``key`` belong to
    ``kind="top"``. A group without conserved markers maps to an empty list.

    Parameters
    ----------
    adata
        Annotated data; never modified.
    groupby
        Categorical obs key whose groups get markers (e.g. the cluster key).
    n_genes
        Markers per group.
    method
        The test, as scanpy names it: ``"t-test"``, ``"t-test_overestim_var"``,
        ``"wilcoxon"`` or ``"logreg"``.
    source
        ``"RNA"``, ``"integrated"`` or a layer name.
    groups
        Restrict the comparison to these groups (a list or ``"0,3,5"``).
    min_logfc, max_pval_adj, min_in_group_fraction
        ``kind="top"`` only: keep genes with ``logfc >= min_logfc``,
        ``pval_adj <= max_pval_adj`` and ``pct_in >= min_in_group_fraction``.
    duplicates
        A gene that marks several groups: ``"best"`` (kept where it scores
        highest), ``"first"`` or ``"keep"`` (in each group).
    key
        ``kind="top"`` only: where to look for a stored ranking.
    candidates
        Only these genes may be reported (the ranking still uses every gene).
    gene_symbols
        A var column holding gene symbols (see above).
    kind
        ``"top"`` (markers of the pooled cells) or ``"conserved"`` (conserved
        across the datasets of ``dataset_key``).
    dataset_key
        ``kind="conserved"`` only: the obs key of the datasets.
    conserved_kws
        ``kind="conserved"`` only: further options of
        :func:`sc_heatmaps.tl.conserved_markers`.
    recipe
        ``kind="top"`` only: ``"scanpy"`` or ``"seurat"`` (see
        :func:`sc_heatmaps.tl.top_markers`).

    Returns
    -------
    dict
        ``{group: [genes]}``, groups in category order, genes best first.

    Examples
    --------
    >>> import sc_heatmaps as sch
    >>> adata = sch.datasets.example()
    >>> markers = sch.get.marker_genes(adata, "cluster", n_genes=2)
    >>> len(markers) == adata.obs["cluster"].nunique()
    True
    >>> conserved = sch.get.marker_genes(
    ...     adata, "cluster", n_genes=2, kind="conserved", dataset_key="dataset"
    ... )
    >>> len(conserved["B"])
    2
    """
    from ..tl import conserved_markers, top_markers  # on first use: loads anndata

    check_choice("kind", kind, KINDS)
    names = gene_names(adata, gene_symbols, source)
    if candidates is not None:
        candidates, _ = names.to_var_names(as_name_list(candidates, "candidates"))
    common = dict(n_genes=n_genes, method=method, source=source, groups=groups)
    common.update(duplicates=duplicates, candidates=candidates)
    if kind == "conserved":
        top_only = dict(
            min_logfc=min_logfc,
            max_pval_adj=max_pval_adj,
            min_in_group_fraction=min_in_group_fraction,
            key=None if key == "rank_genes_groups" else key,
        )
        _refuse_for_conserved(top_only, dataset_key)
        _refuse_repeated(conserved_kws, [*common, "key_added", "groupby", "dataset_key"])
        kws = {**dict(conserved_kws or {}), **common, "key_added": None}
        table = conserved_markers(adata, groupby, dataset_key, **kws)
        return _as_mapping(table, "cluster", names)
    if dataset_key is not None or conserved_kws is not None:
        raise ValueError(
            "dataset_key and conserved_kws apply to kind='conserved' only; "
            f"kind={kind!r} ranks the pooled cells. Pass kind='conserved', or drop them."
        )
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
        recipe=recipe,
    )
    return _as_mapping(table, "group", names)


def _as_mapping(table, column: str, names) -> dict[Hashable, list[str]]:
    groups = table[column]
    return {
        group: names.labels(table.loc[groups == group, "gene"]) for group in groups.cat.categories
    }


def _refuse_repeated(conserved_kws: Mapping | None, own: list[str]) -> None:
    """``conserved_kws`` may not repeat an argument of :func:`marker_genes` itself (the
    argument would silently win)."""
    repeated = [k for k in (conserved_kws or {}) if k in own]
    if repeated:
        raise ValueError(
            f"conserved_kws repeats {repeated!r}, which marker_genes takes itself "
            f"({', '.join(f'{k}=' for k in repeated)}); pass them there, not in conserved_kws."
        )


def _refuse_for_conserved(top_only: Mapping, dataset_key) -> None:
    given = [name for name, value in top_only.items() if value is not None]
    if given:
        raise ValueError(
            f"{given!r} apply to kind='top' only; kind='conserved' ranks by the combined "
            "p-value of each dataset's tests (see sc_heatmaps.tl.conserved_markers)."
        )
    if dataset_key is None:
        raise ValueError(
            "kind='conserved' needs dataset_key=, the obs key of the datasets across which "
            "markers must be conserved."
        )
