"""Expression sources: where the values of ``source="RNA" | "integrated" | <layer>`` live."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from ._intake import intake, intake_block, is_dask
from ._plural import counted
from ._validate import ScHeatmapsKeyError, format_choices, missing_names_message

INTEGRATED = "integrated"
RNA = "RNA"


@dataclass(frozen=True)
class Expression:
    """A cells x genes matrix chosen by ``source``, without copying it.

    Attributes
    ----------
    source
        The name the user passed (``"RNA"``, ``"integrated"`` or a layer name).
    X
        The matrix itself (dense, sparse or backed); never modified.
    var_names
        Gene names of the columns of ``X``.
    where
        Human-readable location, e.g. ``"adata.raw.X"``.
    scanpy_kwargs
        ``use_raw``/``layer`` arguments that make scanpy read the same values.
    rna
        For a layer: the genes and location of ``source="RNA"``, to point users
        there when a gene is only in ``adata.raw``.
    """

    source: str
    X: Any
    var_names: pd.Index
    where: str
    scanpy_kwargs: dict
    rna: tuple[pd.Index, str] | None = None

    def gene_indices(
        self, genes: list[str], *, missing: str = "raise", can_drop: bool = False
    ) -> tuple[np.ndarray, list]:
        """Column positions of ``genes``; missing genes raise, or are returned when
        ``missing="drop"`` (``can_drop`` says the caller offers that option)."""
        pos = self.var_names.get_indexer(genes)
        lost = [g for g, p in zip(genes, pos, strict=True) if p < 0]
        if lost and missing == "raise":
            raise ScHeatmapsKeyError(
                missing_names_message(
                    f"Genes in source={self.source!r} ({self.where})",
                    lost,
                    list(map(str, self.var_names)),
                )
                + self._missing_advice(lost, can_drop)
            )
        keep = [g for g, p in zip(genes, pos, strict=True) if p >= 0]
        return self.var_names.get_indexer(keep), lost

    def _missing_advice(self, lost: list[str], can_drop: bool) -> str:
        advice = []
        if self.rna is not None:
            advice.append(
                f"The {self.source!r} values cover {counted(len(self.var_names), 'gene')}"
            )
            in_rna = [g for g in lost if g in self.rna[0]]
            if in_rna:
                advice.append(f"{in_rna[:5]!r} are in source='RNA' ({self.rna[1]})")
        if can_drop:
            advice.append("pass missing='drop' to leave them out (they are then listed)")
        return "." + "".join(f" {a[0].upper()}{a[1:]}." for a in advice)


def resolve_source(adata, source: str = RNA, *, canonical: bool = True) -> Expression:
    """Find the matrix for ``source``.

    ``"RNA"`` is ``adata.raw`` when it is set, otherwise ``adata.X``;
    ``"integrated"`` is ``adata.layers["integrated"]``; any other string names a layer.
    Gene names must be unique: a name that stands for two columns is refused.
    ``canonical=False``: see :func:`~sc_heatmaps._intake.intake`.
    """
    return _checked(_resolve(adata, source), canonical)


def resolve_x(adata) -> Expression:
    """``adata.X`` itself, even when ``adata.raw`` is set (scanpy's ``use_raw=False``)."""
    where = {"use_raw": False, "layer": None}
    return _checked(Expression(RNA, adata.X, adata.var_names, "adata.X", where))


def _checked(expr: Expression, canonical: bool = True) -> Expression:
    """The matrix through the intake (see :func:`~sc_heatmaps._intake.intake` for
    ``canonical``); refused when its gene names are not unique."""
    expr = replace(expr, X=intake(expr.X, expr.where, canonical))
    if not expr.var_names.is_unique:
        dups = list(dict.fromkeys(expr.var_names[expr.var_names.duplicated()].astype(str)))
        fix = (
            "adata.raw.var_names_make_unique()"
            if expr.where == "adata.raw.X"
            else ("adata.var_names_make_unique()")
        )
        raise ValueError(
            f"Gene names in {expr.where} are not unique: {dups[:10]!r}"
            f"{f' and {len(dups) - 10} more' if len(dups) > 10 else ''}. Make them unique "
            f"first, e.g. {fix}."
        )
    return expr


def layer_names(adata) -> list[str]:
    """The named layers of ``adata`` (anndata 0.13 also lists X, under the key ``None``)."""
    return [k for k in adata.layers if k is not None]


def _resolve(adata, source: str) -> Expression:
    if not isinstance(source, str):
        raise ValueError(
            f"source={source!r} is not valid; use 'RNA', 'integrated' or one of the layers "
            f"{format_choices(layer_names(adata))}."
        )
    if source == RNA:
        if adata.raw is not None:
            return Expression(
                source,
                adata.raw.X,
                adata.raw.var_names,
                "adata.raw.X",
                {"use_raw": True, "layer": None},
            )
        return Expression(
            source, adata.X, adata.var_names, "adata.X", {"use_raw": False, "layer": None}
        )
    if source not in adata.layers:
        extra = (
            " Create it with sch.pp.integrate(adata, batch_key) or pass source='RNA'."
            if source == INTEGRATED
            else ""
        )
        raise ScHeatmapsKeyError(
            f"source={source!r} is not available: adata.layers has "
            f"{format_choices(layer_names(adata))}; 'RNA' reads adata.raw or adata.X.{extra}"
        )
    X = adata.layers[source]
    if X.shape != adata.shape:
        raise ValueError(
            f"adata.layers[{source!r}] has shape {X.shape}, but adata has shape {adata.shape}."
        )
    rna = (
        (adata.raw.var_names, "adata.raw.X")
        if adata.raw is not None
        else (adata.var_names, "adata.X")
    )
    return Expression(
        source,
        X,
        adata.var_names,
        f"adata.layers[{source!r}]",
        {"use_raw": False, "layer": source},
        rna,
    )


COLUMN_READ_ROWS = 20_000  # rows per read when taking columns of a backed sparse matrix


def backed_columns(X, idx: np.ndarray) -> sparse.csr_matrix:
    """The columns ``idx`` of a backed sparse matrix in its own dtype, read a block of rows
    at a time (anndata reads all of a backed CSR matrix for ``X[:, idx]``)."""
    parts = [
        sparse.csr_matrix(intake_block(X[s : s + COLUMN_READ_ROWS]))[:, idx]
        for s in range(0, X.shape[0], COLUMN_READ_ROWS)
    ]
    return sparse.vstack(parts, format="csr") if parts else sparse.csr_matrix((0, len(idx)))


def column_block(X, idx: np.ndarray) -> np.ndarray | sparse.csr_matrix:
    """The selected columns of ``X`` (all rows), as float64 CSR or dense; never the whole X."""
    if is_dask(X):  # only the selected columns are computed
        X = intake_block(X[:, idx].compute())
        idx = np.arange(X.shape[1])
    if hasattr(X, "to_memory"):
        return sparse.csr_matrix(backed_columns(X, idx), dtype=np.float64)
    if sparse.issparse(X):
        return sparse.csr_matrix(intake_block(X[:, idx]), dtype=np.float64)
    return np.asarray(X[:, idx], dtype=np.float64)


def nan_genes(block, genes: list[str]) -> list[str]:
    """Genes whose column holds NaN or inf."""
    values = block.data if sparse.issparse(block) else block
    if np.isfinite(values).all():
        return []
    if sparse.issparse(block):
        bad = np.zeros(block.shape[1], dtype=bool)
        coo = block.tocoo()
        bad[np.unique(coo.col[~np.isfinite(coo.data)])] = True
    else:
        bad = ~np.isfinite(block).all(axis=0)
    return [g for g, b in zip(genes, bad, strict=True) if b]


FINITE_CHUNK_ROWS = 20_000


def _finite_columns(X) -> np.ndarray:
    """Whether each column of ``X`` holds only finite values: one pass, no copy of a
    sparse matrix, dense matrices read a chunk of rows at a time."""
    if sparse.issparse(X):
        ok = np.ones(X.shape[1], dtype=bool)
        ok[_nonfinite_columns(X)] = False
        return ok
    ok = np.ones(X.shape[1], dtype=bool)
    for start in range(0, X.shape[0], FINITE_CHUNK_ROWS):
        chunk = intake_block(X[start : start + FINITE_CHUNK_ROWS])  # backed: sparse chunks
        if sparse.issparse(chunk):
            ok[_nonfinite_columns(chunk)] = False
        else:
            ok &= np.isfinite(np.asarray(chunk)).all(axis=0)
    return ok


def usable_genes(expr: Expression) -> list[str]:
    """Genes of ``expr`` whose values are all finite (no NaN or inf)."""
    ok = _finite_columns(expr.X)
    return [str(g) for g, keep in zip(expr.var_names, ok, strict=True) if keep]


def nonfinite_genes(expr: Expression) -> list[str]:
    """Genes of ``expr`` with a NaN or inf value in some cell."""
    ok = _finite_columns(expr.X)
    return [str(g) for g, keep in zip(expr.var_names, ok, strict=True) if not keep]


def _nonfinite_columns(X) -> np.ndarray:
    """Columns of a sparse matrix holding a stored NaN or inf (no copy for CSR or CSC)."""
    if X.format not in ("csr", "csc"):
        X = sparse.csr_matrix(X)
    bad = np.flatnonzero(~np.isfinite(X.data))
    if X.format == "csr":  # CSR indices are column numbers
        return np.unique(X.indices[bad])
    return np.unique(np.searchsorted(X.indptr, bad, side="right") - 1)  # CSC: column runs


COUNT_SAMPLE_VALUES = 1_000_000


def _sample_values(X) -> np.ndarray:
    """Values of the first cells (about ``COUNT_SAMPLE_VALUES`` of them), in memory."""
    per_cell = max(
        1, X.shape[1] if getattr(X, "nnz", None) is None else X.nnz // max(1, X.shape[0])
    )
    block = X[: max(1, min(X.shape[0], COUNT_SAMPLE_VALUES // per_cell))]
    block = block.compute() if is_dask(block) else block
    return np.asarray(block.data if sparse.issparse(block) else block)


def looks_like_counts(X) -> bool:
    """True when the first cells' values are non-negative integers above 1: raw counts,
    not the log1p values that fold changes assume (scanpy's check, on a sample)."""
    values = _sample_values(X).ravel()
    if values.size == 0 or np.signbit(values).any():
        return False
    with np.errstate(invalid="ignore"):  # inf and NaN are refused elsewhere, by name
        integers = values.dtype.kind in "iub" or not np.any(values % 1)
    return bool(integers and values.max(initial=0) > 1)
