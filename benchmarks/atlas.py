"""Atlas files larger than memory, end to end: markers, a grouped heatmap and a dot plot
from a 1M-cell x 20k-gene log-normalised CSR h5ad (about 5 GB) and the same data as a
zarr store, each run in a fresh process under ``/usr/bin/time -v``.

``generate`` writes ``atlas.h5ad`` and ``atlas.zarr`` into ``--data-dir`` a block of
cells at a time (``anndata.io.write_elem`` for the first block, then
``anndata.io.sparse_dataset(...).append``): the whole matrix is never in memory.
Cells fall in ``--datasets`` datasets x ``--clusters`` clusters; each cluster has 30
marker genes that most of its cells express, and higher.

``run`` times, each in its own subprocess, our ``sch.tl.top_markers`` (t-test and
Wilcoxon), ``sch.pl.grouped_heatmap`` by dataset x cluster exported as PDF and
``sch.pl.dotplot`` exported as PDF, from

- ``backed``: ``anndata.read_h5ad(path, backed="r")``;
- ``lazy``: ``anndata.experimental.read_lazy`` of the h5ad (lazy obs, dask X), where the
  installed anndata has it;
- ``zarr``: ``read_lazy`` of the zarr store (``anndata.read_zarr`` with X read back as a
  ``sparse_dataset`` where anndata lacks ``read_lazy``);
- ``dask_x``: (scanpy only) ``read_lazy``'s dask X with obs and var read into memory;
- ``memory``: (scanpy only) ``anndata.read_h5ad(path)``, all of X in memory;
- ``dask``: the zarr store's X as dask on a ``distributed.LocalCluster`` of 2 workers x
  1 thread x 1.5 GB.

and scanpy's ``sc.tl.rank_genes_groups`` (t-test, Wilcoxon) and ``sc.get.aggregate`` on
the backed and lazy inputs, and in memory (t-test and aggregate only), with the address
space capped (``--scanpy-vmem-gb``, by ``resource.setrlimit(RLIMIT_AS)`` in the child)
and a timeout, so that a scanpy which loads everything cannot take the machine down.
Each row: wall seconds and "Maximum resident set size" from ``/usr/bin/time -v``, and
the outcome (ok, or the error).

    python benchmarks/atlas.py generate --data-dir /tmp/atlas
    python benchmarks/atlas.py run --data-dir /tmp/atlas
    python benchmarks/atlas.py generate --data-dir /tmp/tiny --cells 3000 --genes 400
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

MARKERS_PER_CLUSTER = 30
BLOCK_CELLS = 20_000
HEATMAP_GENES_PER_CLUSTER = 3


# ---------------------------------------------------------------- data generation


def _labels(n_cells: int, n_datasets: int, n_clusters: int, seed: int):
    rng = np.random.default_rng(seed)
    dataset = rng.integers(0, n_datasets, n_cells)
    sizes = 1.0 / (np.arange(n_clusters) + 3.0)  # clusters from large to small
    cluster = rng.choice(n_clusters, n_cells, p=sizes / sizes.sum())
    return dataset, cluster


def _gene_weights(n_genes: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed + 1)
    w = rng.lognormal(0.0, 1.0, n_genes)
    return w / w.sum()


def _block(rng, dataset, cluster, n_genes: int, per_cell: float, weights: np.ndarray):
    """One block of cells as CSR (float32 log1p values, int32 indices, sorted, unique)."""
    from scipy import sparse

    n = len(cluster)
    counts = rng.poisson(per_cell, n)
    rows = np.repeat(np.arange(n, dtype=np.int64), counts)
    cols = np.searchsorted(np.cumsum(weights), rng.random(len(rows)) * weights.sum())
    cols = np.minimum(cols, n_genes - 1)
    values = rng.poisson(1.5, len(rows)) + 1.0
    marker_cols = (cluster[:, None] * MARKERS_PER_CLUSTER + np.arange(MARKERS_PER_CLUSTER)) % (
        n_genes
    )
    on = rng.random(marker_cols.shape) < 0.8
    m_rows = np.repeat(np.arange(n, dtype=np.int64), on.sum(axis=1))
    rows = np.concatenate([m_rows, rows])  # markers first: np.unique keeps them
    cols = np.concatenate([marker_cols[on], cols])
    values = np.concatenate([rng.poisson(6.0, len(m_rows)) + 1.0, values])
    keys, first = np.unique(rows * n_genes + cols, return_index=True)
    scale = 1.0 + 0.05 * dataset[keys // n_genes]  # a mild batch effect per dataset
    data = np.log1p(values[first] * scale).astype(np.float32)
    indptr = np.searchsorted(keys // n_genes, np.arange(n + 1)).astype(np.int64)
    indices = (keys % n_genes).astype(np.int32)
    return sparse.csr_matrix((data, indices, indptr), shape=(n, n_genes))


def _frames(dataset, cluster, n_datasets: int, n_clusters: int, n_genes: int):
    import pandas as pd

    obs = pd.DataFrame(
        {
            "dataset": pd.Categorical.from_codes(
                dataset, [f"dataset{i}" for i in range(n_datasets)]
            ),
            "cluster": pd.Categorical.from_codes(cluster, [f"c{i:02d}" for i in range(n_clusters)]),
        },
        index=[f"cell{i}" for i in range(len(dataset))],
    )
    var = pd.DataFrame(index=[f"G{i:05d}" for i in range(n_genes)])
    return obs, var


def _write_store(root, obs, var, blocks) -> None:
    """An AnnData layout in ``root`` (h5py File or zarr Group), X appended block by block."""
    import anndata as ad

    root.attrs["encoding-type"] = "anndata"
    root.attrs["encoding-version"] = "0.1.0"
    ad.io.write_elem(root, "obs", obs)
    ad.io.write_elem(root, "var", var)
    ad.io.write_elem(root, "uns", {"log1p": {"base": None}})
    for key in ("obsm", "varm", "layers", "obsp", "varp"):
        ad.io.write_elem(root, key, {})
    X = None
    for block in blocks:
        if X is None:
            ad.io.write_elem(root, "X", block)
            X = ad.io.sparse_dataset(root["X"])
        else:
            X.append(block)


def generate(args) -> None:
    import h5py
    import zarr

    out = Path(args.data_dir)
    out.mkdir(parents=True, exist_ok=True)
    dataset, cluster = _labels(args.cells, args.datasets, args.clusters, args.seed)
    obs, var = _frames(dataset, cluster, args.datasets, args.clusters, args.genes)
    weights = _gene_weights(args.genes, args.seed)
    per_cell = args.density * args.genes - 0.8 * MARKERS_PER_CLUSTER

    def blocks():
        rng = np.random.default_rng(args.seed + 2)
        for s in range(0, args.cells, BLOCK_CELLS):
            e = min(s + BLOCK_CELLS, args.cells)
            yield _block(rng, dataset[s:e], cluster[s:e], args.genes, max(per_cell, 1), weights)

    start = time.perf_counter()
    h5 = out / "atlas.h5ad"
    with h5py.File(h5, "w") as f:
        _write_store(f, obs, var, blocks())
    zarr_path = out / "atlas.zarr"
    _write_store(zarr.open_group(zarr_path, mode="w"), obs, var, blocks())
    if hasattr(zarr, "consolidate_metadata"):
        zarr.consolidate_metadata(str(zarr_path))
    with h5py.File(h5, "r") as f:
        nnz = int(f["X/indptr"][-1])
    meta = {
        "cells": args.cells,
        "genes": args.genes,
        "nnz": nnz,
        "h5ad_bytes": h5.stat().st_size,
        "seconds": time.perf_counter() - start,
    }
    (out / "atlas.json").write_text(json.dumps(meta))
    print(json.dumps(meta))


# ---------------------------------------------------------------- one run per process

OURS = ("markers_ttest", "markers_wilcoxon", "heatmap_pdf", "dotplot_pdf")
SCANPY = ("rank_genes_groups_ttest", "rank_genes_groups_wilcoxon", "aggregate")
INPUTS = ("backed", "lazy", "zarr", "dask")


def _open(data_dir: Path, how: str):
    """The atlas as anndata hands it out: backed h5ad, or lazy (dask X) h5ad or zarr."""
    import anndata as ad

    if how == "backed":
        return ad.read_h5ad(data_dir / "atlas.h5ad", backed="r")
    if how == "memory":  # what scanpy's user has to do: load all of X
        return ad.read_h5ad(data_dir / "atlas.h5ad")
    read_lazy = getattr(ad.experimental, "read_lazy", None)
    if read_lazy is None:
        raise RuntimeError(f"anndata {ad.__version__} has no experimental.read_lazy")
    lazy = read_lazy(data_dir / ("atlas.h5ad" if how in ("lazy", "dask_x") else "atlas.zarr"))
    if how == "dask_x":  # dask X with obs and var in memory (scanpy refuses a lazy obs)
        obs, var = lazy.obs.to_memory(), lazy.var.to_memory()
        return ad.AnnData(X=lazy.X, obs=obs, var=var, uns={"log1p": {"base": None}})
    return lazy


def _marker_genes(adata, n_clusters: int, per_cluster: int) -> list[str]:
    """The first ``per_cluster`` marker genes the generator gave each cluster."""
    names = np.asarray(adata.var_names)
    cols = [
        (c * MARKERS_PER_CLUSTER + k) % len(names)
        for c in range(n_clusters)
        for k in range(per_cluster)
    ]
    return list(dict.fromkeys(str(names[i]) for i in cols))


def _hits(table, n_clusters: int, n_genes: int) -> float:
    """Fraction of clusters whose top marker is one the generator made for them."""
    top = table[table["rank"] == 1]
    made = {
        f"c{c:02d}": {f"G{(c * MARKERS_PER_CLUSTER + k) % n_genes:05d}" for k in range(30)}
        for c in range(n_clusters)
    }
    pairs = zip(top["group"], top["gene"], strict=True)
    return float(np.mean([g in made[str(c)] for c, g in pairs]))


def _ours(op: str, adata, out: Path, n_clusters: int, how: str) -> dict:
    import sc_heatmaps as sch

    if op.startswith("markers_"):
        method = "t-test" if op == "markers_ttest" else "wilcoxon"
        table = sch.tl.top_markers(adata, "cluster", method=method, n_genes=5)
        return {"rows": len(table), "top_is_made_marker": _hits(table, n_clusters, adata.n_vars)}
    genes = _marker_genes(adata, n_clusters, HEATMAP_GENES_PER_CLUSTER)
    if op == "heatmap_pdf":
        plot = sch.pl.grouped_heatmap(adata, genes, ["dataset", "cluster"], cluster_key="cluster")
    else:
        plot = sch.pl.dotplot(adata, genes, "cluster")
    path = out / f"{op}_{how}.pdf"
    plot.savefig(path)
    return {"matrix": list(plot.data.shape), "pdf_bytes": path.stat().st_size}


def _scanpy(op: str, adata) -> dict:
    import scanpy as sc

    if op == "aggregate":
        agg = sc.get.aggregate(adata, by=["dataset", "cluster"], func="mean")
        return {"groups": int(agg.n_obs)}
    method = "t-test" if op.endswith("ttest") else "wilcoxon"
    sc.tl.rank_genes_groups(adata, "cluster", method=method, n_genes=5)
    return {"groups": len(adata.uns["rank_genes_groups"]["names"].dtype.names)}


def child(args) -> None:
    """One operation on one input, in this process; prints ``RESULT {json}``."""
    import warnings

    warnings.simplefilter("ignore")
    if args.vmem_gb:
        import resource

        cap = int(args.vmem_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    data_dir, out = Path(args.data_dir), Path(args.out_dir)
    cluster = None
    if args.input == "dask":
        import distributed

        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, memory_limit="1.5GB", dashboard_address=None
        )
        distributed.Client(cluster)
    adata = _open(data_dir, "zarr" if args.input == "dask" else args.input)
    start = time.perf_counter()
    if args.side == "ours":
        result = _ours(args.op, adata, out, args.clusters, args.input)
    else:
        result = _scanpy(args.op, adata)
    result["seconds_in_call"] = round(time.perf_counter() - start, 2)
    print("RESULT " + json.dumps(result), flush=True)
    if cluster is not None:
        cluster.close()


def _time_v(stderr: str) -> tuple[float | None, float | None]:
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    seconds = None
    if wall:
        seconds = 0.0
        for part in wall.group(1).split(":"):
            seconds = seconds * 60 + float(part)
    return seconds, (int(rss.group(1)) / 1024 if rss else None)


def _outcome(proc_stdout: str, stderr: str, code: int | None) -> str:
    if code is None:
        return "timeout"
    for line in proc_stdout.splitlines():
        if line.startswith("RESULT "):
            return "ok " + line[len("RESULT ") :]
    errors = [ln for ln in stderr.splitlines() if re.match(r"^[\w.]*(Error|Exception)\b", ln)]
    if "Command terminated by signal" in stderr:
        errors.append(stderr.split("Command terminated by signal")[1].split("\n")[0].strip())
    return "FAILED " + (errors[-1] if errors else f"exit code {code}")[:300]


def _one(args, side: str, how: str, op: str) -> dict:
    cmd = ["/usr/bin/time", "-v", sys.executable, __file__, "child", "--side", side]
    cmd += ["--input", how, "--op", op, "--data-dir", args.data_dir]
    cmd += ["--out-dir", str(args.out_dir), "--clusters", str(args.clusters)]
    if side == "scanpy":
        cmd += ["--vmem-gb", str(args.scanpy_vmem_gb)]
    timeout = args.scanpy_timeout if side == "scanpy" else args.timeout
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
        code = None
    wall, rss = _time_v(stderr)
    row = {
        "side": side,
        "input": how,
        "op": op,
        "wall_s": round(wall if wall is not None else time.perf_counter() - start, 1),
        "peak_rss_mb": None if rss is None else round(rss),
        "outcome": _outcome(stdout, stderr, code),
    }
    if args.keep_logs:
        (Path(args.out_dir) / f"{side}_{how}_{op}.log").write_text(stdout + stderr)
    return row


def run(args) -> None:
    args.out_dir = Path(args.out_dir or Path(args.data_dir) / "out")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    sides = {"ours": args.ops.split(","), "scanpy": args.scanpy_ops.split(",")}
    print("side    input   op                           wall_s  peak_rss_mb  outcome")
    for how in dict.fromkeys(args.inputs.split(",") + args.scanpy_inputs.split(",")):
        for side in ("ours", "scanpy"):
            wanted = args.scanpy_inputs if side == "scanpy" else args.inputs
            if how not in wanted.split(","):
                continue
            for op in filter(None, sides[side]):
                if how == "memory" and op.endswith("wilcoxon"):
                    continue  # scanpy's Wilcoxon on all of an atlas in memory: hours
                row = _one(args, side, how, op)
                with open(args.out_dir / "results.jsonl", "a") as f:
                    f.write(json.dumps(row) + "\n")
                rss = "-" if row["peak_rss_mb"] is None else row["peak_rss_mb"]
                print(
                    f"{side:7s} {how:7s} {op:28s} {row['wall_s']:7.1f}  {rss!s:>11s}  "
                    f"{row['outcome']}",
                    flush=True,
                )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="write atlas.h5ad and atlas.zarr")
    gen.add_argument("--data-dir", required=True)
    gen.add_argument("--cells", type=int, default=1_000_000)
    gen.add_argument("--genes", type=int, default=20_000)
    gen.add_argument("--density", type=float, default=0.031)
    gen.add_argument("--datasets", type=int, default=4)
    gen.add_argument("--clusters", type=int, default=20)
    gen.add_argument("--seed", type=int, default=0)
    gen.set_defaults(func=generate)
    r = sub.add_parser("run", help="time each operation in a fresh process")
    r.add_argument("--data-dir", required=True)
    r.add_argument("--out-dir", default=None, help="PDFs and results.jsonl (data-dir/out)")
    r.add_argument("--inputs", default=",".join(INPUTS))
    r.add_argument("--ops", default=",".join(OURS))
    r.add_argument("--scanpy-inputs", default="backed,lazy,dask_x,memory")
    r.add_argument("--scanpy-ops", default=",".join(SCANPY))
    r.add_argument("--clusters", type=int, default=20)
    r.add_argument("--timeout", type=float, default=3600)
    r.add_argument("--scanpy-timeout", type=float, default=900)
    r.add_argument("--scanpy-vmem-gb", type=float, default=12)
    r.add_argument("--keep-logs", action="store_true")
    r.set_defaults(func=run)
    c = sub.add_parser("child")
    for name in ("--side", "--input", "--op", "--data-dir", "--out-dir"):
        c.add_argument(name, required=True)
    c.add_argument("--clusters", type=int, default=20)
    c.add_argument("--vmem-gb", type=float, default=None)
    c.set_defaults(func=child)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
