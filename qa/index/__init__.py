"""The index: passages, their dense vectors (FAISS) and a BM25 index (bm25s), on disk.

Layout of an index directory (format version ``FORMAT_VERSION``)::

    manifest.json          what it was built from: corpus hash, model, settings, checksums
    passages.jsonl         one passage a line (offsets, text, location, sentence spans)
    dense.faiss            passage vectors, inner product over unit vectors (= cosine); exact
                           (IndexFlatIP) for small corpora, HNSW for large ones (see
                           ``choose_index_factory``; the manifest records which)
    sentence_vectors.npy   one vector per sentence, in passages.jsonl's sentence order
    bm25/                  bm25s's own numpy + JSON files (saved and loaded without pickle)

Integrity and concurrency, the contract scripts rely on:

* A build writes everything into a temporary sibling directory and renames it into place, so a
  failed or killed build (even SIGKILL) leaves the previous index usable; the next build removes
  what a killed one left behind.
* Builds of one index directory are serialised by a file lock (``.<name>.lock`` next to it); a
  build that had to wait and finds the index freshly built by the other one does not redo it.
* ``load`` checks every artifact against the sha256 in the manifest before parsing it (about a
  millisecond for the article's index) and refuses a truncated or tampered one; artifacts are
  JSON, .npy (allow_pickle=False) and FAISS files, never pickle.
* A reader that looks while a build swaps directories, or finds the index damaged, settles the
  matter under the lock (``open_index``): it waits for the build, then loads, or rebuilds.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from qa.bm25 import Bm25Scorer
from qa.chunking import ChunkSettings, Passage, Sentence, chunk_corpus
from qa.corpus import Repair, corpus_fingerprint, load_corpus
from qa.embedding import MODEL_NAME, OnnxEncoder, ensure_onnx_model
from qa.errors import IndexError_

FORMAT_VERSION = 2  # 2: the manifest records the dense index type
# How long a build waits for another build of the same index before giving up.
LOCK_TIMEOUT_SECONDS = 15 * 60
MANIFEST = "manifest.json"
PASSAGES = "passages.jsonl"
DENSE = "dense.faiss"
SENTENCE_VECTORS = "sentence_vectors.npy"
BM25_DIR = "bm25"

# (stage, done, total): the library reports progress; the CLI decides how to show it.
Progress = Callable[[str, int, int], None]

# Exact search while a brute-force scan stays cheap: 100k × 384 floats is ~12 ms a query on
# one core (bench/run.py measures it). Above that, HNSW: well under 1 ms a query at 1M with
# recall@10 ≈ 0.98 (measured ditto), for a longer build and ~20% more memory.
EXACT_SEARCH_MAX_FLOATS = 100_000 * 384
HNSW_M = 32  # graph degree: more = better recall, more memory
HNSW_EF_CONSTRUCTION = 80  # build-time beam width: more = better graph, slower build
HNSW_EF_SEARCH = 96  # query-time beam width: more = better recall, slower queries


@dataclass(frozen=True)
class DenseIndexSpec:
    """Which FAISS index to build (``faiss.index_factory`` string) and how to search it."""

    factory: str  # e.g. "Flat" or "HNSW32,Flat"
    build_params: dict[str, int] = field(default_factory=dict)  # set before adding vectors
    search_params: dict[str, int] = field(default_factory=dict)  # set after every load

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def choose_index_factory(n_vectors: int, dim: int) -> DenseIndexSpec:
    """Exact inner-product search for small collections, HNSW above ``EXACT_SEARCH_MAX_FLOATS``."""
    if n_vectors < 0 or dim < 1:
        raise ValueError(f"bad collection size {n_vectors} × {dim}")
    return DenseIndexSpec("Flat") if n_vectors * dim <= EXACT_SEARCH_MAX_FLOATS else hnsw_spec()


def hnsw_spec() -> DenseIndexSpec:
    """The approximate index used above the exact-search limit."""
    return DenseIndexSpec(
        f"HNSW{HNSW_M},Flat",
        build_params={"efConstruction": HNSW_EF_CONSTRUCTION},
        search_params={"efSearch": HNSW_EF_SEARCH},
    )


def build_dense_index(vectors: np.ndarray, spec: DenseIndexSpec | None = None) -> tuple[Any, DenseIndexSpec]:
    """A FAISS inner-product index over ``vectors`` (unit rows, so scores are cosines)."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    spec = spec or choose_index_factory(*vectors.shape)
    index = faiss.index_factory(vectors.shape[1], spec.factory, faiss.METRIC_INNER_PRODUCT)
    _set_params(index, spec.build_params)
    if not index.is_trained:  # IVF-style specs learn their coarse quantiser first
        index.train(vectors)
    index.add(vectors)
    _set_params(index, spec.search_params)
    return index, spec


