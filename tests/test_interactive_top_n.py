"""Interactive view: "keep top N" and the row order rank the unscaled values (Kang data)."""

from __future__ import annotations

import numpy as np
import pytest
from test_interactive import _state
from test_interactive import page_for as _page_for

import sc_heatmaps as sch

page_for = _page_for  # the headless Chromium fixture of test_interactive


@pytest.mark.parametrize("by", ["variance", "sum"])
def test_interactive_top_n_ranks_unscaled_means_on_kang(kang, page_for, tmp_path, by):
    plot = sch.pl.grouped_heatmap(kang, cluster_key="cluster_id", dataset_key="group_id")
    genes = list(plot.data.index.get_level_values("gene"))
    assert len(genes) == len(set(genes)) > 20
    ge = sch.get.grouped_expression(kang, genes, ["group_id", "cluster_id"], scale=None)
    means = ge.matrix.loc[genes, plot.data.columns].to_numpy(dtype=np.float64)
    score = means.var(axis=1) if by == "variance" else means.sum(axis=1)
    ranked = [genes[i] for i in np.argsort(-score, kind="stable")]

    page = page_for(sch.pl.interactive_heatmap(plot, tmp_path / "kang.html").path)
    page.select_option("#sch-top-by", by)
    for n in (10, 20):
        page.select_option("#sch-top-n", str(n))
        rows, _ = _state(page)
        assert {genes[i] for i in rows} == set(ranked[:n])
    page.select_option("#sch-top-n", "all")
    page.select_option("#sch-row-order", by)
    rows, _ = _state(page)
    assert [genes[i] for i in rows] == ranked
    assert page.errors == []
