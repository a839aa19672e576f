"""Counts in messages: "1 cell", "2 cells", never "1 cells"."""

from __future__ import annotations


def plural(n: int, noun: str, many: str | None = None) -> str:
    """``noun`` for one, else ``many`` (default: ``noun + "s"``)."""
    return noun if n == 1 else (many or noun + "s")


def counted(n: int, noun: str, many: str | None = None) -> str:
    """``n`` and its noun: ``counted(1, "sample") == "1 sample"``."""
    return f"{n} {plural(n, noun, many)}"
