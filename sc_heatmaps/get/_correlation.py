"""Correlation between variables: genes, numeric obs columns (QC values), or both."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import sparse

from .._genes import gene_names
from .._groups import cluster_mask, make_grouping
from .._labels import variable_labels
from .._sources import column_block, resolve_source
from .._validate import (
    ScHeatmapsKeyError,
    as_name_list,
    check_choice,
    format_choices,
    missing_names_message,
    numeric_obs,
    numeric_obs_columns,
)

METHODS = ("pearson", "spearman")
# one wording for the statistic in every figure: the symbol, and the name with it
SYMBOLS = {"pearson": "r", "spearman": "ρ"}
LABELS = {"pearson": "Pearson r", "spearman": "Spearman ρ"}
LEVELS = ("cells", "pseudobulk")
N_DEFAULT_HVG = 50
N_DEFAULT_MARKERS = 5


@dataclass(frozen=True)
class CorrelationResult:
    """Result of :func:`correlation`.

    Attributes
    ----------
    matrices
        One rows x cols correlation matrix per group of ``groupby`` (in
        category order), or a single one under ``"all"``.
    dropped
        Variables left out, with the group concerned and the reason
        (``"constant"``, ``"holds NaN or inf"`` or
        ``"fewer than min_nonzero=10 non-zero cells (4)"``).
    n
        Observations behind each matrix (cells, or pseudobulk groups).
    method, level
        The options used.
    pooled
        Whether there is one matrix of all observations (no ``groupby``, or pseudobulk
        groups as observations) rather than one per group. A group may itself be named
        ``"all"``: use this flag, never the name, to tell the two apart.
    rows, cols
        The variables asked for, in their order (the matrices hold those kept).
    """

    matrices: dict[str, pd.DataFrame]
    dropped: pd.DataFrame
    n: pd.Series
    method: str
    level: str
    pooled: bool = False
    rows: tuple[str, ...] = ()
    cols: tuple[str, ...] = ()

    @property
    def matrix(self) -> pd.DataFrame:
        """The single matrix (an error when there is one per group)."""
        if len(self.matrices) != 1:
            raise ValueError(
                f"There is one matrix per group ({format_choices(self.matrices)}); "
                "use .matrices[group]."
            )
        return next(iter(self.matrices.values()))


def _default_genes(adata, cluster_key) -> list[str]:
    var = adata.var
    if "highly_variable" in var and var["highly_variable"].any():
        hvg = var[var["highly_variable"].astype(bool)]
        for col, ascending in (
            ("highly_variable_rank", True),
            ("dispersions_norm", False),
            ("variances_norm", False),
        ):
            if col in hvg:
                hvg = hvg.sort_values(col, ascending=ascending)
                break
        return [str(g) for g in hvg.index[:N_DEFAULT_HVG]]
    if cluster_key is None:
        raise ValueError(
            "genes=None uses the highly variable genes (none are marked in "
            "adata.var['highly_variable']) or the top markers of cluster_key (not given); "
            "pass genes=[...], or cluster_key=."
        )
    from ._markers import marker_genes

    blocks = marker_genes(adata, cluster_key, n_genes=N_DEFAULT_MARKERS)
    return list(dict.fromkeys(g for genes in blocks.values() for g in genes))


def _variables(spec, adata, genes, obs_keys, cluster_key, what) -> list[tuple[str, str]]:
    """(kind, name) pairs for ``rows``/``cols``: "genes", "obs" or an explicit list."""
    if isinstance(spec, str) and spec == "genes":
        names = genes if genes is not None else _default_genes(adata, cluster_key)
        return [("gene", str(g)) for g in names]
    if isinstance(spec, str) and spec == "obs":
        keys = list(obs_keys) if obs_keys is not None else numeric_obs_columns(adata.obs)
        if not keys:
            raise ValueError("adata.obs has no numeric columns to correlate; pass obs_keys=.")
        return [("obs", str(k)) for k in keys]
    if isinstance(spec, str):
        raise ValueError(f"{what}={spec!r} is not valid; use 'genes', 'obs' or a list of names.")
    return [("obs", str(n)) if str(n) in adata.obs.columns else ("gene", str(n)) for n in spec]


def _obs_values(adata, keys: list[str], mask) -> np.ndarray:
    cols = []
    for key in keys:
        col = numeric_obs(adata.obs, key, "obs column")
        # na_value: pandas < 2.2 refuses to turn a nullable column with <NA> into floats
        cols.append(col.to_numpy(dtype=np.float64, na_value=np.nan)[mask])
    return np.column_stack(cols) if cols else np.empty((int(mask.sum()), 0))


def _values(adata, variables, source, mask) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Cells x variables, dense, and the (kind, name) of each column; only the selected
    genes are read."""
    genes = list(dict.fromkeys(n for k, n in variables if k == "gene"))
    keys = list(dict.fromkeys(n for k, n in variables if k == "obs"))
    expr = resolve_source(adata, source)
    idx = expr.var_names.get_indexer(genes)
    lost = [g for g, i in zip(genes, idx, strict=True) if i < 0]
    if lost:
        raise ScHeatmapsKeyError(
            missing_names_message(
                f"Variables (genes in source={source!r} or obs columns)",
                lost,
                [*map(str, expr.var_names), *map(str, adata.obs.columns)],
            )
        )
    block = column_block(expr.X, idx) if genes else np.empty((adata.n_obs, 0))
    block = block[np.flatnonzero(mask)]
    dense = block.toarray() if sparse.issparse(block) else np.asarray(block)
    values = np.column_stack([dense, _obs_values(adata, keys, mask)])
    return values, [("gene", g) for g in genes] + [("obs", k) for k in keys]


