"""The build lock: one build (or repair) of an index directory at a time, across processes.

An flock on ``.<name>.lock`` beside the index: the kernel drops it when its holder dies, so a
killed build never leaves the index locked. The holder deletes the lock file just before it
lets go, so lock files exist only while someone holds or waits for one — never one per path
ever tried. A waiter that then gets the lock on the deleted file notices (the path no longer
names the file it locked) and tries again on the current one, so two processes can never both
believe they hold it.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from qa.errors import IndexError_

# How long a build waits for another build of the same index before giving up.
LOCK_TIMEOUT_SECONDS = 15 * 60
_POLL_SECONDS = 0.05
WAITING = "waiting for another build"  # the progress stage reported while waiting


def lock_path(index_dir: Path) -> Path:
    return index_dir.parent / f".{index_dir.name}.lock"


@contextmanager
def build_lock(
    index_dir: Path, on_progress: Callable[[str, int, int], None] | None = None, *, timeout: float = LOCK_TIMEOUT_SECONDS
) -> Iterator[None]:
    """Hold the lock that serialises builds of ``index_dir`` (and lets readers wait for one).
    Creates the index's parent directory if needed: call it only to build or repair an index."""
    index_dir = index_dir.resolve()
    path = lock_path(index_dir)
    try:
        index_dir.parent.mkdir(parents=True, exist_ok=True)
        fd = acquire(path, on_progress, timeout)
    except TimeoutError:
        raise IndexError_(
            f"another build of {index_dir} has held its lock for over {timeout / 60:.0f} minutes"
        ) from None
    except OSError as exc:
        raise IndexError_(f"cannot lock the index at {index_dir}: {exc.strerror or exc}") from None
    try:
        yield
    finally:
        release(path, fd)


def acquire(path: Path, on_progress: Callable[[str, int, int], None] | None = None, timeout: float = 0) -> int:
    """Lock ``path`` (created if missing) and return its descriptor; TimeoutError after
    ``timeout`` seconds (0: a single try)."""
    deadline = time.monotonic() + timeout
    waited = False
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)  # the umask applies
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{path} is held by another process") from None
            if not waited and on_progress:
                on_progress(WAITING, 0, 1)
            waited = True
            time.sleep(_POLL_SECONDS)
            continue
        except BaseException:
            os.close(fd)
            raise
        if _names(path, fd):
            if waited and on_progress:
                on_progress(WAITING, 1, 1)
            return fd
        os.close(fd)  # its holder deleted it as it let go: lock the current file instead


def release(path: Path, fd: int) -> None:
    """Delete the lock file, then let go of it (in that order: see the module docstring)."""
    try:
        os.unlink(path)
    except OSError:
        pass  # a read-only directory, say: the file stays, which is harmless
    finally:
        os.close(fd)


def _names(path: Path, fd: int) -> bool:
    """Whether ``path`` still names the file open as ``fd``."""
    try:
        current = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (current.st_dev, current.st_ino) == (mine.st_dev, mine.st_ino)
