"""Colour schemes for expression heatmaps, by name."""

from __future__ import annotations

import matplotlib as mpl
from matplotlib.colors import Colormap, LinearSegmentedColormap

from .._cmap_names import NAMED_CMAPS
from .._validate import format_choices


def resolve_cmap(cmap: str | Colormap) -> Colormap:
    """A colormap from one of our named schemes, a matplotlib name, or a Colormap.

    ``"blue_white_red"`` runs blue (low) - white - red (high);
    ``"red_black_green"`` is the classic microarray scheme, green (low) -
    black - red (high). Any matplotlib colormap name also works.
    """
    if isinstance(cmap, Colormap):
        return cmap
    if isinstance(cmap, str) and cmap in NAMED_CMAPS:
        return LinearSegmentedColormap.from_list(cmap, NAMED_CMAPS[cmap])
    if isinstance(cmap, str) and cmap in mpl.colormaps:
        return mpl.colormaps[cmap]
    raise ValueError(
        f"cmap={cmap!r} is not a known colour scheme; use one of "
        f"{format_choices(NAMED_CMAPS)} or a matplotlib colormap name such as "
        "'RdBu_r', 'viridis' or 'magma'."
    )