def _set_params(index: Any, params: dict[str, int]) -> None:
    import faiss

    space = faiss.ParameterSpace()
    for name, value in params.items():
        if name == "efConstruction":  # not a ParameterSpace knob: set on the graph directly
            faiss.downcast_index(index).hnsw.efConstruction = int(value)
        else:
            space.set_index_parameter(index, name, value)


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
    bm25: Bm25Scorer
    sentence_vectors: np.ndarray
    sentence_rows: dict[tuple[str, int, int], int]  # (doc, start, end) → row in sentence_vectors
    encoder: OnnxEncoder
    documents: dict[str, str]  # doc id → the corpus file's full text, for citation checks
    repairs: dict[str, tuple[Repair, ...]] = field(default_factory=dict)  # doc id → split words joined


def status(
    corpus_dir: Path, index_dir: Path, settings: IndexSettings = IndexSettings(), *, verify: bool = False
) -> Status:
    """Whether the index is up to date for ``corpus_dir``; ``verify`` also re-hashes its artifacts
    (``load`` always does)."""
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
    if verify:
        try:
            _verified_artifacts(index_dir, manifest)
        except (OSError, ValueError) as exc:
            return Status(False, f"index is damaged ({exc})")
    return Status(True, "up to date")


def pipeline_fingerprint() -> str:
    """A hash of the code that turns the corpus into passages: changing it invalidates indexes."""
    from qa import chunking, corpus

    digest = hashlib.sha256()
    for module in (corpus, chunking):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()[:16]


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    return _parse_manifest(_manifest_bytes(index_dir))


def _manifest_bytes(index_dir: Path) -> bytes | None:
    try:
        return (index_dir / MANIFEST).read_bytes()
    except OSError:
        return None


def _parse_manifest(raw: bytes | None) -> dict[str, Any] | None:
    try:
        manifest = json.loads(raw) if raw is not None else None
    except ValueError:
        return None
    return manifest if isinstance(manifest, dict) else None


@contextmanager
def build_lock(index_dir: Path, on_progress: Progress | None = None) -> Iterator[None]:
    """Hold the lock that serialises builds of ``index_dir`` (and lets readers wait for one).

    An flock on ``.<name>.lock`` beside the index: the kernel drops it when its holder dies, so a
    killed build never leaves a stale lock behind."""
    from filelock import FileLock, Timeout

    index_dir = index_dir.resolve()
    try:
        index_dir.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(index_dir.parent / f".{index_dir.name}.lock"))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            if on_progress:
                on_progress("waiting for another build", 0, 1)
            try:
                lock.acquire(timeout=LOCK_TIMEOUT_SECONDS)
            except Timeout:
                raise IndexError_(
                    f"another build of {index_dir} has held its lock for over {LOCK_TIMEOUT_SECONDS // 60} minutes"
                ) from None
            if on_progress:
                on_progress("waiting for another build", 1, 1)
    except OSError as exc:
        raise IndexError_(f"cannot lock the index at {index_dir}: {exc.strerror or exc}") from None
    try:
        yield
    finally:
        lock.release()


