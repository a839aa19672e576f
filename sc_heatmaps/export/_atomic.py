"""Atomic file writing: every file of a set is replaced whole, together, or not at all.

This is the one writer of the package. Each target is first written to a short
temporary name in its own directory, ``.{tag}.{pid}.{random}.part``, where
``tag`` is a hash of the target's name: any name the OS accepts for the target
works, and a temporary file left by a killed writer is recognised (and removed)
on the next write of the same target. New files get the mode a plain ``open()``
would give them (``0o666`` minus the umask); a file that is replaced keeps its
mode. Before anything is replaced every target is checked (a directory in the
way, a name the file system refuses), and when a replacement still fails
midway the targets already replaced are restored from backups.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import hashlib
import os
import stat
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

TEMP_SUFFIX = ".part"
STALE_AFTER = 3600.0  # seconds; a temporary file this old is stale whoever wrote it
LEGACY_STALE_AFTER = 60.0  # seconds, for the names of earlier versions (no process id)
_NOT_WRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS)


def temp_tag(target: Path) -> str:
    """The short tag shared by every temporary file of ``target`` (a hash of its name)."""
    name = os.fsencode(target.name)
    return hashlib.sha256(name).hexdigest()[:12]


def _umask() -> int:
    """The process umask, read without changing it where the OS allows."""
    status = Path("/proc/self/status")
    with contextlib.suppress(OSError, ValueError):
        for line in status.read_text(encoding="ascii", errors="replace").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _mode_for(target: Path) -> int:
    """The mode ``open(target, "w")`` would leave: the old file's, or 0o666 minus the umask."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode) & 0o777
    except OSError:
        return 0o666 & ~_umask()


def _where(target: Path) -> str:
    parent = target.parent if str(target.parent) else Path(".")
    return str(parent)


def _os_error(err: OSError, target: Path, doing: str) -> OSError:
    """An error that says what failed and why, keeping the errno (and its subclass)."""
    if err.errno in _NOT_WRITABLE:
        return PermissionError(
            err.errno,
            f"Cannot write to output directory {_where(target)!r} ({err.strerror}); "
            "choose a writable directory.",
        )
    detail = err.strerror or str(err)
    if err.errno == errno.ENAMETOOLONG:
        detail += _length_advice(target)
    return OSError(err.errno, f"Cannot {doing} {str(target)!r}: {detail}.")


def _length_advice(target: Path) -> str:
    """Which length is too long: the file name, or the whole path."""
    name = len(os.fsencode(target.name))
    limit = None
    with contextlib.suppress(OSError, ValueError, AttributeError):
        limit = os.pathconf(_where(target), "PC_NAME_MAX")
    if limit is not None and name <= limit:
        return f" (the path is {len(os.fsencode(str(target)))} bytes); choose a shorter path"
    most = f" and this file system allows at most {limit}" if limit else ""
    return f" (the file name is {name} bytes{most}); choose a shorter name"


def check_replaceable(target: Path) -> None:
    """Refuse a target that no file can replace: a directory, or a name the OS refuses."""
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        return
    except OSError as err:
        raise _os_error(err, target, "write") from err
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(
            errno.EISDIR,
            f"Cannot write {str(target)!r}: a directory of that name is in the way; "
            "remove it or choose another name. No file was written.",
        )


def remove_stale_temps(target: Path) -> list[Path]:
    """Remove temporary files of ``target`` left by a writer that is gone.

    A temporary file is stale when the process that made it no longer runs on
    this machine, or when it is older than ``STALE_AFTER`` (a writer on another
    machine of a shared drive). Returns the files removed.
    """
    folder = Path(_where(target))
    found = [(t, _is_stale(t)) for t in folder.glob(f".{temp_tag(target)}.*{TEMP_SUFFIX}")]
    # the names of earlier versions, ".{stem}.{8 random characters}{suffix}.part"
    legacy = f".{glob.escape(target.stem)}.{'?' * 8}{glob.escape(target.suffix)}{TEMP_SUFFIX}"
    found += [(t, _age(t) > LEGACY_STALE_AFTER) for t in folder.glob(legacy)]
    removed = []
    for temp, stale in found:
        if stale:
            with contextlib.suppress(OSError):
                temp.unlink()
                removed.append(temp)
    return removed


