"""Pseudobulk DESeq2 tests between datasets within each cluster (``method="pseudobulk"``).

The raw counts of each (cluster, sample) are summed in the one pass of
:func:`sc_heatmaps._aggregate.group_stats_all` (equal to
``sc.get.aggregate(func="sum")``); per cluster, the samples of a dataset are then tested
against those of the reference with pydeseq2 (``DeseqDataSet`` + ``DeseqStats``), the
library scanpy points to for replicate-level tests. The samples, not the cells, are the
unit: a comparison needs 2 samples on each side.

Size factors are fitted with ``size_factors_fit_type="poscounts"`` (DESeq2's estimator
for sparse data: the median ratio over each sample's positive counts). The default
``"ratio"`` needs genes counted in every sample; sparse pseudobulk profiles often have
none, and pydeseq2 then falls back to its slow iterative fit.

pydeseq2 runs with one BLAS thread (``threadpoolctl``): its per-gene fits call LAPACK on
matrices of a few rows, where OpenBLAS's extra threads only spin and wait; on Kang that
made a fit take about 3x the CPU time, with results bit-identical to the default threads
(its ``n_cpus > 1`` worker processes are limited to one thread by joblib already).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from .._aggregate import GroupStats
from .._intake import is_dask
from .._plural import counted
from .._validate import categorical_obs, check_obs_key

METHOD_NAME = "pseudobulk DESeq2 (pydeseq2)"
FIT_TYPE = "poscounts"
EXTRA_COLUMNS = ["baseMean", "n_samples_dataset", "n_samples_reference"]
INSTALL = 'pip install "sc-heatmaps[de]"'
_CONDITION = "condition"  # formula-safe names; the levels are tokens too (see _metadata)
_TEST, _REF = "test", "ref"  # "ref" sorts first: it is the base level of the contrast


@dataclass(frozen=True)
class Settings:
    """The pseudobulk options of :func:`sc_heatmaps.tl.dataset_differences`."""

    covariates: tuple[str, ...] = ()
    min_cells: int = 10
    min_counts: int = 1000
    shrink: bool = False
    n_cpus: int = 1


def pydeseq2_classes():
    """``(DeseqDataSet, DeseqStats, DefaultInference)``, or an ImportError naming the extra."""
    try:
        from pydeseq2.dds import DeseqDataSet
        from pydeseq2.default_inference import DefaultInference
        from pydeseq2.ds import DeseqStats
    except ImportError as err:
        raise ImportError(
            f"method='pseudobulk' needs pydeseq2, which is not installed; install it with "
            f"{INSTALL} (or pip install pydeseq2)."
        ) from err
    return DeseqDataSet, DeseqStats, DefaultInference


def _count_int(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ValueError(f"{name}={value!r} is not valid; it must be an integer >= {low}.")
    return int(value)


def check_settings(obs, covariates, min_cells, min_counts, shrink, n_cpus) -> Settings:
    """The options checked, naming the bad value and what is allowed."""
    if covariates is None:
        covariates = ()
    elif isinstance(covariates, str):
        covariates = tuple(c.strip() for c in covariates.split(",") if c.strip())
    elif not all(isinstance(c, str) for c in covariates):
        raise ValueError(
            f"design_covariates={covariates!r} is not valid; give obs column names "
            "(a list of strings, or 'donor,batch'), or None."
        )
    for c in covariates:
        check_obs_key(obs, c, "design_covariates")
    if not isinstance(shrink, bool):
        raise ValueError(f"shrink={shrink!r} is not valid; it must be True or False.")
    return Settings(
        tuple(dict.fromkeys(covariates)),
        _count_int("min_cells", min_cells, 1),
        _count_int("min_counts", min_counts, 0),
        shrink,
        _count_int("n_cpus", n_cpus, 1),
    )


def _first_values(X) -> np.ndarray:
    """Every stored value of an in-memory matrix; the first ~1M of a backed or dask one."""
    if sparse.issparse(X):
        return X.data
    if isinstance(X, np.ndarray):
        return X
    rows = max(1, min(X.shape[0], 1_000_000 // max(1, X.shape[1])))
    block = X[:rows]
    block = block.compute() if is_dask(block) else block
    block = block.to_memory() if hasattr(block, "to_memory") else block
    return np.asarray(block.data if sparse.issparse(block) else block)


def check_counts(expr, sums: np.ndarray) -> None:
    """Refuse values that are not raw counts (non-negative integers, any dtype).

    In-memory matrices are checked value by value; backed and dask ones by their first
    cells and by the per-(cluster, sample) sums of the one pass."""
    values = np.asarray(_first_values(expr.X)).ravel()
    bad = None
    with np.errstate(invalid="ignore"):
        if values.dtype.kind == "f":
            nonint = values[~np.isfinite(values) | (values < 0) | (values % 1 != 0)]
            bad = nonint[0] if nonint.size else None
        elif values.dtype.kind in "iu" and values.size and values.min() < 0:
            bad = values.min()
        if bad is None and not (np.isfinite(sums).all() and (sums >= 0).all()):
            bad = sums[~np.isfinite(sums) | (sums < 0)][0]
        if bad is None and np.any(sums % 1 != 0):
            bad = sums[sums % 1 != 0][0]
    if bad is not None:
        raise ValueError(
            f"method='pseudobulk' sums raw counts, but {expr.where} holds {bad!r}, which is "
            "not a non-negative integer: the values look log-transformed or normalised. "
            "Raw counts usually live in adata.layers['counts'] (pass layer='counts') or in "
            "adata.raw (use_raw=True); they are never recovered from logged values."
        )


def sample_metadata(obs, sample_key: str, covariates, samples: list[str]) -> pd.DataFrame:
    """Each sample's covariate values (as strings); a covariate must be constant within a
    sample."""
    sm = categorical_obs(obs, sample_key, "sample_key")
    out = pd.DataFrame(index=pd.Index(samples, name=sample_key))
    for c in covariates:
        values = pd.Series(np.asarray(obs[c]).astype(str), index=obs.index)
        pairs = pd.DataFrame({"s": np.asarray(sm.astype(object)), "v": values.to_numpy()})
        pairs = pairs[pd.notna(pairs["s"])].drop_duplicates()
        mixed = pairs["s"][pairs["s"].duplicated()].unique()
        if len(mixed):
            raise ValueError(
                f"design_covariates: {c!r} takes several values within samples "
                f"{[str(s) for s in mixed][:10]!r} of {sample_key!r}; a covariate of the "
                "design must be constant within each sample (e.g. the donor)."
            )
        out[c] = pairs.set_index("s")["v"].reindex(samples).to_numpy()
    return out


@dataclass(frozen=True)
class Comparison:
    """One (cluster, dataset) comparison: who is on which side, after the drops."""

    cluster: str
    dataset: str
    reference: str | None
    rows: np.ndarray  # positions of the (cluster, sample) groups in the stats
    is_dataset: np.ndarray  # boolean over rows
    samples: list[str]


def dropped_record(st, row: int, cluster, sample, dataset, settings) -> dict:
    n_cells, n_counts = int(st.n[row]), int(np.rint(st.sums[row].sum()))
    why = []
    if n_cells < settings.min_cells:
        why.append(f"{n_cells} cells < min_cells={settings.min_cells}")
    if n_counts < settings.min_counts:
        why.append(f"{n_counts} counts < min_counts={settings.min_counts}")
    return {
        "cluster": cluster,
        "sample": sample,
        "dataset": dataset,
        "n_cells": n_cells,
        "n_counts": n_counts,
        "reason": "; ".join(why),
    }


def design_formula(covariates, dataset_key: str) -> str:
    """The design as a user reads it, e.g. ``"~ donor + group_id"``."""
    return "~ " + " + ".join([*covariates, dataset_key])


def _metadata(meta: pd.DataFrame, is_dataset: np.ndarray, covariates) -> pd.DataFrame:
    """The design's columns under formula-safe names, with formula-safe level tokens
    (their order is the sorted order of the values, as a formula would sort them)."""
    out = pd.DataFrame(index=meta.index.astype(str))
    for i, c in enumerate(covariates):
        values = meta[c].to_numpy()
        levels = sorted(set(values))
        width = len(str(len(levels)))
        out[f"cov{i}"] = [f"v{levels.index(v):0{width}d}" for v in values]
    out[_CONDITION] = np.where(is_dataset, _TEST, _REF)
    return out


def why_not_estimable(design: pd.DataFrame, covariates, dataset_key: str) -> str | None:
    """Why the model cannot be fitted to these samples (rank, residual degrees of freedom)."""
    columns = [np.ones(len(design))]
    for c in design.columns:
        dummies = pd.get_dummies(design[c], drop_first=True, dtype=float)
        columns.extend(dummies.to_numpy().T)
    X = np.column_stack(columns)
    rank = np.linalg.matrix_rank(X)
    formula = design_formula(covariates, dataset_key)
    if rank < X.shape[1]:
        return (
            f"the design {formula} is confounded in these samples "
            f"({', '.join(covariates)} determine {dataset_key})"
        )
    if len(design) <= rank:
        return (
            f"{len(design)} samples for the {rank} coefficients of {formula}: no residual "
            "degree of freedom to estimate the dispersion"
        )
    return None


def run_deseq(counts: pd.DataFrame, design: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """pydeseq2 on one comparison; its ``results_df`` (baseMean, log2FoldChange, lfcSE,
    stat, pvalue, padj), gene-indexed."""
    DeseqDataSet, DeseqStats, DefaultInference = pydeseq2_classes()
    from threadpoolctl import threadpool_limits  # installed with pydeseq2 (scikit-learn)

    inference = DefaultInference(n_cpus=settings.n_cpus)
    formula = "~" + " + ".join(design.columns)
    with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
        dds = DeseqDataSet(
            counts=counts,
            metadata=design,
            design=formula,
            size_factors_fit_type=FIT_TYPE,
            inference=inference,
            quiet=True,
        )
        # pydeseq2 0.5.0 asks pandas for a behaviour that pandas 2.x deprecates
        warnings.filterwarnings("ignore", category=FutureWarning, module="pydeseq2")
        dds.deseq2()
        stats = DeseqStats(dds, contrast=[_CONDITION, _TEST, _REF], inference=inference, quiet=True)
        stats.summary()
        if settings.shrink:
            coeff = [c for c in stats.LFC.columns if c.startswith(f"{_CONDITION}[")]
            stats.lfc_shrink(coeff=coeff[0])
    return stats.results_df


def deseq_fields(st: GroupStats, comp: Comparison, meta: pd.DataFrame, settings, genes) -> dict:
    """The table's fields of one comparison, from pydeseq2."""
    counts = pd.DataFrame(
        np.rint(st.sums[comp.rows]).astype(np.int64),
        index=pd.Index(comp.samples, dtype=str),
        columns=pd.Index(genes, dtype=str),
    )
    design = _metadata(meta.loc[comp.samples], comp.is_dataset, settings.covariates)
    res = run_deseq(counts, design, settings)
    d, r = comp.rows[comp.is_dataset], comp.rows[~comp.is_dataset]
    n_d, n_r = int(st.n[d].sum()), int(st.n[r].sum())
    return {
        "logfc": res["log2FoldChange"].to_numpy(np.float64),
        "score": res["stat"].to_numpy(np.float64),
        "pval": res["pvalue"].to_numpy(np.float64),
        "pval_adj": res["padj"].to_numpy(np.float64),
        "pct_dataset": st.n_pos[d].sum(0) / n_d,
        "pct_reference": st.n_pos[r].sum(0) / n_r,
        "n_dataset": n_d,
        "n_reference": n_r,
        "baseMean": res["baseMean"].to_numpy(np.float64),
        "n_samples_dataset": int(comp.is_dataset.sum()),
        "n_samples_reference": int((~comp.is_dataset).sum()),
    }


