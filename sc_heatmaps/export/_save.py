"""Figure export: format from the extension, DPI per call, sidecars, atomic writes."""

from __future__ import annotations

import contextlib
import json
import os
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._limits import check_canvas, check_dpi
from .._validate import format_choices
from ._atomic import write_all_or_nothing
from ._raster import rasterised_once

if TYPE_CHECKING:  # matplotlib is imported where a figure is written, not by write_table
    from matplotlib.figure import Figure

FORMATS = {
    ".png": "png",
    ".pdf": "pdf",
    ".svg": "svg",
    ".tif": "tiff",
    ".tiff": "tiff",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
}
_VERSIONED = ("sc-heatmaps", "scanpy", "anndata", "numpy", "pandas", "matplotlib", "marsilea")


def package_versions() -> dict[str, str]:
    """Versions of the packages that shape a figure."""
    out = {}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def check_directory(path: Path) -> None:
    """Refuse an output path whose directory is missing or not writable."""
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        what = "is a file, not a directory" if parent.exists() else "does not exist"
        raise FileNotFoundError(
            f"Output directory {str(parent)!r} {what}; create it first or choose another."
        )
    if not os.access(parent, os.W_OK):
        raise PermissionError(
            f"Output directory {str(parent)!r} is not writable; choose a writable directory."
        )


