"""Tools: compute results such as marker genes (the only layer that writes into ``adata``).

Layers: data flows one way, AnnData -> select -> aggregate -> arrange -> draw. ``tl``
computes and never imports ``get`` or ``pl``; ``get`` (the readers that prepare what a
figure shows) may call ``tl``, as ``get.marker_genes`` calls ``tl.top_markers``. The
kernels both need (group statistics, gene names, sources) live in private modules
below both: ``sc_heatmaps._aggregate``, ``_genes``, ``_sources``, ``_groups``.
``tests/test_layers.py`` checks this.
"""

from ._conserved import conserved_markers
from ._differences import dataset_differences
from ._markers import top_markers

__all__ = ["conserved_markers", "dataset_differences", "top_markers"]