def _labeller(variables: list[tuple[str, str]], symbols) -> dict[tuple[str, str], str]:
    """The label of every (kind, name) variable: a gene's symbol or var_name, an obs
    column's name; a gene and an obs column of one label are told apart by their kind."""
    shown = [(kind, symbols.label(n) if kind == "gene" else n) for kind, n in variables]
    return dict(zip(variables, variable_labels(shown), strict=True))


def _refuse_ambiguous(adata, spec, symbols, source: str, what: str) -> None:
    """A listed name that is an obs column and names a gene too: which one is meant?"""
    if spec is None or isinstance(spec, str):
        return
    obs = set(map(str, adata.obs.columns))
    var_names = resolve_source(adata, source).var_names
    for name in map(str, spec):
        gene = symbols.column is not None and symbols.var_name_of(name) is not None
        if name in obs and (name in var_names or gene):
            raise ValueError(
                f"{what} lists {name!r}, which is both an obs column and a gene of "
                f"source={source!r}; to correlate both use {what}='genes' with genes= "
                f"and the other side 'obs' with obs_keys= (they are then labelled "
                f"'{name} (gene)' and '{name} (obs)'), or rename the obs column."
            )


def _usable(values: np.ndarray, names: list[str], min_nonzero: int, group: str, nonzero=None):
    """Which columns of ``values`` to keep, and why the others are dropped.

    ``nonzero`` counts the cells with a non-zero value of each variable; by default
    the non-zero entries of ``values`` (whose rows are then cells).
    """
    nonzero = (values != 0).sum(axis=0) if nonzero is None else nonzero
    with np.errstate(invalid="ignore"):  # inf - inf: such a variable is dropped just below
        constant = np.ptp(values, axis=0) == 0 if len(values) else np.ones(len(names), bool)
    finite = np.isfinite(values).all(axis=0)
    keep = (nonzero >= min_nonzero) & ~constant & finite
    reasons = []
    for name, nz, const, fin in zip(names, nonzero, constant, finite, strict=True):
        if not fin:
            reasons.append((group, name, "holds NaN or inf"))
        elif const:
            reasons.append((group, name, "constant"))
        elif nz < min_nonzero:
            reasons.append(
                (group, name, f"fewer than min_nonzero={min_nonzero} non-zero cells ({nz})")
            )
    return keep, reasons


