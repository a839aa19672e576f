"""Make ``data/example.h5ad``: a small *simulated* multi-dataset PBMC-like AnnData.

Run from the repository root: ``python data/make_example.py``. The output is
deterministic (seeded). Nothing here is real data: counts are drawn from a
negative binomial around gene- and cluster-specific means, with

* 8 PBMC-like clusters, each with a few textbook marker genes raised;
* 3 datasets: ``ctrl``, ``stim_IFN`` (interferon-stimulated genes up in every
  cluster) and ``stim_LPS`` (inflammatory genes up in monocytes only), with
  different cluster proportions and a mild per-dataset library-size shift;
* ``X`` log-normalised (``normalize_total`` to 1e4, then ``log1p``), raw counts
  in ``layers["counts"]``.
"""

from __future__ import annotations

from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import scanpy as sc
from scipy import sparse

SEED = 20261122
MARKERS = {
    "CD4 T": ["CD3E", "CD3D", "IL7R", "CCR7", "LDHB", "CD4", "TCF7", "LEF1", "MAL", "SELL"],
    "CD8 T": ["CD3E", "CD3D", "CD8A", "CD8B", "GZMK", "CCL5", "CD2", "CTSW", "GZMH", "LAG3"],
    "NK": ["NKG7", "GNLY", "GZMB", "PRF1", "KLRD1", "CCL5", "FGFBP2", "KLRF1", "SPON2", "CST7"],
    "B": ["MS4A1", "CD79A", "CD79B", "CD19", "BANK1", "CD74", "TCL1A", "CD22", "FCRLA", "VPREB3"],
    "CD14 Mono": [
        "CD14",
        "LYZ",
        "S100A8",
        "S100A9",
        "FCN1",
        "VCAN",
        "CSF3R",
        "MNDA",
        "CD36",
        "CTSS",
    ],
    "FCGR3A Mono": [
        "FCGR3A",
        "MS4A7",
        "LST1",
        "CDKN1C",
        "AIF1",
        "LYZ",
        "RHOC",
        "IFITM2",
        "SMIM25",
        "HES4",
    ],
    "DC": [
        "FCER1A",
        "CST3",
        "CLEC10A",
        "CD1C",
        "CD74",
        "HLA-DQA1",
        "HLA-DPB1",
        "ENHO",
        "PLD4",
        "CLEC4C",
    ],
    "Platelet": [
        "PPBP",
        "PF4",
        "GP9",
        "SPARC",
        "TUBB1",
        "GNG11",
        "CLU",
        "NRGN",
        "ITGA2B",
        "CAVIN2",
    ],
}
ISGS = ["ISG15", "IFI6", "IFIT1", "IFIT3", "MX1", "OAS1", "IFI44L", "LY6E"]
LPS = ["IL1B", "CXCL8", "TNF", "CCL3", "CCL4"]
HOUSEKEEPING = ["ACTB", "GAPDH", "B2M", "MALAT1", "TMSB4X", "RPL13", "RPS12", "EEF1A1"]
N_BACKGROUND = 320
# cells per cluster in each dataset (ctrl, stim_IFN, stim_LPS)
SIZES = {
    "CD4 T": (260, 240, 200),
    "CD8 T": (120, 110, 90),
    "NK": (70, 80, 60),
    "B": (110, 100, 90),
    "CD14 Mono": (150, 160, 220),
    "FCGR3A Mono": (45, 50, 70),
    "DC": (20, 18, 25),
    "Platelet": (12, 10, 15),
}
DATASETS = ["ctrl", "stim_IFN", "stim_LPS"]


def gene_names() -> list[str]:
    named = dict.fromkeys(g for genes in MARKERS.values() for g in genes)
    named.update(dict.fromkeys(ISGS + LPS + HOUSEKEEPING))
    background = [f"SIMG{i:04d}" for i in range(N_BACKGROUND)]
    return list(named) + background


def base_means(genes: list[str], rng) -> pd.Series:
    mu = pd.Series(rng.gamma(0.6, 0.25, len(genes)), index=genes)
    mu[HOUSEKEEPING] = rng.uniform(8, 30, len(HOUSEKEEPING))
    for g in ISGS + LPS:
        mu[g] = 0.08
    return mu


def cell_means(mu, cluster, dataset, rng) -> np.ndarray:
    m = mu.copy()
    for rank, g in enumerate(MARKERS[cluster]):
        m[g] = m[g] + 6.0 / (1 + 0.3 * rank)
    if dataset == "stim_IFN":
        m[ISGS] = m[ISGS] + rng.uniform(4, 12, len(ISGS))
    if dataset == "stim_LPS" and "Mono" in cluster:
        m[LPS] = m[LPS] + rng.uniform(5, 10, len(LPS))
    return m.to_numpy()


def simulate() -> ad.AnnData:
    rng = np.random.default_rng(SEED)
    genes = gene_names()
    mu = base_means(genes, rng)
    blocks, obs = [], []
    for d, dataset in enumerate(DATASETS):
        depth = (1.0, 1.25, 0.85)[d]
        for cluster, sizes in SIZES.items():
            n = sizes[d]
            means = cell_means(mu, cluster, dataset, rng)
            size = rng.lognormal(0, 0.3, n)[:, None] * depth
            lam = rng.gamma(2.0, means[None, :] * size / 2.0)
            blocks.append(rng.poisson(lam).astype(np.float32))
            obs += [(dataset, cluster)] * n
    counts = sparse.csr_matrix(np.vstack(blocks))
    frame = pd.DataFrame(obs, columns=["dataset", "cluster"])
    frame["dataset"] = pd.Categorical(frame["dataset"], categories=DATASETS)
    frame["cluster"] = pd.Categorical(frame["cluster"], categories=list(SIZES))
    frame.index = [f"cell{i:05d}" for i in range(len(frame))]
    adata = ad.AnnData(X=counts, obs=frame, var=pd.DataFrame(index=genes))
    adata.layers["counts"] = counts.copy()
    adata.obs["total_counts"] = np.asarray(counts.sum(axis=1)).ravel()
    sc.pp.normalize_total(adata, target_sum=1e4)
    sc.pp.log1p(adata)
    # base None (natural log) is what a missing base means; a stored None is written as
    # the "null" encoding, which anndata < 0.12 cannot read
    del adata.uns["log1p"]["base"]
    adata.uns["description"] = "Simulated PBMC-like data made by data/make_example.py (not real)."
    return adata


if __name__ == "__main__":
    out = Path(__file__).with_name("example.h5ad")
    simulate().write_h5ad(out, compression="gzip")
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB)")
