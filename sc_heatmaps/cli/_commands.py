"""One function per subcommand: read the input, call the public API, write the outputs."""

from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager
from pathlib import Path

from . import _args

EXPRESSION_VALUES = ("mean", "median", "fraction")


@contextmanager
def steps(total: int, verbose: bool):
    """A progress bar over the long steps, shown only when stderr is a terminal."""
    from tqdm import tqdm

    bar = tqdm(
        total=total,
        file=sys.stderr,
        disable=not sys.stderr.isatty(),
        leave=False,
        bar_format="{desc}: {n_fmt}/{total_fmt} {bar}",
    )

    def step(label: str) -> None:
        bar.set_description_str(label)
        bar.update(1)
        if verbose:
            print(f"sc-heatmaps: {label}", file=sys.stderr)

    try:
        yield step
    finally:
        bar.close()


def read(path: Path, *, backed: bool, subset: str | None = None):
    """Read an .h5ad (in backed mode when the command only reads a few genes)."""
    import anndata as ad

    from ..get import select_cells

    if path.is_dir():
        raise IsADirectoryError(f"input {str(path)!r} is a directory, not an .h5ad file")
    if not path.is_file():
        raise FileNotFoundError(f"input file {str(path)!r} does not exist")
    adata = ad.read_h5ad(path, backed="r" if backed else None)
    if subset is not None:
        adata = select_cells(adata, _args.subset(subset))
    return adata


def _figures(plot, args: argparse.Namespace) -> list[Path]:
    stem, fmts = _args.figure_output(args.output, args.format)  # checked before reading
    if stem.parent != Path("."):
        stem.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in fmts:
        written += plot.savefig(stem.with_name(f"{stem.name}.{fmt}"), dpi=args.dpi)
    return list(dict.fromkeys(written))


def _close(plot) -> None:
    import matplotlib.pyplot as plt

    plt.close(plot.figure)


def _export(plot, args: argparse.Namespace) -> list[Path]:
    """Write the figure in every asked format, then free it."""
    try:
        return _figures(plot, args)
    finally:
        _close(plot)


def run_markers(args: argparse.Namespace) -> list[Path]:
    from ..export import write_table
    from ..tl import top_markers

    out = _args.single_output(args.output, (".tsv",), "a TSV table")
    with steps(2, args.verbose) as step:
        step("reading " + str(args.input))
        adata = read(args.input, backed=True, subset=args.subset)
        step("computing markers")
        table = top_markers(
            adata,
            args.groupby,
            n_genes=args.n_genes,
            method=args.method,
            source=args.source,
            groups=args.clusters,
            duplicates=args.duplicates,
        )
    if out.parent != Path("."):
        out.parent.mkdir(parents=True, exist_ok=True)
    return [write_table(table, out)]


def _heatmap_options(args: argparse.Namespace) -> dict:
    var_names, n_markers = _args.genes(args.y_variable)
    opts = {
        "var_names": var_names,
        "groupby": args.x_variable or args.groupby,
        "cluster_key": args.cluster_key,
        "dataset_key": args.dataset_key,
        "clusters": args.clusters,
        "source": args.source,
        "n_genes": n_markers or args.n_genes,
        "markers": _args.marker_kind(args.y_variable),
        "cluster_rows": args.cluster_rows,
        "cluster_cols": args.cluster_cols,
        "title": args.title,
        "filter": args.filter,
        "stat": args.value,
        "missing": args.missing,
        "gene_symbols": args.gene_symbols,
        **(_args.kwargs(args.kwargs) if args.kwargs else {}),
    }
    if args.operation is not None:
        raise _args.UsageError(
            "-p/--operation combines replicate cells of a numeric obs value (-v COLUMN); with "
            f"-v {args.value} the expression of the cells in a group is already summarised"
        )
    return opts


def _obs_heatmap(adata, args: argparse.Namespace):
    from ..get import obs_summary
    from ..pl import matrix_heatmap

    if args.y_variable is None or args.y_variable not in adata.obs.columns:
        raise _args.UsageError(
            f"-v {args.value} is an obs column: -y must name the obs key of the rows "
            f"(got {args.y_variable!r})"
        )
    cols = args.x_variable or args.groupby
    if not cols:
        raise _args.UsageError("give the obs key(s) of the columns with -x")
    table = obs_summary(adata, args.value, args.y_variable, cols, op=args.operation)
    from .._heatmap_options import MatrixHeatmapOptions

    extra = _args.kwargs(args.kwargs, MatrixHeatmapOptions) if args.kwargs else {}
    return matrix_heatmap(
        table,
        filter=args.filter,
        title=args.title,
        cluster_rows=args.cluster_rows,
        cluster_cols=args.cluster_cols,
        value_name=f"{args.operation or ''} {args.value}".strip(),
        **extra,
    )


