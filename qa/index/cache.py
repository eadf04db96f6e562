"""The caches of incremental builds: the previous index's passages, by document, and its vectors,
by the hash of their text.

Passages: a document whose file and metadata are unchanged (same id, file sha256 and meta — a
sidecar ``.meta.json`` can move where the body ends) gets the passages the previous index holds for it instead of being split into sentences again (pysbd costs ~0.1 s per
20 kB), provided that index was made by the same chunking code and settings.

Every index stores ``text_keys.npy``: for each passage, in the order of its vector, the first
16 bytes of the sha256 of the text as embedded. A build reads the index it is about to replace
and reuses every vector whose text is unchanged, so changing one document re-embeds only that
document's passages.
Nothing is reused unless the previous index is intact (every checksum), of this format, and
made with the very same model; otherwise the build embeds everything, as a first build does.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from qa import _interrupt
from qa.chunking import Passage
from qa.index.artifacts import DENSE, PASSAGES, parse_passages, verified_artifacts

TEXT_KEYS = "text_keys.npy"
KEY_BYTES = 16  # 128 bits of sha256: no collision among billions of texts


def text_keys(texts: list[str]) -> np.ndarray:
    """One row of ``KEY_BYTES`` per text: its identity in the cache."""
    keys = np.zeros((len(texts), KEY_BYTES), dtype=np.uint8)
    for i, text in enumerate(texts):
        keys[i] = np.frombuffer(hashlib.sha256(text.encode("utf-8")).digest()[:KEY_BYTES], dtype=np.uint8)
    return keys


def document_key(doc: str, sha256: str, meta: dict[str, Any]) -> tuple[str, str, str]:
    """What a document's passages depend on besides the code and the settings."""
    return doc, sha256, json.dumps(meta, sort_keys=True, ensure_ascii=False)


def previous_index(index_dir: Path) -> tuple[dict[str, Any], dict[str, bytes]] | None:
    """The manifest and the verified artifacts of the index a build is about to replace, read
    once for both caches; None when there is none this format can trust (missing, damaged,
    another format): a cache miss is only slower, never wrong."""
    from qa.index.writer import FORMAT_VERSION

    try:
        manifest = json.loads((index_dir / "manifest.json").read_bytes())
        if manifest.get("format_version") != FORMAT_VERSION:
            return None
        return manifest, verified_artifacts(index_dir, manifest)
    except Exception as exc:  # noqa: BLE001 — anything unreadable: build afresh
        _interrupt.reraise_if_received(exc)  # a Ctrl-C in disguise is not bad data
        return None


def passage_cache(
    previous: tuple[dict[str, Any], dict[str, bytes]] | None, pipeline: str, settings: dict[str, Any]
) -> dict[tuple[str, str, str], list[Passage]]:
    """The previous index's passages by ``document_key``, or {} when it was chunked by other
    code or settings."""
    if previous is None:
        return {}
    manifest, blobs = previous
    if (manifest.get("pipeline"), manifest.get("settings")) != (pipeline, settings):
        return {}
    try:
        by_doc: dict[str, list[Passage]] = {}
        for passage in parse_passages(blobs[PASSAGES]):
            by_doc.setdefault(passage.doc, []).append(passage)
        return {document_key(d["doc"], d["sha256"], d["meta"]): by_doc.get(d["doc"], []) for d in manifest["documents"]}
    except Exception as exc:  # noqa: BLE001 — anything malformed: chunk afresh
        _interrupt.reraise_if_received(exc)  # a Ctrl-C in disguise is not bad data
        return {}


def vector_cache(previous: tuple[dict[str, Any], dict[str, bytes]] | None, model: dict[str, Any]) -> dict[bytes, np.ndarray]:
    """The previous index's vectors by text key, or {} when they were made with another model."""
    if previous is None:
        return {}
    manifest, blobs = previous
    if manifest.get("model") != model:
        return {}
    try:
        keys = np.load(io.BytesIO(blobs[TEXT_KEYS]), allow_pickle=False)
        vectors = _dense_vectors(blobs[DENSE])
    except Exception as exc:  # noqa: BLE001 — anything unreadable: embed afresh
        _interrupt.reraise_if_received(exc)  # a Ctrl-C in disguise is not bad data
        return {}
    if keys.shape != (len(vectors), KEY_BYTES) or vectors.dtype != np.float32:
        return {}
    return {key.tobytes(): vector for key, vector in zip(keys, vectors)}


def _dense_vectors(blob: bytes) -> np.ndarray:
    """The passage vectors stored in a FAISS file (flat storage, also under HNSW's graph)."""
    import faiss

    index = faiss.deserialize_index(np.frombuffer(blob, dtype=np.uint8))
    if index.ntotal == 0:
        return np.zeros((0, index.d), dtype=np.float32)
    return np.asarray(index.reconstruct_n(0, index.ntotal), dtype=np.float32)
