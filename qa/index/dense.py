"""The dense half of the index: which FAISS index to build for a collection, and building it."""

from __future__ import annotations

import errno
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

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
    set_params(index, spec.build_params)
    if not index.is_trained:  # IVF-style specs learn their coarse quantiser first
        index.train(vectors)
    index.add(vectors)
    set_params(index, spec.search_params)
    return index, spec


def set_params(index: Any, params: dict[str, int]) -> None:
    import faiss

    space = faiss.ParameterSpace()
    for name, value in params.items():
        if name == "efConstruction":  # not a ParameterSpace knob: set on the graph directly
            faiss.downcast_index(index).hnsw.efConstruction = int(value)
        else:
            space.set_index_parameter(index, name, value)


def write(index: Any, path: Path) -> None:
    """Write the FAISS file (streamed, as FAISS does). A failed write is an OSError in the user's
    words ("No space left on device"), not FAISS's C++ assertion text."""
    import faiss

    try:
        faiss.write_index(index, str(path))
    except RuntimeError as exc:
        # FAISS's message ends with the C library's reason: "... write error in F: 8147 != 153600
        # (No space left on device)", "could not open F for writing: Permission denied".
        code = next((n for n in _WRITE_ERRORS if os.strerror(n) in str(exc)), errno.EIO)
        raise OSError(code, os.strerror(code), str(path)) from None


_WRITE_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EACCES, errno.EROFS, errno.ENOENT, errno.ENOTDIR)