def correlation_matrix(values: np.ndarray, method: str) -> np.ndarray:
    """Pearson or Spearman correlation between the columns of ``values``."""
    if values.shape[1] == 0:  # numpy < 2 gives a 1 x 1 NaN for one row and no columns
        return np.empty((0, 0))
    if method == "spearman":
        from scipy import stats

        values = stats.rankdata(values, axis=0)
    return np.atleast_2d(np.corrcoef(values, rowvar=False))


def _one_matrix(part, names, row_names, col_names, method, min_nonzero, group):
    values, nonzero = part
    keep, reasons = _usable(values, names, min_nonzero, group, nonzero)
    kept = [n for n, k in zip(names, keep, strict=True) if k]
    corr = pd.DataFrame(correlation_matrix(values[:, keep], method), index=kept, columns=kept)
    rows = [r for r in row_names if r in corr.index]
    cols = [c for c in col_names if c in corr.columns]
    return corr.loc[rows, cols], reasons


def _pseudobulk(adata, values, mask, groupby) -> tuple[np.ndarray, np.ndarray]:
    """Mean of every variable per group of ``groupby`` (groups x variables), and the
    number of cells of these groups with a non-zero value of each variable."""
    grouping = make_grouping(adata.obs[mask], groupby)
    labelled = grouping.codes >= 0
    G = sparse.csr_matrix(
        (
            np.ones(int(labelled.sum())),
            (grouping.codes[labelled], np.flatnonzero(labelled)),
        ),
        shape=(grouping.n_groups, len(grouping.codes)),
    )
    means = (G @ values) / grouping.meta["n_cells"].to_numpy()[:, None]
    return means, (values[labelled] != 0).sum(axis=0)


