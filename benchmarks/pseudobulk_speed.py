"""Speed of ``sch.tl.dataset_differences(method="pseudobulk")`` next to the by-hand
recipe (``sc.get.aggregate(func="sum")`` per cluster, then pydeseq2 with the same
settings: what decoupler's pseudobulk + pydeseq2 tutorial does), in the same run.

Printed per case: wall-clock and CPU seconds (CPU of this process; pydeseq2 runs in it
with ``--n-cpus 1``), for the sums alone (one pass over X: ours for every
(cluster, sample) at once, scanpy's ``aggregate`` over the same groups) and for the
whole test, and whether the two tables agree (largest relative difference of the
log2 fold changes and p-values). With decoupler installed its ``pp.pseudobulk`` sums
are timed too (it is not a dependency).

    python benchmarks/pseudobulk_speed.py --cases kang
    python benchmarks/pseudobulk_speed.py --cases synthetic --cells 200000 --genes 1000
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(os.environ.get("SC_HEATMAPS_DATA", Path(__file__).parents[2] / "shared" / "data"))


def clock(func):
    start, cpu = time.perf_counter(), time.process_time()
    out = func()
    return out, time.perf_counter() - start, time.process_time() - cpu


def kang():
    import anndata as ad

    adata = ad.read_h5ad(DATA / "kang2018_muscat_example.h5ad")
    adata.obs["donor"] = adata.obs["donor"].astype(str).astype("category")
    keys = {"dataset": "group_id", "cluster": "cluster_id", "sample": "sample_id"}
    return adata, keys, ("stim", "ctrl"), ["donor"]


def synthetic(n_cells: int, n_genes: int, n_clusters: int = 20, n_samples: int = 8):
    """Sparse NB counts: ``n_clusters`` clusters x ``n_samples`` samples (half ctrl, half
    stim, samples i and i + n/2 from one donor), built a block of cells at a time."""
    import anndata as ad
    from scipy import sparse

    rng = np.random.default_rng(0)
    base = rng.lognormal(-1.5, 1.2, n_genes)
    cluster = rng.integers(0, n_clusters, n_cells)
    sample = rng.integers(0, n_samples, n_cells)
    blocks = []
    for start in range(0, n_cells, 50_000):
        stop = min(start + 50_000, n_cells)
        mu = base[None, :] * (1 + (cluster[start:stop, None] % 5 == np.arange(n_genes) % 5))
        blocks.append(sparse.csr_matrix(rng.poisson(mu).astype(np.float32)))
    half = n_samples // 2
    obs = pd.DataFrame(
        {
            "cluster": pd.Categorical([f"c{c:02d}" for c in cluster]),
            "sample": pd.Categorical([f"s{s}" for s in sample]),
            "condition": pd.Categorical(np.where(sample < half, "ctrl", "stim")),
            "donor": pd.Categorical([f"donor{s % half}" for s in sample]),
        },
        index=[f"cell{i}" for i in range(n_cells)],
    )
    adata = ad.AnnData(sparse.vstack(blocks).tocsr(), obs=obs)
    adata.var_names = [f"gene{i}" for i in range(n_genes)]
    keys = {"dataset": "condition", "cluster": "cluster", "sample": "sample"}
    return adata, keys, ("stim", "ctrl"), ["donor"]


def ours(adata, keys, levels, covariates, n_cpus):
    import sc_heatmaps as sch

    return sch.tl.dataset_differences(
        adata,
        keys["dataset"],
        keys["cluster"],
        reference=levels[1],
        method="pseudobulk",
        sample_key=keys["sample"],
        design_covariates=covariates,
        n_cpus=n_cpus,
    )


def our_sums(adata, keys):
    from sc_heatmaps._aggregate import group_stats_all

    cl, sm = adata.obs[keys["cluster"]].cat, adata.obs[keys["sample"]].cat
    codes = (cl.codes.to_numpy() * len(sm.categories) + sm.codes.to_numpy()).astype(np.int64)
    return group_stats_all(adata.X, codes, len(cl.categories) * len(sm.categories)).sums


def scanpy_sums(adata, keys):
    import scanpy as sc

    return sc.get.aggregate(adata, [keys["cluster"], keys["sample"]], func="sum")


def by_hand(adata, keys, levels, covariates, n_cpus):
    """Per cluster: sc.get.aggregate sums, then pydeseq2 (as decoupler's tutorial)."""
    import scanpy as sc
    from pydeseq2.dds import DeseqDataSet
    from pydeseq2.default_inference import DefaultInference
    from pydeseq2.ds import DeseqStats

    out = {}
    for cluster in adata.obs[keys["cluster"]].cat.categories:
        sub = adata[adata.obs[keys["cluster"]] == cluster]
        agg = sc.get.aggregate(sub, keys["sample"], func="sum")
        counts = pd.DataFrame(
            np.asarray(agg.layers["sum"]).astype(np.int64),
            index=agg.obs_names.astype(str),
            columns=agg.var_names.astype(str),
        )
        first = sub.obs.drop_duplicates(keys["sample"]).set_index(keys["sample"])
        meta = first[[*covariates, keys["dataset"]]].astype(str).loc[counts.index]
        inference = DefaultInference(n_cpus=n_cpus)
        design = "~" + " + ".join([*covariates, keys["dataset"]])
        dds = DeseqDataSet(
            counts=counts,
            metadata=meta,
            design=design,
            size_factors_fit_type="poscounts",
            inference=inference,
            quiet=True,
        )
        dds.deseq2()
        stats = DeseqStats(
            dds, contrast=[keys["dataset"], *levels], inference=inference, quiet=True
        )
        stats.summary()
        out[str(cluster)] = stats.results_df
    return out


def decoupler_sums(adata, keys):
    import decoupler as dc

    return dc.pp.pseudobulk(adata, sample_col=keys["sample"], groups_col=keys["cluster"])


def agreement(table: pd.DataFrame, theirs: dict) -> float:
    worst = 0.0
    for cluster, res in theirs.items():
        mine = table[table["cluster"] == cluster].set_index("gene").loc[res.index]
        for a, b in (("logfc", "log2FoldChange"), ("pval", "pvalue")):
            x, y = mine[a].to_numpy(float), res[b].to_numpy(float)
            ok = np.isfinite(x) & np.isfinite(y)
            rel = np.abs(x[ok] - y[ok]) / np.maximum(np.abs(y[ok]), 1e-300)
            worst = max(worst, float(rel.max(initial=0.0)))
    return worst


def run_case(name, adata, keys, levels, covariates, n_cpus) -> None:
    """Print one line per step: case | step | wall s | CPU s | note."""
    tiny = adata[:200].copy()  # warm-up: imports and compiled kernels load before timing

    def row(what, wall, cpu, note=""):
        print(f"{name} | {what} | {wall:.2f} | {cpu:.2f} | {note}", flush=True)

    our_sums(tiny, keys)
    scanpy_sums(tiny, keys)
    _, wall, cpu = clock(lambda: our_sums(adata, keys))
    row("sums, ours (one pass)", wall, cpu)
    _, wall, cpu = clock(lambda: scanpy_sums(adata, keys))
    row("sums, sc.get.aggregate", wall, cpu)
    try:
        _, wall, cpu = clock(lambda: decoupler_sums(adata, keys))
        row("sums, decoupler pp.pseudobulk", wall, cpu)
    except ImportError:
        print(f"{name} | sums, decoupler | - | - | not installed", flush=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table, wall, cpu = clock(lambda: ours(adata, keys, levels, covariates, n_cpus))
        row("pseudobulk test, ours", wall, cpu, f"{table['cluster'].nunique()} clusters")
        theirs, wall, cpu = clock(lambda: by_hand(adata, keys, levels, covariates, n_cpus))
    row("aggregate + pydeseq2 by hand", wall, cpu, f"max rel. diff {agreement(table, theirs):.1e}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default="kang,synthetic", help="kang, synthetic")
    parser.add_argument("--cells", type=int, default=200_000, help="synthetic cells")
    parser.add_argument("--genes", type=int, default=1000, help="synthetic genes")
    parser.add_argument("--clusters", type=int, default=20, help="synthetic clusters")
    parser.add_argument("--samples", type=int, default=8, help="synthetic samples")
    parser.add_argument("--n-cpus", type=int, default=1, help="pydeseq2 processes")
    args = parser.parse_args(argv)
    print("case | step | wall s | CPU s | note", flush=True)
    for case in args.cases.split(","):
        if case == "kang":
            run_case("Kang, 5 cell types x 4 samples", *kang(), args.n_cpus)
        else:
            data = synthetic(args.cells, args.genes, args.clusters, args.samples)
            label = (
                f"synthetic {args.cells:,} cells x {args.genes} genes, "
                f"{args.clusters} clusters x {args.samples} samples"
            )
            run_case(label, *data, args.n_cpus)


if __name__ == "__main__":
    main()
