"""Colour limits and the words that say how rows were scaled (pandas/numpy only).

The default colour limits are robust, so that one extreme group does not wash out the
rest of the heatmap:

- z-scores: symmetric around 0 at +-``Z_LIMIT`` (2.5), or at the largest absolute
  z-score when that is smaller; values beyond are drawn in the end colours and the
  colour bar shows an arrow at that end;
- min-max scaled rows: 0 to 1;
- unscaled values: the smallest value to the 99th percentile (``UPPER_PERCENTILE``),
  or to the largest value when that percentile equals the smallest.

``vmin``, ``vmax`` and ``vcenter`` given by the user always win.
"""

from __future__ import annotations

import numpy as np

from .._validate import check_number

Z_LIMIT = 2.5
UPPER_PERCENTILE = 99.0


def color_limits(values: np.ndarray, scale, vmin=None, vmax=None, vcenter=None) -> tuple:
    """``(vmin, vmax, vcenter)`` for ``values`` drawn with row scaling ``scale``."""
    for name, value in (("vmin", vmin), ("vmax", vmax), ("vcenter", vcenter)):
        check_number(name, value, allow_none=True)
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    lo, hi, centre = _robust(finite, scale)
    lo = lo if vmin is None else vmin  # the user's values as given (checked by the board)
    hi = hi if vmax is None else vmax
    if vcenter is not None:
        centre = vcenter
    elif scale != "zscore" or vmin is not None or vmax is not None:
        centre = None
    if lo is not None and hi is not None and not lo < hi:  # a constant matrix
        lo, hi = (lo - 1.0, hi + 1.0) if vmin is None and vmax is None else (lo, hi)
    return lo, hi, centre


def _robust(finite: np.ndarray, scale) -> tuple:
    if scale == "zscore":
        top = float(np.max(np.abs(finite))) if finite.size else 1.0
        lim = min(Z_LIMIT, top) if top > 0 else 1.0
        return -lim, lim, 0.0
    if scale == "minmax":
        return 0.0, 1.0, None
    if not finite.size:
        return None, None, None
    lo = float(finite.min())
    hi = float(np.percentile(finite, UPPER_PERCENTILE))
    return lo, (hi if hi > lo else float(finite.max())), None


def scaled_label(
    label: str, scale: str | None, n_columns: int | None = None, columns: str = "groups"
) -> str:
    """Colour-bar title: what is drawn, and how rows were scaled (one wording everywhere).

    A z-score across fewer than 3 columns says so (see :func:`zscore_note`).
    """
    if zscore_note(scale, n_columns, columns) is not None:
        if n_columns == 2:
            return f"{label}\n(z-score across 2 {columns}:\n+1 higher, \N{MINUS SIGN}1 lower)"
        return f"{label}\n(z-score across 1 {columns[:-1]}:\nalways 0)"
    return label + {None: "", "zscore": "\n(z-score)", "minmax": "\n(min-max)"}[scale]


def zscore_note(scale: str | None, n_columns: int | None, columns: str = "groups") -> str | None:
    """Why a row z-score across fewer than 3 columns shows no more than a direction
    (for the JSON sidecar), or ``None`` when it is a real z-score.

    Across 2 values a z-score is always +1 and -1 (0 when they are equal), whatever
    their difference; across 1 value it is 0.
    """
    if scale != "zscore" or n_columns is None or n_columns >= 3:
        return None
    if n_columns == 2:
        return (
            f"z-scores across 2 {columns} are always +1 (higher) and -1 (lower), or 0 when "
            "equal: the colours show only which is higher, not by how much."
        )
    return f"a z-score across 1 {columns[:-1]} is always 0: the colours show nothing."
