"""Batch correction into a layer (scanpy's ComBat on a copy)."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from typing import Literal

import anndata as ad
import numpy as np
import pandas as pd

from .._plural import counted
from .._sources import resolve_source
from .._validate import (
    MAX_LISTED,
    ScHeatmapsKeyError,
    as_name_list,
    categorical_obs,
    check_choice,
    check_obs_key,
    missing_names_message,
)

METHODS = ("combat",)
MISSING = ("raise", "drop")


def integrate(
    adata,
    batch_key: str,
    *,
    method: Literal["combat"] = "combat",
    source: str = "RNA",
    key_added: str = "integrated",
    covariates: str | Sequence[str] | None = None,
    overwrite: bool = False,
    missing: Literal["raise", "drop"] = "raise",
) -> None:
    """Fill ``adata.layers[key_added]`` with batch-corrected values.

    Runs :func:`scanpy.pp.combat` on a copy of the ``source`` values for the
    genes of ``adata.var_names``; ``adata.X`` and ``adata.raw`` are never
    touched. The layer is dense float32, like Seurat's "integrated" assay.

    Parameters
    ----------
    adata
        Annotated data; only ``layers[key_added]`` is written.
    batch_key
        Categorical obs key of the batches (e.g. the dataset).
    method
        ``"combat"``.
    source
        Values to correct: ``"RNA"`` (log-normalised) or a layer name.
    key_added
        Name of the new layer.
    covariates
        Obs keys of biological covariates to protect (e.g. the cluster key); a
        list, or one string of comma-separated keys.
    overwrite
        Replace an existing layer of that name.
    missing
        What to do with genes holding NaN or inf in ``source`` (typically genes
        that some datasets did not measure, after an outer ``ad.concat``);
        ComBat cannot use them. ``"raise"`` (default): an error naming them.
        ``"drop"``: correct the other genes and leave these genes out of the
        correction: their columns of the layer are NaN, which every reader of
        ``source="integrated"`` refuses by name.

    Returns
    -------
    None
        The corrected values are written to ``adata.layers[key_added]`` (dense
        float32, the shape of ``adata``); nothing else in ``adata`` changes.

    Examples
    --------
    >>> import sc_heatmaps as sch
    >>> adata = sch.datasets.example()
    >>> sch.pp.integrate(adata, "dataset")
    >>> adata.layers["integrated"].shape == adata.shape
    True
    """
    check_choice("method", method, METHODS)
    check_choice("missing", missing, MISSING)
    batches = categorical_obs(adata.obs, batch_key, "batch_key")
    covariates = as_name_list(covariates, "covariates") or []  # a string: comma-separated keys
    for cov in covariates:
        check_obs_key(adata.obs, cov, "covariate")
    if pd.Series(batches).isna().any():
        raise ValueError(f"batch_key {batch_key!r} has missing values; every cell needs a batch.")
    _check_batch_sizes(batches, batch_key)
    if key_added in adata.layers and not overwrite:
        raise ValueError(
            f"adata.layers[{key_added!r}] already exists; pass overwrite=True or another key_added."
        )
    corrected = _combat(adata, batch_key, source, covariates, missing)
    adata.layers[key_added] = corrected


MIN_BATCH_CELLS = 2  # ComBat estimates a variance per gene in each batch (n - 1 > 0)


def _check_batch_sizes(batches: pd.Categorical, batch_key: str) -> None:
    """At least 2 batches with cells, none of them with fewer than ``MIN_BATCH_CELLS``
    cells (a batch of one cell has no variance: ComBat returns NaN for every cell)."""
    counts = pd.Series(batches).value_counts(sort=False)
    counts = counts[counts > 0]  # unused categories hold no cells and change nothing
    if len(counts) < 2:
        raise ValueError(f"batch_key {batch_key!r} has fewer than 2 batches; nothing to correct.")
    small = counts[counts < MIN_BATCH_CELLS]
    if len(small):
        found = ", ".join(f"{name!r} ({counted(n, 'cell')})" for name, n in small.items())
        raise ValueError(
            f"batch_key {batch_key!r}: batch {found} is too small; ComBat estimates each "
            f"batch's variance, which needs at least {MIN_BATCH_CELLS} cells per batch. "
            "Merge it with another batch or leave its cells out."
        )


def _source_values(adata, source: str):
    """The ``source`` values of ``adata.var_names`` as dense float64, and where they live."""
    expr = resolve_source(adata, source)
    idx = expr.var_names.get_indexer(adata.var_names)
    if (idx < 0).any():
        lost = list(adata.var_names[idx < 0])
        raise ScHeatmapsKeyError(
            missing_names_message(
                f"Genes of adata.var_names in {expr.where}", lost, list(expr.var_names)
            )
        )
    X = expr.X[:, idx]
    X = X.toarray() if hasattr(X, "toarray") else np.array(X)
    return X.astype(np.float64), expr.where


def _finite_genes(X: np.ndarray, genes: pd.Index, where: str, source: str, missing: str):
    """Columns ComBat can use; genes with NaN or inf are an error, or left out with
    ``missing="drop"``. ComBat on a NaN column makes every value of the result NaN."""
    ok = np.isfinite(X).all(axis=0)
    if ok.all():
        return ok
    bad = [str(g) for g in genes[~ok]]
    listed = ", ".join(repr(g) for g in bad[:MAX_LISTED])
    more = f", ... ({len(bad)} in all)" if len(bad) > MAX_LISTED else ""
    what = f"{len(bad)} of {len(genes)} genes in {where} (source={source!r}) hold NaN or inf"
    if missing == "raise" or ok.sum() == 0:
        drop = (
            " or pass missing='drop' to correct the other genes (these stay NaN),"
            if ok.any()
            else ""
        )
        raise ValueError(
            f"{what}: {listed}{more}. ComBat cannot correct them. This is typical after an "
            "outer ad.concat of datasets that measured different genes. Keep the genes every "
            f"batch measured (ad.concat(..., join='inner') or a subset of var_names),{drop} "
            "then integrate again."
        )
    return ok


def _combat(adata, batch_key: str, source: str, covariates: list[str], missing: str):
    import scanpy as sc

    X, where = _source_values(adata, source)
    ok = _finite_genes(X, adata.var_names, where, source, missing)
    obs = pd.concat(
        [adata.obs[[batch_key]].copy(), _covariate_columns(adata.obs, covariates)], axis=1
    )
    tmp = ad.AnnData(X=X[:, ok], obs=obs)
    extra = [c for c in obs.columns if c != batch_key] or None
    # scanpy prints a note and divides by zero for genes that are constant in
    # every cell; ComBat leaves those genes as they are, so that noise is dropped.
    quiet = contextlib.redirect_stdout(io.StringIO())
    try:
        with quiet, np.errstate(divide="ignore", invalid="ignore"):
            corrected = sc.pp.combat(tmp, key=batch_key, covariates=extra, inplace=False)
    except np.linalg.LinAlgError as err:
        raise ValueError(
            f"ComBat cannot separate batch_key {batch_key!r} from covariates {covariates!r}: "
            "they are confounded (e.g. a category found in a single batch). Drop or merge "
            "those covariates."
        ) from err
    out = np.full(X.shape, np.nan, dtype=np.float32)
    out[:, ok] = np.asarray(corrected, dtype=np.float32)
    return out


def _covariate_columns(obs: pd.DataFrame, covariates: list[str]) -> pd.DataFrame:
    """Covariates as numeric columns, categorical ones as dummies without their first level.

    scanpy's ComBat codes a categorical covariate with a dummy for every level,
    which together with the batch dummies makes its design matrix singular;
    dropping one level per covariate gives the usual full-rank design.
    """
    frames = []
    for cov in covariates:
        col = obs[cov]
        if pd.api.types.is_numeric_dtype(col) and not isinstance(col.dtype, pd.CategoricalDtype):
            frames.append(col.astype(np.float64).to_frame(f"cov_{len(frames)}"))
        else:
            dummies = pd.get_dummies(col.astype(str), drop_first=True, dtype=np.float64)
            dummies.columns = [f"cov_{len(frames)}_{i}" for i in range(dummies.shape[1])]
            frames.append(dummies)
    return pd.concat(frames, axis=1) if frames else pd.DataFrame(index=obs.index)
