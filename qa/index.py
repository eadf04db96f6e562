"""The index: passages, their dense vectors (FAISS) and a BM25 index (bm25s), on disk.

Layout of an index directory (format version ``FORMAT_VERSION``)::

    manifest.json          what it was built from: corpus hash, model, settings, checksums
    passages.jsonl         one passage a line (offsets, text, location, sentence spans)
    dense.faiss            passage vectors, inner product over unit vectors (= cosine)
    sentence_vectors.npy   one vector per sentence, in passages.jsonl's sentence order
    bm25/                  bm25s's own numpy + JSON files (saved and loaded without pickle)

A build writes everything into a temporary sibling directory and renames it into place, so a
reader never sees a half-written index and a failed build leaves the previous one usable.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from qa.chunking import ChunkSettings, Passage, Sentence, chunk_corpus
from qa.corpus import Repair, corpus_fingerprint, load_corpus
from qa.embedding import MODEL_NAME, OnnxEncoder, ensure_onnx_model
from qa.errors import IndexError_

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PASSAGES = "passages.jsonl"
DENSE = "dense.faiss"
SENTENCE_VECTORS = "sentence_vectors.npy"
BM25_DIR = "bm25"

# (stage, done, total): the library reports progress; the CLI decides how to show it.
Progress = Callable[[str, int, int], None]


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


@dataclass(frozen=True)
class Status:
    fresh: bool
    reason: str  # why it is stale or missing; "up to date" otherwise


@dataclass
class Index:
    """A loaded index: everything retrieval and answering need, read-only."""

    directory: Path
    manifest: dict[str, Any]
    settings: IndexSettings
    passages: list[Passage]
    dense: Any  # faiss.Index
    bm25: Any  # bm25s.BM25
    sentence_vectors: np.ndarray
    sentence_rows: dict[tuple[str, int, int], int]  # (doc, start, end) → row in sentence_vectors
    encoder: OnnxEncoder
    documents: dict[str, str]  # doc id → the corpus file's full text, for citation checks
    repairs: dict[str, tuple[Repair, ...]] = field(default_factory=dict)  # doc id → split words joined


def status(corpus_dir: Path, index_dir: Path, settings: IndexSettings = IndexSettings()) -> Status:
    manifest = read_manifest(index_dir)
    if manifest is None:
        return Status(False, f"no index at {index_dir}")
    if manifest.get("format_version") != FORMAT_VERSION:
        return Status(False, f"index format {manifest.get('format_version')} != {FORMAT_VERSION}")
    if manifest.get("settings") != json.loads(json.dumps(settings.as_dict())):
        return Status(False, "index settings changed")
    if manifest.get("model", {}).get("name") != MODEL_NAME:
        return Status(False, "embedding model changed")
    if manifest.get("pipeline") != pipeline_fingerprint():
        return Status(False, "ingestion or chunking code changed since the index was built")
    corpus_hash, _ = corpus_fingerprint(corpus_dir)
    if manifest.get("corpus", {}).get("hash") != corpus_hash:
        return Status(False, "corpus changed since the index was built")
    model_dir = Path(manifest.get("model", {}).get("path", ""))
    if not (model_dir / "onnx" / "model.onnx").exists():
        return Status(False, f"exported model missing: {model_dir}")
    return Status(True, "up to date")


def pipeline_fingerprint() -> str:
    """A hash of the code that turns the corpus into passages: changing it invalidates indexes."""
    from qa import chunking, corpus

    digest = hashlib.sha256()
    for module in (corpus, chunking):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()[:16]


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    try:
        manifest = json.loads((index_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def build(
    corpus_dir: Path,
    index_dir: Path,
    settings: IndexSettings = IndexSettings(),
    model_cache: Path | None = None,
    on_progress: Progress | None = None,
) -> dict[str, Any]:
    """Build the index for ``corpus_dir`` into ``index_dir`` (atomically) and return its manifest."""
    report = on_progress or (lambda stage, done, total: None)
    started = time.perf_counter()
    corpus_hash, files = corpus_fingerprint(corpus_dir)

    report("reading corpus", 0, 1)
    documents = load_corpus(corpus_dir)
    passages = chunk_corpus(documents, settings.chunking)
    report("reading corpus", 1, 1)

    report("preparing model", 0, 1)
    model_dir = ensure_onnx_model(model_cache)
    encoder = OnnxEncoder(model_dir)
    report("preparing model", 1, 1)

    sentences = _unique_sentences(passages)
    # Search sees the repaired text ("Kaganovich", not the scan's "Kagano-vich"); citations
    # still quote the original, by offsets.
    by_id = {d.doc_id: d for d in documents}
    passage_texts = [by_id[p.doc].search_text(p.start, p.end) for p in passages]
    texts = passage_texts + [by_id[doc].search_text(start, end) for doc, start, end in sentences]
    done = 0

    def batch_done(n: int) -> None:
        nonlocal done
        done += n
        report("embedding", done, len(texts))

    report("embedding", 0, len(texts))
    vectors = encoder.encode(texts, on_batch=batch_done)
    passage_vectors, sentence_vectors = vectors[: len(passages)], vectors[len(passages) :]

    report("writing index", 0, 1)
    index_dir = index_dir.resolve()
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{index_dir.name}.build-", dir=index_dir.parent))
    work.chmod(0o755)  # mkdtemp makes it private; the index is ordinary shared data
    try:
        _write_passages(work / PASSAGES, passages)
        _write_dense(work / DENSE, passage_vectors)
        np.save(work / SENTENCE_VECTORS, sentence_vectors, allow_pickle=False)
        _write_bm25(work / BM25_DIR, passage_texts, settings)
        manifest = {
            "format_version": FORMAT_VERSION,
            "pipeline": pipeline_fingerprint(),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "build_seconds": round(time.perf_counter() - started, 3),
            "corpus": {"dir": str(corpus_dir.resolve()), "hash": corpus_hash, "files": files},
            "documents": [
                {
                    "doc": d.doc_id,
                    "file": d.path.relative_to(corpus_dir).as_posix(),  # relative: the repo may move
                    "sha256": d.sha256,
                    "chars": len(d.text),
                    "meta": d.meta,
                    "repairs": [[r.start, r.end, r.joined] for r in d.repairs],
                }
                for d in documents
            ],
            "model": {**encoder.info.as_dict(), "path": str(model_dir), "backend": "onnxruntime"},
            "settings": settings.as_dict(),
            "counts": {"documents": len(documents), "passages": len(passages), "sentences": len(sentences)},
            "artifacts": _checksums(work),
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        _swap_into_place(work, index_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report("writing index", 1, 1)
    return manifest


def load(index_dir: Path, corpus_dir: Path | None = None) -> Index:
    """Load a built index (no freshness check; see ``status``). Document texts, for checking
    citations, are read from ``corpus_dir`` (default: the directory the index was built from)."""
    manifest = read_manifest(index_dir)
    if manifest is None:
        raise IndexError_(f"no index at {index_dir}")
    try:
        index = _load_artifacts(index_dir, manifest)
    except Exception as exc:  # any unreadable or malformed artifact means: do not use it
        raise IndexError_(
            f"index at {index_dir} is damaged ({type(exc).__name__}: {exc}); rebuild it with `qa index build`"
        ) from None
    repairs = {
        entry["doc"]: tuple(Repair(start, end, joined) for start, end, joined in entry.get("repairs", []))
        for entry in manifest["documents"]
    }
    documents = _read_documents(manifest, corpus_dir or Path(manifest["corpus"]["dir"]))
    return replace(index, documents=documents, repairs=repairs)


def _load_artifacts(index_dir: Path, manifest: dict[str, Any]) -> Index:
    import bm25s
    import faiss

    passages = _read_passages(index_dir / PASSAGES)
    dense = faiss.read_index(str(index_dir / DENSE))
    sentence_vectors = np.load(index_dir / SENTENCE_VECTORS, allow_pickle=False)
    rows = {key: i for i, key in enumerate(_unique_sentences(passages))}
    if dense.ntotal != len(passages) or len(rows) != len(sentence_vectors):
        raise ValueError("artifact sizes disagree")
    return Index(
        directory=index_dir,
        manifest=manifest,
        settings=IndexSettings.from_dict(manifest["settings"]),
        passages=passages,
        dense=dense,
        bm25=bm25s.BM25.load(str(index_dir / BM25_DIR), allow_pickle=False),
        sentence_vectors=sentence_vectors,
        sentence_rows=rows,
        encoder=OnnxEncoder(Path(manifest["model"]["path"])),
        documents={},
    )


def _read_documents(manifest: dict[str, Any], corpus: Path) -> dict[str, str]:
    """The corpus files' texts, checked against the hashes the index was built from."""
    documents: dict[str, str] = {}
    for entry in manifest["documents"]:
        path = corpus / entry["file"]
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise IndexError_(f"cannot read {path} ({exc.strerror or exc}); is --corpus right?") from None
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise IndexError_(f"{path} changed since the index was built; rebuild it")
        documents[entry["doc"]] = data.decode("utf-8")
    return documents


