"""Writing user-visible files so that they are never left half-written, and checking before a
long run that they can be written at all."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from qa.errors import UsageError


def current_umask() -> int:
    """The process's umask (there is no call that only reads it: read /proc, or set and restore)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def os_reason(exc: OSError) -> str:
    """An OS error in the user's words: a full disk says so, whichever library hit it."""
    if exc.errno == errno.ENOSPC:
        return "no space left on device"
    if exc.errno == errno.EDQUOT:
        return "disk quota exceeded"
    return exc.strerror or str(exc)


def check_writable(path: Path, what: str) -> None:
    """Fail now (UsageError) when ``path`` could not be written later: its directory must exist
    (it is not created) and accept a new file, and it must not be a directory or a read-only
    file. ``what`` names it in the message (e.g. "--json")."""
    path = Path(path)
    parent = path.parent
    if path.is_dir():
        raise UsageError(f"{what} {path}: is a directory")
    if not parent.exists():
        raise UsageError(f"{what} {path}: the directory {parent} does not exist")
    if not parent.is_dir():
        raise UsageError(f"{what} {path}: {parent} is not a directory")
    if path.exists() and not os.access(path, os.W_OK):
        raise UsageError(f"{what} {path}: the file is read-only")
    try:  # the one sure test: create (and remove) a file where the real one will be written
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise UsageError(f"cannot write {what} {path}: {exc.strerror or exc}") from None


def write_text_atomic(path: Path, text: str) -> None:
    """Write to a temporary file beside ``path`` and rename it into place: readers see the old
    file or the complete new one, never a partial write. The directory must exist. The file gets
    the permissions an ordinary new file would (the umask), or keeps those of the file it
    replaces."""
    path = Path(path)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mode = 0o666 & ~current_umask()
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fchmod(handle.fileno(), mode)  # mkstemp makes it private (0600)
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
