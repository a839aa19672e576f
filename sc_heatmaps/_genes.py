"""How users name genes: by ``var_names``, or by symbols in a var column (``gene_symbols=``).

With Ensembl IDs as ``var_names`` users still think in symbols (``CD79A``), and figures
should be labelled by them. ``gene_symbols`` is scanpy's name for the var column that
holds the symbols. This module is the one place that turns the names a user gives
into ``var_names`` and ``var_names`` back into labels; the readers in ``get`` work on
``var_names`` in between.

The rules, with ``gene_symbols="symbol"``:

- a name that is the symbol of one gene stands for that gene;
- a symbol shared by several genes is an error naming them, unless the name is itself
  one of their ``var_names`` (anndata's ``var_names_make_unique`` gives ``TBCE`` and
  ``TBCE-1`` the one symbol ``TBCE``);
- a name that is no symbol but a ``var_name`` stands for that gene (genes without a
  symbol, or with a shared one, are named, and labelled, by their ``var_name``);
- a name that is the symbol of one gene and the ``var_name`` of another stands for the
  gene with that ``var_name``: the var_name wins, every time (see :mod:`._labels`);
- any other name is misspelt: ``KeyError``, with close matches;
- missing symbols (NaN, None or empty) are ignored.

A gene is labelled by its symbol when it has one that no other gene shares and that is
no other gene's ``var_name``, else by its ``var_name``, so labels are unique and name
their gene again when passed back. The labels are made by :mod:`._labels`.
Without ``gene_symbols`` every function here is the identity.

Below ``get`` and ``tl``; imports neither.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from ._labels import gene_labels
from ._sources import RNA
from ._validate import (
    ScHeatmapsKeyError,
    format_choices,
    missing_names_message,
    suggest,
)


@dataclass(frozen=True)
class GeneNames:
    """The names of the genes of one source: ``var_names`` and, optionally, symbols.

    Attributes
    ----------
    column
        The var column of symbols (``None``: genes are named by their ``var_names``).
    where
        Where the symbols are, e.g. ``"adata.var['symbol']"``.
    unique
        Symbol -> ``var_name`` for the symbols of exactly one gene.
    shared
        Symbol -> its ``var_names`` for symbols of several genes.
    label_of
        ``var_name`` -> label, for the genes labelled by their symbol.
    not_used
        ``var_name`` -> symbol, for the genes whose unique symbol is another gene's
        ``var_name`` (they are labelled by their own ``var_name``).
    var_names
        The ``var_names`` of the source.
    """

    column: str | None = None
    where: str = ""
    unique: dict[str, str] = field(default_factory=dict)
    shared: dict[str, list[str]] = field(default_factory=dict)
    label_of: dict[str, str] = field(default_factory=dict)
    not_used: dict[str, str] = field(default_factory=dict)
    var_names: pd.Index = field(default_factory=lambda: pd.Index([], dtype=object))

    def var_name_of(self, name: str) -> str | None:
        """The ``var_name`` that ``name`` stands for, ``None`` when it names no gene."""
        if self.column is None:
            return name
        if name in self.unique and (name not in self.var_names or self.unique[name] == name):
            return self.unique[name]
        if name in self.shared:
            if name in self.var_names:
                return name
            raise ValueError(
                f"The symbol {name!r} in {self.where} stands for several genes: "
                f"{format_choices(self.shared[name])}. Name one of them by its var_name, "
                "or make the symbols unique."
            )
        return name if name in self.var_names else None

    def to_var_names(
        self, names: Sequence[str], *, missing: str = "raise"
    ) -> tuple[list[str], list[str]]:
        """The ``var_names`` of ``names`` (in order), and the names that name no gene.

        With ``missing="raise"`` an unknown name is a ``KeyError`` with close matches.
        Without ``gene_symbols`` the names are returned as they are (the source then
        checks them).
        """
        if self.column is None:
            return list(names), []
        found = {name: self.var_name_of(name) for name in dict.fromkeys(names)}
        lost = [name for name, var_name in found.items() if var_name is None]
        if lost and missing == "raise":
            raise ScHeatmapsKeyError(self._misspelt(lost))
        _refuse_aliases(found)
        return [found[name] for name in names if found[name] is not None], lost

    def translate(self, spec, keep=()):
        """``spec`` with the names of a list turned into ``var_names``; names in ``keep``
        (e.g. obs columns), ``None`` and a keyword string (``"genes"``) unchanged."""
        if self.column is None or spec is None or isinstance(spec, str):
            return spec
        keep = set(map(str, keep))
        names = [str(n) for n in spec]
        ids = iter(self.to_var_names([n for n in names if n not in keep])[0])
        return [n if n in keep else next(ids) for n in names]

    def _misspelt(self, lost: list[str]) -> str:
        # symbols, and the var_names of genes without a symbol of their own
        unlabelled = [str(v) for v in self.var_names if v not in self.label_of]
        candidates = [*self.unique, *self.shared, *unlabelled]
        return missing_names_message(f"Genes (symbols in {self.where})", lost, candidates)

    def label(self, var_name: Hashable) -> str:
        """The label of one gene: its symbol when it has its own, else its ``var_name``."""
        return self.label_of.get(var_name, var_name)

    def labels(self, var_names: Sequence[Hashable]) -> list:
        """Labels of several genes."""
        return [self.label(v) for v in var_names]

    def relabel(self, frame: pd.DataFrame, axis: str = "index") -> pd.DataFrame:
        """``frame`` with its genes (``index``, ``columns`` or ``both``) labelled."""
        if self.column is None:
            return frame
        out = frame.copy()
        if axis in ("index", "both"):
            out.index = pd.Index(self.labels(out.index), name=out.index.name)
        if axis in ("columns", "both"):
            out.columns = pd.Index(self.labels(out.columns), name=out.columns.name)
        return out


def _refuse_aliases(found: dict[str, str | None]) -> None:
    """Two names of one gene (its symbol and its var_name) would give two equal rows."""
    by_gene: dict[str, list[str]] = {}
    for name, var_name in found.items():
        if var_name is not None:
            by_gene.setdefault(var_name, []).append(name)
    aliases = {v: names for v, names in by_gene.items() if len(names) > 1}
    if aliases:
        var_name, names = next(iter(aliases.items()))
        raise ValueError(
            f"{format_choices(names)} all name the gene {var_name!r}; list each gene once."
        )


def _var_frame(adata, source: str) -> tuple[pd.DataFrame, str]:
    """The var table whose index is the ``var_names`` of ``source``, and its name."""
    if source == RNA and adata.raw is not None:
        return adata.raw.var, "adata.raw.var"
    return adata.var, "adata.var"


def gene_names(adata, gene_symbols: str | None, source: str = RNA) -> GeneNames:
    """How genes of ``source`` are named, given scanpy's ``gene_symbols`` (a var column).

    ``source="RNA"`` reads the symbols in ``adata.raw.var`` when ``adata.raw`` is set
    (as scanpy does with ``use_raw``), else in ``adata.var``; a layer in ``adata.var``.
    """
    if gene_symbols is None:
        return GeneNames()
    var, where = _var_frame(adata, source)
    if not isinstance(gene_symbols, str) or gene_symbols not in var.columns:
        also = (
            f" (adata.var has it, but source={source!r} reads adata.raw: copy the column "
            "into adata.raw.var, or pass another source)"
            if where == "adata.raw.var" and gene_symbols in adata.var.columns
            else ""
        )
        columns = list(map(str, var.columns))
        hints = suggest(str(gene_symbols), columns) if isinstance(gene_symbols, str) else []
        hint = f" Did you mean {format_choices(hints)}?" if hints else ""
        raise ScHeatmapsKeyError(
            f"gene_symbols={gene_symbols!r} is not a column of {where}{also}; its columns "
            f"are {format_choices(columns)}.{hint}"
        )
    symbols = var[gene_symbols].astype(object)
    symbols = symbols[symbols.notna()].astype(str)
    symbols = symbols[symbols.str.strip() != ""]
    by_symbol = pd.Series(symbols.index.astype(str), index=symbols.to_numpy())
    repeated = by_symbol.index.duplicated(keep=False)
    unique = dict(zip(by_symbol.index[~repeated], by_symbol[~repeated], strict=True))
    label_of, not_used = gene_labels(var.index, {v: s for s, v in unique.items()})
    return GeneNames(
        column=gene_symbols,
        where=f"{where}[{gene_symbols!r}]",
        unique=unique,
        shared={s: list(dict.fromkeys(v)) for s, v in by_symbol[repeated].groupby(level=0)},
        label_of=label_of,
        not_used=not_used,
        var_names=var.index,
    )
