"""Drawing dual-expression panels: points (or per-group density), legends, statistics.

Takes frames and draws them; knows nothing of AnnData.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import to_rgb
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D

from .._labels import entry_label
from .._text import literal_text
from ..get._correlation import SYMBOLS
from ._figure_speed import gc_paused
from ._heatmap_board import fit_text
from ._scatter_layout import (
    FONT_LABEL,
    FONT_SMALL,
    FONT_TITLE,
    arrange,
    first_size,
    panel_grid,
)

SINGLE = "#3b3b3b"
DENSITY_BINS = 300
MIN_PER_GROUP = 500  # points kept per group when downsampling for drawing


@dataclass
class ScatterSpec:
    """What to draw. ``cells`` has ``x``, ``y`` and optionally ``color`` and ``split``."""

    cells: pd.DataFrame
    stats: pd.DataFrame
    gene_x: str
    gene_y: str
    axis_suffix: str
    palette: dict | None
    color_key: str | None = None
    shuffle: bool = True
    random_state: int = 0
    size: float | None = None
    alpha: float | None = None
    jitter: float = 0.0
    max_points: int | None = None
    density_threshold: int = 200_000
    figsize: tuple[float, float] | None = None
    title: str | None = None
    method: str = "pearson"  # the statistic's symbol: r (Pearson) or ρ (Spearman)
    show_fractions: bool = True


def fmt_stat(row, method: str) -> str:
    """``ρ=0.31 n=1,204`` (Spearman) or ``r=0.31 n=1,204`` (Pearson)."""
    r = "n/a" if pd.isna(row["r"]) else f"{row['r']:.2f}"
    return f"{SYMBOLS[method]}={r} n={int(row['n']):,}"


def _pct(share: float) -> str:
    if pd.isna(share):
        return "n/a"
    return "<1%" if 0 < share < 0.005 else f"{100 * share:.0f}%"


def fmt_fractions(row) -> str:
    """Cells expressing both genes, x only, y only and neither (over every cell)."""
    parts = [("both", "frac_both"), ("x only", "frac_x_only"), ("y only", "frac_y_only")]
    parts.append(("neither", "frac_neither"))
    return " · ".join(f"{name} {_pct(row[col])}" for name, col in parts)


class ScatterPanels:
    """Prepares points per panel (order, jitter, downsampling, limits), then draws."""

    def __init__(self, spec: ScatterSpec):
        self.spec = spec
        self.rng = np.random.default_rng(spec.random_state)
        self.panels = self._panel_names()
        self.groups = list(spec.palette) if spec.palette is not None else []
        self.limits = self._limits()
        self.given_axes = False

    def _panel_names(self) -> list:
        """One panel per ``split`` category that has statistics, in category order.

        The statistics count every selected cell, so a panel whose cells were all
        left out of the drawing (``exclude_double_zero``) is still shown, with n = 0.
        """
        cells = self.spec.cells
        if "split" not in cells:
            return [None]
        stats = self.spec.stats
        with_stats = set(stats.loc[~stats["all_panels"], "split"].astype(str))
        return [c for c in cells["split"].cat.categories if str(c) in with_stats]

    def _limits(self) -> tuple[tuple[float, float], tuple[float, float]]:
        out = []
        for col in ("x", "y"):
            v = self.spec.cells[col].to_numpy()
            lo, hi = (float(v.min()), float(v.max())) if len(v) else (0.0, 1.0)
            pad = 0.04 * (hi - lo or 1.0) + self.spec.jitter
            out.append((lo - pad, hi + pad))
        return out[0], out[1]

    def _panel_cells(self, panel) -> pd.DataFrame:
        cells = self.spec.cells
        return cells if panel is None else cells[cells["split"] == panel]

    def _subsample(self, cells: pd.DataFrame) -> pd.DataFrame:
        limit = self.spec.max_points
        if limit is None or len(cells) <= limit:
            return cells
        if "color" not in cells:
            return cells.iloc[np.sort(self.rng.choice(len(cells), limit, replace=False))]
        keep = []
        share = limit / len(cells)
        for _, idx in cells.groupby("color", observed=True).indices.items():
            k = min(len(idx), max(round(len(idx) * share), MIN_PER_GROUP))
            keep.append(self.rng.choice(idx, k, replace=False))
        return cells.iloc[np.sort(np.concatenate(keep))]

    def _coords(self, cells: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        x, y = cells["x"].to_numpy(float).copy(), cells["y"].to_numpy(float).copy()
        j = self.spec.jitter
        if j > 0:  # drawn only: statistics never see the jitter
            for v in (x, y):
                zero = v == 0
                v[zero] += self.rng.uniform(-j, j, zero.sum())
        return x, y

    def _colors(self, cells: pd.DataFrame) -> np.ndarray:
        if "color" not in cells:
            return np.tile(to_rgb(SINGLE), (len(cells), 1))
        color = cells["color"].cat
        lut = np.array([to_rgb(self.spec.palette[str(c)]) for c in color.categories])
        return lut[color.codes.to_numpy()].reshape(-1, 3)

    def _style(self, n: int) -> tuple[float, float]:
        size = (
            self.spec.size
            if self.spec.size is not None
            else float(np.clip(3000 / max(n, 1), 1, 14))
        )
        alpha = self.spec.alpha if self.spec.alpha is not None else (0.85 if n < 5000 else 0.5)
        return size, alpha

    def draw_points(self, ax, cells: pd.DataFrame) -> str:
        """Scatter (rasterised) or, above the threshold, per-group density. Returns the mode."""
        if len(cells) > self.spec.density_threshold:
            self._draw_density(ax, cells)
            return "density"
        cells = self._subsample(cells)
        order = self.rng.permutation(len(cells)) if self.spec.shuffle else np.arange(len(cells))
        x, y = self._coords(cells)
        size, alpha = self._style(len(cells))
        ax.scatter(
            x[order],
            y[order],
            c=self._colors(cells)[order],
            s=size,
            alpha=alpha,
            linewidths=0,
            rasterized=True,
        )
        return "points"

    def _draw_density(self, ax, cells: pd.DataFrame) -> None:
        """Datashader-style categorical density: colour mixes groups by their own density
        (so small groups stay visible), opacity follows the log of all cells."""
        (x0, x1), (y0, y1) = self.limits
        x, y = self._coords(cells)
        labels = (
            cells["color"].astype(str).to_numpy()
            if "color" in cells
            else np.zeros(len(cells), dtype=object)
        )
        keys = self.groups if "color" in cells else [0]
        colors = np.array(
            [to_rgb(self.spec.palette[g]) if "color" in cells else to_rgb(SINGLE) for g in keys]
        )
        counts = np.stack(
            [
                np.histogram2d(
                    y[labels == g], x[labels == g], bins=DENSITY_BINS, range=[[y0, y1], [x0, x1]]
                )[0]
                for g in keys
            ]
        )
        total = counts.sum(axis=0)
        per_group = counts / np.maximum(counts.sum(axis=(1, 2), keepdims=True), 1)
        weight = per_group / np.maximum(per_group.sum(axis=0, keepdims=True), 1e-300)
        rgb = np.einsum("gij,gc->ijc", weight, colors)
        alpha = np.where(total > 0, 0.6 + 0.4 * np.log1p(total) / np.log1p(total.max()), 0.0)
        ax.imshow(
            np.dstack([rgb, alpha]),
            extent=(x0, x1, y0, y1),
            origin="lower",
            aspect="auto",
            interpolation="nearest",
        )

    def _layout(self, ax):
        if ax is not None:
            return ax.figure, np.array([ax])
        grid = panel_grid(len(self.panels))
        size = self.spec.figsize or first_size(grid, bool(self.spec.title))
        fig, axes = plt.subplots(
            grid.nrows,
            grid.ncols,
            sharex=True,
            sharey=True,
            squeeze=False,
            figsize=size,
            layout="constrained",
        )
        for extra in axes.ravel()[len(self.panels) :]:
            extra.remove()
        return fig, axes.ravel()[: len(self.panels)]

    @literal_text
    def plot(self, ax=None) -> tuple:
        with gc_paused():  # see _figure_speed: the same figure, built faster
            return self._plot(ax)

    def _plot(self, ax) -> tuple:
        self.given_axes = ax is not None
        fig, axes = self._layout(ax)
        modes = {}
        for panel_ax, panel in zip(axes, self.panels, strict=True):
            cells = self._panel_cells(panel)
            modes[panel] = self.draw_points(panel_ax, cells)
            self._decorate(panel_ax, panel)
        self._axis_labels(fig, axes, ax is not None)
        if self.spec.title:
            fig.suptitle(self.spec.title, fontsize=FONT_TITLE)
        if ax is not None:
            legend = self._legend(axes[0].legend, "upper left", 1, on_ax=True)
        else:
            make = None if self.spec.palette is None else self._make_legend(fig)
            grid = panel_grid(len(self.panels))
            legend = arrange(fig, axes, grid, make, self.spec.figsize is not None)
        names = {
            ("all" if p is None else str(p)): a for p, a in zip(self.panels, axes, strict=True)
        }
        return fig, {"panels": names, "legend": legend}, modes

    def _panel_stats(self, panel) -> pd.DataFrame:
        stats = self.spec.stats
        if "split" in stats:  # a panel may be named "all": the pooled row is the flagged one
            return stats[~stats["all_panels"] & (stats["split"] == str(panel))]
        return stats

    def _decorate(self, ax, panel) -> None:
        """Limits, and a title with the panel's pooled statistic and fractions."""
        ax.set_xlim(*self.limits[0])
        ax.set_ylim(*self.limits[1])
        stats = self._panel_stats(panel)
        overall = stats[stats["all_groups"]].iloc[0]
        head = "all cells" if panel is None else str(panel)
        size = FONT_SMALL if self.spec.show_fractions else FONT_LABEL
        width = self._panel_width(ax)
        # a long panel name is wrapped (and shortened with "…") to the panel's width
        title = fit_text(f"{head}  {fmt_stat(overall, self.spec.method)}", width, size)
        if self.spec.show_fractions:
            title += "\n" + _wrap_fractions(fmt_fractions(overall), width)
        ax.set_title(title, fontsize=size)
        ax.tick_params(labelsize=FONT_SMALL, length=2.5, pad=1.5)

    def _panel_width(self, ax) -> float:
        """Width of a panel in inches: the grid's, or the size of the Axes given."""
        if self.spec.figsize is None and not self.given_axes:
            return panel_grid(len(self.panels)).panel_w
        return ax.get_position().width * ax.figure.get_size_inches()[0]

    def _axis_labels(self, fig, axes, on_ax: bool) -> None:
        """Each axis label once: on the panel itself, or once for all shared panels."""
        s = self.spec
        xlabel, ylabel = f"{s.gene_x}{s.axis_suffix}", f"{s.gene_y}{s.axis_suffix}"
        if on_ax or len(axes) == 1:
            axes[0].set_xlabel(xlabel, fontsize=FONT_LABEL)
            axes[0].set_ylabel(ylabel, fontsize=FONT_LABEL)
            return
        for ax in axes:
            ax.label_outer(remove_inner_ticks=False)
        _show_bottom_ticks(axes)
        _common_labels(fig, axes, xlabel, ylabel)

    def _legend_labels(self) -> list[tuple[str, str]]:
        """(group, entry) for every colour group with cells, in palette order; the
        entry holds the group's statistic and n in each panel."""
        present = set(self.spec.cells["color"].astype(str))
        stats = self.spec.stats
        rows = stats[~stats["all_groups"]]
        if "split" in stats:
            rows = rows[~rows["all_panels"]]
        out = []
        for group in (g for g in self.groups if g in present):
            mine = rows[rows["group"] == group]
            if "split" in stats:
                parts = [
                    f"{p} {fmt_stat(r, self.spec.method)}"
                    for p in self.panels
                    for r in mine[mine["split"] == str(p)].to_dict("records")
                ]
            else:
                parts = [fmt_stat(r, self.spec.method) for r in mine.to_dict("records")]
            out.append((group, entry_label(group, parts)))
        return out

    def _make_legend(self, fig):
        def make(loc, ncols):
            return self._legend(fig.legend, loc, ncols, on_ax=False)

        return make

    def _legend(self, legend_fn, loc, ncols, on_ax: bool):
        if self.spec.palette is None:
            return None
        handles = [
            Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                markersize=4.5,
                markerfacecolor=self.spec.palette[group],
                markeredgewidth=0,
                label=label,
            )
            for group, label in self._legend_labels()
        ]
        where = {"bbox_to_anchor": (1.02, 1)} if on_ax else {}
        return legend_fn(
            handles=handles,
            loc=loc,
            ncols=ncols,
            frameon=False,
            fontsize=FONT_SMALL,
            title=self.spec.color_key,
            title_fontsize=FONT_LABEL,
            alignment="left",
            handletextpad=0.3,
            columnspacing=1.2,
            borderaxespad=0.2,
            # every spacing given: the figure does not depend on the caller's rcParams
            borderpad=0.0,
            handlelength=1.0,
            handleheight=1.0,
            labelspacing=0.5,
            markerscale=1.0,
            **where,
        )


