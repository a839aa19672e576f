"""An option given both at the top level and in a ``*_kws`` dict is refused, naming both
(it used to be drawn from one and recorded from the other)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

import sc_heatmaps as sch


@pytest.fixture(scope="module")
def example():
    return sch.datasets.example()


@pytest.mark.parametrize(
    ("markers_kws", "names"),
    [
        ({"n_genes": 3}, ["markers_kws['n_genes']=3", "n_genes=2"]),
        ({"groups": ["B"]}, ["markers_kws['groups']=['B']", "clusters="]),
        ({"kind": "conserved"}, ["markers_kws['kind']='conserved'", "markers='top'"]),
        ({"dataset_key": "dataset"}, ["markers_kws['dataset_key']='dataset'", "dataset_key="]),
        ({"gene_symbols": "x"}, ["markers_kws['gene_symbols']='x'", "gene_symbols="]),
    ],
)
def test_markers_kws_repeating_a_figure_option_is_refused(example, markers_kws, names):
    with pytest.raises(ValueError) as err:
        sch.pl.grouped_heatmap(example, cluster_key="cluster", n_genes=2, markers_kws=markers_kws)
    for name in names:
        assert name in str(err.value)
    plt.close("all")


def test_markers_kws_with_given_genes_is_refused(example):
    with pytest.raises(ValueError, match=r"markers_kws=.*var_names are given"):
        sch.pl.grouped_heatmap(
            example, ["CD3E"], cluster_key="cluster", markers_kws={"method": "wilcoxon"}
        )


def test_drawn_markers_per_cluster_equal_the_recorded_n_genes(example):
    """Other marker options still pass through, and the sidecar's n_genes is what is
    drawn: 2 genes per cluster (scanpy's Wilcoxon ranking decides which)."""
    plot = sch.pl.grouped_heatmap(
        example, cluster_key="cluster", n_genes=2, markers_kws={"method": "wilcoxon"}
    )
    try:
        per_cluster = plot.data.groupby(level=0, observed=True).size()
        assert set(per_cluster) == {2}
        assert plot.params["n_genes"] == 2
        assert plot.params["markers_kws"] == {"method": "wilcoxon"}
        assert {len(genes) for genes in plot.params["genes"].values()} == {2}
    finally:
        plt.close(plot.figure)


def test_conserved_kws_repeating_a_marker_genes_argument_is_refused(example):
    with pytest.raises(ValueError, match=r"conserved_kws repeats \['n_genes'\].*n_genes="):
        sch.get.marker_genes(
            example,
            "cluster",
            n_genes=2,
            kind="conserved",
            dataset_key="dataset",
            conserved_kws={"n_genes": 3},
        )
