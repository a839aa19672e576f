"""Calibration of the tests of ``sch.tl.dataset_differences`` between two conditions.

Simulated negative-binomial counts: 6 donors x 2 conditions (each donor measured in
both) x 3 cell types. Every gene has a donor effect (shared by the donor's two samples)
and a sample effect (each sample its own deviation: replicate-to-replicate variation),
and **no condition effect**. Counted: the (cell type, gene) tests called at
``pval_adj < 0.05`` by

- a cell-level Wilcoxon test and a cell-level t-test (cells as the unit);
- the sample-mean Welch t-test (``sample_key=``, ``method="t-test"``);
- the pseudobulk DESeq2 test (``method="pseudobulk"``), unpaired (``~ condition``) and
  paired (``~ donor + condition``).

Then a 2x change (log2 fold change 1) is planted in 5% of the genes, in every cell type,
and the recall (planted tests called) and false calls (other tests called) are printed.

    python benchmarks/pseudobulk_calibration.py
    python benchmarks/pseudobulk_calibration.py --genes 60 --cells 20 --min-counts 0  # smoke
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

DONORS, CONDITIONS, CELL_TYPES = 6, ("ctrl", "stim"), ("T", "B", "Mono")


def simulate(n_genes: int, n_cells: int, planted: np.ndarray, seed: int = 0):
    """Counts (layers["counts"]) and log-normalised values (X) of the design above."""
    import anndata as ad
    import scanpy as sc
    from scipy import sparse

    rng = np.random.default_rng(seed)
    base = rng.lognormal(-0.5, 1.2, n_genes)  # mean counts per cell, about 0.1 to 10
    type_effect = {t: rng.lognormal(0.0, 0.5, n_genes) for t in CELL_TYPES}
    blocks, rows = [], []
    for d in range(DONORS):
        donor = rng.lognormal(0.0, 0.4, n_genes)
        for cond in CONDITIONS:
            sample = rng.lognormal(0.0, 0.25, n_genes)
            change = np.where(planted & (cond == "stim"), 2.0, 1.0)
            for t in CELL_TYPES:
                mu = base * type_effect[t] * donor * sample * change
                lib = rng.lognormal(0.0, 0.3, (n_cells, 1))
                size = 3.0  # cell-level NB dispersion 1/3
                blocks.append(rng.negative_binomial(size, size / (size + mu * lib)))
                rows += [(f"donor{d}", cond, t, f"{cond}_donor{d}")] * n_cells
    obs = pd.DataFrame(rows, columns=["donor", "condition", "cell_type", "sample"])
    obs.index = [f"cell{i}" for i in range(len(obs))]
    obs = obs.astype("category")
    counts = sparse.csr_matrix(np.vstack(blocks).astype(np.float32))
    adata = ad.AnnData(counts.copy(), obs=obs)
    adata.var_names = [f"gene{i}" for i in range(n_genes)]
    adata.layers["counts"] = counts
    sc.pp.normalize_total(adata, target_sum=1e4)
    sc.pp.log1p(adata)
    return adata


METHODS = {
    "cell-level Wilcoxon": {"method": "wilcoxon"},
    "cell-level t-test": {"method": "t-test"},
    "sample-mean Welch t-test (sample_key)": {"method": "t-test", "sample_key": "sample"},
    "pseudobulk DESeq2, ~ condition": {
        "method": "pseudobulk",
        "sample_key": "sample",
        "layer": "counts",
    },
    "pseudobulk DESeq2, ~ donor + condition": {
        "method": "pseudobulk",
        "sample_key": "sample",
        "layer": "counts",
        "design_covariates": ["donor"],
    },
}


def called(adata, kwargs: dict, n_cpus: int, min_counts: int) -> tuple[pd.DataFrame, float]:
    """The table's (cell type, gene) tests at pval_adj < 0.05, and the seconds taken
    (wall clock, and CPU of this process: on a shared machine the wall clock waits)."""
    import sc_heatmaps as sch

    if kwargs["method"] == "pseudobulk":
        kwargs = {**kwargs, "n_cpus": n_cpus, "min_counts": min_counts}
    start, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = sch.tl.dataset_differences(
            adata, "condition", "cell_type", reference="ctrl", **kwargs
        )
    seconds = (time.perf_counter() - start, time.process_time() - cpu)
    return table[table["pval_adj"] < 0.05][["cluster", "gene"]], seconds


def scenario(n_genes: int, n_cells: int, fraction: float, n_cpus: int, min_counts: int):
    rng = np.random.default_rng(1)
    planted = np.zeros(n_genes, dtype=bool)
    planted[rng.choice(n_genes, round(fraction * n_genes), replace=False)] = True
    adata = simulate(n_genes, n_cells, planted)
    truth = set(adata.var_names[planted])
    n_tests = n_genes * len(CELL_TYPES)
    n_true = len(truth) * len(CELL_TYPES)
    rows = []
    for name, kwargs in METHODS.items():
        hits, seconds = called(adata, kwargs, n_cpus, min_counts)
        true_hits = int(hits["gene"].isin(truth).sum())
        false_hits = len(hits) - true_hits
        rows.append(
            {
                "test": name,
                "false calls": f"{false_hits} of {n_tests - n_true} "
                f"({100 * false_hits / (n_tests - n_true):.1f}%)",
                "recall": f"{true_hits} of {n_true}" if n_true else "-",
                "wall s": round(seconds[0], 1),
                "CPU s": round(seconds[1], 1),
            }
        )
    return pd.DataFrame(rows)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--genes", type=int, default=400, help="genes (default 400)")
    parser.add_argument(
        "--cells", type=int, default=80, help="cells per sample and cell type (default 80)"
    )
    parser.add_argument("--n-cpus", type=int, default=1, help="pydeseq2 processes")
    parser.add_argument(
        "--min-counts", type=int, default=1000, help="pseudobulk min_counts (default 1000)"
    )
    args = parser.parse_args(argv)
    size = (
        f"{DONORS} donors x {len(CONDITIONS)} conditions x {len(CELL_TYPES)} cell types, "
        f"{args.cells} cells each, {args.genes} genes"
    )
    for title, fraction in (("no condition effect", 0.0), ("2x change in 5% of genes", 0.05)):
        print(f"\n{title} ({size}); tests at pval_adj < 0.05 over the 3 cell types:")
        table = scenario(args.genes, args.cells, fraction, args.n_cpus, args.min_counts)
        print(table.to_markdown(index=False) if _has_tabulate() else table.to_string())


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