def correlation(
    adata,
    *,
    rows: str | Sequence[str] = "genes",
    cols: str | Sequence[str] = "genes",
    genes: str | Sequence[str] | None = None,
    obs_keys: str | Sequence[str] | None = None,
    method: Literal["pearson", "spearman"] = "pearson",
    min_nonzero: int = 10,
    groupby: str | None = None,
    level: Literal["cells", "pseudobulk"] = "cells",
    source: str = "RNA",
    clusters: str | Sequence[str] | None = None,
    cluster_key: str | None = None,
    gene_symbols: str | None = None,
) -> CorrelationResult:
    """Pairwise correlation between genes and/or numeric obs columns.

    Parameters
    ----------
    adata
        Annotated data; only read.
    rows, cols
        ``"genes"``, ``"obs"`` (numeric obs columns, e.g. QC values) or a list
        of names (genes or obs columns).
    genes
        Genes for ``"genes"``: a list, or one string of comma-separated names
        (``"ISG15"`` is one gene); default: the top 50 highly variable genes when
        they are marked, else the top 5 markers per cluster of ``cluster_key``.
    obs_keys
        Obs columns for ``"obs"`` (a list or a comma-separated string); default:
        every numeric column.
    method
        ``"pearson"`` or ``"spearman"``.
    min_nonzero
        A variable needs at least this many cells with a non-zero value: the
        cells of the matrix's group at ``level="cells"``, the cells of all groups
        at ``level="pseudobulk"`` (never the number of groups). A variable is
        also dropped when it is constant (across cells, or across the group
        means at the pseudobulk level) or holds NaN or inf. Dropped variables
        are listed in ``.dropped``; with ``groupby`` at the cell level, a
        variable is dropped from the matrix of that group only.
    groupby
        Categorical obs key. At ``level="cells"``: one matrix per group. At
        ``level="pseudobulk"``: correlate across the means of these groups.
    level
        ``"cells"`` or ``"pseudobulk"``.
    source
        ``"RNA"``, ``"integrated"`` or a layer name.
    clusters, cluster_key
        Keep only these clusters of ``cluster_key`` (default: ``groupby``). When
        ``cluster_key`` is ``groupby``, the matrices come in the order of ``clusters``.
    gene_symbols
        A var column holding gene symbols, as in scanpy: genes are then given, and
        labelled, by symbol (see :func:`sc_heatmaps.get.grouped_expression`).

    Returns
    -------
    CorrelationResult
        ``.matrices`` (one rows x cols matrix per group, or one under ``"all"``),
        ``.dropped`` (variables left out, and why), ``.n`` (observations behind
        each matrix) and the options used.

    Examples
    --------
    >>> import sc_heatmaps as sch
    >>> adata = sch.datasets.example()
    >>> res = sch.get.correlation(adata, genes=["ISG15", "IFI6", "MX1"], groupby="dataset")
    >>> list(res.matrices)
    ['ctrl', 'stim_IFN', 'stim_LPS']
    """
    check_choice("method", method, METHODS)
    check_choice("level", level, LEVELS)
    if not isinstance(min_nonzero, int | np.integer) or min_nonzero < 0:
        raise ValueError(f"min_nonzero={min_nonzero!r} is not valid; use a whole number >= 0.")
    if level == "pseudobulk" and groupby is None:
        raise ValueError("level='pseudobulk' averages cells per group of groupby; pass groupby=.")
    keys = [cluster_key] if cluster_key else ([groupby] if groupby else [])
    mask = cluster_mask(adata.obs, keys, clusters, cluster_key)
    if not mask.any():
        raise ValueError(f"No cells left after selecting clusters={clusters!r}.")
    genes = as_name_list(genes, "genes")  # "ISG15" is one gene, "ISG15,MX1" two
    obs_keys = as_name_list(obs_keys, "obs_keys")
    symbols = gene_names(adata, gene_symbols, source)  # gene names in, labels out
    genes = symbols.translate(genes)
    for what, spec in (("rows", rows), ("cols", cols)):
        _refuse_ambiguous(adata, spec, symbols, source, what)
    rows, cols = (symbols.translate(spec, keep=adata.obs.columns) for spec in (rows, cols))
    row_vars = _variables(rows, adata, genes, obs_keys, cluster_key, "rows")
    col_vars = _variables(cols, adata, genes, obs_keys, cluster_key, "cols")
    values, variables = _values(adata, row_vars + col_vars, source, mask)
    label = _labeller(variables, symbols)
    names = [label[v] for v in variables]
    row_names = [label[v] for v in dict.fromkeys(row_vars)]
    col_names = [label[v] for v in dict.fromkeys(col_vars)]
    parts = _split(adata, values, mask, groupby, level, (clusters, cluster_key))
    matrices, reasons, n = {}, [], {}
    for group, part in parts.items():
        mat, why = _one_matrix(part, names, row_names, col_names, method, min_nonzero, group)
        matrices[group], n[group] = mat, len(part[0])
        reasons += why
    dropped = pd.DataFrame(reasons, columns=["group", "variable", "reason"])
    return CorrelationResult(
        matrices=matrices,
        dropped=dropped,
        n=pd.Series(n, name="n"),
        method=method,
        level=level,
        pooled=groupby is None or level == "pseudobulk",
        rows=tuple(row_names),
        cols=tuple(col_names),
    )


def _split(adata, values, mask, groupby, level, selection=(None, None)) -> dict[str, tuple]:
    """Observations x variables per matrix, with the non-zero cell counts for
    ``min_nonzero`` (``None``: count the non-zero observations, which are cells).
    The groups follow the category order, except that ``clusters`` of the groupby key
    (``selection`` is ``(clusters, cluster_key)``) come in the order they are listed."""
    if groupby is None:
        return {"all": (values, None)}
    if level == "pseudobulk":
        return {"all": _pseudobulk(adata, values, mask, groupby)}
    clusters, cluster_key = selection
    # an error when no cell has a label
    grouping = make_grouping(
        adata.obs[mask], groupby, clusters=clusters, cluster_key=cluster_key or groupby
    )
    return {
        str(label): (values[grouping.codes == g], None) for g, label in enumerate(grouping.labels)
    }
