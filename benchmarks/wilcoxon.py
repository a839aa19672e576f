"""Wilcoxon markers: ``sch.tl.top_markers(method="wilcoxon")`` next to
``sc.tl.rank_genes_groups(method="wilcoxon")``, in the same run.

Each side runs in a fresh subprocess that builds the same seeded synthetic data
(log-normalised CSR counts, 10 groups, about ``density`` of the values stored).
Printed per size: seconds for ours and for scanpy, the ratio (scanpy / ours; > 1
means we are faster), and the peak resident memory above the loaded data (RSS
sampled every 20 ms, so that compiled code's allocations count too), and whether
the two agree: the same top 10 per group, and the largest relative difference of
their scores.

    python benchmarks/wilcoxon.py --sizes 100000x20000,500000x5000
    python benchmarks/wilcoxon.py --sizes 2000x300
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import threading
import time

import numpy as np

N_GROUPS = 10
ROWS_PER_PART = 20_000


def make_data(n_cells: int, n_genes: int, density: float, seed: int = 0):
    """Seeded log-normalised CSR data in 10 groups, 20 marker genes per group; built a
    block of cells at a time so that the largest sizes fit in memory."""
    import anndata as ad
    import pandas as pd
    from scipy import sparse

    rng = np.random.default_rng(seed)
    group = rng.integers(0, N_GROUPS, n_cells)
    per_row = max(1, int(n_genes * density))
    parts = []
    for start in range(0, n_cells, ROWS_PER_PART):
        g = group[start : start + ROWS_PER_PART]
        cols = rng.integers(0, n_genes, (len(g), per_row))
        markers = (g[:, None] * 20 + np.arange(20)[None, :]) % n_genes
        cols = np.concatenate([cols, markers], axis=1)
        counts = rng.poisson(1.2, cols.shape).astype(np.float32) + 1
        counts[:, per_row:] += 3
        rows = np.repeat(np.arange(len(g)), cols.shape[1])
        part = sparse.csr_matrix((counts.ravel(), (rows, cols.ravel())), shape=(len(g), n_genes))
        part.sum_duplicates()
        size = np.asarray(part.sum(axis=1)).ravel()
        part.data = np.log1p(part.data * np.repeat(1e4 / size, np.diff(part.indptr)))
        parts.append(part.astype(np.float32))
    X = _stack(parts, n_genes)
    obs = pd.DataFrame(
        {"group": pd.Categorical([f"g{i}" for i in group])},
        index=[f"cell{i}" for i in range(n_cells)],
    )
    adata = ad.AnnData(X=X, obs=obs, var=pd.DataFrame(index=[f"G{i:05d}" for i in range(n_genes)]))
    adata.uns["log1p"] = {"base": None}
    return adata


def _stack(parts: list, n_genes: int):
    """CSR parts stacked with one copy of each array at a time (not all three at once)."""
    from scipy import sparse

    offsets = np.cumsum([0] + [p.nnz for p in parts])
    indptr = np.concatenate(
        [[0]] + [p.indptr[1:] + o for p, o in zip(parts, offsets[:-1], strict=True)]
    )
    indices = np.concatenate([p.indices for p in parts]).astype(np.int32)
    for p in parts:
        p.indices = None
    data = np.concatenate([p.data for p in parts])
    parts.clear()
    return sparse.csr_matrix((data, indices, indptr), shape=(len(indptr) - 1, n_genes))


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class _PeakRSS:
    """The largest resident set size seen while the block runs (sampled)."""

    def __enter__(self):
        self.base = self.peak = _rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss_mb())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())


def _run(side: str, adata) -> dict:
    """The top 10 genes of each group with their scores: ``{group: [(gene, score)]}``."""
    if side == "ours":
        import sc_heatmaps as sch

        table = sch.tl.top_markers(adata, "group", method="wilcoxon", duplicates="keep")
        return {
            str(g): list(zip(t["gene"], t["score"].astype(float), strict=True))
            for g, t in table.groupby("group", observed=True)
        }
    import scanpy as sc

    sc.tl.rank_genes_groups(adata, "group", method="wilcoxon", n_genes=adata.n_vars)
    res = adata.uns["rank_genes_groups"]
    return {
        g: list(zip(res["names"][g], res["scores"][g].astype(float), strict=True))
        for g in res["names"].dtype.names
    }


def child(args) -> None:
    """One side at one size: build the data, time the call, write the ranking."""
    import logging
    import warnings

    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    _run(args.side, make_data(300, 50, 0.2, seed=1))  # compile or load kernels, imports
    adata = make_data(args.cells, args.genes, args.density)
    gc.collect()
    with _PeakRSS() as mem:
        start = time.perf_counter()
        ranking = _run(args.side, adata)
        seconds = time.perf_counter() - start
    with open(args.out, "w") as f:
        json.dump(ranking, f)
    peak = mem.peak - mem.base
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "nnz": int(adata.X.nnz)}))


def _agreement(ours: dict, scanpy: dict) -> tuple[bool, float]:
    """Whether every group's top 10 is scanpy's, and the largest relative difference
    of their scores."""
    same, diff = True, 0.0
    for g, top in ours.items():
        ref = dict(scanpy[g])
        same &= [n for n, _ in top] == [n for n, _ in scanpy[g][: len(top)]]
        for name, score in top:
            diff = max(diff, abs(score - ref[name]) / max(abs(ref[name]), 1e-6))
    return same, diff


def measure(cells: int, genes: int, density: float, side: str, out: str) -> dict:
    cmd = [sys.executable, __file__, "--child", side, "--cells", str(cells), "--genes", str(genes)]
    cmd += ["--density", str(density), "--out", out]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{side} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000x20000,500000x5000")
    parser.add_argument("--density", type=float, default=0.05)
    parser.add_argument("--child", choices=["ours", "scanpy"])
    parser.add_argument("--cells", type=int)
    parser.add_argument("--genes", type=int)
    parser.add_argument("--out")
    parser.add_argument("--tmp", default="/tmp")
    args = parser.parse_args(argv)
    if args.child:
        args.side = args.child
        child(args)
        return 0
    print(
        "cells genes stored_values ours_s scanpy_s ratio ours_MB scanpy_MB same_top10 max_rel_diff"
    )
    for size in args.sizes.split(","):
        cells, genes = (int(v) for v in size.split("x"))
        res, rankings = {}, {}
        for side in ("ours", "scanpy"):
            out = os.path.join(args.tmp, f"wilcoxon_bench_{side}_{os.getpid()}.json")
            res[side] = measure(cells, genes, args.density, side, out)
            with open(out) as f:
                rankings[side] = json.load(f)
            os.remove(out)
        same, diff = _agreement(rankings["ours"], rankings["scanpy"])
        o, s = res["ours"], res["scanpy"]
        print(
            f"{cells} {genes} {o['nnz']} {o['seconds']:.2f} {s['seconds']:.2f} "
            f"{s['seconds'] / o['seconds']:.1f} {o['peak_mb']:.0f} {s['peak_mb']:.0f} "
            f"{same} {diff:.1e}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
