"""The vector cache of incremental builds: the previous index's vectors, by the hash of their text.

Every index stores ``text_keys.npy``: for each embedded text — the passages, then the
sentences, in the order of their vectors — the first 16 bytes of the sha256 of the text as
embedded. A build reads the index it is about to replace and reuses every vector whose text is
unchanged, so changing one document re-embeds only that document's passages and sentences.
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

from qa.index.artifacts import DENSE, SENTENCE_VECTORS, verified_artifacts

TEXT_KEYS = "text_keys.npy"
KEY_BYTES = 16  # 128 bits of sha256: no collision among billions of texts


def text_keys(texts: list[str]) -> np.ndarray:
    """One row of ``KEY_BYTES`` per text: its identity in the cache."""
    keys = np.zeros((len(texts), KEY_BYTES), dtype=np.uint8)
    for i, text in enumerate(texts):
        keys[i] = np.frombuffer(hashlib.sha256(text.encode("utf-8")).digest()[:KEY_BYTES], dtype=np.uint8)
    return keys


def vector_cache(index_dir: Path, model: dict[str, Any]) -> dict[bytes, np.ndarray]:
    """The vectors of the index at ``index_dir`` by text key, or {} when it cannot be trusted
    (missing, damaged, another format or model): a cache miss is only slower, never wrong."""
    from qa.index.writer import FORMAT_VERSION

    try:
        manifest = json.loads((index_dir / "manifest.json").read_bytes())
        if manifest.get("format_version") != FORMAT_VERSION or manifest.get("model") != model:
            return {}
        blobs = verified_artifacts(index_dir, manifest)
        keys = np.load(io.BytesIO(blobs[TEXT_KEYS]), allow_pickle=False)
        sentence_vectors = np.load(io.BytesIO(blobs[SENTENCE_VECTORS]), allow_pickle=False)
        passage_vectors = _dense_vectors(blobs[DENSE])
    except Exception:  # noqa: BLE001 — anything unreadable: embed afresh
        return {}
    vectors = np.concatenate([passage_vectors, sentence_vectors])
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
