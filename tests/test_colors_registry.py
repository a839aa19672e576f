"""The colour registry: one colour per category of an obs key, from one palette.

Colour distances are CIE76 Delta E in CIELAB (D65), computed here from the standard
sRGB formulas with numpy, independently of matplotlib's and glasbey's colour code.

Thresholds:
- DISTINCT = 12: the smallest Delta E76 between two palette colours. 2.3 is a just
  noticeable difference for adjacent patches; 12 is five of them, and scanpy's own
  ``default_20`` (which the palette starts with) has 14.2 as its closest pair
  (#b5bd61 / #dbdb8d). The palette measures 14.2 (no new colour is closer than that).
- NEAR_WHITE = 25: a colour within Delta E76 25 of white is near white. This catches
  the near-white colours of scanpy's ``default_102`` that the issue complained of
  (#fde8dc 11.9, #ddefff 12.0, #ffdbe5 16.9, #c2ffed 23.2). The palette's closest
  colour to white is scanpy's #9edae5 at 26.0.
- MAX_L = 86: no colour lighter than L* 86. The lightest colour is scanpy's #dbdb8d
  (L* 85.8, but chroma 40, Delta E 42.5 from white: a khaki, clearly not white), kept so
  that up to 20 categories match scanpy's UMAPs. The glasbey colours stay within L* 85
  (measured 82.3).
"""

from __future__ import annotations

import itertools
import re
import warnings

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from conftest import fingerprint, make_synthetic

import sc_heatmaps as sch
from sc_heatmaps.get._colors import bar_colors, default_palette

DISTINCT = 12.0
NEAR_WHITE = 25.0
MAX_L = 86.0
MAX_L_GENERATED = 85.0

SCANPY_DEFAULT_20 = [  # scanpy.plotting.palettes.default_20, also checked against scanpy below
    "#1f77b4", "#ff7f0e", "#279e68", "#d62728", "#aa40fc", "#8c564b", "#e377c2",
    "#b5bd61", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5",
    "#c49c94", "#f7b6d2", "#dbdb8d", "#9edae5", "#ad494a", "#8c6d31",
]  # fmt: skip


def srgb_to_lab(hexes: list[str]) -> np.ndarray:
    """CIELAB (D65, 2 degrees) of sRGB hex colours, from the IEC 61966-2-1 and CIE formulas."""
    rgb = np.array([[int(h[i : i + 2], 16) for i in (1, 3, 5)] for h in hexes]) / 255.0
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    m = np.array(
        [
            [0.4124564, 0.3575761, 0.1804375],
            [0.2126729, 0.7151522, 0.0721750],
            [0.0193339, 0.1191920, 0.9503041],
        ]
    )
    xyz = linear @ m.T / np.array([0.95047, 1.0, 1.08883])
    eps, kappa = 216 / 24389, 24389 / 27
    f = np.where(xyz > eps, np.cbrt(xyz), (kappa * xyz + 16) / 116)
    return np.stack(
        [116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], axis=1
    )


def delta_e76(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.norm(a - b, axis=-1)


def adata_with(n: int, uns_colors=None) -> ad.AnnData:
    """``n`` categories g0..g{n-1} (two cells each), optionally with uns colours."""
    names = [f"g{i}" for i in range(n)]
    obs = pd.DataFrame({"grp": pd.Categorical(np.repeat(names, 2), categories=names)})
    obs.index = [f"cell{i}" for i in range(len(obs))]
    adata = ad.AnnData(np.zeros((len(obs), 1), dtype=np.float32), obs=obs)
    if uns_colors is not None:
        adata.uns["grp_colors"] = uns_colors
    return adata


def colors_for(n: int) -> list[str]:
    """The registry's colours for ``n`` categories without uns colours."""
    return list(sch.get.category_colors(adata_with(n), "grp").values())


def palette_size() -> int:
    from sc_heatmaps._palette import PALETTE

    return len(PALETTE)


def test_lab_conversion_matches_known_values():
    lab = srgb_to_lab(["#ffffff", "#000000", "#ff0000", "#808080"])
    expected = [[100, 0, 0], [0, 0, 0], [53.24, 80.09, 67.20], [53.59, 0, 0]]
    np.testing.assert_allclose(lab, expected, atol=0.01)


def test_palette_holds_at_least_60_distinct_hex_colours():
    from sc_heatmaps._palette import PALETTE

    assert len(PALETTE) >= 60
    assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in PALETTE)
    assert len(set(PALETTE)) == len(PALETTE)
    assert colors_for(len(PALETTE)) == list(PALETTE)


def test_palette_colours_are_distinguishable():
    n = palette_size()
    lab = srgb_to_lab(colors_for(n))
    d = delta_e76(lab[:, None], lab[None, :])
    pairs = [(i, j, d[i, j]) for i, j in itertools.combinations(range(n), 2)]
    closest = min(pairs, key=lambda p: p[2])
    assert closest[2] >= DISTINCT, f"colours {closest[:2]} are only Delta E {closest[2]:.1f} apart"


