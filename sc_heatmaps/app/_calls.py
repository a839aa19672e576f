"""The figure a set of controls asks for, as one public API call.

A :class:`FigureCall` is what the page shows, the Python snippet and the command line
print, and the parameters JSON records: the same call, so they cannot disagree. It is
hashable (the key of the figure cache) and runs through the public API only.
"""

from __future__ import annotations

import dataclasses
import shlex
from dataclasses import dataclass

from .._kinds import KINDS
from .._quoting import quote_names

# the command line spells these options with flags of its own, not in --kwargs
_CLI_FLAGS = {
    "cluster_key": "--cluster-key",
    "dataset_key": "--dataset-key",
    "source": "--source",
    "gene_symbols": "--gene-symbols",
    "title": "--title",
    "missing": "--missing",
    "color": "--color",
    "split_by": "--split-by",
    "method": "--method",
    "max_points": "--max-points",
}
_CLI_SWITCHES = {"cluster_rows": "--cluster-rows", "cluster_cols": "--cluster-cols"}
_MARKER_WORDS = {"top": "markers", "conserved": "conserved"}
_CLI_KWARGS = ("scale", "cmap", "vmin", "vmax", "vcenter", "labels")


@dataclass(frozen=True)
class FigureCall:
    """One call of ``sch.pl.grouped_heatmap``, ``sch.pl.dotplot`` or ``sch.pl.dual_expression``.

    Attributes
    ----------
    kind
        A registered figure kind of the heatmap tab (:data:`sc_heatmaps._kinds.KINDS`:
        ``"heatmap"``, ``"dot"``, ...) or ``"dual"``.
    genes
        The genes given (heatmap: rows unless ``markers``; dual: x and y).
    groupby
        Heatmap columns (obs keys); empty for the dual plot.
    markers
        ``None`` (the genes given), ``"top"`` or ``"conserved"``: the top ``n_genes``
        markers per cluster, as ``grouped_heatmap(var_names=None, markers=...)`` picks
        them (on a layer lacking genes, each cluster refilled from its ranking).
    n_genes
        Markers per cluster.
    options
        The keyword options, as sorted ``(name, value)`` pairs (defaults left out).
    marks
        Heatmap only: ``()``, or the options of the ``sch.tl.dataset_differences`` call
        whose table is passed as ``significance=`` (sorted ``(name, value)`` pairs:
        ``sample_key``, ``reference``, ``method``).
    """

    kind: str
    genes: tuple
    groupby: tuple = ()
    markers: str | None = None
    n_genes: int = 10
    options: tuple = ()
    marks: tuple = ()

    def differences_kwargs(self) -> dict:
        """The keyword arguments of ``sch.tl.dataset_differences`` for the marks."""
        kws = self.kwargs
        out = dict(self.marks)
        out["source"] = kws.get("source", "RNA")
        if kws.get("clusters"):
            out["clusters"] = list(kws["clusters"])
        return out

    @property
    def kwargs(self) -> dict:
        """The keyword options as a dict."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.options}

    @property
    def function(self) -> str:
        """The public function drawn by this call."""
        return KINDS[self.kind].public_name if self.kind in KINDS else "dual_expression"

    def public_kwargs(self) -> dict:
        """The keyword arguments of the public function: the options, and for markers
        ``n_genes`` and ``markers`` (``grouped_heatmap`` then picks the genes itself)."""
        kws = self.kwargs
        if self.kind in KINDS and self.markers:
            kws.update(n_genes=self.n_genes, markers=self.markers)
        return kws


def differences_method(adata) -> dict:
    """The test behind the app's significance marks: DESeq2 on pseudobulk counts
    (``method="pseudobulk"``) when the file holds raw counts (``layers["counts"]``, then
    ``raw``, then ``X``: the first whose first cells are non-negative integers) and
    pydeseq2 is installed, else Welch's t-test on the per-sample means
    (``method="t-test"`` with ``sample_key``)."""
    import importlib.util

    if importlib.util.find_spec("pydeseq2") is None:
        return {"method": "t-test"}
    if "counts" in adata.layers and _looks_like_counts(adata.layers["counts"]):
        return {"method": "pseudobulk", "layer": "counts"}
    if adata.raw is not None and _looks_like_counts(adata.raw.X):
        return {"method": "pseudobulk", "use_raw": True}
    if _looks_like_counts(adata.X):
        return {"method": "pseudobulk"}
    return {"method": "t-test"}


def _looks_like_counts(matrix, n_rows: int = 500) -> bool:
    """Whether the first ``n_rows`` cells hold non-negative integers only."""
    import numpy as np

    head = matrix[: min(n_rows, matrix.shape[0])]
    values = np.asarray(head.data if hasattr(head, "data") else head).ravel()
    if hasattr(values, "compute"):
        values = values.compute()
    return bool(values.size == 0 or ((values >= 0) & (values % 1 == 0)).all())


def options_class(kind: str):
    """The options class of a call's kind (a registered kind's, or the dual plot's)."""
    if kind in KINDS:
        return KINDS[kind].options_class()
    from .._heatmap_options import DualExpressionOptions

    return DualExpressionOptions


def _defaults(kind: str) -> dict:
    return {f.name: f.default for f in dataclasses.fields(options_class(kind))}


