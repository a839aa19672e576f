"""The server: controls -> :class:`~sc_heatmaps.app._calls.FigureCall` -> figure.

Every error a user can cause (a bad gene, an empty selection, a value that is not a
number) becomes a message in the page; the server never shows a traceback.
"""

from __future__ import annotations

import sys

import pandas as pd

from . import _figures
from ._calls import differences_method, make_call, options_class


class InputError(ValueError):
    """A control holds something the figure cannot use (shown in the page)."""


def _message(err: BaseException) -> str:
    if isinstance(err, KeyError) and err.args:
        return str(err.args[0])
    return str(err) or type(err).__name__


def _number(text: str, label: str) -> float | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{label} {text!r} is not a number; leave it empty for auto") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise InputError(f"{label} {text!r} is not a finite number")
    return value


def _whole(value):
    """A numeric control's value: a whole number as an int; anything else as it is, for
    the figure's options to refuse with their message (``option 'n_genes' = 1.5: ...``)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _needed(key: str | None, what: str) -> str:
    if not key:
        raise InputError(f"choose the {what} key above (the data has no default for it)")
    return key


def _in_order(chosen, categories: list[str]) -> list[str]:
    wanted = set(chosen or ())
    return [c for c in categories if c in wanted]


def _groupby(inp, cluster_key, dataset_key) -> list[str]:
    how = inp.group_by()
    keys = {"dataset": [dataset_key], "cluster": [cluster_key], "both": [dataset_key, cluster_key]}
    out = keys[how]
    if None in out:
        what = "dataset" if dataset_key is None else "cluster"
        raise InputError(f"group by {how} needs a {what} key: choose it above")
    return list(dict.fromkeys(out))


def heatmap_call(inp, state):
    """The heatmap call the controls ask for (``InputError`` when they cannot)."""
    cluster_key, dataset_key = inp.cluster_key() or None, inp.dataset_key() or None
    markers = inp.marker_kind() if inp.use_markers() else None
    genes = list(inp.genes() or ())
    if markers is None and not genes:
        raise InputError("pick at least one gene, or switch on 'Top N markers per cluster'")
    if markers is not None:
        _needed(cluster_key, "cluster")
        if markers == "conserved":
            _needed(dataset_key, "dataset")
    source = inp.source()
    scale = inp.scale()
    groupby = _groupby(inp, cluster_key, dataset_key)
    kind = inp.heatmap_kind() or "heatmap"
    stat = {"stat": inp.stat()} if "stat" in options_class(kind).field_names() else {}
    return make_call(
        kind,
        [] if markers else genes,
        groupby=groupby,
        markers=markers,
        marks=_marks(inp, state, groupby, cluster_key, dataset_key),
        n_genes=_whole(inp.n_genes()),
        cluster_key=cluster_key,
        dataset_key=dataset_key,
        clusters=_in_order(inp.clusters(), state.categories(cluster_key)),
        source=source,
        **stat,
        scale=None if scale == "none" else scale,
        cluster_rows=bool(inp.cluster_rows()),
        cluster_cols=bool(inp.cluster_cols()),
        cmap=inp.cmap(),
        vmin=_number(inp.vmin(), "Min value"),
        vmax=_number(inp.vmax(), "Max value"),
        title=(inp.title() or "").strip() or None,
        gene_symbols=state.gene_symbols,
        missing="drop" if markers and source != "RNA" else "raise",
    )


def _marks(inp, state, groupby, cluster_key, dataset_key) -> dict | None:
    """The significance test the controls ask for, or ``None`` (box not ticked)."""
    if not _optional(inp, "mark_significant"):  # the card exists only with sample columns
        return None
    if cluster_key is None or dataset_key is None or len(groupby) < 2:
        raise InputError(
            "significance marks need a cluster and a dataset key, grouped by dataset and cluster"
        )
    sample_key, reference = inp.sample_key() or None, inp.reference() or None
    if sample_key not in state.sample_keys(dataset_key):
        raise InputError(
            f"choose a sample column whose samples each belong to one {dataset_key!r} "
            f"(found: {', '.join(state.sample_keys(dataset_key)) or 'none'})"
        )
    if reference not in state.categories(dataset_key):
        raise InputError(f"choose the reference among the categories of {dataset_key!r}")
    return {"sample_key": sample_key, "reference": reference, **differences_method(state.adata)}


def _optional(inp, name: str, default=None):
    """The value of a control the page may not have (shiny raises its SilentException
    for a control that was never rendered): ``default`` then."""
    from shiny.types import SilentException

    try:
        return getattr(inp, name)()
    except (SilentException, KeyError):
        return default


def dual_call(inp, state):
    """The dual-expression call the controls ask for (``InputError`` when they cannot)."""
    x, y = inp.gene_x(), inp.gene_y()
    if not x or not y:
        raise InputError("pick a first and a second gene")
    cluster_key, dataset_key = inp.cluster_key() or None, inp.dataset_key() or None
    color = _needed(cluster_key if inp.color_by() == "cluster" else dataset_key, inp.color_by())
    clusters = _in_order(inp.dual_clusters(), state.categories(cluster_key))
    return make_call(
        "dual",
        [x, y],
        color=color,
        clusters=clusters,
        cluster_key=cluster_key if clusters else None,
        split_by=_needed(dataset_key, "dataset") if inp.split() else None,
        source=inp.dual_source(),
        method=inp.method(),
        max_points=_whole(inp.max_points()) or None,
        gene_symbols=state.gene_symbols,
    )


def _attempt(make):
    """``(value, None)``, or ``(None, message)`` for any error (logged in one line)."""
    try:
        return make(), None
    except Exception as err:
        print(f"sc-heatmaps app: {type(err).__name__}: {_message(err)}", file=sys.stderr)
        return None, _message(err)


def _image(png: bytes) -> dict:
    from PIL import Image

    from ..export._temp import write_temp_file

    path = str(write_temp_file(png, ".png", prefix="sc_heatmaps_app_"))
    with Image.open(path) as image:
        width, height = image.size
    return {"src": path, "width": str(width), "height": str(height), "alt": "figure"}


def _stats_table(stats: pd.DataFrame) -> pd.DataFrame:
    table = stats.reset_index(drop=True).copy()
    table.columns = [str(c) for c in table.columns]
    for column in table.columns:
        if pd.api.types.is_float_dtype(table[column]):  # 3 significant digits
            table[column] = table[column].map(lambda v: float(f"{v:.3g}"))
        elif not pd.api.types.is_numeric_dtype(table[column]):  # pooled rows: no name
            table[column] = table[column].map(lambda v: "" if v is None else str(v))
    return table


def _choices(ui, state, inp) -> None:
    """Fill the gene pickers (server-side: every gene, typed ahead) and the clusters."""
    from shiny import reactive

    genes = state.genes()
    ui.update_selectize("genes", choices=genes, server=True)
    ui.update_selectize("gene_x", choices=genes, selected=genes[0], server=True)
    ui.update_selectize(
        "gene_y", choices=genes, selected=genes[min(1, len(genes) - 1)], server=True
    )

    @reactive.effect
    @reactive.event(inp.dataset_key)
    def _samples():
        key = inp.dataset_key() or None
        ui.update_select("sample_key", choices=state.sample_keys(key))
        ui.update_select("reference", choices=state.categories(key))

    @reactive.effect
    @reactive.event(inp.cluster_key)
    def _clusters():
        categories = state.categories(inp.cluster_key() or None)
        ui.update_selectize("clusters", choices=categories, selected=[])
        ui.update_selectize("dual_clusters", choices=categories, selected=[])


def _figure_outputs(prefix: str, calls, state, output):
    """The image, message and code of one tab (``calls`` makes its call); its result."""
    from shiny import reactive, render

    @reactive.calc
    def result():
        call, message = _attempt(calls)
        if call is None:
            return None, None, message
        png, message = _attempt(lambda: _figures.display_png(state, call))
        return call, png, message

    @output(id=f"{prefix}_message")
    @render.text
    def message():
        return result()[2] or ""

    @output(id=f"{prefix}_image")
    @render.image(delete_file=True)
    def image():
        png = result()[1]
        return None if png is None else _image(png)

    def code_text(which: int) -> str:
        call = result()[0]
        if call is None:
            return ""
        choice, problem = _attempt(lambda: _checked_export_choice(prefix))
        return problem if choice is None else _figures.code_texts(state, call, *choice)[which]

    @output(id=f"{prefix}_code")
    @render.code
    def code():
        return code_text(0)

    @output(id=f"{prefix}_cli")
    @render.code
    def cli():
        return code_text(1)

    _downloads(prefix, result, state, output)
    return result


def _export_choice(prefix: str) -> tuple[str, float]:
    from shiny.session import get_current_session

    inp = get_current_session().input
    dpi = float(inp[f"{prefix}_dpi"]() or 300)
    return inp[f"{prefix}_format"](), int(dpi) if dpi == int(dpi) else dpi  # as the code shows


def _checked_export_choice(prefix: str) -> tuple[str, float]:
    """The export's format and DPI, the DPI checked as the export checks it."""
    from .._limits import check_dpi

    fmt, dpi = _export_choice(prefix)
    check_dpi(dpi)
    return fmt, dpi


