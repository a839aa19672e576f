"""Category colours: ``adata.uns[f"{key}_colors"]`` when valid, else a stable palette."""

from __future__ import annotations

from typing import Literal

import numpy as np
from matplotlib.colors import is_color_like, to_hex

from .._validate import categorical_obs

# A second, muted palette for dataset bars, so that dataset and cluster bars
# side by side never share colours with scanpy's saturated cluster palette.
_DATASET_PALETTE = [
    "#404040",
    "#c7a500",
    "#5e81ac",
    "#a3be8c",
    "#b48ead",
    "#d08770",
    "#88c0d0",
    "#bf616a",
]


def default_palette(n: int, role: Literal["cluster", "dataset"] = "cluster") -> list[str]:
    """The palette scanpy would pick for ``n`` categories (or the dataset palette)."""
    from scanpy.plotting import palettes

    if role == "dataset" and n <= len(_DATASET_PALETTE):
        return list(_DATASET_PALETTE[:n])
    if n <= 20:
        pal = palettes.default_20
    elif n <= 28:
        pal = palettes.default_28
    elif n <= len(palettes.default_102):
        pal = palettes.default_102
    else:
        import matplotlib as mpl

        cmap = mpl.colormaps["turbo"]
        return [to_hex(cmap(x)) for x in np.linspace(0, 1, n)]
    return [to_hex(c) for c in pal[:n]]


def bar_colors(adata, keys: list[str], dataset_key: str | None) -> dict[str, dict[str, str]]:
    """Colours of the annotation bars of ``keys`` (one bar per key).

    The dataset bar takes the muted dataset palette, so that it never repeats the
    colours of the cluster bar beside it. Without ``dataset_key``, the outermost
    of several keys (the one the columns are split by) plays that role.
    """
    if dataset_key is None and len(keys) > 1:
        dataset_key = keys[0]
    return {
        k: category_colors(adata, k, "dataset" if k == dataset_key else "cluster") for k in keys
    }


def category_colors(
    adata, key: str, role: Literal["cluster", "dataset"] = "cluster"
) -> dict[str, str]:
    """Colour of every category of ``obs[key]`` (by category name, as hex).

    Reads ``adata.uns[f"{key}_colors"]`` when it has one valid colour per
    category; never writes into ``adata``.
    """
    cat = categorical_obs(adata.obs, key, "key")
    names = [str(c) for c in cat.categories]
    stored = adata.uns.get(f"{key}_colors")
    if stored is not None and len(stored) >= len(names) and all(is_color_like(c) for c in stored):
        colors = [to_hex(c) for c in list(stored)[: len(names)]]
    else:
        colors = default_palette(len(names), role)
    return dict(zip(names, colors, strict=True))
