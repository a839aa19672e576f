"""Build the figure gallery: every figure kind, at small and at stressed settings.

Usage::

    python docs/gallery/make_gallery.py [--out docs/gallery] [--only NAME ...] [--html]

Data: the bundled example (``sch.datasets.example()``) and the real datasets in
``$SC_HEATMAPS_DATA`` (default ``../shared/data`` next to the repository): Kang 2018
(``cluster_id``, ``group_id``) and the three 10x PBMC 1k chemistries, concatenated with
their ``dataset`` key and clustered here (Leiden on PCs, and a 40-cluster k-means for the
stressed cases), seeded.

Every case is a function that returns the plot object; :data:`CASES` lists them with the
data they need and the obs keys whose categories they colour, so that
``tests/test_gallery.py`` builds the same figures in-process and checks them (no clipped
or overlapping text, fonts at print size, complete legends, one colour per category).
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import anndata as ad
import matplotlib
import numpy as np
import pandas as pd

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[2]
KANG = "kang2018_muscat_example.h5ad"
PBMC = {
    "pbmc1k_10x_v2": "pbmc1k_10x_v2.h5ad",
    "pbmc1k_10x_v3": "pbmc1k_10x_v3.h5ad",
    "pbmc1k_10x_5prime": "pbmc1k_10x_5prime.h5ad",
}
FILES = {"example": (), "example_onecell": (), "kang": (KANG,), "pbmc": tuple(PBMC.values())}
LONG = 60  # characters in a stressed category name
SEED = 0
PBMC_MARKERS = ["CD3E", "CD8A", "MS4A1", "CD14", "FCGR3A", "NKG7", "PPBP"]
ONECELL_GENES = ["CD3E", "NKG7", "MS4A1", "LYZ", "FCER1A", "PPBP"]
KANG_GENES = ["ISG15", "IFI6", "MX1", "CD3E", "CD14", "FCGR3A", "MS4A1", "CD8A", "LYZ", "NKG7"]


def data_dir() -> Path:
    """Where the real datasets are: ``$SC_HEATMAPS_DATA`` or ``../shared/data``."""
    return Path(os.environ.get("SC_HEATMAPS_DATA", ROOT.parent / "shared" / "data"))


# ------------------------------------------------------------------ data


def long_name(name: str) -> str:
    """A unique category name of exactly ``LONG`` characters that starts with ``name``."""
    text = f"{name} - a deliberately long population label for layout tests"
    return text.ljust(LONG, ".")[:LONG]


def _with_long(adata: ad.AnnData, key: str) -> None:
    cats = adata.obs[key].cat.categories
    adata.obs[f"{key}_long"] = adata.obs[key].cat.rename_categories([long_name(c) for c in cats])


def _log_normalise(adata: ad.AnnData) -> ad.AnnData:
    import scanpy as sc

    adata = adata.copy()
    sc.pp.normalize_total(adata, target_sum=1e4)
    sc.pp.log1p(adata)
    return adata


def _example() -> ad.AnnData:
    import sc_heatmaps as sch

    adata = sch.datasets.example()
    _with_long(adata, "cluster")
    return adata


def _example_onecell() -> ad.AnnData:
    """The example with one-cell groups: DC keeps one cell per dataset, Platelet one
    cell in total."""
    adata = load("example")
    rng = np.random.default_rng(SEED)
    keep = np.ones(adata.n_obs, dtype=bool)
    groups = adata.obs.groupby(["dataset", "cluster"], observed=True).indices
    for (dataset, cluster), rows in groups.items():
        if cluster == "DC" or (cluster == "Platelet" and dataset != "ctrl"):
            keep[rows] = False
            if cluster == "DC":
                keep[rng.choice(rows)] = True
        elif cluster == "Platelet":
            keep[rows] = False
            keep[rng.choice(rows)] = True
    return adata[keep].copy()


def _kang() -> ad.AnnData:
    adata = _log_normalise(ad.read_h5ad(data_dir() / KANG))
    _with_long(adata, "cluster_id")
    _with_long(adata, "group_id")
    return adata


def _read_pbmc() -> ad.AnnData:
    parts = {name: ad.read_h5ad(data_dir() / file) for name, file in PBMC.items()}
    adata = ad.concat(parts, join="inner", label="dataset", index_unique="-")
    adata.obs["dataset"] = pd.Categorical(adata.obs["dataset"], categories=list(PBMC))
    return _log_normalise(adata)


def _pbmc() -> ad.AnnData:
    """The three chemistries, log-normalised, with ``leiden`` clusters named by their
    best marker (``cell_type``) and a 40-cluster k-means of the PCs (``kmeans40``)."""
    import scanpy as sc
    from sklearn.cluster import KMeans

    adata = _read_pbmc()
    hvg = adata.copy()
    sc.pp.highly_variable_genes(hvg, n_top_genes=2000, batch_key="dataset", subset=True)
    sc.pp.pca(hvg, n_comps=30, random_state=SEED)
    sc.pp.neighbors(hvg, random_state=SEED)
    sc.tl.leiden(hvg, flavor="igraph", n_iterations=2, directed=False, random_state=SEED)
    adata.obs["cell_type"] = _name_clusters(adata, hvg.obs["leiden"])
    km = KMeans(n_clusters=40, n_init=4, random_state=SEED).fit(hvg.obsm["X_pca"])
    labels = [f"k{c:02d}" for c in km.labels_]
    adata.obs["kmeans40"] = pd.Categorical(labels, categories=[f"k{c:02d}" for c in range(40)])
    return adata


def _name_clusters(adata: ad.AnnData, leiden: pd.Series) -> pd.Categorical:
    """``"<best marker> <cluster>"``: the known marker with the highest mean z-score."""
    x = adata[:, PBMC_MARKERS].X
    x = np.asarray(x.todense() if hasattr(x, "todense") else x, dtype=np.float64)
    z = (x - x.mean(axis=0)) / np.maximum(x.std(axis=0), 1e-9)
    frame = pd.DataFrame(z, columns=PBMC_MARKERS).groupby(leiden.to_numpy()).mean()
    names = {c: f"{frame.loc[c].idxmax()} {c}" for c in frame.index}
    order = sorted(names, key=int)
    return pd.Categorical([names[c] for c in leiden], categories=[names[c] for c in order])


@functools.cache
def load(name: str) -> ad.AnnData:
    """A gallery dataset by name (cached; the plotting functions never modify it)."""
    loaders = {
        "example": _example,
        "example_onecell": _example_onecell,
        "kang": _kang,
        "pbmc": _pbmc,
    }
    return loaders[name]()


# ------------------------------------------------------------------ cases


@dataclass(frozen=True)
class Case:
    """One gallery figure.

    ``colors`` maps each obs key whose categories the figure colours (in a bar, as
    points or in the HTML) to where: ``"bar"``, ``"points"`` or ``"html"``.
    ``full`` marks stressed or large cases (the ``gallery_full`` test marker).
    """

    name: str
    kind: str
    data: str
    build: Callable
    about: str
    colors: tuple = ()
    full: bool = False

    @property
    def files(self) -> tuple:
        return FILES[self.data]

    def make(self):
        return self.build(load(self.data))


CASES: list[Case] = []


def case(kind: str, data: str, about: str, colors=(), full: bool = False):
    """Register the decorated function as a gallery case named after it."""

    def register(fn):
        CASES.append(Case(fn.__name__, kind, data, fn, about, tuple(dict(colors).items()), full))
        return fn

    return register


def _pl():
    import sc_heatmaps as sch

    return sch.pl


def _mean_frame(adata: ad.AnnData, genes: list[str], key: str) -> pd.DataFrame:
    """Genes x categories mean expression, computed with pandas (for matrix_heatmap)."""
    x = adata[:, genes].X
    x = np.asarray(x.todense() if hasattr(x, "todense") else x, dtype=np.float64)
    frame = pd.DataFrame(x, columns=genes).groupby(adata.obs[key].to_numpy(), observed=True)
    return frame.mean().T


# --- the bundled example: every kind at default settings


@case(
    "grouped",
    "example",
    "Grouped heatmap, default top markers.",
    {"cluster": "bar", "dataset": "bar"},
)
def example_grouped(adata):
    return _pl().grouped_heatmap(adata, cluster_key="cluster", dataset_key="dataset")


@case("cell", "example", "Per-cell heatmap, default markers.", {"cluster": "bar"}, full=True)
def example_cell(adata):
    return _pl().cell_heatmap(adata, cluster_key="cluster", dataset_key="dataset")


@case("matrix", "example", "matrix_heatmap of a ready-made genes x clusters frame.")
def example_matrix(adata):
    genes = ["CD3E", "CD8A", "NKG7", "MS4A1", "CD14", "LYZ", "FCGR3A", "PPBP"]
    return _pl().matrix_heatmap(_mean_frame(adata, genes, "cluster"), scale="zscore")


@case("correlation", "example", "Gene correlation per dataset.", full=True)
def example_correlation(adata):
    genes = ["ISG15", "IFI6", "MX1", "CD3E", "LYZ", "NKG7"]
    return _pl().correlation_heatmap(adata, genes=genes, groupby="dataset")


@case("dual", "example", "Dual expression by cluster, split by dataset.", {"cluster": "points"})
def example_dual(adata):
    return _pl().dual_expression(adata, "ISG15", "IFI6", color="cluster", split_by="dataset")


# --- Kang: the two-condition case (5 clusters, ctrl / stim)


@case(
    "grouped",
    "kang",
    "Kang: grouped heatmap, top markers.",
    {"cluster_id": "bar", "group_id": "bar"},
)
def kang_grouped(adata):
    return _pl().grouped_heatmap(adata, cluster_key="cluster_id", dataset_key="group_id")


@case("cell", "kang", "Kang: per-cell heatmap.", {"cluster_id": "bar", "group_id": "bar"})
def kang_cell(adata):
    return _pl().cell_heatmap(adata, KANG_GENES, cluster_key="cluster_id", dataset_key="group_id")


@case("dual", "kang", "Kang: ISG15 vs IFI6 by cluster, split by condition.",
      {"cluster_id": "points"})  # fmt: skip
def kang_dual(adata):
    return _pl().dual_expression(adata, "ISG15", "IFI6", color="cluster_id", split_by="group_id")


@case("correlation", "kang", "Kang: narrow correlation panels, one per cluster.")
def kang_correlation(adata):
    return _pl().correlation_heatmap(adata, genes=KANG_GENES[:6], groupby="cluster_id")


@case("correlation", "kang", "Kang: pseudobulk correlation over samples.", full=True)
def kang_correlation_pseudobulk(adata):
    return _pl().correlation_heatmap(
        adata, genes=KANG_GENES, groupby="sample_id", level="pseudobulk", min_nonzero=2
    )


# --- stressed: 2 categories, 100 genes, 60-character names


@case("grouped", "kang", "2 categories: clusters = the two conditions.", {"group_id": "bar"},
      full=True)  # fmt: skip
def kang_grouped_two(adata):
    return _pl().grouped_heatmap(adata, cluster_key="group_id")


@case("dual", "kang", "2 categories: coloured by condition.", {"group_id": "points"})
def kang_dual_two(adata):
    return _pl().dual_expression(adata, "ISG15", "IFI6", color="group_id")


@case("grouped", "kang", "100 genes: 20 markers x 5 clusters.", {"cluster_id": "bar"}, full=True)
def kang_grouped_100_genes(adata):
    return _pl().grouped_heatmap(
        adata, cluster_key="cluster_id", dataset_key="group_id", n_genes=20
    )


@case("cell", "kang", "100 genes per cell.", {"cluster_id": "bar"}, full=True)
def kang_cell_100_genes(adata):
    return _pl().cell_heatmap(adata, cluster_key="cluster_id", dataset_key="group_id", n_genes=20)


@case("grouped", "kang", "60-character cluster and condition names.",
      {"cluster_id_long": "bar", "group_id_long": "bar"}, full=True)  # fmt: skip
def kang_grouped_long_names(adata):
    return _pl().grouped_heatmap(
        adata, cluster_key="cluster_id_long", dataset_key="group_id_long", n_genes=3
    )


@case("dual", "kang", "60-character cluster names in the legend.", {"cluster_id_long": "points"},
      full=True)  # fmt: skip
def kang_dual_long_names(adata):
    return _pl().dual_expression(
        adata, "ISG15", "IFI6", color="cluster_id_long", split_by="group_id_long"
    )


@case("correlation", "kang", "60-character panel titles.", full=True)
def kang_correlation_long_names(adata):
    return _pl().correlation_heatmap(adata, genes=KANG_GENES[:6], groupby="cluster_id_long")


@case("matrix", "kang", "matrix_heatmap: 100 genes x 60-character columns.", full=True)
def kang_matrix_long_names(adata):
    genes = list(adata.var_names[np.argsort(-np.asarray(adata.X.sum(axis=0)).ravel())[:100]])
    return _pl().matrix_heatmap(_mean_frame(adata, genes, "cluster_id_long"), scale="zscore")


# --- one-cell groups


@case("grouped", "example_onecell", "One-cell groups (DC: 1 cell per dataset).",
      {"cluster": "bar"}, full=True)  # fmt: skip
def onecell_grouped(adata):
    # markers need 2 cells per group: name the genes
    return _pl().grouped_heatmap(adata, ONECELL_GENES, cluster_key="cluster", dataset_key="dataset")


@case("cell", "example_onecell", "One-cell groups, per cell.", {"cluster": "bar"}, full=True)
def onecell_cell(adata):
    return _pl().cell_heatmap(adata, ONECELL_GENES, cluster_key="cluster", dataset_key="dataset")


@case("dual", "example_onecell", "One-cell groups in a dual plot.", {"cluster": "points"},
      full=True)  # fmt: skip
def onecell_dual(adata):
    return _pl().dual_expression(adata, "LYZ", "PPBP", color="cluster", split_by="dataset")


# --- the three 10x chemistries: 10 clusters x 3 datasets, and 40 clusters


@case("grouped", "pbmc", "PBMC 3 chemistries: Leiden clusters x datasets.",
      {"cell_type": "bar", "dataset": "bar"}, full=True)  # fmt: skip
def pbmc_grouped(adata):
    return _pl().grouped_heatmap(adata, cluster_key="cell_type", dataset_key="dataset", n_genes=5)


@case("cell", "pbmc", "PBMC per cell.", {"cell_type": "bar", "dataset": "bar"}, full=True)
def pbmc_cell(adata):
    return _pl().cell_heatmap(adata, PBMC_MARKERS, cluster_key="cell_type", dataset_key="dataset")


@case("dual", "pbmc", "The 10-group dual plot: CD3E vs NKG7 by cluster, per chemistry.",
      {"cell_type": "points"}, full=True)  # fmt: skip
def pbmc_dual(adata):
    return _pl().dual_expression(adata, "CD3E", "NKG7", color="cell_type", split_by="dataset")


@case("correlation", "pbmc", "Narrow correlation panels, one per cluster.", full=True)
def pbmc_correlation(adata):
    return _pl().correlation_heatmap(adata, genes=PBMC_MARKERS, groupby="cell_type")


@case("grouped", "pbmc", "40 clusters (k-means), 2 markers each.", {"kmeans40": "bar"},
      full=True)  # fmt: skip
def pbmc_grouped_40(adata):
    return _pl().grouped_heatmap(adata, cluster_key="kmeans40", n_genes=2)


@case("dual", "pbmc", "40 categories in a dual-plot legend.", {"kmeans40": "points"}, full=True)
def pbmc_dual_40(adata):
    return _pl().dual_expression(adata, "CD3E", "NKG7", color="kmeans40")


# --- the dot plot: the same board with a dot body


@case("dot", "example", "Dot plot, default top markers: size = fraction expressing.",
      {"cluster": "bar", "dataset": "bar"})  # fmt: skip
def example_dot(adata):
    return _pl().dotplot(adata, cluster_key="cluster", dataset_key="dataset", n_genes=3)


@case("dot", "kang", "Dot plot, ctrl and stim side by side in each cluster (z-scores).",
      {"cluster_id": "bar", "group_id": "bar"})  # fmt: skip
def kang_dot_paired(adata):
    return _pl().dotplot(
        adata, cluster_key="cluster_id", dataset_key="group_id", n_genes=4, layout="paired",
        scale="zscore",
    )  # fmt: skip


@case("dot", "kang", "Split dots: log2 fold change stim vs ctrl, one half per condition.",
      {"cluster_id": "bar"})  # fmt: skip
def kang_dot_split(adata):
    return _pl().dotplot(
        adata, cluster_key="cluster_id", dataset_key="group_id", n_genes=4, layout="split",
        color="logfc", reference="ctrl",
    )  # fmt: skip


@case("dot", "kang", "Dot plot, 100 genes: 20 markers x 5 clusters.", {"cluster_id": "bar"},
      full=True)  # fmt: skip
def kang_dot_100_genes(adata):
    return _pl().dotplot(adata, cluster_key="cluster_id", dataset_key="group_id", n_genes=20)


@case("dot", "pbmc", "Dot plot, PBMC: the chemistries of each cluster side by side.",
      {"cell_type": "bar", "dataset": "bar"}, full=True)  # fmt: skip
def pbmc_dot(adata):
    return _pl().dotplot(
        adata, cluster_key="cell_type", dataset_key="dataset", n_genes=3, layout="paired"
    )


@case("dot", "pbmc", "Dot plot, 40 clusters (k-means), 2 markers each.", {"kmeans40": "bar"},
      full=True)  # fmt: skip
def pbmc_dot_40(adata):
    return _pl().dotplot(adata, cluster_key="kmeans40", n_genes=2)


# --- the interactive view (HTML, not drawn into the gallery unless --html)

HTML_CASES: list[Case] = [
    Case(
        "kang_interactive",
        "interactive",
        "kang",
        lambda adata: _pl().interactive_heatmap(
            adata, cluster_key="cluster_id", dataset_key="group_id"
        ),
        "Kang: the interactive view of the grouped heatmap.",
        (("cluster_id", "html"), ("group_id", "html")),
    )
]


# ------------------------------------------------------------------ output


def _write_png(c: Case, out: Path) -> dict:
    import matplotlib.pyplot as plt

    start = time.perf_counter()
    plot = c.make()
    fig = plot.figure
    path = out / f"{c.name}.png"
    fig.savefig(path, dpi=100)
    w, h = fig.get_size_inches()
    plt.close(fig)
    seconds = time.perf_counter() - start
    return {"case": c, "file": path.name, "size": (w, h), "seconds": seconds}


def _readme(rows: list[dict], failed: dict) -> str:
    lines = [
        "# Gallery",
        "",
        "Every figure kind at small and stressed settings, made by one script:",
        "`python docs/gallery/make_gallery.py --out docs/gallery` (real data from",
        "`$SC_HEATMAPS_DATA`, default `../shared/data`). The same cases are checked by",
        "`tests/test_gallery.py` (`pytest -m gallery_full` for the stressed ones).",
        "Print scale: the factor that fits the figure on 180 x 240 mm.",
        "",
        "| case | kind | data | figure size (in) | print scale |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        c, (w, h) = r["case"], r["size"]
        scale = min(1.0, 7.087 / w, 9.449 / h)
        lines.append(
            f"| [{c.name}](#{c.name}) | {c.kind} | {c.data} | {w:.1f} x {h:.1f} | {scale:.2f} |"
        )
    for name, error in failed.items():
        lines.append(f"| {name} | failed: `{error}` | | | |")
    lines.append("")
    for r in rows:
        c = r["case"]
        lines += [f"## {c.name}", "", c.about, "", f"![{c.name}]({r['file']})", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Build the gallery PNGs and README; returns 1 when a case failed to build."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    parser.add_argument("--only", nargs="*", help="build only these cases")
    parser.add_argument("--html", action="store_true", help="also write the interactive HTML")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rows, failed = [], {}
    for c in CASES:
        if args.only and c.name not in args.only:
            continue
        try:
            rows.append(_write_png(c, args.out))
            print(f"{c.name}: {rows[-1]['seconds']:.1f} s", flush=True)
        except Exception as error:  # report every case, then fail
            failed[c.name] = f"{type(error).__name__}: {error}"
            print(f"{c.name}: FAILED {failed[c.name]}", file=sys.stderr, flush=True)
    if args.html:
        for c in HTML_CASES:
            (args.out / f"{c.name}.html").write_text(str(c.make()), encoding="utf-8")
    if not args.only:
        (args.out / "README.md").write_text(_readme(rows, failed), encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
