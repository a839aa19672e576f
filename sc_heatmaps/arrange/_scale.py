"""Scaling of a genes x groups frame, row by row (pandas in, pandas out)."""

from __future__ import annotations

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
    it becomes 0 under both scalings rather than NaN.
    """
    check_choice("scale", scale, SCALES)
    if scale is None:
        return frame.copy()
    values = frame.to_numpy(dtype=np.float64)
    if scale == "zscore":
        centre = values.mean(axis=1, keepdims=True)
        spread = values.std(axis=1, keepdims=True)
    else:
        centre = values.min(axis=1, keepdims=True)
        spread = values.max(axis=1, keepdims=True) - centre
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = np.where(spread > 0, (values - centre) / spread, 0.0)
    return pd.DataFrame(scaled, index=frame.index, columns=frame.columns)
