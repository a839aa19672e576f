"""Computing a full ``rank_genes_groups`` ranking on the side, never in the user's AnnData.

Within ``tl`` the imports run one way: ``_markers`` -> ``_ranking`` -> ``_ttest`` ->
``_checks``; ``_rank_store`` (reading and storing results) and ``_provenance`` import
no ranking code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import anndata as ad
import numpy as np
import pandas as pd

from .._intake import private_copy
from .._sources import Expression, nonfinite_genes
from ._checks import refuse_nonfinite, warn_if_counts
from ._provenance import FINGERPRINT
from ._ttest import ttest_ranking


def group_codes(cat: pd.Categorical, group_names: list[str]) -> np.ndarray:
    """Code of each cell: its position in ``group_names``, or ``len(group_names)`` for the
    other cells (they belong to the rest of every group, as in scanpy)."""
    # through the category codes: under pandas 3, cat.astype(str) writes integer
    # categories as floats ("0.0") when a label is missing
    rest = len(group_names)
    position = {g: i for i, g in enumerate(group_names)}
    lookup = np.array([position.get(str(c), rest) for c in cat.categories] + [rest])
    return lookup[np.asarray(cat.codes)].astype(np.int64)  # code -1 (no label): the rest


def compute_ranking(
    expr: Expression,
    cat: pd.Categorical,
    request: Mapping,
    log1p,
    fingerprint=None,
    one_pass: dict | None = None,
    depth: int | None = None,
) -> dict:
    """Run scanpy's ``rank_genes_groups`` on a light AnnData that shares ``expr.X``.

    The user's AnnData is never touched. All genes are ranked, so that the
    duplicate policies can refill groups from further down; the t-tests and the
    Wilcoxon test report each group's top ``depth`` genes only when ``depth`` is given
    (the caller knows how deep its selection can reach). The t-tests are
    computed from one-pass statistics (same results as scanpy, see ``_ttest``); the
    :class:`~sc_heatmaps._aggregate.GroupStats` of the t-tests' and Wilcoxon's pass go
    to ``one_pass["stats"]`` when a dict is given (the fractions above zero of the
    reported genes come from them).
    """
    if request["method"] != "logreg":
        warn_if_counts(expr)
    if request["method"] in ("t-test", "t-test_overestim_var"):
        # ttest_ranking checks NaN and inf from its own sums
        codes = group_codes(cat, list(request["groups"]))
        groups = list(request["groups"])
        result = ttest_ranking(expr, codes, groups, request, log1p, one_pass, depth)
    elif request["method"] == "wilcoxon":
        from ._wilcoxon import wilcoxon_ranking  # imports numba: only when needed

        codes = group_codes(cat, list(request["groups"]))
        groups = list(request["groups"])
        result = wilcoxon_ranking(expr, codes, groups, request, log1p, one_pass, depth)
    else:
        result = _scanpy_ranking(expr, cat, request, log1p)
    if fingerprint is not None:
        result["params"][FINGERPRINT] = dict(fingerprint)
    return result


def _scanpy_ranking(expr: Expression, cat: pd.Categorical, request: Mapping, log1p) -> dict:
    """scanpy's logreg on a private copy (scanpy modifies its input)."""
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
