"""Arranging frames: scaling, filtering and ordering (pandas in, pandas out)."""

from ._filter import Filtered, FilterSyntaxError, apply_filter, filter_matrix, parse_filter
from ._layout import Arranged, arrange, expand_blocks, row_blocks
from ._order import ClusterOrder, cluster_order, distance_order
from ._scale import SCALES, scale_rows

__all__ = [
    "SCALES",
    "Arranged",
    "ClusterOrder",
    "FilterSyntaxError",
    "Filtered",
    "apply_filter",
    "arrange",
    "cluster_order",
    "distance_order",
    "expand_blocks",
    "filter_matrix",
    "parse_filter",
    "row_blocks",
    "scale_rows",
]