def make_call(kind: str, genes, *, groupby=(), markers=None, n_genes=10, marks=None, **options):
    """A :class:`FigureCall`, leaving out options at their defaults.

    Parameters
    ----------
    kind
        A registered figure kind (``"heatmap"``, ``"dot"``, ...) or ``"dual"``.
    genes
        The genes given.
    groupby, markers, n_genes
        See :class:`FigureCall`.
    marks
        ``None``, or ``{"sample_key": ..., "reference": ..., "method": ...}``: mark the
        significant differences (see :attr:`FigureCall.marks`).
    **options
        Keyword options of the public function.

    Returns
    -------
    FigureCall
        The hashable call.
    """
    from .._heatmap_options import GroupedHeatmapOptions

    defaults = _defaults(kind)
    kept = {}
    for key, value in options.items():
        if value == [] or (key in defaults and value == defaults[key]):
            continue
        kept[key] = tuple(value) if isinstance(value, list) else value
    return FigureCall(
        kind=kind,
        genes=tuple(genes),
        groupby=tuple(groupby),
        markers=markers,
        n_genes=GroupedHeatmapOptions.check_field("n_genes", n_genes),
        options=tuple(sorted(kept.items())),
        marks=tuple(sorted((marks or {}).items())),
    )


def _literal(value) -> str:
    return repr(list(value) if isinstance(value, tuple) else value)


def _read_lines(inputs, dataset_key: str | None, backed: bool) -> list[str]:
    if len(inputs) == 1:
        extra = ', backed="r"' if backed else ""
        return [f"adata = ad.read_h5ad({str(inputs[0])!r}{extra})"]
    parts = ", ".join(f"{p.stem!r}: ad.read_h5ad({str(p)!r})" for p in inputs)
    return [f'adata = ad.concat({{{parts}}}, label={dataset_key!r}, join="inner")']


def python_code(
    call: FigureCall, inputs, *, dataset_key=None, backed=False, fmt="png", dpi=300.0
) -> str:
    """The Python that draws the same figure and writes it as ``savefig`` does.

    Parameters
    ----------
    call
        The figure.
    inputs
        The input files (several are concatenated with ``dataset_key`` as the label).
    dataset_key
        Label of the concatenated files.
    backed
        Whether the single input is opened ``backed="r"``.
    fmt, dpi
        The export format and resolution.

    Returns
    -------
    str
        Runnable Python code.
    """
    lines = ["import anndata as ad", "import sc_heatmaps as sch", ""]
    lines += _read_lines(inputs, dataset_key, backed)
    kwargs = call.public_kwargs()
    options = ", ".join(f"{k}={_literal(v)}" for k, v in sorted(kwargs.items()))
    if call.kind == "dual":
        x, y = call.genes
        lines.append(f"plot = sch.pl.dual_expression(adata, {x!r}, {y!r}, {options})")
    else:
        genes = "None" if call.markers else _literal(call.genes)
        groupby = _literal(call.groupby)
        if call.marks:
            lines.append(_differences_line(call))
            options = f"{options}, significance=table"
        lines.append(f"plot = sch.pl.{call.function}(adata, {genes}, {groupby}, {options})")
    lines.append(f'plot.savefig("{call.kind}.{fmt}", dpi={dpi:g})')
    return "\n".join(lines)


def _differences_line(call: FigureCall) -> str:
    kws = call.kwargs
    keys = f"{kws['dataset_key']!r}, {kws['cluster_key']!r}"
    args = ", ".join(f"{k}={_literal(v)}" for k, v in call.differences_kwargs().items())
    return f"table = sch.tl.dataset_differences(adata, {keys}, {args})"


def _value_text(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, tuple | list):
        return quote_names(value)
    if isinstance(value, float) and value == int(value):
        return f"{value:g}"
    return str(value)


def _option_args(call: FigureCall) -> list[str]:
    kws = call.kwargs
    args = []
    for key, flag in _CLI_FLAGS.items():
        if key in kws:
            args += [flag, _value_text(kws[key])]
    if kws.get("clusters"):
        args += ["--clusters", _value_text(kws["clusters"])]
    args += [flag for key, flag in _CLI_SWITCHES.items() if kws.get(key)]
    pairs = [f"{k}:{_value_text(kws[k])}" for k in _CLI_KWARGS if k in kws]
    if pairs:
        args += ["--kwargs", ";".join(pairs)]
    return args


def cli_line(call: FigureCall, inputs, *, fmt: str = "png", dpi: float = 300.0) -> str:
    """The ``sc-heatmaps`` command line that draws the same figure.

    Parameters
    ----------
    call
        The figure.
    inputs
        The input files (the command line reads one).
    fmt, dpi
        Format and resolution of the export.

    Returns
    -------
    str
        A shell-quoted command line, with a comment when the command line cannot say
        all of it.
    """
    kws = call.kwargs
    command = KINDS[call.kind].command if call.kind in KINDS else "dual"
    args = ["sc-heatmaps", command, "-i", str(inputs[0])]
    if call.kind == "dual":
        args += ["--genes", quote_names(call.genes)]
    else:
        args += ["-x", quote_names(call.groupby)]
        word = _MARKER_WORDS.get(call.markers)
        args += ["-y", f"{word}:{call.n_genes}" if word else quote_names(call.genes)]
        args += ["-v", kws["stat"]] if "stat" in kws else []
    args += _option_args(call)
    args += ["-o", call.kind, "--format", fmt, "--dpi", f"{dpi:g}"]
    line = shlex.join(args)
    notes = _cli_notes(call, inputs)
    return "\n".join([line, *notes])


def _cli_notes(call: FigureCall, inputs) -> list[str]:
    notes = []
    if len(inputs) > 1:
        notes.append("# the command line reads one file: concatenate the inputs first")
    if call.marks:
        command = KINDS[call.kind].command
        notes.append(
            f"# the {command} command draws no significance marks: the Python code does "
            "(sch.tl.dataset_differences, then significance=table)"
        )
    return notes