def run_heatmap(args: argparse.Namespace) -> list[Path]:
    from ..pl import grouped_heatmap

    _args.figure_output(args.output, args.format)  # a bad -o is refused before any work
    with steps(3, args.verbose) as step:
        step("reading " + str(args.input))
        adata = read(args.input, backed=True, subset=args.subset)
        step("computing and drawing")
        if args.value in EXPRESSION_VALUES:
            opts = _heatmap_options(args)
            plot = grouped_heatmap(adata, opts.pop("var_names"), opts.pop("groupby"), **opts)
        else:
            plot = _obs_heatmap(adata, args)
        step("writing")
        return _export(plot, args)


def run_dotplot(args: argparse.Namespace) -> list[Path]:
    from .._dotplot_options import DotPlotOptions
    from ..pl import dotplot

    if args.value != "mean":
        raise _args.UsageError(
            f"dotplot colours dots by the mean (or --color logfc); got -v {args.value}"
        )
    _args.figure_output(args.output, args.format)
    kw = args.kwargs
    args.kwargs = None  # parsed below against the dot plot's options
    opts = _heatmap_options(args)
    opts.pop("stat")
    opts.update(layout=args.layout, color=args.color, reference=args.reference)
    opts.update(_args.kwargs(kw, DotPlotOptions) if kw else {})
    with steps(3, args.verbose) as step:
        step("reading " + str(args.input))
        adata = read(args.input, backed=True, subset=args.subset)
        step("computing and drawing")
        plot = dotplot(adata, opts.pop("var_names"), opts.pop("groupby"), **opts)
        step("writing")
        return _export(plot, args)


def run_interactive(args: argparse.Namespace) -> list[Path]:
    from ..pl import interactive_heatmap

    if args.operation is not None or args.value not in EXPRESSION_VALUES:
        raise _args.UsageError("interactive takes -v mean|median|fraction (no -p)")
    out = _args.single_output(args.output, (".html", ".htm"), "an HTML page")
    adata = read(args.input, backed=True, subset=args.subset)
    opts = _heatmap_options(args)
    if out.parent != Path("."):
        out.parent.mkdir(parents=True, exist_ok=True)
    return [interactive_heatmap(adata, out, **opts).path]


def run_dual(args: argparse.Namespace) -> list[Path]:
    from ..pl import dual_expression

    if len(args.genes) != 2:
        raise _args.UsageError(f"--genes takes exactly two genes, got {args.genes}")
    _args.figure_output(args.output, args.format)
    adata = read(args.input, backed=True, subset=args.subset)
    plot = dual_expression(
        adata,
        *args.genes,
        color=args.color,
        split_by=args.split_by,
        source=args.source,
        clusters=args.clusters,
        cluster_key=args.cluster_key,
        method=args.method,
        exclude_double_zero=args.exclude_double_zero,
        jitter=args.jitter,
        max_points=args.max_points,
        title=args.title,
        gene_symbols=args.gene_symbols,
    )
    return _export(plot, args)


def run_correlation(args: argparse.Namespace) -> list[Path]:
    from ..pl import correlation_heatmap

    genes, _ = _args.genes(args.y_variable)
    _args.figure_output(args.output, args.format)
    adata = read(args.input, backed=True, subset=args.subset)
    plot = correlation_heatmap(
        adata,
        rows=args.rows,
        cols=args.cols,
        genes=genes,
        obs_keys=args.obs_keys,
        method=args.method,
        min_nonzero=args.min_nonzero,
        groupby=args.groupby,
        level=args.level,
        source=args.source,
        clusters=args.clusters,
        cluster_key=args.cluster_key,
        title=args.title,
        gene_symbols=args.gene_symbols,
    )
    return _export(plot, args)


def run_app(args: argparse.Namespace) -> list[Path]:
    """Serve the point-and-click app until interrupted (shiny is imported only here)."""
    paths = [*args.files, *args.input]
    if not paths:
        raise _args.UsageError("give at least one .h5ad file")
    try:
        from ..app import serve
    except ImportError as err:
        raise _args.UsageError(
            f"the app needs Shiny for Python ({err}); install it with: "
            'pip install "sc-heatmaps[app]"'
        ) from None
    serve(
        paths,
        host=args.host,
        port=args.port,
        dataset_names=args.dataset_names,
        cluster_key=args.cluster_key,
        dataset_key=args.dataset_key,
        gene_symbols=args.gene_symbols,
    )
    return []


def run_demo(args: argparse.Namespace) -> list[Path]:
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
    _close(plot)
    return list(dict.fromkeys(written))
