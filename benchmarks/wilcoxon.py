"""Wilcoxon markers: ``sch.tl.top_markers(method="wilcoxon")`` next to illico's
``asymptotic_wilcoxon`` and ``sc.tl.rank_genes_groups(method="wilcoxon")``, in the same run.

Each side runs in a fresh subprocess that builds the same seeded synthetic data
(log-normalised float32 CSR counts in ``--groups`` groups, about ``density`` of the
values stored), with ``NUMBA_NUM_THREADS`` and each tool's own thread option set to
``--threads``. Timed: ours end to end (every gene ranked, top 10 per group with
``duplicates="keep"``, fold changes, fractions); illico's one-vs-rest test with
scanpy's settings (``tie_correct=False``, ``use_continuity=False``; its data frame of
every group and gene, its fastest output); scanpy's top 10 per group (it tests every
gene). Printed
per row: seconds, ratios (other / ours; > 1 means we are faster), the peak resident
memory above the loaded data, and agreement: the largest relative difference of the
p-values of every (group, gene) against illico, and of scanpy's top 10 per group
against scanpy, and whether our top 10 per group is scanpy's (the first 10 of its whole
ranking).

    pip install -r benchmarks/requirements.txt
    python benchmarks/wilcoxon.py --sizes 100000x3000 --groups 20,200,2000 --threads 1,2
    python benchmarks/wilcoxon.py --sizes 2000x300 --groups 5 --threads 1 --sides ours,illico,scanpy
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

ROWS_PER_PART = 20_000
SIDES = ("ours", "illico", "scanpy")


def make_data(n_cells: int, n_genes: int, density: float, n_groups: int = 10, seed: int = 0):
    """Seeded log-normalised CSR data in ``n_groups`` groups, 20 marker genes per group;
    built a block of cells at a time so that the largest sizes fit in memory."""
    import anndata as ad
    import pandas as pd
    from scipy import sparse

    rng = np.random.default_rng(seed)
    group = rng.integers(0, n_groups, n_cells)
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


def _pvals_ours(adata) -> np.ndarray:
    """Our p-values of every (group, gene), from the kernel ``top_markers`` runs."""
    from scipy import special

    from sc_heatmaps.tl._wilcoxon import wilcoxon_scores

    cat = adata.obs["group"].cat
    scores = wilcoxon_scores(
        adata.X, cat.codes.to_numpy().astype(np.int64), len(cat.categories), False
    )
    return 2 * special.ndtr(-np.abs(scores))


def _run(side: str, adata, threads: int):
    """Runs one side; returns callables (run after the timing) giving the top 10 per
    group (or None) and the p-values (groups x genes, in category and var order)."""
    groups = list(adata.obs["group"].cat.categories)
    if side == "ours":
        import sc_heatmaps as sch

        table = sch.tl.top_markers(adata, "group", method="wilcoxon", duplicates="keep")

        def top():
            return {str(g): list(t["gene"]) for g, t in table.groupby("group", observed=True)}

        return top, lambda: _pvals_ours(adata)
    if side == "illico":
        from illico import asymptotic_wilcoxon

        frame = asymptotic_wilcoxon(
            adata,
            is_log1p=True,
            group_keys="group",
            n_threads=threads,
            use_continuity=False,
            tie_correct=False,
        )

        def pvals():
            p = frame["p_value"].unstack()
            return p.reindex(index=groups, columns=adata.var_names).to_numpy()

        return lambda: None, pvals
    import scanpy as sc

    # every gene ranked (scanpy's default n_genes): tied scores then come in the order of
    # the whole ranking, as ours do; n_genes=10 partitions the top 10 alone, which can
    # order ties differently (numpy 1.26)
    sc.tl.rank_genes_groups(adata, "group", method="wilcoxon")
    res = adata.uns["rank_genes_groups"]

    def top():
        return {g: list(res["names"][g])[:10] for g in groups}

    def pvals():
        out = np.full((len(groups), adata.n_vars), np.nan)
        for i, g in enumerate(groups):
            out[i, adata.var_names.get_indexer(res["names"][g])] = res["pvals"][g]
        return out

    return top, pvals


def child(args) -> None:
    """One side at one size: build the data, time the call, save the p-values."""
    import logging
    import warnings

    import numba

    numba.set_num_threads(args.threads)
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    _quiet_illico()
    _run(args.child, make_data(300, 50, 0.2, 3, seed=1), args.threads)  # compile, imports
    adata = make_data(args.cells, args.genes, args.density, args.groups)
    gc.collect()
    with _PeakRSS() as mem:
        start = time.perf_counter()
        top, pvals = _run(args.child, adata, args.threads)
        seconds = time.perf_counter() - start
    np.save(args.out + ".npy", pvals())
    with open(args.out, "w") as f:
        json.dump(top(), f)
    peak = mem.peak - mem.base
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "nnz": int(adata.X.nnz)}))


def _quiet_illico() -> None:
    try:
        from loguru import logger

        logger.remove()
    except ImportError:
        pass
    os.environ.setdefault("TQDM_DISABLE", "1")


def _max_rel_diff(a: np.ndarray, b: np.ndarray) -> float:
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.abs(a - b) / np.maximum(np.abs(b), 1e-300)
    return float(np.nanmax(np.where(a == b, 0.0, rel)))


def measure(args, cells: int, genes: int, groups: int, threads: int, side: str) -> dict:
    out = os.path.join(args.tmp, f"wilcoxon_bench_{side}_{os.getpid()}.json")
    cmd = [sys.executable, __file__, "--child", side, "--cells", str(cells)]
    cmd += ["--genes", str(genes), "--groups", str(groups), "--threads", str(threads)]
    cmd += ["--density", str(args.density), "--out", out]
    env = {**os.environ, "NUMBA_NUM_THREADS": str(threads), "TQDM_DISABLE": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{side} failed:\n{done.stderr[-3000:]}")
    res = json.loads(done.stdout.strip().splitlines()[-1])
    with open(out) as f:
        res["top"] = json.load(f)
    res["pvals"] = np.load(out + ".npy")
    os.remove(out)
    os.remove(out + ".npy")
    return res


def _row(args, cells, genes, groups, threads) -> str:
    res = {}
    for side in args.sides.split(","):
        runs = [measure(args, cells, genes, groups, threads, side) for _ in range(args.repeat)]
        res[side] = {**runs[0], "seconds": float(np.median([r["seconds"] for r in runs]))}
    o = res["ours"]
    cols = [f"{cells}", f"{genes}", f"{groups}", f"{threads}", f"{o['seconds']:.2f}"]
    for side in ("illico", "scanpy"):
        if side in res:
            s = res[side]["seconds"]
            cols += [f"{s:.2f}", f"{s / o['seconds']:.2f}"]
            cols += [f"{_max_rel_diff(o['pvals'], res[side]['pvals']):.1e}"]
        else:
            cols += ["-", "-", "-"]
    same = "-" if "scanpy" not in res else str(o["top"] == res["scanpy"]["top"])
    return " ".join([*cols, same, f"{o['peak_mb']:.0f}"])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000x3000")
    parser.add_argument("--groups", default="20,200,2000")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--sides", default="ours,illico")
    parser.add_argument("--repeat", type=int, default=1, help="median of this many runs")
    parser.add_argument("--density", type=float, default=0.05)
    parser.add_argument("--child", choices=SIDES)
    parser.add_argument("--cells", type=int)
    parser.add_argument("--genes", type=int)
    parser.add_argument("--out")
    parser.add_argument("--tmp", default="/tmp")
    args = parser.parse_args(argv)
    if args.child:
        args.groups, args.threads = int(args.groups), int(args.threads)
        child(args)
        return 0
    print(
        "cells genes groups threads ours_s illico_s illico/ours p_rel_diff_illico "
        "scanpy_s scanpy/ours p_rel_diff_scanpy same_top10_scanpy ours_MB"
    )
    for size in args.sizes.split(","):
        cells, genes = (int(v) for v in size.split("x"))
        for groups in (int(g) for g in args.groups.split(",")):
            for threads in (int(t) for t in args.threads.split(",")):
                print(_row(args, cells, genes, groups, threads), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
