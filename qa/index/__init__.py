"""The index: passages, their dense vectors (FAISS) and a BM25 index (bm25s), on disk.

Layout of an index directory (format version ``FORMAT_VERSION``)::

    manifest.json          what it was built from: corpus hash, model, settings, checksums
    passages.jsonl         one passage a line (offsets, text, location, sentence spans)
    dense.faiss            passage vectors, inner product over unit vectors (= cosine); exact
                           (IndexFlatIP) for small corpora, HNSW for large ones (see
                           ``choose_index_factory``; the manifest records which)
    text_keys.npy          a hash of each passage's embedded text (the incremental build's cache)
    vocabulary.json        the corpus's words for the name finder (``qa.names.Vocabulary``)
    lexicon.json           and for the follow-up resolver (``qa.followup.Lexicon``)
    documents.jsonl        the extracted text of every document that is not a plain text, and
                           its map back onto the file (``qa.formats.align.OffsetMap``)
    bm25/                  bm25s's own numpy + JSON files (saved and loaded without pickle)
    .qa-index              the marker that says this directory is a qa index (``qa.index.place``)

Integrity and concurrency, the contract scripts rely on:

* A build replaces only a missing path, an empty directory or a qa index, and never an index
  built from another corpus unless asked to (``qa.index.place``); it refuses anything else
  before touching the disk.
* A build writes everything into a temporary sibling directory and renames it into place, so a
  failed or killed build (even SIGKILL) leaves the previous index usable; the next build removes
  what a killed one left behind.
* Builds of one index directory are serialised by a file lock (``qa.index.lock``); a build that
  had to wait and finds the index freshly built by the other one does not redo it.
* ``load`` checks every artifact against the sha256 in the manifest before parsing it (about a
  millisecond for the article's index) and refuses a truncated or tampered one; artifacts are
  JSON, .npy (allow_pickle=False) and FAISS files, never pickle.
* A reader that looks while a build swaps directories, or finds the index damaged, settles the
  matter under the lock (``open_index``): it waits for the build, then loads, or rebuilds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from qa import _interrupt
from qa.bm25 import Bm25Scorer
from qa.chunking import Passage
from qa.corpus import Repair, corpus_fingerprint
from qa.formats.align import OffsetMap
from qa.embedding import DEFAULT_WEIGHTS, MODEL_NAME, OnnxEncoder, model_file_for
from qa.errors import IndexError_, UsageError
from qa.index.artifacts import (
    BM25_DIR,
    DENSE,
    DOCUMENTS,
    LEXICON,
    PASSAGES,
    VOCABULARY,
    IndexSettings,
    parse_documents,
    parse_passages,
    read_documents,
    tokenize_for_bm25,
    verified_artifacts,
)
from qa.index.dense import (
    EXACT_SEARCH_MAX_FLOATS,
    HNSW_EF_CONSTRUCTION,
    HNSW_EF_SEARCH,
    HNSW_M,
    DenseIndexSpec,
    build_dense_index,
    choose_index_factory,
    hnsw_spec,
    set_params,
)
from qa.index.lock import LOCK_TIMEOUT_SECONDS, build_lock
from qa.index.place import (
    MANIFEST,
    anything_to_settle,
    check_location,
    check_same_corpus,
    is_qa_index,
    restore_interrupted_swap,
)
from qa.index.writer import FORMAT_VERSION, pipeline_fingerprint, write_index
from qa.names import Vocabulary

# (stage, done, total): the library reports progress; the CLI decides how to show it.
Progress = Callable[[str, int, int], None]


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
    passages: Sequence[Passage]  # parsed as they are read (qa.index.artifacts.PassageRows)
    dense: Any  # faiss.Index
    bm25: Bm25Scorer
    encoder: OnnxEncoder
    documents: dict[str, str]  # doc id → the text the reader saw (a plain file's own), for citation checks
    vocabulary: Vocabulary  # the name finder's word tables (qa.names)
    lexicon: dict[str, list[str]]  # the follow-up resolver's (qa.followup.Lexicon.to_json)
    repairs: dict[str, tuple[Repair, ...]] = field(default_factory=dict)  # doc id → split words joined
    offsets: dict[str, OffsetMap] = field(default_factory=dict)  # doc id → what its offsets refer to


def status(
    corpus_dir: Path, index_dir: Path, settings: IndexSettings = IndexSettings(), *, verify: bool = False
) -> Status:
    """Whether the index is up to date for ``corpus_dir``; ``verify`` also re-hashes its artifacts
    (``load`` always does)."""
    try:
        manifest = read_manifest(index_dir)
    except IndexError_ as exc:  # a manifest that does not parse: damaged, not missing
        return Status(False, str(exc))
    if manifest is None:
        return Status(False, f"no index at {index_dir}")
    recorded = manifest.get("corpus", {}).get("dir")
    if recorded is not None and Path(recorded) != corpus_dir.resolve():
        return Status(False, f"built from another corpus ({recorded})")
    if manifest.get("format_version") != FORMAT_VERSION:
        return Status(False, f"index format {manifest.get('format_version')} != {FORMAT_VERSION}")
    if manifest.get("settings") != json.loads(json.dumps(settings.as_dict())):
        return Status(False, "index settings changed")
    if manifest.get("model", {}).get("name") != MODEL_NAME or manifest["model"].get("weights") != DEFAULT_WEIGHTS:
        return Status(False, "embedding model changed")
    if manifest.get("pipeline") != pipeline_fingerprint():
        return Status(False, "ingestion or chunking code changed since the index was built")
    corpus_hash, _ = corpus_fingerprint(corpus_dir)
    if manifest.get("corpus", {}).get("hash") != corpus_hash:
        return Status(False, "corpus changed since the index was built")
    model_dir = Path(manifest.get("model", {}).get("path", ""))
    if not model_file_for(model_dir, DEFAULT_WEIGHTS).exists():
        return Status(False, f"exported model missing: {model_dir}")
    if verify:
        try:
            verified_artifacts(index_dir, manifest)
        except (OSError, ValueError) as exc:
            return Status(False, f"index is damaged ({exc})")
    return Status(True, "up to date")


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    """The index's manifest, or None when there is none; IndexError_ when it is there but does
    not parse (a damaged index is not a missing one)."""
    return _parse_manifest(_manifest_bytes(index_dir), index_dir)


def _manifest_bytes(index_dir: Path) -> bytes | None:
    try:
        return (index_dir / MANIFEST).read_bytes()
    except OSError:
        return None


def _parse_manifest(raw: bytes | None, index_dir: Path) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        manifest = json.loads(raw)
    except ValueError as exc:
        raise IndexError_(f"index at {index_dir} is damaged ({MANIFEST} is not valid JSON: {exc})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("corpus", {}), dict):
        raise IndexError_(f"index at {index_dir} is damaged ({MANIFEST} is not an index manifest)")
    return manifest


def _readable_manifest(index_dir: Path) -> dict[str, Any] | None:
    try:
        return read_manifest(index_dir)
    except IndexError_:
        return None  # damaged: whose it was cannot be told, and a rebuild replaces it


def open_index(
    corpus_dir: Path,
    index_dir: Path,
    settings: IndexSettings = IndexSettings(),
    *,
    rebuild: bool = True,
    force_rebuild: bool = False,
    on_progress: Progress | None = None,
) -> Index:
    """The fresh, verified index of ``corpus_dir``: loaded as is when it is up to date and intact,
    otherwise (re)built first, unless ``rebuild`` is False (then IndexError_). ``force_rebuild``
    builds it afresh in any case, even over an index built from another corpus — which is
    otherwise refused (IndexLocationError), as is a location holding anything but a qa index.

    The common case takes no lock. Anything else — missing, stale, damaged, or replaced by a
    build while we read — is decided again under the build lock, which waits for a build in
    progress, so a reader never acts on a half-swapped index."""
    if force_rebuild and not rebuild:
        raise UsageError("--rebuild and --no-rebuild contradict each other")
    index_dir = index_dir.resolve()
    check_location(corpus_dir, index_dir)
    if not force_rebuild:
        check_same_corpus(index_dir, corpus_dir, _readable_manifest(index_dir))
        state = status(corpus_dir, index_dir, settings)
        if state.fresh:
            try:
                return load(index_dir, corpus_dir)
            except IndexError_:
                pass  # damaged, or swapped under us: settle it under the lock
        if not rebuild and not anything_to_settle(index_dir):  # nothing to wait for: lock nothing
            raise IndexError_(f"index is not usable ({state.reason}); run `qa index build`")
    with build_lock(index_dir, on_progress):
        restore_interrupted_swap(index_dir)
        if not force_rebuild:
            check_same_corpus(index_dir, corpus_dir, _readable_manifest(index_dir))
            state = status(corpus_dir, index_dir, settings)
            if state.fresh:
                try:
                    return load(index_dir, corpus_dir)
                except IndexError_:
                    if not rebuild:
                        raise
            elif not rebuild:
                raise IndexError_(f"index is not usable ({state.reason}); run `qa index build`")
        write_index(corpus_dir, index_dir, settings, None, on_progress)
        return load(index_dir, corpus_dir)


def build(
    corpus_dir: Path,
    index_dir: Path,
    settings: IndexSettings = IndexSettings(),
    model_cache: Path | None = None,
    on_progress: Progress | None = None,
    *,
    force_rebuild: bool = False,
) -> dict[str, Any]:
    """Build the index for ``corpus_dir`` into ``index_dir`` (atomically) and return its manifest.

    Refuses (IndexLocationError, before touching the disk) a location that holds anything but a
    qa index, overlaps the corpus, or holds an index built from another corpus (allowed with
    ``force_rebuild``). An index that is already fresh and intact is kept as it is (stage
    "up to date": nothing is locked or written) unless ``force_rebuild``. Otherwise the build
    lock is held throughout; if another build held it and, meanwhile, produced an index that is
    fresh and intact, that index is kept (stage "built meanwhile") instead of built again."""
    index_dir = index_dir.resolve()
    check_location(corpus_dir, index_dir)
    if not force_rebuild:
        check_same_corpus(index_dir, corpus_dir, _readable_manifest(index_dir))
    corpus_fingerprint(corpus_dir)  # a missing or unreadable corpus fails before anything is locked
    before = _manifest_bytes(index_dir)
    if not force_rebuild and (manifest := _fresh_manifest(corpus_dir, index_dir, settings)) is not None:
        if on_progress:
            on_progress("up to date", 1, 1)
        return manifest
    with build_lock(index_dir, on_progress):
        if not force_rebuild and _manifest_bytes(index_dir) != before:
            if (manifest := _fresh_manifest(corpus_dir, index_dir, settings)) is not None:
                if on_progress:
                    on_progress("built meanwhile", 1, 1)
                return manifest
        return write_index(corpus_dir, index_dir, settings, model_cache, on_progress)


def _fresh_manifest(corpus_dir: Path, index_dir: Path, settings: IndexSettings) -> dict[str, Any] | None:
    """The index's manifest if it is up to date for the corpus and every artifact is intact."""
    if not status(corpus_dir, index_dir, settings).fresh:
        return None
    manifest = _readable_manifest(index_dir)
    try:
        if manifest is not None:
            verified_artifacts(index_dir, manifest)
            return manifest
    except (OSError, ValueError):
        pass  # damaged after all: build it
    return None


