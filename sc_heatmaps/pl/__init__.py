"""Plotting: thin public functions that validate, read, arrange and draw."""

from ..export import savefig
from ._cell_heatmap import cell_heatmap
from ._cmaps import NAMED_CMAPS
from ._correlation_heatmap import CorrelationPlot, correlation_heatmap
from ._differences_heatmap import dataset_differences_heatmap
from ._dual_expression import DualExpressionPlot, dual_expression
from ._grouped_heatmap import grouped_heatmap
from ._interactive import InteractiveHTML, interactive_heatmap
from ._matrix_heatmap import matrix_heatmap
from ._plot import HeatmapPlot, Plot

__all__ = [
    "NAMED_CMAPS",
    "CorrelationPlot",
    "DualExpressionPlot",
    "HeatmapPlot",
    "InteractiveHTML",
    "Plot",
    "cell_heatmap",
    "correlation_heatmap",
    "dataset_differences_heatmap",
    "dual_expression",
    "grouped_heatmap",
    "interactive_heatmap",
    "matrix_heatmap",
    "savefig",
]
