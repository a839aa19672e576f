"""One function per subcommand: read the input, call the public API, write the outputs."""

from __future__ import annotations

import argparse
import dataclasses
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


def _defaults(options_cls) -> dict:
    return {f.name: f.default for f in dataclasses.fields(options_cls)}


def _figure_options(args: argparse.Namespace, kind) -> dict:
    """A figure kind's arguments (see :mod:`sc_heatmaps._kinds`), its options checked
    before any file is read."""
    cls = kind.options_class()
    var_names, n_markers = _args.genes(args.y_variable)
    flags = {
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
        "missing": args.missing,
        "gene_symbols": args.gene_symbols,
        **{name: getattr(args, name) for name, _ in kind.flags},
    }
    if args.operation is not None:
        raise _args.UsageError(
            "-p/--operation combines replicate cells of a numeric obs value (-v COLUMN); with "
            f"-v {args.value} the expression of the cells in a group is already summarised"
        )
    if "stat" in cls.field_names():
        flags["stat"] = args.value
    elif args.value != "mean":
        raise _args.UsageError(
            f"{kind.command} takes no -v: its colour is set by its own options "
            f"(--kwargs keys); got -v {args.value}"
        )
    extra = _args.kwargs(args.kwargs, cls) if args.kwargs else {}
    defaults = {**_defaults(cls), "n_genes": _args.N_GENES}  # -n's default, not the API's
    opts = _args.merged(flags, extra, defaults)
    _args.checked_options(cls, opts)
    return {"var_names": var_names, "groupby": args.x_variable or args.groupby, **opts}


def _matrix_options(args: argparse.Namespace) -> dict:
    """The obs-value heatmap's options (-v COLUMN), checked before any file is read."""
    from .._heatmap_options import MatrixHeatmapOptions

    flags = {
        "filter": args.filter,
        "title": args.title,
        "cluster_rows": args.cluster_rows,
        "cluster_cols": args.cluster_cols,
    }
    extra = _args.kwargs(args.kwargs, MatrixHeatmapOptions) if args.kwargs else {}
    opts = {
        "value_name": f"{args.operation or ''} {args.value}".strip(),
        **_args.merged(flags, extra, _defaults(MatrixHeatmapOptions)),
    }
    _args.checked_options(MatrixHeatmapOptions, opts)
    return opts


def _obs_heatmap(adata, args: argparse.Namespace, opts: dict):
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
    return matrix_heatmap(table, **opts)


def run_figure(args: argparse.Namespace) -> list[Path]:
    """The subcommand of a registered figure kind (``heatmap``, ``dotplot``, ...)."""
    from .._kinds import kind_of

    kind = kind_of(args.kind)
    _args.figure_output(args.output, args.format)  # a bad -o is refused before any work
    obs_value = kind.obs_values and args.value not in EXPRESSION_VALUES
    opts = _matrix_options(args) if obs_value else _figure_options(args, kind)  # checked first
    with steps(3, args.verbose) as step:
        step("reading " + str(args.input))
        adata = read(args.input, backed=True, subset=args.subset)
        step("computing and drawing")
        if obs_value:
            plot = _obs_heatmap(adata, args, opts)
        else:
            plot = kind.public()(adata, opts.pop("var_names"), opts.pop("groupby"), **opts)
        step("writing")
        return _export(plot, args)


def run_interactive(args: argparse.Namespace) -> list[Path]:
    from .._kinds import kind_of
    from ..pl import interactive_heatmap

    if args.operation is not None or args.value not in EXPRESSION_VALUES:
        raise _args.UsageError("interactive takes -v mean|median|fraction (no -p)")
    out = _args.single_output(args.output, (".html", ".htm"), "an HTML page")
    opts = _figure_options(args, kind_of("heatmap"))  # checked before the file is read
    adata = read(args.input, backed=True, subset=args.subset)
    if out.parent != Path("."):
        out.parent.mkdir(parents=True, exist_ok=True)
    return [interactive_heatmap(adata, out, **opts).path]