def load(index_dir: Path, corpus_dir: Path | None = None) -> Index:
    """Load a built index (no freshness check; see ``status`` and ``open_index``). Every artifact
    is checked against its manifest checksum first. Document texts, for checking citations, are
    read from ``corpus_dir`` (default: the directory the index was built from)."""
    raw = _manifest_bytes(index_dir)
    manifest = _parse_manifest(raw, index_dir)
    if manifest is None:
        raise IndexError_(f"no index at {index_dir}")
    try:
        blobs = verified_artifacts(index_dir, manifest)
        index = _load_artifacts(index_dir, manifest, blobs)
        extracted = parse_documents(blobs.get(DOCUMENTS, b""))
    except Exception as exc:  # any unreadable, altered or malformed artifact means: do not use it
        _interrupt.reraise_if_received(exc)  # Ctrl-C turned into an ImportError (onnxruntime's): not damage
        raise IndexError_(
            f"index at {index_dir} is damaged ({type(exc).__name__}: {exc}); rebuild it with `qa index build`"
        ) from None
    if _manifest_bytes(index_dir) != raw:  # a build swapped directories while we read
        raise IndexError_(f"index at {index_dir} was replaced while it was being loaded; load it again")
    repairs = {
        entry["doc"]: tuple(Repair(start, end, joined) for start, end, joined in entry.get("repairs", []))
        for entry in manifest["documents"]
    }
    documents, offsets = read_documents(manifest, corpus_dir or Path(manifest["corpus"]["dir"]), extracted)
    return replace(index, documents=documents, repairs=repairs, offsets=offsets)


