"""Reading, computing and storing ``rank_genes_groups`` results."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping

import anndata as ad
import numpy as np
import pandas as pd

from .._sources import RNA, Expression, nonfinite_genes


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


def find_reusable(uns: Mapping, keys, request: Mapping, expr: Expression):
    """The first stored ranking under ``keys`` that answers ``request``, else ``None``."""
    for key in dict.fromkeys(k for k in keys if k is not None):
        if matches(uns.get(key), request, expr):
            return uns[key]
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
    labels = np.asarray(cat.astype(str))
    codes = np.full(len(labels), len(group_names), dtype=np.int64)
    valid = np.asarray(cat.codes) >= 0
    for i, g in enumerate(group_names):
        codes[(labels == g) & valid] = i
    return codes


def refuse_nonfinite(expr: Expression, genes: list[str]) -> None:
    """Markers cannot be ranked on NaN or inf values, whatever the method."""
    if genes:
        raise ValueError(
            f"{len(genes)} genes hold NaN or inf values in {expr.where} (e.g. {genes[:10]!r}); "
            "markers cannot be ranked on them. Fix or remove those values first."
        )


def compute_ranking(expr: Expression, cat: pd.Categorical, request: Mapping, log1p) -> dict:
    """Run scanpy's ``rank_genes_groups`` on a light AnnData that shares ``expr.X``.

    The user's AnnData is never touched. All genes are ranked, so that the
    duplicate policies can refill groups from further down. The t-tests are
    computed from one-pass statistics (same results as scanpy, see ``_ttest``).
    """
    import scanpy as sc

    if request["method"] in ("t-test", "t-test_overestim_var"):
        from ._ttest import ttest_ranking  # checks NaN and inf from its own sums

        codes = group_codes(cat, list(request["groups"]))
        return ttest_ranking(expr, codes, list(request["groups"]), request, log1p)
    refuse_nonfinite(expr, nonfinite_genes(expr))

    groupby = request["groupby"]
    labels = pd.Categorical(
        np.asarray(cat.astype(str)), categories=[str(c) for c in cat.categories]
    )
    obs = pd.DataFrame({groupby: labels}, index=pd.RangeIndex(len(labels)).astype(str))
    tmp = ad.AnnData(
        X=_in_memory(expr.X), obs=obs, var=pd.DataFrame(index=expr.var_names.astype(str))
    )
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


def _in_memory(X):
    """scanpy ranks genes in memory only: a backed matrix is read (sparse stays sparse)."""
    if hasattr(X, "to_memory"):
        return X.to_memory()
    if type(X).__module__.split(".")[0] == "dask":
        return X.compute()
    if type(X).__module__.startswith("h5py"):
        return X[...]
    return X


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
