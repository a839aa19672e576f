"""Every option checked against its declared type and bounds, once, when an options
object is built (see :class:`sc_heatmaps._options.Options`).

The type is the field's annotation; the bounds and kind are the field's metadata:

- ``"ge"``, ``"gt"``, ``"le"``, ``"lt"``: numeric bounds (>=, >, <=, <), also applied to
  each number of a tuple (e.g. a figsize);
- ``"kind"``: ``"color"`` (a matplotlib colour; in a mapping or list, each value),
  ``"cmap"`` (a registered colormap name or a Colormap), ``"figsize"`` (two positive
  finite numbers, inches), ``"axes"`` (a matplotlib Axes).

Rules, the same for the Python API, the command line and the app:

- an ``int`` option takes a whole number (``int`` or a numpy integer), never a bool or a
  float (``1.5`` and ``2.0`` are refused); a ``float`` option takes any finite real number
  (not a bool, not NaN, not infinite);
- a ``bool`` option takes ``True`` or ``False`` only (``"false"`` is refused);
- a ``str`` option takes a string; a ``Literal`` one of its choices;
- a list of names (``Sequence[str]``) takes a list, tuple or array of names; a single
  string is read as the package reads names everywhere: a comma-separated list
  (``"ISG15"`` is ``["ISG15"]``, ``"ISG15,MX1"`` two names);
- a mapping option takes a mapping (``dict``), a tuple option a sequence of its length.

Every refusal is a :class:`OptionError` (both a ``ValueError`` and a ``TypeError``) with
one message format: ``option 'n_genes' = -5: must be an integer >= 1``.
"""

from __future__ import annotations

import math
import numbers
import types
import typing
from collections.abc import Mapping, Sequence

BOUNDS = (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))
KINDS = ("color", "cmap", "figsize", "axes")
_NO = object()  # "not accepted"


class OptionError(ValueError, TypeError):
    """An option value that its declared type or bounds refuse."""


def option_error(name: str, value: object, allowed: str) -> OptionError:
    return OptionError(f"option {name!r} = {_show(value)}: must be {allowed}")


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_value(name: str, value: object, hint, meta: Mapping):
    """``value`` as the option holds it (numpy scalars as Python numbers, a names string
    as a list), or :class:`OptionError` naming ``name``, the value and what is allowed."""
    out = _accept(value, hint, meta)
    if out is _NO:
        raise option_error(name, value, describe(hint, meta) + _bad_colours(value, meta))
    return out


def _bad_colours(value, meta) -> str:
    """Which colours of a palette are not colours (`` ('x' is not a colour)``)."""
    if meta.get("kind") != "color" or not isinstance(value, Mapping | list | tuple):
        return ""
    from matplotlib.colors import is_color_like

    leaves, todo = [], [value]
    while todo:
        item = todo.pop()
        if isinstance(item, Mapping):
            todo.extend(item.values())
        elif isinstance(item, list | tuple) and not is_color_like(item):
            todo.extend(item)
        elif not is_color_like(item):
            leaves.append(item)
    return f" ({_show(leaves[0])} is not a colour)" if leaves else ""


# ---- accepting a value -----------------------------------------------------------------


def _accept(value, hint, meta):
    kind = meta.get("kind")
    if kind == "cmap" and _is_colormap(value):
        return value
    if kind == "color" and hint is str:
        return value if _kind_ok(value, meta) else _NO  # a name, hex string or RGB(A) tuple
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return _accept_union(value, typing.get_args(hint), meta)
    if origin is typing.Literal:
        same = [c for c in typing.get_args(hint) if type(c) is type(value) and c == value]
        return same[0] if same else _NO
    if hint is type(None):
        return None if value is None else _NO
    if origin is tuple:
        return _accept_tuple(value, typing.get_args(hint), meta)
    if origin in (Sequence, list) or hint in (list,):
        return _accept_names(value, typing.get_args(hint), meta)
    if origin in (Mapping, dict) or hint in (dict, Mapping):
        return _accept_mapping(value, typing.get_args(hint), meta)
    return _accept_scalar(value, hint, meta)


def _accept_union(value, args, meta):
    if value is None:
        return None if type(None) in args else _NO
    for arg in args:  # str before Sequence[str]: a names string stays a string
        out = _accept(value, arg, meta)
        if out is not _NO:
            return out
    return _NO


def _accept_scalar(value, hint, meta):
    if hint is bool:
        return bool(value) if _is_bool(value) else _NO
    if hint is int:
        ok = isinstance(value, numbers.Integral) and not _is_bool(value)
        return _bounded(int(value), meta) if ok else _NO
    if hint is float:
        ok = isinstance(value, numbers.Real) and not _is_bool(value)
        return _bounded(float(value), meta) if ok and math.isfinite(value) else _NO
    if hint is str:
        if not isinstance(value, str):
            return _NO
        return value if _kind_ok(value, meta) else _NO
    if hint is object:
        return value if _kind_ok(value, meta) else _NO
    return value if isinstance(value, hint) and _kind_ok(value, meta) else _NO


def _is_bool(value) -> bool:
    import numpy as np

    return isinstance(value, bool | np.bool_)


def _bounded(number, meta):
    for key, _ in BOUNDS:
        if key in meta and not _compare(number, key, meta[key]):
            return _NO
    return number


