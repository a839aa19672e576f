"""Temporary files that other code hands to a library which reads (and deletes) them."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_temp_file(data: bytes, suffix: str, prefix: str = "sc_heatmaps_") -> Path:
    """Write ``data`` to a new private file in the system's temporary folder.

    The file is created with ``mkstemp`` (mode 0600, a name no other process
    holds) and written whole before its path is returned; the caller, or the
    library it hands the path to, removes it.

    Parameters
    ----------
    data
        The bytes to write.
    suffix
        End of the file name, e.g. ``".png"``.
    prefix
        Start of the file name.

    Returns
    -------
    pathlib.Path
        The path of the written file.

    Examples
    --------
    >>> from sc_heatmaps.export._temp import write_temp_file
    >>> path = write_temp_file(b"abc", ".txt")
    >>> path.read_bytes()
    b'abc'
    >>> path.unlink()
    """
    fd, name = tempfile.mkstemp(suffix=suffix, prefix=prefix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)
