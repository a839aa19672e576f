"""Overlap of our marker lists with Seurat's on Kang (issue 13; not a CI test).

Exports the raw counts as MatrixMarket, runs ``benchmarks/seurat_markers.R`` (Seurat's
``NormalizeData``, ``FindAllMarkers(min.pct = 0.25, only.pos = TRUE)`` and
``FindConservedMarkers`` per cluster), normalises the same counts in Python as scanpy does
(``normalize_total(target_sum=1e4)`` then ``log1p``, in float64 like Seurat) and checks
that both normalisations agree. Then prints, per cluster, how many of our top N are in:

- Cell-Hub's recipe: ``FindAllMarkers(min.pct = 0.25, only.pos = TRUE)``, then
  ``avg_log2FC > 1``, then the first N in Seurat's order (p-value, then log2FC), for
  ``recipe="scanpy"`` (t-test, our default), ``recipe="scanpy", method="wilcoxon"`` and
  ``recipe="seurat"``;
- ``FindConservedMarkers(ident.1 = cluster, grouping.var = dataset)`` (metap's minimump;
  the first N genes positive in every dataset, and the first N as returned), for
  ``sch.tl.conserved_markers(method="wilcoxon", combine="wilkinson")`` where it exists.

    python benchmarks/seurat_markers.py                     # Kang from SC_HEATMAPS_DATA
    python benchmarks/seurat_markers.py --n-genes 10 --keep /tmp/seurat_out
Needs Rscript with Seurat and metap (Debian: r-cran-seurat r-cran-metap).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("SC_HEATMAPS_DATA", HERE.parent.parent / "shared" / "data"))


def export(adata, out: Path, cluster_key: str, dataset_key: str) -> None:
    """Raw counts (genes x cells) and obs, as the R script reads them."""
    from scipy import io, sparse

    io.mmwrite(out / "counts.mtx", sparse.csr_matrix(adata.X).T.tocoo())
    (out / "genes.txt").write_text("\n".join(adata.var_names) + "\n")
    obs = adata.obs[[cluster_key, dataset_key]].astype(str)
    obs.to_csv(out / "obs.csv", index_label="cell")


def normalise(adata):
    """scanpy's LogNormalize: normalize_total(1e4) + log1p, in float64 as Seurat."""
    import scanpy as sc

    adata = adata.copy()
    adata.X = adata.X.astype(np.float64)
    sc.pp.normalize_total(adata, target_sum=1e4)
    sc.pp.log1p(adata)
    return adata


def check_normalisation(adata, out: Path) -> float:
    """Largest absolute difference between Seurat's data slot and ours."""
    from scipy import io, sparse

    seurat = sparse.csr_matrix(io.mmread(out / "data.mtx").T)
    ours = sparse.csr_matrix(adata.X)
    names = (out / "seurat_genes.txt").read_text().split()
    if names != [g.replace("_", "-") for g in adata.var_names]:
        raise RuntimeError("Seurat renamed or reordered the genes")
    return float(abs(seurat - ours).max())


def seurat_top(out: Path, n: int, genes: dict) -> dict[str, list[str]]:
    """Cell-Hub's lists: FindAllMarkers rows (Seurat's order) with avg_log2FC > 1, first n."""
    table = pd.read_csv(out / "all_markers.csv")
    table = table[table["avg_log2FC"] > 1]
    return {
        str(c): [genes[g] for g in t["gene"][:n]] for c, t in table.groupby("cluster", sort=False)
    }


def seurat_conserved(out: Path, n: int, genes: dict) -> tuple[dict, dict]:
    """First n of FindConservedMarkers per cluster: positive in every dataset, and as returned."""
    clusters = (out / "clusters.txt").read_text().splitlines()
    positive, raw = {}, {}
    for i, cluster in enumerate(clusters, start=1):
        table = pd.read_csv(out / f"conserved_{i}.csv")
        fc = table[[c for c in table.columns if c.endswith("_avg_log2FC")]]
        raw[cluster] = [genes[g] for g in table["gene"][:n]]
        positive[cluster] = [genes[g] for g in table["gene"][(fc > 0).all(axis=1)][:n]]
    return positive, raw


