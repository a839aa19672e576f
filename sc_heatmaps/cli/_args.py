"""Parsing command-line values into API arguments (no computation here)."""

from __future__ import annotations

import argparse
import re
from datetime import datetime
from pathlib import Path

from .._heatmap_options import JITTER_MAX
from .._limits import DPI_RANGE
from .._options import _finite
from .._quoting import split_quoted as _split_quoted
from .._quoting import unquote

FIGURE_FORMATS = ("png", "pdf", "svg", "tif", "tiff", "jpg", "jpeg")
# dots per inch: the export's minimum, and a maximum for the command line and the app (the
# export also refuses canvases that are too big)


# what -o treats as a file extension: a dot, a letter, then up to four letters or digits
# (".png", ".gif", ".jpeg"); other dotted endings (".5", ".ctrl_vs_stim") are part of the name
_EXTENSION = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,4}")
ALIASES = {"center": "vcenter"}  # --kwargs key -> option name (Cell-Hub's spelling)
N_GENES = 10  # -n's default: markers per cluster of every figure kind's subcommand


class UsageError(Exception):
    """Bad command-line usage (exit code 2)."""


def formats(text: str) -> list[str]:
    """``"pdf,png"`` -> ``["pdf", "png"]``, refusing unknown formats."""
    items = [f.strip().lower().lstrip(".") for f in text.split(",") if f.strip()]
    bad = [f for f in items if f not in FIGURE_FORMATS]
    if bad or not items:
        raise argparse.ArgumentTypeError(
            f"unknown format(s) {bad or [text]}; choose from {', '.join(FIGURE_FORMATS)}"
        )
    return list(dict.fromkeys(items))


