"""Where things live: the corpus and the index a command uses when none is named.

The same order for the CLI and ``Assistant.load`` (README, "Which corpus, which index"), and
none of it depends on where qa is installed:

* corpus: ``--corpus``, else ``$QA_CORPUS``, else ``./corpus`` when the working directory has
  one, else the article packaged with qa;
* index: ``--index``, else ``$QA_INDEX``, else ``./index/default`` when the corpus is
  ``./corpus``, else a directory per corpus under ``$XDG_CACHE_HOME/qa/indexes``
  (``~/.cache/qa/indexes``), named after the corpus and a hash of its resolved path.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# A source checkout's root. Only `qa eval` uses it, for the project's eval sets.
PROJECT_ROOT = PACKAGE_DIR.parent
LOCAL_CORPUS = Path("corpus")
LOCAL_INDEX = Path("index") / "default"


def packaged_corpus_dir() -> Path:
    """The article shipped with qa: ``qa/article`` inside an installed package (the wheel maps
    the project's ``corpus/`` there); in a source checkout, that ``corpus/`` itself."""
    installed = PACKAGE_DIR / "article"
    return installed if installed.is_dir() else PROJECT_ROOT / "corpus"


def default_corpus_dir() -> Path:
    if os.environ.get("QA_CORPUS"):
        return Path(os.environ["QA_CORPUS"])
    if LOCAL_CORPUS.is_dir():
        return LOCAL_CORPUS
    return packaged_corpus_dir()


def default_index_dir(corpus_dir: Path) -> Path:
    """``./index/default`` for ``./corpus``; a per-corpus cache directory otherwise, so that one
    corpus's index is never another's."""
    if os.environ.get("QA_INDEX"):
        return Path(os.environ["QA_INDEX"])
    corpus_dir = corpus_dir.resolve()
    if corpus_dir == LOCAL_CORPUS.resolve():
        return LOCAL_INDEX
    digest = hashlib.sha1(str(corpus_dir).encode()).hexdigest()[:10]
    return index_cache_dir() / f"{corpus_dir.name}-{digest}"


def index_cache_dir() -> Path:
    """Where indexes of corpora other than ``./corpus`` go (``qa index clean`` tidies it)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qa" / "indexes"
