"""Argument parsing and dispatch. No logic lives here: each subcommand calls the API.

Exit codes: 0 on success, 2 on usage errors, 1 on data errors. Messages go to
stderr; a traceback is shown only with ``--verbose``.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

DEMO_FORMATS = ("png", "pdf", "svg", "tiff", "jpg")
DEMO_EPILOG = """examples:
  sc-heatmaps demo
  sc-heatmaps demo --out figs --dpi 600 --format png,pdf
"""


def _formats(text: str) -> list[str]:
    from ..export import FORMATS

    formats = [f.strip().lower().lstrip(".") for f in text.split(",") if f.strip()]
    valid = sorted({k.lstrip(".") for k in FORMATS})
    bad = [f for f in formats if f".{f}" not in FORMATS]
    if bad or not formats:
        raise argparse.ArgumentTypeError(f"unknown format(s) {bad}; choose from {valid}")
    return formats


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be positive")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sc-heatmaps",
        description="Grouped heatmaps for multi-dataset single-cell AnnData.",
    )
    parser.add_argument("--verbose", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = sub.add_parser(
        "demo",
        help="run the main job on the bundled (simulated) example",
        description="Top-10 markers per cluster of the bundled example, then a grouped "
        "heatmap by dataset x cluster, exported in several formats with TSV/JSON sidecars.",
        epilog=DEMO_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument(
        "--out",
        type=Path,
        default=Path("sc_heatmaps_demo"),
        help="output directory (created if needed; default: %(default)s)",
    )
    demo.add_argument("--dpi", type=_positive, default=300.0, help="resolution (default: 300)")
    demo.add_argument(
        "--format",
        type=_formats,
        default=list(DEMO_FORMATS),
        help="comma-separated formats (default: png,pdf,svg,tiff,jpg)",
    )
    demo.add_argument("--verbose", action="store_true", help="show tracebacks on errors")
    demo.set_defaults(func=run_demo)
    return parser


def run_demo(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .. import datasets, pl, tl
    from ..export import write_table

    adata = datasets.example()
    args.out.mkdir(parents=True, exist_ok=True)
    table = tl.top_markers(adata, "cluster", n_genes=10)
    written = [write_table(table, args.out / "markers.tsv")]
    plot = pl.grouped_heatmap(
        adata,
        cluster_key="cluster",
        dataset_key="dataset",
        n_genes=10,
        title="Top-10 markers per cluster, by dataset x cluster (simulated example)",
    )
    for fmt in args.format:
        written += plot.savefig(args.out / f"markers_heatmap.{fmt}", dpi=args.dpi)
    plt.close(plot.figure)
    for path in dict.fromkeys(written):
        print(path)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits with 2 on usage errors
    try:
        return args.func(args)
    except (KeyError, ValueError, FileNotFoundError, PermissionError, OSError) as err:
        if args.verbose:
            traceback.print_exc()
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"sc-heatmaps: error: {message}", file=sys.stderr)
        return 1
