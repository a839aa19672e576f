"""Drawing and exporting the figure of a :class:`~sc_heatmaps.app._calls.FigureCall`.

Figures are those of the public API: markers from ``sch.get.marker_genes`` as
``grouped_heatmap`` asks for them (cached per call), figures from ``sch.pl.dual_expression`` and
from the steps of ``sch.pl.grouped_heatmap`` with its group statistics cached (both
figures cached per call), files from ``plot.savefig``. The heatmap tab's figure kinds
(grouped heatmap, dot plot, ...) come from the registry :data:`sc_heatmaps._kinds.KINDS`.
"""

from __future__ import annotations

import functools
import io
import json
import tempfile
import zipfile
from pathlib import Path

from .._kinds import KINDS
from ._calls import FigureCall, cli_line, options_class, python_code

DISPLAY_DPI = 150  # the page shows the figure at this resolution
EXPORT_FORMATS = ("png", "pdf", "svg", "tiff", "jpeg")
_SUFFIX = {"png": "png", "pdf": "pdf", "svg": "svg", "tiff": "tiff", "jpeg": "jpg"}


def marker_genes(state, adata, groupby, **kwargs) -> dict:
    """``sch.get.marker_genes`` cached per call (the markers ``grouped_heatmap`` picks
    for ``var_names=None``, per cluster key, clusters, marker kind and eligible genes)."""
    from ..get import marker_genes as compute

    key = (groupby, repr(sorted(kwargs.items())))
    return state.markers.get(key, lambda: compute(adata, groupby, **kwargs))


def grouped_expression(state, adata, var_names, groupby, **kwargs):
    """``sch.get.grouped_expression`` cached per call (the group statistics of the genes
    shown, per source, grouping, clusters and statistic): changing the scaling, colours,
    limits or clustering reuses them."""
    from ..get import grouped_expression as compute

    key = (repr(var_names), repr(groupby), repr(sorted(kwargs.items())))
    return state.stats.get(key, lambda: compute(adata, var_names, groupby, **kwargs))


def significance_table(state, call: FigureCall):
    """The table of ``sch.tl.dataset_differences`` behind the call's significance marks
    (cached per dataset and cluster key and the test's options)."""
    from ..tl import dataset_differences

    kws = call.kwargs
    keys = (kws["dataset_key"], kws["cluster_key"])
    options = call.differences_kwargs()
    key = ("differences", keys, repr(sorted(options.items())))
    return state.stats.get(key, lambda: dataset_differences(state.adata, *keys, **options))


def draw(state, call: FigureCall):
    """The plot of ``call`` (cached per call: the same controls give the same object).

    A figure kind of the heatmap tab is drawn by the steps of its public function (its
    bundle, then its drawing; see :mod:`sc_heatmaps._kinds`), with the group statistics
    and markers taken from :func:`grouped_expression`'s and :func:`marker_genes`' caches.
    """
    from .. import pl

    def make():
        if call.kind not in KINDS:
            return pl.dual_expression(state.adata, *call.genes, **call.kwargs)
        kind = KINDS[call.kind]
        genes = None if call.markers else list(call.genes)
        marks = {"significance": significance_table(state, call)} if call.marks else {}
        opts = kind.options_class().from_kwargs({**call.public_kwargs(), **marks})
        bundle = kind.bundle_step()(
            state.adata,
            genes,
            list(call.groupby),
            opts,
            expression=functools.partial(grouped_expression, state),
            find_markers=functools.partial(marker_genes, state),
        )
        return kind.draw_step()(bundle, opts)

    return state.plots.get(call, make)


def display_png(state, call: FigureCall) -> bytes:
    """The figure as PNG bytes at :data:`DISPLAY_DPI` (cached per call)."""

    from .._gc import gc_paused

    def make() -> bytes:
        plot = draw(state, call)
        buffer = io.BytesIO()
        with gc_paused():  # zlib level 1: the page's image, encoded 3x faster, 20% larger
            plot.figure.savefig(
                buffer,
                format="png",
                dpi=DISPLAY_DPI,
                facecolor="white",
                pil_kwargs={"compress_level": 1},
            )
        return buffer.getvalue()

    return state.images.get(call, make)


def export_zip(state, call: FigureCall, fmt: str, dpi: float) -> bytes:
    """A zip of exactly what ``plot.savefig`` writes: the figure, its .tsv and .json.

    Parameters
    ----------
    state
        The app's data.
    call
        The figure.
    fmt
        One of :data:`EXPORT_FORMATS`.
    dpi
        The resolution.

    Returns
    -------
    bytes
        The zip archive.
    """
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"format {fmt!r} is not one of {', '.join(EXPORT_FORMATS)}")
    plot = draw(state, call)
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="sc_heatmaps_app_") as tmp:
        written = plot.savefig(Path(tmp) / f"{call.kind}.{_SUFFIX[fmt]}", dpi=dpi)
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in written:
                archive.write(path, arcname=path.name)
    return buffer.getvalue()


def parameters_json(state, call: FigureCall, fmt: str, dpi: float) -> str:
    """The parameters of the figure as JSON: the call, its options record, the code.

    Parameters
    ----------
    state
        The app's data.
    call
        The figure.
    fmt, dpi
        The export format and resolution.

    Returns
    -------
    str
        Indented JSON.
    """
    cls = options_class(call.kind)
    record = {
        "function": f"sc_heatmaps.pl.{call.function}",
        "inputs": [str(p) for p in state.inputs],
        "genes": list(call.genes),
        "groupby": list(call.groupby) or None,
        "markers": call.markers,
        "n_genes": call.n_genes if call.markers else None,
        "options": cls.from_kwargs(call.public_kwargs()).to_params(),
        "significance": call.differences_kwargs() if call.marks else None,
        "format": fmt,
        "dpi": dpi,
        "python": python_code(call, state.inputs, **_read_options(state, fmt, dpi)),
        "cli": cli_line(call, state.inputs, fmt=fmt, dpi=dpi),
    }
    return json.dumps(record, indent=2) + "\n"


def _read_options(state, fmt: str, dpi: float) -> dict:
    backed = bool(getattr(state.adata, "isbacked", False))
    return {"dataset_key": state.dataset_key, "backed": backed, "fmt": _SUFFIX[fmt], "dpi": dpi}


def code_texts(state, call: FigureCall, fmt: str, dpi: float) -> tuple[str, str]:
    """The Python snippet and the command line of ``call``."""
    python = python_code(call, state.inputs, **_read_options(state, fmt, dpi))
    return python, cli_line(call, state.inputs, fmt=fmt, dpi=dpi)
