"""BM25 at query time without importing bm25s.

The index is built and saved by bm25s (qa.index). Importing bm25s, however, imports scipy,
which costs about 0.2 s in every fresh ``qa ask`` process, and bm25s offers no lighter import
path (every submodule runs the package's ``__init__``). Scoring a query needs none of it: the
saved index is a term × document matrix of precomputed BM25 weights in CSC form (three ``.npy``
arrays) plus a JSON vocabulary, and a query's scores are the sum of its terms' columns. This
module reads those files and reproduces ``bm25s.tokenize`` and ``BM25.get_scores`` exactly; a
test checks both against bm25s itself.
"""

from __future__ import annotations

import importlib.util
import io
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from types import ModuleType

import numpy as np

# bm25s.tokenize's defaults, which qa.index builds with.
TOKEN_PATTERN = re.compile(r"(?u)\b\w\w+\b")

_NONOCCURRENCE = "nonoccurrence_array.index.npy"  # saved by bm25s for BM25L and BM25+ only

# bm25s's names for its stop-word lists (bm25s.tokenization._infer_stopwords).
_STOPWORD_LISTS = {
    "en": "STOPWORDS_EN",
    "english": "STOPWORDS_EN",
    "en_plus": "STOPWORDS_EN_PLUS",
    "english_plus": "STOPWORDS_EN_PLUS",
}


@cache
def stopwords(name: str) -> frozenset[str]:
    """One of bm25s's stop-word lists ("en", "en_plus", ...), without importing bm25s."""
    attribute = _STOPWORD_LISTS.get(name)
    if attribute is None:  # a list we have no name for: ask bm25s itself (slow import, correct)
        from bm25s.tokenization import _infer_stopwords

        return frozenset(_infer_stopwords(name))
    return frozenset(getattr(_bm25s_stopwords_module(), attribute))


def _bm25s_stopwords_module() -> ModuleType:
    """bm25s/stopwords.py is plain data; load that file alone, not the package around it."""
    if "bm25s" in sys.modules:
        from bm25s import stopwords as module

        return module
    package = importlib.util.find_spec("bm25s")  # locates, does not run, the package
    if package is None or not package.submodule_search_locations:
        raise ImportError("bm25s is not installed")
    path = Path(next(iter(package.submodule_search_locations))) / "stopwords.py"
    spec = importlib.util.spec_from_file_location("qa._bm25s_stopwords", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@lru_cache(maxsize=8)
def _stem_words(language: str) -> Callable[[list[str]], list[str]]:
    import Stemmer

    return Stemmer.Stemmer(language).stemWords


def tokenize(text: str, stopword_list: str, stemmer_language: str | None) -> list[str]:
    """The same tokens as ``bm25s.tokenize([text], stopwords=..., stemmer=..., return_ids=False)[0]``:
    lower-cased scikit-learn style words, stop words removed, then stemmed; order and repeats kept."""
    stop = stopwords(stopword_list)
    words = [w for w in TOKEN_PATTERN.findall(text.lower()) if w not in stop]
    return _stem_words(stemmer_language)(words) if stemmer_language and words else words


@dataclass(frozen=True)
class Bm25Scorer:
    """A saved bm25s index, read-only: BM25 scores of every document for a query."""

    vocab: dict[str, int]  # term → column
    data: np.ndarray  # BM25 weight of each (term, document) pair, CSC order
    indices: np.ndarray  # document of each weight
    indptr: np.ndarray  # column start offsets
    num_docs: int
    dtype: np.dtype
    nonoccurrence: np.ndarray | None  # per-term score of documents lacking it (BM25L / BM25+)
    stopword_list: str
    stemmer_language: str | None

    @classmethod
    def load(cls, directory: Path, stopword_list: str, stemmer_language: str | None) -> Bm25Scorer:
        """From the directory bm25s saved (``BM25.save``)."""
        files = {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}
        return cls.from_files(files, stopword_list, stemmer_language)

    @classmethod
    def from_files(cls, files: dict[str, bytes], stopword_list: str, stemmer_language: str | None) -> Bm25Scorer:
        """From the bytes of bm25s's saved files, by file name (already read and verified)."""

        def array(name: str) -> np.ndarray:
            return np.load(io.BytesIO(files[name]), allow_pickle=False)

        params = json.loads(files["params.index.json"])
        vocab = json.loads(files["vocab.index.json"])
        scorer = cls(
            # bm25s's vocabulary also holds "" past the last column; no query token can be "".
            vocab={str(term): int(column) for term, column in vocab.items() if term},
            data=array("data.csc.index.npy"),
            indices=array("indices.csc.index.npy"),
            indptr=array("indptr.csc.index.npy"),
            num_docs=int(params["num_docs"]),
            dtype=np.dtype(params.get("dtype", "float32")),
            nonoccurrence=array(_NONOCCURRENCE) if _NONOCCURRENCE in files else None,
            stopword_list=stopword_list,
            stemmer_language=stemmer_language,
        )
        if not (len(scorer.data) == len(scorer.indices) == int(scorer.indptr[-1])):
            raise ValueError("bm25 arrays disagree with each other")
        return scorer

    def tokenize(self, text: str) -> list[str]:
        return tokenize(text, self.stopword_list, self.stemmer_language)

    def scores(self, tokens: list[str]) -> np.ndarray:
        """``bm25s.BM25.get_scores(tokens)``: the sum over the query's known terms (repeats count)."""
        columns = np.asarray([self.vocab[t] for t in tokens if t in self.vocab], dtype=np.int64)
        scores = np.zeros(self.num_docs, dtype=self.dtype)
        # Term by term, in query order, as bm25s does: identical float32 sums.
        for start, end in zip(self.indptr[columns], self.indptr[columns + 1]):
            np.add.at(scores, self.indices[start:end], self.data[start:end])
        if self.nonoccurrence is not None:
            scores += self.nonoccurrence[columns].sum()
        return scores
