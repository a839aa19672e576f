"""The significance marks of a grouped heatmap's bundle (``significance=`` a table).

The grouped heatmap's columns are groups of ``dataset_key`` x ``cluster_key``; each is
matched to the (cluster, dataset) rows of a :func:`sc_heatmaps.tl.dataset_differences`
table (see :mod:`sc_heatmaps.arrange._significance`).
"""

from __future__ import annotations

import dataclasses

from ..arrange._significance import cell_marks, check_table


def check_significance(opts, keys: list[str]) -> None:
    """Refuse ``significance=`` before any work when the figure cannot carry marks."""
    table = getattr(opts, "significance", None)
    if table is None:
        return
    if isinstance(table, str):
        raise TypeError(
            f"significance={table!r} is not valid; pass the table of "
            "sch.tl.dataset_differences, e.g. significance=sch.tl.dataset_differences(adata, "
            "dataset_key, cluster_key, sample_key='sample', reference='ctrl'), or None."
        )
    check_table(table, opts.alpha)
    lacking = [
        f"{name}={key!r}"
        for name, key in (("dataset_key", opts.dataset_key), ("cluster_key", opts.cluster_key))
        if key is None or key not in keys
    ]
    if lacking:
        raise ValueError(
            f"significance= marks (cluster, dataset) columns, but {', '.join(lacking)} "
            f"{'is' if len(lacking) == 1 else 'are'} not among the columns' keys {keys!r}; "
            "pass dataset_key= and cluster_key= and group by both (groupby=None does)."
        )


def with_significance(bundle, adata, opts):
    """``bundle`` with its marks, their record in the provenance and a note on what the
    table lacks (the bundle itself when ``opts.significance`` is ``None``)."""
    table = getattr(opts, "significance", None)
    if table is None:
        return bundle
    meta = bundle.col_meta
    pairs = list(
        zip(meta[opts.cluster_key].astype(str), meta[opts.dataset_key].astype(str), strict=True)
    )
    marks = cell_marks(table, bundle.data, pairs, opts.alpha)
    return dataclasses.replace(
        bundle,
        marks=marks,
        provenance={**bundle.provenance, "significance": marks.record},
        notes=[*bundle.notes, *lacking_note(marks.record)],
    )


def lacking_note(record: dict) -> list[str]:
    """A note naming the drawn genes and columns the significance table lacks."""
    parts = []
    if record.get("genes_not_in_table"):
        parts.append(f"genes {record['genes_not_in_table']!r}")
    if record.get("columns_not_in_table"):
        parts.append(f"columns {record['columns_not_in_table']!r}")
    if not parts:
        return []
    return [
        f"The significance table has no test for the {' and the '.join(parts)}: "
        "they are drawn without marks."
    ]
