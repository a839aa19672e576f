"""One wording for the statistic: the correlation colour bar and the HTML say "Pearson r"
or "Spearman ρ"; dual-expression plots write ρ for Spearman and r for Pearson."""

from __future__ import annotations

import json
import re

import pytest
from matplotlib.text import Text

import sc_heatmaps as sch

GENES = ["G00", "G01", "G04", "G05", "G08", "G12"]


def _texts(fig) -> list[str]:
    """Every visible text, lines joined (a note may be wrapped to the panel width)."""
    texts = [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]
    return [" ".join(t.split()) for t in texts]


@pytest.mark.parametrize(
    ("method", "label"), [("pearson", "Pearson r"), ("spearman", "Spearman ρ")]
)
def test_correlation_colour_bar_names_the_statistic(synthetic, method, label):
    X = synthetic.X.toarray()
    X[:, 12] = 0.0  # constant: dropped, and the figure says so
    synthetic.X = X
    plot = sch.pl.correlation_heatmap(synthetic, genes=GENES, method=method, min_nonzero=0)
    texts = _texts(plot.figure)
    assert label in texts
    assert not any(t.lower() == label.lower() and t != label for t in texts)
    assert "1 gene dropped: constant" in texts
    page = sch.pl.interactive_heatmap(plot)  # the HTML names the statistic the same way
    raw = re.search(r'<script id="sch-data" type="application/json">(.*?)</script>', page, re.S)
    assert json.loads(raw.group(1))["value_name"] == label


def test_dual_expression_labels_spearman_rho_and_pearson_r(synthetic):
    for method, symbol, other in [("spearman", "ρ", "r"), ("pearson", "r", "ρ")]:
        legend = sch.pl.dual_expression(synthetic, "G00", "G01", color="cluster", method=method)
        split = sch.pl.dual_expression(
            synthetic, "G00", "G01", color="cluster", split_by="dataset", method=method
        )
        for plot in (legend, split):
            texts = " | ".join(_texts(plot.figure))
            assert f"{symbol}=" in texts
            assert f"{other}=" not in texts
