"""Drawing dual-expression panels: points (or per-group density), legends, statistics.

Takes frames and draws them; knows nothing of AnnData.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import to_rgb
from matplotlib.lines import Line2D

from .._text import literal_text
from ..get._correlation import SYMBOLS

PANEL_W, PANEL_H = 3.4, 3.2  # inches
MAX_COLS = 4
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


def _fmt_r(row, method: str) -> str:
    r = "n/a" if pd.isna(row["r"]) else f"{row['r']:.2f}"
    return f"{SYMBOLS[method]} = {r}, n = {int(row['n']):,}"


class ScatterPanels:
    """Prepares points per panel (order, jitter, downsampling, limits), then draws."""

    def __init__(self, spec: ScatterSpec):
        self.spec = spec
        self.rng = np.random.default_rng(spec.random_state)
        self.panels = self._panel_names()
        self.groups = list(spec.palette) if spec.palette is not None else []
        self.limits = self._limits()

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
            else float(np.clip(6000 / max(n, 1), 1, 25))
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
        n = len(self.panels)
        ncols = min(n, MAX_COLS)
        nrows = int(np.ceil(n / ncols))
        figsize = self.spec.figsize or (PANEL_W * ncols + 1.8, PANEL_H * nrows + 0.4)
        fig, grid = plt.subplots(
            nrows,
            ncols,
            sharex=True,
            sharey=True,
            squeeze=False,
            figsize=figsize,
            layout="constrained",
        )
        for extra in grid.ravel()[n:]:
            extra.set_visible(False)
        return fig, grid.ravel()[:n]

    @literal_text
    def plot(self, ax=None) -> tuple:
        fig, axes = self._layout(ax)
        modes = {}
        for panel_ax, panel in zip(axes, self.panels, strict=True):
            cells = self._panel_cells(panel)
            modes[panel] = self.draw_points(panel_ax, cells)
            self._decorate(panel_ax, panel)
        legend = self._legend(fig, axes, ax is not None)
        if self.spec.title:
            fig.suptitle(self.spec.title)
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
        s = self.spec
        ax.set_xlim(*self.limits[0])
        ax.set_ylim(*self.limits[1])
        stats = self._panel_stats(panel)
        overall = stats[stats["all_groups"]].iloc[0]
        head = "all cells" if panel is None else str(panel)
        ax.set_title(f"{head}: {_fmt_r(overall, s.method)}", fontsize=9)
        xlabel = f"{s.gene_x}{s.axis_suffix}"
        groups = stats[~stats["all_groups"]]
        if panel is not None and len(groups) > 1:
            xlabel += "\n" + "\n".join(
                f"{g}: {_fmt_r(r, s.method)}"
                for g, r in zip(groups["group"], groups.to_dict("records"), strict=True)
            )
        ax.set_xlabel(xlabel, fontsize=9)
        ax.set_ylabel(f"{s.gene_y}{s.axis_suffix}", fontsize=9)
        ax.tick_params(labelsize=8, labelleft=True, labelbottom=True)

    def _legend(self, fig, axes, on_ax: bool):
        if self.spec.palette is None:
            return None
        present = set(self.spec.cells["color"].astype(str))
        stats = self.spec.stats
        overall = stats if "split" not in stats else stats.iloc[0:0]
        by_group = {r["group"]: r for r in overall.to_dict("records") if not r["all_groups"]}
        handles = []
        for group in self.groups:
            if group not in present:
                continue
            label = (
                group
                if group not in by_group
                else f"{group} ({_fmt_r(by_group[group], self.spec.method)})"
            )
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="o",
                    linestyle="",
                    markersize=6,
                    markerfacecolor=self.spec.palette[group],
                    markeredgewidth=0,
                    label=label,
                )
            )
        title = self.spec.color_key
        if on_ax:
            return axes[0].legend(
                handles=handles,
                loc="upper left",
                bbox_to_anchor=(1.02, 1),
                frameon=False,
                fontsize=8,
                title=title,
            )
        return fig.legend(
            handles=handles, loc="outside right center", frameon=False, fontsize=8, title=title
        )
