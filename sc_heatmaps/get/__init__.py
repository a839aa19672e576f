"""Readers: turn AnnData into pandas objects (they never write into ``adata``).

``get`` sits above ``tl``: it may call the tools (``marker_genes`` reads markers from
``tl.top_markers``), and ``tl`` never imports ``get``; both aggregate through the
private ``sc_heatmaps._aggregate``. ``pl`` draws what ``get`` prepares.
"""

from ._cells import obs_summary, select_cells
from ._colors import category_colors
from ._correlation import CorrelationResult, correlation
from ._dual import DualExpression, dual_expression
from ._grouped import GroupedExpression, grouped_expression
from ._markers import marker_genes

__all__ = [
    "CorrelationResult",
    "DualExpression",
    "GroupedExpression",
    "category_colors",
    "correlation",
    "dual_expression",
    "grouped_expression",
    "marker_genes",
    "obs_summary",
    "select_cells",
]