def _unit_side(design, ref, ds) -> np.ndarray:
    """+1 for the units (samples) of the dataset, 0 for the reference's, -1 for others."""
    owner = design.unit_dataset
    is_ref = (owner == ref) if ref is not None else ((owner != ds) & (owner != ""))
    return np.where(owner == ds, 1, np.where(is_ref, 0, -1))


def comparisons(st: GroupStats, design, ref, settings: Settings, meta, dataset_key):
    """Every (cluster, dataset) comparison with enough samples; the skipped ones with why;
    the (cluster, sample) groups dropped for too few cells or counts."""
    n_units = len(design.units)
    small = (st.n < settings.min_cells) | (st.sums.sum(1) < settings.min_counts)
    dropped = [
        dropped_record(
            st,
            row,
            design.clusters[row // n_units],
            design.units[row % n_units],
            design.unit_dataset[row % n_units],
            settings,
        )
        for row in np.flatnonzero(small & (st.n > 0))
    ]
    found, skipped = [], []
    for ci, cluster in enumerate(design.clusters):
        block = slice(ci * n_units, (ci + 1) * n_units)
        for ds in design.datasets:
            if ds == ref:
                continue
            side = _unit_side(design, ref, ds)
            local, is_ds = _members(side, st.n[block] > 0, ~small[block])
            names = [design.units[r] for r in local]
            comp = Comparison(cluster, ds, ref, local + ci * n_units, is_ds, names)
            lost = side[(st.n[block] > 0) & small[block]]
            why = _too_few(comp.is_dataset, lost)
            if why is None:
                model = _metadata(meta.loc[comp.samples], comp.is_dataset, settings.covariates)
                why = why_not_estimable(model, settings.covariates, dataset_key)
            if why is None:
                found.append(comp)
            else:
                skipped.append({"cluster": cluster, "dataset": ds, "reason": why})
    return found, skipped, dropped


def _members(side: np.ndarray, has_cells: np.ndarray, big_enough: np.ndarray):
    """The unit positions of one comparison, and which of them are the dataset's."""
    rows = np.flatnonzero((side >= 0) & has_cells & big_enough)
    return rows, side[rows] == 1


def _too_few(is_dataset: np.ndarray, lost: np.ndarray) -> str | None:
    """Why a comparison cannot be made with these samples (fewer than 2 on a side)."""
    for name, n, n_lost in (
        ("dataset", int(is_dataset.sum()), int((lost == 1).sum())),
        ("reference", int((~is_dataset).sum()), int((lost == 0).sum())),
    ):
        if n < 2:
            more = (
                f"; {n_lost} more dropped by min_cells/min_counts (attrs['dropped'])"
                if n_lost
                else ""
            )
            return f"{counted(n, 'sample')} in the {name} (at least 2 are needed{more})"
    return None


def table_attrs(found, dropped, settings: Settings, dataset_key: str, reference: str) -> dict:
    """What a pseudobulk table records about its test (``table.attrs``)."""
    shrunk = " with apeGLM-shrunk log2 fold changes" if settings.shrink else ""
    return {
        "unit": "samples",
        "method": METHOD_NAME + shrunk,
        "design": design_formula(settings.covariates, dataset_key),
        "samples": [
            {
                "cluster": c.cluster,
                "dataset": c.dataset,
                "dataset_samples": [s for s, d in zip(c.samples, c.is_dataset, strict=True) if d],
                "reference_samples": [
                    s for s, d in zip(c.samples, c.is_dataset, strict=True) if not d
                ],
            }
            for c in found
        ],
        "dropped": dropped,
        "reference": reference,
        "size_factors_fit_type": FIT_TYPE,
    }
