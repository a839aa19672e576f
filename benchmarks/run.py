"""Benchmarks: our functions next to their scanpy equivalents, in the same run.

Each operation runs in a fresh subprocess that loads the same seeded synthetic
data, so that peak RSS is its own. Printed per operation: seconds for ours and
for scanpy, the ratio (scanpy / ours; > 1 means we are faster), and the peak
memory the operation allocates above the loaded data (tracemalloc, on a second
run), and the process's peak RSS.

Timings of drawing vary from run to run on a busy machine: ``--repeat 3`` alternates
the two sides three times and prints the median.

    python benchmarks/run.py                       # 10k and 100k cells x 5,000 genes
    python benchmarks/run.py --cells 2000 --genes 500 --density 0.1
    python benchmarks/run.py --cells 500000 --genes 20000 --density 0.05 \\
        --ops cell_heatmap --repeat 3 --data-dir /tmp/bench
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

OPERATIONS = (
    "markers_ttest",
    "grouped_expression_200",
    "grouped_heatmap_markers",
    "cell_heatmap",
    "floor_GX_200",
    "floor_read_X",
    "dotplot_100x80",
    "dotplot_draw_100x80",
)
# operations whose time is also printed as a multiple of one read of the stored values
FLOOR_OPS = ("markers_ttest", "grouped_expression_200")


def _chunk_csr(rng, cluster, n_genes: int, nnz_per_row: int):
    """One block of cells: random genes plus 20 marker genes per cluster, log1p values."""
    from scipy import sparse

    n = len(cluster)
    cols = rng.integers(0, n_genes, (n, nnz_per_row))
    markers = (cluster[:, None] * 20 + np.arange(20)[None, :]) % n_genes
    cols = np.concatenate([cols, markers], axis=1)
    vals = rng.gamma(1.5, 0.7, cols.shape).astype(np.float32)
    vals[:, nnz_per_row:] += 2.0
    rows = np.repeat(np.arange(n), cols.shape[1])
    X = sparse.csr_matrix((vals.ravel(), (rows, cols.ravel())), shape=(n, n_genes))
    X.sum_duplicates()
    X.data = np.log1p(X.data)
    return X


def make_data(n_cells: int, n_genes: int, density: float, path: Path, seed: int = 0) -> None:
    """Seeded log-normalised CSR data: 4 datasets x 20 clusters, 20 marker genes per cluster.

    Built 20,000 cells at a time into preallocated arrays, so that making 1M cells needs
    little more memory than the matrix itself."""
    import anndata as ad
    import pandas as pd
    from scipy import sparse

    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    nnz_per_row = max(1, int(n_genes * density))
    cluster = rng.integers(0, 20, n_cells)
    dataset = rng.integers(0, 4, n_cells)
    most = n_cells * (nnz_per_row + 20)
    data = np.empty(most, dtype=np.float32)
    indices = np.empty(most, dtype=np.int32 if n_genes < 2**31 else np.int64)
    indptr = np.zeros(n_cells + 1, dtype=np.int64)
    filled = 0
    for start in range(0, n_cells, 20_000):
        stop = min(start + 20_000, n_cells)
        block = _chunk_csr(rng, cluster[start:stop], n_genes, nnz_per_row)
        data[filled : filled + block.nnz] = block.data
        indices[filled : filled + block.nnz] = block.indices
        indptr[start + 1 : stop + 1] = filled + block.indptr[1:]
        filled += block.nnz
    X = sparse.csr_matrix((data[:filled], indices[:filled], indptr), shape=(n_cells, n_genes))
    obs = pd.DataFrame(
        {
            "dataset": pd.Categorical([f"d{i}" for i in dataset]),
            "cluster": pd.Categorical([f"c{i:02d}" for i in cluster]),
        },
        index=[f"cell{i}" for i in range(n_cells)],
    )
    adata = ad.AnnData(X=X, obs=obs, var=pd.DataFrame(index=[f"G{i:05d}" for i in range(n_genes)]))
    adata.uns["log1p"] = {"base": None}
    adata.write_h5ad(path)


def _data_mb(path: Path) -> float:
    import anndata as ad

    X = ad.read_h5ad(path).X
    return (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _draw(figure) -> int:
    """Render to PNG (both sides pay for the drawing), then close."""
    import io

    import matplotlib.pyplot as plt

    figure = figure or plt.gcf()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close("all")
    return buffer.tell()


def _floor(adata, genes):
    """The physical floor of any aggregation: one sparse indicator product G @ X."""
    from sc_heatmaps._groups import make_grouping
    from sc_heatmaps._kernels import indicator

    grouping = make_grouping(adata.obs, ["dataset", "cluster"])
    X = adata.X[:, adata.var_names.get_indexer(genes)]
    return indicator(grouping.codes, grouping.n_groups) @ X


_READ_ONCE = None


def _read_once(X):
    """One compiled read of every stored value and its column: per-gene sums (the least
    any per-gene statistic of all genes must do). Compiled on first use, untimed."""
    global _READ_ONCE
    if _READ_ONCE is None:
        import numba

        @numba.njit(nogil=True)
        def read_once(data, indices, n_genes):
            acc = np.zeros(n_genes)
            for j in range(len(data)):
                acc[indices[j]] += data[j]
            return acc

        read_once(X.data[:1], X.indices[:1], X.shape[1])
        _READ_ONCE = read_once
    return _READ_ONCE(X.data, X.indices, X.shape[1])


def _prepare(op: str, side: str, adata, genes):
    """Untimed work before an operation: the statistics of a draw-only dot plot (ours:
    the bundle; scanpy: the ``DotPlot`` object, which computes them when made)."""
    if not op.startswith("dotplot"):
        return None
    if side == "ours":  # load the board's modules, as `import scanpy` loads sc.pl's
        import sc_heatmaps.pl._marsilea  # noqa: F401
        from sc_heatmaps.pl._dotplot import prepare

        if op == "dotplot_draw_100x80":
            return prepare(adata, genes[:100], ["dataset", "cluster"])
        return None
    import scanpy as sc

    if op == "dotplot_draw_100x80":
        return lambda: sc.pl.DotPlot(adata, genes[:100], ["dataset", "cluster"])
    return None


def _dotplot(side: str, adata, genes, prepared=None):
    """100 genes x 80 groups: the figure and its PNG (with the statistics unless
    ``prepared``)."""
    if side == "ours":
        import sc_heatmaps as sch
        from sc_heatmaps._dotplot_options import DotPlotOptions
        from sc_heatmaps.pl._dotplot import draw_dots

        if prepared is not None:
            return _draw(draw_dots(prepared, DotPlotOptions()).figure)
        return _draw(sch.pl.dotplot(adata, genes[:100], ["dataset", "cluster"]).figure)
    import scanpy as sc

    if prepared is not None:
        dp = prepared  # a DotPlot: its statistics are computed, the figure not yet
        dp.make_figure()
        return _draw(dp.fig)
    sc.pl.dotplot(adata, genes[:100], ["dataset", "cluster"], show=False)
    return _draw(None)


def _ours(op: str, adata, genes, prepared=None):
    import sc_heatmaps as sch

    if op.startswith("dotplot"):
        return _dotplot("ours", adata, genes, prepared)
    if op == "floor_GX_200":
        return _floor(adata, genes)
    if op == "floor_read_X":
        return _read_once(adata.X)
    if op == "cell_heatmap":
        return sch.pl.cell_heatmap(
            adata, genes[:50], ["dataset", "cluster"], max_cells_per_group="auto"
        )
    if op == "markers_ttest":
        return sch.tl.top_markers(adata, "cluster", n_genes=10, duplicates="keep")
    if op == "grouped_expression_200":
        return sch.get.grouped_expression(adata, genes, ["dataset", "cluster"])
    plot = sch.pl.grouped_heatmap(adata, cluster_key="cluster", dataset_key="dataset", n_genes=3)
    return _draw(plot.figure)


def _scanpy(op: str, adata, genes, prepared=None):
    import scanpy as sc

    if op.startswith("dotplot"):
        return _dotplot("scanpy", adata, genes, prepared)
    if op == "floor_GX_200":
        return _floor(adata, genes)
    if op == "floor_read_X":  # numpy's reduction over the values alone (no columns)
        return adata.X.data.sum()
    if op == "cell_heatmap":
        sc.pl.heatmap(adata, genes[:50], groupby="cluster", show=False)
        return _draw(None)
    if op == "markers_ttest":
        ref = adata.copy()  # scanpy writes into .uns; ours does not
        sc.tl.rank_genes_groups(ref, "cluster", method="t-test", n_genes=adata.n_vars)
        return ref
    if op == "grouped_expression_200":
        return sc.get.aggregate(adata[:, genes], by=["dataset", "cluster"], func="mean")
    ref = adata.copy()
    sc.tl.rank_genes_groups(ref, "cluster", method="t-test")
    return sc.pl.rank_genes_groups_matrixplot(
        ref, n_genes=3, groupby="cluster", show=False, standard_scale="var"
    )


def child(path: str, op: str, side: str) -> None:
    """Run one operation once and print JSON with seconds and peak RSS above the data."""
    import anndata as ad
    import matplotlib

    matplotlib.use("Agg")
    import scanpy  # noqa: F401  (imports are not part of the measurement)

    # sc_heatmaps imports its submodules lazily; load them here as `import scanpy` loads
    # sc.tl and sc.pl, so that neither side's imports are timed
    import sc_heatmaps.get
    import sc_heatmaps.pl
    import sc_heatmaps.tl  # noqa: F401

    adata = ad.read_h5ad(path)
    genes = list(adata.var_names[:: max(1, adata.n_vars // 200)][:200])
    if op == "floor_read_X":
        _read_once(adata.X[:2])  # compile before timing
    run = _ours if side == "ours" else _scanpy
    prepared = _made(_prepare(op, side, adata, genes))
    start = time.perf_counter()
    run(op, adata, genes, prepared)
    seconds = time.perf_counter() - start
    # second run under tracemalloc (numpy registers its buffers): peak bytes allocated by
    # the operation itself, above the loaded data
    prepared = _made(_prepare(op, side, adata, genes))
    tracemalloc.start()
    run(op, adata, genes, prepared)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(json.dumps({"seconds": seconds, "peak_mb_above_data": peak, "rss_mb": _peak_mb()}))


def _made(prepared):
    return prepared() if callable(prepared) else prepared


def _repeated(path: Path, op: str, repeat: int) -> tuple[dict, dict]:
    """Alternate the two sides ``repeat`` times; median seconds, largest memory."""
    runs = {"ours": [], "scanpy": []}
    for _ in range(repeat):
        for side, results in runs.items():
            results.append(measure(path, op, side))
    out = []
    for results in runs.values():
        out.append(
            {
                "seconds": float(np.median([r["seconds"] for r in results])),
                "peak_mb_above_data": max(r["peak_mb_above_data"] for r in results),
            }
        )
    return out[0], out[1]


def measure(path: Path, op: str, side: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path), op, side],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _warm_up(tmp: Path, ops: list[str]) -> None:
    """Run every operation once on tiny data, so that numba's one-time compilation (cached
    on disk after the first run of an installation) is not part of a measurement."""
    path = tmp / "warm.h5ad"
    make_data(400, 300, 0.1, path)
    for op in ops:
        if op != "floor_read_X":  # compiled in its own process, untimed
            measure(path, op, "ours")
    path.unlink()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cells", default="10000,100000")
    parser.add_argument("--genes", type=int, default=5000)
    parser.add_argument("--density", type=float, default=0.07)
    parser.add_argument("--ops", default=",".join(OPERATIONS))
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs per side, alternating ours and scanpy; the median time is printed",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="keep the generated data here and reuse it (default: a temporary directory)",
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    print(
        f"{'cells':>8} {'operation':<26} {'ours s':>8} {'scanpy s':>9} {'ratio':>6} "
        f"{'ours MB':>8} {'scanpy MB':>9} {'floor s':>8} {'x floor':>8}"
    )
    ops = args.ops.split(",")
    if args.data_dir is not None:
        args.data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        _warm_up(Path(tmp), ops)
        data_dir = args.data_dir or Path(tmp)
        for n_cells in (int(c) for c in args.cells.split(",")):
            path = data_dir / f"bench_{n_cells}_{args.genes}_{args.density}.h5ad"
            if not path.exists():
                make_data(n_cells, args.genes, args.density, path)
            floor = None
            if any(op in FLOOR_OPS for op in ops):
                floor = measure(path, "floor_read_X", "ours")["seconds"]
            for op in ops:
                _print_row(n_cells, op, *_repeated(path, op, max(1, args.repeat)), floor)
    return 0


def _print_row(n_cells: int, op: str, ours: dict, ref: dict, floor: float | None) -> None:
    """One line of the table; ``x floor`` is ours as a multiple of one read of X."""
    if floor is not None and op in FLOOR_OPS:
        floors = f"{floor:>8.2f} {ours['seconds'] / floor:>8.1f}"
    else:
        floors = f"{'-':>8} {'-':>8}"
    print(
        f"{n_cells:>8} {op:<26} {ours['seconds']:>8.2f} {ref['seconds']:>9.2f} "
        f"{ref['seconds'] / ours['seconds']:>6.2f} "
        f"{ours['peak_mb_above_data']:>8.0f} {ref['peak_mb_above_data']:>9.0f} {floors}",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
