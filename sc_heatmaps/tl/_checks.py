"""Checks of the values markers are ranked on: finite values, log-normalised values,
a well-formed ``adata.uns["log1p"]``.

Below every other module of ``tl`` that ranks genes (``_ranking``, ``_ttest``): it
imports none of them.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

from .._plural import counted, plural
from .._sources import Expression, looks_like_counts


def refuse_nonfinite(expr: Expression, genes: list[str]) -> None:
    """Markers cannot be ranked on NaN or inf values, whatever the method."""
    if genes:
        raise ValueError(
            f"{counted(len(genes), 'gene')} {plural(len(genes), 'holds', 'hold')} NaN or inf "
            f"values in {expr.where} (e.g. {genes[:10]!r}); "
            "markers cannot be ranked on them. Fix or remove those values first."
        )


def warn_if_counts(expr: Expression) -> None:
    """Warn, as scanpy does, when the values look like raw counts: fold changes assume
    log1p-transformed values (an integer count of 200 gives an infinite one)."""
    if looks_like_counts(expr.X):
        warnings.warn(
            f"The values in {expr.where} look like raw counts (non-negative integers); "
            "markers and log fold changes assume log-normalised values. Normalise and "
            "log-transform first (sc.pp.normalize_total, then sc.pp.log1p), or choose "
            "another source.",
            UserWarning,
            stacklevel=4,
        )


def checked_log1p(uns: Mapping):
    """``adata.uns["log1p"]`` as scanpy reads it: a mapping (its ``base``), or None."""
    log1p = uns.get("log1p")
    if log1p is None or isinstance(log1p, Mapping):
        return log1p
    raise ValueError(
        f"adata.uns['log1p'] is {log1p!r} (a {type(log1p).__name__}); scanpy stores a "
        "mapping such as {'base': None} there (None: natural log). Fix it, e.g. "
        "adata.uns['log1p'] = {'base': None}, or delete it."
    )
