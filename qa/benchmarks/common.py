"""What the benchmark loaders share: reading a set's JSON, seeded samples, the cache folder."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from qa.errors import UsageError

T = TypeVar("T")


def read_json(path: Path) -> Any:
    """A benchmark file's JSON, or a one-line UsageError naming the file."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"benchmark file not found: {path}") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not valid UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None


def sample(items: Sequence[T], limit: int | None, seed: int = 0) -> list[T]:
    """``limit`` items drawn with ``seed`` (all of them when ``limit`` is None or too big), in
    their original order, so a sample is reproducible and reads like the set."""
    if limit is not None and limit < 0:
        raise UsageError(f"the limit must not be negative (got {limit})")
    if limit is None or limit >= len(items):
        return list(items)
    chosen = sorted(random.Random(seed).sample(range(len(items)), limit))
    return [items[i] for i in chosen]


def cache_root() -> Path:
    """``~/.cache/qa/benchmarks`` (``XDG_CACHE_HOME`` respected): derived corpora and their
    indexes live here, never in the repository."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qa" / "benchmarks"
