"""The files of an index directory: the settings they are built with, writing and reading them,
and checking each against the checksum the manifest records."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, overload

from qa.chunking import ChunkSettings, Passage, Sentence
from qa.corpus import Document
from qa.errors import IndexError_
from qa.formats.align import OffsetMap

PASSAGES = "passages.jsonl"
VOCABULARY = "vocabulary.json"  # qa.names.Vocabulary
LEXICON = "lexicon.json"  # qa.followup.Lexicon, without the names table's types
DENSE = "dense.faiss"
BM25_DIR = "bm25"
# The text the reader saw of every document that is not a plain text, and its map to the file:
# a PDF or DOCX corpus loads without extracting anything again.
DOCUMENTS = "documents.jsonl"


@dataclass(frozen=True)
class IndexSettings:
    chunking: ChunkSettings = field(default_factory=ChunkSettings)
    bm25_method: str = "lucene"
    bm25_k1: float = 1.5
    bm25_b: float = 0.75
    bm25_stemmer: str = "english"
    bm25_stopwords: str = "en"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IndexSettings:
        return cls(**{**data, "chunking": ChunkSettings(**data["chunking"])})


def verified_artifacts(index_dir: Path, manifest: dict[str, Any]) -> dict[str, bytes]:
    """Every artifact the manifest lists, read once and checked against its sha256."""
    expected = manifest.get("artifacts")
    if not isinstance(expected, dict) or not expected:
        raise ValueError("the manifest lists no artifacts")
    blobs: dict[str, bytes] = {}
    for name, digest in expected.items():
        data = (index_dir / name).read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:
            raise ValueError(f"{name} does not match its checksum")
        blobs[name] = data
    return blobs


def read_documents(
    manifest: dict[str, Any], corpus: Path, extracted: dict[str, dict[str, Any]]
) -> tuple[dict[str, str], dict[str, OffsetMap]]:
    """Every document's text as the reader saw it (the file itself for a plain text, else what
    ``documents.jsonl`` kept) and its offset map, each file checked against the hash the index
    was built from."""
    documents: dict[str, str] = {}
    offsets: dict[str, OffsetMap] = {}
    for entry in manifest["documents"]:
        path = corpus / entry["file"]
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise IndexError_(f"cannot read {path} ({exc.strerror or exc}); is --corpus right?") from None
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise IndexError_(f"{path} changed since the index was built; rebuild it")
        doc = entry["doc"]
        if doc in extracted:
            documents[doc] = extracted[doc]["text"]
            offsets[doc] = OffsetMap.from_json(extracted[doc]["offsets"])
        else:
            documents[doc] = data.decode("utf-8")
            offsets[doc] = OffsetMap("file", None)
    return documents, offsets


def write_documents(path: Path, documents: list[Document]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for d in documents:
            if d.format != "plain":
                row = {"doc": d.doc_id, "format": d.format, "text": d.text, "offsets": d.offsets.as_json()}
                f.write(json.dumps(row, ensure_ascii=False) + "\n")


def parse_documents(data: bytes) -> dict[str, dict[str, Any]]:
    rows = (json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip())
    return {row["doc"]: row for row in rows}


def tokenize_for_bm25(texts: list[str], settings: IndexSettings, return_ids: bool = True) -> Any:
    import bm25s

    return bm25s.tokenize(
        texts,
        stopwords=settings.bm25_stopwords,
        stemmer=stemmer(settings.bm25_stemmer),
        return_ids=return_ids,
        show_progress=False,
    )


_STEMMERS: dict[str, Any] = {}


def stemmer(language: str) -> Any:
    if language not in _STEMMERS:
        import Stemmer

        _STEMMERS[language] = Stemmer.Stemmer(language).stemWords
    return _STEMMERS[language]


def unique_sentences(passages: Sequence[Passage]) -> list[tuple[str, int, int]]:
    """Every sentence once, in passage order (overlapping windows share sentences)."""
    seen: dict[tuple[str, int, int], None] = {}
    for p in passages:
        for s in p.sentences:
            seen.setdefault((p.doc, s.start, s.end), None)
    return list(seen)


def write_passages(path: Path, passages: list[Passage]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for p in passages:
            row = asdict(p)
            row["sentences"] = [[s.start, s.end] for s in p.sentences]
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


class PassageRows(Sequence[Passage]):
    """The passages of ``passages.jsonl``, each parsed when first asked for: a question reads
    a handful of passages, and parsing all of a large corpus's (tens of thousands) would be most
    of a fresh ``qa ask``. Lines are split on ``\n`` only, the one line break JSON never leaves
    unescaped (``str.splitlines`` would also split a text at U+2028)."""

    def __init__(self, data: bytes) -> None:
        import numpy as np

        # Where each line starts and ends, not the lines themselves: the bytes are kept once.
        self._data = data
        ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == ord("\n"))
        if len(data) and data[-1:] != b"\n":
            ends = np.append(ends, len(data))
        self._ends = ends
        self._starts = np.concatenate(([0], ends[:-1] + 1)) if len(ends) else ends
        self._parsed: dict[int, Passage] = {}

    def __len__(self) -> int:
        return len(self._ends)

    @overload
    def __getitem__(self, i: int) -> Passage: ...
    @overload
    def __getitem__(self, i: slice) -> list[Passage]: ...

    def __getitem__(self, i: int | slice) -> Passage | list[Passage]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("passage row out of range")
        passage = self._parsed.get(i)
        if passage is None:
            passage = self._parsed[i] = _parse_passage(self._data[self._starts[i] : self._ends[i]])
        return passage

    def __iter__(self) -> Iterator[Passage]:
        return (self[i] for i in range(len(self)))


def _parse_passage(line: bytes) -> Passage:
    row = json.loads(line)
    row["sentences"] = tuple(Sentence(s, e) for s, e in row["sentences"])
    row["paragraphs"] = tuple(row["paragraphs"])
    row["anchor"] = tuple(row["anchor"]) if row["anchor"] else None
    row["heading"] = tuple(row.get("heading", ()))
    return Passage(**row)


def parse_passages(data: bytes) -> PassageRows:
    """The passages of ``data`` (bytes the manifest's checksum has vouched for)."""
    return PassageRows(data)


def write_bm25(path: Path, texts: list[str], settings: IndexSettings) -> None:
    import bm25s

    retriever = bm25s.BM25(method=settings.bm25_method, k1=settings.bm25_k1, b=settings.bm25_b)
    retriever.index(tokenize_for_bm25(texts, settings), show_progress=False)
    retriever.save(str(path), allow_pickle=False, show_progress=False)


def checksums(directory: Path) -> dict[str, str]:
    return {
        p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }
