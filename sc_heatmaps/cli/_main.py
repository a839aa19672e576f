"""The ``sc-heatmaps`` command: argument parsing and dispatch only.

Exit codes: 0 on success, 2 on usage errors (numbers are finite and in range), 1 on
data errors and on any other exception, 130 when interrupted. Messages go to stderr;
a traceback is shown only with ``--verbose``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import traceback
import typing
from pathlib import Path

from . import _args, _commands

# the examples of the other subcommands; a figure kind's is in its registry entry (_kinds)
EXAMPLES = {
    "markers": "sc-heatmaps markers -i data.h5ad --groupby cluster -n 10 -o markers.tsv",
    "dual": "sc-heatmaps dual -i data.h5ad --genes ISG15,IFI6 --color dataset "
    "--split-by dataset -o figs/isg",
    "correlation": "sc-heatmaps correlation -i data.h5ad -y ISG15,IFI6,MX1,CD3E "
    "--groupby dataset -o figs/corr",
    "interactive": "sc-heatmaps interactive -i data.h5ad --cluster-key cluster "
    "--dataset-key dataset -o figs/markers",
    "differences": "sc-heatmaps differences -i kang.h5ad --dataset-key group_id "
    "--cluster-key cluster_id --reference ctrl --sample-key sample_id --design donor "
    "--layer counts -o figs/stim_vs_ctrl",
    "demo": "sc-heatmaps demo --out demo_output",
    "app": "sc-heatmaps app data.h5ad --port 8000\n  sc-heatmaps app -i a.h5ad -i b.h5ad "
    "--dataset-names ctrl,stim",
}


def _sub(sub, name: str, help_text: str, func, example=None) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        name,
        help=help_text,
        description=help_text,
        epilog=f"example:\n  {example or EXAMPLES[name]}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show progress and tracebacks",
    )
    parser.set_defaults(func=func)
    return parser


def _input(p: argparse.ArgumentParser) -> None:
    p.add_argument("-i", "--input", type=Path, required=True, help="input .h5ad file")
    p.add_argument("-s", "--subset", help='cells to keep, e.g. "dataset:ctrl,stim;cluster:B"')
    p.add_argument("--source", default="RNA", help="RNA, integrated or a layer name")
    p.add_argument(
        "--clusters",
        type=_args.names,
        help='keep these clusters, e.g. "0,3,5" (a name holding a comma in double quotes: '
        "'\"T, CD4\",B')",
    )
    p.add_argument("--cluster-key", help="obs key of the clusters")
    p.add_argument(
        "--gene-symbols", help="var column of gene symbols: genes are given and labelled by it"
    )


def _dpi(p: argparse.ArgumentParser) -> None:
    low, high = _args.DPI_RANGE
    p.add_argument(
        "--dpi",
        type=_args.dpi,
        default=300.0,
        help=f"resolution in dots per inch, {low:g} to {high:g} (default 300)",
    )


def _figure(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-o",
        "--output",
        help="output file name (default: a timestamp); an extension such as .pdf sets the "
        "format, other extensions are refused",
    )
    p.add_argument("--format", type=_args.formats, help="formats, e.g. pdf,png (default png)")
    _dpi(p)
    p.add_argument("-t", "--title", help="figure title")


def _heatmap_args(p: argparse.ArgumentParser, options_cls=None) -> None:
    p.add_argument("--groupby", type=_args.names, help="obs key(s) of the columns")
    p.add_argument("-x", "--x-variable", type=_args.names, help="same as --groupby")
    p.add_argument(
        "-y",
        "--y-variable",
        help="genes: a comma list, a file with one gene per line, markers[:N] (top "
        "markers per cluster) or conserved[:N] (markers conserved across the datasets of "
        "--dataset-key); with a numeric -v, the obs key of the rows",
    )
    p.add_argument("--dataset-key", help="obs key of the datasets")
    p.add_argument(
        "-n",
        "--n-genes",
        type=_args.positive_int,
        default=_args.N_GENES,
        help=f"markers per cluster (default {_args.N_GENES})",
    )
    p.add_argument(
        "-v",
        "--value",
        default="mean",
        help="mean, median, fraction, or a numeric obs column (default mean)",
    )
    p.add_argument(
        "-p",
        "--operation",
        choices=["mean", "median"],
        help="how replicate cells of a numeric obs value are combined",
    )
    p.add_argument(
        "-f", "--filter", type=_args.filter_text, help='e.g. "row any >= 1.2 OR row any <= 0.8"'
    )
    p.add_argument(
        "--kwargs",
        help='drawing options, e.g. "center:1;vmin:0"; keys: '
        + ", ".join(_args.kwargs_keys(options_cls)),
    )
    p.add_argument(
        "--missing",
        default="raise",
        choices=["raise", "drop"],
        help="genes of -y absent from --source: stop with an error (raise, the default) "
        "or leave them out (drop; they are listed in the .json sidecar)",
    )
    p.add_argument("--cluster-rows", action="store_true", help="cluster the rows")
    p.add_argument("--cluster-cols", action="store_true", help="cluster the columns")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sc-heatmaps")
    except PackageNotFoundError:
        return "(version unknown: the package is not installed)"


def _markers(sub) -> None:
    p = _sub(sub, "markers", "top marker genes per group, as a TSV table", _commands.run_markers)
    p.add_argument("-i", "--input", type=Path, required=True, help="input .h5ad file")
    p.add_argument("-s", "--subset", help='cells to keep, e.g. "dataset:ctrl,stim"')
    p.add_argument("--groupby", required=True, help="obs key of the groups (clusters)")
    p.add_argument("-n", "--n-genes", type=_args.positive_int, default=10)
    p.add_argument(
        "--method",
        default="t-test",
        choices=["t-test", "t-test_overestim_var", "wilcoxon", "logreg"],
    )
    p.add_argument("--duplicates", default="best", choices=["keep", "first", "best"])
    p.add_argument("--source", default="RNA")
    p.add_argument("--clusters", type=_args.names, help="restrict to these groups")
    p.add_argument("-o", "--output", help="output .tsv (default: a timestamp)")


def _option_flags(p: argparse.ArgumentParser, kind) -> None:
    """The flags of a figure kind's own options (``--layout``): type, choices and default
    from the options' fields, the help from the kind's registry entry."""
    from .._options import cli_parsers, literal_choices

    cls = kind.options_class()
    declared = {f.name: f for f in dataclasses.fields(cls)}
    parsers = cli_parsers(cls)
    for name, help_text in kind.flags:
        choices = [c for c in literal_choices(typing.get_type_hints(cls)[name]) if c is not None]
        extra = {"choices": choices} if choices else {"type": parsers[name]}
        p.add_argument(
            "--" + name.replace("_", "-"), default=declared[name].default, help=help_text, **extra
        )


def _heatmaps(sub) -> None:
    """One subcommand per registered figure kind (heatmap, dotplot, ...), then interactive."""
    from .._kinds import KINDS

    for kind in KINDS.values():
        p = _sub(sub, kind.command, kind.summary, _commands.run_figure, kind.example)
        p.set_defaults(kind=kind.name)
        _input(p)
        _heatmap_args(p, kind.options_class())
        _option_flags(p, kind)
        _figure(p)

    p = _sub(
        sub,
        "interactive",
        "interactive heatmap: one self-contained HTML file",
        _commands.run_interactive,
    )
    _input(p)
    _heatmap_args(p)
    p.add_argument("-o", "--output", help="output .html file (default: a timestamp)")
    p.add_argument("-t", "--title", help="title")


def _dual(sub) -> None:
    p = _sub(sub, "dual", "dual-expression scatter: two genes, every cell", _commands.run_dual)
    _input(p)
    p.add_argument("--genes", type=_args.names, required=True, help="two genes: X,Y")
    p.add_argument("--color", default="dataset", help="obs key for the colours")
    p.add_argument("--split-by", help="one panel per category of this obs key")
    p.add_argument("--method", default="pearson", choices=["pearson", "spearman"])
    p.add_argument("--exclude-double-zero", action="store_true")
    p.add_argument(
        "--jitter",
        type=_args.jitter,
        default=0.0,
        help="random offset added to the drawn points only, in data units (default 0)",
    )
    p.add_argument(
        "--max-points",
        type=_args.positive_int,
        help="draw at most about this many points per panel, seeded, every group keeping "
        "some (default: every cell); the statistics always use every cell",
    )
    _figure(p)


def _correlation(sub) -> None:
    p = _sub(
        sub,
        "correlation",
        "correlation heatmap of genes and/or numeric obs columns",
        _commands.run_correlation,
    )
    _input(p)
    p.add_argument("-y", "--y-variable", help="genes: a comma list or a file")
    p.add_argument("--rows", default="genes", help="genes, obs, or a comma list")
    p.add_argument("--cols", default="genes", help="genes, obs, or a comma list")
    p.add_argument("--obs-keys", type=_args.names, help="numeric obs columns for 'obs'")
    p.add_argument("--method", default="pearson", choices=["pearson", "spearman"])
    p.add_argument("--min-nonzero", type=_args.non_negative_int, default=10)
    p.add_argument("--groupby", help="one matrix per group (or pseudobulk groups)")
    p.add_argument("--level", default="cells", choices=["cells", "pseudobulk"])
    _figure(p)


def _differences(sub) -> None:
    p = _sub(
        sub,
        "differences",
        "genes that differ between datasets within each cluster: a TSV table "
        "(NAME_differences.tsv) and a log-fold-change heatmap (NAME.png and its sidecars)",
        _commands.run_differences,
    )
    _input(p)
    p.add_argument("--dataset-key", required=True, help="obs key of the datasets (conditions)")
    p.add_argument(
        "--reference",
        help="the dataset the others are compared with "
        "(default: each against the other datasets of the cluster)",
    )
    p.add_argument(
        "--sample-key",
        help="obs key of the samples (biological replicates): replicate-level tests",
    )
    p.add_argument(
        "--method",
        choices=["pseudobulk", "t-test", "t-test_overestim_var", "wilcoxon"],
        help="pseudobulk: DESeq2 on summed counts per sample (the default with "
        "--sample-key); t-test (the default without): cells as the unit, exploratory",
    )
    p.add_argument(
        "--design",
        type=_args.names,
        help="pseudobulk: obs keys added to the design, e.g. donor (paired: ~ donor + dataset)",
    )
    p.add_argument("--layer", help="layer holding the values (pseudobulk: raw counts)")
    p.add_argument("--use-raw", action="store_true", help="read adata.raw (e.g. raw counts)")
    p.add_argument(
        "--min-cells",
        type=_args.non_negative_int,
        default=10,
        help="pseudobulk: drop samples with fewer cells in a cluster (default 10)",
    )
    p.add_argument(
        "--min-counts",
        type=_args.non_negative_int,
        default=1000,
        help="pseudobulk: drop samples with fewer counts in a cluster (default 1000)",
    )
    p.add_argument("--shrink", action="store_true", help="pseudobulk: shrunk log2 fold changes")
    p.add_argument(
        "--n-cpus",
        type=_args.positive_int,
        default=1,
        help="pseudobulk: processes for pydeseq2 (default 1)",
    )
    p.add_argument(
        "-n",
        "--n-genes",
        type=_args.positive_int,
        default=5,
        help="genes drawn per cluster (default 5)",
    )
    _figure(p)


def _demo(sub) -> None:
    p = _sub(sub, "demo", "run the main job on the bundled (simulated) example", _commands.run_demo)
    p.add_argument(
        "--out",
        type=Path,
        default=Path("sc_heatmaps_demo"),
        help="output directory (created if needed; default: %(default)s)",
    )
    _dpi(p)
    p.add_argument(
        "--format",
        type=_args.formats,
        default=["png", "pdf", "svg", "tiff", "jpg"],
        help="comma-separated formats (default: png,pdf,svg,tiff,jpg)",
    )


def _app(sub) -> None:
    p = _sub(
        sub,
        "app",
        "point-and-click app in the web browser (needs the app extra)",
        _commands.run_app,
    )
    p.add_argument("files", nargs="*", type=Path, help="input .h5ad file(s)")
    p.add_argument(
        "-i", "--input", type=Path, action="append", default=[], help="input .h5ad (repeatable)"
    )
    p.add_argument(
        "--dataset-names", type=_args.names, help="names of several inputs (default: file names)"
    )
    p.add_argument("--cluster-key", help="obs key of the clusters (default: guessed)")
    p.add_argument(
        "--dataset-key",
        help="obs key of the datasets (default: guessed; 'dataset' for several inputs)",
    )
    p.add_argument("--gene-symbols", help="var column of gene symbols (default: guessed)")
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: this computer only)"
    )
    p.add_argument(
        "--port",
        type=_args.port,
        default=8000,
        help="port, 0 to 65535 (default 8000; 0: a free port)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sc-heatmaps",
        description="Grouped heatmaps, dual-expression and correlation plots for "
        "multi-dataset single-cell AnnData (.h5ad).",
        epilog="Run 'sc-heatmaps COMMAND --help' for the options and an example.",
    )
    parser.add_argument("--verbose", action="store_true", help="show progress and tracebacks")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_markers, _heatmaps, _dual, _correlation, _differences, _demo, _app):
        add(sub)
    return parser


def _list_arg(args: argparse.Namespace) -> None:
    for name in ("rows", "cols"):
        value = getattr(args, name, None)
        if isinstance(value, str) and value not in ("genes", "obs"):
            setattr(args, name, _args.names(value))


def _parse(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line; an unexpected error while parsing is a usage error (exit 2)."""
    try:
        args = parser.parse_args(argv)  # exits with 2 on usage errors
        _list_arg(args)
    except Exception as err:
        if "--verbose" in (sys.argv[1:] if argv is None else argv):
            traceback.print_exc()
        parser.error(_one_line(err))
    return args


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _unexpected(err: Exception) -> str:
    """The message of an exception the commands do not expect: one line, and what to do."""
    if isinstance(err, RuntimeError) and "no locator available" in str(err):
        return (
            f"{_one_line(err)}. numba can write none of its cache directories; set the "
            "environment variable NUMBA_CACHE_DIR to a writable directory"
        )
    return f"{_one_line(err)} (run again with --verbose for the traceback)"


def _user_cache_writable() -> bool:
    """Whether numba's user-wide cache directory on Linux (``$XDG_CACHE_HOME/numba``
    or ``~/.cache/numba``), or ``NUMBA_CACHE_DIR``, is writable. Then numba can cache,
    and a command that never compiles need not import numba (0.3 s) to find out."""
    if not sys.platform.startswith("linux"):
        return False
    given = os.environ.get("NUMBA_CACHE_DIR")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    path = given or os.path.join(base, "numba")
    while not os.path.exists(path):  # numba creates the missing directories
        parent = os.path.dirname(path)
        if parent == path:
            return False
        path = parent
    return os.path.isdir(path) and os.access(path, os.W_OK | os.X_OK)


def _run(args: argparse.Namespace) -> list[Path]:
    if not _user_cache_writable():
        from .._numba_kernels import use_private_cache_dir_if_needed

        use_private_cache_dir_if_needed()  # before scanpy defines its cached functions
    return args.func(args)


def _fail(args: argparse.Namespace, message, code: int) -> int:
    if args.verbose:
        traceback.print_exc()
    message = str(message)
    if hasattr(args, "missing"):  # the API's advice, in the words of this command line
        message = message.replace("missing='drop'", "--missing drop")
    print(f"sc-heatmaps {args.command}: error: {message}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    args = _parse(build_parser(), argv)
    try:
        written = _run(args)
    except _args.UsageError as err:
        return _fail(args, err, 2)
    except (KeyError, ValueError, TypeError, OSError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        return _fail(args, message, 1)
    except KeyboardInterrupt:
        return _fail(args, "interrupted", 130)
    except Exception as err:  # never a traceback without --verbose
        return _fail(args, _unexpected(err), 1)
    for path in written:
        print(path)
    return 0