def _age(path: Path) -> float:
    """Seconds since ``path`` was last written (0 when it is gone)."""
    try:
        return time.time() - path.lstat().st_mtime
    except OSError:
        return 0.0


def _is_stale(temp: Path) -> bool:
    if _age(temp) > STALE_AFTER:
        return True
    parts = temp.name.split(".")
    try:
        pid = int(parts[2])
    except (IndexError, ValueError):
        return True  # not a name this writer makes
    return pid != os.getpid() and not _running(pid)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process, or a platform that cannot tell
    return True


def _temp_beside(target: Path, mode: int) -> Path:
    """Create an empty temporary file for ``target`` in its directory, with ``mode``."""
    try:
        fd, name = tempfile.mkstemp(
            prefix=f".{temp_tag(target)}.{os.getpid()}.", suffix=TEMP_SUFFIX, dir=_where(target)
        )
    except OSError as err:  # a read-only mount, or permissions that os.access cannot see
        raise _os_error(err, target, "create a temporary file for") from err
    try:
        os.fchmod(fd, mode)
    finally:
        os.close(fd)
    return Path(name)


def _backup(target: Path) -> Path | None:
    """A hard link to the current ``target`` (``None`` when there is no file to keep)."""
    if not os.path.lexists(target):
        return None
    for _ in range(10):
        backup = Path(_where(target)) / (
            f".{temp_tag(target)}.{os.getpid()}.{os.urandom(4).hex()}{TEMP_SUFFIX}"
        )
        try:
            os.link(target, backup, follow_symlinks=False)
        except FileExistsError:
            continue
        except OSError:
            return None  # no hard links here (some network drives): replace without a backup
        return backup
    return None


def _commit(temps: list[Path], targets: list[Path]) -> None:
    """Move every temp onto its target; on a failure, put back what was replaced."""
    replaced: list[tuple[Path, Path | None]] = []  # target, backup of the old file (if any)
    backup = None
    try:
        for temp, target in zip(temps, targets, strict=True):
            backup = _backup(target)
            try:
                os.replace(temp, target)
            except OSError as err:
                raise _os_error(err, target, "replace") from err
            replaced.append((target, backup))
            backup = None
    except BaseException:
        _remove(backup)
        _roll_back(replaced)
        raise
    for _, old in replaced:
        _remove(old)


def _roll_back(replaced: list[tuple[Path, Path | None]]) -> None:
    """Restore replaced targets from their backups; remove the ones that were new."""
    for target, backup in reversed(replaced):
        with contextlib.suppress(OSError):
            if backup is not None:
                os.replace(backup, target)
            else:
                target.unlink()


def _remove(path: Path | None) -> None:
    if path is not None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def write_all_or_nothing(writers: Sequence[tuple[Path, Callable[[Path], None]]]) -> list[Path]:
    """Run each ``writer(temp_path)``, then move every temp file onto its target.

    Every target is checked before anything is written; if any writer fails,
    or any target cannot be replaced, all temp files are removed and the
    targets, including files that existed before, are left as they were.

    Returns
    -------
    The targets, in the order given.
    """
    targets = [Path(target) for target, _ in writers]
    for target in targets:
        check_replaceable(target)
    for target in targets:
        remove_stale_temps(target)
    temps: list[Path] = []
    try:
        for target, (_, write) in zip(targets, writers, strict=True):
            temps.append(_temp_beside(target, _mode_for(target)))
            write(temps[-1])
        _commit(temps, targets)
    except BaseException:
        for temp in temps:
            _remove(temp)
        raise
    return targets