def number(text: str) -> float:
    """A finite number (``inf`` and ``nan`` are refused)."""
    try:
        return _finite(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def positive(text: str) -> float:
    value = number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be positive")
    return value


def positive_int(text: str) -> int:
    value = positive(text)
    if value != int(value):
        raise argparse.ArgumentTypeError(f"{text!r} must be a whole number")
    return int(value)


def non_negative_int(text: str) -> int:
    value = number(text)
    if value < 0 or value != int(value):
        raise argparse.ArgumentTypeError(f"{text!r} must be a whole number, 0 or more")
    return int(value)


PORT_RANGE = (0, 65535)


def port(text: str) -> int:
    """A TCP port, 0 (any free port) to 65535."""
    low, high = PORT_RANGE
    try:
        value = int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(
            f"{text!r} is out of range; give a port from {low} to {high} (0: a free port)"
        )
    return value


def dpi(text: str) -> float:
    """A resolution within ``DPI_RANGE``."""
    value = number(text)
    low, high = DPI_RANGE
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(
            f"{text!r} is out of range; give a resolution from {low:g} to {high:g} dots per inch"
        )
    return value


def jitter(text: str) -> float:
    """A jitter from 0 to ``JITTER_MAX`` (data units)."""
    value = number(text)
    if not 0 <= value <= JITTER_MAX:
        raise argparse.ArgumentTypeError(
            f"{text!r} is out of range; give a jitter from 0 to {JITTER_MAX:g}"
        )
    return value


def split_quoted(text: str, sep: str, *, maxsplit: int = -1) -> list[str]:
    """``text`` split at each ``sep`` outside double quotes (see ``_quoting``)."""
    try:
        return _split_quoted(text, sep, maxsplit=maxsplit)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _unquote(piece: str) -> str:
    try:
        return unquote(piece)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def names(text: str) -> list[str]:
    """Comma-separated names; a name holding a comma, semicolon, colon or double quote,
    or starting or ending with a space, is written in double quotes (``"T, CD4",B``)."""
    items = [_unquote(t) for t in split_quoted(text, ",") if t.strip()]
    if not items:
        raise argparse.ArgumentTypeError("give at least one name")
    return items


def _parsers(options_cls) -> dict:
    """The ``--kwargs`` parsers of a figure's options. ``alpha`` is left out where it only
    applies to a ``significance`` table, which a command line cannot pass."""
    from .._heatmap_options import GroupedHeatmapOptions
    from .._options import cli_parsers

    cls = options_cls or GroupedHeatmapOptions
    table_only = ("alpha",) if "significance" in cls.field_names() else ()
    return cli_parsers(cls, exclude=table_only)


def kwargs_keys(options_cls=None) -> list[str]:
    """The ``--kwargs`` keys of a figure's options (default: the grouped heatmap's)."""
    parsers = _parsers(options_cls)
    return sorted([*parsers, *(a for a, name in ALIASES.items() if name in parsers)])


def kwargs(text: str, options_cls=None) -> dict:
    """``"center:1;vmin:0"`` -> ``{"vcenter": 1.0, "vmin": 0.0}``.

    The accepted keys and their parsers derive from the figure's options class
    (default: the grouped heatmap's); unknown keys and bad values are usage errors.
    """
    parsers = _parsers(options_cls)
    accepted = kwargs_keys(options_cls)
    out = {}
    for item in filter(None, (part.strip() for part in text.split(";"))):
        key, sep, value = item.partition(":")
        key = key.strip()
        if not sep:
            raise UsageError(f"--kwargs item {item!r} is not KEY:VALUE")
        name = ALIASES.get(key, key)
        if name not in parsers:
            raise UsageError(
                f"--kwargs key {key!r} is not accepted; accepted keys are {', '.join(accepted)}"
            )
        try:
            out[name] = parsers[name](value.strip())
        except ValueError as err:
            raise UsageError(f"--kwargs {key}: {err}") from None
    return out


def merged(flags: dict, extra: dict, defaults: dict) -> dict:
    """The options of the flags with those of ``--kwargs`` (``extra``) over them. A flag
    given on the command line (its value is not its default) and a ``--kwargs`` key for the
    same option with another value is a usage error naming both."""
    for name, value in extra.items():
        given = flags.get(name, defaults.get(name))
        if name in flags and given != defaults.get(name) and given != value:
            raise UsageError(
                f"--kwargs {name}:{value} contradicts the flag that sets {name} to {given!r}; "
                "give the option once"
            )
    return {**flags, **extra}


def checked_options(options_cls, opts: dict):
    """The figure's options object for ``opts``, built before any file is read: a value its
    type or bounds refuse is a usage error (exit 2) with the options' message."""
    try:
        return options_cls.from_kwargs(opts)
    except (TypeError, ValueError) as err:
        raise UsageError(str(err)) from None


def subset(text: str) -> dict[str, list[str]]:
    """``"dataset:ctrl,stim;cluster:B cells"`` -> ``{"dataset": [...], "cluster": [...]}``
    (names holding ``,;:"`` in double quotes, as :func:`names` reads them)."""
    try:
        return _subset(text)
    except argparse.ArgumentTypeError as err:
        raise UsageError(f"-s/--subset: {err}") from None


def _subset(text: str) -> dict[str, list[str]]:
    out = {}
    for item in filter(None, (part.strip() for part in split_quoted(text, ";"))):
        key, *values = split_quoted(item, ":", maxsplit=1)
        if not values or not key.strip() or not values[0].strip():
            raise UsageError(f"-s/--subset item {item!r} is not KEY:VALUE[,VALUE...]")
        out[_unquote(key)] = names(values[0])
    if not out:
        raise UsageError("-s/--subset is empty")
    return out


MARKER_WORDS = ("markers", "conserved")


def genes(text: str | None) -> tuple[list[str] | None, int | None]:
    """-y: a comma list, a file with one gene per line, ``markers[:N]`` (top markers
    per cluster) or ``conserved[:N]`` (markers conserved across the datasets)."""
    if text is None:
        return None, None
    word, _, count = text.partition(":")
    if word in MARKER_WORDS:
        if not count and ":" not in text:
            return None, None
        if not re.fullmatch(r"[0-9]+", count.strip()) or int(count) < 1:
            raise UsageError(
                f"-y {text!r}: use {word}, or {word}:N with a whole number N of 1 or more "
                "(markers per cluster)"
            )
        return None, int(count)
    path = Path(text)
    if path.is_file():
        lines = [ln.strip() for ln in path.read_text().splitlines()]
        found = [ln for ln in lines if ln and not ln.startswith("#")]
        if not found:
            raise UsageError(f"-y file {text!r} lists no genes")
        return found, None
    return names(text), None


def marker_kind(text: str | None) -> str:
    """``"conserved"`` for ``-y conserved[:N]``, else ``"top"``."""
    return "conserved" if text is not None and text.partition(":")[0] == "conserved" else "top"


def _timestamp() -> Path:
    return Path(datetime.now().strftime("sc_heatmaps_%Y%m%d-%H%M%S"))


def _extension(path: Path) -> str | None:
    """The file extension of ``path`` (lower case, no dot), or ``None`` if it has none."""
    return path.suffix.lower()[1:] if _EXTENSION.fullmatch(path.suffix) else None


def figure_output(text: str | None, fmts: list[str] | None) -> tuple[Path, list[str]]:
    """-o and --format -> (file name without extension, formats).

    An -o ending in a figure extension (``x.pdf``) sets the format; with --format as
    well, that format must be among them. Any other extension (``x.gif``) is refused.
    Without -o the name is a timestamp; without a format, png.
    """
    if text is None:
        return _timestamp(), fmts or ["png"]
    path = Path(text)
    ext = _extension(path)
    if ext is None:
        return path, fmts or ["png"]
    if ext not in FIGURE_FORMATS:
        raise UsageError(
            f"-o {text!r}: .{ext} is not a figure format; end -o in one of "
            f"{', '.join('.' + f for f in FIGURE_FORMATS)}, or leave the extension out "
            "and choose formats with --format"
        )
    if fmts and ext not in fmts:
        raise UsageError(
            f"-o {text!r} asks for {ext} but --format asks for {','.join(fmts)}; "
            "give the format once (-o without an extension, or no --format)"
        )
    return path.with_suffix(""), fmts or [ext]


def single_output(text: str | None, suffixes: tuple[str, ...], what: str) -> Path:
    """-o of a command that writes one file: kept when it ends in one of ``suffixes``,
    given ``suffixes[0]`` when it has no extension; another extension is refused."""
    if text is None:
        path = _timestamp()
        return path.with_name(path.name + suffixes[0])
    path = Path(text)
    if path.suffix.lower() in suffixes:
        return path
    if _extension(path) is not None:
        raise UsageError(
            f"-o {text!r}: this command writes {what}; end -o in "
            f"{' or '.join(suffixes)}, or leave the extension out"
        )
    return path.with_name(path.name + suffixes[0])


def filter_text(text: str) -> str:
    """-f: checked when the command line is read, so a syntax error is a usage error."""
    from ..arrange import parse_filter

    try:
        parse_filter(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text