@pytest.mark.parametrize("n", [38, 64])
def test_no_colour_is_near_white(n):
    """The issue's 38-colour case and the whole palette: nothing near white."""
    colors = colors_for(n)
    lab = srgb_to_lab(colors)
    to_white = delta_e76(lab, np.array([100.0, 0.0, 0.0]))
    pairs = zip(colors, to_white.round(1), strict=True)
    near = [(c, float(e)) for c, e in pairs if e < NEAR_WHITE]
    assert near == [], f"near-white colours (Delta E76 to white < {NEAR_WHITE}): {near}"
    light = [c for c, lstar in zip(colors, lab[:, 0], strict=True) if lstar > MAX_L]
    assert light == []
    assert lab[20:, 0].max() <= MAX_L_GENERATED


def test_first_20_are_scanpys_default_20():
    from scanpy.plotting import palettes

    assert [c.lower() for c in palettes.default_20] == SCANPY_DEFAULT_20
    for n in (3, 20, 25, 40, 64, 100):
        assert [c.lower() for c in colors_for(n)[: min(n, 20)]] == SCANPY_DEFAULT_20[:n]


def test_a_category_keeps_its_colour_when_categories_are_added():
    """Colour i depends on the position only, not on how many categories there are."""
    longest = colors_for(200)
    for n in (5, 20, 21, 28, 30, 64, 65, 103, 150):
        assert colors_for(n) == longest[:n]


@pytest.mark.parametrize("n", [40, 200])
def test_many_categories_get_distinct_colours(n):
    colors = colors_for(n)
    assert len(colors) == n and len(set(colors)) == n
    assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in colors)
    to_white = delta_e76(srgb_to_lab(colors), np.array([100.0, 0.0, 0.0]))
    assert to_white.min() >= NEAR_WHITE


def test_valid_uns_colours_are_used():
    adata = adata_with(3, ["red", "#00FF00", (0.0, 0.0, 1.0)])
    assert sch.get.category_colors(adata, "grp") == {
        "g0": "#ff0000",
        "g1": "#00ff00",
        "g2": "#0000ff",
    }
    # more colours than categories (a subset of scanpy's data): the first ones
    adata = adata_with(2, np.array(["#111111", "#222222", "#333333"]))
    assert sch.get.category_colors(adata, "grp") == {"g0": "#111111", "g1": "#222222"}


@pytest.mark.parametrize(
    "uns_colors",
    [
        ["#111111", "#222222"],  # too few
        ["#111111", "not-a-colour", "#333333"],  # an invalid entry
        "red",  # a string, not a list of colours
        {"g0": "#111111", "g1": "#222222", "g2": "#333333"},  # a mapping, not a list
        [],
    ],
)
def test_invalid_uns_colours_fall_back_to_the_palette(uns_colors):
    colors = sch.get.category_colors(adata_with(3, uns_colors), "grp")
    assert colors == dict(zip(["g0", "g1", "g2"], SCANPY_DEFAULT_20[:3], strict=True))


def test_registry_is_per_key_whatever_the_role():
    """A key's colours do not depend on whether it is the dataset key of a figure."""
    a = make_synthetic()
    own = {k: sch.get.category_colors(a, k) for k in ("dataset", "cluster")}
    assert own["dataset"] == dict(zip(["d1", "d2"], SCANPY_DEFAULT_20[:2], strict=True))
    for dataset_key in ("dataset", "cluster", None):
        assert bar_colors(a, ["dataset", "cluster"], dataset_key) == own
    assert bar_colors(a, ["cluster"], None) == {"cluster": own["cluster"]}
    for role in ("dataset", "cluster"):
        with pytest.warns(DeprecationWarning, match="role"):
            assert sch.get.category_colors(a, "dataset", role=role) == own["dataset"]
        with pytest.warns(DeprecationWarning, match="role"):
            assert sch.get.category_colors(a, "cluster", role) == own["cluster"]


def test_default_palette_ignores_role_with_a_deprecation_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plain = default_palette(5)
    assert plain == SCANPY_DEFAULT_20[:5]
    with pytest.warns(DeprecationWarning, match="role"):
        assert default_palette(5, role="dataset") == plain
    assert default_palette(70) == colors_for(70)


@pytest.mark.parametrize("uns_colors", [None, ["#111111", "#222222", "#333333"], ["bad"] * 3])
def test_adata_is_not_modified(uns_colors):
    a = adata_with(3, uns_colors)
    a.obs["plain"] = ["x", "y"] * 3  # a string column: made categorical on the fly
    before = fingerprint(a)
    sch.get.category_colors(a, "grp")
    sch.get.category_colors(a, "plain")
    bar_colors(a, ["plain", "grp"], "plain")
    default_palette(3)
    assert fingerprint(a) == before
    assert ("grp_colors" in a.uns) is (uns_colors is not None)
    assert "plain_colors" not in a.uns
    assert a.obs["plain"].dtype == object or pd.api.types.is_string_dtype(a.obs["plain"])
