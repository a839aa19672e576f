"""Atomic file writing: every file of a set is written whole, or none is."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path


def _temp_beside(target: Path) -> Path:
    try:
        fd, name = tempfile.mkstemp(
            prefix=f".{target.stem}.", suffix=f"{target.suffix}.part", dir=target.parent
        )
    except OSError as err:  # a read-only mount, or permissions that os.access cannot see
        raise PermissionError(
            f"Cannot write to output directory {str(target.parent)!r} ({err.strerror}); "
            "choose a writable directory."
        ) from err
    os.close(fd)
    return Path(name)


def write_all_or_nothing(writers: Sequence[tuple[Path, Callable[[Path], None]]]) -> list[Path]:
    """Run each ``writer(temp_path)``, then move every temp file onto its target.

    If any writer fails, all temp files are removed and the targets, including
    files that existed before, are left as they were.
    """
    temps: list[Path] = []
    try:
        for target, write in writers:
            temp = _temp_beside(target)
            temps.append(temp)
            write(temp)
        for temp, (target, _) in zip(temps, writers, strict=True):
            os.replace(temp, target)
    except BaseException:
        for temp in temps:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
        raise
    return [target for target, _ in writers]
