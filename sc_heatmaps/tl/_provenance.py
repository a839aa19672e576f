"""Whether a ranking found in ``adata.uns`` provably belongs to these cells and genes.

``uns`` travels with ``adata[mask].copy()`` and ``adata[:, genes].copy()``, so a stored
``rank_genes_groups`` result may describe other cells or other genes. A stored ranking
is reused only when

- its parameters match the request (groupby, method, source, groups, correction);
- every gene it names is a gene of the source, and it ranks all of them (a truncated
  ranking cannot tell which genes it was ranked among, and so its adjusted p-values);
- a ranking stored by us carries a fingerprint of the cells, their groups and the genes,
  and it matches;
- the scores of a few of its genes, recomputed on these cells, equal the stored ones
  (the scores of t-tests and Wilcoxon tests are per gene, so a handful of genes is
  cheap to check). A logistic regression's scores depend on every gene at once: only
  our own fingerprinted logreg results are reused.

Otherwise the ranking is recomputed, and the reason is logged.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

logger = logging.getLogger("sc_heatmaps")

FINGERPRINT = "sc_heatmaps_fingerprint"
SPOT_GENES_PER_GROUP = 3
SPOT_RTOL = 1e-5


def _digest(values) -> str:
    """SHA-1 of the values as text, NUL-separated (names never hold NUL in h5ad)."""
    items = values.tolist() if hasattr(values, "tolist") else list(values)
    text = "\x00".join(map(str, items))
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


def _digest_codes(cat: pd.Categorical) -> str:
    """Category names and the cells' codes (as little-endian int64 bytes)."""
    codes = np.ascontiguousarray(np.asarray(cat.codes), dtype="<i8")
    hashed = hashlib.sha1(_digest(cat.categories).encode())
    hashed.update(codes.tobytes())
    return hashed.hexdigest()


def fingerprint(obs_names, cat: pd.Categorical, var_names) -> dict:
    """What identifies the cells, their groups and the genes of a ranking."""
    return {
        "n_obs": len(obs_names),
        "n_vars": len(var_names),
        "cells": _digest(obs_names),
        # codes and category names: cat.astype(str) differs across pandas versions
        "groups": _digest_codes(cat),
        "genes": _digest(var_names),
    }


def _names(result: Mapping, groups: list[str]) -> dict[str, np.ndarray]:
    return {g: np.asarray(result["names"][g]).astype(str) for g in groups}


def _gene_problem(names: dict[str, np.ndarray], var_names: pd.Index, where: str) -> str | None:
    known = var_names.astype(str)
    for group, genes in names.items():
        absent = pd.Index(genes).difference(known)
        if len(absent):
            return (
                f"it ranks genes that {where} does not hold (e.g. {list(absent[:3])!r} in "
                f"group {group!r}); it was computed on other genes"
            )
        if len(genes) < len(known):
            return (
                f"it holds the top {len(genes)} of {len(known)} genes per group, so the genes "
                "it was ranked among (and its adjusted p-values) cannot be checked"
            )
    return None


def _fingerprint_problem(stored, current: dict) -> str | None:
    if not isinstance(stored, Mapping):
        return None
    differing = [k for k, v in current.items() if str(stored.get(k)) != str(v)]
    if differing:
        return f"it was computed on other {' and '.join(differing)} (its fingerprint differs)"
    return None


def _spot_genes(names: dict[str, np.ndarray]) -> list[str]:
    picked: dict[str, None] = {}
    for genes in names.values():
        for gene in [*genes[: SPOT_GENES_PER_GROUP - 1], genes[-1]]:
            picked.setdefault(str(gene), None)
    return list(picked)


def _spot_problem(result: Mapping, names, genes: list[str], rescore: Callable) -> str | None:
    fresh = rescore(genes)
    for group, stored_names in names.items():
        stored = pd.Series(np.asarray(result["scores"][group], dtype=np.float64), stored_names)
        new = pd.Series(
            np.asarray(fresh["scores"][group], dtype=np.float64),
            np.asarray(fresh["names"][group]).astype(str),
        )
        picked = [g for g in genes if g in new.index]
        if not np.allclose(stored[picked], new[picked], rtol=SPOT_RTOL, atol=1e-6):
            return (
                f"the stored scores of group {group!r} differ from these cells' scores "
                "(it was computed on other cells or values)"
            )
    return None


def why_not_reusable(
    result: Mapping,
    request: Mapping,
    *,
    var_names: pd.Index,
    where: str,
    current: dict,
    rescore: Callable,
) -> str | None:
    """``None`` when ``result`` provably answers ``request`` on these cells and genes,
    else the reason it does not."""
    groups = list(request["groups"])
    names = _names(result, groups)
    problem = _gene_problem(names, var_names, where)
    if problem:
        return problem
    stored = result["params"].get(FINGERPRINT)
    problem = _fingerprint_problem(stored, current)
    if problem:
        return problem
    if request["method"] == "logreg":
        if stored is None:
            return "a logistic regression's scores cannot be checked on a few genes"
        return None
    return _spot_problem(result, names, _spot_genes(names), rescore)


def log_recompute(key: str, reason: str) -> None:
    """Say why a stored ranking is not reused."""
    logger.info("adata.uns[%r] is not reused: %s. Markers are recomputed.", key, reason)
