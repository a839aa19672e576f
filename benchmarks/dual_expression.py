"""Benchmark: sch.pl.dual_expression next to sc.pl.scatter, writing PNG and PDF.

Seeded synthetic data with two correlated genes and 4 datasets. Each size and side
runs in a fresh subprocess so that peak RSS is its own. Prints seconds (plot +
save), the ratio (scanpy / ours), peak RSS and file sizes.

    python benchmarks/dual_expression.py                 # 100k and 1M cells
    python benchmarks/dual_expression.py --cells 20000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_adata(n_cells: int, seed: int = 0):
    import anndata as ad
    import pandas as pd
    from scipy import sparse

    rng = np.random.default_rng(seed)
    dataset = rng.integers(0, 4, n_cells)
    base = rng.gamma(1.0, 1.0, n_cells) * (rng.random(n_cells) < 0.6)
    x = np.log1p(base * (1 + dataset))
    y = np.log1p(np.maximum(base + rng.normal(0, 0.5, n_cells), 0))
    noise = rng.gamma(0.5, 1.0, (n_cells, 3)) * (rng.random((n_cells, 3)) < 0.2)
    X = sparse.csr_matrix(np.column_stack([x, y, np.log1p(noise)]).astype(np.float32))
    obs = pd.DataFrame(
        {"dataset": pd.Categorical([f"batch{i}" for i in dataset])},
        index=pd.RangeIndex(n_cells).astype(str),
    )
    return ad.AnnData(X=X, obs=obs, var=pd.DataFrame(index=["GENEA", "GENEB", "N1", "N2", "N3"]))


def child(n_cells: int, side: str, out: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import scanpy as sc

    import sc_heatmaps as sch

    adata = make_adata(n_cells)
    result = {}
    for ext in ("png", "pdf"):
        path = Path(out) / f"{side}_{n_cells}.{ext}"
        start = time.perf_counter()
        if side == "ours":
            plot = sch.pl.dual_expression(adata, "GENEA", "GENEB", color="dataset")
            plot.savefig(path, dpi=150, sidecars=False)
        else:
            sc.pl.scatter(adata, x="GENEA", y="GENEB", color="dataset", show=False)
            plt.gcf().savefig(path, dpi=150)
        result[ext] = {"seconds": time.perf_counter() - start, "bytes": path.stat().st_size}
        plt.close("all")
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cells", default="100000,1000000")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(int(args.child[0]), args.child[1], args.child[2])
        return 0
    print(
        f"{'cells':>8} {'fmt':>4} {'ours s':>7} {'scanpy s':>9} {'ratio':>6} "
        f"{'ours KB':>8} {'scanpy KB':>10} {'ours RSS MB':>12} {'scanpy RSS MB':>14}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(c) for c in args.cells.split(",")):
            res = {}
            for side in ("ours", "scanpy"):
                out = subprocess.run(
                    [sys.executable, __file__, "--child", str(n), side, tmp],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                res[side] = json.loads(out.stdout.strip().splitlines()[-1])
            for ext in ("png", "pdf"):
                o, s = res["ours"][ext], res["scanpy"][ext]
                print(
                    f"{n:>8} {ext:>4} {o['seconds']:>7.2f} {s['seconds']:>9.2f} "
                    f"{s['seconds'] / o['seconds']:>6.1f} {o['bytes'] / 1024:>8.0f} "
                    f"{s['bytes'] / 1024:>10.0f} {res['ours']['peak_rss_mb']:>12.0f} "
                    f"{res['scanpy']['peak_rss_mb']:>14.0f}",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
