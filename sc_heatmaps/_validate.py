"""Shared input validation: one place for the checks and messages every layer uses.

Every check raises ``KeyError`` or ``ValueError`` naming the bad value and what
would be valid, so users never see a bare pandas or matplotlib traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from pandas.api.types import (
    is_bool_dtype,
    is_float_dtype,
    is_integer_dtype,
    is_object_dtype,
    is_string_dtype,
)

from ._labels import text
from ._plural import counted

MAX_LISTED = 12
MAX_CATEGORIES = 200


class ScHeatmapsKeyError(KeyError):
    """A key (gene, obs column, layer, category) that does not exist.

    ``KeyError`` normally repr-quotes its message; this subclass prints it as is.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def format_choices(choices: Iterable[object], limit: int = MAX_LISTED) -> str:
    """Return a short, readable list of valid choices."""
    items = [repr(str(c)) for c in choices]
    if not items:
        return "(none)"
    if len(items) > limit:
        return ", ".join(items[:limit]) + f", ... ({len(items)} in all)"
    return ", ".join(items)


def check_choice(name: str, value: object, choices: Sequence[object]) -> None:
    """Raise ``ValueError`` when ``value`` is not one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not valid; choose one of {format_choices(choices)}.")


def suggest(name: str, candidates: Sequence[str], n: int = 5) -> list[str]:
    """Close matches for a misspelt name, including suffixed names such as
    ``CD79A_ENSG00000105369`` for ``CD79A``."""
    upper = name.upper()
    same = [c for c in candidates if c.upper() == upper and c != name]
    prefixed = [c for c in candidates if c.upper().startswith(upper) and c.upper() != upper]
    prefixed.sort(key=len)
    close = difflib.get_close_matches(name, list(candidates), n=n, cutoff=0.75)
    seen: dict[str, None] = {}
    for c in [*same, *prefixed, *close]:
        seen.setdefault(c, None)
    return list(seen)[:n]


def missing_names_message(kind: str, missing: Sequence[str], candidates: Sequence[str]) -> str:
    """Message for names that are not found, with close-match suggestions."""
    parts = []
    for name in missing[:MAX_LISTED]:
        hints = suggest(str(name), candidates)
        hint = f" (did you mean {format_choices(hints)}?)" if hints else ""
        parts.append(f"{name!r}{hint}")
    more = f", ... ({len(missing)} in all)" if len(missing) > MAX_LISTED else ""
    return f"{kind} not found: " + "; ".join(parts) + more


def as_name_list(values: str | Iterable[object] | None, what: str) -> list[str] | None:
    """Turn ``"a,b, c"`` or a list into a list of strings (``None`` stays ``None``).

    The names of the comma-separated form are stripped of spaces; the items of a
    list are taken as they are (a category may be named ``"B cells "``). Blank
    names are left out.
    """
    if values is None:
        return None
    if isinstance(values, str):
        out = [v.strip() for v in values.split(",")]
    else:
        out = [str(v) for v in values]
    out = [v for v in out if v.strip()]
    if not out:
        raise ValueError(f"{what} is empty; give at least one name.")
    return out


def check_obs_key(obs: pd.DataFrame, key: object, what: str = "obs key") -> str:
    """Check that ``key`` is an obs column."""
    if not isinstance(key, str) or key not in obs.columns:
        hints = suggest(str(key), [str(c) for c in obs.columns])
        hint = f" Did you mean {format_choices(hints)}?" if hints else ""
        raise ScHeatmapsKeyError(
            f"{what} {key!r} is not a column of adata.obs; valid keys are "
            f"{format_choices(obs.columns)}.{hint}"
        )
    return key


def obs_in_memory(obs, keys: Iterable[object]) -> pd.DataFrame:
    """``obs`` as a pandas frame. anndata's lazy obs (``anndata.experimental.read_lazy``
    hands out an xarray-backed ``Dataset2D``, whose ``len`` is its number of columns)
    has only its columns among ``keys`` read into memory; missing keys are left for the
    caller's check to name."""
    if isinstance(obs, pd.DataFrame):
        return obs
    columns = {str(c) for c in obs.columns}
    wanted = [k for k in dict.fromkeys(keys) if isinstance(k, str) and k in columns]
    return obs[wanted].to_memory()


def categorical_obs(
    obs: pd.DataFrame, key: str, what: str = "groupby", max_categories: int | None = MAX_CATEGORIES
) -> pd.Categorical:
    """Return obs[key] as a categorical, refusing continuous columns.

    Categorical columns keep their category order. String, integer and boolean
    columns become categorical in sorted order. Float columns are refused
    because a continuous value makes one group per cell.
    """
    check_obs_key(obs, key, what)
    col = obs_in_memory(obs, [key])[key]
    if isinstance(col.dtype, pd.CategoricalDtype):
        cat = pd.Categorical(col)
    elif is_float_dtype(col.dtype):
        raise ValueError(
            f"{what} {key!r} is a continuous (float) column with {col.nunique()} distinct values; "
            "it needs a categorical column such as a cluster or dataset label. "
            f"Convert it first, e.g. adata.obs[{key!r}].astype('category')."
        )
    elif (
        is_integer_dtype(col.dtype)
        or is_bool_dtype(col.dtype)
        or is_string_dtype(col.dtype)
        or is_object_dtype(col.dtype)
    ):
        cat = pd.Categorical(col.astype(object).where(col.notna(), None))
    else:
        raise ValueError(f"{what} {key!r} has dtype {col.dtype}, which is not categorical.")
    if max_categories is not None and len(cat.categories) > max_categories:
        raise ValueError(
            f"{what} {key!r} has {len(cat.categories)} distinct values; at most "
            f"{max_categories} groups are supported. Is it really a categorical label?"
        )
    check_unique_labels(cat.categories, key, what)
    return cat


