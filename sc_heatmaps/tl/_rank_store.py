"""Reading and storing ``rank_genes_groups`` results (computing them is ``_ranking``)."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping

import numpy as np
import pandas as pd

from .._sources import RNA, Expression
from ._provenance import log_recompute, why_not_reusable


def _same_source(params: Mapping, request: Mapping, expr: Expression) -> bool:
    if "source" in params:
        return params["source"] == request["source"]
    layer = params.get("layer")
    if request["source"] == RNA:
        return layer is None and bool(params.get("use_raw")) == expr.scanpy_kwargs["use_raw"]
    return layer == request["source"]


def matches(result: object, request: Mapping, expr: Expression) -> bool:
    """Whether a stored ranking answers ``request`` (groupby, method, source, groups)."""
    if not isinstance(result, Mapping) or "names" not in result or "params" not in result:
        return False
    params = result["params"]
    names = getattr(result["names"], "dtype", None)
    if names is None or names.names is None:
        return False
    return (
        params.get("groupby") == request["groupby"]
        and params.get("method") == request["method"]
        and params.get("reference", "rest") == "rest"
        and params.get("corr_method", "benjamini-hochberg") == request["corr_method"]
        and bool(params.get("tie_correct", False)) == request.get("tie_correct", False)
        and _same_source(params, request, expr)
        and [str(n) for n in names.names] == list(request["groups"])
    )


def find_reusable(uns: Mapping, keys, request: Mapping, expr: Expression, provenance: dict):
    """The first stored ranking under ``keys`` that answers ``request`` and provably
    belongs to these cells and genes (see ``_provenance``), else ``None``.

    ``provenance`` holds ``current`` (the fingerprint of these cells and genes) and
    ``rescore`` (recomputes the ranking of a few genes on these cells).
    """
    for key in dict.fromkeys(k for k in keys if k is not None):
        if not matches(uns.get(key), request, expr):
            continue
        reason = why_not_reusable(
            uns[key], request, var_names=expr.var_names, where=expr.where, **provenance
        )
        if reason is None:
            return uns[key]
        log_recompute(key, reason)
    return None


def check_free(uns: Mapping, key_added: str | None) -> None:
    """Refuse to overwrite an existing ``uns`` entry."""
    if key_added is not None and key_added in uns:
        raise ValueError(
            f"adata.uns[{key_added!r}] already exists and holds a different result "
            "(another groupby, method, source or set of groups); it is never overwritten. "
            "Pass another key_added, or key_added=None to compute without storing."
        )


def store_result(uns: MutableMapping, key_added: str, result: dict) -> None:
    """Store a new ranking under ``key_added``; never overwrite."""
    check_free(uns, key_added)
    uns[key_added] = result


def _field(result: Mapping, name: str, group: str, n: int) -> np.ndarray:
    if name not in result:
        return np.full(n, np.nan)
    return np.asarray(result[name][group], dtype=np.float64)


def ranking_table(result: Mapping, group_names: list[str]) -> pd.DataFrame:
    """Long table of the full stored ranking: group, position, gene, score, logfc, pval_adj.

    Built from concatenated columns (one frame, not one per group); gene names are
    turned into text only where they are not text already (a stored ranking may hold
    numbers or bytes)."""
    names = [np.asarray(result["names"][group], dtype=object) for group in group_names]
    sizes = [len(n) for n in names]
    genes = np.concatenate(names) if names else np.array([], dtype=object)
    if pd.api.types.infer_dtype(genes, skipna=False) != "string":
        genes = genes.astype(str).astype(object)

    def field(name: str) -> np.ndarray:
        parts = [_field(result, name, g, n) for g, n in zip(group_names, sizes, strict=True)]
        return np.concatenate(parts) if parts else np.array([], dtype=np.float64)

    return pd.DataFrame(
        {
            "group": np.repeat(np.asarray(group_names, dtype=object), sizes),
            "position": np.concatenate([np.arange(n) for n in sizes]) if sizes else [],
            "gene": genes,
            "score": field("scores"),
            "logfc": field("logfoldchanges"),
            "pval_adj": field("pvals_adj"),
        }
    )
