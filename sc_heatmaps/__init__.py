"""sc_heatmaps: grouped heatmaps and dual-expression plots for multi-dataset AnnData.

>>> import sc_heatmaps as sch
>>> adata = sch.datasets.example()
>>> plot = sch.pl.grouped_heatmap(adata, cluster_key="cluster", dataset_key="dataset")
"""

from importlib.metadata import PackageNotFoundError, version

from . import datasets, export, get, pl, pp, tl

try:
    __version__ = version("sc-heatmaps")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = ["__version__", "datasets", "export", "get", "pl", "pp", "tl"]
