"""Plotting: thin public functions that validate, read, arrange and draw."""

from ..export import savefig
from ._cmaps import NAMED_CMAPS
from ._grouped_heatmap import grouped_heatmap
from ._plot import HeatmapPlot, Plot

__all__ = ["NAMED_CMAPS", "HeatmapPlot", "Plot", "grouped_heatmap", "savefig"]
