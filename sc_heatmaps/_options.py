"""Options written once: a frozen dataclass per figure, from which the function signature,
the command line's ``--kwargs`` parser and the JSON sidecar's parameters all derive.

A figure's options class lists every keyword option with its type and default. Then:

- :func:`takes_options` gives the public function the signature of the class (what
  ``help()``, IDEs and the API reference show) and hands the function one checked,
  frozen options object;
- building an options object (directly or with :meth:`Options.from_kwargs`, which also
  refuses unknown names, naming the valid ones) checks every field against its
  annotation and the bounds and kind in its metadata (:mod:`sc_heatmaps._option_checks`:
  ``dataclasses.field(default=10, metadata={"ge": 1})``), then the checks between fields
  (:meth:`Options.check_together`: ``vmin < vmax``, ``vcenter`` between them);
- :meth:`Options.to_params` is the JSON-ready record written to the sidecar;
- :func:`cli_parsers` derives the ``--kwargs KEY:VALUE`` parsers from the field types.

This module knows no AnnData; matplotlib is imported only to check colours, colormaps
and Axes.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math
import types
import typing
from collections.abc import Callable, Mapping

from ._option_checks import check_value, option_error


@dataclasses.dataclass(frozen=True)
class Options:
    """Base of every figure's options (frozen: an options object never changes).

    Every field is checked when the object is built: its type, its bounds and kind
    (metadata keys ``"ge"``, ``"gt"``, ``"le"``, ``"lt"``, ``"kind"``), then the fields
    together. A refused value raises :class:`sc_heatmaps._option_checks.OptionError`
    (a ``ValueError`` and a ``TypeError``): ``option 'n_genes' = -5: must be an
    integer >= 1``.
    """

    def __post_init__(self) -> None:
        hints = _hints(type(self))
        for f in dataclasses.fields(self):
            value = check_value(f.name, getattr(self, f.name), hints[f.name], f.metadata)
            object.__setattr__(self, f.name, value)
        self.check_together()

    def check_together(self) -> None:
        """Checks between fields: ``vmin < vmax``, and ``vcenter`` strictly between the
        limits given. Subclasses add theirs (calling this one)."""
        vmin, vmax = getattr(self, "vmin", None), getattr(self, "vmax", None)
        if vmin is not None and vmax is not None and not vmin < vmax:
            raise option_error("vmin", vmin, f"smaller than vmax = {vmax!r}")
        vcenter = getattr(self, "vcenter", None)
        if vcenter is None:
            return
        if (vmin is not None and not vcenter > vmin) or (vmax is not None and not vcenter < vmax):
            limits = " and ".join(
                f"{n} = {v!r}" for n, v in (("vmin", vmin), ("vmax", vmax)) if v is not None
            )
            raise option_error("vcenter", vcenter, f"strictly between {limits}")

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_kwargs(cls, kwargs: Mapping[str, object]):
        """The options object for ``kwargs``; unknown names raise ``TypeError``."""
        unknown = sorted(set(kwargs) - set(cls.field_names()))
        if unknown:
            raise TypeError(
                f"Unknown options {unknown}; valid options are {sorted(cls.field_names())}."
            )
        return cls(**kwargs)

    @classmethod
    def check_field(cls, name: str, value):
        """``value`` checked as field ``name`` is when an options object is built (for a
        value that travels outside the options object, e.g. the app's marker count)."""
        declared = {f.name: f for f in dataclasses.fields(cls)}[name]
        return check_value(name, value, _hints(cls)[name], declared.metadata)

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    def to_params(self) -> dict:
        """Every option, as JSON-ready values (tuples as lists, objects by name); fields
        marked ``metadata={"record": False}`` (e.g. a target Axes) are left out."""
        return {
            f.name: _jsonable(getattr(self, f.name))
            for f in dataclasses.fields(self)
            if f.metadata.get("record", True)
        }


@functools.cache
def _hints(cls) -> dict:
    return typing.get_type_hints(cls)


def literal_choices(hint) -> tuple:
    """The choices of a ``Literal`` or ``Literal | None``, else ``()`` (also when the
    type admits other values, e.g. ``int | Literal["auto"]``)."""
    if typing.get_origin(hint) is typing.Literal:
        return typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        literals = [a for a in args if typing.get_origin(a) is typing.Literal]
        others = [a for a in args if a is not type(None) and a not in literals]
        if literals and not others:
            none = (None,) if type(None) in args else ()
            return tuple(c for lit in literals for c in typing.get_args(lit)) + none
    return ()


def _jsonable(value):
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return getattr(value, "name", str(value))


def takes_options(options_cls: type[Options], leading: tuple[str, ...]):
    """Decorate ``func(*leading, *, opts)`` into the public ``func(*leading, **options)``.

    The public signature is ``leading`` (positional) followed by the options' fields
    (keyword-only, with their defaults and types), so it is written once, in the class.
    """

    def wrap(func: Callable):
        given = inspect.signature(func).parameters
        params = [
            inspect.Parameter(
                name,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                default=given[name].default,
                annotation=given[name].annotation,
            )
            for name in leading
        ]
        hints = _hints(options_cls)
        params += [
            inspect.Parameter(
                f.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=f.default,
                annotation=hints[f.name],
            )
            for f in dataclasses.fields(options_cls)
        ]

        @functools.wraps(func)
        def public(*args, **kwargs):
            bound = inspect.Signature(params[: len(leading)]).bind_partial(
                *args, **{k: kwargs.pop(k) for k in leading if k in kwargs}
            )
            bound.apply_defaults()
            return func(*bound.arguments.values(), opts=options_cls.from_kwargs(kwargs))

        public.__signature__ = inspect.Signature(
            params, return_annotation=inspect.signature(func).return_annotation
        )
        public.options = options_cls
        return public

    return wrap


# ---- the command line's --kwargs, derived from the field types ----


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes"):
        return True
    if lowered in ("0", "false", "no"):
        return False
    raise ValueError(f"{text!r} is not true or false")


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def _int(text: str) -> int:
    value = _finite(text)
    if value != int(value):
        raise ValueError(f"{text!r} is not a whole number")
    return int(value)


def _pair(text: str) -> tuple[float, float]:
    parts = text.lower().split("x")
    if len(parts) != 2:
        raise ValueError(f"{text!r} is not WIDTHxHEIGHT in inches, e.g. 8x6")
    w, h = (_finite(part) for part in parts)
    if not (w > 0 and h > 0):
        raise ValueError(f"{text!r}: the width and height must be positive")
    return w, h


def _none_or(parse: Callable) -> Callable:
    def parse_optional(text: str):
        return None if text.strip().lower() == "none" else parse(text)

    return parse_optional


def _literal(choices: tuple) -> Callable:
    def parse_choice(text: str):
        for choice in choices:
            if choice is not None and str(choice) == text:
                return choice
        raise ValueError(
            f"{text!r} is not one of {', '.join(str(c) for c in choices if c is not None)}"
            + (" or none" if None in choices else "")
        )

    return _none_or(parse_choice) if None in choices else parse_choice


_SCALARS = {bool: _bool, int: _int, float: _finite, str: str}


def _parser(hint) -> Callable | None:
    """A text parser for a field type, or ``None`` when the command line cannot set it."""
    choices = literal_choices(hint)
    if choices:
        return _literal(choices)
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    optional = typing.get_origin(hint) in (typing.Union, types.UnionType) and len(args) < len(
        typing.get_args(hint)
    )
    if optional and len(args) == 1:
        inner = _parser(args[0])
        return _none_or(inner) if inner is not None else None
    if hint in _SCALARS:
        return _SCALARS[hint]
    if typing.get_origin(hint) is tuple and typing.get_args(hint) == (float, float):
        return _pair
    return None


def cli_parsers(options_cls: type[Options], exclude: tuple[str, ...] = ()) -> dict:
    """``{field: parser}`` for every option the command line can set with ``--kwargs``
    (scalars, ``Literal`` choices, optional values written ``none``, ``WxH`` pairs)."""
    hints = _hints(options_cls)
    parsers = {}
    for name in options_cls.field_names():
        if name in exclude:
            continue
        parse = _parser(hints[name])
        if parse is not None:
            parsers[name] = parse
    return parsers
