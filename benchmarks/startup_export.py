"""Benchmark: command-line start-up against ``import scanpy``, and export by format.

Start-up: each subcommand runs on the bundled example in a fresh process, as a user
(or a Snakemake rule) calls it, interleaved with ``python -c "import scanpy"`` in the
same rounds; the table gives medians and the ratio to the scanpy import.

Export: in one fresh process per figure, the figure is built (timed), then written
as PNG, PDF and SVG (each timed, median of the repeats, with the file size). Figures:
``demo`` (the grouped heatmap of the bundled example) and ``100x20`` (100 genes x 20
groups of a seeded synthetic AnnData).

    python benchmarks/startup_export.py                      # both tables, 3 rounds
    python benchmarks/startup_export.py --repeats 1 --commands markers --figures demo
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXAMPLE = ["-i", "{example}"]
COMMANDS = {
    "import scanpy": ["-c", "import scanpy"],
    "import anndata": ["-c", "import anndata"],
    "markers": ["markers", *EXAMPLE, "--groupby", "cluster", "--method", "t-test"],
    "heatmap": ["heatmap", *EXAMPLE, "--cluster-key", "cluster", "--dataset-key", "dataset"],
    "dual": ["dual", *EXAMPLE, "--genes", "ISG15,IFI6", "--color", "dataset"],
    "correlation": ["correlation", *EXAMPLE, "-y", "ISG15,IFI6,MX1,CD3E"],
    "interactive": ["interactive", *EXAMPLE, "--cluster-key", "cluster"],
}
OUTPUTS = {
    "markers": "markers.tsv",
    "heatmap": "heatmap.png",
    "dual": "dual.png",
    "correlation": "corr.png",
    "interactive": "page.html",
}
FORMATS = ("png", "pdf", "svg")


def _argv(name: str, tmp: str) -> list[str]:
    from sc_heatmaps.datasets._example import example_path

    argv = [a.format(example=example_path()) for a in COMMANDS[name]]
    if name in OUTPUTS:
        argv = ["-m", "sc_heatmaps", *argv, "-o", str(Path(tmp) / OUTPUTS[name])]
    return [sys.executable, *argv]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def startup(names: list[str], repeats: int) -> None:
    """Median wall and CPU time of each command, in interleaved rounds. On a shared
    machine the CPU time (user + system of the child) is the steadier of the two."""
    wall: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):
            for name in names:
                start, start_cpu = time.perf_counter(), _cpu()
                subprocess.run(_argv(name, tmp), check=True, capture_output=True)
                wall[name].append(time.perf_counter() - start)
                cpu[name].append(_cpu() - start_cpu)
    base = statistics.median(wall["import scanpy"])
    base_cpu = statistics.median(cpu["import scanpy"])
    print(f"{'command':>16} {'wall s':>7} {'/ scanpy':>9} {'cpu s':>6} {'/ scanpy':>9}  wall runs")
    for name in names:
        med, med_cpu = statistics.median(wall[name]), statistics.median(cpu[name])
        runs = " ".join(f"{t:.2f}" for t in wall[name])
        print(
            f"{name:>16} {med:>7.2f} {med / base:>9.2f} {med_cpu:>6.2f} "
            f"{med_cpu / base_cpu:>9.2f}  {runs}",
            flush=True,
        )


def _synthetic(n_cells: int = 20_000, n_genes: int = 500, n_groups: int = 20):
    import anndata as ad
    import numpy as np
    import pandas as pd
    from scipy import sparse

    rng = np.random.default_rng(0)
    group = rng.integers(0, n_groups, n_cells)
    X = sparse.random(n_cells, n_genes, density=0.1, format="csr", random_state=rng)
    X = X.multiply(1 + (group[:, None] == np.arange(n_genes) % n_groups)).tocsr()
    obs = pd.DataFrame(
        {"cluster": pd.Categorical([f"c{g:02d}" for g in group])},
        index=pd.RangeIndex(n_cells).astype(str),
    )
    var = pd.DataFrame(index=[f"G{i:04d}" for i in range(n_genes)])
    return ad.AnnData(X=np.log1p(X).astype(np.float32), obs=obs, var=var)


def _build(figure: str):
    import sc_heatmaps as sch

    if figure == "demo":
        adata = sch.datasets.example()
        start = time.perf_counter()
        plot = sch.pl.grouped_heatmap(adata, cluster_key="cluster", dataset_key="dataset")
    else:
        adata = _synthetic()
        start = time.perf_counter()
        plot = sch.pl.grouped_heatmap(adata, list(adata.var_names[:100]), "cluster")
    return plot, time.perf_counter() - start


def child(figure: str, repeats: int, dpi: float, out: str) -> None:
    """Build one figure, then write it in each format ``repeats`` times (one JSON line)."""
    import matplotlib

    matplotlib.use("Agg")
    plot, build = _build(figure)
    result = {"build": build}
    for fmt in FORMATS:
        path = Path(out) / f"{figure}.{fmt}"
        runs = []
        for _ in range(repeats):
            start = time.perf_counter()
            plot.savefig(path, dpi=dpi, sidecars=False)
            runs.append(time.perf_counter() - start)
        result[fmt] = {"seconds": statistics.median(runs), "bytes": path.stat().st_size}
    print(json.dumps(result))


def export(figures: list[str], repeats: int, dpi: float) -> None:
    head = ("figure", 8), ("build s", 8), ("fmt", 4), ("save s", 7), ("/ png", 6)
    print(" ".join(f"{n:>{w}}" for n, w in head), f"{'/ build':>8} {'KB':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        for figure in figures:
            cmd = [sys.executable, __file__, "--child", figure, str(repeats), str(dpi), tmp]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True)
            res = json.loads(out.stdout.strip().splitlines()[-1])
            for fmt in FORMATS:
                sec = res[fmt]["seconds"]
                print(
                    f"{figure:>8} {res['build']:>8.2f} {fmt:>4} {sec:>7.2f} "
                    f"{sec / res['png']['seconds']:>6.2f} {sec / res['build']:>8.2f} "
                    f"{res[fmt]['bytes'] / 1024:>7.0f}",
                    flush=True,
                )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--commands", default="markers,heatmap,dual,correlation,interactive")
    parser.add_argument("--figures", default="demo,100x20")
    parser.add_argument("--dpi", type=float, default=300)
    parser.add_argument("--skip", choices=("startup", "export"), help="leave out one table")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], int(args.child[1]), float(args.child[2]), args.child[3])
        return 0
    if args.skip != "startup":
        names = ["import scanpy", "import anndata", *args.commands.split(",")]
        startup([n for n in names if n], args.repeats)
    if args.skip != "export":
        export(args.figures.split(","), args.repeats, args.dpi)
    return 0


if __name__ == "__main__":
    sys.exit(main())
