"""Dual expression: statistics against scipy, drawing structure, file size, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from conftest import fingerprint
from matplotlib.colors import to_hex

import sc_heatmaps as sch


def _values(adata, gene):
    col = adata[:, gene].X
    return np.asarray(col.toarray() if hasattr(col, "toarray") else col, dtype=np.float64).ravel()


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_stats_equal_scipy_per_group(synthetic, method):
    de = sch.get.dual_expression(synthetic, "G00", "G01", color="cluster", method=method)
    x, y = _values(synthetic, "G00"), _values(synthetic, "G01")
    test = scipy.stats.pearsonr if method == "pearson" else scipy.stats.spearmanr
    for row in de.stats.to_dict("records"):
        keep = (
            np.ones(len(x), bool)
            if row["all_groups"]
            else (synthetic.obs["cluster"] == row["group"]).to_numpy()
        )
        expected = test(x[keep], y[keep])
        assert row["n"] == keep.sum() == row["n_total"]
        assert row["r"] == pytest.approx(expected.statistic, rel=1e-9)
        assert row["pval"] == pytest.approx(expected.pvalue, rel=1e-6)


def test_fractions_are_counted_independently(synthetic):
    de = sch.get.dual_expression(synthetic, "G00", "G05", color="dataset", threshold=0.5)
    x, y = _values(synthetic, "G00"), _values(synthetic, "G05")
    for ds in ["d1", "d2"]:
        m = (synthetic.obs["dataset"] == ds).to_numpy()
        row = de.stats.set_index("group").loc[ds]
        xs, ys = x[m] > 0.5, y[m] > 0.5
        assert row["frac_x_only"] == pytest.approx(np.mean(xs & ~ys))
        assert row["frac_y_only"] == pytest.approx(np.mean(~xs & ys))
        assert row["frac_both"] == pytest.approx(np.mean(xs & ys))
        assert row["frac_neither"] == pytest.approx(np.mean(~xs & ~ys))


def test_split_by_gives_rows_per_panel_and_group(synthetic):
    de = sch.get.dual_expression(synthetic, "G00", "G04", color="cluster", split_by="dataset")
    per_panel = de.stats[~de.stats["all_panels"]]
    panels = per_panel.groupby("split", sort=False)["group"].apply(list).to_dict()
    assert panels["d1"] == ["c0", "c1", "c2", "c3", None]
    pooled = de.stats[de.stats["all_panels"]]
    assert list(pooled["group"]) == [None] and list(pooled["split"]) == [None]
    m = ((synthetic.obs["dataset"] == "d2") & (synthetic.obs["cluster"] == "c1")).to_numpy()
    row = de.stats[(de.stats["split"] == "d2") & (de.stats["group"] == "c1")].iloc[0]
    expected = scipy.stats.pearsonr(_values(synthetic, "G00")[m], _values(synthetic, "G04")[m])
    assert row["r"] == pytest.approx(expected.statistic)


def test_exclude_double_zero(synthetic):
    de = sch.get.dual_expression(synthetic, "G00", "G04", exclude_double_zero=True)
    x, y = _values(synthetic, "G00"), _values(synthetic, "G04")
    keep = (x > 0) | (y > 0)
    row = de.stats.iloc[-1]
    assert row["n"] == keep.sum() and row["n_total"] == len(x)
    assert row["r"] == pytest.approx(scipy.stats.pearsonr(x[keep], y[keep]).statistic)
    assert len(de.cells) == keep.sum()


def test_cells_frame_and_cluster_subset(synthetic):
    de = sch.get.dual_expression(
        synthetic,
        "G00",
        "G04",
        color="dataset",
        clusters="c0,c1",
        cluster_key="cluster",
        split_by="cluster",
    )
    assert list(de.cells.columns) == ["x", "y", "color", "split"]
    assert set(de.cells["split"].astype(str)) == {"c0", "c1"}
    keep = synthetic.obs["cluster"].isin(["c0", "c1"]).to_numpy()
    np.testing.assert_allclose(de.cells["x"], _values(synthetic, "G00")[keep])


def test_constant_gene_gives_nan_r_not_an_exception(synthetic):
    X = synthetic.X.toarray()
    X[:, 3] = 0.0
    synthetic.X = X
    de = sch.get.dual_expression(synthetic, "G00", "G03", color="cluster")
    assert de.stats["r"].isna().all()


def test_errors_name_valid_choices(kang, synthetic):
    with pytest.raises(KeyError, match=r"'CD79A' \(did you mean 'CD79A_ENSG00000105369'"):
        sch.pl.dual_expression(kang, "CD79A", "MS4A1", color="group_id")
    with pytest.raises(ValueError, match="both 'G00'"):
        sch.get.dual_expression(synthetic, "G00", "G00")
    with pytest.raises(KeyError, match=r"'donor'.*valid keys"):
        sch.pl.dual_expression(synthetic, "G00", "G01", color="donor")
    with pytest.raises(KeyError, match=r"'batch'.*valid keys"):
        sch.pl.dual_expression(synthetic, "G00", "G01", color="dataset", split_by="batch")
    synthetic.obs["score"] = np.linspace(0, 1, synthetic.n_obs)
    with pytest.raises(ValueError, match="'score' is a continuous"):
        sch.pl.dual_expression(synthetic, "G00", "G01", color="score")
    with pytest.raises(ValueError, match=r"method='kendall'.*'pearson', 'spearman'"):
        sch.get.dual_expression(synthetic, "G00", "G01", method="kendall")


def test_plot_structure_panels_shared_axes_legend(synthetic):
    synthetic.uns["cluster_colors"] = ["#aa0000", "#00aa00", "#0000aa", "#aaaa00"]
    plot = sch.pl.dual_expression(synthetic, "G00", "G04", color="cluster", split_by="dataset")
    panels = plot.axes["panels"]
    assert list(panels) == ["d1", "d2"]
    a, b = panels["d1"], panels["d2"]
    assert a.get_xlim() == b.get_xlim() and a.get_ylim() == b.get_ylim()
    assert a.get_shared_x_axes().joined(a, b)
    labels = [t.get_text() for t in plot.axes["legend"].get_texts()]
    assert [label.split("  ")[0] for label in labels] == ["c0", "c1", "c2", "c3"]
    assert " d1 r=" in labels[1] and " d2 r=" in labels[1]  # per-panel r in the legend
    colors = [to_hex(h.get_markerfacecolor()) for h in plot.axes["legend"].legend_handles]
    assert colors == ["#aa0000", "#00aa00", "#0000aa", "#aaaa00"]
    for ax in panels.values():
        (points,) = ax.collections
        assert points.get_rasterized()
        assert " r=" in ax.get_title()
    assert sum(len(ax.collections[0].get_offsets()) for ax in panels.values()) == synthetic.n_obs


def test_legend_shows_r_and_n_without_split(synthetic):
    plot = sch.pl.dual_expression(synthetic, "G00", "G01", color="dataset")
    stats = plot.stats.set_index("group")
    labels = [t.get_text() for t in plot.axes["legend"].get_texts()]
    assert labels[0] == f"d1  r={stats.loc['d1', 'r']:.2f} n={stats.loc['d1', 'n']:,}"


def test_point_colours_follow_the_group_and_shuffle_is_seeded(synthetic):
    synthetic.uns["dataset_colors"] = ["#ff0000", "#0000ff"]
    p1 = sch.pl.dual_expression(synthetic, "G00", "G01", color="dataset", random_state=1)
    p2 = sch.pl.dual_expression(synthetic, "G00", "G01", color="dataset", random_state=1)
    pts1 = p1.axes["panels"]["all"].collections[0]
    pts2 = p2.axes["panels"]["all"].collections[0]
    np.testing.assert_array_equal(pts1.get_offsets(), pts2.get_offsets())
    x = _values(synthetic, "G00")
    drawn = pd.DataFrame(pts1.get_offsets(), columns=["x", "y"])
    red = [to_hex(c) == "#ff0000" for c in pts1.get_facecolors()]
    # drawn in shuffled order: groups interleave rather than one block after another
    assert np.count_nonzero(np.diff(red)) > 10
    d1 = (synthetic.obs["dataset"] == "d1").to_numpy()
    assert sorted(drawn.loc[red, "x"]) == pytest.approx(sorted(x[d1]))


def test_jitter_is_drawn_only(synthetic):
    plain = sch.pl.dual_expression(synthetic, "G00", "G01", color="dataset")
    jit = sch.pl.dual_expression(synthetic, "G00", "G01", color="dataset", jitter=0.1)
    pd.testing.assert_frame_equal(plain.stats, jit.stats)
    pd.testing.assert_frame_equal(plain.data, jit.data)
    offsets = jit.axes["panels"]["all"].collections[0].get_offsets()
    assert (np.abs(offsets[:, 0]) < 1e-12).sum() == 0  # zeros were spread
    assert np.abs(offsets - plain.axes["panels"]["all"].collections[0].get_offsets()).max() <= 0.1


def test_max_points_keeps_every_group(synthetic):
    plot = sch.pl.dual_expression(synthetic, "G00", "G01", color="cluster", max_points=20)
    drawn = len(plot.axes["panels"]["all"].collections[0].get_offsets())
    assert drawn == synthetic.n_obs  # MIN_PER_GROUP keeps small groups whole
    assert plot.stats.iloc[-1]["n"] == synthetic.n_obs


def _big(n: int):
    import sys

    from conftest import ROOT

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from dual_expression import make_adata

    return make_adata(n)


def test_density_mode_shows_every_group_and_pdf_size_is_bounded(tmp_path):
    sizes = {}
    for n in (10_000, 300_000):
        plot = sch.pl.dual_expression(_big(n), "GENEA", "GENEB", color="dataset")
        sizes[n] = plot.savefig(tmp_path / f"d{n}.pdf", sidecars=False)[0].stat().st_size
        if n == 300_000:
            assert plot.modes == {None: "density"}
            (image,) = plot.axes["panels"]["all"].images
            rgba = image.get_array()
            # every group's colour is present among the drawn pixels
            pix = rgba[rgba[..., 3] > 0][:, :3]
            for color in plot.axes["legend"].legend_handles:
                target = np.array(matplotlib_rgb(color.get_markerfacecolor()))
                assert np.abs(pix - target).sum(axis=1).min() < 0.15
    assert sizes[300_000] < 1.5 * sizes[10_000] and sizes[300_000] < 1_000_000


def matplotlib_rgb(color):
    from matplotlib.colors import to_rgb

    return to_rgb(color)


def test_sidecar_holds_the_stats(synthetic, tmp_path):
    plot = sch.pl.dual_expression(synthetic, "G00", "G01", color="dataset")
    _, tsv, js = plot.savefig(tmp_path / "dual.svg")
    table = pd.read_csv(tsv, sep="\t", index_col=0)
    assert list(table["group"].iloc[:2]) == ["d1", "d2"] and pd.isna(table["group"].iloc[2])
    assert list(table["all_groups"]) == [False, False, True]
    np.testing.assert_allclose(table["r"], plot.stats["r"], rtol=1e-5)
    assert "svg" in js.read_text()


def test_draw_into_given_axes(synthetic):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    plot = sch.pl.dual_expression(synthetic, "G00", "G01", color="dataset", ax=ax)
    assert plot.figure is fig and plot.axes["panels"]["all"] is ax
    with pytest.raises(ValueError, match="split_by"):
        sch.pl.dual_expression(synthetic, "G00", "G01", ax=ax, split_by="dataset")


def test_dual_does_not_modify_adata(synthetic):
    before = fingerprint(synthetic)
    sch.pl.dual_expression(
        synthetic,
        "G00",
        "G01",
        color="cluster",
        split_by="dataset",
        clusters="c0,c1",
        cluster_key="cluster",
        jitter=0.1,
    )
    sch.get.dual_expression(synthetic, "G00", "G01", exclude_double_zero=True)
    assert fingerprint(synthetic) == before


def test_kang_isg15_ifi6(kang):
    plot = sch.pl.dual_expression(kang, "ISG15", "IFI6", color="group_id")
    x, y = _values(kang, "ISG15"), _values(kang, "IFI6")
    pooled = plot.stats[plot.stats["all_groups"]]
    stats = plot.stats[~plot.stats["all_groups"]].set_index("group")
    overall = scipy.stats.pearsonr(x, y).statistic
    assert overall > 0.6  # both genes rise together with interferon
    assert pooled["r"].item() == pytest.approx(overall)
    for cond in ["ctrl", "stim"]:
        m = (kang.obs["group_id"] == cond).to_numpy()
        assert stats.loc[cond, "r"] == pytest.approx(scipy.stats.pearsonr(x[m], y[m]).statistic)
        # within one condition the correlation is far weaker than across conditions
        assert abs(stats.loc[cond, "r"]) < overall - 0.3
    assert stats.loc["stim", "frac_both"] > 0.8 > stats.loc["ctrl", "frac_both"]
