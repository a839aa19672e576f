"""Parsing command-line values into API arguments (no computation here)."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

FIGURE_FORMATS = ("png", "pdf", "svg", "tif", "tiff", "jpg", "jpeg")
KWARGS = {  # --kwargs key -> (API parameter, parser)
    "vmin": ("vmin", float),
    "vmax": ("vmax", float),
    "center": ("vcenter", float),
    "vcenter": ("vcenter", float),
    "cmap": ("cmap", str),
    "labels": ("labels", str),
    "scale": ("scale", lambda v: None if v.lower() == "none" else v),
    "cluster_rows": ("cluster_rows", lambda v: _bool(v)),
    "cluster_cols": ("cluster_cols", lambda v: _bool(v)),
    "figsize": ("figsize", lambda v: _figsize(v)),
}


class UsageError(Exception):
    """Bad command-line usage (exit code 2)."""


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes"):
        return True
    if lowered in ("0", "false", "no"):
        return False
    raise ValueError(f"{text!r} is not true or false")


def _figsize(text: str) -> tuple[float, float]:
    w, h = text.lower().split("x")
    return float(w), float(h)


def formats(text: str) -> list[str]:
    """``"pdf,png"`` -> ``["pdf", "png"]``, refusing unknown formats."""
    items = [f.strip().lower().lstrip(".") for f in text.split(",") if f.strip()]
    bad = [f for f in items if f not in FIGURE_FORMATS]
    if bad or not items:
        raise argparse.ArgumentTypeError(
            f"unknown format(s) {bad or [text]}; choose from {', '.join(FIGURE_FORMATS)}"
        )
    return list(dict.fromkeys(items))


def positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be positive")
    return value


def positive_int(text: str) -> int:
    value = positive(text)
    if value != int(value):
        raise argparse.ArgumentTypeError(f"{text!r} must be a whole number")
    return int(value)


def names(text: str) -> list[str]:
    """Comma-separated names."""
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise argparse.ArgumentTypeError("give at least one name")
    return items


def kwargs(text: str) -> dict:
    """``"center:1;vmin:0"`` -> ``{"vcenter": 1.0, "vmin": 0.0}``; unknown keys are errors."""
    out = {}
    for item in filter(None, (part.strip() for part in text.split(";"))):
        key, sep, value = item.partition(":")
        key = key.strip()
        if not sep:
            raise UsageError(f"--kwargs item {item!r} is not KEY:VALUE")
        if key not in KWARGS:
            raise UsageError(
                f"--kwargs key {key!r} is not accepted; accepted keys are "
                f"{', '.join(sorted(KWARGS))}"
            )
        name, parse = KWARGS[key]
        try:
            out[name] = parse(value.strip())
        except ValueError as err:
            raise UsageError(f"--kwargs {key}: {err}") from None
    return out


def subset(text: str) -> dict[str, list[str]]:
    """``"dataset:ctrl,stim;cluster:B cells"`` -> ``{"dataset": [...], "cluster": [...]}``."""
    out = {}
    for item in filter(None, (part.strip() for part in text.split(";"))):
        key, sep, values = item.partition(":")
        if not sep or not key.strip() or not values.strip():
            raise UsageError(f"-s/--subset item {item!r} is not KEY:VALUE[,VALUE...]")
        out[key.strip()] = [v.strip() for v in values.split(",") if v.strip()]
    if not out:
        raise UsageError("-s/--subset is empty")
    return out


def genes(text: str | None) -> tuple[list[str] | None, int | None]:
    """-y: a comma list, a file with one gene per line, or ``markers[:N]``."""
    if text is None:
        return None, None
    if text == "markers" or text.startswith("markers:"):
        count = text.partition(":")[2]
        if count and not count.isdigit():
            raise UsageError(f"-y {text!r}: use markers or markers:N with a whole number N")
        return None, int(count) if count else None
    path = Path(text)
    if path.is_file():
        lines = [ln.strip() for ln in path.read_text().splitlines()]
        found = [ln for ln in lines if ln and not ln.startswith("#")]
        if not found:
            raise UsageError(f"-y file {text!r} lists no genes")
        return found, None
    return names(text), None


def output_stem(text: str | None) -> tuple[Path, str | None]:
    """-o without extension (a figure extension is taken as the format); default: a timestamp."""
    if text is None:
        return Path(datetime.now().strftime("sc_heatmaps_%Y%m%d-%H%M%S")), None
    path = Path(text)
    ext = path.suffix.lower().lstrip(".")
    if ext in FIGURE_FORMATS:
        return path.with_suffix(""), ext
    return path, None


def filter_text(text: str) -> str:
    """-f: checked when the command line is read, so a syntax error is a usage error."""
    from ..arrange import parse_filter

    try:
        parse_filter(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text