def _downloads(prefix: str, result, state, output) -> None:
    from shiny import render

    def figure_name() -> str:
        fmt = _export_choice(prefix)[0]
        return f"{prefix}_{fmt}.zip"

    @output(id=f"{prefix}_download")
    @render.download_button(filename=figure_name, media_type="application/zip")
    def download():
        call = result()[0]
        if call is not None:
            yield _figures.export_zip(state, call, *_checked_export_choice(prefix))

    @output(id=f"{prefix}_params")
    @render.download_button(filename=f"{prefix}_parameters.json", media_type="application/json")
    def params():
        call = result()[0]
        if call is not None:
            yield _figures.parameters_json(state, call, *_export_choice(prefix))


def _stats_output(result, state, output) -> None:
    from shiny import render

    @output(id="dual_stats")
    @render.data_frame
    def stats():
        call = result()[0]
        if call is None or result()[1] is None:
            return None
        return render.DataGrid(_stats_table(_figures.draw(state, call).stats))


def make_server(state):
    """The server function of an app serving ``state``.

    Parameters
    ----------
    state
        The app's data (:class:`~sc_heatmaps.app._state.AppState`).

    Returns
    -------
    callable
        ``server(input, output, session)`` for :class:`shiny.App`.
    """

    def server(inp, output, session):
        from shiny import ui

        _choices(ui, state, inp)
        _figure_outputs("heatmap", lambda: heatmap_call(inp, state), state, output)
        dual = _figure_outputs("dual", lambda: dual_call(inp, state), state, output)
        _stats_output(dual, state, output)

    return server
