"""The matrix filter language (after AMiGA's ``heatmap.py -f``), with a real parser.

Grammar (keywords are case-insensitive)::

    expr      := and_expr ( "OR" and_expr )*
    and_expr  := primary ( "AND" primary )*
    primary   := criterion | "(" expr ")"
    criterion := ("row" | "col") ("any" | "all") op NUMBER
    op        := ">" | ">=" | "<" | "<=" | "="

``AND`` binds tighter than ``OR``. A ``row`` criterion keeps the rows for which
any (or all) of their values satisfy the comparison; a ``col`` criterion does
the same for columns. Row and column criteria may not be mixed with ``OR``
in one filter: ``row ... OR col ...`` has no single meaning. Parentheses may
be nested up to ``MAX_DEPTH`` deep, so that no filter can exhaust Python's stack.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

MAX_DEPTH = 32  # nested parentheses; each level takes three frames of the parser
OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "=": np.isclose}
_TOKEN = re.compile(r"\s*(?:(?P<op>>=|<=|>|<|=)|(?P<paren>[()])|(?P<word>[^\s()<>=]+))")


class FilterSyntaxError(ValueError):
    """A filter that does not parse; ``column`` is 1-based."""

    def __init__(self, message: str, text: str, column: int):
        pointer = f"\n  {text}\n  {' ' * (column - 1)}^"
        super().__init__(f"{message} at column {column}{pointer}")
        self.column = column


@dataclass(frozen=True)
class Criterion:
    axis: str  # "row" or "col"
    quantifier: str  # "any" or "all"
    op: str
    value: float

    def mask(self, values: np.ndarray) -> np.ndarray:
        data = values if self.axis == "row" else values.T
        with np.errstate(invalid="ignore"):
            hits = OPS[self.op](data, self.value) & ~np.isnan(data)
        return hits.any(axis=1) if self.quantifier == "any" else hits.all(axis=1)


@dataclass(frozen=True)
class BoolOp:
    kind: str  # "and" or "or"
    parts: tuple


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise FilterSyntaxError("unexpected character", text, pos + 1)
        kind = m.lastgroup
        out.append((kind, m.group(kind), m.start(kind) + 1))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str):
        self.text, self.tokens, self.i = text, _tokens(text), 0
        self.depth = 0

    def _peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else ("end", "", len(self.text) + 1)

    def _fail(self, expected: str):
        kind, value, col = self._peek()
        found = "the end of the filter" if kind == "end" else repr(value)
        raise FilterSyntaxError(f"expected {expected}, found {found},", self.text, col)

    def _keyword(self, *words: str) -> str | None:
        kind, value, _ = self._peek()
        if kind == "word" and value.lower() in words:
            self.i += 1
            return value.lower()
        return None

    def parse(self):
        if not self.tokens:
            raise FilterSyntaxError("the filter is empty; expected 'row' or 'col'", self.text, 1)
        tree = self._or()
        if self._peek()[0] != "end":
            self._fail("'AND', 'OR' or the end of the filter")
        return tree

    def _or(self):
        parts = [self._and()]
        while self._keyword("or"):
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else BoolOp("or", tuple(parts))

    def _and(self):
        parts = [self._primary()]
        while self._keyword("and"):
            parts.append(self._primary())
        return parts[0] if len(parts) == 1 else BoolOp("and", tuple(parts))

    def _primary(self):
        kind, value, _ = self._peek()
        if kind == "paren" and value == "(":
            return self._group()
        return self._criterion()

    def _group(self):
        """``"(" expr ")"``, at most ``MAX_DEPTH`` deep."""
        if self.depth == MAX_DEPTH:
            raise FilterSyntaxError(
                f"parentheses are nested more than {MAX_DEPTH} deep", self.text, self._peek()[2]
            )
        self.depth += 1
        self.i += 1
        tree = self._or()
        kind, value, _ = self._peek()
        if not (kind == "paren" and value == ")"):
            self._fail("')'")
        self.i += 1
        self.depth -= 1
        return tree

    def _criterion(self) -> Criterion:
        axis = self._keyword("row", "col") or self._fail("'row' or 'col'")
        quantifier = self._keyword("any", "all") or self._fail("'any' or 'all'")
        kind, op, _ = self._peek()
        if kind != "op":
            self._fail("a comparison ('>', '>=', '<', '<=' or '=')")
        self.i += 1
        kind, text, col = self._peek()
        try:
            number = float(text) if kind == "word" else None
        except ValueError:
            number = None
        if number is None or not np.isfinite(number):
            raise FilterSyntaxError("expected a number", self.text, col)
        self.i += 1
        return Criterion(axis, quantifier, op, number)


def parse_filter(text: str):
    """Parse a filter; raises :class:`FilterSyntaxError` pointing at the bad column.

    Parameters
    ----------
    text
        A filter such as ``"row any >= 1.2 OR row any <= 0.8"``: criteria
        ``row|col any|all >|>=|<|<=|= NUMBER`` joined by ``AND``/``OR``, with
        parentheses (``AND`` binds tighter).

    Returns
    -------
    Criterion or BoolOp
        The parsed tree (what :func:`filter_matrix` evaluates).

    Examples
    --------
    >>> import sc_heatmaps as sch
    >>> tree = sch.arrange.parse_filter("row any >= 1 AND col all < 5")
    >>> tree.kind, len(tree.parts)
    ('and', 2)
    >>> try:
    ...     sch.arrange.parse_filter("row any >= ")
    ... except sch.arrange.FilterSyntaxError as error:
    ...     print(error.column)
    12
    """
    if not isinstance(text, str):
        raise ValueError(
            f"filter={text!r} is not valid; give a string such as "
            "'row any >= 1.2 OR row any <= 0.8'."
        )
    return _Parser(text).parse()


def _axes(tree) -> set[str]:
    if isinstance(tree, Criterion):
        return {tree.axis}
    return set().union(*(_axes(p) for p in tree.parts))


def _evaluate(tree, values: np.ndarray, axis: str) -> np.ndarray:
    if isinstance(tree, Criterion):
        return tree.mask(values)
    masks = [_evaluate(p, values, axis) for p in tree.parts]
    return np.logical_and.reduce(masks) if tree.kind == "and" else np.logical_or.reduce(masks)


def _split_by_axis(tree) -> dict[str, list]:
    """Top-level AND terms grouped by axis; an OR must stay on one axis."""
    terms = tree.parts if isinstance(tree, BoolOp) and tree.kind == "and" else (tree,)
    out: dict[str, list] = {"row": [], "col": []}
    for term in terms:
        axes = _axes(term)
        if len(axes) > 1:
            raise ValueError(
                "A filter cannot join 'row' and 'col' criteria with OR; join them "
                "with AND, e.g. 'row any >= 1 AND col all < 5'."
            )
        out[axes.pop()].append(term)
    return out


@dataclass(frozen=True)
class Filtered:
    """The result of :func:`apply_filter`: the rows and columns kept, and those removed."""

    frame: pd.DataFrame
    dropped_rows: pd.Index
    dropped_columns: pd.Index


def filter_matrix(frame: pd.DataFrame, text: str) -> pd.DataFrame:
    """Keep the rows and columns of ``frame`` that pass the filter ``text``.

    A filter that removes every row or every column is an error, not an empty matrix.

    Parameters
    ----------
    frame
        A numeric rows x columns frame; it is only read.
    text
        The filter (see :func:`parse_filter`), e.g. ``"row any >= 1.2"``.

    Returns
    -------
    pandas.DataFrame
        The rows and columns of ``frame`` that pass, in their order.

    Examples
    --------
    >>> import pandas as pd
    >>> import sc_heatmaps as sch
    >>> frame = pd.DataFrame({"a": [0.5, 2.0, 1.0], "b": [0.1, 0.2, 3.0]},
    ...                      index=["g1", "g2", "g3"])
    >>> sch.arrange.filter_matrix(frame, "row any >= 1.5")
          a    b
    g2  2.0  0.2
    g3  1.0  3.0
    """
    return apply_filter(frame, text).frame


def apply_filter(frame: pd.DataFrame, text: str) -> Filtered:
    """:func:`filter_matrix`, also saying which rows and columns the filter removed
    (so that figures can record them).

    Parameters
    ----------
    frame
        A numeric rows x columns frame; it is only read.
    text
        The filter (see :func:`parse_filter`).

    Returns
    -------
    Filtered
        ``.frame`` (what passes), ``.dropped_rows`` and ``.dropped_columns``.

    Examples
    --------
    >>> import pandas as pd
    >>> import sc_heatmaps as sch
    >>> frame = pd.DataFrame({"a": [0.5, 2.0], "b": [0.1, 0.2]}, index=["g1", "g2"])
    >>> result = sch.arrange.apply_filter(frame, "row any >= 1 AND col any >= 1")
    >>> list(result.dropped_rows), list(result.dropped_columns)
    (['g1'], ['b'])
    """
    keep = _keep(frame, text)
    return Filtered(
        frame=frame.loc[keep["row"], keep["col"]],
        dropped_rows=frame.index[~keep["row"]],
        dropped_columns=frame.columns[~keep["col"]],
    )


def _keep(frame: pd.DataFrame, text: str) -> dict[str, np.ndarray]:
    """Boolean masks of the rows and columns that pass the filter."""
    terms = _split_by_axis(parse_filter(text))
    values = frame.to_numpy(dtype=np.float64)
    keep = {}
    for axis, n in (("row", values.shape[0]), ("col", values.shape[1])):
        masks = [_evaluate(t, values, axis) for t in terms[axis]]
        keep[axis] = np.logical_and.reduce(masks) if masks else np.ones(n, dtype=bool)
        if not keep[axis].any():
            raise ValueError(
                f"The filter {text!r} removes every {axis}; nothing would be drawn. "
                f"Values range from {np.nanmin(values):.3g} to "
                f"{np.nanmax(values):.3g}."
            )
    return keep