def open_index(
    corpus_dir: Path,
    index_dir: Path,
    settings: IndexSettings = IndexSettings(),
    *,
    rebuild: bool = True,
    on_progress: Progress | None = None,
) -> Index:
    """The fresh, verified index of ``corpus_dir``: loaded as is when it is up to date and intact,
    otherwise (re)built first, unless ``rebuild`` is False (then IndexError_).

    The common case takes no lock. Anything else — missing, stale, damaged, or replaced by a
    build while we read — is decided again under the build lock, which waits for a build in
    progress, so a reader never acts on a half-swapped index."""
    if status(corpus_dir, index_dir, settings).fresh:
        try:
            return load(index_dir, corpus_dir)
        except IndexError_:
            pass  # damaged, or swapped under us: settle it under the lock
    with build_lock(index_dir, on_progress):
        _restore_interrupted_swap(index_dir.resolve())
        state = status(corpus_dir, index_dir, settings)
        if state.fresh:
            try:
                return load(index_dir, corpus_dir)
            except IndexError_:
                if not rebuild:
                    raise
        elif not rebuild:
            raise IndexError_(f"index is not usable ({state.reason}); run `qa index build`")
        _build_locked(corpus_dir, index_dir, settings, None, on_progress)
        return load(index_dir, corpus_dir)


def build(
    corpus_dir: Path,
    index_dir: Path,
    settings: IndexSettings = IndexSettings(),
    model_cache: Path | None = None,
    on_progress: Progress | None = None,
) -> dict[str, Any]:
    """Build the index for ``corpus_dir`` into ``index_dir`` (atomically) and return its manifest.

    Holds the build lock throughout. If another build held it and, meanwhile, produced an index
    that is fresh and intact, that index is kept (stage "up to date") instead of built again."""
    before = _manifest_bytes(index_dir)
    with build_lock(index_dir, on_progress):
        if _manifest_bytes(index_dir) != before and status(corpus_dir, index_dir, settings).fresh:
            manifest = read_manifest(index_dir)
            try:
                if manifest is not None:
                    _verified_artifacts(index_dir, manifest)
                    if on_progress:
                        on_progress("up to date", 1, 1)
                    return manifest
            except (OSError, ValueError):
                pass  # damaged after all: build it
        return _build_locked(corpus_dir, index_dir, settings, model_cache, on_progress)


