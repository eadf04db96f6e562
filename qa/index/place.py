"""Where an index may live, and replacing what is there: never anything but a qa index.

A build may replace only a missing path, an empty directory, or a directory that is a qa index:
one carrying ``MARKER`` (written first into every build directory) or, for an index built
before the marker existed, a manifest of the index's shape. Anything else — a file, a directory
of someone's files, the corpus itself, a directory above or inside the corpus — is refused
(``IndexLocationError``, exit 2) before anything on disk changes, and an index built from one
corpus is not rebuilt from another unless the caller says so. Leftovers of killed builds are
removed only when they carry the marker too (or are empty), and ``clean_cache`` removes only
qa indexes from qa's own cache directory.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.errors import IndexError_, IndexLocationError
from qa.index.lock import acquire, lock_path, release

MANIFEST = "manifest.json"
MARKER = ".qa-index"
MARKER_TEXT = "This directory is a qa search index (qa index build); qa may replace or remove it.\n"
_LEGACY_KEYS = {"format_version", "corpus", "artifacts"}  # every manifest since format 1 has them


def is_qa_index(path: Path) -> bool:
    """Whether ``path`` is a directory qa made: it carries the marker, or a manifest with an
    index's keys (indexes built before the marker existed)."""
    if path.is_symlink() or not path.is_dir():
        return False
    try:
        if (path / MARKER).read_bytes() == MARKER_TEXT.encode():
            return True
    except OSError:
        pass
    try:
        manifest = json.loads((path / MANIFEST).read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and _LEGACY_KEYS <= manifest.keys()


def check_location(corpus_dir: Path, index_dir: Path) -> None:
    """Refuse an index location a build could not use without destroying something that is
    not a qa index, or that overlaps the corpus. Reads only; changes nothing."""
    index, corpus = index_dir.resolve(), corpus_dir.resolve()
    if index == corpus:
        raise IndexLocationError(f"the index cannot be the corpus directory itself ({corpus}); choose another --index")
    if index in corpus.parents:
        raise IndexLocationError(f"the index at {index} would contain the corpus {corpus}; choose another --index")
    if corpus in index.parents:
        raise IndexLocationError(f"the index at {index} would be inside the corpus {corpus}; choose another --index")
    refuse_unless_replaceable(index)


def refuse_unless_replaceable(index: Path) -> None:
    """Raise unless ``index`` is missing, an empty directory or a qa index."""
    if not os.path.lexists(index):
        return
    if not index.is_dir():
        raise IndexLocationError(f"{index} is a file, not an index directory; qa will not replace it (choose another --index)")
    if is_qa_index(index):
        return
    try:
        empty = next(index.iterdir(), None) is None
    except OSError as exc:
        raise IndexLocationError(f"cannot read {index} ({exc.strerror or exc}); qa will not replace it") from None
    if not empty and (index / MANIFEST).exists():
        raise IndexLocationError(
            f"{index} has a damaged {MANIFEST} and no qa marker, so it cannot be told to be a qa index; "
            "qa will not replace it (remove it yourself, or choose another --index)"
        )
    if not empty:
        raise IndexLocationError(
            f"{index} is a directory that is not a qa index (no {MANIFEST}); qa will not replace it (choose another --index)"
        )


def check_same_corpus(index_dir: Path, corpus_dir: Path, manifest: dict[str, Any] | None) -> None:
    """Refuse to use or rebuild an index that was built from another corpus directory."""
    built_from = (manifest or {}).get("corpus")
    recorded = built_from.get("dir") if isinstance(built_from, dict) else None
    corpus = corpus_dir.resolve()
    if recorded is not None and Path(recorded) != corpus:
        raise IndexLocationError(
            f"the index at {index_dir.resolve()} was built from the corpus {recorded}, not {corpus}; "
            f"pass --rebuild to rebuild it from {corpus}, or choose another --index"
        )


def new_build_dir(index: Path, umask: int) -> Path:
    """A private sibling directory to build into, marked as ours before anything else."""
    work = Path(tempfile.mkdtemp(prefix=f".{index.name}.build-", dir=index.parent))
    work.chmod(0o777 & ~umask)  # mkdtemp makes it private; the index is ordinary data
    (work / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
    return work


def swap_into_place(new: Path, target: Path) -> None:
    """Replace ``target`` by ``new`` with renames only, if it may still be replaced (checked
    again under the lock: it may have changed since the build started); the old index is
    removed last."""
    refuse_unless_replaceable(target)
    if not target.is_dir() or not is_qa_index(target):
        os.replace(new, target)  # missing, or an empty directory: rename refuses a non-empty one
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    os.rmdir(old)
    os.replace(target, old)
    os.replace(new, target)
    remove_if_ours(old)


def remove_if_ours(path: Path) -> bool:
    """Delete ``path`` if it is a qa index (or a marked build directory), or an empty directory."""
    if is_qa_index(path):
        shutil.rmtree(path, ignore_errors=True)
        return True
    try:
        path.rmdir()  # only ever succeeds on an empty directory
        return True
    except OSError:
        return False


def leftovers(index: Path) -> list[Path]:
    """What killed builds of ``index`` left beside it (build directories, old indexes)."""
    found: list[Path] = []
    for kind in ("build", "old"):
        found += sorted(index.parent.glob(f".{index.name}.{kind}-*"))
    return found


def remove_leftovers(index: Path) -> None:
    """Delete what killed builds left beside ``index`` (call with the build lock held); anything
    that does not carry the marker is left alone."""
    restore_interrupted_swap(index)
    for path in leftovers(index):
        remove_if_ours(path)


def restore_interrupted_swap(index: Path) -> None:
    """A build killed between its two renames leaves no index but the previous one moved aside:
    put it back (call with the build lock held)."""
    if os.path.lexists(index):
        return
    previous = [p for p in index.parent.glob(f".{index.name}.old-*") if is_qa_index(p) and (p / MANIFEST).is_file()]
    if previous:
        os.replace(max(previous, key=lambda p: p.stat().st_mtime), index)


def anything_to_settle(index: Path) -> bool:
    """Whether there is an index, a build in progress or a killed build's leftovers at ``index``:
    when there is none, a reader that may not build has nothing to wait for (and locks nothing)."""
    return os.path.lexists(index) or lock_path(index).exists() or bool(leftovers(index))


# --- the cache ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Removal:
    path: Path
    reason: str
    bytes: int


def clean_cache(cache: Path, *, everything: bool = False, dry_run: bool = False) -> list[Removal]:
    """Remove stale entries from qa's index cache: indexes whose corpus directory no longer exists
    (every index with ``everything``), killed builds' leftovers and unheld lock files. Only
    directories that are qa indexes are removed; an index being built is skipped."""
    removals: list[Removal] = []
    try:
        entries = sorted(cache.iterdir())
    except FileNotFoundError:
        return removals
    except OSError as exc:
        raise IndexError_(f"cannot read the index cache {cache}: {exc.strerror or exc}") from None
    for entry in entries:
        if entry.name.startswith("."):
            continue  # leftovers and lock files: handled with the index they belong to
        if not is_qa_index(entry):
            continue
        reason = "every index (--all)" if everything else _stale_reason(entry)
        removals += _clean_one(entry, reason, dry_run)
    # Leftovers and lock files whose index is gone.
    for entry in entries:
        name = entry.name
        if name.startswith(".") and name.endswith(".lock") and not os.path.lexists(cache / name[1:-5]):
            removals += _clean_one(cache / name[1:-5], None, dry_run)
        elif name.startswith(".") and (".build-" in name or ".old-" in name):
            owner = cache / name[1:].rsplit(".build-" if ".build-" in name else ".old-", 1)[0]
            if not os.path.lexists(owner):
                removals += _clean_one(owner, None, dry_run)
    return list({r.path: r for r in removals}.values())


def _stale_reason(index: Path) -> str | None:
    try:
        manifest = json.loads((index / MANIFEST).read_bytes())
        corpus = manifest["corpus"]["dir"]
    except (OSError, ValueError, KeyError, TypeError):
        return "damaged manifest"
    return None if Path(corpus).is_dir() else f"its corpus {corpus} no longer exists"


def _clean_one(index: Path, reason: str | None, dry_run: bool) -> list[Removal]:
    """Remove ``index`` (when ``reason``), its leftovers and its lock file, unless it is locked."""
    path = lock_path(index)
    held = path.exists()
    try:
        fd = acquire(path) if not dry_run else None
    except (TimeoutError, OSError):
        return []  # being built right now: leave it
    try:
        done: list[Removal] = []
        targets = [(index, reason)] if reason else []
        targets += [(p, "left by a killed build") for p in leftovers(index)]
        for target, why in targets:
            size = _size(target)
            if dry_run or remove_if_ours(target):
                done.append(Removal(target, why, size))
        if held:
            done.append(Removal(path, "lock file", 0))
        return done
    finally:
        if fd is not None:
            release(path, fd)


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
