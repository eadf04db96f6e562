"""Writing an index: read the corpus, chunk, embed, write every artifact into a private sibling
directory, checksum them, write the manifest last and swap the directory into place."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from qa.chunking import Passage, chunk_document
from qa.corpus import corpus_fingerprint, read_corpus
from qa.embedding import OnnxEncoder, available_cores, ensure_onnx_model
from qa.errors import IndexError_
from qa.files import current_umask, os_reason
from qa.followup.words import Lexicon
from qa.names import Vocabulary
from qa.index.artifacts import (
    BM25_DIR,
    DENSE,
    DOCUMENTS,
    LEXICON,
    PASSAGES,
    VOCABULARY,
    IndexSettings,
    checksums,
    unique_sentences,
    write_bm25,
    write_documents,
    write_passages,
)
from qa.index.cache import TEXT_KEYS, document_key, passage_cache, previous_index, text_keys, vector_cache
from qa.index.dense import build_dense_index, write
from qa.index.place import MANIFEST, new_build_dir, remove_leftovers, swap_into_place

FORMAT_VERSION = 5  # 2: the manifest records the dense index type; 3: documents.jsonl, formats;
# 4: text_keys.npy (the vector cache); 5: no sentence vectors (retrieval embeds passages only),
# vocabulary.json and lexicon.json (the name finder's and the follow-up resolver's word tables,
# made here rather than on every load)


def pipeline_fingerprint() -> str:
    """A hash of the code that turns the corpus into passages: changing it invalidates indexes."""
    from qa import chunking, corpus, formats, names
    from qa.followup import words

    digest = hashlib.sha256()
    for module in (corpus, chunking, names, words):  # names, words: the tables stored in the index
        digest.update(Path(str(module.__file__)).read_bytes())
    for reader in sorted(Path(str(formats.__file__)).parent.glob("*.py")):  # the format readers
        digest.update(reader.read_bytes())
    return digest.hexdigest()[:16]


def write_index(
    corpus_dir: Path,
    index_dir: Path,
    settings: IndexSettings,
    model_cache: Path | None,
    on_progress: Callable[[str, int, int], None] | None,
) -> dict[str, Any]:
    """Build the index of ``corpus_dir`` into a marked sibling directory and swap it in for
    ``index_dir``; return its manifest. Call with the build lock held, after ``check_location``."""
    report = on_progress or (lambda stage, done, total: None)
    started = time.perf_counter()
    corpus_hash, files = corpus_fingerprint(corpus_dir)

    report("reading corpus", 0, 1)
    documents, skipped = read_corpus(corpus_dir)
    index_dir = index_dir.resolve()
    previous = previous_index(index_dir)  # read once, for the passage and the vector caches
    chunked = passage_cache(previous, pipeline_fingerprint(), settings.as_dict())
    passages: list[Passage] = []
    rechunked = 0
    for document in documents:
        reused = chunked.get(document_key(document.doc_id, document.sha256, document.meta))
        if not reused:
            reused, rechunked = chunk_document(document, settings.chunking), rechunked + 1
        passages += reused
    report("reading corpus", 1, 1)

    remove_leftovers(index_dir)
    try:
        work = new_build_dir(index_dir, current_umask())
    except OSError as exc:
        raise IndexError_(f"cannot write the index at {index_dir}: {os_reason(exc)}") from None
    try:
        write_passages(work / PASSAGES, passages)
        write_documents(work / DOCUMENTS, documents)

        report("preparing model", 0, 1)
        model_dir = ensure_onnx_model(model_cache)
        encoder = OnnxEncoder(model_dir, workers=available_cores())
        report("preparing model", 1, 1)

        sentences = unique_sentences(passages)
        # Search sees the repaired text ("Kaganovich", not the scan's "Kagano-vich"); citations
        # still quote the original, by offsets.
        by_id = {d.doc_id: d for d in documents}
        passage_texts = [by_id[p.doc].search_text(p.start, p.end) for p in passages]
        # Only passages are embedded: retrieval searches passages, and the trained reader reads
        # them. The rule reader embeds the few sentences it ranks when it asks (qa.rules).
        model_entry = {**encoder.info.as_dict(), "path": str(model_dir), "backend": "onnxruntime", "weights": encoder.weights}
        keys = text_keys(passage_texts)
        cache, previous = vector_cache(previous, model_entry), None  # the old index's bytes are not kept
        passage_vectors, stats = _embed(encoder, passage_texts, keys, cache, report)

        report("writing index", 0, 1)
        dense, dense_spec = build_dense_index(passage_vectors)
        write(dense, work / DENSE)
        np.save(work / TEXT_KEYS, keys, allow_pickle=False)
        write_bm25(work / BM25_DIR, passage_texts, settings)
        vocabulary = Vocabulary.of_texts(d.search_text(0, len(d.text)) for d in documents)
        (work / VOCABULARY).write_text(json.dumps(vocabulary.to_json(), ensure_ascii=False), encoding="utf-8")
        # The follow-up resolver's tables, from the passages as retrieval returns them.
        lexicon = Lexicon.from_texts(p.text for p in passages)
        (work / LEXICON).write_text(json.dumps(lexicon.to_json(), ensure_ascii=False), encoding="utf-8")
        manifest = {
            "format_version": FORMAT_VERSION,
            "pipeline": pipeline_fingerprint(),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "build_seconds": round(time.perf_counter() - started, 3),
            # How many texts were embedded and how many vectors the previous index gave: the only
            # field besides the two above in which an incremental build differs from a full one.
            "build_stats": {**stats, "chunked_documents": rechunked},
            "corpus": {"dir": str(corpus_dir.resolve()), "hash": corpus_hash, "files": files},
            "documents": [
                {
                    "doc": d.doc_id,
                    "file": d.path.relative_to(corpus_dir).as_posix(),  # relative: the repo may move
                    "sha256": d.sha256,
                    "chars": len(d.text),
                    "format": d.format,
                    "offsets": d.offsets.refers_to,  # what passage offsets refer to
                    "meta": d.meta,
                    "repairs": [[r.start, r.end, r.joined] for r in d.repairs],
                }
                for d in documents
            ],
            "model": model_entry,
            "settings": settings.as_dict(),
            "dense": {**dense_spec.as_dict(), "vectors": len(passage_vectors)},
            "counts": {"documents": len(documents), "passages": len(passages), "sentences": len(sentences)},
            "skipped": [{"file": item.file, "reason": item.reason} for item in skipped],
            "artifacts": checksums(work),
        }
        # The manifest is written last: a directory without one is never taken for an index.
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        swap_into_place(work, index_dir)
    except OSError as exc:
        raise IndexError_(f"cannot write the index at {index_dir}: {os_reason(exc)}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report("writing index", 1, 1)
    return manifest


def _embed(
    encoder: OnnxEncoder, texts: list[str], keys: np.ndarray, cache: dict[bytes, np.ndarray],
    report: Callable[[str, int, int], None],
) -> tuple[np.ndarray, dict[str, int]]:
    """Every text's vector: from ``cache`` (the previous index's, by text hash) when it is there,
    else embedded — each distinct text once. The encoder gives a text the same bits whatever
    else is embedded with it, so reused and fresh vectors are interchangeable."""
    vectors = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    todo: dict[bytes, list[int]] = {}
    reused = 0
    for i, key in enumerate(keys):
        cached = cache.get(key.tobytes())
        if cached is not None:
            vectors[i] = cached
            reused += 1
        else:
            todo.setdefault(key.tobytes(), []).append(i)
    firsts = [rows[0] for rows in todo.values()]
    done = 0

    def batch_done(n: int) -> None:
        nonlocal done
        done += n
        report("embedding", done, len(firsts))

    report("embedding", 0, len(firsts))
    fresh = encoder.encode([texts[i] for i in firsts], on_batch=batch_done) if firsts else vectors[:0]
    for vector, rows in zip(fresh, todo.values()):
        vectors[rows] = vector
    return vectors, {"texts": len(texts), "embedded": len(firsts), "reused": reused}