def _show_bottom_ticks(axes) -> None:
    """x tick labels on every panel with no panel below it (a short last row)."""
    below = {(a.get_subplotspec().rowspan.start, a.get_subplotspec().colspan.start) for a in axes}
    for a in axes:
        spec = a.get_subplotspec()
        if (spec.rowspan.start + 1, spec.colspan.start) not in below:
            a.tick_params(labelbottom=True)


def _common_labels(fig, axes, xlabel: str, ylabel: str) -> None:
    """One x and one y label, centred on the whole block of panels: an empty Axes
    over the panels carries them, offset past the panels' tick labels."""
    frame = fig.add_subplot(axes[0].get_gridspec()[:, :], frameon=False)
    frame.set_zorder(-1)
    frame.tick_params(bottom=False, left=False, labelbottom=False, labelleft=False, which="both")
    frame.set_navigate(False)
    width = max(_tick_label_width(fig, ax) for ax in axes)
    tick = 2.5 + 1.5  # tick length and pad, in points
    frame.set_xlabel(xlabel, fontsize=FONT_LABEL, labelpad=tick + 1.25 * FONT_SMALL + 2)
    frame.set_ylabel(ylabel, fontsize=FONT_LABEL, labelpad=tick + width + 2)


def _tick_label_width(fig, ax) -> float:
    """Width in points of the widest y tick label of ``ax`` (measured, not drawn)."""
    if not ax.yaxis.get_tick_params()["labelleft"]:
        return 0.0
    lo, hi = sorted(ax.get_ylim())
    locs = [v for v in ax.yaxis.get_major_locator()() if lo <= v <= hi]
    labels = ax.yaxis.get_major_formatter().format_ticks(locs)
    renderer = fig.canvas.get_renderer()
    font = FontProperties(size=FONT_SMALL)
    widths = [renderer.get_text_width_height_descent(t, font, ismath=False)[0] for t in labels]
    return max(widths, default=0.0) * 72 / fig.dpi


def _wrap_fractions(text: str, width_in: float) -> str:
    """The fractions on two lines when one line would be wider than the panel."""
    if len(text) * FONT_SMALL * 0.6 / 72 <= width_in:
        return text
    parts = text.split(" · ")
    return " · ".join(parts[:2]) + "\n" + " · ".join(parts[2:])