def _build_locked(
    corpus_dir: Path,
    index_dir: Path,
    settings: IndexSettings,
    model_cache: Path | None,
    on_progress: Progress | None,
) -> dict[str, Any]:
    report = on_progress or (lambda stage, done, total: None)
    started = time.perf_counter()
    corpus_hash, files = corpus_fingerprint(corpus_dir)

    report("reading corpus", 0, 1)
    documents = load_corpus(corpus_dir)
    passages = chunk_corpus(documents, settings.chunking)
    report("reading corpus", 1, 1)

    index_dir = index_dir.resolve()
    _remove_leftovers(index_dir)
    try:
        work = Path(tempfile.mkdtemp(prefix=f".{index_dir.name}.build-", dir=index_dir.parent))
        work.chmod(0o755)  # mkdtemp makes it private; the index is ordinary shared data
    except OSError as exc:
        raise IndexError_(f"cannot write the index at {index_dir}: {exc.strerror or exc}") from None
    try:
        _write_passages(work / PASSAGES, passages)

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
        dense_spec = _write_dense(work / DENSE, passage_vectors)
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
            "dense": {**dense_spec.as_dict(), "vectors": len(passage_vectors)},
            "counts": {"documents": len(documents), "passages": len(passages), "sentences": len(sentences)},
            "artifacts": _checksums(work),
        }
        # The manifest is written last: a directory without one is never taken for an index.
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        _swap_into_place(work, index_dir)
    except OSError as exc:
        raise IndexError_(f"cannot write the index at {index_dir}: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report("writing index", 1, 1)
    return manifest


def load(index_dir: Path, corpus_dir: Path | None = None) -> Index:
    """Load a built index (no freshness check; see ``status`` and ``open_index``). Every artifact
    is checked against its manifest checksum first. Document texts, for checking citations, are
    read from ``corpus_dir`` (default: the directory the index was built from)."""
    raw = _manifest_bytes(index_dir)
    manifest = _parse_manifest(raw)
    if manifest is None:
        raise IndexError_(f"no index at {index_dir}")
    try:
        index = _load_artifacts(index_dir, manifest, _verified_artifacts(index_dir, manifest))
    except Exception as exc:  # any unreadable, altered or malformed artifact means: do not use it
        raise IndexError_(
            f"index at {index_dir} is damaged ({type(exc).__name__}: {exc}); rebuild it with `qa index build`"
        ) from None
    if _manifest_bytes(index_dir) != raw:  # a build swapped directories while we read
        raise IndexError_(f"index at {index_dir} was replaced while it was being loaded; load it again")
    repairs = {
        entry["doc"]: tuple(Repair(start, end, joined) for start, end, joined in entry.get("repairs", []))
        for entry in manifest["documents"]
    }
    documents = _read_documents(manifest, corpus_dir or Path(manifest["corpus"]["dir"]))
    return replace(index, documents=documents, repairs=repairs)


def _verified_artifacts(index_dir: Path, manifest: dict[str, Any]) -> dict[str, bytes]:
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


def _load_artifacts(index_dir: Path, manifest: dict[str, Any], blobs: dict[str, bytes]) -> Index:
    import io

    import faiss

    # Parse the very bytes that were verified.
    passages = _parse_passages(blobs[PASSAGES])
    dense = faiss.deserialize_index(np.frombuffer(blobs[DENSE], dtype=np.uint8))
    _set_params(dense, manifest.get("dense", {}).get("search_params", {}))
    sentence_vectors = np.load(io.BytesIO(blobs[SENTENCE_VECTORS]), allow_pickle=False)
    rows = {key: i for i, key in enumerate(_unique_sentences(passages))}
    settings = IndexSettings.from_dict(manifest["settings"])
    # Read with qa.bm25, not bm25s: importing bm25s (and so scipy) would double a cold start.
    bm25_files = {name[len(BM25_DIR) + 1 :]: data for name, data in blobs.items() if name.startswith(BM25_DIR + "/")}
    bm25 = Bm25Scorer.from_files(bm25_files, settings.bm25_stopwords, settings.bm25_stemmer)
    if dense.ntotal != len(passages) or len(rows) != len(sentence_vectors) or bm25.num_docs != len(passages):
        raise ValueError("artifact sizes disagree")
    return Index(
        directory=index_dir,
        manifest=manifest,
        settings=settings,
        passages=passages,
        dense=dense,
        bm25=bm25,
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


def _parse_passages(data: bytes) -> list[Passage]:
    passages = []
    for line in data.decode("utf-8").splitlines():
        row = json.loads(line)
        row["sentences"] = tuple(Sentence(s, e) for s, e in row["sentences"])
        row["paragraphs"] = tuple(row["paragraphs"])
        row["anchor"] = tuple(row["anchor"]) if row["anchor"] else None
        passages.append(Passage(**row))
    return passages


def _write_dense(path: Path, vectors: np.ndarray) -> DenseIndexSpec:
    import faiss

    index, spec = build_dense_index(vectors)
    faiss.write_index(index, str(path))
    return spec


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


def _remove_leftovers(index_dir: Path) -> None:
    """Delete what killed builds left beside ``index_dir`` (call with the build lock held)."""
    _restore_interrupted_swap(index_dir)
    for kind in ("build", "old"):
        for leftover in index_dir.parent.glob(f".{index_dir.name}.{kind}-*"):
            shutil.rmtree(leftover, ignore_errors=True)


def _restore_interrupted_swap(index_dir: Path) -> None:
    """A build killed between its two renames leaves no index but the previous one moved aside:
    put it back (call with the build lock held)."""
    if index_dir.exists():
        return
    previous = [p for p in index_dir.parent.glob(f".{index_dir.name}.old-*") if (p / MANIFEST).is_file()]
    if previous:
        os.replace(max(previous, key=lambda p: p.stat().st_mtime), index_dir)


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