def tokenize_for_bm25(texts: list[str], settings: IndexSettings, return_ids: bool = True) -> Any:
    import bm25s

    return bm25s.tokenize(
        texts,
        stopwords=settings.bm25_stopwords,
        stemmer=_stemmer(settings.bm25_stemmer),
        return_ids=return_ids,
        show_progress=False,
    )


_STEMMERS: dict[str, Any] = {}


def _stemmer(language: str) -> Any:
    if language not in _STEMMERS:
        import Stemmer

        _STEMMERS[language] = Stemmer.Stemmer(language).stemWords
    return _STEMMERS[language]


def _unique_sentences(passages: list[Passage]) -> list[tuple[str, int, int]]:
    """Every sentence once, in passage order (overlapping windows share sentences)."""
    seen: dict[tuple[str, int, int], None] = {}
    for p in passages:
        for s in p.sentences:
            seen.setdefault((p.doc, s.start, s.end), None)
    return list(seen)


def _write_passages(path: Path, passages: list[Passage]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for p in passages:
            row = asdict(p)
            row["sentences"] = [[s.start, s.end] for s in p.sentences]
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_passages(path: Path) -> list[Passage]:
    passages = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            row["sentences"] = tuple(Sentence(s, e) for s, e in row["sentences"])
            row["paragraphs"] = tuple(row["paragraphs"])
            row["anchor"] = tuple(row["anchor"]) if row["anchor"] else None
            passages.append(Passage(**row))
    return passages


def _write_dense(path: Path, vectors: np.ndarray) -> None:
    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    faiss.write_index(index, str(path))


def _write_bm25(path: Path, texts: list[str], settings: IndexSettings) -> None:
    import bm25s

    retriever = bm25s.BM25(method=settings.bm25_method, k1=settings.bm25_k1, b=settings.bm25_b)
    retriever.index(tokenize_for_bm25(texts, settings), show_progress=False)
    retriever.save(str(path), allow_pickle=False, show_progress=False)


def _checksums(directory: Path) -> dict[str, str]:
    return {
        p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def _swap_into_place(new: Path, target: Path) -> None:
    """Replace ``target`` by ``new`` with renames only; the old index is removed last."""
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.rmdir(old)
        os.replace(target, old)
    os.replace(new, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
