"""What the app knows about its data: the AnnData, its keys and genes, and the caches.

One :class:`AppState` per server, shared by its sessions. The file on disk is opened
read-only and never written; figures are drawn by the public API only
(:mod:`sc_heatmaps.app._calls`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

# a file at least this big is opened backed="r" (read on demand, not loaded)
BACKED_BYTES = 1_000_000_000
SYMBOL_COLUMNS = ("gene_symbols", "gene_symbol", "symbol", "gene_name", "feature_name")
CLUSTER_HINTS = ("cluster", "clusters", "leiden", "louvain", "cluster_id", "cell_type")
DATASET_HINTS = ("dataset", "sample", "batch", "group_id", "condition", "sample_id")


def _close(plot) -> None:
    import matplotlib.pyplot as plt

    plt.close(plot.figure)


class LRU:
    """A small thread-safe least-recently-used cache: ``get(key, make)``."""

    def __init__(self, size: int, on_evict=None) -> None:
        self.size = size
        self.on_evict = on_evict
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key, make):
        """The cached value for ``key``, made by ``make()`` on a miss."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
        value = make()
        with self._lock:
            self.misses += 1
            self._items[key] = value
            evicted = []
            while len(self._items) > self.size:
                evicted.append(self._items.popitem(last=False)[1])
        for old in evicted:
            if self.on_evict is not None:
                self.on_evict(old)
        return value


@dataclass
class AppState:
    """The data an app serves, with what its controls offer.

    Attributes
    ----------
    adata
        The AnnData (backed read-only for big single files; never modified).
    inputs
        The files read.
    cluster_key, dataset_key
        The default obs keys of clusters and datasets (``None`` when absent).
    gene_symbols
        The var column whose symbols name the genes, or ``None``.
    markers, stats, plots, images
        Caches of marker genes, group statistics, drawn figures and their PNG for the
        page, keyed by everything that shapes them (an evicted figure is closed).
    """

    adata: object
    inputs: list[Path]
    cluster_key: str | None = None
    dataset_key: str | None = None
    gene_symbols: str | None = None
    markers: LRU = field(default_factory=lambda: LRU(16))
    stats: LRU = field(default_factory=lambda: LRU(16))
    plots: LRU = field(default_factory=lambda: LRU(8, on_evict=_close))
    images: LRU = field(default_factory=lambda: LRU(32))

    def categorical_keys(self) -> list[str]:
        """Obs keys with categories (what columns and colours can be grouped by)."""
        obs = self.adata.obs
        return [
            str(k)
            for k in obs.columns
            if isinstance(obs[k].dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(obs[k])
        ]

    def categories(self, key: str | None) -> list[str]:
        """The categories of ``key`` as text, in their order."""
        if key is None or key not in self.adata.obs:
            return []
        column = self.adata.obs[key]
        if isinstance(column.dtype, pd.CategoricalDtype):
            return [str(c) for c in column.cat.categories]
        return sorted(map(str, column.unique()))

    def sample_keys(self, dataset_key: str | None) -> list[str]:
        """Sample-like obs keys: categorical, with more categories than ``dataset_key``,
        each of them (with cells) in one dataset only (replicates nested in datasets)."""
        obs = self.adata.obs
        if dataset_key is None or dataset_key not in obs:
            return []
        n_datasets = obs[dataset_key].nunique()
        out = []
        for key in self.categorical_keys():
            if key == dataset_key or obs[key].nunique() <= n_datasets:
                continue
            pairs = obs[[key, dataset_key]].dropna().drop_duplicates()
            if not pairs[key].duplicated().any():
                out.append(key)
        return out

    def sources(self) -> list[str]:
        """``"RNA"``, then ``"integrated"`` and the other layers present."""
        layers = [str(k) for k in self.adata.layers if k is not None]
        first = ["integrated"] if "integrated" in layers else []
        return ["RNA", *first, *[k for k in layers if k != "integrated"]]

    def genes(self) -> list[str]:
        """Every gene of ``"RNA"``, by symbol when a symbol column is used."""
        var = self.adata.raw.var if self.adata.raw is not None else self.adata.var
        if self.gene_symbols is not None and self.gene_symbols in var:
            symbols = var[self.gene_symbols].astype(object)
            names = symbols.where(symbols.notna() & (symbols.astype(str) != ""), var.index)
            return list(dict.fromkeys(map(str, names)))
        return [str(g) for g in var.index]


def _first(keys: list[str], hints: tuple[str, ...]) -> str | None:
    lowered = {k.lower(): k for k in keys}
    return next((lowered[h] for h in hints if h in lowered), None)


def _symbol_column(adata) -> str | None:
    var = adata.raw.var if adata.raw is not None else adata.var
    return next((c for c in SYMBOL_COLUMNS if c in var.columns), None)


def read_inputs(paths: list[Path], dataset_names: list[str] | None, dataset_key: str):
    """Read one file (backed when big) or several (concatenated, labelled by dataset)."""
    import anndata as ad

    for path in paths:
        if not Path(path).is_file():
            raise FileNotFoundError(f"input file {str(path)!r} does not exist")
    if len(paths) == 1:
        big = Path(paths[0]).stat().st_size >= BACKED_BYTES
        return ad.read_h5ad(paths[0], backed="r" if big else None)
    names = dataset_names or [Path(p).stem for p in paths]
    if len(names) != len(paths) or len(set(names)) != len(names):
        raise ValueError(
            f"--dataset-names needs one distinct name per input ({len(paths)}), got {names}"
        )
    parts = [ad.read_h5ad(p) for p in paths]
    return ad.concat(dict(zip(names, parts, strict=True)), label=dataset_key, join="inner")


def load_state(
    paths: list[Path],
    *,
    dataset_names: list[str] | None = None,
    cluster_key: str | None = None,
    dataset_key: str | None = None,
    gene_symbols: str | None = None,
) -> AppState:
    """Read the inputs and find the default keys and the symbol column.

    Parameters
    ----------
    paths
        One or several ``.h5ad`` files.
    dataset_names
        Names of the datasets when several files are given (default: the file stems).
    cluster_key, dataset_key
        Obs keys of clusters and datasets (default: guessed from common names).
    gene_symbols
        A var column of gene symbols (default: a column named like one, if present).

    Returns
    -------
    AppState
        The data and what the controls offer.
    """
    paths = [Path(p) for p in paths]
    adata = read_inputs(paths, dataset_names, dataset_key or "dataset")
    if len(paths) > 1:
        dataset_key = dataset_key or "dataset"
    state = AppState(adata=adata, inputs=paths, gene_symbols=gene_symbols or _symbol_column(adata))
    keys = state.categorical_keys()
    for name, given, hints in (
        ("cluster_key", cluster_key, CLUSTER_HINTS),
        ("dataset_key", dataset_key, DATASET_HINTS),
    ):
        if given is not None and given not in adata.obs:
            raise KeyError(f"{name} {given!r} is not an obs column; obs columns are {keys}")
        setattr(state, name, given or _first(keys, hints))
    return state
