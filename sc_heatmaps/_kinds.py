"""The registry of figure kinds drawn from genes x groups: one entry per kind.

A figure kind of the heatmap's shape (genes in rows, groups of cells in columns, the
options of :class:`~sc_heatmaps._heatmap_options.GroupedFigureOptions` and its own) is
written once, here: its public function, its options class, the two steps the public
function runs (the bundle, then the drawing; the app runs them itself to cache the
statistics), its ``sc-heatmaps`` subcommand and the label of the app's switch. The
command line (:mod:`sc_heatmaps.cli`) and the app (:mod:`sc_heatmaps.app`) derive their
subcommands and kind switches from :data:`KINDS`, so a new kind is one more
:func:`register` call and no edit of theirs.

Functions and steps are named ``"module:attribute"`` and imported on first use (the
command line builds its parser without loading the plotting stack); objects are
accepted as well.

A new kind is its new pieces (an options class derived from ``GroupedFigureOptions``,
a bundle step unless ``grouped_bundle`` serves, a body for the board, a thin public
function with its draw step) and two edits of existing files: its :func:`register`
entry below, and its name in ``sc_heatmaps/pl/__init__.py``. Then tests and docs
(``tests/test_figure_kinds.py`` registers a kind from a test module to prove it).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


def _resolve(target):
    """``"package.module:name"`` -> the object (imported now); an object as it is."""
    if not isinstance(target, str):
        return target
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class FigureKind:
    """One figure kind of genes x groups.

    Attributes
    ----------
    name
        The kind's key: the app's ``FigureCall.kind`` and its switch value.
    function
        The public function, ``f(adata, var_names, groupby, **options)``.
    options
        Its options class, a subclass of ``GroupedFigureOptions`` (the command line
        sets its shared fields with the flags every such subcommand has).
    bundle
        ``bundle(adata, var_names, groupby, opts, *, expression, find_markers)``: the
        frames drawn (``expression`` and ``find_markers`` as in ``grouped_bundle``).
    draw
        ``draw(bundle, opts)``: the plot.
    command, summary, example
        The ``sc-heatmaps`` subcommand, its one-line help and an example command line.
    label
        The app's name of the kind (its switch in the heatmap tab).
    flags
        ``(field, help)`` of the options the subcommand spells as flags of their own
        (``--layout``); their type, choices and default derive from the field.
    obs_values
        Whether ``-v`` may also name a numeric obs column (drawn by ``matrix_heatmap``).
    """

    name: str
    function: object
    options: object
    bundle: object
    draw: object
    command: str
    summary: str
    example: str
    label: str
    flags: tuple = ()
    obs_values: bool = False

    @property
    def public_name(self) -> str:
        """The public function's name, e.g. ``"dotplot"``."""
        if isinstance(self.function, str):
            return self.function.partition(":")[2]
        return self.function.__name__

    def options_class(self):
        return _resolve(self.options)

    def public(self):
        return _resolve(self.function)

    def bundle_step(self):
        return _resolve(self.bundle)

    def draw_step(self):
        return _resolve(self.draw)


KINDS: dict[str, FigureKind] = {}


def register(kind: FigureKind) -> FigureKind:
    """Add ``kind`` to :data:`KINDS`; a name or subcommand already taken is refused."""
    for other in KINDS.values():
        if kind.name == other.name or kind.command == other.command:
            raise ValueError(
                f"figure kind {kind.name!r} (command {kind.command!r}) clashes with the "
                f"registered kind {other.name!r} (command {other.command!r})"
            )
    KINDS[kind.name] = kind
    return kind


def kind_of(name: str) -> FigureKind:
    """The registered kind ``name`` (KeyError naming the registered ones)."""
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(
            f"figure kind {name!r} is not registered; registered kinds: {', '.join(KINDS)}"
        ) from None


register(
    FigureKind(
        name="heatmap",
        function="sc_heatmaps.pl._grouped_heatmap:grouped_heatmap",
        options="sc_heatmaps._heatmap_options:GroupedHeatmapOptions",
        bundle="sc_heatmaps.get._bundle:grouped_bundle",
        draw="sc_heatmaps.pl._grouped_heatmap:draw_grouped",
        command="heatmap",
        summary="grouped heatmap (genes x groups), exported as figures",
        example=(
            "sc-heatmaps heatmap -i data.h5ad -o figs/markers --groupby dataset,cluster "
            '--cluster-key cluster --clusters "0,3,5" --source integrated --format pdf,png '
            "--dpi 600\n  sc-heatmaps heatmap -i data.h5ad -x dataset -y markers:5 "
            '--cluster-key cluster -f "row any >= 1.2" --kwargs "center:0;vmin:-2"\n'
            "  sc-heatmaps heatmap -i data.h5ad -x dataset -y cluster -v total_counts -p median"
        ),
        label="Heatmap",
        obs_values=True,
    )
)

register(
    FigureKind(
        name="dot",
        function="sc_heatmaps.pl._dotplot:dotplot",
        options="sc_heatmaps._dotplot_options:DotPlotOptions",
        bundle="sc_heatmaps.get._dot_bundle:dot_bundle",
        draw="sc_heatmaps.pl._dotplot:draw_dots",
        command="dotplot",
        summary="dot plot (genes x groups): size = fraction expressing, colour = mean",
        example=(
            "sc-heatmaps dotplot -i data.h5ad -o figs/dots --cluster-key cluster "
            "--dataset-key dataset -y markers:3 --layout split --kwargs expression_cutoff:0.5"
        ),
        label="Dot plot",
        flags=(
            (
                "layout",
                "columns: one per (dataset, cluster); paired: the datasets of a cluster side "
                "by side; split: one dot per cluster, one half per dataset (two datasets)",
            ),
            ("color", "the dots' colour: mean, or log fold change against --reference"),
            ("reference", "the reference dataset of --color logfc"),
        ),
    )
)
