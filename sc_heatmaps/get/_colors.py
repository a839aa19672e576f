"""The colour registry: one colour per category of an obs key, the same in every figure.

A category's colour is a property of its obs key only, never of the figure or of the
role the key plays in it: ``adata.uns[f"{key}_colors"]`` when it is valid, else the
package palette (:data:`sc_heatmaps._palette.PALETTE`) in category order.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np

from .._palette import PALETTE
from .._validate import categorical_obs

_GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0


def _role_deprecated(role, where: str) -> None:
    if role is not None:
        warnings.warn(
            f"{where}: role={role!r} is deprecated and ignored; a category's colour now "
            "depends on its obs key only. Drop the role argument.",
            DeprecationWarning,
            stacklevel=3,
        )


def _overflow_colors(start: int, stop: int) -> list[str]:
    """Colours of positions ``start..stop-1`` past the end of the palette.

    Position ``i`` takes matplotlib's ``turbo`` colormap (linearly interpolated) at
    ``0.05 + 0.9 * frac((i - len(PALETTE)) * 0.618...)``: golden-ratio steps spread
    successive colours over the colormap, the clipped ends keep away from its darkest
    tones, and a position's colour does not depend on how many categories there are.
    """
    import matplotlib as mpl
    from matplotlib.colors import to_hex

    if stop <= start:
        return []
    lut = np.asarray(mpl.colormaps["turbo"].colors)
    grid = np.linspace(0.0, 1.0, len(lut))
    steps = np.arange(start, stop) - len(PALETTE)
    x = 0.05 + 0.9 * ((steps * _GOLDEN) % 1.0)
    rgb = np.stack([np.interp(x, grid, lut[:, c]) for c in range(3)], axis=1)
    return [to_hex(c) for c in rgb]


def _palette_colors(n: int) -> list[str]:
    """The first ``n`` colours: the palette, then the overflow rule past its end."""
    return list(PALETTE[:n]) + _overflow_colors(len(PALETTE), n)


def default_palette(n: int, role=None) -> list[str]:
    """The first ``n`` colours of the package palette.

    Parameters
    ----------
    n
        Number of colours.
    role
        Deprecated and ignored (it once chose a muted palette for dataset bars).

    Returns
    -------
    list of str
        ``n`` hex colours: scanpy's ``default_20`` for the first 20, then the
        glasbey extension (64 colours in all), then, past the palette, matplotlib's
        ``turbo`` colormap sampled at golden-ratio steps (distinct up to 200 colours).
    """
    _role_deprecated(role, "default_palette")
    return _palette_colors(n)


def _stored_colors(adata, key: str, n: int) -> list[str] | None:
    """``uns[f"{key}_colors"]`` as hex when it holds a valid colour for each of ``n``."""
    from matplotlib.colors import is_color_like, to_hex

    stored = adata.uns.get(f"{key}_colors")
    if stored is None or isinstance(stored, str | bytes | Mapping):
        return None
    try:
        stored = list(stored)
    except TypeError:
        return None
    if len(stored) < n or not all(is_color_like(c) for c in stored[:n]):
        return None
    return [to_hex(c) for c in stored[:n]]


def category_colors(adata, key: str, role=None) -> dict[str, str]:
    """Colour of every category of ``obs[key]`` (by category name, as hex).

    Parameters
    ----------
    adata
        The AnnData; it is read only, never written.
    key
        A categorical obs column.
    role
        Deprecated and ignored: a category's colour depends on its key only.

    Returns
    -------
    dict
        ``{category: "#rrggbb"}`` in category order. The colours are
        ``adata.uns[f"{key}_colors"]`` when it has a valid colour for every category
        (extra entries are ignored, as scanpy does), else :func:`default_palette`
        in category order; for a view of some cells, in the category order of the data
        it was taken from (a category keeps its colour whichever cells are selected).

    Examples
    --------
    >>> import sc_heatmaps as sch
    >>> colors = sch.get.category_colors(sch.datasets.example(), "dataset")
    >>> list(colors)
    ['ctrl', 'stim_IFN', 'stim_LPS']
    >>> all(c.startswith("#") and len(c) == 7 for c in colors.values())
    True
    """
    _role_deprecated(role, "category_colors")
    cat = categorical_obs(adata.obs, key, "key")
    names = [str(c) for c in cat.categories]
    stored = _stored_colors(adata, key, len(names))
    if stored is None:
        inherited = _parent_colors(adata, key, names)
        if inherited is not None:
            return inherited
    colors = stored or _palette_colors(len(names))
    return dict(zip(names, colors, strict=True))


def _parent_colors(adata, key: str, names: list[str]) -> dict[str, str] | None:
    """For a view, the colours of ``names`` in the AnnData it was taken from (anndata keeps
    it as ``_adata_ref``, never itself a view); ``None`` for an AnnData of its own."""
    parent = getattr(adata, "_adata_ref", None) if getattr(adata, "is_view", False) else None
    if parent is None or parent is adata or key not in parent.obs:
        return None
    full = category_colors(parent, key)
    if not all(n in full for n in names):
        return None
    return {n: full[n] for n in names}


def bar_colors(adata, keys: list[str], dataset_key: str | None = None) -> dict[str, dict]:
    """Colours of the annotation bars of ``keys``: :func:`category_colors` of each key.

    ``dataset_key`` is accepted for compatibility and changes nothing: a key gets the
    same colours whether or not it is the dataset key.
    """
    del dataset_key
    return {k: category_colors(adata, k) for k in keys}
