"""A z-score across two groups shows only which group is higher: the colour bar and
the sidecar say so (Kang data)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from matplotlib.text import Text
from scipy import sparse

import sc_heatmaps as sch

GENES = ["ISG15", "IFI6", "CD74", "LYZ", "FCGR3A", "CD3E", "MS4A1", "NKG7", "S100A8"]


def _means(adata, genes: list[str], key: str) -> pd.DataFrame:
    """Genes x categories mean of adata.X, with pandas (independent of the package)."""
    x = adata[:, genes].X
    x = x.toarray() if sparse.issparse(x) else np.asarray(x)
    cells = pd.DataFrame(x, columns=genes, index=adata.obs_names)
    return cells.groupby(adata.obs[key].to_numpy()).mean().T


def _figure_texts(plot) -> list[str]:
    return [t.get_text() for t in plot.figure.findobj(Text) if t.get_text()]


def test_zscore_of_two_groups_says_so_in_the_colour_bar(kang, tmp_path):
    plot = sch.pl.grouped_heatmap(kang, GENES, "group_id")
    assert plot.data.shape[1] == 2
    np.testing.assert_allclose(np.abs(plot.data.to_numpy()), 1.0)  # the fact behind it
    (label,) = [t for t in _figure_texts(plot) if t.startswith("mean (RNA)")]
    assert "2 groups" in label and "+1 higher" in label and "lower" in label
    plot.savefig(tmp_path / "z.png", dpi=50)
    meta = json.loads((tmp_path / "z.json").read_text())
    assert "2 groups" in meta["scale_note"] and "only which is higher" in meta["scale_note"]

    five = sch.pl.grouped_heatmap(kang, GENES, "cluster_id")
    assert "mean (RNA)\n(z-score)" in _figure_texts(five)
    assert five.params["scale_note"] is None

    table = _means(kang, GENES, "group_id")
    mplot = sch.pl.matrix_heatmap(table, scale="zscore", value_name="mean")
    (label,) = [t for t in _figure_texts(mplot) if t.startswith("mean\n")]
    assert "2 columns" in label and mplot.params["scale_note"] is not None
