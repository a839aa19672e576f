"""Interaction timings of the app (``sc-heatmaps app``) on a large file.

Each interaction is what the server does when a control changes: build the call,
draw it with the public API (or take it from the cache) and render the PNG the page
shows. The browser is left out (it only shows the PNG). The first interaction reads
the file, computes the markers and imports the plotting stack; the goal for every
later one is under 1 s.

    python benchmarks/app.py                      # 100k cells x 5,000 genes
    python benchmarks/app.py --cells 20000 --data-dir /tmp/bench
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

HEATMAP = dict(groupby=["dataset", "cluster"], markers="top", n_genes=5, cluster_key="cluster")
DUAL = dict(color="dataset", max_points=50_000)


def interactions(genes: list[str]) -> list[tuple[str, str, dict]]:
    """(label, kind, call arguments) in the order a user might set them."""
    h = {**HEATMAP, "dataset_key": "dataset"}
    few = [f"c{i:02d}" for i in range(4)]
    picked = {**h, "markers": None, "genes": genes[:10]}
    return [
        ("first figure: top 5 markers, dataset x cluster", "heatmap", h),
        ("scaling: none", "heatmap", {**h, "scale": None}),
        (
            "colour scheme: red_black_green",
            "heatmap",
            {**h, "scale": None, "cmap": "red_black_green"},
        ),
        ("value limits", "heatmap", {**h, "vmin": -1.0, "vmax": 1.0}),
        ("group by cluster", "heatmap", {**h, "groupby": ["cluster"]}),
        ("clusters: 4 of 20", "heatmap", {**h, "clusters": few}),
        ("cluster rows", "heatmap", {**h, "cluster_rows": True}),
        ("genes: 10 picked", "heatmap", picked),
        ("value: fraction", "heatmap", {**picked, "stat": "fraction"}),
        ("back to the first figure (cached)", "heatmap", h),
        ("dual: first figure", "dual", {**DUAL, "genes": genes[:2]}),
        ("dual: colour by cluster", "dual", {**DUAL, "genes": genes[:2], "color": "cluster"}),
        ("dual: other gene", "dual", {**DUAL, "genes": [genes[0], genes[2]]}),
        ("dual: split by dataset", "dual", {**DUAL, "genes": genes[:2], "split_by": "dataset"}),
    ]


def run(path: Path, repeat: int = 1) -> list[tuple[str, list[float]]]:
    """Seconds per interaction, a time per round each. The first round's first
    interaction includes reading the file; each later round starts with empty caches
    (markers, statistics, figures, images) on the data already read."""
    import matplotlib.pyplot as plt

    from sc_heatmaps.app import _figures, load_state
    from sc_heatmaps.app._calls import make_call
    from sc_heatmaps.app._state import AppState

    start = time.perf_counter()
    state = load_state([path])
    genes = [f"G{i:05d}" for i in range(0, 400, 20)]
    steps = interactions(genes)
    out = [(label, []) for label, _, _ in steps]
    for _ in range(repeat):
        for (_label, kind, args), (_, times) in zip(steps, out, strict=True):
            args = dict(args)
            call_genes = args.pop("genes", [])
            call = make_call(kind, call_genes, **args)
            _figures.display_png(state, call)
            times.append(time.perf_counter() - start)
            start = time.perf_counter()
        plt.close("all")  # the figures of the round (the app closes those it evicts)
        fresh = AppState(adata=state.adata, inputs=state.inputs)
        state.markers, state.stats, state.plots, state.images = (
            fresh.markers,
            fresh.stats,
            fresh.plots,
            fresh.images,
        )
        start = time.perf_counter()
    return out


def main(argv=None) -> int:
    from run import make_data

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=100_000)
    parser.add_argument("--genes", type=int, default=5_000)
    parser.add_argument("--density", type=float, default=0.05)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/sc_heatmaps_bench"))
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds of every interaction; medians printed"
    )
    args = parser.parse_args(argv)
    path = args.data_dir / f"app_{args.cells}x{args.genes}.h5ad"
    if not path.exists():
        make_data(args.cells, args.genes, args.density, path)
    print(f"{args.cells:,} cells x {args.genes:,} genes ({path})")
    rounds = run(path, args.repeat)
    print(f"{'median s':>8} {'min s':>6} {'max s':>6}  interaction ({args.repeat} rounds)")
    for label, times in rounds:
        print(f"{statistics.median(times):8.2f} {min(times):6.2f} {max(times):6.2f}  {label}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
