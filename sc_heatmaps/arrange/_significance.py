"""Significance marks: which drawn cells differ significantly from the reference.

A table of :func:`sc_heatmaps.tl.dataset_differences` (one row per cluster, dataset
and gene, with ``logfc`` and ``pval_adj``; ``table.attrs`` says the test's unit, method
and reference) is matched to a drawn matrix whose columns are (cluster, dataset)
pairs. The result, :class:`CellMarks`, holds frames aligned to the matrix (the test's
log fold change and adjusted p-value, and whether the cell is marked), the legend text
and a JSON-ready record for the sidecar. pandas in, pandas out: no AnnData, no drawing.

The unit of every p-value is said: a table from a cell-level test (``attrs["unit"]``
``"cells"``, or no unit recorded) is labelled "cell-level test (exploratory)", never as
a replicate-level one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._validate import check_number

NEEDED = ("cluster", "dataset", "gene", "logfc", "pval_adj")
CELL_LEVEL = "cell-level test (exploratory)"
UNITS = ("samples", "cells")


@dataclass(frozen=True)
class CellMarks:
    """The significance of each drawn cell, aligned to the drawn matrix.

    Attributes
    ----------
    significant
        Boolean, same index and columns as the matrix: ``pval_adj < alpha``.
    logfc, pval_adj
        The test's values for each drawn cell (NaN where the table has none, and in
        the reference's own columns).
    label
        The legend entry, e.g. ``"pseudobulk DESeq2 (pydeseq2)\\npadj < 0.05, vs ctrl"``.
    record
        For the JSON sidecar: method, unit, reference, alpha, design, how many cells
        are marked, and the genes and columns of the figure the table lacks.
    """

    significant: pd.DataFrame
    logfc: pd.DataFrame
    pval_adj: pd.DataFrame
    label: str
    record: dict = field(default_factory=dict)


def test_record(table: pd.DataFrame, alpha: float) -> dict:
    """Method, unit, reference and design of the test behind ``table`` (from its attrs).

    A table without ``attrs["unit"]`` is taken as cell-level (the cautious reading),
    and the record says so."""
    attrs = dict(getattr(table, "attrs", {}) or {})
    unit = attrs.get("unit")
    note = None
    if unit is None:
        unit = "cells"
        note = "the table's attrs record no 'unit': its p-values are taken as cell-level"
    elif unit not in UNITS:
        raise ValueError(
            f"table.attrs['unit']={unit!r} is not valid; it must be one of {list(UNITS)!r} "
            "('samples': replicate-level, 'cells': cell-level)."
        )
    references = []
    if "reference" in table.columns:
        references = [str(r) for r in dict.fromkeys(table["reference"].astype(str))]
    reference = attrs.get("reference") or ", ".join(references) or "reference"
    record = {
        "method": str(attrs.get("method") or "unknown test"),
        "unit": unit,
        "reference": str(reference),
        "alpha": float(alpha),
        "design": attrs.get("design"),
    }
    if note:
        record["unit_note"] = note
    return record


def legend_label(record: dict) -> str:
    """The legend entry: the test, the threshold and the reference, and for a cell-level
    test, first, that it is exploratory."""
    rule = f"padj < {record['alpha']:g}, vs {record['reference']}"
    if record["unit"] == "cells":
        return f"{CELL_LEVEL}\n{record['method']}, {rule}"
    return f"{record['method']}\n{rule}"


def check_table(table: object, alpha: float, what: str = "significance") -> pd.DataFrame:
    """Refuse anything but a table with the columns marks need, and a bad ``alpha``."""
    check_number("alpha", alpha, 0, 1)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha={alpha!r} is not valid; it must lie strictly between 0 and 1.")
    if not isinstance(table, pd.DataFrame):
        raise TypeError(
            f"{what}= takes the table of sch.tl.dataset_differences (a pandas DataFrame), "
            f"not {type(table).__name__}."
        )
    missing = [c for c in NEEDED if c not in table.columns]
    if missing:
        raise ValueError(
            f"The {what} table lacks the columns {missing!r}; pass the table of "
            f"sch.tl.dataset_differences (columns {list(NEEDED)!r} at least)."
        )
    keys = ["cluster", "dataset", "gene"]
    doubled = table[keys].astype(str).duplicated()
    if doubled.any():
        first = tuple(table.loc[doubled.idxmax(), keys].astype(str))
        raise ValueError(
            f"The {what} table has several rows for (cluster, dataset, gene) = {first!r}; "
            "each must appear once."
        )
    return table


def cell_marks(
    table: pd.DataFrame,
    data: pd.DataFrame,
    pairs: Sequence[tuple[str, str]],
    alpha: float,
    *,
    what: str = "significance",
) -> CellMarks:
    """Marks for ``data`` (genes in the last index level), whose column ``j`` shows
    cluster ``pairs[j][0]`` in dataset ``pairs[j][1]``.

    The reference's own columns get no mark. Genes and columns the table lacks are
    unmarked and listed in the record; a table matching no drawn cell is refused."""
    check_table(table, alpha, what)
    record = test_record(table, alpha)
    keyed = pd.DataFrame(
        {
            "cluster": table["cluster"].astype(str).to_numpy(),
            "dataset": table["dataset"].astype(str).to_numpy(),
            "gene": table["gene"].astype(str).to_numpy(),
            "logfc": pd.to_numeric(table["logfc"]).to_numpy(dtype=np.float64),
            "pval_adj": pd.to_numeric(table["pval_adj"]).to_numpy(dtype=np.float64),
        }
    ).set_index(["cluster", "dataset", "gene"])
    genes = [str(g) for g in data.index.get_level_values(-1)]
    references = {record["reference"]}
    if "reference" in table.columns:
        references |= set(table["reference"].astype(str))
    cells = pd.MultiIndex.from_tuples(
        [(c, d, g) for g in genes for c, d in pairs], names=["cluster", "dataset", "gene"]
    )
    found = keyed.reindex(cells)
    shape = (len(genes), len(pairs))
    # copies: pandas 3 (copy-on-write) hands out read-only views
    logfc = found["logfc"].to_numpy(dtype=np.float64, copy=True).reshape(shape)
    padj = found["pval_adj"].to_numpy(dtype=np.float64, copy=True).reshape(shape)
    is_ref = np.array([d in references for _, d in pairs], dtype=bool)
    logfc[:, is_ref], padj[:, is_ref] = np.nan, np.nan
    # a row present with a NaN pval_adj (e.g. DESeq2's independent filtering) was tested
    matched = np.asarray(cells.isin(keyed.index)).reshape(shape) & ~is_ref
    if not matched.any():
        raise ValueError(_nothing_matches(keyed, genes, pairs, record, what))
    with np.errstate(invalid="ignore"):
        significant = matched & (padj < alpha)
    record.update(_not_found(keyed, genes, pairs, is_ref, matched), n_marked=int(significant.sum()))

    def frame(values: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(values, index=data.index, columns=data.columns)

    return CellMarks(
        significant=frame(significant),
        logfc=frame(logfc),
        pval_adj=frame(padj),
        label=legend_label(record),
        record=record,
    )


def _not_found(keyed: pd.DataFrame, genes, pairs, is_ref, matched) -> dict:
    """The drawn genes and (non-reference) columns for which the table has no row."""
    in_table = set(keyed.index.get_level_values("gene"))
    columns = [p for p, r in zip(pairs, is_ref, strict=True) if not r]
    present = set(keyed.index.droplevel("gene"))
    lacking = [f"{c} / {d}" for c, d in columns if (c, d) not in present]
    return {
        "genes_not_in_table": [g for g in dict.fromkeys(genes) if g not in in_table],
        "columns_not_in_table": list(dict.fromkeys(lacking)),
        "n_cells_tested": int(matched.sum()),
    }


def _nothing_matches(keyed: pd.DataFrame, genes, pairs, record, what) -> str:
    table_genes = list(dict.fromkeys(keyed.index.get_level_values("gene")))
    table_pairs = list(dict.fromkeys(keyed.index.droplevel("gene")))
    compared = [p for p in pairs if p[1] != record["reference"]]
    return (
        f"The {what} table matches no cell of the figure: its genes "
        f"({table_genes[:5]!r}{' ...' if len(table_genes) > 5 else ''}) and (cluster, dataset) "
        f"pairs ({table_pairs[:4]!r}{' ...' if len(table_pairs) > 4 else ''}) do not meet the "
        f"figure's genes ({genes[:5]!r}{' ...' if len(genes) > 5 else ''}) and columns "
        f"({compared[:4]!r}{' ...' if len(compared) > 4 else ''}); compute it for the same "
        "genes, clusters and datasets, with the same dataset and cluster keys."
    )


def marks_table(data: pd.DataFrame, marks: CellMarks, value_name: str = "value") -> pd.DataFrame:
    """One row per drawn cell: the value drawn with the test's ``logfc``, ``pval_adj``
    and ``significant`` beside it (the TSV sidecar of a marked figure)."""
    long = data.stack(future_stack=True).rename(value_name).to_frame()
    long.index = long.index.set_names([*data.index.names[:-1], data.index.names[-1], "column"])
    for name in ("logfc", "pval_adj", "significant"):
        long[name] = getattr(marks, name).stack(future_stack=True).to_numpy()
    return long


def marks_columns(marks: CellMarks, columns: Sequence, names: Sequence | None = None) -> CellMarks:
    """The marks of ``columns`` of the marked matrix, in that order (a column the marks
    lack, e.g. a group without cells: untested, unmarked), renamed to ``names``."""

    def pick(frame: pd.DataFrame, fill) -> pd.DataFrame:
        out = frame.reindex(columns=pd.Index(columns), fill_value=fill)
        if names is not None:
            out.columns = pd.Index(list(names), name=frame.columns.name)
        return out

    significant = pick(marks.significant, False).astype(bool)
    return CellMarks(
        significant=significant,
        logfc=pick(marks.logfc, np.nan),
        pval_adj=pick(marks.pval_adj, np.nan),
        label=marks.label,
        record={**marks.record, "n_marked": int(significant.to_numpy().sum())},
    )
