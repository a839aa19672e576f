"""The page: a heatmap tab and a dual-expression tab, each with its export and code.

Labels from the file reach the page only as text (Shiny escapes text and choices);
figures are PNG images.
"""

from __future__ import annotations

from .._kinds import KINDS
from .._limits import DPI_RANGE
from ._figures import EXPORT_FORMATS

CMAPS = ("RdBu_r", "blue_white_red", "red_black_green", "viridis", "magma", "Reds")
SCALES = {"zscore": "z-score per gene", "minmax": "min-max per gene", "none": "none"}
GROUPINGS = {"dataset": "Dataset", "cluster": "Cluster", "both": "Dataset and cluster"}


def _keys(ui, state):
    keys = state.categorical_keys()
    return ui.layout_columns(
        ui.input_select("cluster_key", "Cluster key", keys, selected=state.cluster_key),
        ui.input_select("dataset_key", "Dataset key", keys, selected=state.dataset_key),
        col_widths=(6, 6),
    )


def _export(ui, prefix: str):
    return ui.card(
        ui.card_header("Export"),
        ui.input_select(f"{prefix}_format", "Format", list(EXPORT_FORMATS)),
        ui.input_numeric(f"{prefix}_dpi", "DPI", 300, min=DPI_RANGE[0], max=DPI_RANGE[1]),
        ui.download_button(f"{prefix}_download", "Download figure (zip)"),
        ui.download_button(f"{prefix}_params", "Save parameters"),
    )


def _code(ui, prefix: str):
    return ui.card(
        ui.card_header("Python code"),
        ui.output_code(f"{prefix}_code"),
        ui.tags.div("Command line"),
        ui.output_code(f"{prefix}_cli"),
    )


def kind_choices() -> dict[str, str]:
    """The heatmap tab's figure kinds, ``{kind: label}``, from the registry."""
    return {name: kind.label for name, kind in KINDS.items()}


def _with_stat() -> str:
    """The page's condition for the Value control: a kind whose options have ``stat``
    (a dot's colour is the mean, its size the fraction: no Value)."""
    names = [n for n, k in KINDS.items() if "stat" in k.options_class().field_names()]
    return f"{names!r}.includes(input.heatmap_kind)"


def _heatmap_controls(ui, state):
    return ui.sidebar(
        ui.input_radio_buttons("heatmap_kind", None, kind_choices(), inline=True),
        ui.input_selectize("genes", "Genes", choices=[], multiple=True),
        ui.input_switch("use_markers", "Top N markers per cluster", value=True),
        ui.input_radio_buttons(
            "marker_kind", None, {"top": "top markers", "conserved": "conserved markers"}
        ),
        ui.input_numeric("n_genes", "N (markers per cluster)", 5, min=1, max=50),
        ui.input_radio_buttons("group_by", "Group by", GROUPINGS, selected="both"),
        ui.input_select("source", "Source", state.sources()),
        ui.input_selectize("clusters", "Clusters (empty: all)", choices=[], multiple=True),
        ui.panel_conditional(
            _with_stat(),
            ui.input_select("stat", "Value", ["mean", "median", "fraction"]),
        ),
        ui.input_select("scale", "Scaling", SCALES),
        ui.input_checkbox("cluster_rows", "Cluster rows"),
        ui.input_checkbox("cluster_cols", "Cluster columns"),
        ui.input_select("cmap", "Colour scheme", list(CMAPS)),
        ui.layout_columns(
            ui.input_text("vmin", "Min value", placeholder="auto"),
            ui.input_text("vmax", "Max value", placeholder="auto"),
            col_widths=(6, 6),
        ),
        ui.input_text("title", "Title"),
        *_marks_controls(ui, state),
        _export(ui, "heatmap"),
        width=320,
    )


def _marks_controls(ui, state) -> list:
    """ "Mark significant differences vs <reference>", offered when the data has a
    sample-like column (replicates nested in the datasets)."""
    samples = state.sample_keys(state.dataset_key)
    if not samples:
        return []
    return [
        ui.card(
            ui.card_header("Significance"),
            ui.input_checkbox("mark_significant", "Mark significant differences vs reference"),
            ui.input_select("sample_key", "Sample column", samples),
            ui.input_select("reference", "Reference", state.categories(state.dataset_key)),
        )
    ]


def _dual_controls(ui, state):
    return ui.sidebar(
        ui.input_selectize("gene_x", "First gene", choices=[]),
        ui.input_selectize("gene_y", "Second gene", choices=[]),
        ui.input_radio_buttons(
            "color_by", "Colour by", {"dataset": "Dataset", "cluster": "Cluster"}
        ),
        ui.input_selectize("dual_clusters", "Clusters (empty: all)", choices=[], multiple=True),
        ui.input_checkbox("split", "Split by dataset"),
        ui.input_select("dual_source", "Source", state.sources()),
        ui.input_select("method", "Correlation", ["pearson", "spearman"]),
        ui.input_numeric("max_points", "Points drawn per panel (at most)", 50_000, min=100),
        _export(ui, "dual"),
        width=320,
    )


def _figure(ui, prefix: str):
    return ui.div(
        ui.output_text(f"{prefix}_message"),
        ui.output_image(f"{prefix}_image", height="auto"),
        class_="sch-figure",
    )


def build_ui(state):
    """The page of the app for ``state`` (see :class:`~sc_heatmaps.app._state.AppState`).

    Parameters
    ----------
    state
        The app's data.

    Returns
    -------
    shiny.ui.Tag
        The page.
    """
    from shiny import ui

    names = ", ".join(p.name for p in state.inputs)
    heatmap = ui.layout_sidebar(
        _heatmap_controls(ui, state), _figure(ui, "heatmap"), _code(ui, "heatmap")
    )
    dual = ui.layout_sidebar(
        _dual_controls(ui, state),
        ui.layout_columns(
            _figure(ui, "dual"), ui.output_data_frame("dual_stats"), col_widths=(6, 6)
        ),
        _code(ui, "dual"),
    )
    return ui.page_fluid(
        ui.tags.head(ui.tags.link(rel="icon", href="data:,")),
        ui.tags.style(
            ".sch-figure img{max-width:100%;height:auto}"
            " pre.shiny-text-output{white-space:pre-wrap;overflow-wrap:anywhere}"
            " #dual_stats{font-size:0.75em}"
        ),
        ui.h3("Heatmaps & dual expression"),
        ui.p(f"Data: {names}"),
        _keys(ui, state),
        ui.navset_tab(
            ui.nav_panel("Heatmap", heatmap, value="heatmap"),
            ui.nav_panel("Dual expression", dual, value="dual"),
            id="tab",
        ),
        title="sc-heatmaps app",
    )