def _load_artifacts(index_dir: Path, manifest: dict[str, Any], blobs: dict[str, bytes]) -> Index:
    import faiss

    # Parse the very bytes that were verified.
    passages = parse_passages(blobs[PASSAGES])
    dense = faiss.deserialize_index(np.frombuffer(blobs[DENSE], dtype=np.uint8))
    set_params(dense, manifest.get("dense", {}).get("search_params", {}))
    settings = IndexSettings.from_dict(manifest["settings"])
    # Read with qa.bm25, not bm25s: importing bm25s (and so scipy) would double a cold start.
    bm25_files = {name[len(BM25_DIR) + 1 :]: data for name, data in blobs.items() if name.startswith(BM25_DIR + "/")}
    bm25 = Bm25Scorer.from_files(bm25_files, settings.bm25_stopwords, settings.bm25_stemmer)
    if dense.ntotal != len(passages) or bm25.num_docs != len(passages):
        raise ValueError("artifact sizes disagree")
    return Index(
        directory=index_dir,
        manifest=manifest,
        settings=settings,
        passages=passages,
        dense=dense,
        bm25=bm25,
        encoder=OnnxEncoder(Path(manifest["model"]["path"]), weights=manifest["model"]["weights"]),
        documents={},
        vocabulary=Vocabulary.from_json(json.loads(blobs[VOCABULARY])),
        lexicon=json.loads(blobs[LEXICON]),  # parsed by qa.conversation, off the one-shot path
    )


__all__ = [
    "BM25_DIR",
    "EXACT_SEARCH_MAX_FLOATS",
    "FORMAT_VERSION",
    "HNSW_EF_CONSTRUCTION",
    "HNSW_EF_SEARCH",
    "HNSW_M",
    "LOCK_TIMEOUT_SECONDS",
    "MANIFEST",
    "DenseIndexSpec",
    "Index",
    "IndexSettings",
    "Progress",
    "Status",
    "build",
    "build_dense_index",
    "build_lock",
    "choose_index_factory",
    "corpus_fingerprint",
    "hnsw_spec",
    "is_qa_index",
    "load",
    "open_index",
    "pipeline_fingerprint",
    "read_manifest",
    "status",
    "tokenize_for_bm25",
]
