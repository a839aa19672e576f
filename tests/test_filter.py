"""The filter language: parser, precedence, errors, and each operator against numpy."""

from __future__ import annotations

import operator
import re

import numpy as np
import pandas as pd
import pytest

from sc_heatmaps.arrange import FilterSyntaxError, filter_matrix, parse_filter

RNG = np.random.default_rng(3)
FRAME = pd.DataFrame(
    RNG.uniform(0, 2, (12, 5)).round(1), index=[f"g{i}" for i in range(12)], columns=list("abcde")
)
V = FRAME.to_numpy()
NP_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "=": np.isclose}


@pytest.mark.parametrize("op", list(NP_OPS))
@pytest.mark.parametrize("quantifier", ["any", "all"])
def test_each_row_operator_matches_numpy(op, quantifier):
    text = f"row {quantifier} {op} 1.0"
    hits = NP_OPS[op](V, 1.0)
    mask = hits.any(axis=1) if quantifier == "any" else hits.all(axis=1)
    if not mask.any():
        with pytest.raises(ValueError, match="removes every row"):
            filter_matrix(FRAME, text)
        return
    out = filter_matrix(FRAME, text)
    assert list(out.index) == list(FRAME.index[mask])
    assert list(out.columns) == list(FRAME.columns)


@pytest.mark.parametrize("op", list(NP_OPS))
def test_each_col_operator_matches_numpy(op):
    mask = NP_OPS[op](V, 0.5).any(axis=0)
    out = filter_matrix(FRAME, f"col any {op} 0.5")
    assert list(out.columns) == list(FRAME.columns[mask])


def test_and_binds_tighter_than_or():
    text = "row any >= 1.8 OR row all >= 0.3 AND row any <= 0.5"
    a = (V >= 1.8).any(axis=1)
    b = (V >= 0.3).all(axis=1)
    c = (V <= 0.5).any(axis=1)
    out = filter_matrix(FRAME, text)
    assert list(out.index) == list(FRAME.index[a | (b & c)])
    grouped = filter_matrix(FRAME, "(row any >= 1.8 OR row all >= 0.3) AND row any <= 0.5")
    assert list(grouped.index) == list(FRAME.index[(a | b) & c])


def test_issue_example_and_mixed_axes():
    out = filter_matrix(FRAME, "row any >= 1.2 OR row any <= 0.8")
    mask = (V >= 1.2).any(axis=1) | (V <= 0.8).any(axis=1)
    assert list(out.index) == list(FRAME.index[mask])
    both = filter_matrix(FRAME, "row any >= 1.5 AND col all > 0.05")
    assert list(both.index) == list(FRAME.index[(V >= 1.5).any(axis=1)])
    assert list(both.columns) == list(FRAME.columns[(V > 0.05).all(axis=0)])
    with pytest.raises(ValueError, match="cannot join 'row' and 'col' criteria with OR"):
        filter_matrix(FRAME, "row any >= 1 OR col any >= 1")


def test_keywords_are_case_insensitive():
    assert parse_filter("ROW Any >= 1 or row ALL < 2") == parse_filter(
        "row any >= 1 OR row all < 2"
    )


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("row any >= abc", "expected a number", 12),
        ("row any >= ", "expected a number", 12),
        ("rows any >= 1", "expected 'row' or 'col'", 1),
        ("row some >= 1", "expected 'any' or 'all'", 5),
        ("row any => 1", "expected a number", 10),
        ("row any 1", "expected a comparison", 9),
        ("row any >= 1 OR", "expected 'row' or 'col'", 16),
        ("row any >= 1 row all < 2", "expected 'AND', 'OR' or the end", 14),
        ("(row any >= 1", "expected ')'", 14),
        ("row any >= 1 AND (col any < 1", "expected ')'", 30),
        ("", "the filter is empty", 1),
        ("row any >= nan", "expected a number", 12),
    ],
)
def test_syntax_errors_point_at_the_column(text, message, column):
    with pytest.raises(FilterSyntaxError, match=re.escape(message)) as err:
        parse_filter(text)
    assert err.value.column == column
    assert f"at column {column}" in str(err.value)
    caret_line = str(err.value).splitlines()[-1]
    assert caret_line.index("^") - 2 == column - 1  # the caret sits under that column


def test_filter_removing_everything_is_an_error():
    with pytest.raises(ValueError, match="removes every row"):
        filter_matrix(FRAME, "row any > 100")
    with pytest.raises(ValueError, match="removes every col"):
        filter_matrix(FRAME, "col all < -1")


def _nested(depth: int, inner: str = "row any >= 1.5") -> str:
    return "(" * depth + inner + ")" * depth


def test_nesting_is_limited_with_a_clear_error():
    # 400 levels used to exhaust Python's stack (RecursionError) in the parser
    for depth in (33, 400, 5000):
        with pytest.raises(FilterSyntaxError, match="parentheses are nested more than 32 deep"):
            parse_filter(_nested(depth))
        with pytest.raises(FilterSyntaxError, match="nested more than 32 deep") as err:
            filter_matrix(FRAME, _nested(depth))
        assert err.value.column == 33  # the caret sits at the first parenthesis too many


def test_nesting_up_to_the_limit_means_the_same():
    flat = filter_matrix(FRAME, "row any >= 1.5 AND row all > 0.1")
    deep = filter_matrix(FRAME, _nested(16, _nested(16) + " AND row all > 0.1"))  # 32 deep
    assert deep.equals(flat)