def run_dual(args: argparse.Namespace) -> list[Path]:
    from ..pl import dual_expression

    if len(args.genes) != 2:
        raise _args.UsageError(f"--genes takes exactly two genes, got {args.genes}")
    from .._heatmap_options import DualExpressionOptions

    _args.figure_output(args.output, args.format)
    opts = dict(
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
    _args.checked_options(DualExpressionOptions, opts)  # before the file is read
    adata = read(args.input, backed=True, subset=args.subset)
    return _export(dual_expression(adata, *args.genes, **opts), args)


def run_correlation(args: argparse.Namespace) -> list[Path]:
    from .._heatmap_options import CorrelationHeatmapOptions
    from ..pl import correlation_heatmap

    genes, _ = _args.genes(args.y_variable)
    _args.figure_output(args.output, args.format)
    opts = dict(
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
    _args.checked_options(CorrelationHeatmapOptions, opts)  # before the file is read
    adata = read(args.input, backed=True, subset=args.subset)
    return _export(correlation_heatmap(adata, **opts), args)


def _differences_options(args: argparse.Namespace) -> dict:
    """The options of tl.dataset_differences from the command line; misuse exits 2."""
    method = args.method or ("pseudobulk" if args.sample_key else "t-test")
    pseudobulk = method == "pseudobulk"
    if pseudobulk and not args.sample_key:
        raise _args.UsageError(
            "--method pseudobulk needs --sample-key (the obs key of the samples, e.g. "
            "sample_id): without replicates there is no pseudobulk"
        )
    given = [f for f, v in (("--design", args.design), ("--shrink", args.shrink)) if v]
    given += [
        f
        for f, v, d in (
            ("--min-cells", args.min_cells, 10),
            ("--min-counts", args.min_counts, 1000),
            ("--n-cpus", args.n_cpus, 1),
        )
        if v != d
    ]
    if given and not pseudobulk:
        raise _args.UsageError(f"{', '.join(given)} only apply to --method pseudobulk")
    if args.layer is not None and (args.source != "RNA" or args.use_raw):
        raise _args.UsageError("--layer, --use-raw and --source name the values: give one")
    if args.min_cells < 1:
        raise _args.UsageError(f"--min-cells {args.min_cells}: it must be at least 1")
    opts = {
        "reference": args.reference,
        "method": method,
        "sample_key": args.sample_key,
        "source": args.source,
        "layer": args.layer,
        "use_raw": True if args.use_raw else None,
        "clusters": args.clusters,
    }
    if pseudobulk:
        opts.update(
            design_covariates=args.design,
            min_cells=args.min_cells,
            min_counts=args.min_counts,
            shrink=args.shrink,
            n_cpus=args.n_cpus,
        )
    return opts


def _differences_title(table, args: argparse.Namespace) -> str:
    """What was tested, in which unit: a cell-level test says it is exploratory."""
    if args.title:
        return args.title
    attrs = table.attrs
    vs = f"vs {attrs.get('reference', 'rest')}"
    if attrs.get("unit") == "cells":
        from ..tl._differences import CELL_LEVEL

        return f"log2 fold change {vs}: {attrs.get('method')}, {CELL_LEVEL}"
    design = f", {attrs['design']}" if attrs.get("design") else ""
    return f"log2 fold change {vs}: {attrs.get('method')}{design}"


def run_differences(args: argparse.Namespace) -> list[Path]:
    from ..export import write_table
    from ..pl import dataset_differences_heatmap
    from ..tl import dataset_differences

    if not args.cluster_key:
        raise _args.UsageError("give the obs key of the clusters with --cluster-key")
    stem, _ = _args.figure_output(args.output, args.format)  # refused before any work
    opts = _differences_options(args)
    with steps(3, args.verbose) as step:
        step("reading " + str(args.input))
        adata = read(args.input, backed=True, subset=args.subset)
        step("testing")
        table = dataset_differences(adata, args.dataset_key, args.cluster_key, **opts)
        step("writing")
        if stem.parent != Path("."):
            stem.parent.mkdir(parents=True, exist_ok=True)
        written = [write_table(table, stem.with_name(f"{stem.name}_differences.tsv"))]
        plot = dataset_differences_heatmap(
            table,
            dataset_key=args.dataset_key,
            cluster_key=args.cluster_key,
            n_genes=args.n_genes,
            title=_differences_title(table, args),
        )
        return written + _export(plot, args)


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