def check_unique_labels(categories: Iterable[object], key: str, what: str = "groupby") -> None:
    """Refuse categories that display as the same label.

    Every figure, table and colour shows a category as ``str(category)``, so
    ``1`` (a number) and ``"1"`` (a string) in one column would become two
    groups with one name. This is the one place that decides: such a column is
    an error naming the colliding categories, raised before anything is computed.
    """
    by_label: dict[str, list[object]] = {}
    for c in categories:
        by_label.setdefault(text(c), []).append(c)
    clashes = {label: cs for label, cs in by_label.items() if len(cs) > 1}
    if not clashes:
        return
    label, cs = next(iter(clashes.items()))
    names = " and ".join(repr(c.item() if isinstance(c, np.generic) else c) for c in cs)
    both = "both" if len(cs) == 2 else "all"
    more = f" ({len(clashes)} labels collide in all)" if len(clashes) > 1 else ""
    raise ValueError(
        f"categories {names} of {what} {key!r} {both} display as {label!r}{more}; rename one, "
        f"or merge them with adata.obs[{key!r}] = adata.obs[{key!r}].astype(str)."
    )


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def numeric_obs_columns(obs: pd.DataFrame) -> list[str]:
    """Numeric, non-categorical, non-boolean obs columns (QC metrics, scores)."""
    return [
        str(c)
        for c in obs.columns
        if pd.api.types.is_numeric_dtype(obs[c])
        and not is_bool_dtype(obs[c])
        and not isinstance(obs[c].dtype, pd.CategoricalDtype)
    ]


def numeric_obs(obs: pd.DataFrame, key: object, what: str) -> pd.Series:
    """The obs column ``key`` if it holds numbers; otherwise an error listing those that do."""
    key = check_obs_key(obs, key, what)
    col = obs_in_memory(obs, [key])[key]
    if not pd.api.types.is_numeric_dtype(col) or isinstance(col.dtype, pd.CategoricalDtype):
        raise ValueError(
            f"{what} {key!r} is not a numeric obs column; numeric columns are "
            f"{format_choices(numeric_obs_columns(obs))}."
        )
    return col


def numeric_frame(frame: object, what: str = "frame") -> pd.DataFrame:
    """``frame`` as float64 numbers, refusing what a heatmap cannot show: no table, no
    cells, columns that are not numbers, infinite values, or no value at all.

    NaN is allowed: it marks a missing value (a group without cells), drawn blank.
    """
    if not isinstance(frame, pd.DataFrame) or frame.empty:
        shape = f" of shape {frame.shape}" if isinstance(frame, pd.DataFrame) else ""
        raise ValueError(
            f"{what} must be a non-empty pandas DataFrame; got a {type(frame).__name__}{shape}."
        )
    try:
        values = frame.astype(np.float64)
    except (TypeError, ValueError):
        bad = [
            f"{c!r} ({frame.dtypes.iloc[i]})"
            for i, c in enumerate(frame.columns)
            if not _is_float_convertible(frame.iloc[:, i])
        ]
        raise ValueError(
            f"{what} columns {', '.join(bad)} do not hold numbers; a heatmap needs a numeric "
            "table (drop those columns, or convert them with pd.to_numeric)."
        ) from None
    array = values.to_numpy()
    infinite = np.argwhere(np.isinf(array))
    if len(infinite):
        row, col = infinite[0]
        raise ValueError(
            f"{what} holds {counted(len(infinite), 'infinite value')} (the first in row "
            f"{values.index[row]!r}, column {values.columns[col]!r}); replace them with NaN to "
            "leave those cells blank, e.g. frame.replace([np.inf, -np.inf], np.nan)."
        )
    if np.isnan(array).all():
        raise ValueError(f"{what} holds no value (every cell is NaN); nothing would be drawn.")
    return values


def _is_float_convertible(column: pd.Series) -> bool:
    try:
        column.astype(np.float64)
    except (TypeError, ValueError):
        return False
    return True


def check_positive(name: str, value: float) -> None:
    """Refuse values that are not finite and strictly positive numbers."""
    if not _is_number(value) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name}={value!r} is not valid; it must be a positive number.")


def check_number(
    name: str,
    value: object,
    low: float | None = None,
    high: float | None = None,
    *,
    allow_none: bool = False,
) -> None:
    """Refuse values that are not finite numbers within ``[low, high]``."""
    if value is None and allow_none:
        return
    ok = _is_number(value) and np.isfinite(value)
    ok = ok and (low is None or value >= low) and (high is None or value <= high)
    if not ok:
        bounds = {
            (False, False): "a finite number",
            (True, False): f"a finite number >= {low}",
            (False, True): f"a finite number <= {high}",
            (True, True): f"a number between {low} and {high}",
        }[(low is not None, high is not None)]
        none = " or None" if allow_none else ""
        raise ValueError(f"{name}={value!r} is not valid; it must be {bounds}{none}.")
