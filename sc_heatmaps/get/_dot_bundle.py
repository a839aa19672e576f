"""The dot plot's bundle: the grouped heatmap's bundle, with what each dot's size says.

:func:`dot_bundle` builds the grouped heatmap's bundle (genes, groups, markers,
filter, clustering, colours: all the same code) from one pass of statistics that gives
both the means and the fractions of cells expressing (above ``expression_cutoff``).
The colour is then the mean (scaled or not), or the log fold change against a reference
dataset within each cluster; ``layout="split"`` regroups the columns into one per
cluster with one layer per dataset.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd

from .._heatmap_options import GroupedHeatmapOptions
from .._labels import joined
from .._sources import layer_names, looks_like_counts, resolve_source
from ..arrange._limits import color_limits
from ..arrange._significance import marks_columns
from ._bundle import HeatmapBundle, grouped_bundle
from ._grouped import grouped_expression

NOTE_GROUPS = 6  # small groups named in the figure's note (all of them in the sidecar)
LOG2_PSEUDO = 1.0  # Seurat's pseudocount.use; scanpy's 1e-9 makes an absent gene +-30


@dataclass(frozen=True)
class DotBundle(HeatmapBundle):
    """A :class:`HeatmapBundle` whose ``data`` is each dot's colour value and whose
    ``fraction`` (aligned to ``data``) is each dot's size.

    Attributes
    ----------
    layers
        ``layout="split"``: one ``(dataset, colours, fractions)`` per half, left first,
        each a frame like ``data`` (genes x clusters); empty otherwise.
    layout
        ``"columns"``, ``"paired"`` or ``"split"``.
    small_groups
        ``{group: n cells}`` of the groups with cells but fewer than ``min_cells``.
    """

    layers: tuple = ()
    layout: str = "columns"
    small_groups: dict = field(default_factory=dict)


def dot_bundle(adata, var_names, groupby, opts, *, expression=None, find_markers=None) -> DotBundle:
    """The bundle of :func:`sc_heatmaps.pl.dotplot` (``opts``: a ``DotPlotOptions``;
    ``expression`` and ``find_markers`` as in :func:`grouped_bundle`)."""
    opts.check()
    keys = _keys(groupby, opts)
    compute = partial(
        expression or grouped_expression,
        expression_cutoff=opts.expression_cutoff,
        mean_only_expressed=opts.mean_only_expressed,
    )
    base = grouped_bundle(
        adata,
        var_names,
        keys,
        _heatmap_options(opts),
        expression=compute,
        find_markers=find_markers,
    )
    fields = {f.name: getattr(base, f.name) for f in dataclasses.fields(base)}
    if opts.color == "logfc":
        fields.update(_logfc_fields(adata, base, opts))
    small = {str(c): int(n) for c, n in base.n_cells.items() if 0 < n < opts.min_cells}
    fields["notes"] = [*base.notes, *_small_note(small, opts.min_cells)]
    fields["provenance"] = {**base.provenance, "small_groups": small}
    out = DotBundle(**fields, layout=opts.layout, small_groups=small)
    if len(out.col_meta.columns) == 2 and out.col_linkage is None:
        out = _with_empty_groups(out)
    out = _split(out, opts) if opts.layout == "split" else out
    if out.marks is None:
        return out
    return dataclasses.replace(out, provenance={**out.provenance, "significance": out.marks.record})


def _keys(groupby, opts) -> list[str] | None:
    if opts.layout == "columns":
        return groupby
    if groupby is not None:
        raise ValueError(
            f"layout={opts.layout!r} groups the columns by [cluster_key, dataset_key]; "
            f"got groupby={groupby!r}: leave groupby=None."
        )
    return [opts.cluster_key, opts.dataset_key]


def _heatmap_options(opts) -> GroupedHeatmapOptions:
    """The grouped heatmap's options for the same genes, groups and order (means)."""
    shared = set(GroupedHeatmapOptions.field_names()) & set(type(opts).field_names())
    values = {k: getattr(opts, k) for k in shared}
    values.update(stat="mean", cmap="RdBu_r")
    return GroupedHeatmapOptions(**values)


