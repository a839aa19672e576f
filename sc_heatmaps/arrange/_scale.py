"""Scaling of a genes x groups frame, row by row (pandas in, pandas out)."""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import pandas as pd

from .._validate import check_choice

Scale = Literal["zscore", "minmax"] | None
SCALES = (None, "zscore", "minmax")


def scale_rows(frame: pd.DataFrame, scale: Scale) -> pd.DataFrame:
    """Scale each row (gene) across the columns (groups) shown.

    ``"zscore"`` subtracts the row mean and divides by the row standard
    deviation (ddof=0, as :func:`scipy.stats.zscore`); ``"minmax"`` maps each
    row onto [0, 1]. A row that is constant across the groups has no spread:
    it becomes 0 under both scalings rather than NaN. Missing values (NaN, e.g.
    a group without cells) stay missing and are left out of each row's mean,
    spread, minimum and maximum.

    Parameters
    ----------
    frame
        A numeric genes x groups frame; it is only read.
    scale
        ``"zscore"``, ``"minmax"`` or ``None`` (an unscaled copy).

    Returns
    -------
    pandas.DataFrame
        The scaled values, with the index and columns of ``frame``.

    Examples
    --------
    >>> import pandas as pd
    >>> import sc_heatmaps as sch
    >>> frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 2.0]}, index=["g1", "g2"])
    >>> sch.arrange.scale_rows(frame, "zscore")
          a    b
    g1 -1.0  1.0
    g2  0.0  0.0
    >>> sch.arrange.scale_rows(frame, "minmax")
          a    b
    g1  0.0  1.0
    g2  0.0  0.0
    """
    check_choice("scale", scale, SCALES)
    if scale is None:
        return frame.copy()
    values = frame.to_numpy(dtype=np.float64)
    missing = np.isnan(values)
    centre, spread = _row_centre_spread(values, scale, skip_nan=bool(missing.any()))
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = np.where(spread > 0, (values - centre) / spread, 0.0)
    scaled[missing] = np.nan
    return pd.DataFrame(scaled, index=frame.index, columns=frame.columns)


def _row_centre_spread(values: np.ndarray, scale: str, skip_nan: bool):
    """Per-row centre and spread (NaN-skipping versions only where NaN occur).

    A row whose values are all equal gets a spread of exactly 0: its floating-point
    standard deviation may be a tiny positive number (0.1 three times has std 1e-17),
    which would otherwise blow rounding noise up to z-scores of +-1.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a row with no value at all
        low, high = (np.nanmin, np.nanmax) if skip_nan else (np.min, np.max)
        lo, hi = low(values, axis=1, keepdims=True), high(values, axis=1, keepdims=True)
        if scale == "zscore":
            mean, std = (np.nanmean, np.nanstd) if skip_nan else (np.mean, np.std)
            centre, spread = mean(values, axis=1, keepdims=True), std(values, axis=1, keepdims=True)
        else:
            centre, spread = lo, hi - lo
    return centre, np.where(hi > lo, spread, 0.0)
