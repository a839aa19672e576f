"""Tools: compute results such as marker genes (the only layer that writes into ``adata``)."""

from ._markers import top_markers

__all__ = ["top_markers"]