def _logfc_fields(adata, base: HeatmapBundle, opts) -> dict:
    """Colours as log2 fold changes against ``reference`` within each cluster, on a
    scale centred at 0 (symmetric unless vmin/vmax are given)."""
    _refuse_counts(adata, opts.source)
    lfc = logfc_against(base.unscaled, base.col_meta, opts.dataset_key, opts.reference)
    lfc.index = base.data.index
    values = lfc.to_numpy(dtype=np.float64)
    finite = np.abs(values[np.isfinite(values)])
    top = float(np.percentile(finite, 99)) if finite.size else 1.0
    top = top if top > 0 else 1.0
    lo = -top if opts.vmin is None else opts.vmin
    hi = top if opts.vmax is None else opts.vmax
    limits = color_limits(values, None, lo, hi, 0.0 if opts.vcenter is None else opts.vcenter)
    label = f"log2 fold change\nvs {opts.reference} ({opts.source})"
    return {"data": lfc, "limits": limits, "value_label": label}


def _refuse_counts(adata, source: str) -> None:
    """Fold changes from log1p means are wrong on raw counts (a mean count of 40 would
    read as e^40): refused, where the markers' tests only warn as scanpy does, because
    the figure would print the wrong numbers on its colour bar."""
    expr = resolve_source(adata, source)
    if looks_like_counts(expr.X):
        choices = ", ".join(repr(k) for k in layer_names(adata)) or "none"
        raise ValueError(
            f"color='logfc' needs log-normalised values, but source={source!r} "
            f"({expr.where}) looks like raw counts (non-negative integers). Choose a "
            f"log-normalised source (layers: {choices}), or normalise and log-transform "
            "first (sc.pp.normalize_total, then sc.pp.log1p); color='mean' draws counts."
        )


def logfc_against(means: pd.DataFrame, col_meta: pd.DataFrame, dataset_key: str, reference):
    """Log2 fold change of each column's means over the ``reference`` dataset's column
    with the same other keys (the same cluster), from log1p means ``a`` and ``b``:
    ``log2(expm1(a) + 1) - log2(expm1(b) + 1)``, i.e. ``(a - b) / ln 2`` (scanpy's
    ``rank_genes_groups`` formula with Seurat's pseudocount of 1 instead of 1e-9, which
    turns a gene absent from one group into a fold change of about 30).
    NaN where the cluster has no reference column (or no cells)."""
    datasets = col_meta[dataset_key].astype(str)
    if str(reference) not in set(datasets):
        raise KeyError(
            f"reference={reference!r} is not a dataset shown; the datasets of "
            f"{dataset_key!r} are {sorted(set(datasets))!r}."
        )
    others = [k for k in col_meta.columns if k != dataset_key]
    key = col_meta[others].astype(str).agg(" / ".join, axis=1) if others else datasets * 0
    ref_cols = {
        k: c for c, k, d in zip(col_meta.index, key, datasets, strict=True) if d == str(reference)
    }
    linear = np.log2(np.expm1(means.to_numpy(dtype=np.float64)) + LOG2_PSEUDO)
    out = np.full_like(linear, np.nan)
    position = {c: i for i, c in enumerate(means.columns)}
    for j, c in enumerate(means.columns):
        ref = ref_cols.get(key[c])
        if ref is not None:
            out[:, j] = linear[:, j] - linear[:, position[ref]]
    return pd.DataFrame(out, index=means.index, columns=means.columns)


def _small_note(small: dict, min_cells: int) -> list[str]:
    if not small:
        return []
    items = [f"{g} ({n})" for g, n in small.items()]
    more = (
        f" and {len(items) - NOTE_GROUPS} more (in the sidecar)" if len(items) > NOTE_GROUPS else ""
    )
    listed = ", ".join(items[:NOTE_GROUPS]) + more
    return [f"Fewer than {min_cells} cells, fractions are coarse: {listed}."]