def _compare(number, key, bound) -> bool:
    return {
        "ge": number >= bound,
        "gt": number > bound,
        "le": number <= bound,
        "lt": number < bound,
    }[key]


def _accept_tuple(value, args, meta):
    if isinstance(value, str | Mapping) or not _is_sequence(value):
        return _NO
    items = list(value)
    if len(args) == 2 and args[1] is Ellipsis:
        args = (args[0],) * len(items)
    if len(items) != len(args):
        return _NO
    inner = _element_meta(meta)
    out = tuple(_accept(v, a, inner) for v, a in zip(items, args, strict=True))
    return _NO if any(o is _NO for o in out) else out


def _element_meta(meta) -> dict:
    inner = dict(meta)
    if inner.pop("kind", None) == "figsize":
        inner.setdefault("gt", 0)
    return inner


def _is_sequence(value) -> bool:
    import numpy as np
    import pandas as pd

    return isinstance(value, Sequence | np.ndarray | pd.Index | pd.Series)


def _accept_names(value, args, meta):
    """A list of names; a string is a comma-separated list of them."""
    if isinstance(value, str):
        if not value.strip(", "):
            return _NO
        value = [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, Mapping) or not _is_sequence(value):
        return _NO
    element = args[0] if args else object
    items = list(value)
    out = [_accept_name(v, element, meta) for v in items]
    return (
        _NO if any(o is _NO for o in out) else (out if not isinstance(value, tuple) else tuple(out))
    )


def _accept_name(value, element, meta):
    if element is str and isinstance(value, numbers.Integral) and not _is_bool(value):
        return value if meta.get("kind") != "color" else _NO  # integer categories are names
    return _accept(value, element, meta)


def _accept_mapping(value, args, meta):
    if not isinstance(value, Mapping):
        return _NO
    if len(args) != 2 or args[1] in (object, typing.Any):
        return value
    bad = [v for v in value.values() if _accept(v, args[1], meta) is _NO]
    return _NO if bad else value


# ---- kinds (matplotlib is imported only when a kind is checked) ------------------------


def _kind_ok(value, meta) -> bool:
    kind = meta.get("kind")
    if kind is None or kind == "figsize":
        return True
    if kind == "color":
        from matplotlib.colors import is_color_like

        return is_color_like(value)
    if kind == "cmap":
        return _is_cmap(value)
    if kind == "axes":
        from matplotlib.axes import Axes

        return isinstance(value, Axes)
    raise ValueError(f"unknown option kind {kind!r}; known kinds are {KINDS}")


def _is_colormap(value) -> bool:
    from matplotlib.colors import Colormap

    return isinstance(value, Colormap)


def _is_cmap(value) -> bool:
    import matplotlib as mpl

    from ._cmap_names import NAMED_CMAPS

    if _is_colormap(value):
        return True
    return isinstance(value, str) and (value in NAMED_CMAPS or value in mpl.colormaps)


# ---- what is allowed, in words ---------------------------------------------------------


def describe(hint, meta: Mapping) -> str:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        words = [_describe_choice(a, meta) for a in args if a is not type(None)]
        words += ["None"] if type(None) in args else []
        return _join(words)
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(c) for c in typing.get_args(hint))
    if origin is tuple:
        return _describe_tuple(typing.get_args(hint), meta)
    if origin in (Sequence, list) or hint is list:
        what = "colours" if meta.get("kind") == "color" else "names"
        return f"a list of {what} (or one string, read as comma-separated names)"
    if origin in (Mapping, dict) or hint in (dict, Mapping):
        return "a mapping" + (" of matplotlib colours" if meta.get("kind") == "color" else "")
    return _describe_scalar(hint, meta)


def _describe_choice(hint, meta) -> str:
    if typing.get_origin(hint) is typing.Literal:
        return ", ".join(repr(c) for c in typing.get_args(hint))
    return describe(hint, meta)


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _describe_scalar(hint, meta) -> str:
    kind = meta.get("kind")
    if kind == "color":
        return "a matplotlib colour (a name such as 'red', '#1f77b4' or an RGB tuple)"
    if kind == "cmap":
        from ._cmap_names import NAMED_CMAPS

        named = ", ".join(repr(n) for n in NAMED_CMAPS)
        return (
            "a colour scheme: a matplotlib colormap name such as 'viridis' or 'RdBu_r', "
            f"one of {named}, or a Colormap"
        )
    if kind == "axes":
        return "a matplotlib Axes"
    base = {bool: "True or False", int: "an integer", float: "a finite number", str: "a string"}
    text = base.get(hint, f"a {getattr(hint, '__name__', hint)}")
    bounds = [f"{sign} {_number(meta[key])}" for key, sign in BOUNDS if key in meta]
    return text + (" " + " and ".join(bounds) if bounds and hint in (int, float) else "")


def _number(bound) -> str:
    return str(bound) if isinstance(bound, int) else f"{bound:g}"


def _describe_tuple(args, meta) -> str:
    if meta.get("kind") == "figsize":
        return "two positive finite numbers (width, height) in inches"
    if len(args) == 2 and args[1] is Ellipsis:
        return f"a tuple of {describe(args[0], _element_meta(meta))}"
    return f"a tuple of {len(args)}: ({', '.join(describe(a, _element_meta(meta)) for a in args)})"
