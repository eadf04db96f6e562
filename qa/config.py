"""Where things live: the corpus and index directories, with environment overrides."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_corpus_dir() -> Path:
    return Path(os.environ.get("QA_CORPUS") or PROJECT_ROOT / "corpus")


def default_index_dir(corpus_dir: Path) -> Path:
    """``index/default`` for the project's own corpus; a per-corpus cache directory otherwise,
    so that asking about another corpus never overwrites the project's index."""
    if os.environ.get("QA_INDEX"):
        return Path(os.environ["QA_INDEX"])
    corpus_dir = corpus_dir.resolve()
    if corpus_dir == (PROJECT_ROOT / "corpus").resolve():
        return PROJECT_ROOT / "index" / "default"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qa" / "indexes"
    digest = hashlib.sha1(str(corpus_dir).encode()).hexdigest()[:10]
    return cache / f"{corpus_dir.name}-{digest}"