def _split(bundle: DotBundle, opts) -> DotBundle:
    """One column per cluster, with one layer (half dot) per dataset, left first."""
    meta = bundle.col_meta
    datasets = list(dict.fromkeys(meta[opts.dataset_key].astype(str)))
    if len(datasets) != 2:
        raise ValueError(
            f"layout='split' draws one half dot per dataset, so it takes exactly 2 "
            f"datasets of {opts.dataset_key!r}; got {len(datasets)}: {datasets!r}. "
            "Use layout='paired' (the datasets of a cluster side by side)."
        )
    clusters = list(dict.fromkeys(meta[opts.cluster_key].astype(str)))
    layers = []
    for d in datasets:
        layers.append(
            (
                d,
                _half(bundle.data, meta, opts, d, clusters),
                _half(bundle.fraction, meta, opts, d, clusters),
            )
        )
    n_cells = bundle.n_cells.groupby(meta[opts.cluster_key].astype(str)).sum()
    col_meta = pd.DataFrame({opts.cluster_key: clusters}, index=pd.Index(clusters))
    missing = [
        f"{c} / {d}" for d, colours, _ in layers for c in clusters if colours[c].isna().all()
    ]
    notes = list(bundle.notes)
    if missing:
        notes.append(f"No cells (hatched half): {', '.join(missing)}.")
    return dataclasses.replace(
        bundle,
        marks=_split_marks(bundle, opts, datasets, clusters),
        data=layers[0][1],
        unscaled=_half(bundle.unscaled, meta, opts, datasets[0], clusters),
        fraction=layers[0][2],
        col_meta=col_meta,
        colors={opts.cluster_key: bundle.colors[opts.cluster_key]}
        | {opts.dataset_key: bundle.colors[opts.dataset_key]},
        col_split=None,
        col_linkage=None,
        n_cells=n_cells.reindex(clusters),
        empty_columns=[],
        layers=tuple(layers),
        notes=notes,
    )


def _split_marks(bundle: DotBundle, opts, datasets: list, clusters: list):
    """The marks of a split dot plot: a cluster's dot is marked when its non-reference
    half differs significantly from its reference half (so the test's reference must
    be one of the two datasets)."""
    marks = bundle.marks
    if marks is None:
        return None
    reference = marks.record["reference"]
    if reference not in datasets:
        raise ValueError(
            f"significance= on layout='split' marks a cluster's dot when one half differs "
            f"from the other, so the test's reference ({reference!r}) must be one of the "
            f"two datasets shown ({datasets!r}); use layout='paired' to mark each "
            "dataset's dot against the reference."
        )
    other = next(d for d in datasets if d != reference)
    meta = bundle.col_meta
    cols = meta.index[meta[opts.dataset_key].astype(str) == other]
    named = marks_columns(marks, cols, meta.loc[cols, opts.cluster_key].astype(str))
    out = marks_columns(named, clusters)
    return dataclasses.replace(out, record={**out.record, "marked_half": other})


def _half(frame: pd.DataFrame, meta: pd.DataFrame, opts, dataset: str, clusters: list):
    """The columns of ``dataset``, named by their cluster, one per cluster (NaN: none)."""
    cols = meta.index[meta[opts.dataset_key].astype(str) == dataset]
    names = dict(zip(cols, meta.loc[cols, opts.cluster_key].astype(str), strict=True))
    return frame[cols].rename(columns=names).reindex(columns=clusters)


def _with_empty_groups(bundle: DotBundle) -> DotBundle:
    """Every (outer, inner) combination of the two column keys, in their order: a
    combination without cells becomes an empty column (drawn hatched, "no cells")
    instead of leaving a block one column short. (Not with clustered columns, whose
    linkages cover the columns that have cells.)"""
    meta = bundle.col_meta
    outer, inner = meta.columns
    inner_order = [c for c in meta[inner].cat.categories if c in set(meta[inner])]
    where = {(o, i): c for c, o, i in zip(meta.index, meta[outer], meta[inner], strict=True)}
    rows = []
    for o in dict.fromkeys(meta[outer]):
        for i in inner_order:
            rows.append((where.get((o, i), joined([o, i])), o, i))
    if len(rows) == len(meta):
        return bundle
    columns = pd.Index([r[0] for r in rows], name=meta.index.name)
    new_meta = pd.DataFrame(
        {
            outer: pd.Categorical([r[1] for r in rows], categories=meta[outer].cat.categories),
            inner: pd.Categorical([r[2] for r in rows], categories=meta[inner].cat.categories),
        },
        index=columns,
    )
    empty = [c for c in columns if c not in set(meta.index)]
    return dataclasses.replace(
        bundle,
        data=bundle.data.reindex(columns=columns),
        unscaled=bundle.unscaled.reindex(columns=columns),
        fraction=bundle.fraction.reindex(columns=columns),
        col_meta=new_meta,
        n_cells=bundle.n_cells.reindex(columns, fill_value=0),
        empty_columns=[*bundle.empty_columns, *empty],
        marks=None if bundle.marks is None else marks_columns(bundle.marks, columns),
    )