def check_target(path: str | os.PathLike) -> tuple[Path, str]:
    """Validate an output path; return it with its matplotlib format name."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(
            f"Cannot tell the format of {str(path)!r} from its extension {path.suffix!r}; "
            f"use one of {format_choices(FORMATS)}."
        )
    check_directory(path)
    return path, fmt


def _to_jsonable(value):
    if isinstance(value, dict):
        return {str(k): _to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return _to_jsonable(value.tolist())
    if isinstance(value, pd.DataFrame):
        return _to_jsonable(value.reset_index().to_dict(orient="records"))
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


_PIL_OPTIONS = {"tiff": {"compression": "tiff_lzw"}, "jpeg": {"quality": 95}}
# Text stays text (editable in Illustrator/Inkscape) in vector output; no timestamps,
# so the same figure gives the same bytes.
_VECTOR_RC = {"pdf.fonttype": 42, "ps.fonttype": 42, "svg.fonttype": "none", "svg.hashsalt": "sch"}
_METADATA = {"pdf": {"CreationDate": None}, "svg": {"Date": None}}
_MIXED_MODE = ("pdf", "svg")  # vector formats whose rasterised parts are drawn in one pass


def _figure_writer(figure: Figure, fmt: str, dpi: float):
    import matplotlib as mpl

    def write(temp: Path) -> None:
        options = {"pil_kwargs": _PIL_OPTIONS[fmt]} if fmt in _PIL_OPTIONS else {}
        if fmt in _METADATA:
            options["metadata"] = _METADATA[fmt]
        once = rasterised_once(figure, dpi) if fmt in _MIXED_MODE else contextlib.nullcontext()
        with mpl.rc_context(_VECTOR_RC), once:
            figure.savefig(temp, format=fmt, dpi=dpi, facecolor="white", **options)

    return write


def _text_writer(text: str):
    def write(temp: Path) -> None:
        temp.write_text(text, encoding="utf-8")

    return write


def savefig(
    plot_or_figure, path: str | os.PathLike, *, dpi: float = 300, sidecars: bool = True
) -> list[Path]:
    """Export a plot (or a matplotlib figure) to ``path``.

    The format follows the extension: png, pdf, svg, tif/tiff, jpg/jpeg. PNG
    and TIFF carry the DPI, and their pixel size is the figure size times
    ``dpi``. In vector formats the heatmap body and the points are rasterised
    at ``dpi`` while the text stays vector. A canvas over the pixel limits of
    :mod:`sc_heatmaps._limits` is refused before it is allocated. Control
    characters are removed from the figure's texts (see :mod:`sc_heatmaps._text`).
    For plots, ``<stem>.tsv`` (the matrix drawn) and ``<stem>.json``
    (parameters, genes, groups with their cell counts, package versions) are
    written beside the figure. All files
    are written to temporary files first and then renamed together, so that a
    failure leaves no partial file and keeps existing files intact (see
    :func:`sc_heatmaps.export._atomic.write_all_or_nothing`). New files follow
    the umask; replaced files keep their mode.

    Parameters
    ----------
    plot_or_figure
        A plot returned by a :mod:`sc_heatmaps.pl` function, or a matplotlib
        :class:`~matplotlib.figure.Figure` (written without sidecars).
    path
        The figure's file; its extension sets the format (see ``FORMATS``).
        Its directory must exist and be writable.
    dpi
        Dots per inch of raster output and of the rasterised parts of vector
        output, at least ``sc_heatmaps._limits.MIN_DPI`` (10) in every format, as on
        the command line and in the app: below 7 the text cannot be rendered into
        PNG, TIFF or JPEG.
    sidecars
        For plots, also write ``<stem>.tsv`` and ``<stem>.json``.

    Returns
    -------
    list of pathlib.Path
        The paths written, figure first.

    Examples
    --------
    >>> import sc_heatmaps as sch, tempfile, os
    >>> plot = sch.pl.grouped_heatmap(sch.datasets.example(), groupby="cluster",
    ...                               cluster_key="cluster", n_genes=2)
    >>> out = sch.pl.savefig(plot, os.path.join(tempfile.mkdtemp(), "fig.png"), dpi=150)
    >>> [p.suffix for p in out]
    ['.png', '.tsv', '.json']
    """
    from matplotlib.figure import Figure

    from .._gc import gc_paused
    from .._text import clean_figure_text

    check_dpi(dpi)
    path, fmt = check_target(path)
    figure = plot_or_figure if isinstance(plot_or_figure, Figure) else plot_or_figure.figure
    check_canvas(*figure.get_size_inches(), dpi)
    clean_figure_text(figure)
    writers = [(path, _figure_writer(figure, fmt, dpi))]
    if sidecars and not isinstance(plot_or_figure, Figure):
        params = {
            **plot_or_figure.params,
            "format": fmt,
            "dpi": dpi,
            "versions": package_versions(),
        }
        tsv = plot_or_figure.sidecar_table().to_csv(sep="\t", float_format="%.6g")
        writers.append((path.with_suffix(".tsv"), _text_writer(tsv)))
        text = json.dumps(_to_jsonable(params), indent=2, sort_keys=False) + "\n"
        writers.append((path.with_suffix(".json"), _text_writer(text)))
    with gc_paused():  # rendering makes many short-lived cyclic objects
        return write_all_or_nothing(writers)


def write_table(frame: pd.DataFrame, path: str | os.PathLike, *, index: bool = False) -> Path:
    """Write a table as TSV, atomically.

    Parameters
    ----------
    frame
        The table; it is only read. Numbers are written with 6 significant digits.
    path
        A ``.tsv`` or ``.txt`` file in an existing, writable directory.
    index
        Also write the index as the first column(s).

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import os, tempfile
    >>> import pandas as pd
    >>> import sc_heatmaps as sch
    >>> path = os.path.join(tempfile.mkdtemp(), "table.tsv")
    >>> out = sch.export.write_table(pd.DataFrame({"gene": ["CD3E"], "score": [1.5]}), path)
    >>> out.read_text().split()
    ['gene', 'score', 'CD3E', '1.5']
    """
    path = Path(path)
    if path.suffix.lower() not in (".tsv", ".txt"):
        raise ValueError(f"Tables are written as TSV; use a .tsv path, not {str(path)!r}.")
    check_directory(path)
    text = frame.to_csv(sep="\t", index=index, float_format="%.6g")
    return write_all_or_nothing([(path, _text_writer(text))])[0]


def write_html(page: str, path: str | os.PathLike) -> Path:
    """Write an HTML page, atomically.

    Parameters
    ----------
    page
        The page's text (e.g. an :class:`~sc_heatmaps.pl.InteractiveHTML`).
    path
        A ``.html`` or ``.htm`` file in an existing, writable directory.

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import os, tempfile
    >>> import sc_heatmaps as sch
    >>> path = os.path.join(tempfile.mkdtemp(), "page.html")
    >>> sch.export.write_html("<html><body>hi</body></html>", path).name
    'page.html'
    """
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise ValueError(
            f"Interactive heatmaps are written as HTML; use a .html path, not {str(path)!r}."
        )
    check_directory(path)
    return write_all_or_nothing([(path, _text_writer(page))])[0]
