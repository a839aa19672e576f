"""Readers: turn AnnData into pandas objects (they never write into ``adata``)."""

from ._colors import category_colors
from ._grouped import GroupedExpression, grouped_expression
from ._markers import marker_genes

__all__ = ["GroupedExpression", "category_colors", "grouped_expression", "marker_genes"]