def overlaps(ours: dict, theirs: dict, clusters: list[str]) -> list[str]:
    return [
        str(len(set(ours.get(c, [])) & set(theirs.get(c, [])))) if c in theirs else "-"
        for c in clusters
    ]


def our_lists(adata, cluster_key: str, dataset_key: str, n: int) -> dict[str, dict]:
    import sc_heatmaps as sch

    def lists(table, column="group"):
        return {str(g): list(t["gene"]) for g, t in table.groupby(column, observed=True)}

    top = sch.tl.top_markers
    calls = {
        'recipe="scanpy" (t-test)': lists(top(adata, cluster_key, n_genes=n)),
        'recipe="scanpy", method="wilcoxon"': lists(
            top(adata, cluster_key, n_genes=n, method="wilcoxon")
        ),
        'recipe="seurat"': lists(top(adata, cluster_key, n_genes=n, recipe="seurat")),
    }
    conserved = getattr(sch.tl, "conserved_markers", None)
    if conserved is not None:
        for tie_correct in (False, True):
            table = conserved(
                adata,
                cluster_key,
                dataset_key,
                n_genes=n,
                method="wilcoxon",
                duplicates="keep",
                tie_correct=tie_correct,
            )
            name = "conserved_markers(wilcoxon" + (", tie_correct)" if tie_correct else ")")
            calls[name] = lists(table, "cluster")
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DATA / "kang2018_muscat_example.h5ad"))
    parser.add_argument("--cluster-key", default="cluster_id")
    parser.add_argument("--dataset-key", default="group_id")
    parser.add_argument("--n-genes", type=int, default=10)
    parser.add_argument("--rscript", default="Rscript")
    parser.add_argument("--keep", help="directory for the exchange files (default: a temp dir)")
    args = parser.parse_args()

    import anndata as ad

    raw = ad.read_h5ad(args.data)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.keep or tmp)
        out.mkdir(parents=True, exist_ok=True)
        export(raw, out, args.cluster_key, args.dataset_key)
        script = HERE / "seurat_markers.R"
        command = [args.rscript, str(script), str(out), args.cluster_key, args.dataset_key]
        subprocess.run(command, check=True)
        adata = normalise(raw)
        print(
            f"max |Seurat data - scanpy log1p(normalize_total)| = "
            f"{check_normalisation(adata, out):.2e}"
        )
        print((out / "versions.txt").read_text().strip().replace("\n", "; "))
        genes = {g.replace("_", "-"): g for g in adata.var_names}
        reference = seurat_top(out, args.n_genes, genes)
        positive, as_returned = seurat_conserved(out, args.n_genes, genes)
    report(adata, args, reference, positive, as_returned)


def report(adata, args, reference, positive, as_returned) -> None:
    clusters = [str(c) for c in adata.obs[args.cluster_key].cat.categories]
    n = args.n_genes
    ours = our_lists(adata, args.cluster_key, args.dataset_key, n)
    print(f"\noverlap of our top {n} with Seurat's, per cluster: {' | '.join(clusters)}")
    print(f"Seurat genes per cluster (log2FC > 1): {overlaps(reference, reference, clusters)}")
    for name, lists in ours.items():
        if name.startswith("conserved"):
            continue
        counts = ", ".join(overlaps(lists, reference, clusters))
        print(f"  FindAllMarkers recipe vs {name}: {counts}")
    if "conserved_markers(wilcoxon)" not in ours:
        print("  FindConservedMarkers vs conserved_markers: n/a (sch.tl.conserved_markers missing)")
        return
    for name, lists in ours.items():
        if not name.startswith("conserved"):
            continue
        for label, theirs in (
            ("positive in every dataset", positive),
            ("as returned", as_returned),
        ):
            print(
                f"  FindConservedMarkers ({label}) vs {name}: "
                f"{', '.join(overlaps(lists, theirs, clusters))}"
            )


if __name__ == "__main__":
    main()
