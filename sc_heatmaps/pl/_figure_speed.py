"""Two costs of building a large figure that do not change what is drawn.

* **Tick objects.** matplotlib makes the first tick of each axis (a few lines and texts)
  while it builds an Axes, and a heatmap board holds one Axes per block of rows and
  columns (130 for 20 marker blocks x 4 datasets), almost all with their axis switched
  off. :class:`BoardFigure` gives its Axes :class:`LazyTickAxes`, whose axes make that
  first tick when something first asks for it (drawing, ``tick_params``, a tight bbox),
  with the clip path and the tick parameters it would have had. What is drawn is the same,
  byte for byte (``tests/test_figure_speed.py``); building the Axes takes 2-3x less.
* **Garbage collection.** :func:`~sc_heatmaps._gc.gc_paused` pauses the cyclic collector
  while a figure is built (see :mod:`sc_heatmaps._gc`).

Where matplotlib lacks the private methods this relies on (``Axis._get_tick``,
``Axis._translate_tick_params``), :class:`BoardFigure` makes ordinary Axes.
"""

from __future__ import annotations

import matplotlib.axis as maxis
from matplotlib import artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .._gc import gc_paused

__all__ = ["BoardFigure", "LazyTickAxes", "gc_paused"]


class _DeferredTicks:
    """Mixed into an Axis class: while the axis holds no tick, the clip path given to it
    (and, while its Axes is built or cleared, the tick parameters) are recorded instead of
    making a tick to apply them to. Tick parameters given later make the tick first, as
    usual."""

    _sch_defer = False  # True while the Axes is built or cleared

    def _sch_has_ticks(self) -> bool:
        return "majorTicks" in self.__dict__ or "minorTicks" in self.__dict__

    def set_clip_path(self, path, transform=None):
        if self._sch_has_ticks():
            return super().set_clip_path(path, transform)
        artist.Artist.set_clip_path(self, path, transform)
        # applied to the first major and minor tick when they are made
        self._sch_clip = {True: (path, transform), False: (path, transform)}
        self.stale = True
        return None

    def set_tick_params(self, which="major", reset=False, **kwargs):
        deferred = self._sch_defer and not reset and which in ("major", "minor", "both")
        if not deferred or self._sch_has_ticks():
            return super().set_tick_params(which=which, reset=reset, **kwargs)
        self._sch_store_tick_params(which, self._translate_tick_params(kwargs))
        return None

    def _sch_store_tick_params(self, which: str, translated: dict) -> None:
        """matplotlib's own steps, less applying the keywords to a made tick: a tick made
        later takes them from ``_major_tick_kw`` / ``_minor_tick_kw``."""
        if which in ("major", "both"):
            self._major_tick_kw.update(translated)
        if which in ("minor", "both"):
            self._minor_tick_kw.update(translated)
        if "label1On" in translated or "label2On" in translated:
            self.offsetText.set_visible(
                self._major_tick_kw.get("label1On", False)
                or self._major_tick_kw.get("label2On", False)
            )
        if "labelcolor" in translated:
            self.offsetText.set_color(translated["labelcolor"])
        self.stale = True

    def _get_tick(self, major):
        tick = super()._get_tick(major)
        clip = self.__dict__.get("_sch_clip", {}).pop(major, None)
        if clip is not None:
            tick.set_clip_path(*clip)
        return tick

    def reset_ticks(self):
        self.__dict__.pop("_sch_clip", None)  # the ticks it was for are gone
        super().reset_ticks()


class _DeferredX(_DeferredTicks, maxis.XAxis):
    pass


class _DeferredY(_DeferredTicks, maxis.YAxis):
    pass


class LazyTickAxes(Axes):
    """An Axes whose axes make their first tick when it is first needed (see module)."""

    def __init__(self, *args, **kwargs):
        try:
            super().__init__(*args, **kwargs)  # defers from _init_axis on
        finally:
            self._sch_defer_ticks(False)

    def _init_axis(self):
        super()._init_axis()
        self.xaxis.__class__ = _DeferredX  # same state, the deferring methods
        self.yaxis.__class__ = _DeferredY
        self._sch_defer_ticks(True)

    def _sch_defer_ticks(self, defer: bool) -> None:
        for name in ("xaxis", "yaxis"):
            axis = getattr(self, name, None)
            if isinstance(axis, _DeferredX | _DeferredY):
                axis._sch_defer = defer

    def clear(self):
        building = getattr(self.xaxis, "_sch_defer", False)  # clear() within __init__
        self._sch_defer_ticks(True)
        try:
            super().clear()
        finally:
            self._sch_defer_ticks(building)


def _supported() -> bool:
    return all(
        callable(getattr(maxis.Axis, name, None))
        for name in ("_get_tick", "_translate_tick_params", "reset_ticks")
    ) and hasattr(Axes, "_init_axis")


LAZY_TICKS = _supported()


class BoardFigure(Figure):
    """A Figure whose new rectangular Axes are :class:`LazyTickAxes`."""

    def add_axes(self, *args, **kwargs):
        plain = (
            LAZY_TICKS
            and not (args and isinstance(args[0], Axes))
            and kwargs.get("projection") is None
            and "axes_class" not in kwargs
            and not kwargs.get("polar", False)
        )
        if plain:
            kwargs.pop("projection", None)
            kwargs["axes_class"] = LazyTickAxes
        return super().add_axes(*args, **kwargs)
