"""The options of each heatmap, written once (see :mod:`sc_heatmaps._options`).

The public functions take these as keyword arguments; the command line's ``--kwargs``
and the JSON sidecar derive from the same fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from ._options import Options

Labels = Literal["auto", "all", "x", "y", "none"]
SEED = {"ge": 0, "le": 2**32 - 1}  # numpy's seeds
JITTER_MAX = 1e6  # in data units; beyond this the random offsets overflow


@dataclass(frozen=True)
class GroupedFigureOptions(Options):
    """The options every figure of genes x groups shares (the grouped heatmap, the dot
    plot, any kind of :mod:`sc_heatmaps._kinds`): which genes and groups, their order,
    labels, colour limits and significance marks. A kind's options class derives from it,
    overriding a default where the kind differs and adding its own fields."""

    cluster_key: str | None = None
    dataset_key: str | None = None
    n_genes: int = field(default=10, metadata={"ge": 1})
    markers: Literal["top", "conserved"] = "top"
    source: str = "RNA"
    clusters: str | Sequence[str] | None = None
    scale: Literal["zscore", "minmax"] | None = "zscore"
    cluster_rows: bool = False
    cluster_cols: bool = False
    cmap: str = field(default="RdBu_r", metadata={"kind": "cmap"})
    labels: Labels = "auto"
    vmin: float | None = None
    vmax: float | None = None
    vcenter: float | None = None
    figsize: tuple[float, float] | None = field(default=None, metadata={"kind": "figsize"})
    title: str | None = None
    missing: Literal["raise", "drop"] = "raise"
    markers_kws: dict | None = None
    filter: str | None = None
    gene_symbols: str | None = None
    # a table of sch.tl.dataset_differences (the CLI cannot set it); the sidecar records
    # its test (method, unit, reference, alpha; the bundle's provenance) in its place
    significance: object = None
    alpha: float = field(default=0.05, metadata={"gt": 0, "lt": 1})


@dataclass(frozen=True)
class GroupedHeatmapOptions(GroupedFigureOptions):
    """Options of :func:`sc_heatmaps.pl.grouped_heatmap` (see its docstring): the shared
    ones and the statistic drawn."""

    stat: Literal["mean", "median", "fraction"] = "mean"


@dataclass(frozen=True)
class CellHeatmapOptions(Options):
    """Options of :func:`sc_heatmaps.pl.cell_heatmap` (see its docstring)."""

    cluster_key: str | None = None
    dataset_key: str | None = None
    n_genes: int = field(default=5, metadata={"ge": 1})
    markers: Literal["top", "conserved"] = "top"
    source: str = "RNA"
    clusters: str | Sequence[str] | None = None
    max_cells_per_group: int | Literal["auto"] | None = field(default="auto", metadata={"ge": 1})
    reduce: Literal["bins", "sample"] = "bins"
    cluster_cells: bool = False
    scale: Literal["zscore", "minmax"] | None = None
    cmap: str = field(default="viridis", metadata={"kind": "cmap"})
    labels: Literal["y", "none"] = "y"
    vmin: float | None = None
    vmax: float | None = None
    vcenter: float | None = None
    width: float | None = field(default=None, metadata={"gt": 0})
    figsize: tuple[float, float] | None = field(default=None, metadata={"kind": "figsize"})
    title: str | None = None
    random_state: int = field(default=0, metadata=SEED)
    gene_symbols: str | None = None


@dataclass(frozen=True)
class MatrixHeatmapOptions(Options):
    """Options of :func:`sc_heatmaps.pl.matrix_heatmap` (see its docstring)."""

    scale: Literal["zscore", "minmax"] | None = None
    filter: str | None = None
    cluster_rows: bool = False
    cluster_cols: bool = False
    cmap: str = field(default="viridis", metadata={"kind": "cmap"})
    labels: Labels = "all"
    vmin: float | None = None
    vmax: float | None = None
    vcenter: float | None = None
    figsize: tuple[float, float] | None = field(default=None, metadata={"kind": "figsize"})
    title: str | None = None
    value_name: str = "value"


@dataclass(frozen=True)
class CorrelationHeatmapOptions(Options):
    """Options of :func:`sc_heatmaps.pl.correlation_heatmap` (see its docstring)."""

    rows: str | Sequence[str] = "genes"
    cols: str | Sequence[str] = "genes"
    genes: Sequence[str] | None = None
    obs_keys: Sequence[str] | None = None
    method: Literal["pearson", "spearman"] = "pearson"
    min_nonzero: int = field(default=10, metadata={"ge": 0})
    groupby: str | None = None
    level: Literal["cells", "pseudobulk"] = "cells"
    source: str = "RNA"
    clusters: str | Sequence[str] | None = None
    cluster_key: str | None = None
    cluster: bool = True
    labels: Literal["all", "x", "y", "none"] = "all"
    cmap: str = field(default="RdBu_r", metadata={"kind": "cmap"})
    vmin: float = -1.0
    vmax: float = 1.0
    title: str | None = None
    figsize: tuple[float, float] | None = field(default=None, metadata={"kind": "figsize"})
    gene_symbols: str | None = None


@dataclass(frozen=True)
class DualExpressionOptions(Options):
    """Options of :func:`sc_heatmaps.pl.dual_expression` (see its docstring)."""

    color: str | None = "dataset"
    source: str = "RNA"
    clusters: str | Sequence[str] | None = None
    cluster_key: str | None = None
    split_by: str | None = None
    method: Literal["pearson", "spearman"] = "pearson"
    exclude_double_zero: bool = False
    threshold: float = 0.0
    shuffle: bool = True
    random_state: int = field(default=0, metadata=SEED)
    size: float | None = field(default=None, metadata={"gt": 0})
    alpha: float | None = field(default=None, metadata={"gt": 0, "le": 1})
    jitter: float = field(default=0.0, metadata={"ge": 0, "le": JITTER_MAX})
    palette: Mapping[str, str] | Sequence[str] | None = field(
        default=None, metadata={"kind": "color"}
    )
    max_points: int | None = field(default=None, metadata={"ge": 1})
    density_threshold: int = field(default=200_000, metadata={"ge": 1})
    dataset_key: str | None = None
    ax: object | None = field(default=None, metadata={"record": False, "kind": "axes"})
    figsize: tuple[float, float] | None = field(default=None, metadata={"kind": "figsize"})
    title: str | None = None
    show_fractions: bool = True
    gene_symbols: str | None = None
