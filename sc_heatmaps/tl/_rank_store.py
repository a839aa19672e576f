"""Reading, computing and storing ``rank_genes_groups`` results."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, MutableMapping
from dataclasses import replace

import anndata as ad
import numpy as np
import pandas as pd
from scipy import sparse

from .._intake import is_dask, private_copy
from .._sources import RNA, Expression, nonfinite_genes
from ._provenance import FINGERPRINT, log_recompute, why_not_reusable


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


def group_codes(cat: pd.Categorical, group_names: list[str]) -> np.ndarray:
    """Code of each cell: its position in ``group_names``, or ``len(group_names)`` for the
    other cells (they belong to the rest of every group, as in scanpy)."""
    # through the category codes: under pandas 3, cat.astype(str) writes integer
    # categories as floats ("0.0") when a label is missing
    rest = len(group_names)
    position = {g: i for i, g in enumerate(group_names)}
    lookup = np.array([position.get(str(c), rest) for c in cat.categories] + [rest])
    return lookup[np.asarray(cat.codes)].astype(np.int64)  # code -1 (no label): the rest


def refuse_nonfinite(expr: Expression, genes: list[str]) -> None:
    """Markers cannot be ranked on NaN or inf values, whatever the method."""
    if genes:
        raise ValueError(
            f"{len(genes)} genes hold NaN or inf values in {expr.where} (e.g. {genes[:10]!r}); "
            "markers cannot be ranked on them. Fix or remove those values first."
        )


COUNT_SAMPLE_VALUES = 1_000_000


def _sample_values(X) -> np.ndarray:
    """Values of the first cells (about ``COUNT_SAMPLE_VALUES`` of them), in memory."""
    per_cell = max(
        1, X.shape[1] if getattr(X, "nnz", None) is None else X.nnz // max(1, X.shape[0])
    )
    block = X[: max(1, min(X.shape[0], COUNT_SAMPLE_VALUES // per_cell))]
    block = block.compute() if is_dask(block) else block
    return np.asarray(block.data if sparse.issparse(block) else block)


def warn_if_counts(expr: Expression) -> None:
    """Warn, as scanpy does, when the values look like raw counts: fold changes assume
    log1p-transformed values (an integer count of 200 gives an infinite one)."""
    values = _sample_values(expr.X).ravel()
    if values.size == 0 or np.signbit(values).any():
        return
    with np.errstate(invalid="ignore"):  # inf and NaN are refused later, by name
        integers = values.dtype.kind in "iub" or not np.any(values % 1)
    if integers and values.max(initial=0) > 1:
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


def compute_ranking(
    expr: Expression, cat: pd.Categorical, request: Mapping, log1p, fingerprint=None
) -> dict:
    """Run scanpy's ``rank_genes_groups`` on a light AnnData that shares ``expr.X``.

    The user's AnnData is never touched. All genes are ranked, so that the
    duplicate policies can refill groups from further down. The t-tests are
    computed from one-pass statistics (same results as scanpy, see ``_ttest``).
    """
    if request["method"] != "logreg":
        warn_if_counts(expr)
    if request["method"] in ("t-test", "t-test_overestim_var"):
        from ._ttest import ttest_ranking  # checks NaN and inf from its own sums

        codes = group_codes(cat, list(request["groups"]))
        result = ttest_ranking(expr, codes, list(request["groups"]), request, log1p)
    else:
        result = _scanpy_ranking(expr, cat, request, log1p)
    if fingerprint is not None:
        result["params"][FINGERPRINT] = dict(fingerprint)
    return result


def _scanpy_ranking(expr: Expression, cat: pd.Categorical, request: Mapping, log1p) -> dict:
    """scanpy's wilcoxon or logreg on a private copy (scanpy modifies its input)."""
    import scanpy as sc

    X = private_copy(expr.X, expr.where)
    refuse_nonfinite(expr, nonfinite_genes(replace(expr, X=X)))

    groupby = request["groupby"]
    labels = pd.Categorical.from_codes(
        np.asarray(cat.codes), categories=[str(c) for c in cat.categories]
    )
    obs = pd.DataFrame({groupby: labels}, index=pd.RangeIndex(len(labels)).astype(str))
    tmp = ad.AnnData(X=X, obs=obs, var=pd.DataFrame(index=expr.var_names.astype(str)))
    if log1p is not None:
        tmp.uns["log1p"] = dict(log1p)
    sc.tl.rank_genes_groups(
        tmp,
        groupby,
        groups=list(request["groups"]),
        reference="rest",
        method=request["method"],
        corr_method=request["corr_method"],
        n_genes=tmp.n_vars,
        use_raw=False,
    )
    result = dict(tmp.uns["rank_genes_groups"])
    if request["method"] == "logreg" and len(result["names"].dtype.names) == 1:
        result.update(_binary_logreg(result, list(request["groups"])))
    result["params"] = {
        **result["params"],
        **expr.scanpy_kwargs,
        "source": request["source"],
        "groups": list(request["groups"]),
    }
    return result


def _binary_logreg(result: Mapping, groups: list[str]) -> dict:
    """Both groups of a two-group logistic regression.

    scanpy reports one ranking only, under the first group's name, although its
    scores are the coefficients of scikit-learn's positive class: the second group
    in category order (``groups`` is in category order). The second group gets those
    scores; the first group gets their negation, ranked from the other end.
    """
    first, second = groups
    names = np.asarray(result["names"][first]).astype(object)
    scores = np.asarray(result["scores"][first], dtype=np.float32)
    return {
        "names": pd.DataFrame({first: names[::-1], second: names}).to_records(index=False),
        "scores": pd.DataFrame({first: -scores[::-1], second: scores}).to_records(index=False),
    }


def store_result(uns: MutableMapping, key_added: str, result: dict) -> None:
    """Store a new ranking under ``key_added``; never overwrite."""
    check_free(uns, key_added)
    uns[key_added] = result


def _field(result: Mapping, name: str, group: str, n: int) -> np.ndarray:
    if name not in result:
        return np.full(n, np.nan)
    return np.asarray(result[name][group], dtype=np.float64)


def ranking_table(result: Mapping, group_names: list[str]) -> pd.DataFrame:
    """Long table of the full stored ranking: group, position, gene, score, logfc, pval_adj."""
    frames = []
    for group in group_names:
        genes = np.asarray(result["names"][group]).astype(str)
        n = len(genes)
        frames.append(
            pd.DataFrame(
                {
                    "group": group,
                    "position": np.arange(n),
                    "gene": genes,
                    "score": _field(result, "scores", group, n),
                    "logfc": _field(result, "logfoldchanges", group, n),
                    "pval_adj": _field(result, "pvals_adj", group, n),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
