"""The options of :func:`sc_heatmaps.pl.dotplot`, written once (see :mod:`sc_heatmaps._options`).

The options shared with the grouped heatmap (genes, groups, clustering, labels, limits;
:class:`~sc_heatmaps._heatmap_options.GroupedFigureOptions`) plus what a
dot says: its size (fraction of cells expressing, through the size map of
:class:`sc_heatmaps.pl._dot_body.SizeMap`) and its colour (mean or log fold change).
Bounds are declared in each field's metadata.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ._heatmap_options import GroupedFigureOptions
from ._option_checks import option_error

LAYOUTS = ("columns", "paired", "split")


@dataclass(frozen=True)
class DotPlotOptions(GroupedFigureOptions):
    """Options of :func:`sc_heatmaps.pl.dotplot` (see its docstring): the shared ones
    (other defaults for ``n_genes``, ``scale`` and ``cmap``) and what a dot says."""

    n_genes: int = field(default=5, metadata={"ge": 1})
    scale: Literal["zscore", "minmax"] | None = None
    cmap: str | None = field(default=None, metadata={"kind": "cmap"})
    layout: Literal["columns", "paired", "split"] = "columns"
    color: Literal["mean", "logfc"] = "mean"
    reference: str | None = None
    expression_cutoff: float = 0.0
    mean_only_expressed: bool = False
    dot_min: float = field(default=0.0, metadata={"ge": 0, "lt": 1})
    dot_max: float = field(default=1.0, metadata={"gt": 0, "le": 1})
    smallest_dot: float = field(default=0.0, metadata={"ge": 0})
    largest_dot: float | None = field(default=None, metadata={"gt": 0})
    size_exponent: float = field(default=1.0, metadata={"gt": 0})
    min_cells: int = field(default=10, metadata={"ge": 0})

    def check(self) -> None:
        """The combinations the field types cannot say (ValueError naming them); each
        field's type and bounds are checked when the object is built."""
        if self.dot_min >= self.dot_max:
            raise option_error("dot_min", self.dot_min, f"smaller than dot_max = {self.dot_max!r}")
        if self.largest_dot is not None and self.largest_dot <= self.smallest_dot:
            raise option_error(
                "largest_dot",
                self.largest_dot,
                f"larger than smallest_dot = {self.smallest_dot!r} (areas in points²)",
            )
        if self.color == "logfc":
            if self.reference is None or self.dataset_key is None:
                raise ValueError(
                    "color='logfc' needs dataset_key= and reference= (the dataset each "
                    f"cluster's other datasets are compared with); got dataset_key="
                    f"{self.dataset_key!r}, reference={self.reference!r}."
                )
            if self.scale is not None:
                raise ValueError(
                    f"color='logfc' is drawn unscaled on a scale centred at 0; got "
                    f"scale={self.scale!r}: pass scale=None."
                )
        elif self.reference is not None:
            raise ValueError(
                f"reference={self.reference!r} is used only with color='logfc'; "
                f"got color={self.color!r}."
            )
        if self.layout != "columns" and (self.dataset_key is None or self.cluster_key is None):
            raise ValueError(
                f"layout={self.layout!r} pairs the datasets of each cluster: it needs "
                f"cluster_key= and dataset_key= (got {self.cluster_key!r}, {self.dataset_key!r})."
            )
        if self.layout == "split" and self.cluster_cols:
            raise ValueError(
                "layout='split' draws one dot per cluster, halved by dataset: there is no "
                "column order within a cluster to cluster; pass cluster_cols=False or "
                "layout='paired'."
            )
