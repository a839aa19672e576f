"""sc_heatmaps: grouped heatmaps and dual-expression plots for multi-dataset AnnData.

>>> import sc_heatmaps as sch
>>> adata = sch.datasets.example()
>>> plot = sch.pl.grouped_heatmap(adata, cluster_key="cluster", dataset_key="dataset")

Submodules are imported on first use, so that importing one small part (for
instance in a dask worker) does not load the plotting stack.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sc-heatmaps")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

_SUBMODULES = ("arrange", "datasets", "export", "get", "pl", "pp", "tl")
__all__ = ["__version__", *_SUBMODULES]


def __getattr__(name: str):
    if name in _SUBMODULES:
        module = import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_SUBMODULES])
