"""Plotting: thin public functions that validate, read, arrange and draw.

Each function's module is imported on first use, so that a dual-expression plot
does not load the heatmap board (marsilea, seaborn) and the reverse.
"""

from importlib import import_module

_WHERE = {
    "savefig": "..export",
    "cell_heatmap": "._cell_heatmap",
    "NAMED_CMAPS": "._cmaps",
    "CorrelationPlot": "._correlation_heatmap",
    "correlation_heatmap": "._correlation_heatmap",
    "dataset_differences_heatmap": "._differences_heatmap",
    "DualExpressionPlot": "._dual_expression",
    "dual_expression": "._dual_expression",
    "DotPlot": "._dotplot",
    "dotplot": "._dotplot",
    "grouped_heatmap": "._grouped_heatmap",
    "InteractiveHTML": "._interactive",
    "interactive_heatmap": "._interactive",
    "matrix_heatmap": "._matrix_heatmap",
    "HeatmapPlot": "._plot",
    "Plot": "._plot",
}

__all__ = [
    "NAMED_CMAPS",
    "CorrelationPlot",
    "DotPlot",
    "DualExpressionPlot",
    "HeatmapPlot",
    "InteractiveHTML",
    "Plot",
    "cell_heatmap",
    "correlation_heatmap",
    "dataset_differences_heatmap",
    "dotplot",
    "dual_expression",
    "grouped_heatmap",
    "interactive_heatmap",
    "matrix_heatmap",
    "savefig",
]


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(import_module(_WHERE[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
